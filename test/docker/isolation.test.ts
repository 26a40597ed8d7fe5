import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, downlink, IMAGES, post, requireDocker, run, uplink, waitForState } from './_docker.ts';

// What a pod must never reach: the Docker socket, privileges, other users' volumes and pods,
// the host and the outside world.

const probe = (url: string) =>
  `python -c "import urllib.request; urllib.request.urlopen('${url}', timeout=3)" && echo reached || echo blocked`;

describe('pod isolation', () => {
  let docker: Docker;
  let sim: TestSim;
  let hostServer: Server;
  let hostPort: number;
  const alice = uniqueName('a');
  const bob = uniqueName('b');

  beforeAll(async () => {
    docker = await requireDocker();
    sim = await startSim({ users: [alice, bob] });
    // A service on every host address: a pod must not reach it.
    hostServer = createServer((_req, res) => res.end('host secret'));
    await new Promise<void>((resolve) => hostServer.listen(0, '0.0.0.0', resolve));
    hostPort = (hostServer.address() as AddressInfo).port;
  });
  afterAll(async () => {
    hostServer?.close();
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [alice, bob]);
    await sim?.close();
  });

  async function podOutput(user: string, pod: string, script: string, image: string = IMAGES.python): Promise<string> {
    await run(sim, user, { image, pod_name: pod, command: `(${script}) > /data/out.txt 2>&1` });
    await waitForState(sim, user, pod, 'terminated');
    const out = await downlink(sim, user, 'out.txt', pod);
    expect(out.status).toBe(200);
    return out.text;
  }

  it('has no Docker socket and no privileges', async () => {
    const out = await podOutput(
      alice,
      'probe-priv',
      'ls /var/run/docker.sock /run/docker.sock 2>/dev/null || echo no-socket; mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo mount-refused; grep CapEff /proc/self/status',
    );
    expect(out).toContain('no-socket');
    expect(out).toContain('mount-refused');
    const capEff = /CapEff:\s*([0-9a-f]+)/.exec(out)?.[1];
    expect(capEff).toBeDefined();
    // A privileged container has every capability (0000003fffffffff or more); ours has the default few.
    expect(BigInt(`0x${capEff}`)).toBeLessThan(0x3fffffffffn);
    const inspect = await docker.getContainer(`${alice}-probe-priv.${sim.running.sim.instanceId}`).inspect();
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.HostConfig.NetworkMode).not.toBe('host');
    expect(inspect.HostConfig.Binds?.every((b) => !b.includes('docker.sock'))).toBe(true);
    expect(inspect.HostConfig.Binds).toEqual([`${sim.volumeDir(alice, 'probe-priv')}:/data`]);
    // The FPGA node's limits from configuration (defaults: 1 CPU, 1024 MiB).
    expect(inspect.HostConfig.Memory).toBe(1024 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(1e9);
    expect(inspect.Config.Labels).toMatchObject({ 'em-sim.user': alice, 'em-sim.pod': 'probe-priv', 'em-sim.instance': sim.running.sim.instanceId });
  });

  it("sees only its own volume at /data, never another user's files", async () => {
    await uplink(sim, alice, { 'alice-secret.txt': 'for alice only' });
    await uplink(sim, bob, { 'bob-file.txt': 'bob' }, { pod_name: 'probe-vol' });
    const out = await podOutput(bob, 'probe-vol', 'ls -A /data; grep " /data " /proc/mounts | wc -l; grep -rl "for alice only" / --exclude-dir=proc --exclude-dir=sys 2>/dev/null | head -1 || true');
    const lines = out.trim().split('\n');
    expect(lines).toContain('bob-file.txt');
    expect(out).not.toContain('alice-secret');
    expect(out).not.toContain('for alice only');
  });

  it("cannot reach another user's pod by name or by address", async () => {
    await run(sim, alice, { image: IMAGES.python, pod_name: 'server', max_duration: 2, namespace: true, ports: [80], command: 'python -m http.server 80' });
    await waitForState(sim, alice, 'server', 'running');
    const info = await docker.getContainer(`${alice}-server.${sim.running.sim.instanceId}`).inspect();
    const aliceIp = Object.values(info.NetworkSettings.Networks)[0]!.IPAddress;
    expect(aliceIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // Alice's own client reaches it (so the probes below can fail for the right reason).
    const own = await podOutput(alice, 'probe-own', `sleep 1; ${probe(`http://${alice}-server:80/`)}`);
    expect(own.trim().split('\n').at(-1)).toBe('reached');

    const byName = await podOutput(bob, 'probe-name', probe(`http://${alice}-server:80/`));
    const byIp = await podOutput(bob, 'probe-ip', probe(`http://${aliceIp}:80/`));
    expect(byName.trim().split('\n').at(-1)).toBe('blocked');
    expect(byIp.trim().split('\n').at(-1)).toBe('blocked');
  });

  it('cannot reach the host or the outside network', async () => {
    const hostIps = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    const own = await docker.getNetwork(`em-sim-${bob}.${sim.running.sim.instanceId}`).inspect().catch(() => null);
    const gateway = own?.IPAM?.Config?.[0]?.Gateway;
    const targets = [...new Set([...hostIps, ...(gateway ? [gateway] : []), '172.17.0.1'])].map((ip) => `http://${ip}:${hostPort}/`);
    targets.push('http://1.1.1.1/', 'http://example.com/');
    const out = await podOutput(bob, 'probe-out', targets.map(probe).join('; '));
    const verdicts = out.trim().split('\n').filter((l) => l === 'reached' || l === 'blocked');
    expect(verdicts).toEqual(targets.map(() => 'blocked'));
  });

  it('users never share a network', async () => {
    await post(sim, alice, '/em/pod/namespace/create', {});
    await post(sim, bob, '/em/pod/namespace/create', {});
    const a = await docker.getNetwork(`em-sim-${alice}.${sim.running.sim.instanceId}`).inspect();
    const b = await docker.getNetwork(`em-sim-${bob}.${sim.running.sim.instanceId}`).inspect();
    expect(a.Id).not.toBe(b.Id);
    expect(a.Internal).toBe(true);
    // On alice's network: alice's pods, and the relay of the onboard services for alice alone.
    for (const container of Object.values(a.Containers ?? {})) {
      const name = (container as { Name: string }).Name;
      expect(name.endsWith(`.${sim.running.sim.instanceId}`) && name.startsWith(`${alice}-`) || name === `em-sim_services_${sim.running.sim.instanceId}_${alice}`, name).toBe(true);
    }
  });
});
