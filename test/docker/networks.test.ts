import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/sim.ts';
import { dockerSim, run, waitForState } from './_docker.ts';

// Users' networks at the scale of a class (issue 16's 50 users): the engine's default address
// pools hold about thirty bridge networks, and its duplicate-name check is not atomic. Found by
// the scale benchmark: 50 users' first pods answered 500 INTERNAL_ERROR ("could not find an
// available, non-overlapping IPv4 address pool"), and ten pods of one user started at once made
// ten networks of one name ("network … is ambiguous").

const USERS = Array.from({ length: 40 }, () => uniqueName('n'));

describe('users\' networks at the scale of a class', () => {
  // one_request_per_user off: one user's ten runs arrive together, as from a script with threads.
  const env = dockerSim(USERS, { config: { limits: { one_request_per_user: false }, services: { telemetry: { enabled: false }, ollama: { enabled: false }, liquidai: { enabled: false } } } });

  it('gives 40 users a network each at once, past the engine\'s default pools, each in its own /24 of 10.208.0.0/12', async () => {
    const answers = await Promise.all(
      USERS.map(async (user) => {
        const res = await env.sim.fetch('/em/pod/namespace/create', { user, method: 'POST' });
        return { status: res.status, body: await res.json() };
      }),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const instance = env.sim.running.sim.instanceId;
    const networks = await env.docker.listNetworks({ filters: { label: [`em-sim.instance=${instance}`] } });
    const names = networks.map((n) => n.Name).sort();
    expect(names).toEqual(USERS.map((u) => `em-sim-${u}.${instance}`).sort());
    const subnets = await Promise.all(networks.map(async (n) => (await env.docker.getNetwork(n.Id).inspect()).IPAM?.Config?.[0]?.Subnet));
    for (const subnet of subnets) expect(subnet).toMatch(/^10\.(20[89]|21\d|22[0-3])\.\d{1,3}\.0\/24$/);
    expect(new Set(subnets).size).toBe(USERS.length);
  });

  it('starts ten pods of one user at once on one network', async () => {
    const user = USERS[0]!;
    await Promise.all(Array.from({ length: 10 }, (_, i) => run(env.sim, user, { image: 'alpine:latest', pod_name: `p${i}`, command: 'true' })));
    for (let i = 0; i < 10; i++) expect(await waitForState(env.sim, user, `p${i}`, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const instance = env.sim.running.sim.instanceId;
    const mine = await env.docker.listNetworks({ filters: { name: [`em-sim-${user}.${instance}`] } });
    expect(mine).toHaveLength(1);
  });

  it('makes a user\'s network again when it was removed behind em-sim\'s back, and the pod runs', async () => {
    // em-sim remembers the networks it made (a start does not ask the engine again): the
    // remembered one being gone must cost the next pod nothing.
    const user = USERS[0]!;
    const name = `em-sim-${user}.${env.sim.running.sim.instanceId}`;
    await env.docker.getNetwork(name).remove();
    await run(env.sim, user, { image: 'alpine:latest', pod_name: 'again', command: 'true' });
    expect(await waitForState(env.sim, user, 'again', 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await env.docker.listNetworks({ filters: { name: [name] } })).toHaveLength(1);
  });

  it('leaves a container em-sim did not make under a pod\'s name alone, and the pod says how to clear it', async () => {
    const user = USERS[1]!;
    const name = `${user}-foreign.${env.sim.running.sim.instanceId}`;
    const foreign = await env.docker.createContainer({ name, Image: 'alpine:latest', Cmd: ['true'] });
    try {
      await run(env.sim, user, { image: 'alpine:latest', pod_name: 'foreign', command: 'true' });
      expect(await waitForState(env.sim, user, 'foreign', 'waiting')).toEqual({
        reason: 'RunContainerError',
        message: `A container that em-sim did not create holds the name of this pod's container (${user}-foreign); remove it (docker rm -f ${foreign.id.slice(0, 12)})`,
      });
      expect((await foreign.inspect()).Id).toBe(foreign.id);
    } finally {
      await foreign.remove({ force: true });
    }
  });
});
