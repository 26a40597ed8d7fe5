import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, IMAGES, requireDocker, run, uplink, waitForState } from './_docker.ts';

// Two simulators on one engine, as two CI jobs on one host: the same user, the same pod names,
// at the same time. Each one's pods, networks and onboard services are its own.

describe('two simulators on one engine', () => {
  let docker: Docker;
  let one: TestSim;
  let two: TestSim;
  const user = uniqueName('i');

  beforeAll(async () => {
    docker = await requireDocker();
    // Their clocks differ, so the telemetry says which simulator answered.
    [one, two] = await Promise.all([
      startSim({ users: [user], config: { clock: { control: true }, auth: { access_token_lifetime: 10 ** 9 } } }),
      startSim({ users: [user], config: { clock: { control: true }, auth: { access_token_lifetime: 10 ** 9 } } }),
    ]);
    const set = await two.fetch('/sim/clock', { user, method: 'POST', body: new URLSearchParams({ set: '2031-06-01T00:00:00Z' }) });
    expect(set.status).toBe(200);
  });
  afterAll(async () => {
    for (const sim of [one, two]) {
      if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
      await sim?.close();
    }
  });

  it('run the same user\'s same pods at the same time without touching each other', async () => {
    // A web server pod in each, serving its own simulator's file; a client pod in each, asking
    // USER-web and the onboard telemetry by name.
    await Promise.all(
      [one, two].map(async (sim, i) => {
        await uplink(sim, user, { 'index.html': `served by simulator ${i + 1}\n` }, { pod_name: 'web' });
        await run(sim, user, { image: IMAGES.alpine, pod_name: 'web', max_duration: 2, command: 'httpd -f -p 80 -h /data' });
      }),
    );
    await Promise.all([one, two].map((sim) => waitForState(sim, user, 'web', 'running')));
    await Promise.all(
      [one, two].map((sim) =>
        run(sim, user, {
          image: IMAGES.alpine,
          pod_name: 'same',
          command:
            `sleep 1; wget -q -O /data/web.txt http://${user}-web/ && wget -q -O /data/web-short.txt http://web/ && ` +
            'wget -q -O /data/health.json http://satellite-telemetry.dphi-tm/health && hostname > /data/host.txt',
        }),
      ),
    );
    const done = await Promise.all([one, two].map((sim) => waitForState(sim, user, 'same', 'terminated', 120_000)));
    for (const state of done) expect(state).toMatchObject({ exitCode: 0, reason: 'Completed' });

    for (const [i, sim] of [one, two].entries()) {
      const text = async (file: string) => {
        const res = await sim.fetch(`/em/files/downlink?pod_name=same&filepath=${file}`, { user });
        expect(res.status, file).toBe(200);
        return res.text();
      };
      expect(await text('web.txt')).toBe(`served by simulator ${i + 1}\n`);
      expect(await text('web-short.txt')).toBe(`served by simulator ${i + 1}\n`);
      // Each pod still goes by USER-POD, and its services are its own simulator's.
      expect(await text('host.txt')).toBe(`${user}-same\n`);
      const year = JSON.parse(await text('health.json')).timestamp.slice(0, 4);
      expect(year).toBe(i === 0 ? String(new Date().getUTCFullYear()) : '2031');
    }

    // Both web servers are still the ones each simulator started: neither replaced the other's.
    for (const sim of [one, two]) expect(await waitForState(sim, user, 'web', 'running')).toBeTruthy();
    const containers = await docker.listContainers({ all: true, filters: { label: [`em-sim.user=${user}`] } });
    const names = containers.map((c) => c.Names[0]!.slice(1)).sort();
    const [a, b] = [one.running.sim.instanceId, two.running.sim.instanceId];
    expect(names).toEqual(
      [`${user}-same.${a}`, `${user}-same.${b}`, `${user}-web.${a}`, `${user}-web.${b}`, `em-sim_services_${a}_${user}`, `em-sim_services_${b}_${user}`].sort(),
    );
  });

  it("build the same user's same image name at the same time, each getting its own", async () => {
    await Promise.all(
      [one, two].map(async (sim, i) => {
        await uplink(sim, user, { Dockerfile: `FROM alpine:latest
RUN echo "built by simulator ${i + 1}" > /built.txt
CMD cp /built.txt /data/
` }, { dest_path: 'tool' });
        const build = await sim.fetch('/em/pod/image/build', { user, method: 'POST', body: new URLSearchParams({ dockerfile: 'tool/Dockerfile', context: 'tool', image: 'tool' }) });
        expect(build.status, await build.clone().text()).toBe(200);
      }),
    );
    for (const [i, sim] of [one, two].entries()) {
      const list = (await (await sim.fetch('/em/pod/image/list', { user })).json()) as { data: { name: string; tag: string }[] };
      expect(list.data.map((image) => `${image.name}:${image.tag}`)).toEqual([`${user}-tool:latest`]);
      await run(sim, user, { image: 'tool', pod_name: 'tool' });
      expect(await waitForState(sim, user, 'tool', 'terminated', 120_000)).toMatchObject({ exitCode: 0 });
      const res = await sim.fetch('/em/files/downlink?pod_name=tool&filepath=built.txt', { user });
      expect(await res.text()).toBe(`built by simulator ${i + 1}
`);
    }
  });
});
