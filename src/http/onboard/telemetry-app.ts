import { Hono } from 'hono';
import type { TelemetryService } from '../../domain/onboard/telemetry.ts';
import { parseZonedIso } from '../../domain/time/iso-time.ts';
import type { ServicesEnv } from './services-env.ts';

/*
 * The telemetry twin on HTTP, as the provider's Rust service (axum) answers (tlm-api.json): the
 * envelope {success, data, error, count}, axum's plain-text rejections for query strings and JSON
 * bodies, empty 404 and 405 answers, and the spec's 500 "Database error" for what the database
 * would refuse (a time it cannot read, a negative LIMIT).
 */

const envelope = (data: unknown, count: number | null) => ({ success: true, data, error: null, count });
const databaseError = (message: string) => ({ success: false, data: null, error: `Database error: ${message}`, count: null });

/** The app a relay's requests for satellite-telemetry.dphi-tm reach. */
export function telemetryApp(telemetry: TelemetryService): Hono<ServicesEnv> {
  const app = new Hono<ServicesEnv>();
  app.notFound((c) => c.body(null, 404));

  app.get('/health', (c) => c.json(telemetry.health()));
  app.get('/api/telemetry/types', (c) => {
    const types = telemetry.types();
    return c.json(envelope(types, types.length));
  });
  app.get('/api/telemetry/stats', (c) => c.json(envelope(telemetry.stats(), null)));
  app.get('/api/telemetry/tle', (c) => c.text(telemetry.tle()));
  app.get('/api/telemetry/latest', (c) => {
    const records = telemetry.latest(c.req.query('data_type'));
    return c.json(envelope(records, records.length));
  });
  app.get('/api/telemetry', (c) => {
    const q = c.req.query();
    let limit: number | undefined;
    if (q.limit !== undefined) {
      const parsed = parseI64(q.limit);
      if (typeof parsed === 'string') return c.text(`Failed to deserialize query string: limit: ${parsed}`, 400);
      limit = parsed;
    }
    const times: { startMs?: number; endMs?: number } = {};
    for (const [key, field] of [
      ['start_time', 'startMs'],
      ['end_time', 'endMs'],
    ] as const) {
      const text = q[key];
      if (text === undefined) continue;
      const ms = parseTimestamp(text);
      if (ms === null) return c.json(databaseError(`invalid input syntax for type timestamp with time zone: "${text}"`), 500);
      times[field] = ms;
    }
    if (limit !== undefined && limit < 0) return c.json(databaseError('LIMIT must not be negative'), 500);
    const records = telemetry.query({ ...times, ...(q.data_type !== undefined ? { dataType: q.data_type } : {}), ...(limit !== undefined ? { limit } : {}) });
    return c.json(envelope(records, records.length));
  });

  app.get('/api/images/list', async (c) => {
    const names = await telemetry.imageNames();
    return c.json(envelope(names, names.length));
  });
  app.post('/api/images', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) return c.text('Expected request with `Content-Type: application/json`', 415);
    const raw = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      return c.text(`Failed to parse the request body as JSON: ${raw.trim() ? (err as Error).message : 'EOF while parsing a value at line 1 column 0'}`, 400);
    }
    const problem = imagesQueryProblem(body);
    if (problem) return c.text(`Failed to deserialize the JSON body into the target type: ${problem}`, 422);
    const { images, limit } = body as { images?: string[] | null; limit?: number | null };
    const selection = await telemetry.selectImages(images ?? undefined, limit ?? undefined);
    if (selection.kind === 'not-found') return c.text('File not found', 404);
    if (selection.kind === 'image') return c.body(selection.bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'image/png' });
    return c.body((await storedZip(selection.files)) as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="images.zip"' });
  });

  // axum answers a known path with another method 405, with no body.
  for (const path of ['/health', '/api/telemetry', '/api/telemetry/latest', '/api/telemetry/types', '/api/telemetry/stats', '/api/telemetry/tle', '/api/images/list', '/api/images']) {
    app.all(path, (c) => c.body(null, 405));
  }
  return app;
}

/** Rust's str::parse::<i64>: the value, or serde's wording of why not. */
function parseI64(text: string): number | string {
  if (text === '') return 'cannot parse integer from empty string';
  if (!/^[+-]?\d+$/.test(text)) return 'invalid digit found in string';
  const n = BigInt(text);
  if (n > 9223372036854775807n) return 'number too large to fit in target type';
  if (n < -9223372036854775808n) return 'number too small to fit in target type';
  return Number(n);
}

/**
 * What PostgreSQL reads as a timestamptz here: the project's ISO rule (parseZonedIso: real dates
 * only, "T" or a space, any zone form), and without a zone, UTC; a date alone is its midnight.
 */
function parseTimestamp(text: string): number | null {
  const trimmed = text.trim();
  const withTime = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00` : trimmed;
  return parseZonedIso(withTime) ?? parseZonedIso(`${withTime}Z`);
}

/** Why a body is not ImagesQueryParams ({images?: string[] | null, limit?: i64 | null}), or null. */
function imagesQueryProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `invalid type: ${serdeKind(body)}, expected struct ImagesQueryParams`;
  const { images, limit } = body as Record<string, unknown>;
  if (images !== undefined && images !== null) {
    if (!Array.isArray(images)) return `images: invalid type: ${serdeKind(images)}, expected a sequence`;
    const bad = images.findIndex((i) => typeof i !== 'string');
    if (bad !== -1) return `images[${bad}]: invalid type: ${serdeKind(images[bad])}, expected a string`;
  }
  if (limit !== undefined && limit !== null && !(typeof limit === 'number' && Number.isInteger(limit))) return `limit: invalid type: ${serdeKind(limit)}, expected i64`;
  return null;
}

function serdeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  return 'map';
}

/**
 * A zip of the frames, STORED (uncompressed: PNGs do not shrink), as the provider's service sends.
 * fflate is loaded on first use: its tables take about 20 ms to build, which every start paid.
 */
async function storedZip(files: { name: string; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { Zip, ZipPassThrough } = await import('fflate');
  const chunks: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    chunks.push(chunk);
  });
  for (const file of files) {
    const entry = new ZipPassThrough(file.name);
    zip.add(entry);
    entry.push(file.bytes, true);
  }
  zip.end();
  return Buffer.concat(chunks);
}
