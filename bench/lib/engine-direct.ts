import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DockerRuntime } from '../../src/adapters/docker/docker-runtime.ts';
import { buildConfig } from '../../src/config/load.ts';
import type { NodeName } from '../../src/domain/nodes/node-schedule.ts';
import { containerName, networkName } from '../../src/domain/pods/pod-names.ts';

/** One container the peer starts: whose, which pod, on which node (for its CPU and memory limits). */
export interface EnginePod {
  user: string;
  pod: string;
  node: NodeName;
}

/**
 * The engine on its own, as the peer of em-sim's pod starts at scale: the same containers em-sim
 * would make for `pods` (alpine:latest, arm64 here under emulation, running `cmd`), each on its
 * user's internal network with its aliases, its node's default CPU and memory limits, a volume
 * at /data and no-new-privileges, made through em-sim's own Docker adapter called directly: no
 * server, store, scheduler or onboard-services relay in between. The users' networks are made
 * first (as a namespace/create would), then every container is asked for at once. Returns each
 * one's seconds from the asking to its State.StartedAt; the containers, networks and volume
 * directory are removed afterwards.
 *
 * The spec matters: on this engine a container on an internal user network starts about 1.6×
 * slower than one on the default bridge (100 at once: 87 against 56 s at p99), so a peer of
 * plain containers charged the engine's networking to em-sim.
 */
export async function startOnEngine(pods: EnginePod[], cmd: string[]): Promise<number[]> {
  const docker = new Docker();
  const runtime = new DockerRuntime(docker, `bench-engine-${process.pid}`);
  const nodes = buildConfig({}).nodes;
  const volumeDir = mkdtempSync(path.join(tmpdir(), 'em-sim-bench-engine-'));
  const users = new Set(pods.map((p) => p.user));
  try {
    for (const user of users) await runtime.ensureNetwork(networkName(user), user);
    const asked = Date.now();
    const ids = await Promise.all(
      pods.map(({ user, pod, node }, generation) => {
        const name = containerName(user, pod);
        return runtime.run({
          name,
          image: 'alpine:latest',
          cmd,
          env: {},
          owner: { user, pod, generation },
          volumeDir,
          network: networkName(user),
          aliases: [name, pod],
          cpus: nodes[node].cpus,
          memoryBytes: nodes[node].memory_mb * 1024 * 1024,
        });
      }),
    );
    const seconds: number[] = [];
    for (const id of ids) seconds.push((Date.parse((await runtime.inspect(id))!.startedAt!) - asked) / 1000);
    return seconds;
  } finally {
    // Every container made (a create that failed made none), then the networks.
    const made = await runtime.listContainers();
    for (let i = 0; i < made.length; i += 100) await Promise.all(made.slice(i, i + 100).map((c) => runtime.remove(c.id)));
    for (const user of users) await runtime.removeNetwork(networkName(user)).catch(() => undefined);
    rmSync(volumeDir, { recursive: true, force: true });
  }
}
