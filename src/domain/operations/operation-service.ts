import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BusyWindows } from '../busy-windows.ts';
import { SimError } from '../errors.ts';
import { KeyedMutex } from '../primitives/keyed-mutex.ts';
import type { Logger } from '../ports/logger.ts';
import type { OperationParser } from '../ports/operation-parser.ts';
import { checkOperation } from './check-operation.ts';
import {
  EXECUTION_ENDED,
  executionRecord,
  TASK_ENDED,
  taskError,
  type ExecutionRecord,
  type ExecutionState,
  type LogLevel,
  type StoredExecution,
  type TaskArtifact,
  type TaskError,
} from './execution.ts';
import type { OperationCheck } from './operation.ts';
import { NamespacePathConflict, type OperationRevision } from '../ports/operation-store.ts';
import { Interrupted, runTask, sleepSimulated, zipStream, type StopReason, type TaskOutcome, type TaskRunnerDeps } from './task-runners.ts';

/** One execution in a listing (GET /sim/executions, `operation list`). */
export interface ExecutionSummary {
  id: string;
  namespace: string;
  operation: string;
  revision: number;
  state: ExecutionState;
  started: string | null;
  ended: string | null;
  tasks: number;
  failed_tasks: string[];
}

/** A saved revision of an operation, without its text (GET /sim/operations lists the latest of each). */
export interface OperationSummary {
  namespace: string;
  /** The operation's id. */
  operation: string;
  revision: number;
  /** ISO 8601 (simulated clock): when this revision was saved. */
  created: string;
}

/** One revision with its text (GET /sim/operations/{namespace}/{id}). */
export interface SavedOperation extends OperationSummary {
  source: string;
}

/** GET /sim/operations's entries: the latest revision of each operation, and how many there are. */
export type OperationListEntry = OperationSummary & { revisions: number };

/** GET /sim/operations/{namespace}/{id}: one revision's text and every revision's number and time. */
export type OperationRevisions = SavedOperation & { revisions: Pick<OperationSummary, 'revision' | 'created'>[] };

const summaryOf = (r: Omit<OperationRevision, 'source'>): OperationSummary => ({
  namespace: r.namespace,
  operation: r.operation,
  revision: r.revision,
  created: new Date(r.createdAt).toISOString(),
});

/** What the operation service is built with. */
export interface OperationServiceOptions extends TaskRunnerDeps {
  parser: OperationParser;
  /** Whether an image is in the onboard catalog (validation warns about pod images that are not). */
  isOnboard: (image: string) => boolean;
  busy: BusyWindows;
  logger: Logger;
}

/**
 * Operations and their executions (operations-decisions.md): checks an operation file, runs its
 * tasks one after another on the simulator's own services, records every state change, log line
 * and output in the OperationStore, and keeps the files the tasks bring down in the user's
 * namespace. A user's executions run one at a time, in the order they were submitted (the others
 * wait SCHEDULED). A restart resumes what was under way: a pod that was running is followed, not
 * started again; a task whose end was recorded is not run again.
 */
export class OperationService {
  private readonly queues = new KeyedMutex();
  private readonly controllers = new Map<string, AbortController>();
  /** Each execution being driven (or queued to be), by id. */
  private readonly drives = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly o: OperationServiceOptions) {}

  /** Checks an operation's text without running anything (`operation validate`, POST /sim/operations/validate). */
  check(text: string, fileName?: string): OperationCheck {
    return checkOperation(this.o.parser.parse(text), { ...(fileName === undefined ? {} : { fileName }), isOnboard: this.o.isOnboard });
  }

  /**
   * Saves an operation without running it, as the dashboard's editor does: a new revision when the
   * text differs from the latest, else the latest (operations-decisions.md: revisions). An invalid
   * operation is refused with INVALID_OPERATION and every problem in `details`, and nothing is saved.
   */
  save(username: string, text: string, fileName?: string): OperationListEntry & { added: boolean } {
    const op = this.valid(text, fileName);
    const { revision, added } = this.o.store.saveRevision(username, op.namespace, op.id, text, this.o.clock.now());
    // Revisions are numbered 1, 2, … and none is removed: the latest's number is how many there are.
    return { ...summaryOf(this.o.store.revision(username, op.namespace, op.id, revision)!), revisions: revision, added };
  }

  /** A user's operations, the latest revision of each (its number is how many there are), by namespace then id. */
  operations(username: string): OperationListEntry[] {
    return this.o.store.operations(username).map((r) => ({ ...summaryOf(r), revisions: r.revision }));
  }

  /**
   * One operation of a user: the revision asked for (the latest when omitted), with the list of
   * every revision. OPERATION_NOT_FOUND when the user has no such operation or revision.
   */
  operation(username: string, namespace: string, id: string, revision?: number): OperationRevisions {
    const chosen = this.o.store.revision(username, namespace, id, revision);
    if (!chosen) {
      const latest = revision === undefined ? undefined : this.o.store.revision(username, namespace, id);
      if (!latest) throw new SimError('OPERATION_NOT_FOUND', `No operation "${id}" in namespace "${namespace}" exists for this user; list yours with GET /sim/operations`);
      throw new SimError('OPERATION_NOT_FOUND', `Operation "${namespace}/${id}" has no revision ${revision}; its revisions: 1 to ${latest.revision}`);
    }
    const revisions = this.o.store.revisions(username, namespace, id).map((r) => {
      const { revision: n, created } = summaryOf(r);
      return { revision: n, created };
    });
    return { ...summaryOf(chosen), source: chosen.source, revisions };
  }

  /** The namespaces a user has used (their operations' and their namespace files'). */
  namespaces(username: string): string[] {
    return this.o.store.namespaces(username);
  }

  /** The checked operation, or INVALID_OPERATION with every problem in `details`. */
  private valid(text: string, fileName?: string): NonNullable<OperationCheck['operation']> {
    const checked = this.check(text, fileName);
    if (checked.operation) return checked.operation;
    const first = checked.errors[0]!;
    throw new SimError(
      'INVALID_OPERATION',
      `The operation has ${checked.errors.length} error${checked.errors.length === 1 ? '' : 's'}; the first: line ${first.line}, column ${first.column}${first.key ? ` (${first.key})` : ''}: ${first.message}`,
      { details: checked.errors },
    );
  }

  /**
   * Checks an operation and starts an execution of it: INVALID_OPERATION (with every problem in
   * `details`) before anything runs. Returns the new execution's record (SCHEDULED).
   */
  submit(username: string, text: string, fileName?: string): ExecutionRecord {
    if (this.closed) throw new SimError('INTERNAL_ERROR', 'The simulator is stopping; submit the operation again once it is back');
    const op = this.valid(text, fileName);
    const now = this.o.clock.now();
    const { revision } = this.o.store.saveRevision(username, op.namespace, op.id, text, now);
    const execution: StoredExecution = {
      id: randomUUID(),
      username,
      namespace: op.namespace,
      operation: op.id,
      revision,
      source: text,
      fileName: fileName ?? null,
      labels: op.labels,
      state: 'SCHEDULED',
      history: [
        { state: 'CREATED', at: now },
        { state: 'SCHEDULED', at: now },
      ],
      errors: [],
      tasks: op.tasks.map((t, position) => ({
        position,
        taskId: t.id,
        type: t.type,
        state: 'CREATED',
        history: [{ state: 'CREATED', at: now }],
        outputs: null,
        errors: [],
        progress: {},
        artifact: null,
      })),
    };
    this.o.store.createExecution(execution);
    this.o.logger.info('execution submitted', { user: username, execution: execution.id, namespace: op.namespace, operation: op.id, revision });
    this.start(execution);
    return this.record(username, execution.id);
  }

  /** A user's executions, newest first. */
  list(username: string, limit = 100): ExecutionSummary[] {
    return this.o.store.executions(username, limit).map((e) => {
      const r = executionRecord(e, []);
      return {
        id: r.id,
        namespace: r.namespace,
        operation: r.operation,
        revision: r.revision,
        state: r.state,
        started: r.started,
        ended: r.ended,
        tasks: r.tasks.length,
        failed_tasks: r.tasks.filter((t) => t.state === 'FAILED').map((t) => t.id),
      };
    });
  }

  /** The execution record: EXECUTION_NOT_FOUND when the user has no such execution. */
  record(username: string, id: string): ExecutionRecord {
    const e = this.owned(username, id);
    return executionRecord(e, this.o.store.logs(id));
  }

  /**
   * Kills an execution: the running task is stopped (its pod gets SIGTERM) and ends KILLED, the
   * tasks after it are SKIPPED. EXECUTION_ENDED when it has ended already. Resolves with the record
   * once the execution has ended.
   */
  async kill(username: string, id: string): Promise<ExecutionRecord> {
    const e = this.owned(username, id);
    if (EXECUTION_ENDED.includes(e.state)) throw new SimError('EXECUTION_ENDED', `Execution ${id} has already ended ${e.state}; there is nothing to kill`);
    this.o.logger.info('killing execution', { user: username, execution: id });
    const controller = this.controllers.get(id);
    if (controller && e.state === 'RUNNING') {
      controller.abort('kill' satisfies StopReason);
      await this.settled(id);
    } else {
      // Still waiting for the user's earlier executions: it ends before it starts.
      controller?.abort('kill' satisfies StopReason);
      this.end(e, 'KILLED', [taskError('KILLED', 'The execution was killed before it started')]);
    }
    return this.record(username, id);
  }

  /** A task's `uri` output: its bytes, type and file name. EXECUTION_NOT_FOUND, FILE_NOT_FOUND. */
  artifact(username: string, id: string, taskId: string): { artifact: TaskArtifact; stream: Readable } {
    const e = this.owned(username, id);
    const artifact = e.tasks.find((t) => t.taskId === taskId)?.artifact;
    if (!artifact) throw new SimError('FILE_NOT_FOUND', `Task "${taskId}" of execution ${id} has no output file`);
    return { artifact, stream: artifact.zip ? zipStream(this.o.blobs, artifact.zip) : this.o.blobs.open(artifact.blob!) };
  }

  /**
   * At start, before the server answers: removes the bytes a crash left unrecorded (blobs no
   * record names, and the staging files of writes that never finished). Never once a request may
   * be writing one.
   */
  async sweep(): Promise<void> {
    const swept = await this.o.blobs.sweep(this.o.store.blobsInUse());
    if (swept) this.o.logger.info('removed unrecorded files left by a crash', { count: swept });
  }

  /**
   * At start, once the pods are recovered: resumes every execution that had not ended. Never
   * leaves one RUNNING without a drive, nor gives one a second: the server answers before this
   * runs (simulator.ts), so an execution submitted meanwhile is already driven.
   */
  resume(): void {
    for (const e of this.o.store.unfinished()) {
      if (this.controllers.has(e.id)) continue;
      this.o.logger.info('resuming execution after a restart', { user: e.username, execution: e.id, state: e.state });
      this.start(e);
    }
  }

  /** Stops driving executions; they stay as recorded and resume at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.controllers.values()) controller.abort('close' satisfies StopReason);
    await Promise.allSettled([...this.drives.values()]);
  }

  // ---- driving an execution ----

  private owned(username: string, id: string): StoredExecution {
    const e = this.o.store.execution(id);
    if (!e || e.username !== username) throw new SimError('EXECUTION_NOT_FOUND', `No execution ${JSON.stringify(id)} exists for this user; list yours with GET /sim/executions`);
    return e;
  }

  private start(e: StoredExecution): void {
    const controller = new AbortController();
    this.controllers.set(e.id, controller);
    const drive = this.queues
      .run(e.username, () => this.drive(e.id, controller.signal))
      .catch((err: unknown) => {
        this.o.logger.error('execution failed unexpectedly', { execution: e.id, error: (err as Error).message });
        const current = this.o.store.execution(e.id);
        if (current && !EXECUTION_ENDED.includes(current.state) && !this.closed) {
          this.end(current, 'FAILED', [taskError('EXECUTION_ERROR', `The simulator failed while running the execution: ${(err as Error).message}`)]);
        }
      })
      .finally(() => {
        this.controllers.delete(e.id);
        this.drives.delete(e.id);
      });
    this.drives.set(e.id, drive);
  }

  /** Resolves once the execution's drive has returned. */
  private async settled(id: string): Promise<void> {
    await this.drives.get(id);
  }

  private async drive(id: string, signal: AbortSignal): Promise<void> {
    let e = this.o.store.execution(id)!;
    if (EXECUTION_ENDED.includes(e.state) || signal.aborted) return;
    const checked = this.check(e.source, e.fileName ?? undefined);
    if (!checked.operation) {
      this.end(e, 'FAILED', [taskError('VALIDATION_ERROR', `The operation no longer passes validation: ${checked.errors[0]?.message ?? 'unknown error'}`)]);
      return;
    }
    const tasks = checked.operation.tasks;
    if (e.state !== 'RUNNING') this.o.store.setExecutionState(id, 'RUNNING', this.o.clock.now());
    let failed = false;
    let stopped = false;
    let killed = false;
    for (const [position, task] of tasks.entries()) {
      // Tasks that end at once (skipped, failed early) must not hold the server: let other work in.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // The runs as they were when this drive began (after a restart: where they had got to);
      // only this drive changes them from here on.
      const run = e.tasks[position]!;
      if (TASK_ENDED.includes(run.state)) {
        if (run.state === 'FAILED') {
          failed = true;
          if (task.onFailure === 'stop') stopped = true;
        }
        if (run.state === 'KILLED') killed = true;
        continue;
      }
      if (stopped || killed) {
        this.o.store.setTaskState(id, position, 'SKIPPED', this.o.clock.now());
        continue;
      }
      const resumed = run.state !== 'CREATED';
      let state = run.state;
      const log = (level: LogLevel, message: string) => {
        this.o.store.appendLog(id, { position, at: this.o.clock.now(), level, message });
      };
      if (state === 'CREATED') {
        this.o.store.setTaskState(id, position, 'SCHEDULED', this.o.clock.now());
        state = 'SCHEDULED';
      }
      if (resumed) log('WARN', 'The simulator restarted while this task ran; it resumes where it was');
      try {
        await this.waitWhileBusy(signal, log);
        if (signal.aborted && signal.reason === 'close') return;
        let outcome: TaskOutcome = signal.aborted
          ? { state: 'KILLED' as const, end: { errors: [taskError('KILLED', 'The execution was killed before this task ran')] } }
          : await runTask(
              {
                username: e.username,
                namespace: e.namespace,
                executionId: id,
                position,
                task,
                resumed,
                progress: run.progress,
                setProgress: (progress) => this.o.store.setTaskProgress(id, position, progress),
                running: () => {
                  if (state === 'RUNNING') return;
                  state = 'RUNNING';
                  this.o.store.setTaskState(id, position, 'RUNNING', this.o.clock.now());
                },
                log,
                signal,
              },
              this.o,
            );
        try {
          this.o.store.setTaskState(id, position, outcome.state, this.o.clock.now(), outcome.end);
        } catch (err) {
          // Another writer made one of the downlink's paths a folder meanwhile: the files are not
          // added (their bytes are swept at the next start), the task fails.
          if (!(err instanceof NamespacePathConflict)) throw err;
          const message = `${err.message}; the downlink's files were not kept`;
          log('ERROR', message);
          outcome = { state: 'FAILED', end: { outputs: { files: [] }, errors: [taskError('EXECUTION_ERROR', message)] } };
          this.o.store.setTaskState(id, position, outcome.state, this.o.clock.now(), outcome.end);
        }
        if (outcome.state === 'FAILED') {
          failed = true;
          if (task.onFailure === 'stop') stopped = true;
          else log('WARN', 'on_failure: continue: the next tasks still run; the execution will end FAILED');
        }
        if (outcome.state === 'KILLED') killed = true;
      } catch (err) {
        if (err instanceof Interrupted) return;
        throw err;
      }
    }
    e = this.o.store.execution(id)!;
    const errors: TaskError[] = e.tasks.flatMap((t) => t.errors.map((err) => ({ ...err, message: `${t.taskId}: ${err.message}` })));
    this.end(e, killed ? 'KILLED' : failed ? 'FAILED' : 'COMPLETED', errors);
  }

  /** CG2 takes no work inside a busy window: the task stays SCHEDULED until it ends. */
  private async waitWhileBusy(signal: AbortSignal, log: (level: LogLevel, message: string) => void): Promise<void> {
    let told = false;
    for (;;) {
      const until = this.o.busy.busyUntil();
      if (until === null || signal.aborted) return;
      if (!told) log('INFO', `CG2 is busy${Number.isFinite(until) ? ` until ${new Date(until).toISOString()}` : ''} (a busy window is open); the task waits`);
      told = true;
      await sleepSimulated(this.o.clock, Number.isFinite(until) ? Math.max(1, until - this.o.clock.now()) : 60_000, signal);
    }
  }

  private end(e: StoredExecution, state: ExecutionState, errors: TaskError[]): void {
    const now = this.o.clock.now();
    for (const t of e.tasks) if (!TASK_ENDED.includes(t.state)) this.o.store.setTaskState(e.id, t.position, 'SKIPPED', now);
    this.o.store.setExecutionState(e.id, state, now, errors);
    this.o.logger.info('execution ended', { user: e.username, execution: e.id, state });
  }
}
