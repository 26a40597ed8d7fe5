/*
 * What the air-gapped builder needs to know of a Dockerfile: the base image of every stage, as
 * Docker will read it (api-decisions.md: builds are air-gapped; FROM may name only the onboard
 * catalog, an earlier stage or the user's own images). Read the way Docker's parser reads it
 * (https://docs.docker.com/reference/dockerfile/): parser directives (`# escape=`), line
 * continuations joined with nothing between them, comment lines inside a continuation dropped,
 * instructions in any case, and `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` in FROM
 * substituted from the ARGs declared before the first FROM (their defaults, overridden by the
 * build's arguments). Because the builder on the host may not substitute exactly as the EM's
 * does, the Dockerfile handed to the engine has each FROM rewritten to what was checked
 * (`rewritten`): nothing else about the build changes.
 */

/** One FROM instruction. */
export interface FromLine {
  /** The base image as written. */
  written: string;
  /** The base image with variables substituted: what is checked and built; null when it cannot be resolved. */
  base: string | null;
  /** `--platform=` after substitution, when given. */
  platform?: string;
  /** Whether it names an earlier stage (case-insensitive). */
  earlierStage: boolean;
}

/** A Dockerfile taken apart. */
export interface ParsedDockerfile {
  froms: FromLine[];
  /** The Dockerfile with every resolvable FROM written out literally, same number of lines. */
  rewritten: string;
}

/** Parses a Dockerfile; `buildArgs` are the build's arguments (they override global ARG defaults). */
export function parseDockerfile(
  text: string,
  buildArgs: Record<string, string> = {},
  /** The name each FROM's base (not an earlier stage) is written with in `rewritten`. */
  engineBase: (base: string) => string = (base) => base,
): ParsedDockerfile {
  const physical = text.split(/\r?\n/);
  const escape = escapeDirective(physical);
  const continuation = new RegExp(`${escapeRegExp(escape)}[ \\t]*$`);
  const globals = new Map<string, string | undefined>();
  const stages = new Set<string>();
  const froms: FromLine[] = [];
  const out = [...physical];
  let seenFrom = false;

  for (let i = 0; i < physical.length; i++) {
    const first = i;
    let line = physical[i]!;
    if (/^\s*#/.test(line) || !line.trim()) continue;
    // Join continuations: the escape character and the newline go, nothing is put between.
    while (continuation.test(line) && i + 1 < physical.length) {
      line = line.replace(continuation, '');
      i++;
      while (i < physical.length && (/^\s*#/.test(physical[i]!) || !physical[i]!.trim()) && i + 1 < physical.length) i++;
      line += physical[i]!;
    }
    const match = /^\s*(\S+)\s*(.*)$/s.exec(line);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!;
    if (instruction === 'ARG' && !seenFrom) {
      for (const [name, value] of argDeclarations(rest)) globals.set(name, name in buildArgs ? buildArgs[name] : value);
    } else if (instruction === 'FROM') {
      seenFrom = true;
      const from = parseFrom(rest, (word) => substitute(word, globals));
      from.earlierStage = from.base !== null && stages.has(from.base.toLowerCase());
      froms.push(from);
      if (from.stage) stages.add(from.stage.toLowerCase());
      if (from.base !== null) {
        const base = from.earlierStage ? from.base : engineBase(from.base);
        const literal = `FROM ${from.platform !== undefined ? `--platform=${from.platform} ` : ''}${base}${from.stage ? ` AS ${from.stage}` : ''}`;
        out[first] = literal;
        for (let k = first + 1; k <= i; k++) out[k] = '';
      }
      delete from.stage;
    }
  }
  return { froms, rewritten: out.join('\n') };
}

/** Every FROM of a Dockerfile (see parseDockerfile). */
export function fromLines(text: string, buildArgs: Record<string, string> = {}): FromLine[] {
  return parseDockerfile(text, buildArgs).froms;
}

function parseFrom(rest: string, resolve: (word: string) => string | null): FromLine & { stage?: string } {
  const words = rest.trim().split(/\s+/);
  let platform: string | null | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const eq = /^--platform=(.*)$/i.exec(flag);
    if (eq) platform = resolve(eq[1]!);
  }
  const written = words.shift() ?? '';
  const stage = words.length >= 2 && words[0]!.toUpperCase() === 'AS' ? words[1] : undefined;
  const base = written ? resolve(written) : null;
  const unresolved = platform === null;
  return {
    written,
    base: base && !unresolved ? base : null,
    ...(typeof platform === 'string' ? { platform } : {}),
    earlierStage: false,
    ...(stage ? { stage } : {}),
  };
}

/** `ARG a=1 b="two" c` → [a, 1], [b, two], [c, undefined]. */
function argDeclarations(rest: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)(?:=("([^"]*)"|'([^']*)'|(\S*)))?/g;
  for (const m of rest.matchAll(pattern)) out.push([m[1]!, m[2] === undefined ? undefined : (m[3] ?? m[4] ?? m[5] ?? '')]);
  return out;
}

/** Docker's substitution in FROM; null when the text uses a form it does not know (or `\$`). */
function substitute(word: string, vars: Map<string, string | undefined>): string | null {
  if (word.includes('\\')) return null;
  let failed = false;
  const value = (name: string) => vars.get(name) ?? '';
  const result = word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}?/g, (all, braced, op, arg, bare) => {
    if (bare) return value(bare);
    if (!braced) {
      failed = true;
      return all;
    }
    const v = value(braced);
    if (op === ':-') return v || arg;
    if (op === ':+') return v ? arg : '';
    return v;
  });
  return failed || result.includes('$') || !result ? null : result;
}

function escapeDirective(lines: string[]): string {
  for (const line of lines) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) return m[2];
  }
  return '\\';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
