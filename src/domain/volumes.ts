import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { VolumeRoot } from '../adapters/fs/safe-path.ts';
import type { Db } from '../adapters/sqlite/database.ts';
import type { Clock } from './clock.ts';

export interface VolumeRef {
  username: string;
  /** The pod (or pvc) name the volume belongs to; "default" for the user's default volume. */
  name: string;
  dir: string;
}

export interface VolumeInfo {
  name: string;
  createdAt: number;
  lastUsedAt: number;
  size: number;
  fileCount: number;
}

/**
 * Maps (user, pod name) to a directory: <data>/volumes/<user>/<name>. A volume comes into being
 * on first write (uplink or a pod run); reading one that does not exist yet reads as empty.
 */
export class VolumeService {
  readonly base: string;
  private readonly lastTouch = new Map<string, number>();

  constructor(
    dataDir: string,
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.base = path.join(dataDir, 'volumes');
    mkdirSync(this.base, { recursive: true, mode: 0o755 });
  }

  ref(username: string, name: string): VolumeRef {
    return { username, name, dir: path.join(this.base, username, name) };
  }

  /** The volume's root for reading, or null when the volume was never created. */
  openExisting(ref: VolumeRef): VolumeRoot | null {
    if (!existsSync(ref.dir)) return null;
    this.touch(ref);
    return new VolumeRoot(ref.dir);
  }

  /** The volume's root, created (and recorded) when missing. */
  ensure(ref: VolumeRef): VolumeRoot {
    if (!existsSync(ref.dir)) {
      mkdirSync(ref.dir, { recursive: true });
      // Images may run as a non-root user; /data must be writable to whoever the pod runs as.
      chmodSync(ref.dir, 0o777);
    }
    const now = this.clock.now();
    this.db
      .prepare(
        `INSERT INTO volumes (username, name, created_at, last_used_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (username, name) DO UPDATE SET last_used_at = excluded.last_used_at`,
      )
      .run(ref.username, ref.name, now, now);
    return new VolumeRoot(ref.dir);
  }

  /** The user's volumes with their size and file count (links are not followed or counted). */
  list(username: string): VolumeInfo[] {
    const rows = this.db
      .prepare('SELECT name, created_at AS createdAt, last_used_at AS lastUsedAt FROM volumes WHERE username = ? ORDER BY name')
      .all(username) as { name: string; createdAt: number; lastUsedAt: number }[];
    return rows
      .map((row) => ({ ...row, ref: this.ref(username, row.name) }))
      .filter((row) => existsSync(row.ref.dir))
      .map((row) => ({ name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, ...usage(row.ref.dir) }));
  }

  exists(ref: VolumeRef): boolean {
    return existsSync(ref.dir);
  }

  /** Moves the volume out of reach at once, then removes it; forgets its record. */
  async remove(ref: VolumeRef, trashDir: string): Promise<void> {
    const trash = path.join(trashDir, `volume-${randomUUID()}`);
    renameSync(ref.dir, trash);
    this.db.prepare('DELETE FROM volumes WHERE username = ? AND name = ?').run(ref.username, ref.name);
    this.lastTouch.delete(`${ref.username}/${ref.name}`);
    await rm(trash, { recursive: true, force: true });
  }

  private touch(ref: VolumeRef): void {
    // last_used_at feeds /em/pvc/list; minute precision is plenty and spares a write per request.
    const key = `${ref.username}/${ref.name}`;
    const now = this.clock.now();
    if (now - (this.lastTouch.get(key) ?? 0) < 60_000) return;
    this.lastTouch.set(key, now);
    this.db.prepare('UPDATE volumes SET last_used_at = ? WHERE username = ? AND name = ?').run(now, ref.username, ref.name);
  }
}

function usage(dir: string): { size: number; fileCount: number } {
  let size = 0;
  let fileCount = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        fileCount += 1;
        size += lstatSync(full).size;
      }
    }
  };
  try {
    walk(dir);
  } catch {
    /* changed under our feet by a running pod; the numbers are a snapshot anyway */
  }
  return { size, fileCount };
}
