/*
 * Content hashes of volume files, kept across listings and restarts: a listing hashes only what
 * changed. Implemented by src/adapters/sqlite/hash-store.ts (SQLite, with the most recently listed
 * volumes in memory too).
 */

/** A file's hash, valid while its size, modification and status change times and inode are unchanged (FileFacts). */
export interface CachedHash {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** The listing's hash (hashToInt64). */
  hash: bigint;
}

/** A hash with the path (relative to the volume) it belongs to. */
export interface HashRow extends CachedHash {
  relPath: string;
}

/** The port itself. */
export interface HashStore {
  /** The known hashes of a volume ("USER/NAME"), by path. The map is the store's: read it, do not change it. */
  load(volume: string): ReadonlyMap<string, CachedHash>;
  /** Stores new hashes and forgets paths that are gone, at once. */
  update(volume: string, fresh: HashRow[], gone: string[]): void;
  forget(volume: string): void;
}
