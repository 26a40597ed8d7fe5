import { ConfigError } from './errors.ts';

/**
 * Configuration from environment variables, for the container image and CI service containers,
 * where mounting a sim-config.yaml is a chore (as LocalStack's and Azurite's images are set up).
 * Each variable sets one key of sim-config.yaml; the file's value is replaced, and command-line
 * flags still win over both. The README's "Configuration" section lists them.
 */
export interface EnvKey {
  /** The variable, e.g. EM_SIM_PORT. */
  name: string;
  /** The key of sim-config.yaml it sets, as a path. */
  path: string[];
  /** What it holds, for the README and errors. */
  form: 'string' | 'integer' | 'number' | 'boolean' | 'users' | 'list';
}

/** Every variable em-sim reads, in the README's order. */
export const ENV_KEYS: readonly EnvKey[] = [
  { name: 'EM_SIM_HOST', path: ['server', 'host'], form: 'string' },
  { name: 'EM_SIM_PORT', path: ['server', 'port'], form: 'integer' },
  { name: 'EM_SIM_DATA_DIR', path: ['data_dir'], form: 'string' },
  { name: 'EM_SIM_EPHEMERAL', path: ['ephemeral'], form: 'boolean' },
  { name: 'EM_SIM_USERS', path: ['users'], form: 'users' },
  { name: 'EM_SIM_SIGNING_SECRET', path: ['auth', 'signing_secret'], form: 'string' },
  { name: 'EM_SIM_ACCESS_TOKEN_LIFETIME', path: ['auth', 'access_token_lifetime'], form: 'integer' },
  { name: 'EM_SIM_STRICT', path: ['compat', 'strict'], form: 'boolean' },
  { name: 'EM_SIM_LOG_LEVEL', path: ['log', 'level'], form: 'string' },
  { name: 'EM_SIM_IMAGES_PREPARE', path: ['images', 'prepare'], form: 'list' },
  { name: 'EM_SIM_PLATFORM_ARCHITECTURE', path: ['platform', 'architecture'], form: 'string' },
  { name: 'EM_SIM_CLOCK_SPEED', path: ['clock', 'speed'], form: 'number' },
  { name: 'EM_SIM_CLOCK_CONTROL', path: ['clock', 'control'], form: 'boolean' },
];

/**
 * Lays the EM_SIM_* variables that are set (and not empty, except EM_SIM_IMAGES_PREPARE, where
 * empty means none) over a parsed configuration file's object. Returns the names applied.
 * ConfigError, naming the variable, when a value has the wrong form; range and shape checks are
 * the schema's, whose message names the key (and the caller says which variables were applied).
 */
export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const applied: string[] = [];
  for (const key of ENV_KEYS) {
    const value = env[key.name];
    // Surrounding blanks are never meant (a quoted `-e "EM_SIM_PORT= 8000"`); a password keeps its own.
    const text = key.form === 'users' ? value : value?.trim();
    if (text === undefined || (text === '' && key.form !== 'list')) continue;
    let target = raw;
    for (const part of key.path.slice(0, -1)) {
      const next = target[part];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[key.path[key.path.length - 1]!] = parseValue(key, text);
    applied.push(key.name);
  }
  return applied;
}

function parseValue(key: EnvKey, text: string): unknown {
  const bad = (expected: string) => new ConfigError(`${key.name}=${JSON.stringify(text)}: expected ${expected} (it sets ${key.path.join('.')})`);
  switch (key.form) {
    case 'string':
      return text;
    case 'integer':
      if (!/^-?\d{1,15}$/.test(text)) throw bad('a whole number');
      return Number(text);
    case 'number':
      // Decimal only: Number() would also read "0x10" and "1e3".
      if (!/^-?\d{1,15}(\.\d{1,15})?$/.test(text)) throw bad('a number');
      return Number(text);
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      throw bad('true or false');
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'users':
      // A password may hold ":" (only the first one separates), not ",": use a file for those.
      return text.split(',').map((pair) => {
        const at = pair.indexOf(':');
        if (at <= 0 || at === pair.length - 1 || !pair.slice(0, at).trim()) {
          throw bad('USER:PASSWORD pairs separated by commas, e.g. client1:secret,client2:other (a password with a comma needs sim-config.yaml)');
        }
        return { username: pair.slice(0, at).trim(), password: pair.slice(at + 1) };
      });
  }
}
