import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { SimError } from '../errors.ts';
import { NODE_NAMES, type NodeName } from '../nodes/node-schedule.ts';
import { checkPodName } from '../pods/pod-names.ts';
import type { ParsedSource, SourceNode, SourcePosition } from '../ports/operation-parser.ts';
import { parseZonedIso } from '../time/iso-time.ts';
import { parseVolumePath } from '../volumes/volume-path.ts';
import { TASK_TYPES, type OperationCheck, type OperationProblem, type PodPort, type Task, type TaskType } from './operation.ts';

/*
 * Checks an operation file as operations-decisions.md says: the shapes with zod (on the parsed
 * tree, every scalar as the text the user wrote), then the rules no schema says (unique ids, one
 * timeout key, paths, names, times). Every error is reported with its line, column and key.
 */

const OPERATION_ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;
const NAMESPACE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,149}$/;
const TASK_ID = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/;
const DEFAULT_MAX_DURATION_S = 60 * 60;
/** Far more than any operation of the provider's (at most six tasks); bounds the work one file can ask for. */
const MAX_TASKS = 1000;
/** A year: a longer max_duration is a typo. */
const MAX_DURATION_S = 365 * 24 * 3600;
/** More errors than this are summed up in one line. */
const MAX_ERRORS = 100;
/** Unknown keys of one map named one by one; more are counted. */
const MAX_KEYS_LISTED = 20;

// ---- the shapes (every scalar arrives as its text; null is YAML's null) ----

const text = z.string();
const whole = text.regex(/^[0-9]+$/, 'expected a positive whole number, e.g. 5').transform(Number);
const textList = z.array(text);
const volume = text.optional();

const base = {
  id: text,
  type: text,
  description: text.optional(),
  on_failure: z.enum(['stop', 'continue'], { error: 'expected "stop" or "continue"' }).optional(),
};

const imageObject = z.strictObject({ name: text, tag: text });
const image = z.union([text, imageObject], { error: 'expected an image: {name, tag} or "name:tag"' });
const envList = z.array(z.strictObject({ name: text, value: text.nullable() }));
const envMap = z.record(text, text.nullable());
const port = z.union(
  [whole, z.strictObject({ container: whole, host: whole.optional(), protocol: text.optional() })],
  { error: 'expected a port: a number, or {container, host, protocol}' },
);

const TASK_SHAPES: Record<TaskType, z.ZodObject> = {
  'dphi.space.cg2.uplink': z.strictObject({ ...base, source: textList, destination: text.optional(), volume }),
  'dphi.space.cg2.downlink': z.strictObject({ ...base, source: textList, destination: text.optional(), volume }),
  'dphi.space.cg2.files.list': z.strictObject({ ...base, folder: text.optional(), depth: whole.optional(), volume }),
  'dphi.space.cg2.pod.run': z.strictObject({
    ...base,
    pod_name: text.optional(),
    image,
    command: z.union([textList, text], { error: 'expected a list of words, e.g. ["/bin/sh"], or one command line' }).optional(),
    args: textList.optional(),
    env: z.union([envList, envMap], { error: 'expected a list of {name, value}, or a map of names to values' }).optional(),
    ports: z.array(port).optional(),
    node: text.optional(),
    volume,
    max_duration: whole.optional(),
    max_duration_seconds: whole.optional(),
    scheduled_time: text.nullable().optional(),
  }),
  'dphi.space.cg2.docker.build': z.strictObject({ ...base, dockerfile: text, context: text, image: imageObject, volume }),
  'dphi.space.cg2.docker.image.list': z.strictObject({ ...base }),
};

const labelList = z.array(z.strictObject({ key: text, value: text }));
const FILE_SHAPE = z.strictObject({
  id: text.optional(),
  namespace: text.optional(),
  description: text.optional(),
  labels: z.union([z.record(text, text), labelList], { error: 'expected a map of names to values, or a list of {key, value}' }).optional(),
  tasks: z.array(z.unknown()).min(1, 'an operation needs at least one task').max(MAX_TASKS, `an operation has at most ${MAX_TASKS} tasks; split it into several`),
});

/** Where the file came from: its name gives the operation id when the file has none. */
export interface CheckContext {
  /** The file name (no folders), e.g. "ollama.yaml"; undefined when the text came without one. */
  fileName?: string;
  /**
   * Whether an image reference is in the onboard catalog: a pod.run image that is not, and that
   * no earlier docker.build of the file makes, gets a warning (it fails ImagePullBackOff unless
   * it is one of the user's own images).
   */
  isOnboard?: (image: string) => boolean;
}

/**
 * Checks a parsed operation file. Never throws: every problem is in `errors` (with line, column
 * and key) and the operation is returned only when there are none. Warnings (a `/data/...` uplink
 * destination, a `ports[].host`) do not stop a run; they also go to the task's log.
 */
export function checkOperation(parsed: ParsedSource, context: CheckContext = {}): OperationCheck {
  const errors: OperationProblem[] = parsed.problems.map((p) => ({ line: p.pos.line, column: p.pos.column, key: '', message: p.message }));
  const warnings: OperationProblem[] = [];
  if (!parsed.root) {
    if (!errors.length) errors.push({ line: 1, column: 1, key: '', message: 'the file is empty; an operation needs "tasks"' });
    return { operation: null, errors, warnings };
  }
  const root = parsed.root;
  const report = new Reporter(root, errors, warnings);
  const top = report.shape(FILE_SHAPE, root, []);
  if (!top) return { operation: null, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column), warnings };

  const id = top.id ?? (context.fileName ? context.fileName.replace(/\.[^.]*$/, '') : undefined);
  if (id === undefined) report.error(['id'], 'the operation has no "id" and came without a file name; add "id: my-operation"');
  else if (!OPERATION_ID.test(id)) {
    report.error(top.id === undefined ? [] : ['id'], `${top.id === undefined ? `the file name gives the id "${id}", which` : `"${id}"`} is not an operation id: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 100 characters`);
  }
  const namespace = top.namespace ?? 'default';
  if (!NAMESPACE.test(namespace)) report.error(['namespace'], `"${namespace}" is not a namespace: letters, digits, ".", "_" and "-", starting with a letter or digit`);
  const labelMap = new Map<string, string>(Array.isArray(top.labels) ? [] : Object.entries(top.labels ?? {}));
  if (Array.isArray(top.labels)) {
    top.labels.forEach((l, i) => {
      if (labelMap.has(l.key)) report.error(['labels', i, 'key'], `label "${l.key}" is given twice`);
      labelMap.set(l.key, l.value);
    });
  }
  const labels = Object.fromEntries(labelMap);

  const tasks: Task[] = [];
  const seen = new Map<string, number>();
  (top.tasks ?? []).forEach((_, i) => {
    const idNode = report.node(['tasks', i, 'id']);
    const taskId = idNode?.kind === 'scalar' ? idNode.value : null;
    if (taskId !== null) {
      const first = seen.get(taskId);
      if (first !== undefined) {
        const line = report.node(['tasks', first, 'id'])?.pos.line;
        report.error(['tasks', i, 'id'], `task id "${taskId}" is already used by tasks[${first}]${line ? ` (line ${line})` : ''}; task ids must be unique in the operation`);
      }
      else seen.set(taskId, i);
    }
    const task = checkTask(report, i);
    if (task) tasks.push(task);
  });
  if (context.isOnboard) {
    const built = new Set<string>();
    tasks.forEach((task, i) => {
      if (task.type === 'dphi.space.cg2.docker.build') built.add(task.image);
      if (task.type !== 'dphi.space.cg2.pod.run' || !task.image || built.has(task.image) || context.isOnboard!(task.image)) return;
      const message = `"${task.image}" is not an onboard image: unless it is one of your own (built or loaded earlier), the pod will fail with ImagePullBackOff`;
      task.warnings.push(message);
      report.warning(['tasks', i, 'image'], message);
    });
  }
  // In file order, as a compiler lists them; past MAX_ERRORS, one line says how many more.
  const byPlace = (a: OperationProblem, b: OperationProblem) => a.line - b.line || a.column - b.column;
  errors.sort(byPlace);
  warnings.sort(byPlace);
  if (errors.length > MAX_ERRORS) {
    const more = errors.length - MAX_ERRORS;
    errors.splice(MAX_ERRORS, more, { ...errors[MAX_ERRORS]!, key: '', message: `and ${more} more errors; fix these first` });
  }
  if (errors.length) return { operation: null, errors, warnings };
  return {
    operation: { id: id!, namespace, ...(top.description !== undefined ? { description: top.description } : {}), labels, tasks },
    errors,
    warnings,
  };
}

function checkTask(report: Reporter, i: number): Task | null {
  const at = ['tasks', i];
  const node = report.node(at);
  if (node?.kind !== 'map') {
    report.error(at, 'expected a task: a map with "id" and "type"');
    return null;
  }
  const idNode = node.entries.find((e) => e.key === 'id')?.value;
  if (idNode?.kind === 'scalar' && idNode.value !== null && !TASK_ID.test(idNode.value)) {
    report.error([...at, 'id'], `"${idNode.value}" is not a task id: letters, digits, "_" and "-", starting with a letter or digit`);
  }
  const typeNode = node.entries.find((e) => e.key === 'type')?.value;
  const type = typeNode?.kind === 'scalar' ? typeNode.value : null;
  if (type === null || !(TASK_TYPES as readonly string[]).includes(type)) {
    const hint = type ? suggestion(type, TASK_TYPES) : '';
    report.error(typeNode ? [...at, 'type'] : at, `${type ? `unknown task type "${type}"` : 'the task has no "type"'}: one of ${TASK_TYPES.join(', ')}${hint}`);
    return null;
  }
  const raw = report.shape(TASK_SHAPES[type as TaskType], node, at) as Record<string, unknown> | null;
  if (!raw) return null;
  const id = (raw.id as string | undefined) ?? '';
  const common = {
    id,
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    onFailure: (raw.on_failure as 'stop' | 'continue' | undefined) ?? 'stop',
    pos: node.pos,
    warnings: [] as string[],
  };
  const warn = (key: (string | number)[], message: string) => {
    common.warnings.push(message);
    report.warning([...at, ...key], message);
  };
  const vol = volumeName(report, at, raw.volume as string | undefined);
  const volumePath = (key: string, value: string | undefined) => {
    if (value === undefined) return;
    try {
      parseVolumePath(value, key);
    } catch (err) {
      report.error([...at, key], (err as Error).message);
    }
  };
  switch (type as TaskType) {
    case 'dphi.space.cg2.uplink': {
      const source = namespacePaths(report, [...at, 'source'], raw.source as string[] | undefined);
      const destination = (raw.destination as string | undefined) ?? '/';
      volumePath('destination', destination);
      if (/^\/?data(\/|$)/.test(destination)) {
        warn(['destination'], `destination "${destination}" is a folder "data" inside the volume: the volume itself is mounted at /data, so pods will see it as /data/${destination.replace(/^\//, '')}`);
      }
      sameNames(report, [...at, 'source'], source);
      return { ...common, type: 'dphi.space.cg2.uplink', source, destination, volume: vol };
    }
    case 'dphi.space.cg2.downlink': {
      const source = (raw.source as string[] | undefined) ?? [];
      if (raw.source !== undefined && !source.length) report.error([...at, 'source'], 'expected at least one file of the volume to downlink');
      source.forEach((s, j) => {
        try {
          if (!parseVolumePath(s, 'source').length) report.error([...at, 'source', j], `"${s}" is the volume root; name a file`);
        } catch (err) {
          report.error([...at, 'source', j], (err as Error).message);
        }
      });
      sameNames(report, [...at, 'source'], source);
      const destination = namespaceFolder(report, [...at, 'destination'], (raw.destination as string | undefined) ?? '/');
      return { ...common, type: 'dphi.space.cg2.downlink', source, destination, volume: vol };
    }
    case 'dphi.space.cg2.files.list': {
      const folder = (raw.folder as string | undefined) ?? '/';
      volumePath('folder', folder);
      const depth = (raw.depth as number | undefined) ?? 2;
      if (depth < 1) report.error([...at, 'depth'], 'expected a depth of at least 1 (1 = the folder\'s own entries)');
      return { ...common, type: 'dphi.space.cg2.files.list', folder, depth, volume: vol };
    }
    case 'dphi.space.cg2.pod.run':
      return podRun(report, at, raw, common, vol, warn);
    case 'dphi.space.cg2.docker.build': {
      volumePath('dockerfile', raw.dockerfile as string | undefined);
      volumePath('context', raw.context as string | undefined);
      return { ...common, type: 'dphi.space.cg2.docker.build', dockerfile: raw.dockerfile as string, context: raw.context as string, image: imageRef(report, [...at, 'image'], raw.image), volume: vol };
    }
    case 'dphi.space.cg2.docker.image.list':
      return { ...common, type: 'dphi.space.cg2.docker.image.list' };
  }
}

function podRun(
  report: Reporter,
  at: (string | number)[],
  raw: Record<string, unknown>,
  common: Omit<Task, 'type'>,
  vol: string | undefined,
  warn: (key: (string | number)[], message: string) => void,
): Task {
  let podName = raw.pod_name as string | undefined;
  if (podName !== undefined) {
    try {
      podName = checkPodName(podName);
    } catch (err) {
      report.error([...at, 'pod_name'], (err as Error).message);
    }
  }
  const nodeText = raw.node as string | undefined;
  let node: NodeName = 'FPGA';
  if (nodeText !== undefined && nodeText.toLowerCase() !== 'default') {
    const upper = nodeText.toUpperCase();
    if ((NODE_NAMES as readonly string[]).includes(upper)) node = upper as NodeName;
    else report.error([...at, 'node'], `unknown node "${nodeText}": one of Fpga, Gpu, Mpu (any case), or default (FPGA)`);
  }
  let maxDurationSeconds = DEFAULT_MAX_DURATION_S;
  const minutes = raw.max_duration as number | undefined;
  const seconds = raw.max_duration_seconds as number | undefined;
  if (minutes !== undefined && seconds !== undefined) {
    report.error([...at, 'max_duration_seconds'], 'give max_duration (minutes) or max_duration_seconds, not both');
  } else if (minutes !== undefined) {
    if (minutes < 1 || minutes * 60 > MAX_DURATION_S) report.error([...at, 'max_duration'], `expected 1 to ${MAX_DURATION_S / 60} minutes`);
    maxDurationSeconds = minutes * 60;
  } else if (seconds !== undefined) {
    if (seconds < 1 || seconds > MAX_DURATION_S) report.error([...at, 'max_duration_seconds'], `expected 1 to ${MAX_DURATION_S} seconds`);
    maxDurationSeconds = seconds;
  }
  const scheduled = raw.scheduled_time as string | null | undefined;
  if (typeof scheduled === 'string' && parseZonedIso(scheduled) === null) {
    report.error([...at, 'scheduled_time'], `"${scheduled}" is not an ISO 8601 time with a timezone, e.g. 2025-05-22T12:10:00+02:00 (or null: now)`);
  }
  const env: Record<string, string> = {};
  const rawEnv = raw.env as { name: string; value: string | null }[] | Record<string, string | null> | undefined;
  const pairs = Array.isArray(rawEnv) ? rawEnv.map((e) => [e.name, e.value] as const) : Object.entries(rawEnv ?? {});
  pairs.forEach(([name, value], j) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      report.error([...at, 'env', ...(Array.isArray(rawEnv) ? [j, 'name'] : [name])], `"${name}" is not an environment variable name (letters, digits, "_", ".", "-", not starting with a digit)`);
    }
    env[name] = value ?? '';
  });
  const ports: PodPort[] = [];
  ((raw.ports as (number | { container: number; host?: number; protocol?: string })[] | undefined) ?? []).forEach((p, j) => {
    const port = typeof p === 'number' ? { container: p } : p;
    if (port.container < 1 || port.container > 65535) report.error([...at, 'ports', j], `port ${port.container} is not between 1 and 65535`);
    const protocol = (port.protocol ?? 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') report.error([...at, 'ports', j, 'protocol'], `unknown protocol "${port.protocol}": TCP, UDP or SCTP`);
    if (port.host !== undefined) {
      warn(['ports', j, 'host'], `ports[${j}].host (${port.host}) has no meaning onboard and is ignored: a pod's ports are reached by the user's other pods at <pod_name>:${port.container}`);
    }
    ports.push({ container: port.container, ...(port.host !== undefined ? { host: port.host } : {}), protocol: protocol as PodPort['protocol'] });
  });
  const command = raw.command;
  return {
    ...common,
    type: 'dphi.space.cg2.pod.run',
    podName,
    image: imageRef(report, [...at, 'image'], raw.image),
    ...(command !== undefined ? { command: typeof command === 'string' ? ['/bin/sh', '-c', command] : (command as string[]) } : {}),
    ...(raw.args !== undefined ? { args: raw.args as string[] } : {}),
    env,
    ports,
    node,
    volume: vol,
    maxDurationSeconds,
    ...(typeof scheduled === 'string' ? { scheduledTime: scheduled } : {}),
  };
}

function imageRef(report: Reporter, at: (string | number)[], raw: unknown): string {
  if (raw === undefined) return '';
  if (typeof raw === 'string') {
    const last = raw.split('/').pop() ?? '';
    if (!raw.trim() || !/[:@]./.test(last)) report.error(at, `Image name or tag is missing: expected "name:tag", e.g. "python:3.10" (got "${raw}")`);
    return raw;
  }
  const { name, tag } = raw as { name: string; tag: string };
  if (!name.trim()) report.error([...at, 'name'], 'Image name or tag is missing: the name is empty');
  if (!tag.trim()) report.error([...at, 'tag'], 'Image name or tag is missing: the tag is empty');
  return `${name}:${tag}`;
}

function volumeName(report: Reporter, at: (string | number)[], raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return checkPodName(raw, 'volume');
  } catch (err) {
    report.error([...at, 'volume'], (err as SimError).message.replace('A pod name must be', 'A volume name must be'));
    return raw;
  }
}

/** A namespace path as "/a/b": "./x" and "x" are "/x"; ".." and control characters are refused. */
export function normaliseNamespacePath(raw: string, what: string): string {
  if (/[\x00-\x1f\x7f\\]/.test(raw)) throw new SimError('INVALID_PATH', `${what} "${raw}" contains a control character or a backslash`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new SimError('ILLEGAL_PATH', `${what} "${raw}" contains ".."; namespace paths start at the namespace's root`);
  if (segments.some((s) => Buffer.byteLength(s) > 255)) throw new SimError('INVALID_PATH', `${what} "${raw}" has a name longer than 255 bytes`);
  if (Buffer.byteLength(raw) > 4096) throw new SimError('INVALID_PATH', `${what} is longer than 4096 bytes`);
  return `/${segments.join('/')}`;
}

function namespacePaths(report: Reporter, at: (string | number)[], raw: string[] | undefined): string[] {
  if (raw === undefined) return [];
  if (!raw.length) report.error(at, 'expected at least one namespace file to uplink');
  return raw.map((p, j) => {
    try {
      const path = normaliseNamespacePath(p, 'source');
      if (path === '/') report.error([...at, j], `"${p}" is the namespace root; name a file`);
      return path;
    } catch (err) {
      report.error([...at, j], (err as Error).message);
      return p;
    }
  });
}

function namespaceFolder(report: Reporter, at: (string | number)[], raw: string): string {
  try {
    return normaliseNamespacePath(raw, 'destination');
  } catch (err) {
    report.error(at, (err as Error).message);
    return raw;
  }
}

/** Files land under their last name: two sources with one name would overwrite each other. */
function sameNames(report: Reporter, at: (string | number)[], paths: string[]): void {
  const seen = new Map<string, number>();
  paths.forEach((p, j) => {
    const name = p.split('/').filter(Boolean).pop() ?? p;
    const first = seen.get(name);
    if (first !== undefined) report.error([...at, j], `"${p}" and "${paths[first]}" would both land as "${name}"; files keep only their last name`);
    else seen.set(name, j);
  });
}

// ---- positions ----

/** Turns zod's issues and our own findings into problems with a line, a column and a key. */
class Reporter {
  constructor(
    private readonly root: SourceNode,
    private readonly errors: OperationProblem[],
    private readonly warnings: OperationProblem[],
  ) {}

  /** The node at a path, or undefined. */
  node(path: readonly (string | number)[]): SourceNode | undefined {
    let node: SourceNode | undefined = this.root;
    for (const step of path) {
      if (node?.kind === 'map') node = node.entries.find((e) => e.key === String(step))?.value;
      else if (node?.kind === 'seq' && typeof step === 'number') node = node.items[step];
      else return undefined;
    }
    return node;
  }

  error(path: readonly (string | number)[], message: string): void {
    this.errors.push(this.problem(path, message));
  }

  warning(path: readonly (string | number)[], message: string): void {
    this.warnings.push(this.problem(path, message));
  }

  /** Checks a node against a shape; null (with every issue reported) when it does not fit. */
  shape<S extends z.ZodType>(schema: S, node: SourceNode, at: (string | number)[]): z.infer<S> | null {
    const result = schema.safeParse(plain(node));
    if (result.success) return result.data;
    this.issues(schema, result.error.issues, at);
    // The keys that are fine may still be checkable: check them too, so every error shows at once.
    // (The operation is refused anyway: the rules below see a partial value.)
    const value = plain(node);
    if (schema instanceof z.ZodObject && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const bad = new Set(result.error.issues.filter((i) => i.path.length > 0).map((i) => String(i.path[0])));
      const kept = Object.fromEntries(Object.entries(value).filter(([key]) => !bad.has(key)));
      const loose = schema.partial().strip().safeParse(kept);
      if (loose.success) return loose.data as z.infer<S>;
    }
    return null;
  }

  /** Reports zod's issues; `at` is where the schema's node is in the file, `rel` where these issues are below it. */
  private issues(schema: z.ZodType, issues: z.core.$ZodIssue[], at: (string | number)[], rel: (string | number)[] = []): void {
    for (const issue of issues) {
      const path = [...at, ...rel, ...(issue.path as (string | number)[])];
      const inSchema = [...rel, ...(issue.path as (string | number)[])];
      if (issue.code === 'invalid_union' && issue.errors.length) {
        // The branch whose shape fits the node (a map for {name, tag}) has the useful findings: the
        // one that did not refuse the node's own type (an unknown key inside the map included).
        const fitting = issue.errors.find((branch) => branch.length && !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
        if (fitting) {
          this.issues(schema, fitting, at, inSchema);
          continue;
        }
      }
      if (issue.code === 'unrecognized_keys') {
        const target = this.node(path);
        const known = Object.keys(shapeAt(schema, inSchema));
        // One lookup per key reported: at most MAX_KEYS_LISTED of them, the rest in one line.
        if (issue.keys.length > MAX_KEYS_LISTED) this.error(path, `and ${issue.keys.length - MAX_KEYS_LISTED} more unknown keys`);
        for (const key of issue.keys.slice(0, MAX_KEYS_LISTED)) {
          const hint = suggestion(key, known);
          const entry = target?.kind === 'map' ? target.entries.find((e) => e.key === key) : undefined;
          this.errors.push({ ...(entry ? position(entry.keyPos) : this.where(path)), key: keyPath([...path, key]), message: `unknown key "${key}"${hint}` });
        }
        continue;
      }
      const target = this.node(path);
      if (issue.code === 'invalid_type' && target === undefined) {
        this.error(path, `"${String(path[path.length - 1])}" is required`);
        continue;
      }
      if (issue.code === 'invalid_type' || (issue.code === 'invalid_union' && !issue.message.startsWith('expected'))) {
        this.error(path, `expected ${describeExpected(issue)}, got ${describeNode(target)}`);
        continue;
      }
      this.error(path, issue.message);
    }
  }

  private problem(path: readonly (string | number)[], message: string): OperationProblem {
    return { ...this.where(path), key: keyPath(path), message };
  }

  private where(path: readonly (string | number)[]): { line: number; column: number } {
    // The deepest node that exists: a missing key is reported where its map starts.
    for (let n = path.length; n >= 0; n--) {
      const node = this.node(path.slice(0, n));
      if (node) return position(node.pos);
    }
    return { line: 1, column: 1 };
  }
}

/** "; did you mean "x"?" when a known word is a likely typo of what was written, else "". */
function suggestion(written: string, known: readonly string[]): string {
  if (!known.length) return '';
  const best = closest(written, [...known]);
  return distance(written, best) <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean "${best}"?` : '';
}

/** The keys a map may have at `path` below a schema (through optional values, lists and the map branch of a union). */
function shapeAt(schema: z.ZodType, path: (string | number)[]): Record<string, unknown> {
  const unwrap = (t: z.ZodType): z.ZodType => {
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) return unwrap(t.unwrap() as z.ZodType);
    if (t instanceof z.ZodUnion) return (t.options as z.ZodType[]).map(unwrap).find((o) => o instanceof z.ZodObject || o instanceof z.ZodArray) ?? t;
    return t;
  };
  let current = unwrap(schema);
  for (const step of path) {
    if (current instanceof z.ZodObject && typeof step === 'string') current = unwrap(current.shape[step] as z.ZodType);
    else if (current instanceof z.ZodArray && typeof step === 'number') current = unwrap(current.element as z.ZodType);
    else return {};
  }
  return current instanceof z.ZodObject ? current.shape : {};
}

function position(pos: SourcePosition): { line: number; column: number } {
  return { line: pos.line, column: pos.column };
}

function keyPath(path: readonly (string | number)[]): string {
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('');
}

function describeExpected(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return 'another shape';
  return ({ string: 'a value', array: 'a list', object: 'a map', record: 'a map' } as Record<string, string>)[issue.expected] ?? issue.expected;
}

function describeNode(node: SourceNode | undefined): string {
  if (!node) return 'nothing';
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  return node.value === null ? 'null' : `"${node.text}"`;
}

/** The tree as plain values: every scalar is its text, YAML's null is null. */
function plain(node: SourceNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(plain);
  return Object.fromEntries(node.entries.map((e) => [e.key, plain(e.value)]));
}
