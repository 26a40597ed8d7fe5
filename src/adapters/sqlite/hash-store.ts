import type { CachedHash, HashRow, HashStore } from '../../domain/ports/hash-store.ts';
import type { SqliteDatabase } from './database.ts';

// How much stays in memory too, so that a listing reads nothing from SQLite: the most recently
// listed volumes, up to this many, and up to this many files in all (about 200 bytes each).
const VOLUMES_IN_MEMORY = 256;
const FILES_IN_MEMORY = 200_000;

/**
 * The HashStore port in SQLite (table file_hashes), kept across restarts; the most recently listed
 * volumes are also kept in memory, written through, so that listing an unchanged volume touches
 * neither files nor SQLite.
 */
export class SqliteHashStore implements HashStore {
  private readonly memory = new Map<string, Map<string, CachedHash>>();

  constructor(private readonly db: SqliteDatabase) {}

  load(volume: string): Map<string, CachedHash> {
    let hashes = this.memory.get(volume);
    // Most recently used last: the first key is the one to evict.
    this.memory.delete(volume);
    if (hashes) {
      this.memory.set(volume, hashes);
      return hashes;
    }
    const rows = this.db
      .statement('SELECT rel_path AS relPath, size, mtime_ms AS mtimeMs, ctime_ms AS ctimeMs, ino, hash FROM file_hashes WHERE volume = ?')
      .all(volume) as (Omit<HashRow, 'hash'> & { hash: string })[];
    hashes = new Map(rows.map(({ relPath, hash, ...facts }) => [relPath, { ...facts, hash: BigInt(hash) }]));
    this.memory.set(volume, hashes);
    this.trim();
    return hashes;
  }

  update(volume: string, fresh: HashRow[], gone: string[]): void {
    if (!fresh.length && !gone.length) return;
    const put = this.db.statement(
      `INSERT INTO file_hashes (volume, rel_path, size, mtime_ms, ctime_ms, ino, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (volume, rel_path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         ctime_ms = excluded.ctime_ms, ino = excluded.ino, hash = excluded.hash`,
    );
    const drop = this.db.statement('DELETE FROM file_hashes WHERE volume = ? AND rel_path = ?');
    this.db.transaction(() => {
      for (const row of fresh) put.run(volume, row.relPath, row.size, row.mtimeMs, row.ctimeMs, row.ino, row.hash.toString());
      for (const relPath of gone) drop.run(volume, relPath);
    });
    const hashes = this.memory.get(volume);
    if (!hashes) return;
    for (const { relPath, ...hash } of fresh) hashes.set(relPath, hash);
    for (const relPath of gone) hashes.delete(relPath);
    this.trim();
  }

  forget(volume: string): void {
    this.db.statement('DELETE FROM file_hashes WHERE volume = ?').run(volume);
    this.memory.delete(volume);
  }

  /** Forgets the least recently listed volumes while there is too much in memory (never the last one); run when it grows. */
  private trim(): void {
    let files = 0;
    for (const hashes of this.memory.values()) files += hashes.size;
    while (this.memory.size > 1 && (this.memory.size > VOLUMES_IN_MEMORY || files > FILES_IN_MEMORY)) {
      const [oldest, hashes] = this.memory.entries().next().value!;
      files -= hashes.size;
      this.memory.delete(oldest);
    }
  }
}
