import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';

/*
 * Namespace files over HTTP (issue 12): uploaded, listed with versions, downloaded; bad paths and
 * bodies refused with a status and {"error", "message"}, and nothing half-written left behind.
 */

describe('namespace files', () => {
  const user = uniqueName('ns');
  const other = uniqueName('ns');
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ users: [user, other], config: { limits: { uplink_max_bytes: 1000 } } });
  });
  afterAll(() => sim?.close());

  const upload = (file: string, body: string | Uint8Array, who = user, namespace = 'em_testing') =>
    sim.fetch(`/sim/namespaces/${namespace}/files?path=${encodeURIComponent(file)}`, { user: who, method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: body as BodyInit });
  const blobs = () => readdirSync(path.join(sim.dataDir, 'blobs')).length;

  it('keeps every version of a path, lists them, and serves each', async () => {
    expect(await (await upload('tests/calibration.json', '{"gain": 1}')).json()).toMatchObject({ path: '/tests/calibration.json', version: 1, size: 11 });
    expect(await (await upload('/tests/calibration.json', '{"gain": 2}')).json()).toMatchObject({ version: 2 });
    const listing = (await (await sim.fetch('/sim/namespaces/em_testing/files', { user })).json()) as { data: any[] };
    expect(listing.data).toEqual([
      expect.objectContaining({ path: '/tests/calibration.json', version: 2, size: 11, versions: [expect.objectContaining({ version: 1 }), expect.objectContaining({ version: 2 })] }),
    ]);
    const v1 = await sim.fetch('/sim/namespaces/em_testing/files/content?path=/tests/calibration.json&version=1', { user });
    expect(v1.headers.get('content-disposition')).toBe('attachment; filename="calibration.json"');
    expect(await v1.text()).toBe('{"gain": 1}');
    expect(await (await sim.fetch('/sim/namespaces/em_testing/files/content?path=tests/calibration.json', { user })).text()).toBe('{"gain": 2}');
    const v9 = await sim.fetch('/sim/namespaces/em_testing/files/content?path=/tests/calibration.json&version=9', { user });
    expect(v9.status).toBe(404);
    expect(await v9.json()).toEqual({ error: 'FILE_NOT_FOUND', message: 'Version 9 of "/tests/calibration.json" does not exist in namespace "em_testing"' });
  });

  it('refuses paths out of the namespace, the root, a file over a folder and a folder over a file', async () => {
    const refused = async (file: string) => {
      const res = await upload(file, 'x');
      return { status: res.status, body: (await res.json()) as { error: string; message: string } };
    };
    expect(await refused('../../etc/passwd')).toMatchObject({ status: 403, body: { error: 'ILLEGAL_PATH' } });
    expect(await refused('/')).toMatchObject({ status: 400, body: { error: 'INVALID_PATH' } });
    expect(await refused('/a\u0001b')).toMatchObject({ status: 400, body: { error: 'INVALID_PATH' } });
    const kept = blobs();
    expect(await refused('/tests')).toEqual({
      status: 400,
      body: { error: 'INVALID_PATH', message: '"/tests" is a folder of the namespace (it holds "/tests/calibration.json"); a file cannot replace it; nothing was kept' },
    });
    expect(await refused('/tests/calibration.json/inner')).toEqual({
      status: 400,
      body: { error: 'INVALID_PATH', message: '"/tests/calibration.json" is a file of the namespace, so "/tests/calibration.json/inner" cannot be made inside it; nothing was kept' },
    });
    // The refused files' bytes were written first (the check is in the transaction that adds them) and are gone again.
    expect(blobs()).toBe(kept);
    const badNamespace = await upload('x.txt', 'x', user, 'em%20testing');
    expect(badNamespace.status).toBe(400);
    expect(await badNamespace.json()).toMatchObject({ error: 'INVALID_PARAMETER' });
    const missing = await sim.fetch('/sim/namespaces/em_testing/files', { user, method: 'POST', body: 'x' });
    expect(await missing.json()).toMatchObject({ error: 'MISSING_PARAMETER' });
  });

  it('refuses a file past limits.uplink_max_bytes, declared or not, and keeps nothing of it', async () => {
    const before = blobs();
    const declared = await upload('big.bin', new Uint8Array(5000));
    expect(declared.status).toBe(400);
    expect(await declared.json()).toMatchObject({ error: 'MAX_UPLINK_SIZE_EXCEEDED' });
    // Streamed without a length: refused once the limit is passed.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(500));
        controller.close();
      },
    });
    const chunked = await sim.fetch('/sim/namespaces/em_testing/files?path=big2.bin', { user, method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(400);
    expect(await chunked.json()).toMatchObject({ error: 'MAX_UPLINK_SIZE_EXCEEDED' });
    expect(blobs()).toBe(before);
    expect(readdirSync(path.join(sim.dataDir, 'tmp')).filter((n) => n.startsWith('blob-'))).toEqual([]);
  });

  it('shows a user only their own namespaces', async () => {
    expect(await (await sim.fetch('/sim/namespaces/em_testing/files', { user: other })).json()).toEqual({ data: [] });
    expect((await sim.fetch('/sim/namespaces/em_testing/files/content?path=/tests/calibration.json', { user: other })).status).toBe(404);
    expect((await fetch(`${sim.url}/sim/namespaces/em_testing/files`)).status).toBe(401);
  });

  it('takes operations as YAML only, and not empty', async () => {
    const json = await sim.fetch('/sim/executions', { user, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('application/yaml') });
    const empty = await sim.fetch('/sim/operations/validate', { user, method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: '  \n' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: 'MISSING_PARAMETER' });
    const unknown = await sim.fetch('/sim/executions/not-an-id', { user });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'EXECUTION_NOT_FOUND' });
  });
});
