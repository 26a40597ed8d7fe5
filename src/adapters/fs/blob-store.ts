import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLarge, type BlobStore, type WrittenBlob } from '../../domain/ports/blob-store.ts';
import { StorageFull } from '../../domain/ports/volume-store.ts';
import { DATA_DIR } from './data-dir-files.ts';

const KEY = /^[0-9a-f-]{36}$/;

/**
 * The BlobStore port on the data directory: DATA_DIR/blobs/<uuid>. A blob is streamed into
 * DATA_DIR/tmp first and renamed into place once whole (the same file system, so the rename is
 * atomic); keys are made here, never taken from a user, so no name can lead elsewhere.
 */
export class FsBlobStore implements BlobStore {
  private readonly dir: string;
  private readonly staging: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, DATA_DIR.blobs);
    this.staging = path.join(dataDir, DATA_DIR.staging);
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.staging, { recursive: true });
  }

  async write(data: Readable | Uint8Array, maxBytes = Infinity): Promise<WrittenBlob> {
    const key = randomUUID();
    const temp = path.join(this.staging, `blob-${key}`);
    const sha = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new BlobTooLarge(`larger than ${maxBytes} bytes`));
        sha.update(chunk);
        done(null, chunk);
      },
    });
    const out = createWriteStream(temp, { flags: 'wx', flush: true });
    try {
      await pipeline(data instanceof Uint8Array ? Readable.from([data]) : data, count, out);
      renameSync(temp, path.join(this.dir, key));
    } catch (err) {
      // A stream destroyed before its file was opened still opens (creates) it, then closes:
      // remove the file only once it is closed.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      rmSync(temp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new StorageFull((err as Error).message);
      throw err;
    }
    return { key, size, sha256: sha.digest('hex') };
  }

  open(key: string): Readable {
    if (!KEY.test(key)) throw new Error(`not a blob key: ${key}`);
    return createReadStream(path.join(this.dir, key));
  }

  async remove(key: string): Promise<void> {
    if (KEY.test(key)) await rm(path.join(this.dir, key), { force: true });
  }

  async sweep(keep: Set<string>): Promise<number> {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      if (!keep.has(name)) {
        await rm(path.join(this.dir, name), { force: true, recursive: true });
        removed++;
      }
    }
    for (const name of readdirSync(this.staging)) {
      if (name.startsWith('blob-')) await rm(path.join(this.staging, name), { force: true });
    }
    return removed;
  }
}
