import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';

/*
 * The routes the dashboard (issue 15) added for everyone, scripts included: operations saved with
 * revisions without running them, the namespaces a user has, the satellite's timeline, and the
 * pages themselves. What a client sees: statuses, bodies, and that nobody sees another's things.
 */

const OP = (description: string) => `id: hello
namespace: em_testing
description: ${description}
tasks:
  - id: list
    type: dphi.space.cg2.files.list
`;

/** A GET that asks for no compression (fetch always asks for gzip): its body, encoding and ETag. */
function rawGet(url: string): Promise<{ body: Buffer; encoding: string | undefined; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'Accept-Encoding': 'identity' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ body: Buffer.concat(chunks), encoding: res.headers['content-encoding'], etag: res.headers.etag }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the dashboard\'s routes', () => {
  const user = uniqueName('db');
  const other = uniqueName('db');
  // The MPU is powered for the first half of every hour (from the epoch); busy 10 minutes of every 2 hours.
  // The GPU follows the sunlight, so its power must switch exactly at the eclipses' edges.
  const nodes = { MPU: { availability: [{ every: 3600, duration: 1800, offset: 0 }] }, GPU: { availability: 'sunlit' as const } };
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ users: [user, other], config: { nodes, busy_windows: [{ every: 7200, duration: 600, offset: 3000 }] } });
  });
  afterAll(() => sim?.close());

  const save = async (yaml: string, who = user) => {
    const res = await sim.fetch('/sim/operations', { user: who, method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    return { status: res.status, body: (await res.json()) as any, location: res.headers.get('location') };
  };
  const get = async (path: string, who = user) => {
    const res = await sim.fetch(path, { user: who });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('saves an operation without running it: a new revision only when the text changes; each revision is read back', async () => {
    const first = await save(OP('one'));
    expect(first).toMatchObject({ status: 201, location: '/sim/operations/em_testing/hello', body: { namespace: 'em_testing', operation: 'hello', revision: 1, revisions: 1 } });
    expect(first.body.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The same text again saves nothing: 200 with the latest, no Location.
    expect(await save(OP('one'))).toMatchObject({ status: 200, location: null, body: { revision: 1, revisions: 1 } });
    expect((await save(OP('two'))).body).toMatchObject({ revision: 2, revisions: 2 });

    expect((await get('/sim/operations')).body.data).toEqual([expect.objectContaining({ namespace: 'em_testing', operation: 'hello', revision: 2, revisions: 2 })]);
    const latest = await get('/sim/operations/em_testing/hello');
    expect(latest.body).toMatchObject({ revision: 2, source: OP('two'), revisions: [{ revision: 1 }, { revision: 2 }] });
    expect((await get('/sim/operations/em_testing/hello?revision=1')).body.source).toBe(OP('one'));
    // Executing the same text keeps its revision; no execution was made by saving.
    expect((await get('/sim/executions')).body.data).toEqual([]);
    const exec = await sim.fetch('/sim/executions', { user, method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: OP('two') });
    expect(((await exec.json()) as { revision: number }).revision).toBe(2);
  });

  it('refuses an invalid operation with every problem and saves nothing', async () => {
    const bad = await save('id: broken\ntasks:\n  - id: a\n    type: dphi.space.cg2.pod.runn\n');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'INVALID_OPERATION', errors: [{ line: 4, column: 11, key: 'tasks[0].type' }] });
    expect(bad.body.message).toMatch(/^The operation has 1 error; the first: line 4, column 11/);
    expect((await get('/sim/operations')).body.data.map((o: { operation: string }) => o.operation)).toEqual(['hello']);
    const empty = await sim.fetch('/sim/operations', { user, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(empty.status).toBe(415);
  });

  it('answers 404 OPERATION_NOT_FOUND for an unknown operation or revision, and another user\'s is unknown', async () => {
    expect(await get('/sim/operations/em_testing/hello?revision=9')).toEqual({
      status: 404,
      body: { error: 'OPERATION_NOT_FOUND', message: 'Operation "em_testing/hello" has no revision 9; its revisions: 1 to 2' },
    });
    expect((await get('/sim/operations/em_testing/hello', other)).body.error).toBe('OPERATION_NOT_FOUND');
    expect((await get('/sim/operations', other)).body).toEqual({ data: [] });
    expect((await get('/sim/operations/em_testing/hello?revision=0')).body.error).toBe('INVALID_PARAMETER');
    expect((await get('/sim/operations/..%2F..%2Fetc/passwd')).status).toBe(404);
    expect((await fetch(`${sim.url}/sim/operations`)).status).toBe(401);
  });

  it('lists the namespaces a user has used: their operations\' and their files\'', async () => {
    const up = await sim.fetch('/sim/namespaces/files_only/files?path=/a.txt', { user, method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: 'a' });
    expect(up.status).toBe(201);
    expect((await get('/sim/namespaces')).body).toEqual({ data: ['em_testing', 'files_only'] });
    expect((await get('/sim/namespaces', other)).body).toEqual({ data: [] });
  });

  it('gives the satellite\'s timeline: orbits from ascending node to ascending node, node power, busy windows, the ground track', async () => {
    const { status, body: t } = await get('/sim/satellite?hours=4&step_seconds=30');
    expect(status).toBe(200);
    const from = Date.parse(t.from);
    const to = Date.parse(t.to);
    expect(to - Date.parse(t.now)).toBe(4 * 3_600_000);
    expect(Date.parse(t.now) - from).toBe(15 * 60_000);
    // Orbits tile the range; the whole ones last a period (to the sampling step).
    expect(t.orbits[0].start).toBe(t.from);
    expect(t.orbits.at(-1).end).toBe(t.to);
    for (const [i, o] of t.orbits.entries()) if (i > 0) expect(o.start).toBe(t.orbits[i - 1].end);
    for (const o of t.orbits.slice(1, -1)) expect(Math.abs((Date.parse(o.end) - Date.parse(o.start)) / 1000 - t.period_seconds)).toBeLessThanOrEqual(30);
    expect(t.period_seconds).toBeGreaterThan(5000);
    // FPGA and GPU are always powered; the MPU for the first half of each hour.
    expect(t.nodes.find((n: any) => n.node === 'FPGA').powered).toEqual([{ start: t.from, end: t.to }]);
    const mpu = t.nodes.find((n: any) => n.node === 'MPU').powered as { start: string; end: string }[];
    for (const s of mpu) {
      expect(new Date(s.end).getUTCMinutes() === 30 || s.end === t.to).toBe(true);
      expect(new Date(s.start).getUTCMinutes() === 0 || s.start === t.from).toBe(true);
    }
    expect(mpu.length).toBeGreaterThanOrEqual(4);
    // Busy from 3000 s past every second hour's start, for 600 s.
    for (const b of t.busy) if (b.start !== t.from && b.end !== t.to) expect((Date.parse(b.end) - Date.parse(b.start)) / 1000).toBe(600);
    expect(t.busy.length).toBeGreaterThanOrEqual(1);
    expect(t.ground_track).toHaveLength((4 * 3600 + 900) / 30 + 1);
    for (const p of t.ground_track) {
      expect(Math.abs(p.latitude)).toBeLessThanOrEqual(98);
      expect(Math.abs(p.longitude)).toBeLessThanOrEqual(180);
    }
    expect(t.runs).toEqual([]);
  });

  it('finds orbit and eclipse edges to a second whatever the ground track\'s step', async () => {
    const fine = (await get('/sim/satellite?hours=6&step_seconds=10')).body;
    const coarse = (await get('/sim/satellite?hours=6&step_seconds=600')).body;
    // The clock moves between the two requests: compare the edges inside both ranges.
    const starts = (t: any, key: 'orbits' | 'eclipses') => t[key].map((o: any) => Date.parse(o.start)).filter((s: number) => s > Date.parse(coarse.from) + 60_000);
    for (const key of ['orbits', 'eclipses'] as const) {
      const a = starts(fine, key);
      const b = starts(coarse, key);
      expect(a.length, key).toBeGreaterThan(1);
      expect(b).toHaveLength(a.length);
      for (const [i, s] of a.entries()) expect(Math.abs(s - b[i]), `${key} ${i}`).toBeLessThanOrEqual(2000);
    }
    expect(fine.truncated).toBe(false);
    // A node powered while sunlit goes down when an eclipse starts, and up when it ends (both edges
    // are found to a second, each from its own side).
    // Checked on the coarsest step, where sampling alone would miss by minutes.
    const gpu = coarse.nodes.find((n: any) => n.node === 'GPU').powered as { start: string; end: string }[];
    const near = (times: string[], t: string) => Math.min(...times.map((x) => Math.abs(Date.parse(x) - Date.parse(t))));
    for (const e of coarse.eclipses as { start: string; end: string }[]) {
      if (e.start !== coarse.from) expect(near(gpu.map((p) => p.end), e.start), e.start).toBeLessThanOrEqual(1000);
      if (e.end !== coarse.to) expect(near(gpu.map((p) => p.start), e.end), e.end).toBeLessThanOrEqual(1000);
    }
  });

  it('refuses satellite ranges it cannot draw, naming the parameter', async () => {
    for (const q of ['hours=abc', 'hours=0', 'hours=49', 'hours=-1', 'step_seconds=5', 'step_seconds=601', 'hours=48&step_seconds=10']) {
      const { status, body } = await get(`/sim/satellite?${q}`);
      expect({ q, status, error: body.error }).toEqual({ q, status: 400, error: 'INVALID_PARAMETER' });
      expect(body.message).toMatch(/hours|step_seconds/);
    }
    expect((await fetch(`${sim.url}/sim/satellite`)).status).toBe(401);
  });

  it('says when window lists were cut short (windows that flip faster than a chart can show)', async () => {
    await using fast = await startSim({ config: { busy_windows: [{ every: 20, duration: 10, offset: 0 }] } });
    const res = await fast.fetch('/sim/satellite?hours=48&step_seconds=600');
    const t = (await res.json()) as { busy: unknown[]; truncated: boolean };
    expect(t.busy).toHaveLength(5000);
    expect(t.truncated).toBe(true);
  });

  it('keeps a client\'s polls (X-EM-Sim-Poll: 1) out of the user\'s request history; its actions stay in', async () => {
    await sim.fetch('/sim/clock', { user: other, headers: { 'X-EM-Sim-Poll': '1' } });
    await sim.fetch('/sim/namespaces', { user: other });
    const recent = (await get('/sim/requests', other)).body.data.map((r: { path: string }) => r.path);
    expect(recent).toContain('/sim/namespaces');
    expect(recent).not.toContain('/sim/clock');
  });

  it('serves / and the dashboard\'s fixed files, nothing else', async () => {
    const home = await fetch(`${sim.url}/`);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await home.text()).toContain('<a href="/ui">The dashboard</a>');
    const page = await fetch(`${sim.url}/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/ui/app.js"></script>');
    expect((await fetch(`${sim.url}/ui/`)).status).toBe(200);
    const script = await fetch(`${sim.url}/ui/app.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    // Sent compressed to a client that asks (fetch asks, and unpacks it): the same bytes as the file.
    const built = readFileSync('dist/ui/app.js', 'utf8');
    expect(script.headers.get('content-encoding')).toBe('gzip');
    expect(await script.text()).toBe(built);
    const plain = await rawGet(`${sim.url}/ui/app.js`);
    expect([plain.encoding, plain.body.length]).toEqual([undefined, Buffer.byteLength(built)]);
    // The browser's cache revalidates: each representation answers 304 to its own ETag only.
    const etag = script.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+-gz"$/);
    expect(plain.etag).toBe(etag.replace('-gz"', '"'));
    expect((await fetch(`${sim.url}/ui/app.js`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await fetch(`${sim.url}/ui/app.js`, { headers: { 'If-None-Match': plain.etag! } })).status).toBe(200);
    for (const name of ['..%2Fem-sim.cjs', '..%2F.v8-cache', 'nope.js', '.hidden.js', 'app.ts', 'x.constructor', 'y.__proto__']) {
      const res = await fetch(`${sim.url}/ui/${name}`);
      expect({ name, status: res.status }).toEqual({ name, status: 404 });
      expect((await res.json()) as object).toMatchObject({ error: 'NOT_FOUND' });
    }
  });
});
