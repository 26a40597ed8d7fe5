import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';

/**
 * better-sqlite3's compiled addon where its install builds or downloads it, handed over as its
 * nativeBinding option: else the `bindings` package finds it by walking up from a stack trace
 * and trying a dozen paths (4 ms of each start here). undefined (that search) when it is not there.
 */
function sqliteAddon(): string | undefined {
  try {
    const addon = createRequire(import.meta.url).resolve('better-sqlite3/package.json').replace(/package\.json$/, 'build/Release/better_sqlite3.node');
    return existsSync(addon) ? addon : undefined;
  } catch {
    return undefined;
  }
}

// Each entry runs once, in order; user_version records how many have run.
const MIGRATIONS: string[] = [
  `CREATE TABLE volumes (
     username     TEXT NOT NULL,
     name         TEXT NOT NULL,
     created_at   INTEGER NOT NULL,
     last_used_at INTEGER NOT NULL,
     PRIMARY KEY (username, name)
   );
   CREATE TABLE file_hashes (
     volume    TEXT NOT NULL,
     rel_path  TEXT NOT NULL,
     size      INTEGER NOT NULL,
     mtime_ns  TEXT NOT NULL,
     ino       TEXT NOT NULL,
     hash      TEXT NOT NULL,
     PRIMARY KEY (volume, rel_path)
   );`,
  `CREATE TABLE pods (
     username     TEXT NOT NULL,
     name         TEXT NOT NULL,
     generation   INTEGER NOT NULL,
     spec         TEXT NOT NULL,
     phase        TEXT NOT NULL,
     due_at       INTEGER NOT NULL,
     created_at   INTEGER NOT NULL,
     container_id TEXT,
     started_at   TEXT,
     finished_at  TEXT,
     deadline_at  INTEGER,
     exit_code    INTEGER,
     reason       TEXT,
     message      TEXT,
     PRIMARY KEY (username, name)
   );
   CREATE INDEX pods_due ON pods (phase, due_at);
   CREATE TABLE namespaces (
     username   TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL
   );`,
  // Why a running pod's image would not start onboard (native platform mode).
  `ALTER TABLE pods ADD COLUMN warning TEXT;`,
  // What each user asked the onboard models (the provider bills these calls).
  `CREATE TABLE service_usage (
     username          TEXT NOT NULL,
     service           TEXT NOT NULL,
     model             TEXT NOT NULL,
     calls             INTEGER NOT NULL,
     prompt_tokens     INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     images            INTEGER NOT NULL,
     first_at          INTEGER NOT NULL,
     last_at           INTEGER NOT NULL,
     PRIMARY KEY (username, service, model)
   );`,
  // Operations (their revisions), executions, task runs, task logs and namespace files' versions.
  `CREATE TABLE operations (
     username   TEXT NOT NULL,
     namespace  TEXT NOT NULL,
     id         TEXT NOT NULL,
     revision   INTEGER NOT NULL,
     source     TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (username, namespace, id, revision)
   );
   CREATE TABLE executions (
     id         TEXT PRIMARY KEY,
     username   TEXT NOT NULL,
     namespace  TEXT NOT NULL,
     operation  TEXT NOT NULL,
     revision   INTEGER NOT NULL,
     source     TEXT NOT NULL,
     file_name  TEXT,
     labels     TEXT NOT NULL,
     state      TEXT NOT NULL,
     history    TEXT NOT NULL,
     errors     TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     seq        INTEGER NOT NULL
   );
   CREATE INDEX executions_user ON executions (username, seq);
   CREATE INDEX executions_state ON executions (state, seq);
   CREATE TABLE task_runs (
     execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
     position     INTEGER NOT NULL,
     task_id      TEXT NOT NULL,
     type         TEXT NOT NULL,
     state        TEXT NOT NULL,
     history      TEXT NOT NULL,
     outputs      TEXT,
     errors       TEXT NOT NULL,
     progress     TEXT NOT NULL,
     artifact     TEXT,
     PRIMARY KEY (execution_id, position)
   );
   CREATE TABLE task_logs (
     seq          INTEGER PRIMARY KEY AUTOINCREMENT,
     execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
     position     INTEGER NOT NULL,
     at           INTEGER NOT NULL,
     level        TEXT NOT NULL,
     message      TEXT NOT NULL
   );
   CREATE INDEX task_logs_execution ON task_logs (execution_id, seq);
   CREATE TABLE namespace_files (
     username   TEXT NOT NULL,
     namespace  TEXT NOT NULL,
     path       TEXT NOT NULL,
     version    INTEGER NOT NULL,
     size       INTEGER NOT NULL,
     sha256     TEXT NOT NULL,
     blob       TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (username, namespace, path, version)
   );`,
  // Listing hashes keyed by plain stat times (REAL keeps each double exactly) and the status
  // change time instead of BigInt nanoseconds; the hashes of the old key are read again once.
  `DROP TABLE file_hashes;
   CREATE TABLE file_hashes (
     volume    TEXT NOT NULL,
     rel_path  TEXT NOT NULL,
     size      INTEGER NOT NULL,
     mtime_ms  REAL NOT NULL,
     ctime_ms  REAL NOT NULL,
     ino       INTEGER NOT NULL,
     hash      TEXT NOT NULL,
     PRIMARY KEY (volume, rel_path)
   );`,
];

/**
 * The simulator's SQLite database (DATA_DIR/em-sim.db), migrated on open. The stores of this
 * folder share it. Each SQL text is compiled once: every call site passes constant SQL, and
 * compiling a statement costs more than running the small queries on the request path (a
 * listing, a status). Sharing one Statement is safe because callers only run() / get() / all()
 * it: iterate() would hold it busy, and pluck(), raw(), expand() or bind() would change it for
 * every other caller.
 */
export class SqliteDatabase {
  private readonly db: Database.Database;
  private readonly compiled = new Map<string, Database.Statement>();

  constructor(file: string) {
    const nativeBinding = sqliteAddon();
    this.db = new Database(file, nativeBinding ? { nativeBinding } : {});
    this.db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a process crash (the case we test); FULL costs an fsync
    // per commit and buys durability only across power loss of the host.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  /** The compiled statement for constant SQL (compiled on first use). */
  statement(sql: string): Database.Statement {
    let statement = this.compiled.get(sql);
    if (!statement) this.compiled.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Runs fn in one transaction and returns what it returns. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= MIGRATIONS.length) return;
    // All that are due in one transaction: a new database is made in one commit, and a failing
    // migration leaves the database as it was.
    this.db.transaction(() => {
      for (let i = version; i < MIGRATIONS.length; i++) this.db.exec(MIGRATIONS[i]!);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    })();
  }
}
