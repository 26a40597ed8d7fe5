import type Docker from 'dockerode';
import type { RelayTarget, ServiceRelays } from '../../domain/ports/service-relays.ts';
import { hostArchitecture } from '../platform/host.ts';
import { busyboxRootfs } from '../standins/busybox-rootfs.ts';
import { findExecutable } from '../standins/producer.ts';
import { engineMessage, statusOf } from './engine-output.ts';
import { LABEL, relayLabels, RELAY_ROLE } from './labels.ts';
import { onEngine } from './instance-names.ts';
import { loadRootfsArchive } from './rootfs-archive.ts';

/** Bumped when the relay image changes. */
const RELAY_VERSION = '1';

/** The relay image's tag on this machine. */
function relayTag(): string {
  return `em-sim-relay:r${RELAY_VERSION}-${hostArchitecture()}`;
}

/**
 * Whether relays can be made here (doctor): null when the relay image is present or the host's
 * static busybox can make it, else what to install.
 */
export async function relayProblem(docker: Docker): Promise<string | null> {
  try {
    await docker.getImage(relayTag()).inspect();
    return null;
  } catch (err) {
    if (statusOf(err) !== 404) return `the engine did not answer: ${engineMessage(err)}`;
  }
  const busybox = findExecutable('busybox', ['/bin/busybox', '/usr/bin/busybox']);
  return busybox ? null : 'no busybox on this machine to make the services relay from: apt-get install busybox-static';
}

/** The instance's services network: its host side is where the services listener listens. */
export function servicesNetworkName(instanceId: string): string {
  return `em-sim-services-${instanceId}`;
}

/**
 * The ServiceRelays port on Docker. Each user network gets one relay container: Debian's static
 * busybox for this machine's own architecture (infrastructure, not a pod: it never runs under
 * emulation), `nc -ll -p 80 -e nc HOST PORT`, one forwarding process per connection. It answers
 * to the services' names on the user's network and sits on the instance's services network, an
 * internal bridge whose only other member is the host (the gateway), where the simulator
 * listens. Pods are never on that network; a relay forwards to that one address and port only.
 * Relays run read-only, with no capabilities but binding port 80, no new privileges, no packet
 * forwarding, 128 MB and 1024 processes (one per open connection), restarted if nc gives up.
 * Container names hold "_", which no pod name may contain, so no pod can take or remove one.
 */
export class DockerServiceRelays implements ServiceRelays {
  private network: Promise<string> | null = null;
  private image: Promise<string> | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly instanceId: string,
    /**
     * The container em-sim runs in, when it does (self-container.ts): the listener is then not on
     * the host but in that container, which joins the services network; gateway() answers its
     * address there instead of the host's.
     */
    private readonly selfContainer: string | null = null,
  ) {}

  gateway(): Promise<string> {
    this.network ??= this.ensureNetwork().catch((err: unknown) => {
      this.network = null;
      throw err;
    });
    return this.network;
  }

  async ensure(user: string, network: string, names: string[], target: RelayTarget): Promise<string> {
    await this.gateway();
    const image = await this.relayImage();
    const name = this.relayName(user);
    await this.docker
      .getContainer(name)
      .remove({ force: true })
      .catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
    const servicesNetwork = servicesNetworkName(this.instanceId);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Image: image,
        Cmd: ['nc', '-ll', '-p', '80', '-e', 'nc', target.host, String(target.port)],
        Env: ['PATH=/usr/bin:/bin:/usr/sbin:/sbin'],
        Labels: relayLabels(this.instanceId, user),
        HostConfig: {
          NetworkMode: servicesNetwork,
          ReadonlyRootfs: true,
          CapDrop: ['ALL'],
          CapAdd: ['NET_BIND_SERVICE'],
          SecurityOpt: ['no-new-privileges'],
          // One process per open connection: room for about a thousand at once. Should nc still
          // give up (it exits when it cannot fork), the engine starts it again.
          Memory: 128 * 1024 * 1024,
          PidsLimit: 1024,
          RestartPolicy: { Name: 'always' },
          // It forwards connections, never packets between the two networks.
          Sysctls: { 'net.ipv4.ip_forward': '0' },
        },
        NetworkingConfig: { EndpointsConfig: { [servicesNetwork]: {} } },
      });
      await this.docker.getNetwork(onEngine(network, this.instanceId)).connect({ Container: container.id, EndpointConfig: { Aliases: names } });
      await container.start();
    } catch (err) {
      throw new Error(`starting the services relay on ${network}: ${engineMessage(err)}`);
    }
    const info = await container.inspect();
    const address = info.NetworkSettings.Networks[servicesNetwork]?.IPAddress;
    if (!address) throw new Error(`the services relay on ${network} got no address on ${servicesNetwork}`);
    return address;
  }

  async running(user: string): Promise<boolean> {
    try {
      return (await this.docker.getContainer(this.relayName(user)).inspect()).State.Running;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  private relayName(user: string): string {
    return `em-sim_services_${this.instanceId}_${user}`;
  }

  async removeAll(): Promise<void> {
    const relays = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.instance}=${this.instanceId}`, `${LABEL.role}=${RELAY_ROLE}`] },
    });
    await Promise.all(
      relays.map((c) =>
        this.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch((err: unknown) => {
            if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
          }),
      ),
    );
    this.network = null;
    if (this.selfContainer) {
      await this.docker
        .getNetwork(servicesNetworkName(this.instanceId))
        .disconnect({ Container: this.selfContainer, Force: true })
        .catch((err: unknown) => {
          // 404: no such network; 403/500: this container is not on it (any more).
          if (![403, 404, 500].includes(statusOf(err) ?? 0)) throw err;
        });
    }
    await this.docker
      .getNetwork(servicesNetworkName(this.instanceId))
      .remove()
      .catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
  }

  private async ensureNetwork(): Promise<string> {
    const gateway = await this.ensureServicesNetwork();
    return this.selfContainer ? this.joinServicesNetwork(this.selfContainer) : gateway;
  }

  /** Puts em-sim's own container on the services network (once); resolves with its address there. */
  private async joinServicesNetwork(self: string): Promise<string> {
    const name = servicesNetworkName(this.instanceId);
    const addressOn = async () => (await this.docker.getContainer(self).inspect()).NetworkSettings.Networks[name]?.IPAddress;
    let address = await addressOn();
    if (!address) {
      await this.docker
        .getNetwork(name)
        .connect({ Container: self })
        .catch((err: unknown) => {
          // 403: already connected (a race with another request of this process).
          if (statusOf(err) !== 403) throw new Error(`joining the services network ${name}: ${engineMessage(err)}`);
        });
      address = await addressOn();
    }
    if (!address) throw new Error(`em-sim's container got no address on ${name}`);
    return address;
  }

  private async ensureServicesNetwork(): Promise<string> {
    const name = servicesNetworkName(this.instanceId);
    const gatewayOf = (info: Docker.NetworkInspectInfo) => info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
    try {
      const existing = await this.docker.getNetwork(name).inspect();
      const gateway = gatewayOf(existing);
      if (gateway) return gateway;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    try {
      // Internal: nothing on it reaches further than the host's address on the bridge.
      await this.docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: relayLabels(this.instanceId) });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    const gateway = gatewayOf(await this.docker.getNetwork(name).inspect());
    if (!gateway) throw new Error(`the engine gave ${name} no gateway address`);
    return gateway;
  }

  private relayImage(): Promise<string> {
    this.image ??= this.makeRelayImage().catch((err: unknown) => {
      this.image = null;
      throw err;
    });
    return this.image;
  }

  private async makeRelayImage(): Promise<string> {
    const architecture = hostArchitecture();
    const tag = relayTag();
    try {
      await this.docker.getImage(tag).inspect();
      return tag;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const producer = await busyboxRootfs(() => {});
    try {
      const loading = loadRootfsArchive(this.docker, producer.tar, {
        tag,
        architecture,
        config: { env: ['PATH=/usr/bin:/bin:/usr/sbin:/sbin'], cmd: ['/bin/sh'] },
        labels: { [LABEL.managed]: 'true', [LABEL.role]: 'services-relay-image' },
        complete: producer.done,
      });
      const [loaded, produced] = await Promise.allSettled([loading, producer.done]);
      if (produced.status === 'rejected') throw produced.reason;
      if (loaded.status === 'rejected') throw loaded.reason;
      return tag;
    } catch (err) {
      producer.stop();
      throw new Error(`making the services relay image ${tag}: ${(err as Error).message}`);
    } finally {
      await producer.cleanup();
    }
  }
}
