import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node } from 'yaml';
import type { OperationParser, ParsedSource, SourceNode, SourcePosition, SourceProblem } from '../../domain/ports/operation-parser.ts';

/**
 * Operation files read with the `yaml` package (YAML 1.2 core schema, https://eemeli.org/yaml/):
 * every syntax error and duplicate key reported with its line and column, and each scalar kept as
 * the text the user wrote (Scalar.source), so `tag: 3.10` stays "3.10" (operations-decisions.md).
 */
export const yamlOperationParser: OperationParser = {
  parse(text: string): ParsedSource {
    const lines = new LineCounter();
    // The yaml package's time grows faster than the size on deeply nested input (1 MB of "[" takes
    // seconds), so nesting that would be refused below is refused before parsing.
    const deep = nestingBeyond(text, MAX_DEPTH);
    if (deep !== null) {
      let line = 1;
      let lineStart = 0;
      for (let i = text.indexOf('\n'); i !== -1 && i < deep; i = text.indexOf('\n', i + 1)) {
        line++;
        lineStart = i + 1;
      }
      return { root: null, problems: [{ pos: { line, column: deep - lineStart + 1 }, message: `the file is nested deeper than ${MAX_DEPTH} levels` }] };
    }
    let doc: ReturnType<typeof parseDocument>;
    try {
      // Duplicate keys are found below, with a Set: the package's own check compares every pair.
      doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, strict: true });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return { root: null, problems: [{ pos: { line: 1, column: 1 }, message: `the file is nested too deeply to read (at most ${MAX_DEPTH} levels)` }] };
    }
    const at = (offset: number | undefined): SourcePosition => {
      const p = lines.linePos(offset ?? 0);
      return { line: p.line, column: p.col };
    };
    const problems: SourceProblem[] = [...doc.errors, ...doc.warnings].map((e) => ({
      pos: at(e.pos[0]),
      message: /call stack/i.test(e.message)
        ? `the file is nested too deeply to read (at most ${MAX_DEPTH} levels)`
        : e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
    }));
    if (doc.errors.length) return { root: null, problems };
    // Each alias is expanded where it is used: bound the expansions, as the yaml package's own
    // toJS does (maxAliasCount), so that a "billion laughs" file cannot exhaust memory.
    let aliases = 0;
    let nodes = 0;
    const convert = (node: unknown, where: number | undefined, depth: number): SourceNode => {
      if (++nodes > MAX_NODES) throw new TooLarge(`the file expands to more than ${MAX_NODES} YAML nodes`);
      if (depth > MAX_DEPTH) throw new TooLarge(`the file is nested deeper than ${MAX_DEPTH} levels`);
      if (isAlias(node)) {
        if (++aliases > MAX_ALIASES) throw new TooLarge(`the file uses more than ${MAX_ALIASES} aliases (*name)`);
        return convert(node.resolve(doc), node.range?.[0], depth);
      }
      if (isMap(node)) {
        const entries = [];
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isPair(pair)) continue;
          const key = pair.key as Node | null;
          const keyText = isScalar(key) ? scalarText(key) : null;
          const keyPos = at(key?.range?.[0] ?? node.range?.[0]);
          if (keyText === null) {
            problems.push({ pos: keyPos, message: 'a key must be a plain name' });
            continue;
          }
          if (seen.has(keyText)) {
            problems.push({ pos: keyPos, message: 'Map keys must be unique' });
            continue;
          }
          seen.add(keyText);
          entries.push({ key: keyText, keyPos, value: convert(pair.value, key?.range?.[1], depth + 1) });
        }
        return { kind: 'map', pos: at(node.range?.[0]), entries };
      }
      if (isSeq(node)) return { kind: 'seq', pos: at(node.range?.[0]), items: node.items.map((item) => convert(item, node.range?.[0], depth + 1)) };
      if (isScalar(node)) {
        const textOf = scalarText(node);
        return { kind: 'scalar', pos: at(node.range?.[0]), text: textOf ?? '', value: textOf };
      }
      // A key with nothing after it (`volume:`) is YAML's null.
      return { kind: 'scalar', pos: at(where), text: '', value: null };
    };
    try {
      const warned = problems.length;
      const root = doc.contents === null ? null : convert(doc.contents, 0, 0);
      // A duplicate or unusable key is an error: no tree then, as for the parser's own errors.
      return { root: problems.length > warned ? null : root, problems };
    } catch (err) {
      if (!(err instanceof TooLarge)) throw err;
      return { root: null, problems: [...problems, { pos: { line: 1, column: 1 }, message: err.message }] };
    }
  },
};

const MAX_ALIASES = 100;
const MAX_DEPTH = 64;
const MAX_NODES = 100_000;

class TooLarge extends Error {}

/** The scalar as written: plain scalars by their source text, quoted ones by their value; null for YAML's null. */
function scalarText(node: Scalar): string | null {
  if (node.value === null && (node.type === Scalar.PLAIN || node.type === undefined)) return null;
  if (node.type === Scalar.PLAIN && typeof node.source === 'string') return node.source;
  return String(node.value);
}

/**
 * Where the text nests deeper than `max`, found without parsing: flow collections ([ and { outside
 * quoted scalars and comments) and compact block sequences ("- - - x" on one line). Null when it
 * does not. A bracket inside a plain scalar counts too, so a file is refused early only with more
 * than `max` of them unclosed; a quote starts a quoted scalar only where a scalar can start.
 */
export function nestingBeyond(text: string, max: number): number | null {
  let flow = 0;
  let quote: string | null = null;
  let lineStart = true;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '\n') {
      lineStart = true;
      dashes = 0;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end === -1) break;
      i = end - 1;
      continue;
    }
    if (lineStart) {
      if (c === ' ') continue;
      if (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        if (++dashes > max) return i;
        i++;
        continue;
      }
      lineStart = false;
    }
    if ((c === '"' || c === "'") && /[\s[{,:]/.test(text[i - 1] ?? ' ')) quote = c;
    else if (c === '[' || c === '{') {
      if (++flow > max) return i;
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
  }
  return null;
}
