import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/sim.ts';
import { dockerSim, downlink, post, run, uplink, waitForState } from './_docker.ts';

// Builds as the EM's builder does them: nothing of em-sim's reaches the user's image.

describe('builds', () => {
  const user = uniqueName('b');

  const env = dockerSim([user]);

  it('COPY . copies the context and only the context: not the Dockerfile em-sim sends, nor a .dockerignore of its own', async () => {
    const dockerfile = 'FROM alpine:latest\nCOPY . /x\nCMD ls -a /x > /data/ls.txt\n';
    await uplink(env.sim, user, { 'a.txt': 'a\n' }, { dest_path: 'ctx' });
    await uplink(env.sim, user, { Dockerfile: dockerfile }, { dest_path: 'df' });
    // The Dockerfile outside its context, as the provider's client allows.
    expect(await post(env.sim, user, '/em/pod/image/build', { dockerfile: 'df/Dockerfile', context: 'ctx', image: 'outside' })).toEqual({ status: 200, body: { message: 'Docker Image built successfully' } });
    await run(env.sim, user, { image: 'outside', pod_name: 'outside' });
    expect(await waitForState(env.sim, user, 'outside', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
    expect(await downlink(env.sim, user, 'ls.txt', 'outside')).toEqual({ status: 200, text: '.\n..\na.txt\n' });

    // Inside its context, the user's own Dockerfile is a file of the context like any other; a
    // .dockerignore is not copied (the README says how this differs from the real builder).
    await uplink(env.sim, user, { Dockerfile: dockerfile, '.dockerignore': 'nothing-here\n', 'b.txt': 'b\n' }, { dest_path: 'ctx2' });
    expect(await post(env.sim, user, '/em/pod/image/build', { dockerfile: 'ctx2/Dockerfile', context: 'ctx2', image: 'inside' })).toMatchObject({ status: 200 });
    await run(env.sim, user, { image: 'inside', pod_name: 'inside' });
    expect(await waitForState(env.sim, user, 'inside', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
    expect(await downlink(env.sim, user, 'ls.txt', 'inside')).toEqual({ status: 200, text: '.\n..\nDockerfile\nb.txt\n' });
  });

  it('a build that replaces an image leaves no untagged image behind', async () => {
    await uplink(env.sim, user, { Dockerfile: 'FROM alpine:latest\nRUN echo one > /v\n' }, { dest_path: 'again' });
    const build = () => post(env.sim, user, '/em/pod/image/build', { dockerfile: 'again/Dockerfile', context: 'again', image: 'again' });
    expect((await build()).status).toBe(200);
    const tag = `${user}-again.${env.sim.running.sim.instanceId}:latest`;
    const first = (await env.docker.getImage(tag).inspect()).Id;
    await uplink(env.sim, user, { Dockerfile: 'FROM alpine:latest\nRUN echo two > /v\n' }, { dest_path: 'again' });
    expect((await build()).status).toBe(200);
    expect((await env.docker.getImage(tag).inspect()).Id).not.toBe(first);
    await expect(env.docker.getImage(first).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("a name the builder cannot tag fails as the EM's build does: BUILD_FAILED with BuildKit's words; an uppercase tag is fine", async () => {
    await uplink(env.sim, user, { Dockerfile: 'FROM alpine:latest\n' }, { dest_path: 'named' });
    const build = (image: string) => post(env.sim, user, '/em/pod/image/build', { dockerfile: 'named/Dockerfile', context: 'named', image });
    expect(await build('MyTool')).toEqual({
      status: 400,
      body: { error: 'BUILD_FAILED', message: 'Docker build failed', log_tail: [`ERROR: invalid tag "${user}-MyTool": repository name must be lowercase\n`] },
    });
    expect((await build('my tool')).body.log_tail).toEqual([`ERROR: invalid tag "${user}-my tool": invalid reference format\n`]);
    expect((await build('tool:V2')).status).toBe(200);
    const list = (await (await env.sim.fetch('/em/pod/image/list', { user })).json()) as { data: { name: string; tag: string }[] };
    expect(list.data.map((i) => `${i.name}:${i.tag}`)).toContain(`${user}-tool:V2`);
  });
});
