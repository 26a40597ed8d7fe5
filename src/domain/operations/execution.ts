import { isoMillis } from '../time/iso-time.ts';
import type { TaskType } from './operation.ts';

/*
 * Executions and task runs as operations-decisions.md ("States, errors, records") and the
 * provider's dashboard show them (onboard-platform.md 1.4): state histories on the simulated
 * clock, task errors as {code, name, message}, outputs, logs.
 */

/** CREATED → SCHEDULED → RUNNING → COMPLETED | FAILED | KILLED. */
export type ExecutionState = 'CREATED' | 'SCHEDULED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'KILLED';
/** CREATED → SCHEDULED → RUNNING → SUCCESS | FAILED | KILLED, or SKIPPED. */
export type TaskRunState = 'CREATED' | 'SCHEDULED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'KILLED' | 'SKIPPED';

export const EXECUTION_ENDED: readonly ExecutionState[] = ['COMPLETED', 'FAILED', 'KILLED'];
export const TASK_ENDED: readonly TaskRunState[] = ['SUCCESS', 'FAILED', 'KILLED', 'SKIPPED'];

/**
 * The error names of the dashboard's error table, with their codes. Only `4 | EXECUTION_ERROR` is
 * seen in the provider's screenshots; the other numbers are em-sim's.
 */
export const TASK_ERRORS = { VALIDATION_ERROR: 3, EXECUTION_ERROR: 4, TIMEOUT: 5, KILLED: 6 } as const;
export type TaskErrorName = keyof typeof TASK_ERRORS;

/** One row of a task's (or the execution's) error table. */
export interface TaskError {
  code: number;
  name: TaskErrorName;
  message: string;
}

export function taskError(name: TaskErrorName, message: string): TaskError {
  return { code: TASK_ERRORS[name], name, message };
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** A state change, on the simulated clock (epoch ms). */
export interface StateChange<S> {
  state: S;
  at: number;
}

/** A task's log line as stored. */
export interface TaskLog {
  position: number;
  at: number;
  level: LogLevel;
  message: string;
}

/**
 * What a task run left for its `uri` output: a blob (a listing's JSON), or a zip made on request
 * from the blobs of the files a downlink brought down (`zip`, each entry's name and blob, with the
 * entries' time), so that no byte is stored twice. `size` is the bytes the request gets.
 */
export interface TaskArtifact {
  blob?: string;
  zip?: { entries: { name: string; blob: string }[]; mtime: number };
  contentType: string;
  size: number;
  fileName: string;
}

/** A task run as stored. */
export interface StoredTaskRun {
  position: number;
  taskId: string;
  type: TaskType;
  state: TaskRunState;
  history: StateChange<TaskRunState>[];
  outputs: Record<string, unknown> | null;
  errors: TaskError[];
  /** What a restart needs to resume the task without repeating it (a pod run's generation). */
  progress: Record<string, unknown>;
  artifact: TaskArtifact | null;
}

/** An execution as stored. */
export interface StoredExecution {
  id: string;
  username: string;
  namespace: string;
  operation: string;
  revision: number;
  /** The operation's text as submitted, and the file name it came with. */
  source: string;
  fileName: string | null;
  labels: Record<string, string>;
  state: ExecutionState;
  history: StateChange<ExecutionState>[];
  errors: TaskError[];
  tasks: StoredTaskRun[];
}

/** One log line of the record. */
export interface LogLine {
  time: string;
  level: LogLevel;
  message: string;
}

/** A task run in the execution record. */
export interface TaskRunRecord {
  id: string;
  type: TaskType;
  state: TaskRunState;
  state_history: { state: TaskRunState; date: string }[];
  started: string | null;
  ended: string | null;
  /** Seconds of simulated time from RUNNING (or SCHEDULED) to the end, two decimals; null until then. */
  duration_s: number | null;
  outputs: Record<string, unknown>;
  errors: TaskError[];
  logs: LogLine[];
}

/** The execution record (operations-decisions.md): `operation run --json` and GET /sim/executions/{id}. */
export interface ExecutionRecord {
  id: string;
  namespace: string;
  operation: string;
  revision: number;
  state: ExecutionState;
  state_history: { state: ExecutionState; date: string }[];
  started: string | null;
  ended: string | null;
  labels: Record<string, string>;
  errors: TaskError[];
  tasks: TaskRunRecord[];
}

/** The stored execution in the record's shape; `logs` are its lines in order. */
export function executionRecord(e: StoredExecution, logs: TaskLog[]): ExecutionRecord {
  const started = e.history.find((h) => h.state === 'RUNNING')?.at ?? null;
  const last = e.history[e.history.length - 1]!;
  // One pass over the lines: an execution of a thousand tasks is not filtered a thousand times.
  const byTask = new Map<number, TaskLog[]>();
  for (const line of logs) {
    const lines = byTask.get(line.position);
    if (lines) lines.push(line);
    else byTask.set(line.position, [line]);
  }
  return {
    id: e.id,
    namespace: e.namespace,
    operation: e.operation,
    revision: e.revision,
    state: e.state,
    state_history: e.history.map((h) => ({ state: h.state, date: iso(h.at) })),
    started: started === null ? null : iso(started),
    ended: EXECUTION_ENDED.includes(e.state) ? iso(last.at) : null,
    labels: e.labels,
    errors: e.errors,
    tasks: e.tasks.map((t) => taskRunRecord(t, byTask.get(t.position) ?? [])),
  };
}

function taskRunRecord(t: StoredTaskRun, logs: TaskLog[]): TaskRunRecord {
  const start = (t.history.find((h) => h.state === 'RUNNING') ?? t.history.find((h) => h.state === 'SCHEDULED'))?.at ?? null;
  const ended = TASK_ENDED.includes(t.state) ? t.history[t.history.length - 1]!.at : null;
  return {
    id: t.taskId,
    type: t.type,
    state: t.state,
    state_history: t.history.map((h) => ({ state: h.state, date: iso(h.at) })),
    started: start === null ? null : iso(start),
    ended: ended === null ? null : iso(ended),
    duration_s: start !== null && ended !== null ? Math.round((ended - start) / 10) / 100 : null,
    outputs: t.outputs ?? {},
    errors: t.errors,
    logs: logs.map((l) => ({ time: iso(l.at), level: l.level, message: l.message })),
  };
}

const iso = (ms: number): string => isoMillis(ms)!;
