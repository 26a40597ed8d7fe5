import type { Db } from './database.ts';

export interface CachedHash {
  size: number;
  mtimeNs: string;
  ino: string;
  hash: string;
}

export interface HashRow extends CachedHash {
  relPath: string;
}

/** Content hashes of volume files, keyed by volume and path, valid while size, mtime and inode match. */
export class HashCache {
  constructor(private readonly db: Db) {}

  load(volume: string): Map<string, CachedHash> {
    const rows = this.db
      .prepare('SELECT rel_path AS relPath, size, mtime_ns AS mtimeNs, ino, hash FROM file_hashes WHERE volume = ?')
      .all(volume) as HashRow[];
    return new Map(rows.map((r) => [r.relPath, r]));
  }

  /** Stores new hashes and forgets paths that are gone, in one transaction. */
  update(volume: string, fresh: HashRow[], gone: string[]): void {
    if (!fresh.length && !gone.length) return;
    const put = this.db.prepare(
      `INSERT INTO file_hashes (volume, rel_path, size, mtime_ns, ino, hash) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (volume, rel_path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
         ino = excluded.ino, hash = excluded.hash`,
    );
    const drop = this.db.prepare('DELETE FROM file_hashes WHERE volume = ? AND rel_path = ?');
    this.db.transaction(() => {
      for (const row of fresh) put.run(volume, row.relPath, row.size, row.mtimeNs, row.ino, row.hash);
      for (const relPath of gone) drop.run(volume, relPath);
    })();
  }

  forgetVolume(volume: string): void {
    this.db.prepare('DELETE FROM file_hashes WHERE volume = ?').run(volume);
  }
}
