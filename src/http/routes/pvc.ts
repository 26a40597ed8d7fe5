import { z } from 'zod';
import { SimError } from '../../domain/errors.ts';
import type { FileService } from '../../domain/files.ts';
import type { HashCache } from '../../adapters/sqlite/hash-cache.ts';
import { checkPodName } from '../../domain/names.ts';
import type { PodService } from '../../domain/pods.ts';
import type { VolumeService } from '../../domain/volumes.ts';
import { text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

export interface PvcRouteDeps {
  volumes: VolumeService;
  files: FileService;
  pods: PodService;
  hashes: HashCache;
}

/** Later client generations list and delete their volumes (PVCs). */
export function registerPvcRoutes(routes: RouteTable, deps: PvcRouteDeps): void {
  const { volumes, pods } = deps;

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
      const user = c.get('user');
      const data = volumes.list(user).map((v) => ({
        pvc_name: v.name,
        size: v.size,
        file_count: v.fileCount,
        created_at: new Date(v.createdAt).toISOString(),
        last_used_at: new Date(v.lastUsedAt).toISOString(),
        in_use_by: pods.usersOfVolume(user, v.name),
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
      const user = c.get('user');
      const raw = p.pvc_name ?? p.pvc;
      if (raw === undefined) throw new SimError('MISSING_PARAMETER', 'Parameter "pvc_name" is required');
      const ref = volumes.ref(user, checkPodName(raw, 'pvc_name'));
      if (!volumes.exists(ref)) throw new SimError('VOLUME_NOT_FOUND', `No volume named "${ref.name}" exists for this user`);
      const users = pods.usersOfVolume(user, ref.name);
      if (users.length) {
        throw new SimError('VOLUME_IN_USE', `Volume "${ref.name}" is used by pod ${users.join(', ')}; wait for it to finish or replace it, then delete the volume`);
      }
      await volumes.remove(ref, deps.files.trashDir);
      deps.hashes.forgetVolume(`${user}/${ref.name}`);
      return c.json({ message: 'PVC deleted successfully' }, 200);
    },
  );
}
