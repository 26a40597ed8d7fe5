import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, statSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';

const CHUNK = 1 << 20;

/** Writes `bytes` random bytes to `file`, one mebibyte at a time (never the whole in memory). */
export function writeRandomFile(file: string, bytes: number): void {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= CHUNK) {
      const n = Math.min(CHUNK, left);
      randomFillSync(buffer, 0, n);
      writeSync(fd, buffer, 0, n);
    }
  } finally {
    closeSync(fd);
  }
}

export interface Transfer {
  status: number;
  bytes: number;
  ms: number;
  body: string;
}

/**
 * POSTs `file` as a multipart/form-data body (field "files", plus plain fields), streamed from
 * disk with a declared Content-Length. Times from the first byte sent to the whole response.
 */
export async function uploadFile(url: string, token: string | null, file: string, fields: Record<string, string> = {}): Promise<Transfer> {
  const boundary = `----em-sim-bench-${randomBytes(8).toString('hex')}`;
  const size = statSync(file).size;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
  const started = performance.now();
  const req = request(url, {
    method: 'POST',
    agent: false,
    headers: {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': length,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  });
  const response = new Promise<Transfer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes: size, ms: performance.now() - started, body }));
    });
  });
  req.write(head);
  await pipeline(createReadStream(file, { highWaterMark: CHUNK }), req, { end: false });
  req.end(tail);
  return response;
}

/** GETs `url` and counts the body's bytes without keeping them. */
export function download(url: string, token: string | null): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let bytes = 0;
      let body = '';
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (res.statusCode !== 200 && body.length < 2000) body += d.toString();
      });
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started, body }));
    });
    req.once('error', reject);
    req.end();
  });
}
