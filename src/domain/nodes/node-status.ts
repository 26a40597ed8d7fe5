import type { Clock } from '../ports/clock.ts';
import type { PodStore } from '../ports/pod-store.ts';
import type { NodeLimits, NodeName, NodeSchedule } from './node-schedule.ts';

/** What /em/nodes/status reports about one node. */
export interface NodeStatus {
  node: NodeName;
  available: boolean;
  /** See NodeAvailability.until (epoch ms). */
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

/** /em/nodes/status: every node now, with the pods running on it. */
export class NodeStatusService {
  constructor(
    private readonly schedule: NodeSchedule,
    private readonly pods: PodStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Each node's availability, limits and running pods, as `username` may see them. Records follow
   * the engine's exit events, so a pod that has just ended may be listed until its event arrives.
   */
  statuses(username: string): NodeStatus[] {
    const running = new Map<NodeName, { username: string; pod: string }[]>(this.schedule.names.map((n) => [n, []]));
    for (const record of this.pods.listActive()) {
      if (record.phase === 'running') running.get(record.spec.node)?.push({ username: record.username, pod: record.name });
    }
    const t = this.clock.now();
    return this.schedule.names.map((node) => {
      const limits = this.schedule.limits(node);
      const pods = running.get(node) ?? [];
      return {
        node,
        ...this.schedule.availability(node, t),
        limits,
        free: pods.length ? { cpus: 0, memoryMb: 0 } : { ...limits },
        pods: pods.length,
        userPods: pods.filter((p) => p.username === username).map((p) => p.pod).sort(),
      };
    });
  }
}
