import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/domain/errors.ts';
import { STATUS_OF } from '../../src/http/error-table.ts';
import { toOpenApiPath } from '../../src/http/openapi.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';

type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  responses: Record<string, { content?: { 'application/json'?: { examples?: Record<string, unknown> } } }>;
  security?: unknown[];
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe('the OpenAPI document', () => {
  let sim: TestSim;
  let text: string;
  let doc: Document;

  beforeAll(async () => {
    sim = await startSim();
    const res = await fetch(`${sim.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    text = await res.text();
    doc = JSON.parse(text) as Document;
  });
  afterAll(() => sim?.close());

  it('is a valid OpenAPI 3.1 document, served without authentication', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(text) as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every route the server serves, with each of its methods', () => {
    // Hono lists middleware as method "ALL"; everything else is a handler a client can reach.
    const served = sim.running.sim.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${toOpenApiPath(r.path)}`);
    expect(served.length).toBeGreaterThan(20);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(new Set(documented)).toEqual(new Set(served));
  });

  it('is right about which operations need a token: each that says so answers 401 without one, no other does', async () => {
    let secured = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const res = await fetch(sim.url + path.replace(/\{[^}]+\}/g, 'x'), { method: method.toUpperCase() });
        const body = await res.text();
        if (op.security) {
          secured++;
          expect(res.status, `${method} ${path}`).toBe(401);
          expect(JSON.parse(body), `${method} ${path}`).toEqual({ detail: 'Authentication credentials were not provided.' });
        } else {
          expect(res.status, `${method} ${path}: ${body}`).not.toBe(401);
        }
      }
    }
    expect(secured).toBeGreaterThan(20);
  });

  it('has every endpoint of the specification, with the spec\'s method first', () => {
    const spec: [string, string][] = [
      ['post', '/auth/'],
      ['post', '/auth/refresh'],
      ['post', '/em/files/uplink'],
      ['get', '/em/files/list'],
      ['get', '/em/files/downlink'],
      ['post', '/em/files/delete'],
      ['post', '/em/pod/image/build'],
      ['post', '/em/pod/image/load'],
      ['get', '/em/pod/image/list'],
      ['post', '/em/pod/namespace/create'],
      ['post', '/em/pod/run'],
      ['get', '/em/pod/status'],
    ];
    for (const [method, path] of spec) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });

  it('documents the parameters of each endpoint, in the query for GET and in all three body encodings for POST', () => {
    const run = doc.paths['/em/pod/run']!.post!;
    const encodings = Object.keys(run.requestBody!.content);
    expect(encodings.sort()).toEqual(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    const runFields = Object.keys(run.requestBody!.content['application/json']!.schema.properties!);
    for (const name of ['image', 'max_duration', 'node', 'scheduled_time', 'command', 'args', 'envs', 'pod_name', 'pvc_name', 'ports', 'namespace']) {
      expect(runFields).toContain(name);
    }
    const downlink = doc.paths['/em/files/downlink']!.get!;
    expect(downlink.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:filepath', 'query:pod_name']));
    const uplink = doc.paths['/em/files/uplink']!.post!;
    expect(Object.keys(uplink.requestBody!.content)).toEqual(['multipart/form-data']);
    expect(Object.keys(uplink.requestBody!.content['multipart/form-data']!.schema.properties!)).toEqual(
      expect.arrayContaining(['files', 'dest_path', 'pod_name']),
    );
  });

  it('gives each error code under its status, and 401 and 423 on every /em/* operation', () => {
    const mentioned = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses)) {
          for (const code of Object.keys(response.content?.['application/json']?.examples ?? {})) {
            if (!(code in ErrorCode)) continue;
            mentioned.add(code);
            expect(String(STATUS_OF[code as ErrorCode]), `${method} ${path} lists ${code} under ${status}`).toBe(status);
          }
        }
        if (path.startsWith('/em/')) {
          expect(op.responses['401'], `${method} ${path} 401`).toBeDefined();
          expect(op.responses['423'], `${method} ${path} 423`).toBeDefined();
          expect(op.security).toEqual([{ bearerAuth: [] }]);
        }
      }
    }
    for (const code of ['NO_FILES', 'MAX_UPLINK_SIZE_EXCEEDED', 'ILLEGAL_PATH', 'FILE_NOT_FOUND', 'DELETE_FAILED', 'BUILD_FAILED', 'IMAGE_LOAD_FAILED', 'INVALID_POD_NAME', 'INVALID_NODE', 'INVALID_SCHEDULED_TIME', 'CG2_BUSY', 'DOCKER_UNAVAILABLE', 'STRICT_MODE']) {
      expect(mentioned, code).toContain(code);
    }
  });

  it('declares every tag its operations use, and documents the errors the shared parameter reader answers', () => {
    const declared = new Set((JSON.parse(text) as { tags: { name: string }[] }).tags.map((t) => t.name));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as [string, Operation & { tags: string[] }][]) {
        for (const tag of op.tags) expect(declared, `${method} ${path} tag ${tag}`).toContain(tag);
      }
    }
    // A body that is not one of the three encodings, and a malformed one, on any endpoint that reads parameters.
    for (const [method, path] of [['post', '/em/files/delete'], ['get', '/em/files/list'], ['post', '/em/pvc/delete'], ['post', '/em/pod/run']] as const) {
      const op = doc.paths[path]![method]!;
      expect(Object.keys(op.responses['415']!.content!['application/json']!.examples!), `${method} ${path}`).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
      expect(Object.keys(op.responses['400']!.content!['application/json']!.examples!), `${method} ${path}`).toContain('INVALID_PARAMETER');
    }
    // /auth/ keeps SimpleJWT's 400 body beside the parameter reader's.
    expect(Object.keys(doc.paths['/auth/']!.post!.responses['400']!.content!['application/json']!.examples!)).toEqual(['simplejwt', 'INVALID_PARAMETER']);
  });

  it('describes the downlink as this server answers it: bytes, or base64 JSON under compat.downlink_base64', async () => {
    const bytes = doc.paths['/em/files/downlink']!.get!.responses['200'] as { content: Record<string, unknown> };
    expect(Object.keys(bytes.content)).toEqual(['application/octet-stream']);
    await using older = await startSim({ config: { compat: { downlink_base64: true } } });
    const olderDoc = (await (await fetch(`${older.url}/openapi.json`)).json()) as Document;
    const json = olderDoc.paths['/em/files/downlink']!.get!.responses['200'] as { content: Record<string, { example: unknown }> };
    expect(json.content['application/json']!.example).toEqual({ filename: expect.any(String), content: expect.any(String) });
  });

  it('writes the list example\'s 64-bit hash with every digit', () => {
    expect(text).toContain('"hash":5686952638663605203');
  });

  it('serves an interactive page that loads the document, and its assets, but no other file', async () => {
    const page = await fetch(`${sim.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("url: '/openapi.json'");
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
      expect(html).toContain(`/docs/${asset}`);
      const res = await fetch(`${sim.url}/docs/${asset}`);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    for (const name of ['package.json', 'index.js', '..%2Fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await fetch(`${sim.url}/docs/${name}`);
      expect(res.status, name).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe('NOT_FOUND');
    }
  });
});
