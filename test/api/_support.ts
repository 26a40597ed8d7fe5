import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** What a request sent with node:http got back: for cases fetch cannot express (GET bodies, raw paths). */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: Buffer;
}

/** Sends one request exactly as given: the path is not normalised and a GET may carry a body. */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers = { ...options.headers };
  // Node sends a GET body without Content-Length or chunking unless told its length.
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A multipart body as bytes, with its Content-Type, for node:http requests. */
export async function multipartBytes(body: FormData): Promise<{ bytes: Buffer; contentType: string }> {
  const request = new Request('http://localhost/', { method: 'POST', body });
  return { bytes: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

/** The list endpoint's hash of some bytes, computed the documented way: SHA-256, first 8 bytes, signed big-endian. */
export function expectedHash(content: string | Uint8Array): bigint {
  return createHash('sha256').update(content).digest().readBigInt64BE(0);
}

export type Snapshot = Map<string, string>;

/**
 * Everything under the given roots but `skip`: each file with a digest of its content, each
 * folder and each link with its target. Two equal snapshots mean nothing was read into, written, added or
 * removed there (reads are proved separately, by what responses contain).
 */
export function snapshot(roots: string[], skip: string[] = []): Snapshot {
  const out: Snapshot = new Map();
  const visit = (p: string) => {
    if (skip.includes(p)) return;
    const stat = lstatSync(p);
    if (stat.isSymbolicLink()) out.set(p, `link -> ${readlinkSync(p)}`);
    else if (stat.isDirectory()) {
      out.set(p, `dir ${stat.mode.toString(8)}`);
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else out.set(p, `file ${stat.mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  };
  for (const root of roots) visit(root);
  return out;
}

/** Names in a folder, recursively, as paths relative to it; folders end with "/". */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.push(`${child}/`);
        visit(child);
      } else out.push(child);
    }
  };
  visit('');
  return out.sort();
}
