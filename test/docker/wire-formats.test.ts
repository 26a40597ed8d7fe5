import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, downlink, IMAGES, requireDocker, uplink, waitForState } from './_docker.ts';

// Clients of every age: the three body encodings on every POST, GET and POST on the list and
// status endpoints, parameters in the query string, pvc_name wherever pod_name goes.

type Encoding = 'json' | 'urlencoded' | 'multipart' | 'query';
const ENCODINGS: Encoding[] = ['json', 'urlencoded', 'multipart', 'query'];

function request(method: 'GET' | 'POST', params: Record<string, unknown>, encoding: Encoding): { query: string; init: RequestInit } {
  const strings = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  if (encoding === 'query' || method === 'GET') return { query: `?${new URLSearchParams(strings)}`, init: { method } };
  if (encoding === 'json') {
    return { query: '', init: { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) } };
  }
  if (encoding === 'urlencoded') return { query: '', init: { method, body: new URLSearchParams(strings) } };
  const form = new FormData();
  for (const [k, v] of Object.entries(strings)) form.append(k, v);
  return { query: '', init: { method, body: form } };
}

describe('wire formats', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('f');

  const call = async (method: 'GET' | 'POST', path: string, params: Record<string, unknown>, encoding: Encoding) => {
    const { query, init } = request(method, params, encoding);
    const res = await sim.fetch(path + query, { ...init, user });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [user] });
    await uplink(sim, user, { Dockerfile: `FROM ${IMAGES.alpine}\nCMD ["sh", "-c", "echo image-default > /data/default.txt"]\n` }, { dest_path: 'src' });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  for (const encoding of ENCODINGS) {
    it(`build, run, status and delete with ${encoding} parameters`, async () => {
      const tag = `enc-${encoding}`;
      expect(await call('POST', '/em/pod/image/build', { dockerfile: 'src/Dockerfile', context: 'src', image: tag }, encoding)).toEqual({
        status: 200,
        body: { message: 'Docker Image built successfully' },
      });
      const pod = `pod-${encoding}`;
      const run = await call(
        'POST',
        '/em/pod/run',
        { image: tag, node: 'GPU', max_duration: 1, pod_name: pod, command: '/bin/sh', args: ['-c', `echo ${encoding} $MODE > /data/out.txt`], envs: { MODE: 'ok' }, scheduled_time: '', ports: '' },
        encoding,
      );
      expect(run).toEqual({ status: 200, body: { message: 'Docker run scheduled successfully' } });
      await waitForState(sim, user, pod, 'terminated');
      expect(await downlink(sim, user, 'out.txt', pod)).toEqual({ status: 200, text: `${encoding} ok\n` });

      for (const method of ['GET', 'POST'] as const) {
        const status = await call(method, '/em/pod/status', { pod_name: pod }, encoding);
        expect(status.status).toBe(200);
        expect(status.body.data.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
        const list = await call(method, '/em/files/list', { pod_name: pod }, encoding);
        expect(list.body.data.map((f: { name: string }) => f.name)).toEqual(['out.txt']);
        const images = await call(method, '/em/pod/image/list', {}, encoding);
        expect(images.body.data.map((i: { name: string }) => i.name)).toContain(`${user}-${tag}`);
      }

      expect(await call('POST', '/em/files/delete', { filepath: 'out.txt', pod_name: pod }, encoding)).toEqual({
        status: 200,
        body: { message: 'File deleted successfully' },
      });
    });
  }

  // Text a client sends arrives in the pod byte for byte: quotes, $, backslashes, newlines, UTF-8.
  const TEXT = 'naïve "quoted" $HOME `tick` \\ back\nline two ✓ 🚀';
  for (const encoding of ENCODINGS) {
    it(`env values and args arrive in the pod exactly as sent (${encoding})`, async () => {
      const pod = `text-${encoding}`;
      const run = await call(
        'POST',
        '/em/pod/run',
        {
          image: IMAGES.alpine,
          node: 'FPGA',
          max_duration: 1,
          pod_name: pod,
          command: '/bin/sh',
          args: ['-c', 'printf "%s" "$V" > /data/env.txt; printf "%s" "$1" > /data/arg.txt', 'sh', TEXT],
          envs: { V: TEXT },
        },
        encoding,
      );
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      expect(await waitForState(sim, user, pod, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(await downlink(sim, user, 'env.txt', pod)).toEqual({ status: 200, text: TEXT });
      expect(await downlink(sim, user, 'arg.txt', pod)).toEqual({ status: 200, text: TEXT });
    });
  }

  it('container states carry exactly the fields and types Kubernetes gives, in every state', async () => {
    const isoZ = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
    await call('POST', '/em/pod/run', { image: IMAGES.alpine, node: 'FPGA', max_duration: 1, pod_name: 'shape-run', command: 'sleep 30' }, 'json');
    const running = await waitForState(sim, user, 'shape-run', 'running');
    expect(Object.keys(running)).toEqual(['startedAt']);
    expect(running.startedAt).toMatch(isoZ);

    await call('POST', '/em/pod/run', { image: IMAGES.alpine, node: 'FPGA', max_duration: 1, pod_name: 'shape-done', command: 'true' }, 'json');
    const done = await waitForState(sim, user, 'shape-done', 'terminated');
    expect(Object.keys(done).sort()).toEqual(['exitCode', 'finishedAt', 'reason', 'startedAt']);
    expect(Number.isInteger(done.exitCode)).toBe(true);
    expect(done.startedAt).toMatch(isoZ);
    expect(done.finishedAt).toMatch(isoZ);

    await call('POST', '/em/pod/run', { image: 'not-onboard-image:1', node: 'FPGA', max_duration: 1, pod_name: 'shape-wait' }, 'json');
    const waiting = await waitForState(sim, user, 'shape-wait', 'waiting');
    expect(Object.keys(waiting).sort()).toEqual(['message', 'reason']);
    expect(typeof waiting.reason).toBe('string');
    expect(typeof waiting.message).toBe('string');
  });

  it('uplink takes its fields from the form or the query string; a body that is not multipart has no files', async () => {
    const form = new FormData();
    form.append('files', new Blob(['via query']), 'q.txt');
    const res = await sim.fetch('/em/files/uplink?pod_name=upq&dest_path=in/query', { user, method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await downlink(sim, user, 'in/query/q.txt', 'upq')).toEqual({ status: 200, text: 'via query' });

    for (const encoding of ['json', 'urlencoded'] as const) {
      const none = await call('POST', '/em/files/uplink', { dest_path: 'x' }, encoding);
      expect(none).toEqual({ status: 400, body: { error: 'NO_FILES', message: 'No files were provided for uplink!' } });
    }
  });

  it('pvc_name selects the volume wherever pod_name does, and on run mounts it under another pod', async () => {
    await uplink(sim, user, { 'shared.txt': 'in shared volume' }, { pvc_name: 'shared' });
    expect(await downlink(sim, user, 'shared.txt', 'shared')).toEqual({ status: 200, text: 'in shared volume' });
    const run = await call('POST', '/em/pod/run', { image: IMAGES.alpine, node: 'FPGA', max_duration: 1, pod_name: 'reader', pvc_name: 'shared', command: 'cat /data/shared.txt > /data/copy.txt' }, 'json');
    expect(run.status).toBe(200);
    await waitForState(sim, user, 'reader', 'terminated');
    expect(await downlink(sim, user, 'copy.txt', 'shared')).toEqual({ status: 200, text: 'in shared volume' });
    // The pod's own volume stays untouched.
    expect((await downlink(sim, user, 'copy.txt', 'reader')).status).toBe(404);

    const pvcs = await call('POST', '/em/pvc/list', {}, 'json');
    expect(pvcs.status).toBe(200);
    const shared = pvcs.body.data.find((v: { pvc_name: string }) => v.pvc_name === 'shared');
    expect(shared).toMatchObject({ size: 32, file_count: 2, in_use_by: [] });
    expect(Date.parse(shared.created_at)).not.toBeNaN();
  });

  it('pvc/delete refuses a volume a pod is using, then deletes it with pvc or pvc_name', async () => {
    const run = await call('POST', '/em/pod/run', { image: IMAGES.alpine, node: 'FPGA', max_duration: 1, pod_name: 'busy-vol', command: 'sleep 30' }, 'json');
    expect(run.status).toBe(200);
    await waitForState(sim, user, 'busy-vol', 'running');
    const refused = await call('POST', '/em/pvc/delete', { pvc: 'busy-vol' }, 'json');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('VOLUME_IN_USE');

    await uplink(sim, user, { 'gone.txt': 'x' }, { pod_name: 'old-vol' });
    expect(await call('POST', '/em/pvc/delete', { pvc_name: 'old-vol' }, 'urlencoded')).toEqual({ status: 200, body: { message: 'PVC deleted successfully' } });
    expect((await downlink(sim, user, 'gone.txt', 'old-vol')).status).toBe(404);
    expect((await call('POST', '/em/pvc/delete', { pvc_name: 'old-vol' }, 'json')).body.error).toBe('VOLUME_NOT_FOUND');
  });
});
