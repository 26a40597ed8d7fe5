import type { PodChanges, PodPhase, PodRecord, PodStore } from '../../domain/ports/pod-store.ts';
import type { PodSpec } from '../../domain/pods/pod-spec.ts';
import type { SqliteDatabase } from './database.ts';

/** A row of the pods table. started_at and finished_at hold epoch milliseconds as text. */
interface PodRow {
  username: string;
  name: string;
  generation: number;
  spec: string;
  phase: PodPhase;
  due_at: number;
  created_at: number;
  container_id: string | null;
  started_at: string | null;
  finished_at: string | null;
  deadline_at: number | null;
  exit_code: number | null;
  reason: string | null;
  message: string | null;
  warning: string | null;
}

/** Each field of PodChanges, its column, and how its value is written. */
const COLUMNS: { [K in keyof Required<PodChanges>]: [column: keyof PodRow, write?: (value: PodChanges[K]) => unknown] } = {
  phase: ['phase'],
  dueAt: ['due_at'],
  containerId: ['container_id'],
  startedAt: ['started_at', timeText],
  finishedAt: ['finished_at', timeText],
  deadlineAt: ['deadline_at'],
  exitCode: ['exit_code'],
  reason: ['reason'],
  message: ['message'],
  warning: ['warning'],
};

/**
 * The PodStore port in SQLite (tables pods and namespaces). Every change is one committed
 * statement. get() answers from a write-through cache of frozen records: a status poll, the
 * commonest request, reads a pod that has not changed since the last poll (issue 16: no
 * per-request work that does not change between two polls). This process is the table's only
 * writer, and every write here drops the pod's entry.
 */
export class SqlitePodStore implements PodStore {
  private readonly cache = new Map<string, PodRecord | null>();

  constructor(private readonly db: SqliteDatabase) {}

  get(username: string, name: string): PodRecord | undefined {
    const key = cacheKey(username, name);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.db.statement('SELECT * FROM pods WHERE username = ? AND name = ?').get(username, name) as PodRow | undefined;
    const record = row ? freeze(toRecord(row)) : undefined;
    // Bounded: a poll of names that do not exist must not grow it without end.
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, record ?? null);
    return record;
  }

  listForUser(username: string): PodRecord[] {
    return (this.db.statement('SELECT * FROM pods WHERE username = ? ORDER BY name').all(username) as PodRow[]).map(toRecord);
  }

  listActive(): PodRecord[] {
    return (
      this.db.statement("SELECT * FROM pods WHERE phase IN ('scheduled', 'starting', 'running') ORDER BY due_at, created_at").all() as PodRow[]
    ).map(toRecord);
  }

  listAll(): PodRecord[] {
    return (this.db.statement('SELECT * FROM pods ORDER BY username, name').all() as PodRow[]).map(toRecord);
  }

  replace(record: Omit<PodRecord, 'generation'>): number {
    this.cache.delete(cacheKey(record.username, record.name));
    const previous = this.db.statement('SELECT generation FROM pods WHERE username = ? AND name = ?').get(record.username, record.name) as
      | { generation: number }
      | undefined;
    const generation = (previous?.generation ?? 0) + 1;
    this.db
      .statement(
        `INSERT INTO pods (username, name, generation, spec, phase, due_at, created_at, container_id, started_at,
                           finished_at, deadline_at, exit_code, reason, message, warning)
         VALUES (@username, @name, @generation, @spec, @phase, @due_at, @created_at, @container_id, @started_at,
                 @finished_at, @deadline_at, @exit_code, @reason, @message, @warning)
         ON CONFLICT (username, name) DO UPDATE SET generation = excluded.generation, spec = excluded.spec,
           phase = excluded.phase, due_at = excluded.due_at, created_at = excluded.created_at,
           container_id = NULL, started_at = NULL, finished_at = NULL, deadline_at = NULL, exit_code = NULL,
           reason = excluded.reason, message = excluded.message, warning = NULL`,
      )
      .run(toRow({ ...record, generation }));
    return generation;
  }

  update(username: string, name: string, generation: number, changes: PodChanges): boolean {
    const values: Record<string, unknown> = { username, name, generation };
    const set: string[] = [];
    for (const key of Object.keys(changes) as (keyof PodChanges)[]) {
      const [column, write] = COLUMNS[key] as [keyof PodRow, ((value: unknown) => unknown) | undefined];
      set.push(`${column} = @${column}`);
      values[column] = write ? write(changes[key]) : changes[key];
    }
    if (!set.length) return false;
    this.cache.delete(cacheKey(username, name));
    const result = this.db
      .statement(`UPDATE pods SET ${set.join(', ')} WHERE username = @username AND name = @name AND generation = @generation`)
      .run(values);
    return result.changes > 0;
  }

  markNamespace(username: string, at: number): void {
    this.db.statement('INSERT OR IGNORE INTO namespaces (username, created_at) VALUES (?, ?)').run(username, at);
  }

  hasNamespace(username: string): boolean {
    return this.db.statement('SELECT 1 FROM namespaces WHERE username = ?').get(username) !== undefined;
  }
}

const CACHE_LIMIT = 10_000;

function cacheKey(username: string, name: string): string {
  return `${username}\u0000${name}`;
}

/** A cached record is shared by every reader: frozen, so that none can change it for the others. */
function freeze(record: PodRecord): PodRecord {
  deepFreeze(record.spec);
  return Object.freeze(record);
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

function timeText(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : String(ms);
}

function timeOf(text: string | null): number | null {
  return text === null ? null : Number(text);
}

function toRecord(row: PodRow): PodRecord {
  return {
    username: row.username,
    name: row.name,
    generation: row.generation,
    spec: JSON.parse(row.spec) as PodSpec,
    phase: row.phase,
    dueAt: row.due_at,
    createdAt: row.created_at,
    containerId: row.container_id,
    startedAt: timeOf(row.started_at),
    finishedAt: timeOf(row.finished_at),
    deadlineAt: row.deadline_at,
    exitCode: row.exit_code,
    reason: row.reason,
    message: row.message,
    warning: row.warning,
  };
}

function toRow(record: PodRecord): PodRow {
  return {
    username: record.username,
    name: record.name,
    generation: record.generation,
    spec: JSON.stringify(record.spec),
    phase: record.phase,
    due_at: record.dueAt,
    created_at: record.createdAt,
    container_id: record.containerId,
    started_at: timeText(record.startedAt),
    finished_at: timeText(record.finishedAt),
    deadline_at: record.deadlineAt,
    exit_code: record.exitCode,
    reason: record.reason,
    message: record.message,
    warning: record.warning,
  };
}
