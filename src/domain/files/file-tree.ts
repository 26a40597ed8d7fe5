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
  // Files of one listing mostly share their minute: the last one's text is kept.
  const minute = Math.floor(ms / 60_000);
  if (minute === lastMinute) return lastText;
  lastMinute = minute;
  return (lastText = formatMinute(ms));
}

let lastMinute = NaN;
let lastText = '';

function formatMinute(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}

/** A walked folder as the list endpoint shows it: sizes summed, entries sorted by name (byte order). */
export function toDirectoryNode(walked: WalkedDirectory<FileNode>): DirectoryNode {
  const node: DirectoryNode = { type: 'directory', name: walked.name, size: '0', time: formatListTime(walked.mtimeMs), contents: [] };
  // Numbers add bytes exactly up to 8 PiB.
  let total = 0;
  for (const dir of walked.directories) {
    const sub = toDirectoryNode(dir);
    total += Number(sub.size);
    node.contents.push(sub);
  }
  for (const file of walked.files) {
    total += Number(file.size);
    node.contents.push(file);
  }
  node.contents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  node.size = total.toString();
  return node;
}

/**
 * The list endpoint's body, {"message", "data"} with `data` the tree, as JSON.stringify would write
 * it but with each hash as a JSON number of every digit (JSON.stringify refuses a bigint). Written
 * directly: lossless-json took half a second for a listing of 100,000 files, and the tree has two
 * fixed shapes. Names go through JSON.stringify, so any character is escaped as it would be.
 */
export function listingJson(message: string, tree: TreeNode[]): string {
  const parts: string[] = [`{"message":${JSON.stringify(message)},"data":[`];
  writeNodes(tree, parts);
  parts.push(']}');
  return parts.join('');
}

function writeNodes(nodes: TreeNode[], parts: string[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const head = `${i ? ',' : ''}{"type":"${node.type}","name":${JSON.stringify(node.name)},"size":${JSON.stringify(node.size)},"time":${JSON.stringify(node.time)},`;
    if (node.type === 'file') {
      parts.push(`${head}"hash":${node.hash}}`);
    } else {
      parts.push(`${head}"contents":[`);
      writeNodes(node.contents, parts);
      parts.push(']}');
    }
  }
}
