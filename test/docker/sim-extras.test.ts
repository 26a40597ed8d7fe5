import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/sim.ts';
import { dockerSim, IMAGES, run, waitForState } from './_docker.ts';

// The simulator-only views of pods: /sim/pods and /sim/pods/logs, on a real engine.

describe('/sim/pods and /sim/pods/logs on Docker', () => {
  const user = uniqueName('x');
  const other = uniqueName('y');

  const env = dockerSim([user, other]);

  const get = async (p: string, as: string) => {
    const res = await env.sim.fetch(p, { user: as });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("shows the user's pods with their states, and what a pod wrote to stdout and stderr; to that user only", async () => {
    await run(env.sim, user, {
      image: IMAGES.alpine,
      pod_name: 'talker',
      command: 'echo "hello from $(hostname)"; echo "something went wrong" >&2; echo done',
    });
    await waitForState(env.sim, user, 'talker', 'terminated');

    const pods = await get('/sim/pods', user);
    expect(pods.status).toBe(200);
    expect(pods.body).toEqual({
      message: `Pods of ${user}`,
      data: [
        expect.objectContaining({
          pod_name: 'talker',
          image: IMAGES.alpine,
          node: 'FPGA',
          state: { terminated: expect.objectContaining({ exitCode: 0, reason: 'Completed' }) },
        }),
      ],
    });

    const logs = await get('/sim/pods/logs?pod_name=talker', user);
    expect(logs.status).toBe(200);
    expect(logs.body.message).toMatch(/real EM keeps no pod output.*write your logs into \/data/);
    expect(logs.body.data).toEqual({
      pod_name: 'talker',
      stdout: `hello from ${user}-talker\ndone\n`,
      stderr: 'something went wrong\n',
    });

    // Another user sees none of it, even naming the pod.
    expect(await get('/sim/pods', other)).toEqual({ status: 200, body: { message: `Pods of ${other}`, data: [] } });
    const theirs = await get('/sim/pods/logs?pod_name=talker', other);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error).toBe('POD_NOT_FOUND');
  });

  it('reads the default pod when pod_name is left out, and refuses a bad pod name', async () => {
    await run(env.sim, user, { image: IMAGES.alpine, command: 'echo default-pod-output' });
    await waitForState(env.sim, user, undefined, 'terminated');
    const logs = await get('/sim/pods/logs', user);
    expect(logs.status).toBe(200);
    expect(logs.body.data).toEqual({ pod_name: 'default', stdout: 'default-pod-output\n', stderr: '' });

    const bad = await get('/sim/pods/logs?pod_name=Hey%20no%20whitespaces', user);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('INVALID_POD_NAME');
  });
});
