import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SimError } from '../../domain/errors.ts';
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
<head><meta charset="UTF-8"><title>em-sim</title>
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
 * uses. Its files are a fixed set read from dist/ui/ once; no name outside that set is served.
 * UI_NOT_BUILT (503) when the checkout has no dist/ui/ (`npm run build` makes it).
 */
export function registerUiRoutes(routes: RouteTable): void {
  let files: Map<string, Buffer> | undefined;
  const load = (): Map<string, Buffer> => {
    if (files) return files;
    let names: string[];
    try {
      names = readdirSync(UI_DIR).filter((n) => /^[a-z0-9][a-z0-9._-]*$/.test(n) && (n.split('.').pop() ?? '') in TYPES);
    } catch {
      throw new SimError('UI_NOT_BUILT', 'The dashboard is not built in this checkout: run `npm run build` (npm install does it), then reload');
    }
    files = new Map(names.map((n) => [n, readFileSync(UI_DIR + n)]));
    return files;
  };
  const send = (name: string) => {
    const bytes = load().get(name);
    if (!bytes) throw new SimError('NOT_FOUND', `No dashboard file ${JSON.stringify(name)}; the dashboard is at /ui`);
    const type = TYPES[name.split('.').pop()!]!;
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer>, type };
  };

  routes.add(
    { methods: ['GET'], path: '/', tag: 'sim', auth: false, summary: 'A page that links to the dashboard (/ui) and the API page (/docs)', success: { description: 'The page', contentType: 'text/html' }, errors: [] },
    (c) => c.html(HOME),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/ui',
      tag: 'sim',
      auth: false,
      summary: 'The dashboard: sign in with a user of sim-config.yaml (simulator only)',
      success: { description: 'The page', contentType: 'text/html' },
      errors: ['UI_NOT_BUILT'],
    },
    (c) => {
      const { bytes, type } = send('index.html');
      return c.body(bytes, 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    },
  );

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
    (c) => {
      const { bytes, type } = send(c.req.param('file') ?? '');
      return c.body(bytes, 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    },
  );
}
