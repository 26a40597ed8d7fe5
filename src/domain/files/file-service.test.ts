import { describe, expect, it } from 'vitest';
import type { CachedHash, HashRow, HashStore } from '../ports/hash-store.ts';
import type { ContentReader, FileFacts, VolumeRef, VolumeStore, WalkedDirectory } from '../ports/volume-store.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import { FileService } from './file-service.ts';
import { listingJson, type TreeNode } from './file-tree.ts';

/** One volume of one file whose content, stat facts and reads the test controls. */
function oneFileVolume(facts: () => FileFacts, content: () => string) {
  const reads = { count: 0 };
  const store = {
    async walk<F>(_v: VolumeRef, visit: (file: FileFacts, read: ContentReader) => Promise<F | null>): Promise<WalkedDirectory<F>> {
      const read: ContentReader = async (consume) => {
        reads.count++;
        consume(Buffer.from(content()));
        return true;
      };
      const file = await visit(facts(), read);
      return { name: 'default', mtimeMs: 0, directories: [], files: file === null ? [] : [file] };
    },
  } as unknown as VolumeStore;
  const memory = new Map<string, Map<string, CachedHash>>();
  const hashes: HashStore = {
    load: (v) => memory.get(v) ?? new Map(),
    update(v, fresh: HashRow[], gone) {
      const m = memory.get(v) ?? new Map<string, CachedHash>();
      for (const { relPath, ...h } of fresh) m.set(relPath, h);
      for (const p of gone) m.delete(p);
      memory.set(v, m);
    },
    forget: (v) => void memory.delete(v),
  };
  const volumes = { use: () => true } as unknown as VolumeService;
  return { service: new FileService(store, volumes, hashes), reads };
}

const REF: VolumeRef = { username: 'client1', name: 'default' };
const FACTS: FileFacts = { name: 'a.txt', relPath: 'a.txt', size: 8, mtimeMs: 1_700_000_000_123.25, ctimeMs: 1_700_000_000_123.25, ino: 42, settled: true };

describe('FileService.list hash cache', () => {
  it('reads a settled, unchanged file once, and again when only its status change time moved', async () => {
    let text = 'original';
    let facts = FACTS;
    const { service, reads } = oneFileVolume(() => facts, () => text);
    const hashOf = async () => ((await service.list(REF))[0] as { hash: bigint }).hash;
    const before = await hashOf();
    expect(await hashOf()).toBe(before);
    expect(reads.count).toBe(1);
    // Same size and mtime (set back by the writer): only ctime shows the change.
    text = 'ORIGINAL';
    facts = { ...FACTS, ctimeMs: FACTS.ctimeMs + 4 };
    const after = await hashOf();
    expect(after).not.toBe(before);
    expect(reads.count).toBe(2);
    expect(await hashOf()).toBe(after);
    expect(reads.count).toBe(2);
  });

  it('does not trust the times of a file changed just now: a same-size write in the same tick still shows', async () => {
    let text = 'original';
    const { service, reads } = oneFileVolume(() => ({ ...FACTS, settled: false }), () => text);
    const hashOf = async () => ((await service.list(REF))[0] as { hash: bigint }).hash;
    const before = await hashOf();
    // A write in the same timestamp tick: size and every time as they were.
    text = 'ORIGINAL';
    const after = await hashOf();
    expect(after).not.toBe(before);
    expect(reads.count).toBe(2);
  });
});

describe('listingJson', () => {
  it('writes what lossless-json writes, every hash digit and every escape included', async () => {
    const { stringify } = await import('lossless-json');
    const tree: TreeNode[] = [
      {
        type: 'directory',
        name: 'd "quoted" \\ \u2028 é',
        size: '30',
        time: '2026-12-01-15-00',
        contents: [
          { type: 'file', name: 'a\nb', size: '10', time: '2026-12-01-15-00', hash: -9_223_372_036_854_775_808n },
          { type: 'directory', name: 'empty', size: '0', time: '2026-12-01-15-00', contents: [] },
          { type: 'file', name: '\u0001', size: '20', time: '2026-12-01-15-01', hash: 9_007_199_254_740_993n },
        ],
      },
      { type: 'file', name: 'top', size: '0', time: '1970-01-01-00-00', hash: 0n },
    ];
    expect(listingJson('Successfully listed files', tree)).toBe(stringify({ message: 'Successfully listed files', data: tree }));
    expect(listingJson('m', [])).toBe('{"message":"m","data":[]}');
  });
});
