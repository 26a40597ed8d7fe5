import { z } from 'zod';
import type { FileService } from '../../domain/files/file-service.ts';
import { listingJson } from '../../domain/files/file-tree.ts';
import type { VolumeSelection, VolumeService } from '../../domain/volumes/volume-service.ts';
import { formatLimit, receiveMultipart } from '../multipart.ts';
import { parseParams, text, withoutUnset } from '../params.ts';
import type { RouteTable } from '../route-table.ts';
import { sendFile } from '../streaming.ts';

/** What the file routes serve from. */
export interface FileRouteDeps {
  files: FileService;
  volumes: VolumeService;
  /** limits.uplink_max_bytes. */
  uplinkMaxBytes: number;
  /** compat.downlink_base64. */
  downlinkBase64: boolean;
}

/** Volume selection shared by every endpoint that works in a volume: pod_name, or pvc_name as later clients say. */
export const volumeParams = {
  pod_name: text().optional().describe('the pod whose volume to use; omitted: the default volume'),
  pvc_name: text().optional().describe('later clients\' name for pod_name'),
};

/** The decoded volume parameters, as the domain takes them. */
export const volumeSelection = (p: { pod_name?: string; pvc_name?: string }): VolumeSelection => ({ podName: p.pod_name, pvcName: p.pvc_name });

const listParams = z.object(volumeParams);
const pathParams = z.object({ ...volumeParams, filepath: text().describe('path of the file or folder, relative to the volume') });
const uplinkParams = z.object({
  ...volumeParams,
  dest_path: text().optional().describe('folder in the volume to put the files in; created when missing'),
});

/** The four file endpoints of the spec, sections 1 to 4. */
export function registerFileRoutes(routes: RouteTable, deps: FileRouteDeps): void {
  const { files, volumes } = deps;

  routes.add(
    {
      methods: ['GET', 'POST'],
      path: '/em/files/list',
      tag: 'files',
      summary: 'List the files of a volume, with size, time and hash',
      description:
        'hash is the first 8 bytes of the SHA-256 of the content, read as a big-endian signed 64-bit integer, written with every digit.',
      params: listParams,
      success: {
        description: 'The volume as a nested tree',
        example: {
          message: 'Successfully listed files',
          data: [{ type: 'file', name: 'downlink.txt', size: '167', time: '2025-11-20-12-31', hash: 5686952638663605203n }],
        },
      },
      errors: ['INVALID_POD_NAME', 'STRICT_MODE'],
    },
    async (c, p) => {
      const tree = await files.list(volumes.select(c.get('user'), volumeSelection(p)));
      return c.body(listingJson('Successfully listed files', tree), 200, {
        'Content-Type': 'application/json',
      });
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/em/files/downlink',
      tag: 'files',
      summary: 'Download one file of a volume, streamed',
      params: pathParams,
      // compat.downlink_base64 changes the answer: the document says what this server sends.
      success: deps.downlinkBase64
        ? {
            description: 'The file as JSON, its content in base64 (compat.downlink_base64, for the older client); still streamed',
            example: { filename: 'downlink.txt', content: 'SXMgdGhpcyB0aGUgZmluYWwgZnJvbnRpZXI/Cg==' },
          }
        : { description: 'The file\'s bytes, with Content-Disposition: attachment; filename="NAME"', contentType: 'application/octet-stream' },
      errors: ['MISSING_PARAMETER', 'INVALID_PATH', 'NOT_A_FILE', 'ILLEGAL_PATH', 'FILE_NOT_FOUND', 'INVALID_POD_NAME', 'STRICT_MODE'],
    },
    async (c, p) => sendFile(c, files.openForDownlink(volumes.select(c.get('user'), volumeSelection(p)), p.filepath), deps.downlinkBase64),
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/files/delete',
      tag: 'files',
      summary: 'Delete a file or a whole folder of a volume',
      params: pathParams,
      success: { description: 'Deleted', example: { message: 'File deleted successfully' } },
      errors: ['MISSING_PARAMETER', 'INVALID_PATH', 'DELETE_FAILED', 'ILLEGAL_PATH', 'INVALID_POD_NAME', 'STRICT_MODE'],
    },
    async (c, p) => {
      await files.delete(volumes.select(c.get('user'), volumeSelection(p)), p.filepath);
      return c.json({ message: 'File deleted successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/files/uplink',
      tag: 'files',
      summary: 'Upload files into a volume (multipart, field "files", repeatable)',
      description: 'The whole request body may not exceed limits.uplink_max_bytes (2 GiB by default). Files appear only once the whole request has arrived.',
      params: uplinkParams,
      rawBody: { contentType: 'multipart/form-data', schema: uplinkParams },
      success: {
        description: 'Stored',
        example: { message: 'Successfully uplinked files', data: { file_count: 2, total_size_kb: 0.47 } },
      },
      errors: ['NO_FILES', 'MAX_UPLINK_SIZE_EXCEEDED', 'UPLINK_FAILED', 'INVALID_PATH', 'ILLEGAL_PATH', 'DISK_FULL', 'INVALID_POD_NAME', 'STRICT_MODE'],
    },
    async (c) => {
      const session = files.beginUplink();
      try {
        const fields = await receiveMultipart(c, {
          maxBytes: deps.uplinkMaxBytes,
          fileField: 'files',
          onFile: (filename, data) => session.receive(filename, data),
          tooLargeMessage: `Total upload size exceeds ${formatLimit(deps.uplinkMaxBytes)}`,
        });
        const p = parseParams(uplinkParams, withoutUnset({ ...c.req.query(), ...fields }));
        const ref = volumes.select(c.get('user'), volumeSelection(p));
        session.commit(ref, p.dest_path);
        return c.json(
          {
            message: 'Successfully uplinked files',
            data: { file_count: session.fileCount, total_size_kb: Math.round((session.totalBytes / 1024) * 100) / 100 },
          },
          200,
        );
      } finally {
        await session.abort();
      }
    },
  );
}
