import type { VolumeRef } from './volume-store.ts';

/*
 * The record of every volume: when it was made and last used (/em/pvc/list). Implemented by
 * src/adapters/sqlite/volume-index.ts.
 */

export interface VolumeRecord {
  name: string;
  /** Simulated epoch milliseconds. */
  createdAt: number;
  lastUsedAt: number;
}

/** The port itself. */
export interface VolumeIndex {
  /** Records the volume as made (if new) and used at `at`. */
  record(volume: VolumeRef, at: number): void;
  /** Updates when the volume was last used. */
  touch(volume: VolumeRef, at: number): void;
  /** The user's recorded volumes, by name. */
  list(username: string): VolumeRecord[];
  forget(volume: VolumeRef): void;
}
