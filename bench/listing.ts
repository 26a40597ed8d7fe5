import { randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './lib/proc.ts';
import { result, type BenchResult } from './lib/result.ts';
import { startBenchSim, type BenchSim } from './lib/sim.ts';
import { mbPerSecond, median, round } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const FOLDERS = 100;
const PER_FOLDER = 100;
const MIN_SIZE = 10 * 1024;
const MAX_SIZE = 100 * 1024;
/** First listings are measured on this many volumes holding hard links to the same files. */
const FIRST_REPS = 3;
const REPEAT_REPS = 5;

/**
 * 4. Listing 10,000 files (10–100 KiB) in 100 folders, made directly on disk in the volume. The
 * first listing hashes every file: its rate (MB/s) is compared with sha256sum over the same
 * files. A repeat listing finds every hash in the cache: its time is compared with a bare stat
 * walk (find -printf of size, mtime and inode).
 */
export async function listing(ctx: BenchContext): Promise<BenchResult[]> {
  const sim = await startBenchSim();
  try {
    const root = sim.volumeDir();
    const bytes = makeTree(root);
    ctx.log(`listing: made ${FOLDERS * PER_FOLDER} files, ${round(bytes / 1e6, 0)} MB, in ${FOLDERS} folders`);
    // More volumes holding hard links to the same files: each one's first listing hashes them all
    // again (the cache is per volume), over the same cached pages.
    const volumes = ['default'];
    for (let i = 1; i < FIRST_REPS; i++) {
      const name = `copy${i}`;
      await run('cp', ['-al', root, sim.volumeDir(name)]);
      volumes.push(name);
    }

    const shaRuns: number[] = [];
    const firstRuns: number[] = [];
    for (const volume of volumes) {
      const sha = await run('sh', ['-c', `find "${sim.volumeDir(volume)}" -type f -print0 | xargs -0 sha256sum > /dev/null`]);
      const first = await timedList(sim, volume);
      shaRuns.push(mbPerSecond(bytes, sha.ms));
      firstRuns.push(mbPerSecond(bytes, first));
      ctx.log(
        `listing volume ${volume}: first listing ${round(first, 0)} ms (${round(mbPerSecond(bytes, first), 0)} MB/s); ` +
          `sha256sum ${round(sha.ms, 0)} ms (${round(mbPerSecond(bytes, sha.ms), 0)} MB/s)`,
      );
    }

    const repeatRuns: number[] = [];
    const walkRuns: number[] = [];
    for (let i = 0; i < REPEAT_REPS; i++) {
      repeatRuns.push(await timedList(sim, 'default'));
      walkRuns.push((await run('sh', ['-c', `find "${root}" -printf '%s %T@ %i\\n' > /dev/null`])).ms);
    }
    ctx.log(`listing: repeat listings ${repeatRuns.map((ms) => round(ms, 0)).join(', ')} ms; stat walk ${walkRuns.map((ms) => round(ms, 0)).join(', ')} ms`);
    return [
      result('list10k.first.rate', median(firstRuns), 'MB/s', median(shaRuns), { ratioAtLeast: 0.5 }, `median of ${FIRST_REPS}; baseline: find | xargs sha256sum`),
      result('list10k.repeat.time', median(repeatRuns), 'ms', median(walkRuns), { below: 300 }, `median of ${REPEAT_REPS}; baseline: find -printf size, mtime, inode`),
    ];
  } finally {
    await sim.close();
  }
}

/**
 * 4b. The same at the scale of a class's dataset (issue 16): 100,000 files of 1–4 KiB in 1,000
 * folders. The first listing (hashing everything) against sha256sum over the same files; the
 * repeat (every hash cached) against the bare stat walk. Targets: what a user waits for without
 * giving up, a first listing within 3× sha256sum and a repeat under 2 s.
 */
export async function listingAtScale(ctx: BenchContext): Promise<BenchResult[]> {
  const sim = await startBenchSim();
  try {
    const root = sim.volumeDir();
    const t = performance.now();
    const bytes = makeTree(root, 1000, 100, 1024, 4096);
    ctx.log(`listing at scale: made 100,000 files, ${round(bytes / 1e6, 0)} MB, in 1,000 folders in ${round((performance.now() - t) / 1000, 1)} s`);
    const sha = await run('sh', ['-c', `find "${root}" -type f -print0 | xargs -0 sha256sum > /dev/null`]);
    const first = await timedList(sim, 'default', 100_000);
    const repeats: number[] = [];
    const walks: number[] = [];
    for (let i = 0; i < 3; i++) {
      repeats.push(await timedList(sim, 'default', 100_000));
      walks.push((await run('sh', ['-c', `find "${root}" -printf '%s %T@ %i\\n' > /dev/null`])).ms);
    }
    ctx.log(`listing at scale: first ${round(first, 0)} ms (sha256sum ${round(sha.ms, 0)} ms); repeats ${repeats.map((ms) => round(ms, 0)).join(', ')} ms; stat walk ${walks.map((ms) => round(ms, 0)).join(', ')} ms`);
    return [
      result('list100k.first.time', first, 'ms', sha.ms, { ratioAtMost: 3 }, 'baseline: find | xargs sha256sum over the same files'),
      result('list100k.repeat.time', median(repeats), 'ms', median(walks), { below: 2000 }, 'median of 3; baseline: find -printf size, mtime, inode'),
    ];
  } finally {
    await sim.close();
  }
}

async function timedList(sim: BenchSim, volume: string, expected = FOLDERS * PER_FOLDER): Promise<number> {
  const started = performance.now();
  const res = await sim.fetch(volume === 'default' ? '/em/files/list' : `/em/files/list?pod_name=${volume}`);
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`list ${volume}: ${res.status} ${text.slice(0, 500)}`);
  const files = text.match(/"type":\s*"file"/g)?.length ?? 0;
  if (files !== expected) throw new Error(`list ${volume}: ${files} files listed, expected ${expected}`);
  return ms;
}

/** `folders` folders of `perFolder` files of random content and size; returns the total size. */
function makeTree(root: string, folders = FOLDERS, perFolder = PER_FOLDER, minSize = MIN_SIZE, maxSize = MAX_SIZE): number {
  const pool = Buffer.allocUnsafe(4 << 20);
  randomFillSync(pool);
  let seed = 42;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  let total = 0;
  for (let d = 0; d < folders; d++) {
    const dir = path.join(root, `folder-${String(d).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perFolder; f++) {
      const size = minSize + Math.floor(next() * (maxSize - minSize + 1));
      const offset = Math.floor(next() * (pool.length - size));
      writeFileSync(path.join(dir, `file-${String(f).padStart(3, '0')}.bin`), pool.subarray(offset, offset + size));
      total += size;
    }
  }
  return total;
}
