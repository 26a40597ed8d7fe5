import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, IMAGES, podStatus, post, requireDocker, run, uplink, waitForState } from './_docker.ts';

// The error examples of the client guide and the spec, with the exact bodies.

describe('errors of builds, loads and runs', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('e');

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [user] });
    await uplink(sim, user, { Dockerfile: `FROM ${IMAGES.alpine}\nRUN echo built > /built.txt\n` }, { dest_path: 'echo-test' });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  it('build with a wrong context path: BUILD_FAILED with the log line of the spec', async () => {
    const res = await post(sim, user, '/em/pod/image/build', { dockerfile: './echo-test/Dockerfile', image: 'echo-test', context: './new-software' });
    expect(res).toEqual({
      status: 400,
      body: {
        error: 'BUILD_FAILED',
        message: 'Docker build failed',
        log_tail: [`unable to prepare context: path "/clients/${user}-pvc/new-software" not found\n`],
      },
    });
  });

  it('build with a wrong Dockerfile path: BUILD_FAILED naming the Dockerfile', async () => {
    const res = await post(sim, user, '/em/pod/image/build', { dockerfile: './echo-test/Dockerfile.space', image: 'echo-test', context: './echo-test' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('BUILD_FAILED');
    expect(res.body.log_tail.at(-1)).toContain(`/clients/${user}-pvc/echo-test/Dockerfile.space: no such file or directory`);
  });

  it('a failing step, and any network access during the build, fail with the build log tail', async () => {
    await uplink(sim, user, { Dockerfile: `FROM ${IMAGES.alpine}\nRUN echo step-output && exit 3\n` }, { dest_path: 'failing' });
    const failing = await post(sim, user, '/em/pod/image/build', { dockerfile: 'failing/Dockerfile', image: 'failing', context: 'failing' });
    expect(failing.status).toBe(400);
    expect(failing.body.error).toBe('BUILD_FAILED');
    expect(failing.body.log_tail.join('')).toContain('step-output');
    expect(failing.body.log_tail.at(-1)).toMatch(/returned a non-zero code: 3/);
    expect(failing.body.log_tail.every((line: string) => line.endsWith('\n'))).toBe(true);

    // Air-gapped: the build has no network at all.
    await uplink(sim, user, { Dockerfile: `FROM ${IMAGES.python}\nRUN wget -q -T 5 http://example.com/ -O /x || python -c "import urllib.request; urllib.request.urlopen('http://10.255.255.1', timeout=3)"\n` }, { dest_path: 'net' });
    const net = await post(sim, user, '/em/pod/image/build', { dockerfile: 'net/Dockerfile', image: 'net', context: 'net' });
    expect(net.status).toBe(400);
    expect(net.body.error).toBe('BUILD_FAILED');
  });

  it('builds only FROM the onboard catalog (by either name) or the user\'s own images', async () => {
    await uplink(sim, user, { Dockerfile: 'FROM ubuntu:21.04\nRUN true\n' }, { dest_path: 'ubuntu' });
    const refused = await post(sim, user, '/em/pod/image/build', { dockerfile: 'ubuntu/Dockerfile', image: 'ubuntu-based', context: 'ubuntu' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('BUILD_FAILED');
    expect(refused.body.log_tail[0]).toMatch(/^FROM ubuntu:21\.04: not in the onboard catalog/);

    await uplink(sim, user, { Dockerfile: 'FROM fpga.dphi.space:5000/alpine:latest\nRUN echo registry-name > /where.txt\n' }, { dest_path: 'registry' });
    const ok = await post(sim, user, '/em/pod/image/build', { dockerfile: 'registry/Dockerfile', image: 'from-registry:v1', context: 'registry' });
    expect(ok).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });

    await uplink(sim, user, { Dockerfile: `FROM ${user}-from-registry:v1\nRUN cat /where.txt\n` }, { dest_path: 'own' });
    const own = await post(sim, user, '/em/pod/image/build', { dockerfile: 'own/Dockerfile', image: 'own', context: 'own' });
    expect(own.status).toBe(200);
  });

  it('running an image that does not exist: 200, then ErrImagePull and ImagePullBackOff in the status', async () => {
    await run(sim, user, { image: 'echo-test12', pod_name: 'missing' });
    const first = await podStatus(sim, user, 'missing');
    const ref = `docker.io/library/${user}-echo-test12:latest`;
    const pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
    expect(first).toEqual({
      status: 200,
      body: { message: 'Successfully fetched DPhi Pod status', data: { state: { waiting: { reason: 'ErrImagePull', message: pullError } } } },
    });
    sim.running.sim.clock.advance(15_000);
    const later = await podStatus(sim, user, 'missing');
    expect(later.body.data.state).toEqual({
      waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${user}-echo-test12": ErrImagePull: ${pullError}` },
    });
  });

  it('an invalid image reference shows InvalidImageName', async () => {
    await run(sim, user, { image: 'Not A Valid:Image', pod_name: 'badref' });
    expect((await podStatus(sim, user, 'badref')).body.data.state.waiting.reason).toBe('InvalidImageName');
  });

  it('status of a pod name with spaces: 400 INVALID_POD_NAME', async () => {
    const res = await sim.fetch('/em/pod/status?pod_name=Hey%20no%20whitespaces', { user });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'INVALID_POD_NAME',
      message:
        'Invalid pod_name "Hey no whitespaces": it contains uppercase letters and whitespace. A pod name must be a DNS label (lowercase letters, digits and "-", at most 63 characters), e.g. "experiment-radiation".',
    });
  });

  it('status of a pod that never ran: 404 POD_NOT_FOUND', async () => {
    const res = await sim.fetch('/em/pod/status?pod_name=never-ran', { user });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('POD_NOT_FOUND');
  });

  it('run parameters are validated: node, max_duration, scheduled_time', async () => {
    const bad = async (params: Record<string, unknown>) => {
      const res = await sim.fetch('/em/pod/run', { user, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
      return { status: res.status, body: (await res.json()) as { error: string; message: string } };
    };
    expect(await bad({ image: IMAGES.alpine, max_duration: 1, node: 'TPU' })).toEqual({
      status: 400,
      body: { error: 'INVALID_NODE', message: 'Invalid node "TPU": choose one of FPGA, GPU, MPU' },
    });
    expect(await bad({ image: IMAGES.alpine, node: 'FPGA' })).toEqual({
      status: 400,
      body: { error: 'MISSING_PARAMETER', message: 'Parameter "max_duration" is required' },
    });
    expect((await bad({ image: IMAGES.alpine, node: 'FPGA', max_duration: 'ten' })).body.error).toBe('INVALID_PARAMETER');
    expect((await bad({ image: IMAGES.alpine, node: 'FPGA', max_duration: 1, scheduled_time: '2025-05-22T12:10:00' })).body.error).toBe(
      'INVALID_SCHEDULED_TIME',
    );
  });

  it('a command that cannot start: terminated StartError with exit code 128', async () => {
    await run(sim, user, { image: IMAGES.alpine, pod_name: 'nostart', command: '/no/such/binary', args: ['x'] });
    const state = await waitForState(sim, user, 'nostart', 'terminated');
    expect(state).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(String(state.message)).toContain('/no/such/binary');
    // As Kubernetes reports a container that never started: the zero time, not null.
    expect(state.startedAt).toBe('1970-01-01T00:00:00Z');
    expect(state.finishedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('a non-zero exit is Error, and exceeding the memory limit is OOMKilled', async () => {
    await run(sim, user, { image: IMAGES.alpine, pod_name: 'exit7', command: 'exit 7' });
    expect(await waitForState(sim, user, 'exit7', 'terminated')).toMatchObject({ exitCode: 7, reason: 'Error' });

    // MPU has the smallest memory limit (512 MiB by default); python allocates past it.
    await run(sim, user, { image: IMAGES.python, pod_name: 'oom', node: 'MPU', command: 'python -c "x = bytearray(2 * 1024 ** 3)"' });
    expect(await waitForState(sim, user, 'oom', 'terminated')).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  describe('image load', () => {
    async function saveTar(tag: string): Promise<Buffer> {
      await docker.getImage(IMAGES.alpine).tag({ repo: tag.split(':')[0]!, tag: tag.split(':')[1] ?? 'latest' });
      const stream = await docker.getImage(tag).get();
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      await docker.getImage(tag).remove();
      return Buffer.concat(chunks);
    }

    it('loads a tar whose image carries the user prefix and matches, and runs it', async () => {
      await uplink(sim, user, { 'tool.tar': await saveTar(`${user}-tool:1.0`) });
      const res = await post(sim, user, '/em/pod/image/load', { tarfile: 'tool.tar', image: 'tool:1.0' });
      expect(res).toEqual({ status: 200, body: { message: 'Tar file loaded successfully' } });
      const list = (await (await sim.fetch('/em/pod/image/list', { user })).json()) as { data: { name: string; tag: string }[] };
      expect(list.data).toContainEqual(expect.objectContaining({ name: `${user}-tool`, tag: '1.0' }));
      await run(sim, user, { image: 'tool:1.0', pod_name: 'tool', command: 'echo loaded > /data/loaded.txt' });
      expect(await waitForState(sim, user, 'tool', 'terminated')).toMatchObject({ reason: 'Completed' });
    });

    it('refuses a tar whose name does not match, one without the prefix, and a missing tar', async () => {
      await uplink(sim, user, { 'other.tar': await saveTar(`${user}-other:latest`) });
      const mismatch = await post(sim, user, '/em/pod/image/load', { tarfile: 'other.tar', image: 'test2' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body).toMatchObject({ error: 'IMAGE_LOAD_FAILED', message: 'Docker Image tarfile failed to load' });
      expect(mismatch.body.log_tail[0]).toContain(`image "${user}-test2:latest" not found`);

      // An archive that would (re)tag a public image is refused before anything is loaded.
      await uplink(sim, user, { 'hijack.tar': await saveTar('alpine-hijack:latest') });
      const hijack = await post(sim, user, '/em/pod/image/load', { tarfile: 'hijack.tar', image: 'alpine-hijack' });
      expect(hijack.status).toBe(400);
      expect(hijack.body.log_tail[0]).toContain(`must be named with your prefix "${user}-"`);
      await expect(docker.getImage('alpine-hijack:latest').inspect()).rejects.toThrow();

      const missing = await post(sim, user, '/em/pod/image/load', { tarfile: 'test2.tar', image: 'test2' });
      expect(missing).toEqual({
        status: 400,
        body: {
          error: 'IMAGE_LOAD_FAILED',
          message: 'Docker Image tarfile failed to load',
          log_tail: [`sh: line 1: /clients/${user}-pvc/test2.tar: No such file or directory\n`],
        },
      });
    });
  });
});
