// The cold-start baseline: the smallest Hono server on @hono/node-server, plain JavaScript (no
// TypeScript step), answering 200 on every path. Prints "listening on URL" once it serves.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.all('*', (c) => c.json({ status: 'ok' }));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, (info) =>
  process.stdout.write(`bare hono listening on http://127.0.0.1:${info.port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
