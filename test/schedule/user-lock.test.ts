import { closeSync, mkdirSync, openSync, ftruncateSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type TestSim } from '../helpers/sim.ts';

const BUSY_BODY = {
  error: 'CG2_BUSY',
  message: 'CG2 is busy: another request of this user is still in progress; send one request at a time',
};

// Far more than loopback socket buffers hold, so a response nobody reads cannot finish.
const BIG = 64 * 1024 * 1024;

/** A sparse file in the user's default volume: big, yet costs no disk and reads fast. */
function bigFile(sim: TestSim, user: string, name: string): void {
  const dir = sim.volumeDir(user);
  mkdirSync(dir, { recursive: true });
  const fd = openSync(path.join(dir, name), 'w');
  ftruncateSync(fd, BIG);
  closeSync(fd);
}

/**
 * Starts a downlink and stops reading once the headers are in: the server is then serving
 * the request (its handler ran) and its body cannot finish until finish() reads it.
 */
async function holdDownlink(sim: TestSim, user: string, name: string) {
  const token = await sim.token(user);
  const url = new URL(`${sim.url}/em/files/downlink?filepath=${name}`);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(url, { headers: { Authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
  });
  res.pause();
  return {
    status: res.statusCode,
    /** Reads the rest of the body; resolves with its size once it has all arrived. */
    finish: () =>
      new Promise<number>((resolve, reject) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => (size += chunk.length));
        res.on('end', () => resolve(size));
        res.on('error', reject);
        res.resume();
      }),
  };
}

/** An uplink whose body keeps coming until finish() is called. */
function startUplink(sim: TestSim, token: string) {
  const boundary = 'em-sim-slow-uplink';
  const req = http.request(new URL(`${sim.url}/em/files/uplink`), {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
  });
  let refused = false;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      if (res.statusCode !== 200) refused = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err) => {
      refused = true;
      reject(err);
    });
  });
  response.catch(() => {});
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\nthe first half, `);
  return {
    get refused() {
      return refused;
    },
    abort: () => req.destroy(),
    finish: () => {
      req.end(`and the second half\r\n--${boundary}--\r\n`);
      return response;
    },
  };
}

describe('one request per user at a time', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ users: ['alice', 'bob'] });
    bigFile(sim, 'alice', 'big.bin');
    bigFile(sim, 'bob', 'big.bin');
  });
  afterAll(() => sim.close());

  it('answers 423 to a second request of a user while a downlink of theirs is still streaming; others are served', async () => {
    const held = await holdDownlink(sim, 'alice', 'big.bin');
    expect(held.status).toBe(200);

    const second = await sim.fetch('/em/files/list', { user: 'alice' });
    expect(second.status).toBe(423);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(await second.json()).toEqual(BUSY_BODY);
    // Every /em/ endpoint, and POST as much as GET.
    const run = await sim.fetch('/em/nodes/status', { method: 'POST', user: 'alice' });
    expect(run.status).toBe(423);
    await run.body?.cancel();

    // Bob is served meanwhile, and so are alice's /sim/ requests.
    expect((await sim.fetch('/em/files/list', { user: 'bob' })).status).toBe(200);
    expect((await fetch(`${sim.url}/sim/health`)).status).toBe(200);

    expect(await held.finish()).toBe(BIG);
    const after = await sim.fetch('/em/files/list', { user: 'alice' });
    expect(after.status).toBe(200);
  });

  it('holds the lock while an uplink body is still arriving', async () => {
    const token = await sim.token('bob');
    // The uplink holds the lock once the server has authenticated it; probe until a probe
    // meets the lock. Should a probe have held the lock when the uplink arrived, the uplink
    // itself is refused: start it again.
    let upload: ReturnType<typeof startUplink> | null = null;
    while (!upload) {
      const attempt = startUplink(sim, token);
      for (;;) {
        const probe = await sim.fetch('/em/files/list', { user: 'bob' });
        const body = await probe.text();
        if (probe.status === 423) {
          expect(JSON.parse(body)).toEqual(BUSY_BODY);
          upload = attempt;
          break;
        }
        expect(probe.status).toBe(200);
        if (attempt.refused) {
          attempt.abort();
          break;
        }
      }
    }
    expect((await sim.fetch('/em/files/list', { user: 'alice' })).status).toBe(200);

    const done = await upload.finish();
    expect(done.status).toBe(200);
    expect(JSON.parse(done.text)).toMatchObject({ message: 'Successfully uplinked files', data: { file_count: 1 } });
    expect((await sim.fetch('/em/files/list', { user: 'bob' })).status).toBe(200);
  });

  it('releases the lock after a request that failed', async () => {
    const missing = await sim.fetch('/em/files/downlink?filepath=nothing-here', { user: 'alice' });
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    expect((await sim.fetch('/em/files/list', { user: 'alice' })).status).toBe(200);
  });
});

describe('limits.one_request_per_user: false', () => {
  it('serves overlapping requests of one user', async () => {
    await using sim = await startSim({ users: ['carol'], config: { limits: { one_request_per_user: false } } });
    bigFile(sim, 'carol', 'big.bin');
    const held = await holdDownlink(sim, 'carol', 'big.bin');
    expect(held.status).toBe(200);
    expect((await sim.fetch('/em/files/list', { user: 'carol' })).status).toBe(200);
    expect(await held.finish()).toBe(BIG);
  });
});
