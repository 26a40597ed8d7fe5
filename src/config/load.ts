import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ZodArray, ZodDefault, ZodObject, ZodOptional, ZodPrefault, type z } from 'zod';
import { applyEnv } from './env.ts';
import { ConfigError } from './errors.ts';
import { configSchema, type SimConfig, type SimConfigInput } from './schema.ts';

export { ConfigError };

/** Command-line flags that win over the file: --host, --port, --data-dir. */
export interface ConfigOverrides {
  host?: string;
  port?: number;
  dataDir?: string;
}

/** A parsed configuration and where it came from. */
export interface LoadedConfig {
  config: SimConfig;
  /** The file the configuration came from, or null when only defaults were used. */
  source: string | null;
  /** The EM_SIM_* variables that were applied over it (env.ts). */
  fromEnv: string[];
}

/**
 * Finds the configuration file: the --config flag, then EM_SIM_CONFIG, then ./sim-config.yaml
 * when it exists. Naming a file that does not exist is an error; finding none is not.
 */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const named = flag ?? env.EM_SIM_CONFIG;
  if (named) {
    const full = path.resolve(named);
    if (!existsSync(full)) throw new ConfigError(`configuration file not found: ${full}`);
    return full;
  }
  const local = path.resolve('sim-config.yaml');
  return existsSync(local) ? local : null;
}

/**
 * Reads the configuration (resolveConfigPath), lays the EM_SIM_* variables over it (env.ts),
 * validates it strictly, applies the flags and makes
 * data_dir absolute (relative to the file that names it). ConfigError when it cannot be used.
 */
export function loadConfig(options: { configPath?: string; overrides?: ConfigOverrides; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const source = resolveConfigPath(options.configPath, options.env);
  let raw: unknown = {};
  if (source) {
    try {
      raw = parseYaml(readFileSync(source, 'utf8')) ?? {};
    } catch (err) {
      // The first line has the reason, line and column; the rest is a drawing of the spot.
      if (err instanceof YAMLParseError) throw new ConfigError(`${source}: not valid YAML: ${err.message.split('\n')[0]}`);
      throw err;
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`invalid ${source}: expected a map of keys at the top level`);
  const fromEnv = applyEnv(raw as Record<string, unknown>, options.env ?? process.env);
  const where = [source ?? 'configuration', ...(fromEnv.length ? [`with ${fromEnv.join(', ')} from the environment`] : [])].join(' ');
  const config = parseConfig(raw, where);
  applyOverrides(config, options.overrides ?? {});
  // A relative data_dir in a file means "next to that file", so the file works from any cwd.
  const base = source && !options.overrides?.dataDir ? path.dirname(source) : process.cwd();
  // EM_SIM_DATA_DIR, like --data-dir, is relative to where em-sim runs, not to the file.
  const dataBase = fromEnv.includes('EM_SIM_DATA_DIR') && !options.overrides?.dataDir ? process.cwd() : base;
  config.data_dir = path.resolve(dataBase, config.data_dir);
  const images = config.services.telemetry.images_dir;
  if (images !== undefined) config.services.telemetry.images_dir = path.resolve(base, images);
  return { config, source, fromEnv };
}

/** Validates a configuration object; errors name each offending key and what was expected. */
export function parseConfig(raw: unknown, where = 'configuration'): SimConfig {
  // jitless: zod compiles a fast parser (new Function) for each object schema on its first parse,
  // which a one-time parse never repays (about 10 ms of every start).
  const result = configSchema.safeParse(raw, { jitless: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, where));
  return result.data;
}

/** A configuration from an object, defaults filled in (tests, benchmarks). ConfigError when invalid. */
export function buildConfig(input: SimConfigInput = {}): SimConfig {
  return parseConfig(input);
}

function applyOverrides(config: SimConfig, overrides: ConfigOverrides): void {
  if (overrides.host !== undefined) config.server.host = overrides.host;
  if (overrides.port !== undefined) {
    if (!Number.isInteger(overrides.port) || overrides.port < 0 || overrides.port > 65535) {
      throw new ConfigError(`--port: expected a whole number from 0 to 65535, got ${overrides.port}`);
    }
    config.server.port = overrides.port;
  }
  if (overrides.dataDir !== undefined) config.data_dir = overrides.dataDir;
}

/** One line, so that a start-up failure reads as one message: each issue names its key and what was expected. */
function formatIssues(issues: z.core.$ZodIssue[], where: string): string {
  const parts = issues.map((issue) => {
    const key = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
      const known = knownKeys(issue.path);
      const expected = known.length ? `; expected one of: ${known.join(', ')}` : '';
      return `${issue.keys.map((k) => prefix + k).join(', ')}: unknown key (check the spelling${expected})`;
    }
    return `${key}: ${issue.message}`;
  });
  return `invalid ${where}: ${parts.join('; ')}`;
}

/** The keys the schema allows at a path, for telling a user what a misspelt key should be. */
function knownKeys(at: PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = configSchema;
  for (const key of at) {
    const inner = unwrap(schema);
    if (inner instanceof ZodObject) schema = inner.shape[String(key)];
    else if (inner instanceof ZodArray) schema = inner.element as z.ZodType;
    else return [];
  }
  const inner = unwrap(schema);
  return inner instanceof ZodObject ? Object.keys(inner.shape) : [];
}

/** Looks through defaults and optionals to the schema that holds the keys. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof ZodDefault || current instanceof ZodPrefault || current instanceof ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}
