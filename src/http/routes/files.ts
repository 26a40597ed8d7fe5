import { closeSync, createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import busboy from 'busboy';
import type { Context } from 'hono';
import { stringify } from 'lossless-json';
import { z } from 'zod';
import { isErrno } from '../../adapters/fs/safe-path.ts';
import { SimError } from '../../domain/errors.ts';
import type { FileService } from '../../domain/files.ts';
import { checkPodName } from '../../domain/names.ts';
import type { VolumeRef, VolumeService } from '../../domain/volumes.ts';
import type { AppEnv } from '../env.ts';
import { parseParams, text, withoutUnset } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

export interface FileRouteDeps {
  files: FileService;
  volumes: VolumeService;
  strict: boolean;
  uplinkMaxBytes: number;
  downlinkBase64: boolean;
}

const READ_CHUNK = 1 << 20;

/** Volume selection shared by every file endpoint: pod_name, or pvc_name as later clients say. */
export const volumeParams = {
  pod_name: text().optional().describe('the pod whose volume to use; omitted: the default volume'),
  pvc_name: text().optional().describe('later clients\' name for pod_name'),
};

export function volumeOf(deps: { volumes: VolumeService; strict: boolean }, c: Context<AppEnv>, p: { pod_name?: string; pvc_name?: string }): VolumeRef {
  if (p.pvc_name !== undefined && deps.strict) {
    throw new SimError('STRICT_MODE', 'Strict mode: pvc_name is not in the seed specification; use pod_name (rule: seed parameters only)');
  }
  const name = p.pvc_name !== undefined ? checkPodName(p.pvc_name, 'pvc_name') : checkPodName(p.pod_name);
  return deps.volumes.ref(c.get('user'), name);
}

const listParams = z.object(volumeParams);
const pathParams = z.object({ ...volumeParams, filepath: text().describe('path of the file or folder, relative to the volume') });
const uplinkParams = z.object({
  ...volumeParams,
  dest_path: text().optional().describe('folder in the volume to put the files in; created when missing'),
});

/** The four file endpoints of the spec, sections 1 to 4. */
export function registerFileRoutes(routes: RouteTable, deps: FileRouteDeps): void {
  const { files } = deps;

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
      const tree = await files.list(volumeOf(deps, c, p));
      // lossless-json writes the bigint hashes with every digit; JSON.stringify would refuse them.
      return c.body(stringify({ message: 'Successfully listed files', data: tree }) ?? '', 200, {
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
    async (c, p) => sendFile(c, files.openForDownlink(volumeOf(deps, c, p), p.filepath), deps.downlinkBase64),
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
      await files.delete(volumeOf(deps, c, p), p.filepath);
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
      const { fields, session } = await receiveUplink(c, deps);
      try {
        const p = parseParams(uplinkParams, withoutUnset({ ...c.req.query(), ...fields }));
        const ref = volumeOf(deps, c, p);
        if (session.fileCount === 0) throw new SimError('NO_FILES', 'No files were provided for uplink!');
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

/** setHeader rather than writeHead's object, so middleware can read them back (getHeader). */
function writeHeaders(out: ServerResponse, headers: Record<string, string | number>): void {
  for (const [name, value] of Object.entries(headers)) out.setHeader(name, value);
  out.writeHead(200);
}

function sendFile(c: Context<AppEnv>, file: { fd: number; size: number; name: string }, base64: boolean): Response {
  const out = c.env.outgoing as ServerResponse;
  const stream = readExactly(file);
  if (base64) {
    // The older client (seed 002) wants {"filename", "content": base64}; still streamed.
    const prefix = `{"filename": ${JSON.stringify(file.name)}, "content": "`;
    const suffix = '"}';
    writeHeaders(out, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(prefix) + 4 * Math.ceil(file.size / 3) + suffix.length,
    });
    out.write(prefix);
    pipeline(stream, new Base64Encode(), out, { end: false })
      .then(() => out.end(suffix))
      .catch(() => out.destroy());
  } else {
    writeHeaders(out, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': file.size,
      'Content-Disposition': contentDisposition(file.name),
    });
    pipeline(stream, out).catch(() => {
      /* the client went away; nothing to clean up but the stream, which pipeline closed */
    });
  }
  return RESPONSE_ALREADY_SENT;
}

/**
 * Exactly the bytes fstat counted. With `end` set the stream ends on its last read, so the
 * response ends as soon as the client has every byte it was promised (instead of after one more
 * read to find EOF, while the client, which has it all, may already send its next request);
 * and a file that a pod is still writing cannot outgrow the Content-Length already sent.
 */
function readExactly(file: { fd: number; size: number }): Readable {
  if (file.size === 0) {
    closeSync(file.fd);
    return Readable.from([]);
  }
  return createReadStream('', { fd: file.fd, start: 0, end: file.size - 1, highWaterMark: READ_CHUNK });
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const extended = ascii === name ? '' : `; filename*=UTF-8''${encodeURIComponent(name)}`;
  return `attachment; filename="${ascii}"${extended}`;
}

class Base64Encode extends Transform {
  private rest: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const whole = data.length - (data.length % 3);
    this.rest = data.subarray(whole);
    done(null, data.subarray(0, whole).toString('base64'));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.rest.toString('base64'));
  }
}

/**
 * Streams a multipart body into the session's staging area. The size cap covers the whole
 * request body and is enforced as bytes arrive; crossing it ends the request at once.
 */
async function receiveUplink(c: Context<AppEnv>, deps: FileRouteDeps) {
  const incoming = c.env.incoming as IncomingMessage;
  const type = c.req.header('content-type') ?? '';
  const session = deps.files.beginUplink();
  const fields: Record<string, string> = {};
  const tooLarge = () =>
    new SimError('MAX_UPLINK_SIZE_EXCEEDED', `Total upload size exceeds ${formatLimit(deps.uplinkMaxBytes)}`);

  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new SimError('NO_FILES', 'No files were provided for uplink!');
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > deps.uplinkMaxBytes) {
    cutOff(c);
    throw tooLarge();
  }

  const receiving: Promise<void>[] = [];
  let body: ByteLimit | undefined;
  try {
    // preservePath: the session takes the base name itself and names the client's own
    // file name in its errors; busboy would turn ".." into "".
    const parser = busboy({
      headers: incoming.headers,
      highWaterMark: READ_CHUNK,
      preservePath: true,
      limits: { fieldSize: 1 << 20, fields: 1000 },
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'files') {
        stream.resume();
        return;
      }
      const done = session.receive(info.filename ?? '', stream);
      // A refused file name leaves its stream unread: drain it so that busboy goes on, and
      // report at the end. A failed write (a full disk) has destroyed the stream, which would
      // stall busboy: end the whole request at once instead.
      done.catch((err) => (err instanceof SimError ? stream.resume() : body?.destroy(err as Error)));
      receiving.push(done);
    });
    // Only once busboy accepted the headers (it throws on a multipart type without a boundary).
    body = bodyOf(incoming, deps.uplinkMaxBytes, tooLarge);
    await pipeline(body, parser);
    const results = await Promise.allSettled(receiving);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { fields, session };
  } catch (err) {
    // Whatever else of the body comes is read and dropped, so that the error response is not
    // lost to a reset; cutOff closes the connection once the response is out.
    incoming.unpipe();
    incoming.resume();
    // Unpiped, the counter has no error listener left: end it quietly, so that a client that
    // goes away now cannot make it emit an error that nobody handles.
    body?.destroy();
    // Let every temporary file close before removing it, so none is left behind.
    await Promise.allSettled(receiving);
    await session.abort();
    if (err instanceof SimError) {
      if (err.code === 'MAX_UPLINK_SIZE_EXCEEDED') cutOff(c);
      throw err;
    }
    if (isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT')) {
      cutOff(c);
      throw new SimError('DISK_FULL', 'The simulator ran out of disk space while storing the upload; nothing was kept. Free space in the data directory and retry.');
    }
    if (incoming.destroyed || incoming.readableAborted) {
      throw new SimError('UPLINK_FAILED', 'The upload was interrupted before it completed; nothing was kept');
    }
    throw new SimError('UPLINK_FAILED', `The multipart body could not be read (${(err as Error).message}); nothing was kept`);
  }
}

/**
 * The request body, counted against the limit. Piped, not handed to pipeline(): pipeline would
 * destroy the request on a parse error or at the limit, and destroying a request whose body is
 * still arriving destroys its socket, so the client would never see the 400. A client that goes
 * away still fails the upload.
 */
function bodyOf(incoming: IncomingMessage, max: number, tooLarge: () => Error): ByteLimit {
  const limited = new ByteLimit(max, tooLarge);
  incoming.pipe(limited);
  finished(incoming, { writable: false }, (err) => {
    if (err) limited.destroy(err);
  });
  return limited;
}

/** How long a cut-off connection keeps dropping body bytes after the response, at most. */
const LINGER_MS = 10_000;

/**
 * Closes the connection once the error response is out, instead of storing the rest of the
 * body. Node destroys a "Connection: close" socket as soon as the response is written; body
 * bytes still arriving would then be answered with a TCP reset, which can discard the response
 * before the client reads it. So the close lingers, as nginx's does: the response, then FIN;
 * whatever still arrives is read and dropped until the client closes, or LINGER_MS at most.
 */
function cutOff(c: Context<AppEnv>): void {
  const out = c.env.outgoing as ServerResponse;
  const incoming = c.env.incoming as IncomingMessage;
  out.setHeader('Connection', 'close');
  incoming.resume();
  const socket = incoming.socket;
  if (!socket) return;
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

function formatLimit(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

class ByteLimit extends Transform {
  private seen = 0;

  constructor(
    private readonly max: number,
    private readonly error: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) done(this.error());
    else done(null, chunk);
  }
}
