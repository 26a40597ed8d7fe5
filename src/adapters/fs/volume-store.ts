import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import type TarFs from 'tar-fs';
import { tarFs } from '../on-first-use.ts';
import type tarStream from 'tar-stream';
import { SimError } from '../../domain/errors.ts';
import {
  DestinationIsFolder,
  StorageFull,
  type FileFacts,
  type FileVisitor,
  type StagingArea,
  type VolumeDirectory,
  type VolumeFile,
  type VolumeRef,
  type VolumeStore,
  type WalkedDirectory,
} from '../../domain/ports/volume-store.ts';
import { DATA_DIR } from './data-dir-files.ts';
import { isErrno, safeLstat, VolumeRoot, type DirHandle, type OpenedFile } from './volume-root.ts';

/** Reads and writes in 1 MiB pieces: large transfers stay streams without many small syscalls. */
const CHUNK = 1 << 20;

/**
 * Files up to this size are read for hashing synchronously, into one buffer kept for the purpose:
 * a read stream per file allocated a 1 MiB buffer and took four trips through libuv's threads, and
 * a listing of 100,000 small files spent most of its 30 s in the garbage collector and those trips.
 */
const SMALL_FILE = 1 << 16;
const smallFileBuffer = Buffer.allocUnsafe(SMALL_FILE);
const probeByte = Buffer.allocUnsafe(1);

/** FileFacts.settled: how long ago a file's last change must be for its times to show the next one (ticks are at most 10 ms; clocks are not perfectly monotonic). */
const SETTLE_MS = 1000;

/** A walk hands the event loop back after this much synchronous work, so requests are answered meanwhile. */
const WALK_SLICE_MS = 10;
/** How many files of one folder are visited before the walk checks the time. */
const WALK_BATCH = 256;

/**
 * The VolumeStore port on the local file system: DATA_DIR/volumes/USER/NAME, every path walked
 * through open directory descriptors (volume-root.ts). Uplinks are staged in DATA_DIR/tmp, and
 * what is deleted is first moved to DATA_DIR/trash; both are emptied at start, since whatever is
 * there was left by a crash.
 */
export class FsVolumeStore implements VolumeStore {
  private readonly base: string;
  private readonly tmpDir: string;
  private readonly trashDir: string;
  private readonly realRoots = new Map<string, string>();

  constructor(dataDir: string) {
    this.base = path.join(dataDir, DATA_DIR.volumes);
    this.tmpDir = path.join(dataDir, DATA_DIR.staging);
    this.trashDir = path.join(dataDir, DATA_DIR.trash);
    mkdirSync(this.base, { recursive: true, mode: 0o755 });
    // Whatever is here was left by a crash: partial uploads and half-removed folders.
    for (const dir of [this.tmpDir, this.trashDir]) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
  }

  hostPath(volume: VolumeRef): string {
    return path.join(this.base, volume.username, volume.name);
  }

  exists(volume: VolumeRef): boolean {
    return existsSync(this.hostPath(volume));
  }

  create(volume: VolumeRef): void {
    const dir = this.hostPath(volume);
    if (existsSync(dir)) return;
    mkdirSync(dir, { recursive: true });
    // Images may run as a non-root user; /data must be writable to whoever the pod runs as.
    chmodSync(dir, 0o777);
  }

  async remove(volume: VolumeRef, detached: () => void): Promise<void> {
    const trash = path.join(this.trashDir, `volume-${randomUUID()}`);
    this.realRoots.delete(this.hostPath(volume));
    renameSync(this.hostPath(volume), trash);
    detached();
    await rm(trash, { recursive: true, force: true });
  }

  usage(volume: VolumeRef): { size: number; fileCount: number } {
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
      walk(this.hostPath(volume));
    } catch {
      /* changed under our feet by a running pod; the numbers are a snapshot anyway */
    }
    return { size, fileCount };
  }

  async walk<F>(volume: VolumeRef, visit: FileVisitor<F>): Promise<WalkedDirectory<F>> {
    const dir = this.root(volume).openDir([], '/');
    try {
      return await walkDirectory(dir, '', visit);
    } finally {
      dir.close();
    }
  }

  openFile(volume: VolumeRef, segments: string[], display: string): VolumeFile {
    return new OpenVolumeFile(this.root(volume).openFile(segments, display));
  }

  openDirectory(volume: VolumeRef, segments: string[], display: string): VolumeDirectory {
    const dir = this.root(volume).openExistingDir(segments, display);
    return {
      pack: (extras) =>
        // tar-fs walks by path; start it at where the opened folder really is (the /proc link
        // itself would be packed as a link). Entries below are packed as they are, links as links.
        tarFs().pack(realpathSync(dir.self()), {
          dereference: false,
          finalize: false,
          finish: (p: tarStream.Pack) => {
            for (const extra of extras) p.entry({ name: extra.name, mode: 0o644 }, extra.content);
            p.finalize();
          },
        } as TarFs.PackOptions) as unknown as Readable,
      close: () => dir.close(),
    };
  }

  async removeEntry(volume: VolumeRef, segments: string[], display: string): Promise<boolean> {
    let dir: DirHandle;
    try {
      dir = this.root(volume).openExistingDir(segments.slice(0, -1), display);
    } catch (err) {
      if (err instanceof SimError && err.code === 'FILE_NOT_FOUND') return false;
      throw err;
    }
    const trash = path.join(this.trashDir, randomUUID());
    try {
      const name = segments[segments.length - 1]!;
      if (!safeLstat(dir.entry(name))) return false;
      // Moving the entry out of the volume first makes the delete atomic for the user, and
      // the recursive removal then runs where no pod can plant links under it.
      renameSync(dir.entry(name), trash);
    } finally {
      dir.close();
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  stage(): StagingArea {
    return new FsStagingArea(this.tmpDir, (volume) => this.root(volume));
  }

  /**
   * The volume's root, its real path resolved once per volume: a realpath per request was six
   * lstats of every listing and downlink. Only the data directory's own path can hold links, and
   * it does not change while em-sim runs; a removed volume is resolved again.
   */
  private root(volume: VolumeRef): VolumeRoot {
    const host = this.hostPath(volume);
    let real = this.realRoots.get(host);
    if (real === undefined) {
      real = realpathSync(host);
      this.realRoots.set(host, real);
    }
    return new VolumeRoot(real, true);
  }
}

/** Walks one folder: its files are visited side by side, its sub-folders one after another. */
async function walkDirectory<F>(dir: DirHandle, relDir: string, visit: FileVisitor<F>): Promise<WalkedDirectory<F>> {
  // fstat, not lstat of dir.self(): that is /proc's link to the folder, with /proc's times.
  const self = fstatSync(dir.fd, { bigint: true });
  const node: WalkedDirectory<F> = { name: path.basename(dir.realPath), mtimeMs: Number(self.mtimeMs), directories: [], files: [] };
  const pending: Promise<F | null>[] = [];
  const subdirs: string[] = [];
  const now = Date.now();
  let visited = 0;
  let settled = 0;
  try {
    for (const entry of readdirSync(dir.self(), { withFileTypes: true })) {
      // Links, sockets, FIFOs and devices are not listed: only regular files and folders are data.
      if (entry.isDirectory()) subdirs.push(entry.name);
      else if (entry.isFile()) {
        const file = visitFile(dir, entry.name, relDir ? `${relDir}/${entry.name}` : entry.name, now, visit);
        if (file instanceof Promise) pending.push(file);
        else if (file !== null) node.files.push(file);
        // A big folder is visited in batches: each batch's hashing (microtasks, small files read
        // synchronously) is let finish before the time is checked.
        if (++visited % WALK_BATCH === 0) {
          await Promise.all(pending.slice(settled));
          settled = pending.length;
          await yieldIfLong();
        }
      }
    }
    for (const name of subdirs) {
      let child: DirHandle;
      try {
        child = dir.openChild(name);
      } catch {
        continue; // replaced or removed while we listed
      }
      try {
        const sub = await walkDirectory(child, relDir ? `${relDir}/${name}` : name, visit);
        sub.name = name;
        node.directories.push(sub);
      } finally {
        child.close();
      }
    }
    if (pending.length) for (const file of await Promise.all(pending)) if (file !== null) node.files.push(file);
    await yieldIfLong();
    return node;
  } catch (err) {
    // Hashes still under way must settle here: one failing later would go unhandled.
    await Promise.allSettled(pending);
    throw err;
  }
}

/** When a walk last handed the event loop back (one per process: walks interleave anyway). */
let sliceStarted = 0;

/**
 * Files are stat'ed and small ones hashed synchronously: without this, a walk whose files all
 * came from the hash cache or were small would hold the event loop for its whole length.
 */
async function yieldIfLong(): Promise<void> {
  if (performance.now() - sliceStarted <= WALK_SLICE_MS) return;
  await nextTurn();
  sliceStarted = performance.now();
}

function visitFile<F>(dir: DirHandle, name: string, relPath: string, now: number, visit: FileVisitor<F>): F | null | Promise<F | null> {
  // Plain stats: BigIntStats (14 BigInts a file) made a third of a 100,000-file listing garbage
  // collection. Gone meanwhile, or not ours to look at (a folder a pod made unreadable): not listed.
  const stat = safeLstat(dir.entry(name));
  if (!stat?.isFile()) return null;
  const facts: FileFacts = {
    name,
    relPath,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    ino: stat.ino,
    settled: now - stat.ctimeMs > SETTLE_MS,
  };
  return visit(facts, (consume) => {
    if (facts.size > SMALL_FILE) return readContent(dir.entry(name), consume);
    const small = readSmallFile(dir.entry(name), consume);
    return small === 'grew' ? readContent(dir.entry(name), consume) : Promise.resolve(small);
  });
}

/** An open or read error that means the file is gone or is no longer a regular file (a link, folder or FIFO put in its place). */
function goneOrNotAFile(err: unknown): boolean {
  return isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP') || isErrno(err, 'EISDIR') || isErrno(err, 'ENXIO');
}

/**
 * readContent for a file that lstat found small: read synchronously into the shared buffer, which
 * `consume` must be done with when it returns. False when it is gone or is no longer a regular
 * file (fstat of what was opened, so a FIFO or device put in its place is never read). At most
 * SMALL_FILE bytes are read synchronously: a file that has grown past that meanwhile (a pod
 * still writing it) is read by readContent instead, without blocking the event loop. A file
 * replaced by another (a rename over it) is read as it now is; its cached facts are the old
 * file's, so the next listing reads it again.
 */
function readSmallFile(p: string, consume: (chunk: Uint8Array) => void): boolean | 'grew' {
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (goneOrNotAFile(err)) return false;
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    let length = 0;
    for (;;) {
      const n = readSync(fd, smallFileBuffer, length, SMALL_FILE - length, null);
      if (n === 0) break;
      length += n;
      if (length === SMALL_FILE) {
        // Full: one byte more says whether it has grown past what is read synchronously.
        if (readSync(fd, probeByte, 0, 1, null) > 0) return 'grew';
        break;
      }
    }
    consume(smallFileBuffer.subarray(0, length));
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Streams a file to `consume`, never following a link; false when it is gone or not a regular file. */
async function readContent(p: string, consume: (chunk: Uint8Array) => void): Promise<boolean> {
  try {
    // O_NONBLOCK so that a FIFO a pod put there meanwhile cannot hang the listing.
    const handle = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    for await (const chunk of handle.createReadStream({ highWaterMark: CHUNK })) consume(chunk as Buffer);
  } catch (err) {
    if (goneOrNotAFile(err)) return false;
    throw err;
  }
  return true;
}

/** A regular file opened by VolumeRoot.openFile; its size is fstat's at opening. */
class OpenVolumeFile implements VolumeFile {
  readonly name: string;
  readonly size: number;
  private readonly fd: number;
  /** Closed, or handed to a stream that closes it. */
  private released = false;

  constructor(file: OpenedFile) {
    this.fd = file.fd;
    this.name = file.name;
    this.size = file.stat.size;
  }

  stream(): Readable {
    if (this.released) throw new Error(`${this.name}: already closed`);
    this.released = true;
    if (this.size === 0) {
      closeSync(this.fd);
      return Readable.from([]);
    }
    return exactly(this.fd, this.size);
  }

  readText(): string {
    return readFileSync(this.fd, 'utf8');
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/**
 * Exactly the bytes fstat counted, from the start, through `fd` (which the stream closes when it
 * ends or is destroyed): a file that a pod is still writing cannot outgrow what a response
 * announced, and the stream ends on its last read instead of one more to find EOF.
 */
function exactly(fd: number, size: number): Readable {
  return createReadStream('', { fd, start: 0, end: size - 1, highWaterMark: CHUNK });
}

/** Uplinked files in DATA_DIR/tmp until the whole request has arrived. */
class FsStagingArea implements StagingArea {
  private readonly temps = new Map<string, string>();

  constructor(
    private readonly tmpDir: string,
    private readonly rootOf: (volume: VolumeRef) => VolumeRoot,
  ) {}

  async receive(key: string, data: Readable): Promise<void> {
    const temp = path.join(this.tmpDir, `uplink-${randomUUID()}`);
    this.temps.set(key, temp);
    try {
      await pipeline(data, createWriteStream(temp, { flags: 'wx', mode: 0o666, highWaterMark: CHUNK }));
    } catch (err) {
      if (isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT')) throw new StorageFull((err as Error).message);
      throw err;
    }
  }

  commit(volume: VolumeRef, segments: string[], display: string, names: Map<string, string>): void {
    const dir = this.rootOf(volume).openDir(segments, display, { create: true });
    try {
      // Check every destination before moving any, so that a refused request leaves no file behind.
      for (const name of names.values()) if (safeLstat(dir.entry(name))?.isDirectory()) throw new DestinationIsFolder(name);
      for (const [key, name] of names) {
        const temp = this.temps.get(key)!;
        // Readable and writable by whatever user a pod runs as (the umask would take that away).
        chmodSync(temp, 0o666);
        try {
          renameSync(temp, dir.entry(name));
        } catch (err) {
          if (isErrno(err, 'EISDIR') || isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST')) throw new DestinationIsFolder(name);
          throw err;
        }
      }
    } finally {
      dir.close();
    }
  }

  async abort(): Promise<void> {
    await Promise.all([...this.temps.values()].map((temp) => rm(temp, { force: true })));
  }
}
