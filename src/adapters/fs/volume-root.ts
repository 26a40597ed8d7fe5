import { closeSync, constants, existsSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import { SimError } from '../../domain/errors.ts';
import { notFound } from '../../domain/volumes/volume-path.ts';

/*
 * Paths inside a volume are walked one component at a time, each directory opened with
 * O_NOFOLLOW and the next looked up through /proc/self/fd/<fd>/<name>. That is openat() by
 * another name: a pod that swaps a folder for a symbolic link between our check and our use
 * cannot redirect us, because we never hand the kernel a path string it could re-resolve.
 * Where /proc is missing (macOS), the walk falls back to realpath checks on plain paths.
 */

const PROC_FD = existsSync('/proc/self/fd');
const MAX_LINK_HOPS = 40;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

function outside(display: string): SimError {
  return new SimError('ILLEGAL_PATH', `"${display}" leads outside your volume through a symbolic link; links out of a volume are never followed`);
}

/** An open directory that is known to lie inside the volume. Close it when done. */
export class DirHandle {
  constructor(
    readonly fd: number,
    /** Where the directory was when opened; for messages and the no-/proc fallback only. */
    readonly realPath: string,
    readonly segments: string[],
  ) {}

  /** A path naming `name` inside this directory that the kernel resolves through the fd. */
  entry(name: string): string {
    return PROC_FD ? `/proc/self/fd/${this.fd}/${name}` : path.join(this.realPath, name);
  }

  /** Opens a sub-folder without following a link; throws ELOOP/ENOTDIR/ENOENT as the kernel does. */
  openChild(name: string): DirHandle {
    return new DirHandle(openSync(this.entry(name), O_DIR), path.join(this.realPath, name), [...this.segments, name]);
  }

  self(): string {
    return PROC_FD ? `/proc/self/fd/${this.fd}` : this.realPath;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A regular file opened for reading, with its fstat. */
export interface OpenedFile {
  fd: number;
  stat: Stats;
  name: string;
}

/** A volume's root directory: opens folders and files inside it without ever leaving it. */
export class VolumeRoot {
  readonly root: string;

  /** `root` is resolved with realpath unless `resolved` says it is real already. */
  constructor(root: string, resolved = false) {
    this.root = resolved ? root : realpathSync(root);
  }

  /**
   * Opens the directory at `segments`, creating missing folders when `create` is set. Links
   * whose target stays inside the volume are followed; any other link is ILLEGAL_PATH.
   */
  openDir(segments: string[], display: string, options: { create?: boolean } = {}): DirHandle {
    let current = segments;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const result = this.walk(current, display, options.create ?? false);
      if (result instanceof DirHandle) return result;
      current = result.resolved;
    }
    throw new SimError('INVALID_PATH', `"${display}" has too many levels of symbolic links`);
  }

  /**
   * Opens a regular file for reading without following a link at its last component, except a
   * link that resolves inside the volume. Throws FILE_NOT_FOUND or NOT_A_FILE as fits.
   */
  openFile(segments: string[], display: string): OpenedFile {
    if (!segments.length) throw new SimError('NOT_A_FILE', `"${display}" is the volume root, not a file`);
    // The name the user asked for, even when a link inside the volume leads to another.
    const asked = segments[segments.length - 1]!;
    let current = segments;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const dir = this.openExistingDir(current.slice(0, -1), display);
      const name = current[current.length - 1]!;
      try {
        // O_NONBLOCK so that a FIFO a pod left behind cannot hang the request.
        const fd = openSync(dir.entry(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        const stat = fstatSync(fd);
        if (!stat.isFile()) {
          closeSync(fd);
          throw new SimError('NOT_A_FILE', `"${display}" is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}; give the path of a file`);
        }
        return { fd, stat, name: asked };
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw notFound(display);
        if (isErrno(err, 'ELOOP') || isErrno(err, 'EMLINK')) {
          current = this.followLink(dir, name, [], display);
          continue;
        }
        throw err;
      } finally {
        dir.close();
      }
    }
    throw new SimError('INVALID_PATH', `"${display}" has too many levels of symbolic links`);
  }

  /** Opens an existing directory; a missing one is FILE_NOT_FOUND. */
  openExistingDir(segments: string[], display: string): DirHandle {
    try {
      return this.openDir(segments, display);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw notFound(display);
      throw err;
    }
  }

  private walk(segments: string[], display: string, create: boolean): DirHandle | { resolved: string[] } {
    let dir = new DirHandle(openSync(this.root, O_DIR), this.root, []);
    for (let i = 0; i < segments.length; i++) {
      const name = segments[i]!;
      try {
        let created = false;
        if (create) {
          try {
            mkdirSync(dir.entry(name));
            created = true;
          } catch (err) {
            if (!isErrno(err, 'EEXIST')) throw err;
          }
        }
        const fd = openSync(dir.entry(name), O_DIR);
        // Pods may run as any user and must be able to write here; fchmod acts on what we
        // opened, never on whatever a path might point to by now.
        if (created) fchmodSync(fd, 0o777);
        const next = new DirHandle(fd, path.join(dir.realPath, name), segments.slice(0, i + 1));
        dir.close();
        dir = next;
      } catch (err) {
        if (isErrno(err, 'ELOOP') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EMLINK')) {
          const stat = safeLstat(dir.entry(name));
          if (stat?.isSymbolicLink()) {
            const resolved = this.followLink(dir, name, segments.slice(i + 1), display);
            dir.close();
            return { resolved };
          }
          dir.close();
          if (create) throw new SimError('INVALID_PATH', `"${display}": "${segments.slice(0, i + 1).join('/')}" is a file, not a folder`);
          throw err;
        }
        dir.close();
        throw err;
      }
    }
    return dir;
  }

  /** Resolves a link to segments inside the volume, or refuses it. */
  private followLink(dir: DirHandle, name: string, rest: string[], display: string): string[] {
    let target: string;
    try {
      target = realpathSync(dir.entry(name));
    } catch {
      // A dangling link: it cannot be opened, and a path through it does not exist. Where it
      // would lead still decides the answer, as it does for a link whose target exists.
      if (!this.contains(danglingTarget(dir, name))) throw outside(display);
      throw notFound(display);
    }
    if (!this.contains(target)) throw outside(display);
    const inside = path.relative(this.root, target);
    return [...(inside ? inside.split(path.sep) : []), ...rest];
  }

  private contains(target: string): boolean {
    return target === this.root || target.startsWith(this.root + path.sep);
  }
}

/**
 * Where a dangling link points: its text taken from its folder, the part that exists resolved
 * with realpath and the missing rest appended. Used only to choose between 403 and 404.
 */
function danglingTarget(dir: DirHandle, name: string): string {
  let p: string;
  try {
    p = path.resolve(realpathSync(dir.self()), readlinkSync(dir.entry(name)));
  } catch {
    return dir.realPath; // gone altogether: nothing to follow, so nothing outside either
  }
  const missing: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(p), ...missing);
    } catch {
      const up = path.dirname(p);
      if (up === p) return p;
      missing.unshift(path.basename(p));
      p = up;
    }
  }
}

/** Whether err is a Node system error with this code (ENOENT, ELOOP, …). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** lstat, or undefined when the entry does not exist (or cannot be read). */
export function safeLstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
