import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SimError } from '../errors.ts';
import { DestinationIsFolder, StorageFull, type StagingArea, type VolumeRef } from '../ports/volume-store.ts';
import { parseVolumePath } from '../volumes/volume-path.ts';
import type { VolumeService } from '../volumes/volume-service.ts';

/**
 * One /em/files/uplink (spec section 4): files are staged outside every volume as they arrive and
 * appear in the volume only on commit, all at once; a failed request leaves no file behind.
 */
export class UplinkSession {
  private readonly staged: { key: string; name: string; size: number }[] = [];
  private closed = false;

  constructor(
    private readonly staging: StagingArea,
    private readonly volumes: VolumeService,
  ) {}

  get fileCount(): number {
    return this.staged.length;
  }

  /** Bytes received so far, over every file. */
  get totalBytes(): number {
    return this.staged.reduce((sum, f) => sum + f.size, 0);
  }

  /**
   * Streams one file to the staging area. Its name is the last component of the client's file
   * name, as Django keeps it; INVALID_PATH for a name that is unusable (the stream is then left
   * unread, for the caller to drain); DISK_FULL when the disk cannot take it.
   */
  async receive(filename: string, data: Readable): Promise<void> {
    const name = uploadName(filename);
    const file = { key: randomUUID(), name, size: 0 };
    this.staged.push(file);
    data.on('data', (chunk: Buffer) => {
      file.size += chunk.length;
    });
    try {
      await this.staging.receive(file.key, data);
    } catch (err) {
      if (err instanceof StorageFull) {
        throw new SimError('DISK_FULL', 'The simulator ran out of disk space while storing the upload; nothing was kept. Free space in the data directory and retry.');
      }
      throw err;
    }
  }

  /**
   * Moves every staged file into place under dest_path of the volume (made when missing):
   * NO_FILES when none arrived; INVALID_PATH, ILLEGAL_PATH for dest_path, or a file that would
   * replace a folder.
   */
  commit(ref: VolumeRef, destPath: string | undefined): void {
    if (this.staged.length === 0) throw new SimError('NO_FILES', 'No files were provided for uplink!');
    const segments = parseVolumePath(destPath ?? '', 'dest_path');
    this.volumes.ensure(ref);
    try {
      this.staging.commit(ref, segments, destPath ?? '/', new Map(this.staged.map((f) => [f.key, f.name])));
    } catch (err) {
      if (err instanceof DestinationIsFolder) {
        throw new SimError('INVALID_PATH', `"${[...segments, err.fileName].join('/')}" is a folder in this volume; a file cannot replace it`);
      }
      throw err;
    } finally {
      this.closed = true;
    }
  }

  /** Removes whatever was staged; safe to call more than once and after commit. */
  async abort(): Promise<void> {
    await this.staging.abort();
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function uploadName(filename: string): string {
  // Like Django, keep only the last path component of the client's file name.
  const name = filename.split(/[\\/]/).pop() ?? '';
  if (!name || name === '.' || name === '..') {
    throw new SimError('INVALID_PATH', `file name ${JSON.stringify(filename)} is not a usable file name`);
  }
  if (/[\x00-\x1f\x7f]/.test(name)) throw new SimError('INVALID_PATH', `file name ${JSON.stringify(filename)} contains a control character`);
  if (Buffer.byteLength(name) > 255) throw new SimError('INVALID_PATH', 'a file name is longer than 255 bytes');
  return name;
}
