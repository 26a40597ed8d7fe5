import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { stringify } from 'lossless-json';
import { SimError } from '../../domain/errors.ts';
import { buildOpenApi } from '../openapi.ts';
import type { RouteTable } from '../route-table.ts';

// Only these files of swagger-ui-dist are served: a fixed list, so no name reaches anything else.
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// The package's main module loads the whole UI bundle into Node; only the folder is needed.
const ASSET_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>em-sim API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    // Log in with POST /auth/ below, then paste the "access" token into Authorize.
    window.ui = SwaggerUIBundle({
      url: '/openapi.json',
      dom_id: '#swagger-ui',
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: 'StandaloneLayout',
    });
  </script>
</body>
</html>
`;

/** /openapi.json and /docs: the API description, generated from the route table, and a page to try it. */
export function registerDocsRoutes(routes: RouteTable, info: { version: string }): void {
  let document: string | undefined;
  const assets = new Map<string, Buffer>();

  routes.add(
    {
      methods: ['GET'],
      path: '/openapi.json',
      tag: 'sim',
      auth: false,
      summary: 'This document: the OpenAPI 3.1 description of every endpoint em-sim serves',
      success: { description: 'The OpenAPI document' },
      errors: [],
    },
    (c) => {
      // Built on first use: by then every route has been added to the table.
      document ??= stringify(buildOpenApi(routes.specs, { version: info.version })) ?? '{}';
      return c.body(document, 200, { 'Content-Type': 'application/json' });
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/docs',
      tag: 'sim',
      auth: false,
      summary: 'An interactive page to read and try the API (Swagger UI)',
      success: { description: 'The page', contentType: 'text/html' },
      errors: [],
    },
    (c) => c.html(PAGE),
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/docs/:file',
      tag: 'sim',
      auth: false,
      summary: 'The scripts and styles of the /docs page',
      success: { description: 'The asset', contentType: 'application/octet-stream' },
      errors: ['NOT_FOUND'],
    },
    (c) => {
      const name = c.req.param('file') ?? '';
      const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!type) throw new SimError('NOT_FOUND', `No asset ${JSON.stringify(name)}; the API page is at /docs`);
      // Read once and kept (about 1.5 MB in all): a stream per request would hold a file open
      // for as long as a HEAD request, which never reads it, leaves it unread.
      let bytes = assets.get(name);
      if (!bytes) assets.set(name, (bytes = readFileSync(join(ASSET_DIR, name))));
      return c.body(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
    },
  );
}
