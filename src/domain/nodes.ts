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
