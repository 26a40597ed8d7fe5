import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { form, startSim, type TestSim } from '../helpers/sim.ts';
import { tree } from './_support.ts';

const LIMIT = 1024 * 1024;
const TOO_LARGE = { error: 'MAX_UPLINK_SIZE_EXCEEDED', message: 'Total upload size exceeds 1 MB' };
const BOUNDARY = 'em-sim-test-boundary';
const HEAD = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
);
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

interface Exchange {
  status: number;
  headers: string;
  body: string;
  /** File bytes written before the response arrived. */
  sent: number;
}

/**
 * Sends an upload over a plain TCP socket, so that nothing on the client side closes the
 * connection: it resolves only once the server has closed it (a FIN or a reset), which is how
 * these tests see that the server cut the connection. The request head is sent, then `fileBytes`
 * of file content in 64 KiB pieces, one per turn of the event loop (chunked encoding unless the
 * head says Content-Length), stopping as soon as any response byte arrives.
 */
function exchange(sim: TestSim, head: string, fileBytes: number): Promise<Exchange> {
  const url = new URL(sim.url);
  const chunked = !/content-length/i.test(head);
  const frame = (data: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    let sent = 0;
    socket.on('data', (d: Buffer) => received.push(d));
    // A reset after the response is one way for the server to cut the connection.
    socket.on('error', () => {});
    socket.on('close', () => {
      const text = Buffer.concat(received).toString();
      const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (!match) return reject(new Error(`no HTTP response before the connection closed (sent ${sent} bytes): ${JSON.stringify(text)}`));
      resolve({ status: Number(match[1]), headers: match[2]!.toLowerCase(), body: match[3]!, sent });
    });
    const write = (data: Buffer) => new Promise<void>((done) => socket.write(data, () => done()));
    void (async () => {
      await write(Buffer.from(head));
      await write(frame(HEAD));
      while (sent < fileBytes && !received.length && !socket.destroyed) {
        await write(frame(CHUNK));
        sent += CHUNK.length;
        await nextTurn();
      }
      if (!received.length && !socket.destroyed) await write(Buffer.concat([frame(TAIL), chunked ? Buffer.from('0\r\n\r\n') : Buffer.alloc(0)]));
    })();
  });
}

const requestHead = (token: string, extra = 'Transfer-Encoding: chunked') =>
  `POST /em/files/uplink HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
  `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extra}\r\n\r\n`;

describe('uplink size limit', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ config: { limits: { uplink_max_bytes: LIMIT } } });
  });
  afterAll(() => sim.close());

  /** What the default volume holds; it need not exist. */
  const volume = () => (existsSync(sim.volumeDir('client1')) ? tree(sim.volumeDir('client1')) : []);
  const staging = () => path.join(sim.dataDir, 'tmp');
  /** The server still serves: health answers and a normal uplink lands. */
  const stillServes = async () => {
    expect((await fetch(`${sim.url}/sim/health`)).status).toBe(200);
    const res = await sim.fetch('/em/files/uplink', { method: 'POST', body: form({ 'after.txt': 'after' }, { pod_name: 'after' }) });
    expect(res.status).toBe(200);
  };

  /** An uplink request whose body the test writes itself, piece by piece. */
  const openUplink = async (contentType: string, contentLength: number) => {
    const url = new URL(sim.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/em/files/uplink',
      headers: { Authorization: `Bearer ${await sim.token()}`, 'Content-Type': contentType, 'Content-Length': contentLength },
    });
    // The tests drop connections on purpose.
    req.on('error', () => {});
    return req;
  };

  it('accepts a body just under the limit', async () => {
    const res = await sim.fetch('/em/files/uplink', { method: 'POST', body: form({ 'fits.bin': new Uint8Array(LIMIT - 1024) }, { pod_name: 'fits' }) });
    expect(res.status).toBe(200);
    expect(tree(sim.volumeDir('client1', 'fits'))).toEqual(['fits.bin']);
  });

  it('refuses a body over the limit that declares its Content-Length before reading it, and cuts the connection', async () => {
    const length = HEAD.length + 2 * LIMIT + TAIL.length;
    const res = await exchange(sim, requestHead(await sim.token(), `Content-Length: ${length}`), 2 * LIMIT);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual(TOO_LARGE);
    expect(res.headers).toContain('connection: close');
    expect(res.sent).toBeLessThan(2 * LIMIT);
    expect(volume()).toEqual([]);
    expect(tree(staging())).toEqual([]);
    await stillServes();
  });

  it('refuses a body over the limit sent with Content-Length by fetch, with the exact body', async () => {
    const res = await sim.fetch('/em/files/uplink', { method: 'POST', body: form({ 'big.bin': new Uint8Array(LIMIT + 1) }, { pod_name: 'fetched' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(TOO_LARGE);
    expect(tree(staging())).toEqual([]);
    expect(tree(path.join(sim.dataDir, 'volumes', 'client1')).filter((p) => p.startsWith('fetched'))).toEqual([]);
    await stillServes();
  });

  it('refuses a chunked body while it streams, and cuts the connection', async () => {
    const res = await exchange(sim, requestHead(await sim.token()), 4 * LIMIT);
    expect(res.status).toBe(400);
    expect(res.headers).toContain('connection: close');
    expect(JSON.parse(res.body)).toEqual(TOO_LARGE);
    // The answer came while the client was still sending: it never got to the end.
    expect(res.sent).toBeGreaterThan(LIMIT - CHUNK.length);
    expect(res.sent).toBeLessThan(4 * LIMIT);
    expect(volume()).toEqual([]);
    // Staged bytes are removed once their stream has closed.
    await vi.waitFor(() => expect(tree(staging())).toEqual([]));
    await stillServes();
  });

  it('records a refused upload in /sim/requests as soon as its answer is out, while the client still holds the connection', async () => {
    const token = await sim.token();
    const url = new URL(sim.url);
    const socket = net.connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    try {
      const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.write(requestHead(token, `Content-Length: ${10 * LIMIT}`));
      socket.write(HEAD);
      await answered;
      // The connection lingers (the server drops what still comes for up to 10 s): the request is
      // already complete for the log, with its status and body, and not taken for an aborted one.
      await vi.waitFor(async () => {
        const res = await sim.fetch('/sim/requests?limit=5');
        const uplinks = ((await res.json()) as { data: Record<string, unknown>[] }).data.filter((r) => r.path === '/em/files/uplink');
        expect(uplinks[0]).toMatchObject({ method: 'POST', status: 400, bytes_out: Buffer.byteLength(JSON.stringify(TOO_LARGE)) });
        expect(uplinks[0]).not.toHaveProperty('aborted');
      }, { timeout: 3000 });
    } finally {
      socket.destroy();
    }
  });

  it('answers a multipart type without a boundary, and survives the client going away before sending the rest', async () => {
    const req = await openUplink('multipart/form-data', 10 * CHUNK.length);
    const answer = new Promise<{ status: number; body: string }>((resolve) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    req.write(CHUNK);
    const res = await answer;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'UPLINK_FAILED', message: expect.stringMatching(/could not be read.*nothing was kept/) });
    // The rest of the promised body never comes: the client drops the connection instead.
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(tree(staging())).toEqual([]);
    await stillServes();
  });

  it('keeps nothing of an upload whose client goes away half-way', async () => {
    const req = await openUplink(`multipart/form-data; boundary=${BOUNDARY}`, HEAD.length + LIMIT / 2 + TAIL.length);
    req.write(HEAD);
    for (let sent = 0; sent < LIMIT / 4; sent += CHUNK.length) req.write(CHUNK);
    // Half the file is on its way; wait until the server has started staging it.
    await vi.waitFor(() => expect(tree(staging()).length).toBe(1));
    req.destroy();
    await vi.waitFor(() => expect(tree(staging())).toEqual([]));
    expect(volume()).toEqual([]);
    await stillServes();
  });
});
