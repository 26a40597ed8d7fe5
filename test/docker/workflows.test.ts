import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/sim.ts';
import { dockerSim, downlink, IMAGES, post, run, uplink, waitForState } from './_docker.ts';

// The four workflows of the provider's client guide (seed 001), end to end on a real engine.

const DOCKERFILE = `FROM ${IMAGES.alpine}\nCOPY echo-test.sh /echo-test.sh\nCMD ["sh", "/echo-test.sh"]\n`;
const SCRIPT = `#!/bin/sh\necho "echo-test ran on $(hostname)" > /data/downlink.txt\n`;

describe('client guide workflows on Docker', () => {
  const user = uniqueName('w');

  const env = dockerSim([user]);

  it('simple operations: uplink, build, run on FPGA, run on GPU with a command, downlink, clean up', async () => {
    await uplink(env.sim, user, { Dockerfile: DOCKERFILE, 'echo-test.sh': SCRIPT }, { dest_path: 'echo-test' });

    const build = await post(env.sim, user, '/em/pod/image/build', { dockerfile: './echo-test/Dockerfile', image: 'echo-test', context: './echo-test' });
    expect(build).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });

    const images = await env.sim.fetch('/em/pod/image/list', { user });
    const list = (await images.json()) as { message: string; data: Record<string, unknown>[] };
    expect(list.message).toBe('Successfully loaded list of docker images');
    expect(list.data).toEqual([
      expect.objectContaining({ name: `${user}-echo-test`, tag: 'latest', architecture: expect.any(String), id: expect.stringMatching(/^sha256:/) }),
    ]);

    // Run on FPGA with the image's own command: the script writes into the default volume.
    await run(env.sim, user, { image: 'echo-test', node: 'FPGA', max_duration: 1 });
    const done = await waitForState(env.sim, user, undefined, 'terminated');
    expect(done).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await downlink(env.sim, user, 'downlink.txt')).toEqual({ status: 200, text: `echo-test ran on ${user}-default\n` });

    // Run on GPU with a command: through /bin/sh -c, so the redirection writes the file.
    await run(env.sim, user, { image: 'echo-test', node: 'GPU', max_duration: 1, command: 'echo 123 > /data/gpu-downlink.txt' });
    await waitForState(env.sim, user, undefined, 'terminated');
    expect(await downlink(env.sim, user, 'gpu-downlink.txt')).toEqual({ status: 200, text: '123\n' });

    // Clean up, as the example does.
    for (const filepath of ['echo-test', 'downlink.txt', 'gpu-downlink.txt']) {
      expect(await post(env.sim, user, '/em/files/delete', { filepath })).toEqual({ status: 200, body: { message: 'File deleted successfully' } });
    }
    const after = await env.sim.fetch('/em/files/list', { user });
    expect(await after.json()).toEqual({ message: 'Successfully listed files', data: [] });
  });

  it('pod volumes: files a pod writes are visible only under its pod_name', async () => {
    await run(env.sim, user, {
      image: IMAGES.python,
      pod_name: 'pod-a',
      max_duration: 30,
      command: "echo 'Is this the final frontier?' > /data/hello-space.txt",
    });
    await waitForState(env.sim, user, 'pod-a', 'terminated');
    await uplink(env.sim, user, { 'hello-world.txt': 'hello world\n' }, { pod_name: 'pod-a' });

    const podList = (await (await env.sim.fetch('/em/files/list?pod_name=pod-a', { user })).json()) as { data: { name: string }[] };
    expect(podList.data.map((f) => f.name).sort()).toEqual(['hello-space.txt', 'hello-world.txt']);
    const defaultList = (await (await env.sim.fetch('/em/files/list', { user })).json()) as { data: { name: string }[] };
    expect(defaultList.data.map((f) => f.name)).not.toContain('hello-space.txt');

    expect(await downlink(env.sim, user, 'hello-space.txt', 'pod-a')).toEqual({ status: 200, text: 'Is this the final frontier?\n' });
    expect((await downlink(env.sim, user, 'hello-space.txt')).status).toBe(404);

    // Deleting without the pod_name looks in the default volume and finds nothing.
    expect((await post(env.sim, user, '/em/files/delete', { filepath: 'hello-world.txt' })).status).toBe(400);
    expect(await post(env.sim, user, '/em/files/delete', { filepath: 'hello-world.txt', pod_name: 'pod-a' })).toEqual({
      status: 200,
      body: { message: 'File deleted successfully' },
    });
  });

  it('inter-pod communication: a client pod fetches from a server pod by USER-POD and by POD', async () => {
    expect(await post(env.sim, user, '/em/pod/namespace/create', {})).toEqual({ status: 200, body: { message: 'Namespace created successfully' } });
    // Idempotent, as clients call it before every session.
    expect((await post(env.sim, user, '/em/pod/namespace/create', {})).status).toBe(200);

    await uplink(env.sim, user, { 'index.html': 'served from the server pod\n' }, { pod_name: 'server' });
    await run(env.sim, user, {
      image: IMAGES.python,
      pod_name: 'server',
      max_duration: 2,
      namespace: true,
      ports: [80],
      command: 'cd /data && python -m http.server 80',
    });
    await waitForState(env.sim, user, 'server', 'running');
    await run(env.sim, user, {
      image: IMAGES.python,
      pod_name: 'client',
      max_duration: 1,
      namespace: true,
      // The server may need a moment to listen; retry like a patient client would.
      command: `for i in $(seq 1 30); do wget -q ${user}-server:80/index.html -O /data/server-data.txt && break; sleep 1; done; wget -q server:80/index.html -O /data/short-name.txt`,
    });
    const client = await waitForState(env.sim, user, 'client', 'terminated');
    expect(client).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await downlink(env.sim, user, 'server-data.txt', 'client')).toEqual({ status: 200, text: 'served from the server pod\n' });
    expect(await downlink(env.sim, user, 'short-name.txt', 'client')).toEqual({ status: 200, text: 'served from the server pod\n' });
  });

  it('env and args: Kubernetes semantics for command, args and envs', async () => {
    // command split into words, args appended: the shell gets the script as one argument.
    await run(env.sim, user, {
      image: IMAGES.alpine,
      pod_name: 'env-args',
      command: '/bin/sh',
      args: ['-c', 'echo testing args $DURATION $SIZE > /data/test.txt'],
      envs: { DURATION: 60, SIZE: 1024 },
    });
    await waitForState(env.sim, user, 'env-args', 'terminated');
    expect(await downlink(env.sim, user, 'test.txt', 'env-args')).toEqual({ status: 200, text: 'testing args 60 1024\n' });

    // The guide's literal example: "/bin/sh -c" plus two args. As on Kubernetes, the second arg
    // becomes $0, so the echo goes to stdout and no file is written.
    await run(env.sim, user, {
      image: IMAGES.alpine,
      pod_name: 'env-args',
      command: '/bin/sh -c',
      args: ['echo testing args $DURATION $SIZE', ' > /data/literal.txt'],
      envs: { DURATION: 60, SIZE: 1024 },
    });
    expect(await waitForState(env.sim, user, 'env-args', 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect((await downlink(env.sim, user, 'literal.txt', 'env-args')).status).toBe(404);

    // Form data sends args and envs as JSON strings; they work the same.
    const res = await env.sim.fetch('/em/pod/run', {
      user,
      method: 'POST',
      body: new URLSearchParams({
        image: IMAGES.alpine,
        node: 'MPU',
        max_duration: '1',
        pod_name: 'env-form',
        command: '/bin/sh',
        args: JSON.stringify(['-c', 'echo "$GREETING" > /data/env.txt']),
        envs: JSON.stringify({ GREETING: 'hello from form data' }),
      }),
    });
    expect(res.status).toBe(200);
    await waitForState(env.sim, user, 'env-form', 'terminated');
    expect(await downlink(env.sim, user, 'env.txt', 'env-form')).toEqual({ status: 200, text: 'hello from form data\n' });
  });
});
