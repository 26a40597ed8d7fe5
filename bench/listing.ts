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

async function timedList(sim: BenchSim, volume: string): Promise<number> {
  const started = performance.now();
  const res = await sim.fetch(volume === 'default' ? '/em/files/list' : `/em/files/list?pod_name=${volume}`);
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`list ${volume}: ${res.status} ${text.slice(0, 500)}`);
  const files = text.match(/"type":\s*"file"/g)?.length ?? 0;
  if (files !== FOLDERS * PER_FOLDER) throw new Error(`list ${volume}: ${files} files listed, expected ${FOLDERS * PER_FOLDER}`);
  return ms;
}

/** 100 folders of 100 files of random content and size; returns the total size. */
function makeTree(root: string): number {
  const pool = Buffer.allocUnsafe(4 << 20);
  randomFillSync(pool);
  let seed = 42;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  let total = 0;
  for (let d = 0; d < FOLDERS; d++) {
    const dir = path.join(root, `folder-${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_FOLDER; f++) {
      const size = MIN_SIZE + Math.floor(next() * (MAX_SIZE - MIN_SIZE + 1));
      const offset = Math.floor(next() * (pool.length - size));
      writeFileSync(path.join(dir, `file-${String(f).padStart(3, '0')}.bin`), pool.subarray(offset, offset + size));
      total += size;
    }
  }
  return total;
}
