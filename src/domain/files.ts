import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, constants, createWriteStream, fstatSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, type BigIntStats } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isErrno, notFound, parseVolumePath, safeLstat, type DirHandle, type VolumeRoot } from '../adapters/fs/safe-path.ts';
import type { HashCache, HashRow } from '../adapters/sqlite/hash-cache.ts';
import { SimError } from './errors.ts';
import type { VolumeRef, VolumeService } from './volumes.ts';

export interface FileNode {
  type: 'file';
  name: string;
  size: string;
  time: string;
  /** First 8 bytes of the content's SHA-256, big-endian, signed. Serialise with every digit. */
  hash: bigint;
}

export interface DirectoryNode {
  type: 'directory';
  name: string;
  size: string;
  time: string;
  contents: TreeNode[];
}

export type TreeNode = FileNode | DirectoryNode;

export interface DownlinkFile {
  fd: number;
  size: number;
  name: string;
}

const HASH_CONCURRENCY = 4;
const READ_CHUNK = 1 << 20;

/** The file API's logic: list with hashes, downlink, delete, and staged uplinks. */
export class FileService {
  private readonly tmpDir: string;
  readonly trashDir: string;

  constructor(
    dataDir: string,
    private readonly volumes: VolumeService,
    private readonly hashes: HashCache,
  ) {
    this.tmpDir = path.join(dataDir, 'tmp');
    this.trashDir = path.join(dataDir, 'trash');
    // Whatever is here was left by a crash: partial uploads and half-removed folders.
    rmSync(this.tmpDir, { recursive: true, force: true });
    rmSync(this.trashDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.trashDir, { recursive: true });
  }

  async list(ref: VolumeRef): Promise<TreeNode[]> {
    const root = this.volumes.openExisting(ref);
    if (!root) return [];
    const volumeKey = `${ref.username}/${ref.name}`;
    const cached = this.hashes.load(volumeKey);
    // The paths known before this walk: a concurrent listing of the same volume may add some
    // meanwhile, which this one must not take for removed files.
    const known = [...cached.keys()];
    const fresh: HashRow[] = [];
    const seen = new Set<string>();
    const limit = semaphore(HASH_CONCURRENCY);
    const dir = root.openDir([], '/');
    let tree: DirectoryNode;
    try {
      tree = await this.walk(dir, '', { cached, fresh, seen, limit });
    } finally {
      dir.close();
    }
    const gone = known.filter((p) => !seen.has(p));
    this.hashes.update(volumeKey, fresh, gone);
    return tree.contents;
  }

  private async walk(
    dir: DirHandle,
    relDir: string,
    state: { cached: Map<string, { size: number; mtimeNs: string; ino: string; hash: string }>; fresh: HashRow[]; seen: Set<string>; limit: Semaphore },
  ): Promise<DirectoryNode> {
    // fstat, not lstat of dir.self(): that is /proc's link to the folder, with /proc's times.
    const self = fstatSync(dir.fd, { bigint: true });
    const node: DirectoryNode = { type: 'directory', name: path.basename(dir.realPath), size: '0', time: formatTime(self), contents: [] };
    const pending: Promise<FileNode | null>[] = [];
    const subdirs: string[] = [];
    for (const entry of readdirSync(dir.self(), { withFileTypes: true })) {
      // Links, sockets, FIFOs and devices are not listed: only regular files and folders are data.
      if (entry.isDirectory()) subdirs.push(entry.name);
      else if (entry.isFile()) pending.push(this.fileNode(dir, entry.name, relDir ? `${relDir}/${entry.name}` : entry.name, state));
    }
    let total = 0n;
    for (const name of subdirs) {
      let child: DirHandle;
      try {
        child = dir.openChild(name);
      } catch {
        continue; // replaced or removed while we listed
      }
      try {
        const sub = await this.walk(child, relDir ? `${relDir}/${name}` : name, state);
        sub.name = name;
        total += BigInt(sub.size);
        node.contents.push(sub);
      } finally {
        child.close();
      }
    }
    for (const file of await Promise.all(pending)) {
      if (!file) continue;
      total += BigInt(file.size);
      node.contents.push(file);
    }
    node.contents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    node.size = total.toString();
    return node;
  }

  private async fileNode(
    dir: DirHandle,
    name: string,
    relPath: string,
    state: { cached: Map<string, { size: number; mtimeNs: string; ino: string; hash: string }>; fresh: HashRow[]; seen: Set<string>; limit: Semaphore },
  ): Promise<FileNode | null> {
    const stat = safeLstatBig(dir.entry(name));
    if (!stat?.isFile()) return null;
    const size = Number(stat.size);
    const mtimeNs = stat.mtimeNs.toString();
    const ino = stat.ino.toString();
    state.seen.add(relPath);
    const hit = state.cached.get(relPath);
    let hash: bigint;
    if (hit && hit.size === size && hit.mtimeNs === mtimeNs && hit.ino === ino) {
      hash = BigInt(hit.hash);
    } else {
      const computed = await state.limit(() => hashFile(dir.entry(name)));
      if (computed === null) {
        state.seen.delete(relPath);
        return null;
      }
      hash = computed;
      state.fresh.push({ relPath, size, mtimeNs, ino, hash: hash.toString() });
    }
    return { type: 'file', name, size: String(size), time: formatTime(stat), hash };
  }

  openForDownlink(ref: VolumeRef, filepath: string): DownlinkFile {
    const segments = parseVolumePath(filepath, 'filepath');
    const root = this.volumes.openExisting(ref);
    if (!root) throw notFound(filepath);
    const file = root.openFile(segments, filepath);
    return { fd: file.fd, size: file.stat.size, name: file.name };
  }

  async delete(ref: VolumeRef, filepath: string): Promise<void> {
    const segments = parseVolumePath(filepath, 'filepath');
    if (!segments.length) {
      throw new SimError('DELETE_FAILED', `filepath "${filepath}" is the volume root; name a file or folder inside it`);
    }
    const nothing = () => new SimError('DELETE_FAILED', `Nothing to delete: "${filepath}" does not exist in this volume`);
    const root = this.volumes.openExisting(ref);
    if (!root) throw nothing();
    let dir: DirHandle;
    try {
      dir = root.openExistingDir(segments.slice(0, -1), filepath);
    } catch (err) {
      if (err instanceof SimError && err.code === 'FILE_NOT_FOUND') throw nothing();
      throw err;
    }
    const trash = path.join(this.trashDir, randomUUID());
    try {
      const name = segments[segments.length - 1]!;
      if (!safeLstat(dir.entry(name))) throw nothing();
      // Moving the entry out of the volume first makes the delete atomic for the user, and
      // the recursive removal then runs where no pod can plant links under it.
      renameSync(dir.entry(name), trash);
    } finally {
      dir.close();
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Starts an uplink: files are staged outside the volume and appear only on commit. */
  beginUplink(): UplinkSession {
    return new UplinkSession(this.tmpDir, this.volumes);
  }
}

interface StagedFile {
  name: string;
  temp: string;
  size: number;
}

export class UplinkSession {
  private readonly staged: StagedFile[] = [];
  private closed = false;

  constructor(
    private readonly tmpDir: string,
    private readonly volumes: VolumeService,
  ) {}

  get fileCount(): number {
    return this.staged.length;
  }

  get totalBytes(): number {
    return this.staged.reduce((sum, f) => sum + f.size, 0);
  }

  /** Streams one file to a temporary file. The stream is consumed even when the name is refused. */
  async receive(filename: string, data: Readable): Promise<void> {
    const name = uploadName(filename);
    const temp = path.join(this.tmpDir, `uplink-${randomUUID()}`);
    const file: StagedFile = { name, temp, size: 0 };
    this.staged.push(file);
    data.on('data', (chunk: Buffer) => {
      file.size += chunk.length;
    });
    await pipeline(data, createWriteStream(temp, { flags: 'wx', mode: 0o666, highWaterMark: READ_CHUNK }));
  }

  /** Moves every staged file into place under dest_path of the volume. */
  commit(ref: VolumeRef, destPath: string | undefined): void {
    const segments = parseVolumePath(destPath ?? '', 'dest_path');
    const root: VolumeRoot = this.volumes.ensure(ref);
    const dir = root.openDir(segments, destPath ?? '/', { create: true });
    const folderInTheWay = (name: string) =>
      new SimError('INVALID_PATH', `"${[...segments, name].join('/')}" is a folder in this volume; a file cannot replace it`);
    try {
      // Check every destination before moving any, so that a refused request leaves no file behind.
      const blocked = this.staged.find((file) => safeLstat(dir.entry(file.name))?.isDirectory());
      if (blocked) throw folderInTheWay(blocked.name);
      for (const file of this.staged) {
        // Readable and writable by whatever user a pod runs as (the umask would take that away).
        chmodSync(file.temp, 0o666);
        try {
          renameSync(file.temp, dir.entry(file.name));
        } catch (err) {
          if (isErrno(err, 'EISDIR') || isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) throw folderInTheWay(file.name);
          throw err;
        }
      }
    } finally {
      dir.close();
      this.closed = true;
    }
  }

  /** Removes whatever was staged; safe to call more than once and after commit. */
  async abort(): Promise<void> {
    await Promise.all(this.staged.map((f) => rm(f.temp, { force: true })));
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

async function hashFile(p: string): Promise<bigint | null> {
  const hash = createHash('sha256');
  try {
    const handle = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    for await (const chunk of handle.createReadStream({ highWaterMark: READ_CHUNK })) hash.update(chunk as Buffer);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP') || isErrno(err, 'EISDIR')) return null;
    throw err;
  }
  return hashToInt64(hash.digest());
}

/** The list endpoint's hash: the first 8 bytes of SHA-256, read as a big-endian signed integer. */
export function hashToInt64(digest: Buffer): bigint {
  return digest.readBigInt64BE(0);
}

function formatTime(stat: BigIntStats): string {
  const d = new Date(Number(stat.mtimeMs));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}

function safeLstatBig(p: string): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

type Semaphore = <T>(task: () => Promise<T>) => Promise<T>;

function semaphore(max: number): Semaphore {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
