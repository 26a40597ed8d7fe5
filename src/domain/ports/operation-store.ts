import type { ExecutionState, StoredExecution, TaskArtifact, TaskError, TaskLog, TaskRunState } from '../operations/execution.ts';

/*
 * Operations, executions, task runs, their logs and the namespace files' versions
 * (operations-decisions.md: they live in SQLite and survive a restart). Implemented by
 * src/adapters/sqlite/operation-store.ts. Times are simulated epoch ms.
 */

/** One version of a namespace file; its bytes are the blob of the same name in the BlobStore. */
export interface NamespaceFileVersion {
  /** "/a/b.txt" */
  path: string;
  /** 1, 2, …: writing a path again adds a version and keeps the earlier ones. */
  version: number;
  size: number;
  sha256: string;
  blob: string;
  createdAt: number;
}

/** A file to add as a new version of its path. */
export interface NewNamespaceFile {
  path: string;
  size: number;
  sha256: string;
  blob: string;
}

/** What ending a task changes besides its state. */
export interface TaskEnd {
  outputs?: Record<string, unknown>;
  errors?: TaskError[];
  artifact?: TaskArtifact;
  /** Files the task brought into the namespace: added in the same transaction as the end. */
  files?: { username: string; namespace: string; files: NewNamespaceFile[] };
}

/**
 * A new file's path is a folder of the namespace already, or one of its folders is a file (found
 * inside the transaction that would add it, so two writers at once cannot both succeed).
 */
export class NamespacePathConflict extends Error {
  override name = 'NamespacePathConflict';
  constructor(readonly path: string, readonly existing: string) {
    super(
      existing.startsWith(`${path}/`)
        ? `"${path}" is a folder of the namespace (it holds "${existing}"); a file cannot replace it`
        : `"${existing}" is a file of the namespace, so "${path}" cannot be made inside it`,
    );
  }
}

/** One saved revision of an operation (its text as the user wrote it). */
export interface OperationRevision {
  namespace: string;
  /** The operation's id. */
  operation: string;
  /** 1, 2, …: saving a different text adds one. */
  revision: number;
  source: string;
  /** Simulated epoch ms. */
  createdAt: number;
}

export interface OperationStore {
  /** The revision of this text of the operation: the latest when the text is the same (`added` false), else a new one. */
  saveRevision(username: string, namespace: string, operation: string, source: string, at: number): { revision: number; added: boolean };
  /** A user's operations: the latest revision of each (without its text), by namespace then id. */
  operations(username: string): Omit<OperationRevision, 'source'>[];
  /** Every revision of one operation of a user, oldest first, without their text (empty: no such operation). */
  revisions(username: string, namespace: string, operation: string): Omit<OperationRevision, 'source'>[];
  /** One revision with its text (the latest when `revision` is undefined), or undefined. */
  revision(username: string, namespace: string, operation: string, revision?: number): OperationRevision | undefined;
  /** The namespaces a user has used: those of their operations and of their namespace files, sorted. */
  namespaces(username: string): string[];
  createExecution(execution: StoredExecution): void;
  execution(id: string): StoredExecution | undefined;
  /** A user's executions, newest first. */
  executions(username: string, limit: number): StoredExecution[];
  /** Executions not ended, oldest first (a restart resumes them). */
  unfinished(): StoredExecution[];
  setExecutionState(id: string, state: ExecutionState, at: number, errors?: TaskError[]): void;
  setTaskState(id: string, position: number, state: TaskRunState, at: number, end?: TaskEnd): NamespaceFileVersion[];
  setTaskProgress(id: string, position: number, progress: Record<string, unknown>): void;
  appendLog(id: string, line: TaskLog): void;
  logs(id: string): TaskLog[];

  /** Every version of every file of a user's namespace, by path then version. */
  namespaceFiles(username: string, namespace: string): NamespaceFileVersion[];
  /** One version of a path (the latest when version is undefined). */
  namespaceFile(username: string, namespace: string, path: string, version?: number): NamespaceFileVersion | undefined;
  /** Adds versions in one transaction; NamespacePathConflict (and nothing added) when a path is a folder there, or under a file. */
  addNamespaceFiles(username: string, namespace: string, files: NewNamespaceFile[], at: number): NamespaceFileVersion[];
  /** Every blob a namespace file or a task's artifact names (the rest is swept at start). */
  blobsInUse(): Set<string>;
}
