import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { startBaseline } from './lib/baseline.ts';
import { run, sampleRss } from './lib/proc.ts';
import { result, type BenchResult } from './lib/result.ts';
import { startBenchSim } from './lib/sim.ts';
import { mbPerSecond, median, MiB, round } from './lib/stats.ts';
import { download, uploadFile, type Transfer } from './lib/transfer.ts';
import type { BenchContext } from './lib/context.ts';

const REPS = 3;

/**
 * 2. Uplink of one 1 GiB file through POST /em/files/uplink, against a bare node:http + busboy
 * server streaming the same multipart body to disk. Also the simulator's resident memory growth
 * during the upload (VmRSS sampled every 20 ms). Runs alternate; `sync` before each, so every
 * upload starts with no dirty pages waiting to be written back.
 */
export async function uplink(ctx: BenchContext): Promise<BenchResult[]> {
  const file = ctx.bigFile();
  const size = statSync(file).size;
  const sim = await startBenchSim();
  const bareDir = mkdtempSync(path.join(ctx.work, 'bare-upload-'));
  const bare = await startBaseline('upload', bareDir);
  try {
    const simRuns: number[] = [];
    const bareRuns: number[] = [];
    let simGrowth = 0;
    let bareGrowth = 0;
    const timed = async (pid: number, send: () => Promise<Transfer>) => {
      await run('sync', []);
      const rss = sampleRss(pid, 20);
      const t = await send();
      const { before, peak } = rss.stop();
      if (t.status !== 200) throw new Error(`upload answered ${t.status}: ${t.body}`);
      return { mbps: mbPerSecond(size, t.ms), growth: (peak - before) / MiB, ms: t.ms };
    };
    for (let rep = 1; rep <= REPS; rep++) {
      const b = await timed(bare.pid, () => uploadFile(`${bare.url}/upload`, null, file));
      for (const name of readdirSync(bareDir)) rmSync(path.join(bareDir, name), { force: true });
      const s = await timed(sim.pid, () => uploadFile(`${sim.url}/em/files/uplink`, sim.token, file, { dest_path: 'up' }));
      simRuns.push(s.mbps);
      bareRuns.push(b.mbps);
      simGrowth = Math.max(simGrowth, s.growth);
      bareGrowth = Math.max(bareGrowth, b.growth);
      ctx.log(
        `uplink run ${rep}: simulator ${round(s.ms, 0)} ms (${round(s.mbps, 0)} MB/s, RSS +${round(s.growth, 1)} MiB); ` +
          `bare busboy ${round(b.ms, 0)} ms (${round(b.mbps, 0)} MB/s, RSS +${round(b.growth, 1)} MiB)`,
      );
    }
    const stored = statSync(path.join(sim.volumeDir(), 'up', 'big.bin')).size;
    if (stored !== size) throw new Error(`the simulator stored ${stored} bytes of ${size}`);
    return [
      result('uplink.1gib.throughput', median(simRuns), 'MB/s', median(bareRuns), { ratioAtLeast: 0.7 }, `median of ${REPS}`),
      result('uplink.1gib.rss_growth', simGrowth, 'MiB', bareGrowth, { below: 64 }, `peak VmRSS minus VmRSS before, worst of ${REPS}; baseline: the bare server's`),
    ];
  } finally {
    await bare.close();
    await sim.close();
    rmSync(bareDir, { recursive: true, force: true });
  }
}

/**
 * 3. Downlink of the same 1 GiB file through GET /em/files/downlink, against a bare node:http
 * server streaming it from disk with a 1 MiB read buffer. The file is hard-linked into the
 * simulator's volume, so both read the very same (cached) pages.
 */
export async function downlink(ctx: BenchContext): Promise<BenchResult[]> {
  const file = ctx.bigFile();
  const size = statSync(file).size;
  const sim = await startBenchSim();
  mkdirSync(sim.volumeDir(), { recursive: true });
  linkSync(file, path.join(sim.volumeDir(), 'big.bin'));
  const bare = await startBaseline('download', file);
  try {
    const simRuns: number[] = [];
    const bareRuns: number[] = [];
    const timed = async (send: () => Promise<Transfer>) => {
      const t = await send();
      if (t.status !== 200 || t.bytes !== size) throw new Error(`download answered ${t.status} with ${t.bytes} bytes: ${t.body}`);
      return t;
    };
    await timed(() => download(`${bare.url}/big.bin`, null)); // warm-up: pages cached, both servers' code hot
    await timed(() => download(`${sim.url}/em/files/downlink?filepath=big.bin`, sim.token));
    for (let rep = 1; rep <= REPS; rep++) {
      const b = await timed(() => download(`${bare.url}/big.bin`, null));
      const s = await timed(() => download(`${sim.url}/em/files/downlink?filepath=big.bin`, sim.token));
      simRuns.push(mbPerSecond(size, s.ms));
      bareRuns.push(mbPerSecond(size, b.ms));
      ctx.log(
        `downlink run ${rep}: simulator ${round(s.ms, 0)} ms (${round(mbPerSecond(size, s.ms), 0)} MB/s); ` +
          `bare node:http ${round(b.ms, 0)} ms (${round(mbPerSecond(size, b.ms), 0)} MB/s)`,
      );
    }
    return [result('downlink.1gib.throughput', median(simRuns), 'MB/s', median(bareRuns), { ratioAtLeast: 0.8 }, `median of ${REPS}`)];
  } finally {
    await bare.close();
    await sim.close();
  }
}
