import type { Logger } from '../ports/logger.ts';
import type { ServiceListener, ServiceRelays } from '../ports/service-relays.ts';

/*
 * Which onboard services exist, under which cluster names, and how a user's pods reach them
 * (onboard-platform.md section 3: "Cluster DNS names, plain HTTP, port 80 implied").
 */

/** The onboard services em-sim twins. */
export const ONBOARD_SERVICES = ['telemetry', 'ollama', 'liquidai'] as const;
/** One of them. */
export type OnboardService = (typeof ONBOARD_SERVICES)[number];

/** Each service's Kubernetes name: SERVICE.NAMESPACE, as the provider's examples call them. */
export const SERVICE_HOSTS: Record<OnboardService, string> = {
  telemetry: 'satellite-telemetry.dphi-tm',
  ollama: 'ollama-dphi.dphi-public',
  liquidai: 'liquid-3b.dphi-public',
};

/** The names a pod may use for a service, as cluster DNS resolves them: NAME, NAME.svc, NAME.svc.cluster.local. */
export function serviceNames(service: OnboardService): string[] {
  const base = SERVICE_HOSTS[service];
  return [base, `${base}.svc`, `${base}.svc.cluster.local`];
}

/**
 * The service an HTTP Host header names (any port, any case, a trailing dot, the .svc forms),
 * or null.
 */
export function serviceForHost(host: string | undefined): OnboardService | null {
  if (!host) return null;
  const name = host
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/\.$/, '')
    .replace(/\.svc(\.cluster\.local)?$/, '');
  return ONBOARD_SERVICES.find((s) => SERVICE_HOSTS[s] === name) ?? null;
}

/** What /sim/services reports about reaching the services. */
export interface OnboardAccessStatus {
  /** The names pods resolve. */
  names: string[];
  /** Users whose network has a relay now. */
  users: string[];
  /** Why pods cannot reach the services, when they cannot. */
  problem: string | null;
}

/**
 * Puts the enabled services on users' networks: with the user's network (the first pod, a
 * namespace), never for users who run nothing. A failure is logged and reported, and the pod
 * runs anyway, as it would onboard with a service down.
 */
export class OnboardAccess {
  private port: Promise<number> | null = null;
  private host = '';
  private readonly byAddress = new Map<string, string>();
  private readonly ensured = new Map<string, Promise<void>>();
  private problem: string | null = null;
  private closed = false;

  constructor(
    private readonly relays: ServiceRelays,
    private readonly listener: ServiceListener,
    /** The names to resolve: serviceNames() of each enabled service. */
    private readonly names: string[],
    private readonly logger: Logger,
  ) {}

  /**
   * Makes the user's network reach the services; resolves once it does (or failed, logged). A
   * relay made before is checked to be still running (an engine restart stops it) and made again
   * if not.
   */
  async ensure(user: string, network: string): Promise<void> {
    if (!this.names.length || this.closed) return;
    const before = this.ensured.get(user);
    if (before) {
      await before;
      const alive = await this.relays.running(user).catch(() => false);
      if (alive || this.ensured.get(user) !== before) return this.ensured.get(user);
      this.ensured.delete(user);
    }
    let work = this.ensured.get(user);
    if (!work) {
      work = this.connect(user, network).catch((err: Error) => {
        this.ensured.delete(user);
        this.problem = `the onboard services are not reachable from pods: ${err.message}`;
        this.logger.warn('onboard services not reachable from pods', { user, error: err.message });
      });
      this.ensured.set(user, work);
    }
    return work;
  }

  /** The user whose relay has this address on the services network, if any. */
  userAt(address: string | undefined): string | undefined {
    return address ? this.byAddress.get(address.replace(/^::ffff:/, '')) : undefined;
  }

  status(): OnboardAccessStatus {
    return { names: [...this.names], users: [...new Set(this.byAddress.values())].sort(), problem: this.problem };
  }

  /** Removes the relays and stops the listener (the simulator stops). */
  async close(): Promise<void> {
    this.closed = true;
    // A relay being made now is made before all are removed, so none outlives the simulator.
    await Promise.allSettled([...this.ensured.values()]);
    this.ensured.clear();
    this.byAddress.clear();
    try {
      await this.relays.removeAll();
    } finally {
      if (this.port) await this.listener.close();
    }
  }

  private async connect(user: string, network: string): Promise<void> {
    if (!this.port) {
      this.port = (async () => {
        this.host = await this.relays.gateway();
        return this.listener.listen(this.host);
      })();
      this.port.catch(() => (this.port = null));
    }
    const port = await this.port;
    const address = await this.relays.ensure(user, network, this.names, { host: this.host, port });
    for (const [known, owner] of this.byAddress) if (owner === user) this.byAddress.delete(known);
    this.byAddress.set(address, user);
    this.problem = null;
  }
}
