import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, downlink, podStatus, post, requireDocker, run, uplink, waitForState } from './_docker.ts';

// CG2's nodes are arm64 and run only the onboard catalog: the platform around the pod, on the real
// engine. npm test registers arm64 emulation and prepares the catalog's stand-ins first.

const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** An amd64-only image (the host's busybox, as `docker import` writes it) saved as USER-amd64tool into the volume. */
async function saveAmd64Image(docker: Docker, user: string, file: string): Promise<void> {
  const pack = tarStream.pack();
  pack.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  pack.entry({ name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' });
  pack.entry({ name: 'bin/echo', type: 'symlink', linkname: '/bin/busybox' });
  pack.entry({ name: 'tmp', type: 'directory', mode: 0o1777 });
  pack.entry({ name: 'data', type: 'directory', mode: 0o755 });
  pack.finalize();
  const tag = `${user}-amd64tool:latest`;
  const stream = await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo: `${user}-amd64tool`, tag: 'latest', changes: ['CMD ["/bin/sh"]'] });
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(null))));
  expect((await docker.getImage(tag).inspect()).Architecture).toBe('amd64');
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline((await docker.getImage(tag).get()) as unknown as NodeJS.ReadableStream, createWriteStream(file));
  // Only the archive remains: the load must bring it in.
  await docker.getImage(tag).remove();
}

/** Polls the status every 40 ms until it is terminated; returns every distinct state seen on the way. */
async function statesUntilTerminated(sim: TestSim, user: string, timeoutMs = 120_000): Promise<Record<string, any>[]> {
  const seen: Record<string, any>[] = [];
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { body } = await podStatus(sim, user);
    const state = body.data?.state;
    if (state && JSON.stringify(state) !== JSON.stringify(seen.at(-1))) seen.push(state);
    if (state?.terminated) return seen;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`never terminated; states seen: ${JSON.stringify(seen)}`);
}

describe('arm64 pods and the onboard catalog', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('p');
  const lazy = `emsim-lazy-${uniqueName('r')}:1`;
  const lazyBuild = `emsim-lazy-${uniqueName('b')}:1`;

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({
      users: [user],
      config: { images: { catalog: [{ image: lazy, standin: 'busybox' }, { image: lazyBuild, standin: 'busybox' }] } },
    });
    expect(sim.running.sim.platform).toEqual({ mode: 'arm64', architecture: 'arm64' });
  });
  afterAll(async () => {
    // The pods' containers first: an image a container still uses cannot be removed.
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
    for (const ref of [lazy, lazyBuild]) {
      await docker.getImage(ref).remove().catch(() => {});
      await docker.getImage(`fpga.dphi.space:5000/${ref}`).remove().catch(() => {});
    }
  });

  it("builds and runs the provider's simple-docker example unchanged (FROM python:3.10-slim)", async () => {
    const dir = new URL('simple-docker/', FIXTURES);
    await uplink(sim, user, { Dockerfile: readFileSync(new URL('Dockerfile', dir)), 'main.py': readFileSync(new URL('main.py', dir)) }, { dest_path: 'simple-docker' });
    const build = await post(sim, user, '/em/pod/image/build', { dockerfile: 'simple-docker/Dockerfile', context: 'simple-docker', image: 'simple-docker' });
    expect(build).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });
    const list = await (await sim.fetch('/em/pod/image/list', { user })).json();
    expect(list.data).toEqual([expect.objectContaining({ name: `${user}-simple-docker`, architecture: 'arm64' })]);

    await run(sim, user, { image: 'simple-docker' });
    expect(await waitForState(sim, user, undefined, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const logs = await (await sim.fetch('/sim/pods/logs', { user })).json();
    expect(logs.data.stdout).toBe('Hello Space from Clustergate-2\n');
  });

  it('builds FROM the registry spelling as linux/arm64 with the platform build arguments, and runs node', async () => {
    const dockerfile =
      'FROM fpga.dphi.space:5000/node:20-slim\nARG TARGETARCH\nARG TARGETPLATFORM\n' +
      'RUN echo "$TARGETPLATFORM $TARGETARCH $(uname -m)" > /built-for\n' +
      'CMD ["node", "-e", "require(\'fs\').writeFileSync(\'/data/node.txt\', require(\'fs\').readFileSync(\'/built-for\', \'utf8\').trim() + \' \' + process.arch)"]\n';
    await uplink(sim, user, { Dockerfile: dockerfile }, { dest_path: 'nodeapp' });
    expect(await post(sim, user, '/em/pod/image/build', { dockerfile: 'nodeapp/Dockerfile', context: 'nodeapp', image: 'nodeapp' })).toEqual({
      status: 200,
      body: { message: 'Docker Image built successfully' },
    });
    await run(sim, user, { image: 'nodeapp', node: 'GPU' });
    expect(await waitForState(sim, user, undefined, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await downlink(sim, user, 'node.txt')).toEqual({ status: 200, text: 'linux/arm64 arm64 aarch64 arm64' });
  });

  it.each([
    ['ubuntu:22.04', 'bash -c "uname -m > /data/m.txt"'],
    ['fpga.dphi.space:5000/python:3.12-alpine', 'python -c "import platform; open(\'/data/m.txt\', \'w\').write(platform.machine())"'],
    ['busybox:latest', 'uname -m > /data/m.txt'],
  ])('runs the catalog image %s as aarch64', async (image, command) => {
    await run(sim, user, { image, command });
    expect(await waitForState(sim, user, undefined, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect((await downlink(sim, user, 'm.txt')).text.trim()).toBe('aarch64');
  });

  it('an onboard image it cannot make: ErrImagePull saying it is onboard and what to do; a build FROM it says the same', async () => {
    await run(sim, user, { image: 'mysql:8.0' });
    const waiting = await waitForState(sim, user, undefined, 'waiting');
    expect(waiting).toMatchObject({ reason: expect.stringMatching(/^(ContainerCreating|ErrImagePull)$/) });
    const failed = await (async () => {
      for (let i = 0; i < 200; i++) {
        const { body } = await podStatus(sim, user);
        if (body.data.state.waiting?.reason === 'ErrImagePull') return body.data.state.waiting;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('never ErrImagePull');
    })();
    expect(failed.message).toMatch(/^mysql:8\.0 is onboard, but em-sim cannot make it on this machine: it cannot be pulled/);
    expect(failed.message).toMatch(/give it a stand-in family in images\.catalog/);

    await uplink(sim, user, { Dockerfile: 'FROM mysql:8.0\n' }, { dest_path: 'db' });
    const build = await post(sim, user, '/em/pod/image/build', { dockerfile: 'db/Dockerfile', context: 'db', image: 'db' });
    expect(build.status).toBe(400);
    expect(build.body.error).toBe('BUILD_FAILED');
    expect(build.body.log_tail).toEqual([expect.stringMatching(/^FROM mysql:8\.0: mysql:8\.0 is onboard, but em-sim cannot make it/)]);
  });

  it('an image that is not onboard is still ErrImagePull "not found", and a build FROM it is refused', async () => {
    await run(sim, user, { image: 'nosuch-image:1' });
    const waiting = await waitForState(sim, user, undefined, 'waiting');
    expect(waiting).toMatchObject({ reason: 'ErrImagePull', message: expect.stringMatching(/not found$/) });
    await uplink(sim, user, { Dockerfile: 'FROM fedora:41\n' }, { dest_path: 'notonboard' });
    const build = await post(sim, user, '/em/pod/image/build', { dockerfile: 'notonboard/Dockerfile', context: 'notonboard', image: 'x' });
    expect(build.body.log_tail[0]).toMatch(/^FROM fedora:41: not in the onboard catalog/);
  });

  it('refuses bases that would reach another user or pull, however the Dockerfile spells them', async () => {
    const other = uniqueName('o');
    // Another user's image on the same engine (as their build would leave it).
    await docker.getImage('alpine:3.19').tag({ repo: `${other}-secret`, tag: 'latest' });
    try {
      const cases: [string, RegExp][] = [
        [`ARG B=${other}-secret:latest\nFROM \${B}\n`, new RegExp(`^FROM ${other}-secret:latest: not in the onboard catalog`)],
        [`FR\\\nOM ${other}-secret:latest\n`, new RegExp(`^FROM ${other}-secret:latest: not in the onboard catalog`)],
        [`FROM ${user}-evil.example/img:1\n`, /: not in the onboard catalog/],
        ['FROM fpga.dphi.space:5000/docker.io/library/alpine:latest\n', /: not in the onboard catalog/],
        ['FROM --platform=linux/amd64 alpine:latest\n', /^FROM --platform=linux\/amd64 alpine:latest: CG2 builds on and for linux\/arm64/],
        ['FROM ${NOPE}\n', /^FROM \$\{NOPE\}: em-sim cannot resolve this base/],
      ];
      for (const [dockerfile, expected] of cases) {
        await uplink(sim, user, { Dockerfile: dockerfile }, { dest_path: 'hostile' });
        const build = await post(sim, user, '/em/pod/image/build', { dockerfile: 'hostile/Dockerfile', context: 'hostile', image: 'hostile' });
        expect(build.status, dockerfile).toBe(400);
        expect(build.body.log_tail, dockerfile).toEqual([expect.stringMatching(expected)]);
      }
    } finally {
      await docker.getImage(`${other}-secret:latest`).remove().catch(() => {});
    }
  });

  it("a user's image never passes for a stand-in, whatever labels its Dockerfile writes", async () => {
    await uplink(sim, user, { Dockerfile: 'FROM alpine:3.19\nLABEL em-sim.standin=true em-sim.standin.kind=busybox em-sim.standin.recipe=2\n' }, { dest_path: 'labels' });
    expect((await post(sim, user, '/em/pod/image/build', { dockerfile: 'labels/Dockerfile', context: 'labels', image: 'labels' })).status).toBe(200);
    const labels = (await docker.getImage(`${user}-labels.${sim.running.sim.instanceId}:latest`).inspect()).Config.Labels ?? {};
    expect(labels['em-sim.standin']).toBe('false');
    expect(labels['em-sim.standin.kind']).toBe('');
  });

  it('a run of an image name too long once prefixed is ErrImagePull, not a server error', async () => {
    const res = await sim.fetch('/em/pod/run', {
      user,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ image: 'a'.repeat(250), node: 'FPGA', max_duration: 1 }),
    });
    expect(res.status).toBe(200);
    expect(await waitForState(sim, user, undefined, 'waiting')).toMatchObject({ reason: 'ErrImagePull' });
  });

  it('an amd64-only image loads, and its run fails with an exec format error naming the architecture and the fix', async () => {
    await saveAmd64Image(docker, user, path.join(sim.volumeDir(user), 'amd64tool.tar'));
    expect(await post(sim, user, '/em/pod/image/load', { tarfile: 'amd64tool.tar', image: 'amd64tool' })).toEqual({
      status: 200,
      body: { message: 'Tar file loaded successfully' },
    });
    const list = await (await sim.fetch('/em/pod/image/list', { user })).json();
    expect(list.data).toContainEqual(expect.objectContaining({ name: `${user}-amd64tool`, architecture: 'amd64' }));

    await run(sim, user, { image: 'amd64tool', command: 'echo ran > /data/ran.txt' });
    const done = await waitForState(sim, user, undefined, 'terminated');
    expect(done).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(done.message).toMatch(/^exec format error: image .*-amd64tool:latest is built for linux\/amd64, but CG2's nodes are linux\/arm64: build it with `docker buildx build --platform linux\/arm64`/);
    expect((await downlink(sim, user, 'ran.txt')).status).toBe(404);
    const logs = await (await sim.fetch('/sim/pods/logs', { user })).json();
    expect(logs.data.stderr).toMatch(/exec format error/);
  });

  it('the first run of a catalog image never prepared goes ContainerCreating (saying what is prepared), then Completed', async () => {
    expect(await docker.getImage(lazy).inspect().catch(() => null)).toBeNull();
    await run(sim, user, { image: lazy, command: 'echo lazy > /data/lazy.txt' });
    const states = await statesUntilTerminated(sim, user);
    const creating = states.find((s) => s.waiting?.reason === 'ContainerCreating' && s.waiting.message.includes(lazy));
    expect(creating, JSON.stringify(states)).toBeDefined();
    expect(states.at(-1)).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
    expect((await downlink(sim, user, 'lazy.txt')).text).toBe('lazy\n');
  });

  it('a build FROM a catalog image never prepared waits for it', async () => {
    await uplink(sim, user, { Dockerfile: `FROM ${lazyBuild}\nRUN echo built > /b\n` }, { dest_path: 'lazybuild' });
    expect(await post(sim, user, '/em/pod/image/build', { dockerfile: 'lazybuild/Dockerfile', context: 'lazybuild', image: 'lazybuild' })).toEqual({
      status: 200,
      body: { message: 'Docker Image built successfully' },
    });
    expect((await docker.getImage(lazyBuild).inspect()).Architecture).toBe('arm64');
  });
});

describe('native platform mode', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('n');

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [user], config: { platform: { architecture: 'native' } } });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  it('runs an amd64-only image, with a warning in the status and /sim/pods that it would not run onboard', async () => {
    expect(sim.running.sim.platform.mode).toBe('native');
    await saveAmd64Image(docker, user, path.join(sim.volumeDir(user), 'amd64tool.tar'));
    expect((await post(sim, user, '/em/pod/image/load', { tarfile: 'amd64tool.tar', image: 'amd64tool' })).status).toBe(200);
    await run(sim, user, { image: 'amd64tool', command: 'echo ran > /data/ran.txt' });
    await waitForState(sim, user, undefined, 'terminated');
    const { body } = await podStatus(sim, user);
    expect(body.data.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(body.data.warnings).toEqual([expect.stringMatching(/^image .*-amd64tool:latest is built for linux\/amd64, but CG2's nodes are linux\/arm64/)]);
    expect((await downlink(sim, user, 'ran.txt')).text).toBe('ran\n');
    const pods = await (await sim.fetch('/sim/pods', { user })).json();
    expect(pods.data).toEqual([expect.objectContaining({ pod_name: 'default', warning: body.data.warnings[0] })]);
  });
});
