import type { Db } from './database.ts';

export type PodPhase = 'scheduled' | 'starting' | 'waiting' | 'running' | 'terminated';

export interface PodRow {
  username: string;
  name: string;
  /** Counts runs of this pod name; containers carry it so a restart can tell runs apart. */
  generation: number;
  spec: string;
  phase: PodPhase;
  /** Simulated epoch ms at which the run is due. */
  due_at: number;
  created_at: number;
  container_id: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Simulated epoch ms at which max_duration runs out. */
  deadline_at: number | null;
  exit_code: number | null;
  reason: string | null;
  message: string | null;
}

/** Pods and their scheduled runs. Every state change is one committed statement. */
export class PodRepo {
  constructor(private readonly db: Db) {}

  get(username: string, name: string): PodRow | undefined {
    return this.db.prepare('SELECT * FROM pods WHERE username = ? AND name = ?').get(username, name) as PodRow | undefined;
  }

  listForUser(username: string): PodRow[] {
    return this.db.prepare('SELECT * FROM pods WHERE username = ? ORDER BY name').all(username) as PodRow[];
  }

  /** Pods that still need the simulator's attention after a restart. */
  listActive(): PodRow[] {
    return this.db
      .prepare("SELECT * FROM pods WHERE phase IN ('scheduled', 'starting', 'running') ORDER BY due_at, created_at")
      .all() as PodRow[];
  }

  listAll(): PodRow[] {
    return this.db.prepare('SELECT * FROM pods ORDER BY username, name').all() as PodRow[];
  }

  /** Records a new run of the pod name, replacing any earlier one; returns its generation. */
  replace(row: Omit<PodRow, 'generation'>): number {
    const previous = this.get(row.username, row.name);
    const generation = (previous?.generation ?? 0) + 1;
    this.db
      .prepare(
        `INSERT INTO pods (username, name, generation, spec, phase, due_at, created_at, container_id, started_at,
                           finished_at, deadline_at, exit_code, reason, message)
         VALUES (@username, @name, @generation, @spec, @phase, @due_at, @created_at, @container_id, @started_at,
                 @finished_at, @deadline_at, @exit_code, @reason, @message)
         ON CONFLICT (username, name) DO UPDATE SET generation = excluded.generation, spec = excluded.spec,
           phase = excluded.phase, due_at = excluded.due_at, created_at = excluded.created_at,
           container_id = NULL, started_at = NULL, finished_at = NULL, deadline_at = NULL, exit_code = NULL,
           reason = excluded.reason, message = excluded.message`,
      )
      .run({ ...row, generation });
    return generation;
  }

  /**
   * Updates a pod only if it is still the given generation, so a late callback of an old run
   * can never overwrite a newer one. Returns whether a row changed.
   */
  update(username: string, name: string, generation: number, fields: Partial<Omit<PodRow, 'username' | 'name' | 'generation'>>): boolean {
    const keys = Object.keys(fields);
    if (!keys.length) return false;
    const set = keys.map((k) => `${k} = @${k}`).join(', ');
    const result = this.db
      .prepare(`UPDATE pods SET ${set} WHERE username = @username AND name = @name AND generation = @generation`)
      .run({ ...fields, username, name, generation });
    return result.changes > 0;
  }

  delete(username: string, name: string): void {
    this.db.prepare('DELETE FROM pods WHERE username = ? AND name = ?').run(username, name);
  }

  deleteUser(username: string): void {
    this.db.prepare('DELETE FROM pods WHERE username = ?').run(username);
    this.db.prepare('DELETE FROM namespaces WHERE username = ?').run(username);
  }

  /** Remembers that the user asked for their namespace (strict mode requires it before ports). */
  markNamespace(username: string, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO namespaces (username, created_at) VALUES (?, ?)').run(username, at);
  }

  hasNamespace(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM namespaces WHERE username = ?').get(username) !== undefined;
  }
}
