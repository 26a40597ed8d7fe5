import { z } from 'zod';
import type { NodeStatusService } from '../../domain/nodes/node-status.ts';
import { isoMillis } from '../../domain/time/iso-time.ts';
import type { RouteTable } from '../route-table.ts';

/** POST /em/nodes/status, which later client generations call (GET works too). */
export function registerNodeRoutes(routes: RouteTable, deps: { nodes: NodeStatusService }): void {
  routes.add(
    {
      methods: ['POST', 'GET'],
      path: '/em/nodes/status',
      tag: 'nodes',
      summary: 'The FPGA, GPU and MPU nodes: availability now, limits, what is free, and the pods on them',
      description:
        'available: whether the node is powered now; until: when that changes (ISO 8601, null: never). ' +
        'limits: the CPUs and memory every pod on the node runs with. Nothing is reserved: pods on one node ' +
        'share its limits, so free equals limits while no pod runs there and is 0 once any pod does. ' +
        'pods: running pods on the node, of every user; user_pods: the names of your own running pods there.',
      params: z.object({}),
      success: {
        description: 'One entry per node',
        example: {
          message: 'Successfully fetched nodes status',
          data: [
            {
              node: 'FPGA',
              available: true,
              until: '2025-05-22T12:40:00.000Z',
              limits: { cpus: 1, memory_mb: 1024 },
              free: { cpus: 0, memory_mb: 0 },
              pods: 2,
              user_pods: ['experiment-radiation'],
            },
          ],
        },
      },
      errors: ['STRICT_MODE'],
      laterGeneration: true,
    },
    (c) => {
      const data = deps.nodes.statuses(c.get('user')).map((s) => ({
        node: s.node,
        available: s.available,
        until: isoMillis(s.until),
        limits: { cpus: s.limits.cpus, memory_mb: s.limits.memoryMb },
        free: { cpus: s.free.cpus, memory_mb: s.free.memoryMb },
        pods: s.pods,
        user_pods: s.userPods,
      }));
      return c.json({ message: 'Successfully fetched nodes status', data }, 200);
    },
  );
}
