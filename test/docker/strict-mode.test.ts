import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, IMAGES, post, requireDocker, waitForState } from './_docker.ts';

// Strict mode holds a client to the seed specification alone; every refusal names its rule.

describe('strict mode', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('s');

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [user], config: { compat: { strict: true } } });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  const expectRefusal = (res: { status: number; body: any }, rule: RegExp) => {
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('STRICT_MODE');
    expect(res.body.message).toMatch(rule);
  };

  it('refuses POST on the GET endpoints, and accepts GET', async () => {
    for (const path of ['/em/files/list', '/em/pod/image/list', '/em/pod/status']) {
      const res = await sim.fetch(path, { user, method: 'POST' });
      expectRefusal({ status: res.status, body: await res.json() }, /spec methods only/);
    }
    expect((await sim.fetch('/em/files/list', { user })).status).toBe(200);
  });

  it('refuses pvc_name and the later endpoints', async () => {
    const res = await sim.fetch('/em/files/list?pvc_name=x', { user });
    expectRefusal({ status: res.status, body: await res.json() }, /pvc_name/);
    expectRefusal(await post(sim, user, '/em/pvc/list', {}), /seed endpoints only/);
    expectRefusal(await post(sim, user, '/em/pvc/delete', { pvc_name: 'x' }), /seed endpoints only/);
  });

  it('requires namespace=true and a created namespace before ports, and answers only to USER-POD', async () => {
    const base = { image: IMAGES.python, node: 'FPGA', max_duration: '1', pod_name: 'web', ports: '80', command: 'python -m http.server 80' };
    expectRefusal(await post(sim, user, '/em/pod/run', base), /namespace=true/);
    expectRefusal(await post(sim, user, '/em/pod/run', { ...base, namespace: 'true' }), /namespace\/create/);
    expect((await post(sim, user, '/em/pod/namespace/create', {})).status).toBe(200);
    expect((await post(sim, user, '/em/pod/run', { ...base, namespace: 'true' })).status).toBe(200);
    await waitForState(sim, user, 'web', 'running');

    const probe = (host: string) =>
      `python -c "import urllib.request; urllib.request.urlopen('http://${host}:80/', timeout=5)" && echo reached || echo blocked`;
    const command = `sleep 1; (${probe(`${user}-web`)}; ${probe('web')}) > /data/out.txt 2>/dev/null`;
    expect((await post(sim, user, '/em/pod/run', { image: IMAGES.python, node: 'FPGA', max_duration: '1', pod_name: 'client', namespace: 'true', command })).status).toBe(200);
    await waitForState(sim, user, 'client', 'terminated');
    const out = await sim.fetch('/em/files/downlink?pod_name=client&filepath=out.txt', { user });
    expect((await out.text()).trim().split('\n')).toEqual(['reached', 'blocked']);
  });
});
