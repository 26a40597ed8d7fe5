import type { ExecutionState, StoredExecution, StoredTaskRun, TaskError, TaskLog, TaskRunState } from '../../domain/operations/execution.ts';
import { NamespacePathConflict, type NamespaceFileVersion, type OperationRevision, type NewNamespaceFile, type OperationStore, type TaskEnd } from '../../domain/ports/operation-store.ts';
import type { SqliteDatabase } from './database.ts';

interface ExecutionRow {
  id: string;
  username: string;
  namespace: string;
  operation: string;
  revision: number;
  source: string;
  file_name: string | null;
  labels: string;
  state: string;
  history: string;
  errors: string;
}

interface TaskRow {
  position: number;
  task_id: string;
  type: string;
  state: string;
  history: string;
  outputs: string | null;
  errors: string;
  progress: string;
  artifact: string | null;
}

interface FileRow {
  path: string;
  version: number;
  size: number;
  sha256: string;
  blob: string;
  created_at: number;
}

interface RevisionRow {
  namespace: string;
  id: string;
  revision: number;
  source: string;
  created_at: number;
}

/** A row as the port gives it: with its text when the row has one. */
function revisionOf(r: RevisionRow): OperationRevision;
function revisionOf(r: Omit<RevisionRow, 'source'>): Omit<OperationRevision, 'source'>;
function revisionOf(r: Omit<RevisionRow, 'source'> & { source?: string }): Omit<OperationRevision, 'source'> & { source?: string } {
  return { namespace: r.namespace, operation: r.id, revision: r.revision, createdAt: r.created_at, ...(r.source === undefined ? {} : { source: r.source }) };
}

const EXECUTION_COLUMNS = 'id, username, namespace, operation, revision, source, file_name, labels, state, history, errors';

/**
 * The OperationStore port in SQLite (migration 5 of database.ts). State changes append to the
 * history inside one statement's transaction, so a crash keeps each change whole; a task's end and
 * the namespace files it brought down commit together.
 */
export class SqliteOperationStore implements OperationStore {
  constructor(private readonly db: SqliteDatabase) {}

  saveRevision(username: string, namespace: string, operation: string, source: string, at: number): { revision: number; added: boolean } {
    return this.db.transaction(() => {
      const latest = this.db
        .statement('SELECT revision, source FROM operations WHERE username = ? AND namespace = ? AND id = ? ORDER BY revision DESC LIMIT 1')
        .get(username, namespace, operation) as { revision: number; source: string } | undefined;
      if (latest && latest.source === source) return { revision: latest.revision, added: false };
      const revision = (latest?.revision ?? 0) + 1;
      this.db.statement('INSERT INTO operations (username, namespace, id, revision, source, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(username, namespace, operation, revision, source, at);
      return { revision, added: true };
    });
  }

  operations(username: string): Omit<OperationRevision, 'source'>[] {
    const rows = this.db
      .statement(
        `SELECT o.namespace, o.id, o.revision, o.created_at FROM operations o
         WHERE o.username = ? AND o.revision = (SELECT MAX(revision) FROM operations m WHERE m.username = o.username AND m.namespace = o.namespace AND m.id = o.id)
         ORDER BY o.namespace, o.id`,
      )
      .all(username) as Omit<RevisionRow, 'source'>[];
    return rows.map(revisionOf);
  }

  revisions(username: string, namespace: string, operation: string): Omit<OperationRevision, 'source'>[] {
    const rows = this.db
      .statement('SELECT namespace, id, revision, created_at FROM operations WHERE username = ? AND namespace = ? AND id = ? ORDER BY revision')
      .all(username, namespace, operation) as Omit<RevisionRow, 'source'>[];
    return rows.map(revisionOf);
  }

  revision(username: string, namespace: string, operation: string, revision?: number): OperationRevision | undefined {
    const row = (
      revision === undefined
        ? this.db
            .statement('SELECT namespace, id, revision, source, created_at FROM operations WHERE username = ? AND namespace = ? AND id = ? ORDER BY revision DESC LIMIT 1')
            .get(username, namespace, operation)
        : this.db
            .statement('SELECT namespace, id, revision, source, created_at FROM operations WHERE username = ? AND namespace = ? AND id = ? AND revision = ?')
            .get(username, namespace, operation, revision)
    ) as RevisionRow | undefined;
    return row ? revisionOf(row) : undefined;
  }

  namespaces(username: string): string[] {
    const rows = this.db
      .statement('SELECT namespace FROM operations WHERE username = ? UNION SELECT namespace FROM namespace_files WHERE username = ? ORDER BY namespace')
      .all(username, username) as { namespace: string }[];
    return rows.map((r) => r.namespace);
  }

  createExecution(e: StoredExecution): void {
    this.db.transaction(() => {
      const seq = (this.db.statement('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM executions').get() as { next: number }).next;
      this.db
        .statement(`INSERT INTO executions (${EXECUTION_COLUMNS}, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(e.id, e.username, e.namespace, e.operation, e.revision, e.source, e.fileName, JSON.stringify(e.labels), e.state, JSON.stringify(e.history), JSON.stringify(e.errors), e.history[0]!.at, seq);
      for (const t of e.tasks) {
        this.db
          .statement('INSERT INTO task_runs (execution_id, position, task_id, type, state, history, outputs, errors, progress, artifact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(e.id, t.position, t.taskId, t.type, t.state, JSON.stringify(t.history), t.outputs ? JSON.stringify(t.outputs) : null, JSON.stringify(t.errors), JSON.stringify(t.progress), t.artifact ? JSON.stringify(t.artifact) : null);
      }
    });
  }

  execution(id: string): StoredExecution | undefined {
    const row = this.db.statement(`SELECT ${EXECUTION_COLUMNS} FROM executions WHERE id = ?`).get(id) as ExecutionRow | undefined;
    return row ? this.withTasks(row) : undefined;
  }

  executions(username: string, limit: number): StoredExecution[] {
    const rows = this.db.statement(`SELECT ${EXECUTION_COLUMNS} FROM executions WHERE username = ? ORDER BY seq DESC LIMIT ?`).all(username, limit) as ExecutionRow[];
    return rows.map((row) => this.withTasks(row));
  }

  unfinished(): StoredExecution[] {
    const rows = this.db
      .statement(`SELECT ${EXECUTION_COLUMNS} FROM executions WHERE state NOT IN ('COMPLETED', 'FAILED', 'KILLED') ORDER BY seq`)
      .all() as ExecutionRow[];
    return rows.map((row) => this.withTasks(row));
  }

  setExecutionState(id: string, state: ExecutionState, at: number, errors?: TaskError[]): void {
    this.db.transaction(() => {
      const row = this.db.statement('SELECT history, errors FROM executions WHERE id = ?').get(id) as { history: string; errors: string } | undefined;
      if (!row) return;
      const history = [...(JSON.parse(row.history) as unknown[]), { state, at }];
      this.db.statement('UPDATE executions SET state = ?, history = ?, errors = ? WHERE id = ?').run(state, JSON.stringify(history), errors ? JSON.stringify(errors) : row.errors, id);
    });
  }

  setTaskState(id: string, position: number, state: TaskRunState, at: number, end: TaskEnd = {}): NamespaceFileVersion[] {
    return this.db.transaction(() => {
      const row = this.db.statement('SELECT history, outputs, errors, artifact FROM task_runs WHERE execution_id = ? AND position = ?').get(id, position) as
        | { history: string; outputs: string | null; errors: string; artifact: string | null }
        | undefined;
      if (!row) return [];
      const versions = end.files ? this.addNamespaceFiles(end.files.username, end.files.namespace, end.files.files, at) : [];
      let outputs = end.outputs;
      if (outputs && versions.length) {
        // The files output names each file's version, as the dashboard's Outputs tab shows it.
        outputs = { ...outputs, files: versions.map((v) => ({ path: v.path, version: v.version })) };
      }
      const history = [...(JSON.parse(row.history) as unknown[]), { state, at }];
      this.db
        .statement('UPDATE task_runs SET state = ?, history = ?, outputs = ?, errors = ?, artifact = ? WHERE execution_id = ? AND position = ?')
        .run(
          state,
          JSON.stringify(history),
          outputs ? JSON.stringify(outputs) : row.outputs,
          end.errors ? JSON.stringify(end.errors) : row.errors,
          end.artifact ? JSON.stringify(end.artifact) : row.artifact,
          id,
          position,
        );
      return versions;
    });
  }

  setTaskProgress(id: string, position: number, progress: Record<string, unknown>): void {
    this.db.statement('UPDATE task_runs SET progress = ? WHERE execution_id = ? AND position = ?').run(JSON.stringify(progress), id, position);
  }

  appendLog(id: string, line: TaskLog): void {
    this.db.statement('INSERT INTO task_logs (execution_id, position, at, level, message) VALUES (?, ?, ?, ?, ?)').run(id, line.position, line.at, line.level, line.message);
  }

  logs(id: string): TaskLog[] {
    return this.db.statement('SELECT position, at, level, message FROM task_logs WHERE execution_id = ? ORDER BY seq').all(id) as TaskLog[];
  }

  namespaceFiles(username: string, namespace: string): NamespaceFileVersion[] {
    const rows = this.db
      .statement('SELECT path, version, size, sha256, blob, created_at FROM namespace_files WHERE username = ? AND namespace = ? ORDER BY path, version')
      .all(username, namespace) as FileRow[];
    return rows.map(fileVersion);
  }

  namespaceFile(username: string, namespace: string, path: string, version?: number): NamespaceFileVersion | undefined {
    const row = (
      version === undefined
        ? this.db.statement('SELECT path, version, size, sha256, blob, created_at FROM namespace_files WHERE username = ? AND namespace = ? AND path = ? ORDER BY version DESC LIMIT 1').get(username, namespace, path)
        : this.db.statement('SELECT path, version, size, sha256, blob, created_at FROM namespace_files WHERE username = ? AND namespace = ? AND path = ? AND version = ?').get(username, namespace, path, version)
    ) as FileRow | undefined;
    return row ? fileVersion(row) : undefined;
  }

  addNamespaceFiles(username: string, namespace: string, files: NewNamespaceFile[], at: number): NamespaceFileVersion[] {
    return this.db.transaction(() =>
      files.map((f) => {
        const clash = this.db
          .statement(
            `SELECT path FROM namespace_files WHERE username = ? AND namespace = ?
               AND (substr(path, 1, length(?) + 1) = ? || '/' OR substr(?, 1, length(path) + 1) = path || '/') LIMIT 1`,
          )
          .get(username, namespace, f.path, f.path, f.path) as { path: string } | undefined;
        if (clash) throw new NamespacePathConflict(f.path, clash.path);
        const latest = this.db.statement('SELECT MAX(version) AS v FROM namespace_files WHERE username = ? AND namespace = ? AND path = ?').get(username, namespace, f.path) as { v: number | null };
        const version = (latest.v ?? 0) + 1;
        this.db
          .statement('INSERT INTO namespace_files (username, namespace, path, version, size, sha256, blob, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(username, namespace, f.path, version, f.size, f.sha256, f.blob, at);
        return { ...f, version, createdAt: at };
      }),
    );
  }

  blobsInUse(): Set<string> {
    const keys = new Set((this.db.statement('SELECT blob FROM namespace_files').all() as { blob: string }[]).map((r) => r.blob));
    for (const row of this.db.statement('SELECT artifact FROM task_runs WHERE artifact IS NOT NULL').all() as { artifact: string }[]) {
      const artifact = JSON.parse(row.artifact) as { blob?: string; zip?: { entries: { blob: string }[] } };
      if (artifact.blob) keys.add(artifact.blob);
      for (const entry of artifact.zip?.entries ?? []) keys.add(entry.blob);
    }
    return keys;
  }

  private withTasks(row: ExecutionRow): StoredExecution {
    const tasks = this.db
      .statement('SELECT position, task_id, type, state, history, outputs, errors, progress, artifact FROM task_runs WHERE execution_id = ? ORDER BY position')
      .all(row.id) as TaskRow[];
    return {
      id: row.id,
      username: row.username,
      namespace: row.namespace,
      operation: row.operation,
      revision: row.revision,
      source: row.source,
      fileName: row.file_name,
      labels: JSON.parse(row.labels) as Record<string, string>,
      state: row.state as ExecutionState,
      history: JSON.parse(row.history) as StoredExecution['history'],
      errors: JSON.parse(row.errors) as TaskError[],
      tasks: tasks.map(
        (t): StoredTaskRun => ({
          position: t.position,
          taskId: t.task_id,
          type: t.type as StoredTaskRun['type'],
          state: t.state as TaskRunState,
          history: JSON.parse(t.history) as StoredTaskRun['history'],
          outputs: t.outputs ? (JSON.parse(t.outputs) as Record<string, unknown>) : null,
          errors: JSON.parse(t.errors) as TaskError[],
          progress: JSON.parse(t.progress) as Record<string, unknown>,
          artifact: t.artifact ? (JSON.parse(t.artifact) as StoredTaskRun['artifact']) : null,
        }),
      ),
    };
  }
}

function fileVersion(row: FileRow): NamespaceFileVersion {
  return { path: row.path, version: row.version, size: row.size, sha256: row.sha256, blob: row.blob, createdAt: row.created_at };
}
