import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, startSim, type TestSim } from '../helpers/sim.ts';

// Without a Docker engine the file API keeps working; pod and image endpoints say what to start.

describe('without a Docker engine', () => {
  let sim: TestSim;
  const env = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

  beforeAll(async () => {
    sim = await startSim({ dockerEnv: env });
  });
  afterAll(() => sim.close());

  it('answers 503 DOCKER_UNAVAILABLE on every pod and image endpoint (and the pod logs), naming the socket and what to start', async () => {
    const expected = {
      error: 'DOCKER_UNAVAILABLE',
      message:
        'No Docker engine: no Docker engine answers at unix:///nonexistent/docker.sock (from DOCKER_HOST): start the engine there, or unset DOCKER_HOST to use /var/run/docker.sock. File endpoints keep working meanwhile.',
    };
    const calls: [string, RequestInit][] = [
      ['/em/pod/run', { method: 'POST', body: new URLSearchParams({ image: 'alpine', node: 'FPGA', max_duration: '1' }) }],
      ['/em/pod/status', {}],
      ['/em/pod/image/list', {}],
      ['/em/pod/image/build', { method: 'POST', body: new URLSearchParams({ dockerfile: 'Dockerfile', image: 'x' }) }],
      ['/em/pod/image/load', { method: 'POST', body: new URLSearchParams({ tarfile: 'x.tar', image: 'x' }) }],
      ['/em/pod/namespace/create', { method: 'POST' }],
      ['/sim/pods/logs', {}],
    ];
    for (const [path, init] of calls) {
      const res = await sim.fetch(path, init);
      expect(res.status, path).toBe(503);
      expect(await res.json()).toEqual(expected);
    }
  });

  it('keeps the file endpoints working', async () => {
    const up = await sim.fetch('/em/files/uplink', { method: 'POST', body: form({ 'a.txt': 'still here' }) });
    expect(up.status).toBe(200);
    const list = (await (await sim.fetch('/em/files/list')).json()) as { data: { name: string }[] };
    expect(list.data.map((f) => f.name)).toEqual(['a.txt']);
    const down = await sim.fetch('/em/files/downlink?filepath=a.txt');
    expect(await down.text()).toBe('still here');
    expect((await sim.fetch('/em/files/delete', { method: 'POST', body: new URLSearchParams({ filepath: 'a.txt' }) })).status).toBe(200);
  });
});
