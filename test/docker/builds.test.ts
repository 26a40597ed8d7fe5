import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, downlink, post, requireDocker, run, uplink, waitForState } from './_docker.ts';

// Builds as the EM's builder does them: nothing of em-sim's reaches the user's image.

describe('builds', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('b');

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [user] });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  it('COPY . copies the context and only the context: not the Dockerfile em-sim sends, nor a .dockerignore of its own', async () => {
    const dockerfile = 'FROM alpine:latest\nCOPY . /x\nCMD ls -a /x > /data/ls.txt\n';
    await uplink(sim, user, { 'a.txt': 'a\n' }, { dest_path: 'ctx' });
    await uplink(sim, user, { Dockerfile: dockerfile }, { dest_path: 'df' });
    // The Dockerfile outside its context, as the provider's client allows.
    expect(await post(sim, user, '/em/pod/image/build', { dockerfile: 'df/Dockerfile', context: 'ctx', image: 'outside' })).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });
    await run(sim, user, { image: 'outside', pod_name: 'outside' });
    expect(await waitForState(sim, user, 'outside', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
    expect(await downlink(sim, user, 'ls.txt', 'outside')).toEqual({ status: 200, text: '.\n..\na.txt\n' });

    // Inside its context, the user's own Dockerfile is a file of the context like any other; a
    // .dockerignore is not copied (the README says how this differs from the real builder).
    await uplink(sim, user, { Dockerfile: dockerfile, '.dockerignore': 'nothing-here\n', 'b.txt': 'b\n' }, { dest_path: 'ctx2' });
    expect(await post(sim, user, '/em/pod/image/build', { dockerfile: 'ctx2/Dockerfile', context: 'ctx2', image: 'inside' })).toMatchObject({ status: 200 });
    await run(sim, user, { image: 'inside', pod_name: 'inside' });
    expect(await waitForState(sim, user, 'inside', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
    expect(await downlink(sim, user, 'ls.txt', 'inside')).toEqual({ status: 200, text: '.\n..\nDockerfile\nb.txt\n' });
  });

  it('a build that replaces an image leaves no untagged image behind', async () => {
    await uplink(sim, user, { Dockerfile: 'FROM alpine:latest\nRUN echo one > /v\n' }, { dest_path: 'again' });
    const build = () => post(sim, user, '/em/pod/image/build', { dockerfile: 'again/Dockerfile', context: 'again', image: 'again' });
    expect((await build()).status).toBe(200);
    const tag = `${user}-again.${sim.running.sim.instanceId}:latest`;
    const first = (await docker.getImage(tag).inspect()).Id;
    await uplink(sim, user, { Dockerfile: 'FROM alpine:latest\nRUN echo two > /v\n' }, { dest_path: 'again' });
    expect((await build()).status).toBe(200);
    expect((await docker.getImage(tag).inspect()).Id).not.toBe(first);
    await expect(docker.getImage(first).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("a name the builder cannot tag fails as the EM's build does: BUILD_FAILED with BuildKit's words; an uppercase tag is fine", async () => {
    await uplink(sim, user, { Dockerfile: 'FROM alpine:latest\n' }, { dest_path: 'named' });
    const build = (image: string) => post(sim, user, '/em/pod/image/build', { dockerfile: 'named/Dockerfile', context: 'named', image });
    expect(await build('MyTool')).toEqual({
      status: 400,
      body: { error: 'BUILD_FAILED', message: 'Docker build failed', log_tail: [`ERROR: invalid tag "${user}-MyTool": repository name must be lowercase\n`] },
    });
    expect((await build('my tool')).body.log_tail).toEqual([`ERROR: invalid tag "${user}-my tool": invalid reference format\n`]);
    expect((await build('tool:V2')).status).toBe(200);
    const list = (await (await sim.fetch('/em/pod/image/list', { user })).json()) as { data: { name: string; tag: string }[] };
    expect(list.data.map((i) => `${i.name}:${i.tag}`)).toContain(`${user}-tool:V2`);
  });
});
