import { createHash } from 'node:crypto';
import { SimError } from '../errors.ts';
import type { CachedHash, HashRow, HashStore } from '../ports/hash-store.ts';
import type { ContentReader, FileFacts, VolumeFile, VolumeRef, VolumeStore } from '../ports/volume-store.ts';
import { semaphore, type Semaphore } from '../primitives/semaphore.ts';
import { notFound, parseVolumePath } from '../volumes/volume-path.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import { formatListTime, hashToInt64, toDirectoryNode, type FileNode, type TreeNode } from './file-tree.ts';
import { UplinkSession } from './uplink.ts';

/** How many files of one folder are hashed at once. */
const HASH_CONCURRENCY = 4;

interface ListingState {
  cached: ReadonlyMap<string, CachedHash>;
  fresh: HashRow[];
  seen: Set<string>;
  limit: Semaphore;
}

/**
 * The file API (spec sections 1 to 4): list with hashes, downlink, delete, and staged uplinks.
 * Hashes are cached by path while size, modification and status change times and inode match
 * (HashStore), so a repeated listing reads no file content; a file changed within the last second
 * is read again each time (FileFacts.settled).
 */
export class FileService {
  constructor(
    private readonly store: VolumeStore,
    private readonly volumes: VolumeService,
    private readonly hashes: HashStore,
  ) {}

  /** The volume as a tree (its root's contents); empty when the volume does not exist yet. */
  async list(ref: VolumeRef): Promise<TreeNode[]> {
    if (!this.volumes.use(ref)) return [];
    const volumeKey = `${ref.username}/${ref.name}`;
    const cached = this.hashes.load(volumeKey);
    // The paths known before this walk: a concurrent listing of the same volume may add some
    // meanwhile, which this one must not take for removed files.
    const known = [...cached.keys()];
    const state: ListingState = { cached, fresh: [], seen: new Set(), limit: semaphore(HASH_CONCURRENCY) };
    const walked = await this.store.walk(ref, (file, read) => this.fileNode(file, read, state));
    this.hashes.update(volumeKey, state.fresh, known.filter((p) => !state.seen.has(p)));
    return toDirectoryNode(walked).contents;
  }

  /** Opens a file for /em/files/downlink (INVALID_PATH, ILLEGAL_PATH, FILE_NOT_FOUND, NOT_A_FILE); close it once sent. */
  openForDownlink(ref: VolumeRef, filepath: string): VolumeFile {
    const segments = parseVolumePath(filepath, 'filepath');
    if (!this.volumes.use(ref)) throw notFound(filepath);
    return this.store.openFile(ref, segments, filepath);
  }

  /** Deletes a file or a whole folder (/em/files/delete): DELETE_FAILED when there is nothing to delete. */
  async delete(ref: VolumeRef, filepath: string): Promise<void> {
    const segments = parseVolumePath(filepath, 'filepath');
    if (!segments.length) {
      throw new SimError('DELETE_FAILED', `filepath "${filepath}" is the volume root; name a file or folder inside it`);
    }
    const removed = this.volumes.use(ref) && (await this.store.removeEntry(ref, segments, filepath));
    if (!removed) throw new SimError('DELETE_FAILED', `Nothing to delete: "${filepath}" does not exist in this volume`);
  }

  /** Starts an uplink: files are staged outside the volume and appear only on commit. */
  beginUplink(): UplinkSession {
    return new UplinkSession(this.store.stage(), this.volumes);
  }

  /** A file's entry: at once from the cache when its facts match, else once its content is hashed. */
  private fileNode(file: FileFacts, read: ContentReader, state: ListingState): FileNode | null | Promise<FileNode | null> {
    state.seen.add(file.relPath);
    const hit = state.cached.get(file.relPath);
    if (hit && hit.size === file.size && hit.mtimeMs === file.mtimeMs && hit.ctimeMs === file.ctimeMs && hit.ino === file.ino) {
      return fileEntry(file, hit.hash);
    }
    return this.hashedNode(file, read, state);
  }

  private async hashedNode(file: FileFacts, read: ContentReader, state: ListingState): Promise<FileNode | null> {
    const hash = await state.limit(async () => {
      const sha = createHash('sha256');
      return (await read((chunk) => sha.update(chunk))) ? hashToInt64(sha.digest()) : null;
    });
    if (hash === null) {
      // Gone, or no longer a regular file, since the folder was read.
      state.seen.delete(file.relPath);
      return null;
    }
    // A file that changed just now is hashed on every listing until its times can show a change.
    if (file.settled) state.fresh.push({ relPath: file.relPath, size: file.size, mtimeMs: file.mtimeMs, ctimeMs: file.ctimeMs, ino: file.ino, hash });
    return fileEntry(file, hash);
  }
}

/** A file's entry in the listing. */
function fileEntry(file: FileFacts, hash: bigint): FileNode {
  return { type: 'file', name: file.name, size: String(file.size), time: formatListTime(file.mtimeMs), hash };
}
