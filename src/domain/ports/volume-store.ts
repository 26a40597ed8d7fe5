import type { Readable } from 'node:stream';

/*
 * The volumes' bytes: one directory per (user, volume) that pods mount at /data. Implemented by
 * src/adapters/fs/volume-store.ts, which walks every path one component at a time through open
 * directory descriptors, so that a pod swapping a folder for a symbolic link cannot redirect it.
 *
 * Paths arrive as segments (src/domain/volumes/volume-path.ts has the grammar) plus the text the
 * user gave, for messages. Methods throw SimError with these codes, and nothing else the user
 * caused: FILE_NOT_FOUND (a part of the path does not exist), NOT_A_FILE, ILLEGAL_PATH (a link
 * leading outside the volume), INVALID_PATH (too many links; a file where a folder is needed).
 */

/** One user's volume: `name` is the pod (or pvc) name, "default" for the default volume. */
export interface VolumeRef {
  username: string;
  name: string;
}

/** A regular file of a volume, opened. */
export interface VolumeFile {
  /** The name the user asked for (the last path segment), even when a link inside the volume led elsewhere. */
  name: string;
  /** Bytes, when opened: a stream never gives more. */
  size: number;
  /**
   * The file's first `size` bytes, from the start, for the last time: the stream takes the file
   * over and closes it when it ends or is destroyed (close() then does nothing).
   */
  stream(): Readable;
  /** The whole file as UTF-8 text. */
  readText(): string;
  /** Closes the file unless a stream() took it over; safe to call more than once. */
  close(): void;
}

/** A folder of a volume, opened. */
export interface VolumeDirectory {
  /**
   * The folder's content as a tar stream (links packed as links) plus extra files at its root,
   * after it (an extra file replaces the folder's own of that name when the tar is unpacked).
   */
  pack(extras: { name: string; content: string }[]): Readable;
  close(): void;
}

/** What a listing learns of a regular file without reading it. */
export interface FileFacts {
  name: string;
  /** Relative to the volume root, "/"-separated. */
  relPath: string;
  size: number;
  /** Modification time in epoch milliseconds, as stat gives it (fractional). */
  mtimeMs: number;
  /** Status change time in epoch milliseconds: every write and every change of mtime moves it, and no user can set it. */
  ctimeMs: number;
  /** The inode number. */
  ino: number;
  /**
   * False while the file changed too recently for its times to show a further change: file times
   * advance in coarse ticks (a jiffy, up to 10 ms, on Linux), so a write right after a read can
   * leave them as they were. A hash read now is right, but must not be trusted on the times alone
   * later (Git's "racily clean" entries are the same problem).
   */
  settled: boolean;
}

/**
 * Streams a file's content to `consume`, chunk by chunk; resolves false when the file is gone or
 * has turned into something that is not a regular file meanwhile. A chunk is valid only until
 * `consume` returns (the adapter may reuse its buffer): copy what must be kept.
 */
export type ContentReader = (consume: (chunk: Uint8Array) => void) => Promise<boolean>;

/**
 * What a walk does with each regular file: its listing entry, or null to leave it out. A visitor
 * that can answer at once (a cached hash) answers without a promise: a walk of 100,000 files
 * then makes no promise for them.
 */
export type FileVisitor<F> = (file: FileFacts, read: ContentReader) => F | null | Promise<F | null>;

/** A folder as a walk found it: its files as the visitor made them, and its sub-folders. */
export interface WalkedDirectory<F> {
  name: string;
  /** Modification time in epoch milliseconds. */
  mtimeMs: number;
  directories: WalkedDirectory<F>[];
  files: F[];
}

/** A staged file's destination is a folder in the volume: nothing was moved. */
export class DestinationIsFolder extends Error {
  override name = 'DestinationIsFolder';
  constructor(readonly fileName: string) {
    super(`${fileName} is a folder`);
  }
}

/** The disk under the data directory is full (or over quota): nothing more can be stored. */
export class StorageFull extends Error {
  override name = 'StorageFull';
}

/** Files received outside every volume, moved in only when all of them have arrived. */
export interface StagingArea {
  /**
   * Streams `data` into a new temporary file under `key`. The stream is consumed to its end or
   * error; StorageFull when the disk cannot take it.
   */
  receive(key: string, data: Readable): Promise<void>;
  /**
   * Moves every staged file into the folder at `segments` (created when missing), under the names
   * given. Checks every destination before moving any: DestinationIsFolder leaves all in place.
   */
  commit(volume: VolumeRef, segments: string[], display: string, names: Map<string, string>): void;
  /** Removes whatever is staged; safe to call more than once and after commit. */
  abort(): Promise<void>;
}

/** The port itself. */
export interface VolumeStore {
  /** The volume's directory on the host, for the container's bind mount. */
  hostPath(volume: VolumeRef): string;
  exists(volume: VolumeRef): boolean;
  /** Creates the volume when missing, writable by whatever user a pod runs as. */
  create(volume: VolumeRef): void;
  /**
   * Moves the volume out of reach at once, calls `detached` (nothing of the volume is reachable
   * any more), then removes its content.
   */
  remove(volume: VolumeRef, detached: () => void): Promise<void>;
  /** Bytes and regular files in the volume (links are not followed or counted); a snapshot. */
  usage(volume: VolumeRef): { size: number; fileCount: number };
  /**
   * Walks the volume's regular files and folders (links, sockets, FIFOs and devices are not
   * data). `visit` runs for every regular file; a null answer leaves the file out. The files of
   * one folder are visited concurrently, folders one after another.
   */
  walk<F>(volume: VolumeRef, visit: FileVisitor<F>): Promise<WalkedDirectory<F>>;
  /** Opens a regular file for reading; FILE_NOT_FOUND, NOT_A_FILE, ILLEGAL_PATH. */
  openFile(volume: VolumeRef, segments: string[], display: string): VolumeFile;
  /** Opens an existing folder; FILE_NOT_FOUND when it is missing or not a folder. */
  openDirectory(volume: VolumeRef, segments: string[], display: string): VolumeDirectory;
  /** Removes a file or a whole folder, atomically for the user; false when there was nothing there. */
  removeEntry(volume: VolumeRef, segments: string[], display: string): Promise<boolean>;
  /** A new staging area for one uplink. */
  stage(): StagingArea;
}
