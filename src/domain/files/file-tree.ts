import type { WalkedDirectory } from '../ports/volume-store.ts';

/*
 * The tree /em/files/list answers with (spec section 1): sizes as strings of bytes, times as
 * YYYY-MM-DD-HH-MM in UTC, hashes as the first 8 bytes of the content's SHA-256.
 */

export interface FileNode {
  type: 'file';
  name: string;
  /** Bytes, as a decimal string. */
  size: string;
  /** Modification time, "YYYY-MM-DD-HH-MM" in UTC. */
  time: string;
  /** First 8 bytes of the content's SHA-256, big-endian, signed. Serialise with every digit. */
  hash: bigint;
}

/** A folder of the listing, with everything below it. */
export interface DirectoryNode {
  type: 'directory';
  name: string;
  /** The sum of the sizes below, as a decimal string. */
  size: string;
  time: string;
  contents: TreeNode[];
}

/** An entry of the listing. */
export type TreeNode = FileNode | DirectoryNode;

/** The list endpoint's hash: the first 8 bytes of SHA-256, read as a big-endian signed integer. */
export function hashToInt64(digest: Uint8Array): bigint {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).readBigInt64BE(0);
}

/** "YYYY-MM-DD-HH-MM" in UTC, the list endpoint's time format. */
export function formatListTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}

/** A walked folder as the list endpoint shows it: sizes summed, entries sorted by name (byte order). */
export function toDirectoryNode(walked: WalkedDirectory<FileNode>): DirectoryNode {
  const node: DirectoryNode = { type: 'directory', name: walked.name, size: '0', time: formatListTime(walked.mtimeMs), contents: [] };
  let total = 0n;
  for (const dir of walked.directories) {
    const sub = toDirectoryNode(dir);
    total += BigInt(sub.size);
    node.contents.push(sub);
  }
  for (const file of walked.files) {
    total += BigInt(file.size);
    node.contents.push(file);
  }
  node.contents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  node.size = total.toString();
  return node;
}
