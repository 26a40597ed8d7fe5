import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSim, type ChildSim } from '../helpers/child-sim.ts';
import { tempDir, uniqueName } from '../helpers/sim.ts';
import { cleanupDocker, IMAGES, requireDocker } from './_docker.ts';

// The simulator killed with SIGKILL, then started again on the same data directory: every pod's
// status is right, running pods are adopted, scheduled runs fire exactly once, nothing is orphaned.

async function status(sim: ChildSim, user: string, pod: string): Promise<any> {
  const res = await sim.fetch(`/em/pod/status?pod_name=${pod}`, { user });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).data.state;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function runPod(sim: ChildSim, user: string, params: Record<string, unknown>): Promise<void> {
  const res = await sim.fetch('/em/pod/run', {
    user,
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ node: 'FPGA', max_duration: 10, image: IMAGES.alpine, ...params }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function fileText(sim: ChildSim, user: string, pod: string, filepath: string): Promise<string | null> {
  const res = await sim.fetch(`/em/files/downlink?pod_name=${pod}&filepath=${filepath}`, { user });
  return res.status === 200 ? res.text() : null;
}

describe('restart after SIGKILL', () => {
  let docker: Docker;
  const dataDir = tempDir();
  const user = uniqueName('r');
  let sim: ChildSim | undefined;

  beforeAll(async () => {
    docker = await requireDocker();
  });
  afterAll(async () => {
    await sim?.kill();
    const instance = readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim();
    await cleanupDocker(docker, instance, [user]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adopts running pods, records finished ones, fires scheduled runs once and removes orphans', async () => {
    sim = await spawnSim(dataDir, [user]);
    await runPod(sim, user, { pod_name: 'long', command: 'echo started >> /data/log.txt; sleep 300' });
    await runPod(sim, user, { pod_name: 'short', command: 'sleep 2; echo done > /data/done.txt' });
    await runPod(sim, user, { pod_name: 'failing', command: 'sleep 2; exit 3' });
    const soon = new Date(Date.now() + 8_000).toISOString().replace('Z', '+00:00');
    await runPod(sim, user, { pod_name: 'later', scheduled_time: soon, command: 'date >> /data/runs.txt' });

    const longBefore = await status(sim, user, 'long');
    expect(longBefore.running.startedAt).toMatch(/Z$/);
    expect((await status(sim, user, 'later')).waiting.reason).toBe('Scheduled');

    await sim.kill('SIGKILL');

    // While the simulator is down: the short pods finish, and a stray container appears that
    // carries the simulator's labels but no record (as a crash mid-replacement would leave).
    const instance = readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim();
    const ghost = await docker.createContainer({
      Image: IMAGES.alpine,
      name: `${user}-ghost`,
      Cmd: ['sleep', '300'],
      Labels: { 'em-sim.managed': 'true', 'em-sim.instance': instance, 'em-sim.user': user, 'em-sim.pod': 'ghost', 'em-sim.generation': '7' },
    });
    await ghost.start();
    await new Promise((r) => setTimeout(r, 3_000));

    sim = await spawnSim(dataDir, [user]);
    expect(await status(sim, user, 'long')).toEqual(longBefore);
    expect(await status(sim, user, 'short')).toMatchObject({ terminated: { exitCode: 0, reason: 'Completed' } });
    expect(await status(sim, user, 'failing')).toMatchObject({ terminated: { exitCode: 3, reason: 'Error' } });
    expect(await fileText(sim, user, 'long', 'log.txt')).toBe('started\n');
    await expect(docker.getContainer(ghost.id).inspect()).rejects.toThrow();

    // The scheduled run fires after the restart, once.
    const current = sim;
    await until('the scheduled run', async () => ((await status(current, user, 'later')).terminated ? true : undefined));
    expect((await fileText(sim, user, 'later', 'runs.txt'))?.trim().split('\n')).toHaveLength(1);

    // Every container of this simulator is one of its pods, or the one relay that brings the
    // onboard services onto the user's network (the killed simulator's was replaced, not doubled).
    const containers = await docker.listContainers({ all: true, filters: { label: [`em-sim.instance=${instance}`] } });
    const pods = containers.filter((c) => c.Labels['em-sim.role'] !== 'services-relay');
    expect(pods.map((c) => c.Labels['em-sim.pod']).sort()).toEqual(['failing', 'later', 'long', 'short']);
    expect(containers.filter((c) => c.Labels['em-sim.role'] === 'services-relay').map((c) => c.Labels['em-sim.user'])).toEqual([user]);
  });

  it('a run killed right as it fires is not started twice', async () => {
    sim ??= await spawnSim(dataDir, [user]);
    const at = new Date(Date.now() + 3_000).toISOString();
    await runPod(sim, user, { pod_name: 'edge', scheduled_time: at, command: 'date >> /data/runs.txt; sleep 30' });
    // Kill around the moment the run fires: whichever side of it the kill lands, the run must
    // happen exactly once.
    const current = sim;
    await until('the run to fire', async () => ((await status(current, user, 'edge')).waiting ? undefined : true), 20_000);
    await sim.kill('SIGKILL');
    sim = await spawnSim(dataDir, [user]);
    const restarted = sim;
    await until('the run to be running', async () => ((await status(restarted, user, 'edge')).running ? true : undefined));
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await fileText(sim, user, 'edge', 'runs.txt'))?.trim().split('\n')).toHaveLength(1);
  });
});
