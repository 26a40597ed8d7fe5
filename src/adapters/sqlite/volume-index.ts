import type { VolumeIndex, VolumeRecord } from '../../domain/ports/volume-index.ts';
import type { VolumeRef } from '../../domain/ports/volume-store.ts';
import type { SqliteDatabase } from './database.ts';

/** The VolumeIndex port in SQLite (table volumes). */
export class SqliteVolumeIndex implements VolumeIndex {
  constructor(private readonly db: SqliteDatabase) {}

  record(volume: VolumeRef, at: number): void {
    this.db
      .statement(
        `INSERT INTO volumes (username, name, created_at, last_used_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (username, name) DO UPDATE SET last_used_at = excluded.last_used_at`,
      )
      .run(volume.username, volume.name, at, at);
  }

  touch(volume: VolumeRef, at: number): void {
    this.db.statement('UPDATE volumes SET last_used_at = ? WHERE username = ? AND name = ?').run(at, volume.username, volume.name);
  }

  list(username: string): VolumeRecord[] {
    return this.db
      .statement('SELECT name, created_at AS createdAt, last_used_at AS lastUsedAt FROM volumes WHERE username = ? ORDER BY name')
      .all(username) as VolumeRecord[];
  }

  forget(volume: VolumeRef): void {
    this.db.statement('DELETE FROM volumes WHERE username = ? AND name = ?').run(volume.username, volume.name);
  }
}
