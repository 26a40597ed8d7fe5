/*
 * Reading an operation's text into a tree the domain can check (operations-decisions.md, "The
 * file"). The domain does no YAML itself: src/adapters/yaml/operation-parser.ts implements this
 * with the `yaml` package, keeping each scalar's text as written and where every node starts.
 */

/** Where a node starts in the file: 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * A scalar keeps the text the user wrote (`tag: 3.10` is "3.10", never 3.1); `value` is null only
 * for YAML's null (`~`, `null`, or nothing), never for a quoted "null".
 */
export interface SourceScalar {
  kind: 'scalar';
  pos: SourcePosition;
  text: string;
  value: string | null;
}

export interface SourceMap {
  kind: 'map';
  pos: SourcePosition;
  entries: { key: string; keyPos: SourcePosition; value: SourceNode }[];
}

export interface SourceSeq {
  kind: 'seq';
  pos: SourcePosition;
  items: SourceNode[];
}

/** A YAML node as the domain sees it. Aliases are resolved; tags other than the core ones are refused by the parser. */
export type SourceNode = SourceScalar | SourceMap | SourceSeq;

/** A problem with the text itself (not YAML, a duplicate key, a tab), with where it is. */
export interface SourceProblem {
  pos: SourcePosition;
  message: string;
}

/** The parse of one file: the tree (null when the text is no usable YAML) and every syntax problem. */
export interface ParsedSource {
  root: SourceNode | null;
  problems: SourceProblem[];
}

/** The port itself. */
export interface OperationParser {
  parse(text: string): ParsedSource;
}
