import Database from 'better-sqlite3';

export type Db = Database.Database;

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
];

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // WAL with synchronous=NORMAL survives a process crash (the case we test); FULL costs an fsync
  // per commit and buys durability only across power loss of the host.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  cacheStatements(db);
  return db;
}

/**
 * Compiles each SQL text once. Every call site passes constant SQL, and compiling a statement
 * costs more than running the small queries on the request path (a listing, a status).
 * Sharing one Statement is safe because callers only run() / get() / all() it: iterate() would
 * hold it busy, and pluck(), raw(), expand() or bind() would change it for every other caller.
 */
function cacheStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const compiled = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = compiled.get(sql);
    if (!statement) compiled.set(sql, (statement = compile(sql)));
    return statement;
  }) as Db['prepare'];
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
