import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { parse } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedHash, tree } from '../api/_support.ts';
import { spawnSim, type ChildSim } from '../helpers/child-sim.ts';
import { startSim, tempDir, uniqueName, type TestSim } from '../helpers/sim.ts';
import { startSocketProxy, type SocketProxy } from '../helpers/socket-proxy.ts';
import { streamUplink } from '../helpers/streamed-uplink.ts';
import { cleanupDocker, IMAGES, requireDocker } from './_docker.ts';

// Faults a user can run into (issue "Benchmarks and fault tolerance"): the simulator killed in
// the middle of an uplink, the Docker engine going away while it runs, a full disk, and twenty
// users at once. Each test checks what a user observes: statuses, bodies and bytes, and, for
// leftovers, the directories on disk.

const MiB = 1024 * 1024;

/** Either kind of simulator: in-process (TestSim) or a child process (ChildSim). */
type Client = { fetch: TestSim['fetch'] };

type Files = Record<string, Buffer>;

async function uplinkFiles(sim: Client, user: string, files: Files, fields: Record<string, string> = {}): Promise<Response> {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const [name, content] of Object.entries(files)) body.append('files', new Blob([content as BlobPart]), name);
  return sim.fetch('/em/files/uplink', { user, method: 'POST', body });
}

/** Uploads files given by path in the volume ("docs/c.txt" goes to dest_path "docs"), one request per folder. */
async function uplinkPaths(sim: Client, user: string, files: Files, pod?: string): Promise<void> {
  const byDir = new Map<string, Files>();
  for (const [p, content] of Object.entries(files)) {
    const dir = path.posix.dirname(p);
    byDir.set(dir, { ...byDir.get(dir), [path.posix.basename(p)]: content });
  }
  for (const [dir, batch] of byDir) {
    const res = await uplinkFiles(sim, user, batch, { ...(dir === '.' ? {} : { dest_path: dir }), ...(pod ? { pod_name: pod } : {}) });
    expect(res.status, await res.clone().text()).toBe(200);
  }
}

interface Listed {
  size: string;
  hash: bigint;
}

/** The list endpoint's files by path in the volume, hashes read with every digit. */
async function listFiles(sim: Client, user: string, pod?: string): Promise<Map<string, Listed>> {
  const res = await sim.fetch(`/em/files/list${pod ? `?pod_name=${pod}` : ''}`, { user });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const body = parse(text, null, (n: string) => BigInt(n)) as { data: Node[] };
  type Node = { type: string; name: string; size: string; hash?: bigint; contents?: Node[] };
  const out = new Map<string, Listed>();
  const visit = (nodes: Node[], prefix: string) => {
    for (const node of nodes) {
      const p = prefix + node.name;
      if (node.type === 'directory') visit(node.contents ?? [], `${p}/`);
      else out.set(p, { size: node.size, hash: node.hash! });
    }
  };
  visit(body.data, '');
  return out;
}

/** What listFiles should show for these files. */
function listingOf(files: Files): Map<string, Listed> {
  return new Map(Object.entries(files).map(([p, content]) => [p, { size: String(content.length), hash: expectedHash(content) }]));
}

async function downlinkBytes(sim: Client, user: string, filepath: string, pod?: string): Promise<{ status: number; bytes: Buffer }> {
  const q = new URLSearchParams({ filepath, ...(pod ? { pod_name: pod } : {}) });
  const res = await sim.fetch(`/em/files/downlink?${q}`, { user });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function expectVolumeHolds(sim: Client, user: string, files: Files): Promise<void> {
  expect(await listFiles(sim, user)).toEqual(listingOf(files));
  for (const [p, content] of Object.entries(files)) {
    const got = await downlinkBytes(sim, user, p);
    expect(got.status, p).toBe(200);
    expect(got.bytes.equals(content), `${p} comes back byte-identical`).toBe(true);
  }
}

/** Files (not folders) on disk under dir, relative to it. */
function filesOnDisk(dir: string): string[] {
  return existsSync(dir) ? tree(dir).filter((p) => !p.endsWith('/')) : [];
}

async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}

async function runPod(sim: Client, user: string, params: Record<string, unknown>): Promise<Response> {
  return sim.fetch('/em/pod/run', {
    user,
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ node: 'FPGA', max_duration: 10, image: IMAGES.alpine, ...params }),
  });
}

async function podState(sim: Client, user: string, pod: string): Promise<{ status: number; body: any }> {
  const res = await sim.fetch(`/em/pod/status?pod_name=${pod}`, { user });
  return { status: res.status, body: await res.json() };
}

async function waitForPod(sim: Client, user: string, pod: string, key: 'running' | 'terminated', timeoutMs = 90_000): Promise<any> {
  let last: unknown;
  return until(
    () => `pod ${pod} of ${user} to be ${key} (last: ${JSON.stringify(last)})`,
    async () => {
      const { status, body } = await podState(sim, user, pod);
      expect(status, JSON.stringify(body)).toBe(200);
      last = body;
      return body.data.state[key];
    },
    timeoutMs,
    250,
  );
}

function instanceOf(dataDir: string): string | null {
  const file = path.join(dataDir, 'instance-id');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

// ---------------------------------------------------------------------------------------------

describe('SIGKILL in the middle of an uplink', () => {
  let docker: Docker;
  const dataDir = tempDir('em-sim-faults-kill-');
  const user = uniqueName('k');
  let sim: ChildSim | undefined;

  beforeAll(async () => {
    docker = await requireDocker();
  });
  afterAll(async () => {
    await sim?.kill('SIGKILL');
    const instance = instanceOf(dataDir);
    if (docker && instance) await cleanupDocker(docker, instance, [user]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps only the files whose upload completed: byte-identical, no partial file, staging emptied', async () => {
    sim = await spawnSim(dataDir, [user]);
    const earlier: Files = {
      'a.txt': Buffer.from('first file\n'),
      'b.bin': randomBytes(300_000),
      'docs/c.bin': randomBytes(2 * MiB + 17),
      'empty.txt': Buffer.alloc(0),
    };
    await uplinkPaths(sim, user, earlier);
    await expectVolumeHolds(sim, user, earlier);

    // 200 MiB, generated while sent and paced, into the root and into a new folder, so neither
    // an overwrite nor a new folder may show up after the crash.
    const tmp = path.join(dataDir, 'tmp');
    const size = 200 * MiB;
    const upload = streamUplink(sim.url, await sim.token(user), { filename: 'big.bin', size, fields: { dest_path: 'incoming' }, pauseMs: 5 });
    const staged = await until(
      'the staging file to grow past 16 MiB',
      () => readdirSync(tmp).map((f) => statSync(path.join(tmp, f)).size).find((s) => s >= 16 * MiB),
      60_000,
      20,
    );
    expect(staged).toBeLessThan(size);
    await sim.kill('SIGKILL');
    expect(upload.sent(), 'the simulator died before the whole body was sent').toBeLessThan(size);
    await expect(upload.response).rejects.toThrow();
    upload.abort();
    // The staging file is still there: the crash really interrupted an upload.
    expect(readdirSync(tmp).length).toBeGreaterThan(0);

    sim = await spawnSim(dataDir, [user]);
    await expectVolumeHolds(sim, user, earlier);
    expect(filesOnDisk(path.join(dataDir, 'volumes', user)).sort()).toEqual(Object.keys(earlier).map((p) => `default/${p}`).sort());
    expect(readdirSync(tmp)).toEqual([]);

    // And the restarted simulator takes the same upload whole.
    const again = { 'incoming/big-again.bin': randomBytes(3 * MiB) };
    await uplinkPaths(sim, user, again);
    await expectVolumeHolds(sim, user, { ...earlier, ...again });
    expect(readdirSync(tmp)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the Docker engine stopped while the simulator runs', () => {
  let docker: Docker;
  let proxy: SocketProxy;
  let sim: TestSim | undefined;
  const dir = tempDir('em-sim-faults-engine-');
  const user = uniqueName('e');

  beforeAll(async () => {
    docker = await requireDocker();
    proxy = await startSocketProxy(path.join(dir, 'docker.sock'));
    const env = { DOCKER_HOST: `unix://${proxy.path}` };
    sim = await startSim({ users: [user], dockerEnv: env });
  });
  afterAll(async () => {
    await proxy?.stop();
    if (docker && sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 on pod and image endpoints while files keep working, then resumes with the right pod states', async () => {
    const s = sim!;
    const dockerfile = Buffer.from(`FROM ${IMAGES.alpine}\nCMD ["true"]\n`);
    await uplinkPaths(s, user, { 'ctx/Dockerfile': dockerfile });

    expect((await runPod(s, user, { pod_name: 'long', command: 'sleep 300' })).status).toBe(200);
    const longRunning = await waitForPod(s, user, 'long', 'running');
    // Finishes on its own a few seconds after the engine goes away.
    expect((await runPod(s, user, { pod_name: 'short', command: 'sleep 6; echo finished > /data/short.txt; exit 3' })).status).toBe(200);
    await waitForPod(s, user, 'short', 'running');

    await proxy.stop();

    // Down (the runtime caches its last ping for a second): every pod and image endpoint says so.
    const down = await until('the simulator to notice the engine is gone', async () => {
      const res = await s.fetch('/em/pod/image/list', { user });
      return res.status === 503 ? res.json() : undefined;
    });
    const expected = {
      error: 'DOCKER_UNAVAILABLE',
      message: expect.stringMatching(new RegExp(`no Docker engine answers at unix://${proxy.path}.*start the engine there`)),
    };
    expect(down).toEqual(expected);
    const calls: [string, RequestInit][] = [
      ['/em/pod/run', { method: 'POST', body: new URLSearchParams({ pod_name: 'during', image: IMAGES.alpine, node: 'FPGA', max_duration: '1', command: 'true' }) }],
      ['/em/pod/status?pod_name=long', {}],
      ['/em/pod/status?pod_name=short', {}],
      ['/em/pod/image/list', {}],
      ['/em/pod/image/build', { method: 'POST', body: new URLSearchParams({ dockerfile: 'ctx/Dockerfile', context: 'ctx', image: 'during' }) }],
    ];
    for (const [p, init] of calls) {
      const res = await s.fetch(p, { user, ...init });
      expect(res.status, p).toBe(503);
      expect(await res.json(), p).toEqual(expected);
    }

    // The file API does not need the engine.
    const during = { 'during.txt': randomBytes(50_000) };
    await uplinkPaths(s, user, during);
    expect(await listFiles(s, user)).toEqual(listingOf({ 'ctx/Dockerfile': dockerfile, ...during }));
    expect((await downlinkBytes(s, user, 'during.txt')).bytes.equals(during['during.txt'])).toBe(true);
    const del = await s.fetch('/em/files/delete', { user, method: 'POST', body: new URLSearchParams({ filepath: 'during.txt' }) });
    expect(del.status).toBe(200);
    expect([...(await listFiles(s, user)).keys()]).toEqual(['ctx/Dockerfile']);

    // The short pod finishes while the simulator cannot see the engine (its file shows it).
    await until('the short pod to finish', async () => {
      const info = await docker.getContainer(`${user}-short.${s.running.sim.instanceId}`).inspect();
      return info.State.Running ? undefined : true;
    });
    const shortFile = await downlinkBytes(s, user, 'short.txt', 'short');
    expect(shortFile.status).toBe(200);
    expect(shortFile.bytes.toString()).toBe('finished\n');
    expect((await podState(s, user, 'short')).status).toBe(503);

    await proxy.start();

    const back = await until('the pod endpoints to answer again', async () => {
      const res = await podState(s, user, 'long');
      return res.status === 503 ? undefined : res;
    });
    expect(back.status).toBe(200);
    expect(back.body.data.state).toEqual({ running: longRunning });
    expect((await podState(s, user, 'short')).body.data.state).toEqual({
      terminated: { exitCode: 3, reason: 'Error', startedAt: expect.any(String), finishedAt: expect.any(String) },
    });
    // The run refused during the outage left nothing behind.
    expect(await podState(s, user, 'during')).toMatchObject({ status: 404, body: { error: 'POD_NOT_FOUND' } });
    expect((await s.fetch('/em/pod/image/list', { user })).status).toBe(200);

    // A new run works.
    expect((await runPod(s, user, { pod_name: 'after', command: `echo ${user} > /data/after.txt` })).status).toBe(200);
    expect(await waitForPod(s, user, 'after', 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect((await downlinkBytes(s, user, 'after.txt', 'after')).bytes.toString()).toBe(`${user}\n`);
    // The long pod's status still follows the engine: killed from outside, it shows so.
    await docker.getContainer(`${user}-long.${s.running.sim.instanceId}`).kill();
    expect(await waitForPod(s, user, 'long', 'terminated')).toMatchObject({ exitCode: 137, reason: 'Error' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('disk full during an uplink', () => {
  let docker: Docker;
  let sim: TestSim | undefined;
  const mountPoint = tempDir('em-sim-faults-disk-');
  let mounted = false;
  const user = uniqueName('d');

  beforeAll(async () => {
    docker = await requireDocker();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      throw new Error(
        `the disk-full test needs root to mount a 16 MiB tmpfs at ${mountPoint} (mount -t tmpfs -o size=16m tmpfs DIR): ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`,
      );
    }
    mkdirSync(path.join(mountPoint, 'data'));
    sim = await startSim({ users: [user], dataDir: path.join(mountPoint, 'data') });
  });
  afterAll(async () => {
    if (docker && sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
    if (mounted) {
      try {
        execFileSync('umount', [mountPoint], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
      }
    }
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers 507 DISK_FULL, keeps nothing of the request, and keeps serving', async () => {
    const s = sim!;
    const tmp = path.join(s.dataDir, 'tmp');
    // Small files first, while there is room (the database lives on the same disk).
    const earlier: Files = { 'small.txt': Buffer.from('small\n'), 'nested/half-meg.bin': randomBytes(512 * 1024) };
    await uplinkPaths(s, user, earlier);
    await expectVolumeHolds(s, user, earlier);

    const free = () => {
      const fs = statfsSync(mountPoint);
      return fs.bavail * fs.bsize;
    };
    const before = free();

    // One file larger than the free space, streamed.
    const big = streamUplink(s.url, await s.token(user), { filename: 'big.bin', size: before + 4 * MiB });
    const answer = await big.response;
    expect(answer.status, answer.body).toBe(507);
    expect(JSON.parse(answer.body)).toEqual({ error: 'DISK_FULL', message: expect.stringMatching(/disk space/) });
    expect(readdirSync(tmp)).toEqual([]);
    expect(filesOnDisk(s.volumeDir(user)).sort()).toEqual(Object.keys(earlier).sort());
    await expectVolumeHolds(s, user, earlier);

    // A small file and a big one in one request, into a new folder: neither is kept.
    const pair = await uplinkFiles(s, user, { 'companion.txt': Buffer.from('I came along\n'), 'huge.bin': randomBytes(before + 2 * MiB) }, { dest_path: 'pair' });
    expect(pair.status).toBe(507);
    expect(await pair.json()).toEqual({ error: 'DISK_FULL', message: expect.stringMatching(/disk space/) });
    expect(readdirSync(tmp)).toEqual([]);
    expect(filesOnDisk(s.volumeDir(user)).sort()).toEqual(Object.keys(earlier).sort());
    await expectVolumeHolds(s, user, earlier);
    // Every byte of the refused uploads was given back.
    expect(free()).toBeGreaterThanOrEqual(before - MiB);

    // The server is still up and takes a small upload.
    const after = { 'after.txt': randomBytes(100_000) };
    await uplinkPaths(s, user, after);
    await expectVolumeHolds(s, user, { ...earlier, ...after });
    expect(readdirSync(tmp)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('20 users working at once', () => {
  const USERS = Array.from({ length: 20 }, () => uniqueName('m'));
  const ROUNDS = 6;
  const POD_ROUNDS = new Set([1, 4]);
  let docker: Docker;
  let sim: TestSim | undefined;

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: USERS });
  });
  afterAll(async () => {
    if (docker && sim) await cleanupDocker(docker, sim.running.sim.instanceId, USERS);
    await sim?.close();
  });

  it('keeps every user to their own files and bytes, with no 5xx', async () => {
    const s = sim!;
    const responses: { user: string; call: string; status: number }[] = [];
    /** Every request goes through here, so that no answer goes unchecked. */
    const call = async (user: string, what: string, p: string, init: RequestInit = {}): Promise<Response> => {
      const res = await s.fetch(p, { user, ...init });
      responses.push({ user, call: what, status: res.status });
      return res;
    };
    // Names each user holds now, for the others to probe (they must never reach them).
    const current = new Map<string, string[]>();

    const worker = async (user: string, index: number) => {
      const mine: Files = {};
      const expectListing = async (what: string) => {
        const res = await call(user, 'list', '/em/files/list');
        const text = await res.text();
        expect(res.status, `${user} ${what}: ${text}`).toBe(200);
        const body = parse(text, null, (n: string) => BigInt(n)) as { data: unknown[] };
        const listed = new Map<string, Listed>();
        const visit = (nodes: any[], prefix: string) => {
          for (const n of nodes) n.type === 'directory' ? visit(n.contents, `${prefix}${n.name}/`) : listed.set(prefix + n.name, { size: n.size, hash: n.hash });
        };
        visit(body.data, '');
        expect(listed, `${user} ${what}`).toEqual(listingOf(mine));
      };
      const expectBytes = async (filepath: string, content: Buffer, pod?: string) => {
        const q = new URLSearchParams({ filepath, ...(pod ? { pod_name: pod } : {}) });
        const res = await call(user, 'downlink', `/em/files/downlink?${q}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(res.status, `${user} downlink ${filepath}: ${bytes.toString().slice(0, 200)}`).toBe(200);
        expect(bytes.equals(content), `${user} downlink ${filepath} byte-identical`).toBe(true);
      };

      for (let round = 0; round < ROUNDS; round++) {
        // Uplink 1 to 3 files of random content (empty included), into the root or a folder.
        const batch: Files = {};
        const count = 1 + ((index + round) % 3);
        for (let j = 0; j < count; j++) batch[`${user}-r${round}-${j}.bin`] = randomBytes(Math.floor(Math.random() * 256 * 1024) * (j === 2 ? 0 : 1));
        const dest = round % 2 ? `dir-${round}` : '';
        const body = new FormData();
        if (dest) body.append('dest_path', dest);
        for (const [name, content] of Object.entries(batch)) body.append('files', new Blob([content as BlobPart]), name);
        const up = await call(user, 'uplink', '/em/files/uplink', { method: 'POST', body });
        expect(up.status, `${user} uplink: ${await up.clone().text()}`).toBe(200);
        for (const [name, content] of Object.entries(batch)) mine[dest ? `${dest}/${name}` : name] = content;
        current.set(user, Object.keys(mine));

        await expectListing(`round ${round} after uplink`);
        for (const [p, content] of Object.entries(mine)) await expectBytes(p, content);

        // Another user's file names lead nowhere from here.
        const other = USERS[(index + 1 + round) % USERS.length]!;
        for (const p of (current.get(other) ?? []).slice(0, 2)) {
          const res = await call(user, 'probe', `/em/files/downlink?${new URLSearchParams({ filepath: p })}`);
          expect(res.status, `${user} reaching ${other}'s ${p}`).toBe(404);
          await res.arrayBuffer();
        }

        // Delete one file (the oldest).
        const victim = Object.keys(mine)[0]!;
        const del = await call(user, 'delete', '/em/files/delete', { method: 'POST', body: new URLSearchParams({ filepath: victim }) });
        expect(del.status, `${user} delete ${victim}: ${await del.clone().text()}`).toBe(200);
        await del.arrayBuffer();
        delete mine[victim];
        current.set(user, Object.keys(mine));
        await expectListing(`round ${round} after delete`);

        if (POD_ROUNDS.has(round)) {
          const marker = `${user}:${round}:${randomBytes(6).toString('hex')}`;
          const run = await call(user, 'run', '/em/pod/run', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ pod_name: 'p', image: IMAGES.alpine, node: 'FPGA', max_duration: 5, command: `echo ${marker} > /data/marker.txt` }),
          });
          expect(run.status, `${user} run: ${await run.clone().text()}`).toBe(200);
          await run.arrayBuffer();
          const done = await until(
            `${user}'s pod to finish`,
            async () => {
              const res = await call(user, 'status', '/em/pod/status?pod_name=p');
              const status = (await res.json()) as any;
              expect(res.status, `${user} status: ${JSON.stringify(status)}`).toBe(200);
              return status.data.state.terminated;
            },
            120_000,
            300,
          );
          expect(done, user).toMatchObject({ exitCode: 0, reason: 'Completed' });
          await expectBytes('marker.txt', Buffer.from(`${marker}\n`), 'p');
          const podFiles = await call(user, 'list', '/em/files/list?pod_name=p');
          expect(podFiles.status).toBe(200);
          expect(((await podFiles.json()) as { data: { name: string }[] }).data.map((f) => f.name)).toEqual(['marker.txt']);
        }
      }
      return Object.keys(mine).length;
    };

    const results = await Promise.allSettled(USERS.map((user, i) => worker(user, i)));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${USERS[i]}: ${(r.reason as Error).message}`] : []));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(failures).toEqual([]);
    // Every kind of call happened, for every user.
    for (const user of USERS) {
      const kinds = new Set(responses.filter((r) => r.user === user).map((r) => r.call));
      expect([...kinds].sort()).toEqual(['delete', 'downlink', 'list', 'probe', 'run', 'status', 'uplink'].sort());
    }
  });
});
