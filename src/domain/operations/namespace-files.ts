import type { Readable } from 'node:stream';
import { SimError } from '../errors.ts';
import { BlobTooLarge, type BlobStore } from '../ports/blob-store.ts';
import type { Clock } from '../ports/clock.ts';
import { NamespacePathConflict, type NamespaceFileVersion, type OperationStore } from '../ports/operation-store.ts';
import { StorageFull } from '../ports/volume-store.ts';
import { normaliseNamespacePath } from './check-operation.ts';

const NAMESPACE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,149}$/;

/** One file of a namespace as listed: its latest version first, every version kept. */
export interface NamespaceFileInfo {
  path: string;
  /** The latest version's number and bytes. */
  version: number;
  size: number;
  sha256: string;
  updated: string;
  versions: { version: number; size: number; sha256: string; created: string }[];
}

/**
 * A user's namespace file areas (operations-decisions.md: the files on the ground that uplinks read
 * and downlinks write, versioned as the provider's dashboard keeps them). Each user has their own
 * namespaces; nobody sees another's. Bytes live in the BlobStore, versions in the OperationStore.
 */
export class NamespaceFiles {
  constructor(
    private readonly store: OperationStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    /** The largest file accepted by an upload, bytes. */
    private readonly maxBytes: number,
  ) {}

  /** INVALID_PARAMETER for a name that is not a namespace. */
  static checkNamespace(namespace: string): string {
    if (!NAMESPACE.test(namespace)) {
      throw new SimError('INVALID_PARAMETER', `"${namespace}" is not a namespace: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 150 characters`);
    }
    return namespace;
  }

  /** Every file of the namespace with its versions, by path. */
  list(username: string, namespace: string): NamespaceFileInfo[] {
    const byPath = new Map<string, NamespaceFileVersion[]>();
    for (const v of this.store.namespaceFiles(username, NamespaceFiles.checkNamespace(namespace))) {
      byPath.set(v.path, [...(byPath.get(v.path) ?? []), v]);
    }
    return [...byPath.values()].map((versions) => {
      const latest = versions[versions.length - 1]!;
      return {
        path: latest.path,
        version: latest.version,
        size: latest.size,
        sha256: latest.sha256,
        updated: new Date(latest.createdAt).toISOString(),
        versions: versions.map((v) => ({ version: v.version, size: v.size, sha256: v.sha256, created: new Date(v.createdAt).toISOString() })),
      };
    });
  }

  /**
   * Stores a new version of a path: INVALID_PATH / ILLEGAL_PATH for the path, MAX_UPLINK_SIZE_EXCEEDED
   * past the limit, DISK_FULL; nothing is kept when it fails.
   */
  async upload(username: string, namespace: string, rawPath: string, data: Readable): Promise<NamespaceFileVersion> {
    NamespaceFiles.checkNamespace(namespace);
    const path = normaliseNamespacePath(rawPath, 'path');
    if (path === '/') throw new SimError('INVALID_PATH', 'path names the namespace root; give a file path such as /vlms.py');
    let written;
    try {
      written = await this.blobs.write(data, this.maxBytes);
    } catch (err) {
      if (err instanceof BlobTooLarge) throw new SimError('MAX_UPLINK_SIZE_EXCEEDED', `The file is larger than ${this.maxBytes} bytes (limits.uplink_max_bytes); nothing was kept`);
      if (err instanceof StorageFull) throw new SimError('DISK_FULL', 'The simulator ran out of disk space while storing the file; nothing was kept');
      throw err;
    }
    try {
      return this.store.addNamespaceFiles(username, namespace, [{ path, size: written.size, sha256: written.sha256, blob: written.key }], this.clock.now())[0]!;
    } catch (err) {
      await this.blobs.remove(written.key);
      if (err instanceof NamespacePathConflict) throw new SimError('INVALID_PATH', `${err.message}; nothing was kept`);
      throw err;
    }
  }

  /** A version of a file (the latest by default): FILE_NOT_FOUND when there is none. */
  open(username: string, namespace: string, rawPath: string, version?: number): { file: NamespaceFileVersion; stream: Readable } {
    const path = normaliseNamespacePath(rawPath, 'path');
    const file = this.store.namespaceFile(username, NamespaceFiles.checkNamespace(namespace), path, version);
    if (!file) {
      throw new SimError('FILE_NOT_FOUND', `${version === undefined ? '' : `Version ${version} of `}"${path}" does not exist in namespace "${namespace}"`);
    }
    return { file, stream: this.blobs.open(file.blob) };
  }
}
