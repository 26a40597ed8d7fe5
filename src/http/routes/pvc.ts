import { z } from 'zod';
import { SimError } from '../../domain/errors.ts';
import type { VolumeService } from '../../domain/volumes/volume-service.ts';
import { text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

/** Later client generations list and delete their volumes (PVCs). */
export function registerPvcRoutes(routes: RouteTable, deps: { volumes: VolumeService }): void {
  const { volumes } = deps;

  routes.add(
    {
      methods: ['POST', 'GET'],
      path: '/em/pvc/list',
      tag: 'volumes',
      summary: "The user's volumes: size, file count, creation and last use",
      laterGeneration: true,
      params: z.object({}),
      success: {
        description: 'One entry per volume; "default" is the volume used when pod_name is omitted',
        example: {
          message: 'Successfully listed volumes',
          data: [{ pvc_name: 'default', size: 487, file_count: 2, created_at: '2025-11-20T11:30:00Z', last_used_at: '2025-11-20T12:31:00Z', in_use_by: [] }],
        },
      },
      errors: ['STRICT_MODE'],
    },
    (c) => {
      const data = volumes.list(c.get('user')).map((v) => ({
        pvc_name: v.name,
        size: v.size,
        file_count: v.fileCount,
        created_at: new Date(v.createdAt).toISOString(),
        last_used_at: new Date(v.lastUsedAt).toISOString(),
        in_use_by: v.inUseBy,
      }));
      return c.json({ message: 'Successfully listed volumes', data }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pvc/delete',
      tag: 'volumes',
      summary: 'Delete a volume and everything in it (refused while a pod uses it)',
      laterGeneration: true,
      params: z.object({
        pvc_name: text().optional().describe('the volume (pod name, or "default")'),
        pvc: text().optional().describe("one client version's name for pvc_name"),
      }),
      success: { description: 'Deleted', example: { message: 'PVC deleted successfully' } },
      errors: ['MISSING_PARAMETER', 'INVALID_POD_NAME', 'VOLUME_NOT_FOUND', 'VOLUME_IN_USE', 'STRICT_MODE'],
    },
    async (c, p) => {
      const name = p.pvc_name ?? p.pvc;
      if (name === undefined) throw new SimError('MISSING_PARAMETER', 'Parameter "pvc_name" is required');
      await volumes.delete(c.get('user'), name);
      return c.json({ message: 'PVC deleted successfully' }, 200);
    },
  );
}
