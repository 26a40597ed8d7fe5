import { compileWindows, windowState, type CompiledWindows, type WindowSpec } from '../time/windows.ts';

/** CG2's compute nodes (spec section 9: `node` is FPGA, GPU or MPU). */
export const NODE_NAMES = ['FPGA', 'GPU', 'MPU'] as const;
/** FPGA, GPU or MPU. */
export type NodeName = (typeof NODE_NAMES)[number];

/** The CPUs and memory every pod on a node runs with. */
export interface NodeLimits {
  cpus: number;
  memoryMb: number;
}

/** One node as configured (sim-config.yaml `nodes.NAME`). */
export interface NodeSettings extends NodeLimits {
  /** When the node is powered; absent: always. */
  availability?: readonly WindowSpec[];
}

/** Every node's settings, and what happens to a running pod when its node powers off. */
export type NodesSettings = Record<NodeName, NodeSettings> & { onUnavailable: 'stop' | 'continue' };

/** Whether a node is powered at a moment, and until when. */
export interface NodeAvailability {
  available: boolean;
  /** Available: when it goes away (null: never). Unavailable: when it comes back (null: never). */
  until: number | null;
}

/** The simulated FPGA, GPU and MPU nodes: their limits and when they are powered. */
export class NodeSchedule {
  private readonly windows = new Map<NodeName, CompiledWindows | null>();

  constructor(private readonly settings: NodesSettings) {
    for (const node of NODE_NAMES) {
      const availability = settings[node].availability;
      this.windows.set(node, availability ? compileWindows(availability) : null);
    }
  }

  /** Whether `name` is one of the nodes, spelt exactly. */
  static isNode(name: string): name is NodeName {
    return (NODE_NAMES as readonly string[]).includes(name);
  }

  get names(): readonly NodeName[] {
    return NODE_NAMES;
  }

  /** nodes.on_unavailable: stop a running pod when its node powers off. */
  get stopOnOutage(): boolean {
    return this.settings.onUnavailable === 'stop';
  }

  limits(node: NodeName): NodeLimits {
    return { cpus: this.settings[node].cpus, memoryMb: this.settings[node].memoryMb };
  }

  /** Whether the node is powered at simulated time t (epoch ms), and until when. */
  availability(node: NodeName, t: number): NodeAvailability {
    const windows = this.windows.get(node);
    if (!windows) return { available: true, until: null };
    const { inside, until } = windowState(windows, t);
    return { available: inside, until };
  }
}
