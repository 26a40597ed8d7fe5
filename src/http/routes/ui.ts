import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Context } from 'hono';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SimError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';
import type { RouteTable } from '../route-table.ts';

/**
 * Where `node scripts/bundle.mjs` writes the dashboard (ui/ bundled with esbuild): dist/ui/ of the
 * checkout. Relative to this file, so the bundle (whose import.meta.url is rewritten to this
 * file's) and the sources find the same folder.
 */
const UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/** The page at `/`: where to go. */
const HOME = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>em-sim</title><link rel="icon" href="data:,">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}a{color:#0b5cad}</style></head>
<body>
<h1>em-sim</h1>
<p>A local simulator of ClusterGate-2 and its Engineering Model API.</p>
<ul>
<li><a href="/ui">The dashboard</a>: operations, executions, namespaces, onboard files and pods, the satellite.</li>
<li><a href="/docs">The API</a> (Swagger UI), and its <a href="/openapi.json">OpenAPI document</a>.</li>
</ul>
</body>
</html>
`;

/**
 * `/` (links to the dashboard and the API page) and `/ui`, the dashboard: a single page that
 * signs in with POST /auth/ and does everything through the same /em/* and /sim/* routes a script
 * uses. Only the files `npm run build` writes into dist/ui/ are served (a name outside that set is
 * 404); each is read when its modification time changes, so a rebuild shows at the next reload,
 * with an ETag for the browser's cache. UI_NOT_BUILT (503) while dist/ui/ has no page (not built,
 * or a build under way).
 */
export function registerUiRoutes(routes: RouteTable): void {
  const cache = new Map<string, { mtimeMs: number; bytes: Buffer; etag: string; gzipped?: Buffer }>();
  const send = (c: Context<AppEnv>, name: string) => {
    const ext = name.split('.').pop() ?? '';
    const type = /^[a-z0-9][a-z0-9._-]*$/.test(name) && Object.hasOwn(TYPES, ext) ? TYPES[ext]! : undefined;
    if (!type) throw new SimError('NOT_FOUND', `No dashboard file ${JSON.stringify(name)}; the dashboard is at /ui`);
    const file = UI_DIR + name;
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) {
      if (name === 'index.html' || !statSync(UI_DIR + 'index.html', { throwIfNoEntry: false })) {
        throw new SimError('UI_NOT_BUILT', 'The dashboard is not built in this checkout (or is being rebuilt): run `npm run build` (npm install does it), then reload');
      }
      throw new SimError('NOT_FOUND', `No dashboard file ${JSON.stringify(name)}; the dashboard is at /ui`);
    }
    let entry = cache.get(name);
    if (!entry || entry.mtimeMs !== stat.mtimeMs) {
      const bytes = readFileSync(file);
      entry = { mtimeMs: stat.mtimeMs, bytes, etag: `"${createHash('sha1').update(bytes).digest('base64url')}"` };
      cache.set(name, entry);
    }
    // A browser that takes gzip gets the file compressed once per version (the script is 0.8 MB,
    // a quarter of that gzipped), with its own ETag, as a representation of its own.
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '') && type !== TYPES.png;
    const etag = gzip ? `${entry.etag.slice(0, -1)}-gz"` : entry.etag;
    const headers: Record<string, string> = { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag, Vary: 'Accept-Encoding' };
    if ((c.req.header('if-none-match') ?? '').split(',').some((t) => t.trim() === etag)) return c.body(null, 304, headers);
    let bytes = entry.bytes;
    if (gzip) {
      bytes = entry.gzipped ??= gzipSync(entry.bytes);
      headers['Content-Encoding'] = 'gzip';
    }
    return c.body(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer>, 200, headers);
  };

  routes.add(
    { methods: ['GET'], path: '/', tag: 'sim', auth: false, summary: 'A page that links to the dashboard (/ui) and the API page (/docs)', success: { description: 'The page', contentType: 'text/html' }, errors: [] },
    (c) => c.html(HOME),
  );

  for (const path of ['/ui', '/ui/']) {
    routes.add(
      {
        methods: ['GET'],
        path,
        tag: 'sim',
        auth: false,
        summary: 'The dashboard: sign in with a user of sim-config.yaml (simulator only)',
        success: { description: 'The page', contentType: 'text/html' },
        errors: ['UI_NOT_BUILT'],
      },
      (c) => send(c, 'index.html'),
    );
  }

  routes.add(
    {
      methods: ['GET'],
      path: '/ui/:file',
      tag: 'sim',
      auth: false,
      summary: 'The scripts and styles of the dashboard',
      success: { description: 'The file', contentType: 'application/octet-stream' },
      errors: ['NOT_FOUND', 'UI_NOT_BUILT'],
    },
    (c) => send(c, c.req.param('file') ?? ''),
  );
}
