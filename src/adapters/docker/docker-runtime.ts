import { cpus } from 'node:os';
import type Docker from 'dockerode';
import {
  StartFailure,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type OwnedContainer,
} from '../../domain/ports/container-runtime.ts';
import { describeEngine, dockerAvailable, engineMissingMessage } from './engine.ts';
import { demux, engineMessage, statusOf } from './engine-output.ts';
import { instanceFilter, isManaged, LABEL, networkLabels, ownerOf, podLabels, RELAY_ROLE } from './labels.ts';
import { isContainerId, onEngine } from './instance-names.ts';

const PING_CACHE_MS = 1000;
/** Where users' networks take their /24 subnets: 4,096 of them, on every instance of the engine. */
const USER_SUBNETS = '10.208.0.0/12';
const USER_SUBNET_COUNT = 4096;

/** The n-th /24 of USER_SUBNETS. */
function userSubnet(n: number): string {
  return `10.${208 + (n >> 8)}.${n & 255}.0/24`;
}

/** Where a network's search for a free /24 begins: a hash of its engine name (FNV-1a). */
function subnetIndexOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h % USER_SUBNET_COUNT;
}
const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';

/**
 * The ContainerRuntime port on a real Docker engine, through dockerode. Pods run unprivileged,
 * with no-new-privileges, their node's CPU and memory limits, and only their volume mounted; user
 * networks are internal bridges without an address on the host.
 */
export class DockerRuntime implements ContainerRuntime {
  private lastPing = { at: 0, ok: false };
  /** The ping under way, shared by every available() call until it answers. */
  private ping: Promise<boolean> | null = null;
  private readonly networkWork = new Map<string, Promise<void>>();
  /**
   * Networks this runtime made or found as they should be: a pod's start does not ask the engine
   * again (500 pods starting at once asked it 500 times while it was busiest). One removed behind
   * em-sim's back is noticed when a container cannot start on it, and made again (run).
   */
  private readonly knownNetworks = new Set<string>();
  private readonly hostCpus = cpus().length;

  constructor(
    private readonly docker: Docker,
    /** The simulator instance whose containers this runtime makes, lists and watches. */
    private readonly instanceId: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /**
     * A volume directory as the engine must be given it: itself on a host, the engine's side of
     * the data directory's mount when em-sim runs in a container (self-container.ts).
     */
    private readonly enginePath: (localPath: string) => string = (p) => p,
  ) {}

  async available(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastPing.at < PING_CACHE_MS) return this.lastPing.ok;
    // One ping for every caller meanwhile: 500 status polls arriving together once the last
    // answer went stale pinged a busy engine 500 times, and each waited for its own answer.
    this.ping ??= dockerAvailable(this.docker, 1500)
      .then((ok) => {
        this.lastPing = { at: Date.now(), ok };
        return ok;
      })
      .finally(() => (this.ping = null));
    return this.ping;
  }

  describe(): string {
    return describeEngine(this.env);
  }

  unavailableMessage(): string {
    return `No Docker engine: ${engineMissingMessage(this.env)}. File endpoints keep working meanwhile.`;
  }

  ensureNetwork(domainName: string, user: string): Promise<void> {
    // One at a time per network: the engine's CheckDuplicate is not atomic, and ten pods of one
    // user started at once made ten networks of one name ("network … is ambiguous").
    if (this.knownNetworks.has(domainName)) return Promise.resolve();
    const running = this.networkWork.get(domainName);
    if (running) return running;
    const work = this.makeNetwork(domainName, user)
      .then(() => void this.knownNetworks.add(domainName))
      .finally(() => this.networkWork.delete(domainName));
    this.networkWork.set(domainName, work);
    return work;
  }

  private async makeNetwork(domainName: string, user: string): Promise<void> {
    const name = onEngine(domainName, this.instanceId);
    try {
      const existing = await this.docker.getNetwork(name).inspect();
      if (existing.Internal && existing.Options?.[INHIBIT_IPV4] === 'true') return;
      // Made by an older em-sim without the host cut off: replace it unless pods are on it.
      if (Object.keys(existing.Containers ?? {}).length) return;
      await this.removeNetwork(domainName);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    // Each network gets a /24 of its own in USER_SUBNETS, not one of the engine's default pools:
    // those run out after about thirty networks (a class of 50 users failed with "could not find
    // an available, non-overlapping IPv4 address pool"). The bridge has no address on the host
    // (inhibit_ipv4), so a subnet that a LAN also uses routes nothing wrongly. The search starts
    // at a place the name picks, and steps on where another network (any instance's) holds one.
    const start = subnetIndexOf(name);
    for (let i = 0; i < USER_SUBNET_COUNT; i++) {
      try {
        // Internal: no route out, as onboard where nothing reaches the ground. Without an address
        // on the host side of the bridge, pods cannot reach the host's own services either.
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: true,
          Labels: networkLabels(this.instanceId, user),
          CheckDuplicate: true,
          Options: { [INHIBIT_IPV4]: 'true' },
          IPAM: { Driver: 'default', Config: [{ Subnet: userSubnet((start + i) % USER_SUBNET_COUNT) }] },
        });
        return;
      } catch (err) {
        if (statusOf(err) === 409) return;
        if (statusOf(err) === 403 && /overlap/i.test(engineMessage(err))) continue;
        // No answer at all (the engine is away): the caller retries, as for any unanswered call.
        if (statusOf(err) === undefined) throw err;
        // The engine answered and refused: the pod shows why (RunContainerError), not a 500.
        throw new StartFailure(`creating the user network ${domainName}: ${engineMessage(err)}`, false);
      }
    }
    throw new StartFailure(`creating the user network ${domainName}: every /24 of ${USER_SUBNETS} is taken by another network on this engine`, false);
  }

  async removeNetwork(domainName: string): Promise<boolean> {
    this.knownNetworks.delete(domainName);
    try {
      await this.docker.getNetwork(onEngine(domainName, this.instanceId)).remove();
      return true;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      return false;
    }
  }

  async run(spec: ContainerSpec): Promise<string> {
    try {
      return await this.createAndStart(spec);
    } catch (err) {
      if (!(err instanceof NetworkGone)) throw err;
      // The user's network was removed behind em-sim's back (docker network rm, em-sim reset from
      // another shell): made again, and the container with it.
      this.knownNetworks.delete(spec.network);
      await this.ensureNetwork(spec.network, spec.owner.user);
      return this.createAndStart(spec);
    }
  }

  private async createAndStart(spec: ContainerSpec): Promise<string> {
    let container: Docker.Container;
    try {
      const network = onEngine(spec.network, this.instanceId);
      container = await this.docker.createContainer({
        name: onEngine(spec.name, this.instanceId),
        Hostname: spec.name.slice(0, 63),
        Image: spec.image,
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: podLabels(this.instanceId, spec.owner),
        HostConfig: {
          Binds: [`${this.enginePath(spec.volumeDir)}:/data`],
          NetworkMode: network,
          // Docker refuses a CPU limit above what the host has; the node's limit is capped.
          NanoCpus: Math.round(Math.min(spec.cpus, this.hostCpus) * 1e9),
          Memory: spec.memoryBytes,
          MemorySwap: spec.memoryBytes,
          Privileged: false,
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: 1024,
          RestartPolicy: { Name: 'no' },
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: spec.aliases } } },
      });
    } catch (err) {
      throw new StartFailure(engineMessage(err), false);
    }
    try {
      await container.start();
    } catch (err) {
      if (statusOf(err) === 404 && /^network .* not found$/.test(engineMessage(err)) && this.knownNetworks.has(spec.network)) {
        await this.remove(container.id);
        throw new NetworkGone();
      }
      throw new StartFailure(engineMessage(err), true);
    }
    return container.id;
  }

  async inspect(idOrName: string): Promise<ContainerState | null> {
    try {
      const info = await this.docker.getContainer(isContainerId(idOrName) ? idOrName : onEngine(idOrName, this.instanceId)).inspect();
      const state = info.State;
      const never = (t: string | undefined) => (!t || t.startsWith('0001-01-01') ? null : t);
      return {
        id: info.Id,
        running: state.Running,
        exitCode: state.Status === 'created' && !state.Error ? null : state.ExitCode,
        oomKilled: state.OOMKilled,
        startedAt: never(state.StartedAt),
        finishedAt: state.Running ? null : never(state.FinishedAt),
        error: state.Error || null,
        managed: isManaged(info.Config.Labels ?? undefined),
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      const status = statusOf(err);
      // 409: removal already in progress.
      if (status !== 404 && status !== 409) throw err;
    }
  }

  async listContainers(): Promise<OwnedContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: instanceFilter(this.instanceId) } });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      owner: ownerOf(c.Labels),
      running: c.State === 'running',
      ...(c.Labels?.[LABEL.role] === RELAY_ROLE ? { relay: true } : {}),
    }));
  }

  async onContainerExit(listener: (id: string) => void): Promise<() => void> {
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'], event: ['die'], label: instanceFilter(this.instanceId) },
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        try {
          const event = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
          const id = event.id ?? event.Actor?.ID;
          if (id) listener(id);
        } catch {
          /* a partial or foreign line; the next status query re-reads the engine anyway */
        }
      }
    });
    stream.on('error', () => {});
    return () => stream.destroy?.();
  }

  async logs(id: string): Promise<{ stdout: string; stderr: string }> {
    const raw = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demux(raw);
  }
}

/** A known user network was gone when a container was started on it (DockerRuntime.run makes it again). */
class NetworkGone extends Error {}
