import { NODE_NAMES, type NodeName, type SimConfig } from '../config/schema.ts';
import { compileWindows, coveredUntil, nextCoveredAt, type CompiledWindows } from './windows.ts';

export interface NodeLimits {
  cpus: number;
  memoryMb: number;
}

export interface NodeAvailability {
  available: boolean;
  /** Available: when it goes away (null: never). Unavailable: when it comes back (null: never). */
  until: number | null;
}

/** The simulated FPGA, GPU and MPU nodes: their limits and when they are powered. */
export class NodeSchedule {
  private readonly windows = new Map<NodeName, CompiledWindows | null>();

  constructor(private readonly config: SimConfig['nodes']) {
    for (const node of NODE_NAMES) {
      const availability = config[node].availability;
      this.windows.set(node, availability ? compileWindows(availability) : null);
    }
  }

  static isNode(name: string): name is NodeName {
    return (NODE_NAMES as readonly string[]).includes(name);
  }

  get names(): readonly NodeName[] {
    return NODE_NAMES;
  }

  get stopOnOutage(): boolean {
    return this.config.on_unavailable === 'stop';
  }

  limits(node: NodeName): NodeLimits {
    return { cpus: this.config[node].cpus, memoryMb: this.config[node].memory_mb };
  }

  availability(node: NodeName, t: number): NodeAvailability {
    const windows = this.windows.get(node);
    if (!windows) return { available: true, until: null };
    const end = coveredUntil(windows, t);
    if (end !== null) return { available: true, until: end === Infinity ? null : end };
    return { available: false, until: nextCoveredAt(windows, t) };
  }
}

export interface NodeStatus {
  node: NodeName;
  available: boolean;
  /** See NodeAvailability.until. */
  until: number | null;
  limits: NodeLimits;
  /**
   * Nothing is reserved: every pod runs with the node's full limits and pods on one node share
   * them. So free is the whole limits while no pod runs there and zero once any pod does.
   */
  free: NodeLimits;
  /** Running pods on the node, of every user. */
  pods: number;
  /** The names of the asking user's running pods on the node. */
  userPods: string[];
}

/** What /em/nodes/status reports about each node at time t. */
export function nodeStatuses(
  schedule: NodeSchedule,
  t: number,
  running: ReadonlyMap<NodeName, readonly { username: string; pod: string }[]>,
  username: string,
): NodeStatus[] {
  return schedule.names.map((node) => {
    const limits = schedule.limits(node);
    const pods = running.get(node) ?? [];
    return {
      node,
      ...schedule.availability(node, t),
      limits,
      free: pods.length ? { cpus: 0, memoryMb: 0 } : { ...limits },
      pods: pods.length,
      userPods: pods.filter((p) => p.username === username).map((p) => p.pod).sort(),
    };
  });
}
