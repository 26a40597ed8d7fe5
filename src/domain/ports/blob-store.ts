import type { Readable } from 'node:stream';

/*
 * The bytes of namespace files and task artifacts, by key, under the data directory. A blob is
 * written whole or not at all; it is named by the OperationStore once recorded, and one left
 * unnamed by a crash is swept at the next start. Implemented by src/adapters/fs/blob-store.ts.
 */

export interface WrittenBlob {
  key: string;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

export interface BlobStore {
  /**
   * Stores a stream (or bytes) as a new blob. Rejects with StorageFull when the disk cannot take
   * it, or with the stream's own error; nothing is left behind either way.
   */
  write(data: Readable | Uint8Array, maxBytes?: number): Promise<WrittenBlob>;
  /** The blob's content; throws when there is no such blob. */
  open(key: string): Readable;
  remove(key: string): Promise<void>;
  /** Removes every blob not in `keep`; returns how many. */
  sweep(keep: Set<string>): Promise<number>;
}

/** A blob larger than `maxBytes`. */
export class BlobTooLarge extends Error {
  override name = 'BlobTooLarge';
}
