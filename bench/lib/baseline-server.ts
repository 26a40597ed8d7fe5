/**
 * The bare servers the simulator is compared with, one per process:
 *   jwt SECRET      Hono that verifies the bearer JWT (jose, HS256) on every request, answers small JSON
 *   plain -         Hono answering a small JSON with no authentication
 *   upload DIR      node:http + busboy streaming each multipart file to DIR
 *   download FILE   node:http streaming FILE from disk with a 1 MiB read buffer
 * Prints "listening on URL" once it serves.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { serve } from '@hono/node-server';
import busboy from 'busboy';
import { Hono } from 'hono';
import { jwtVerify } from 'jose';

const CHUNK = 1 << 20;
const [mode, arg] = process.argv.slice(2);

function listening(port: number): void {
  process.stdout.write(`baseline ${mode} listening on http://127.0.0.1:${port}\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

if (mode === 'jwt') {
  const secret = new TextEncoder().encode(arg);
  const app = new Hono();
  app.all('*', async (c) => {
    const header = c.req.header('authorization') ?? '';
    try {
      const { payload } = await jwtVerify(header.slice('Bearer '.length), secret, { algorithms: ['HS256'] });
      return c.json({ message: 'ok', data: { user: payload.user_id } });
    } catch {
      return c.json({ detail: 'token_not_valid' }, 401);
    }
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => listening(info.port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'plain') {
  // Hono with no authentication at all: what a status poll would cost if nothing were checked.
  const app = new Hono();
  app.all('*', (c) => c.json({ message: 'ok', data: { state: { terminated: { exitCode: 0, reason: 'Completed' } } } }));
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => listening(info.port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'upload') {
  const dir = arg!;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parser = busboy({ headers: req.headers, highWaterMark: CHUNK });
    const writes: Promise<void>[] = [];
    let bytes = 0;
    parser.on('file', (_name, stream) => {
      stream.on('data', (d: Buffer) => (bytes += d.length));
      writes.push(pipeline(stream, createWriteStream(path.join(dir, `upload-${randomUUID()}`), { highWaterMark: CHUNK })));
    });
    pipeline(req, parser)
      .then(() => Promise.all(writes))
      .then(
        () => json(res, 200, { message: 'ok', data: { file_count: writes.length, bytes } }),
        (err: Error) => json(res, 400, { error: err.message }),
      );
  });
  server.listen(0, '127.0.0.1', () => listening((server.address() as AddressInfo).port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'download') {
  const file = arg!;
  const server = createServer((_req, res) => {
    const size = statSync(file).size;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    pipeline(createReadStream(file, { highWaterMark: CHUNK }), res).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1', () => listening((server.address() as AddressInfo).port));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  process.stderr.write(`usage: baseline-server.ts jwt SECRET | upload DIR | download FILE\n`);
  process.exit(2);
}
