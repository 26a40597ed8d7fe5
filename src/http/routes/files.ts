import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import busboy from 'busboy';
import { Hono, type Context } from 'hono';
import { stringify } from 'lossless-json';
import { z } from 'zod';
import { isErrno } from '../../adapters/fs/safe-path.ts';
import { SimError } from '../../domain/errors.ts';
import type { FileService } from '../../domain/files.ts';
import { checkPodName } from '../../domain/names.ts';
import type { VolumeService } from '../../domain/volumes.ts';
import type { AppEnv } from '../env.ts';
import { parseParams, readParams, text } from '../params.ts';

export interface FileRouteDeps {
  files: FileService;
  volumes: VolumeService;
  uplinkMaxBytes: number;
  downlinkBase64: boolean;
}

const volumeParams = { pod_name: text().optional(), pvc_name: text().optional() };
const listParams = z.object(volumeParams);
const pathParams = z.object({ ...volumeParams, filepath: text() });

const READ_CHUNK = 1 << 20;

/** The four file endpoints of the spec, sections 1 to 4. */
export function fileRoutes(deps: FileRouteDeps): Hono<AppEnv> {
  const { files, volumes } = deps;
  const router = new Hono<AppEnv>();
  const volumeOf = (c: Context<AppEnv>, p: { pod_name?: string; pvc_name?: string }) =>
    volumes.ref(c.get('user'), checkPodName(p.pvc_name ?? p.pod_name, p.pvc_name !== undefined ? 'pvc_name' : 'pod_name'));

  router.on(['GET', 'POST'], '/list', async (c) => {
    const p = parseParams(listParams, await readParams(c));
    const tree = await files.list(volumeOf(c, p));
    // lossless-json writes the bigint hashes with every digit; JSON.stringify would refuse them.
    return c.body(stringify({ message: 'Successfully listed files', data: tree }) ?? '', 200, {
      'Content-Type': 'application/json',
    });
  });

  router.get('/downlink', async (c) => {
    const p = parseParams(pathParams, await readParams(c));
    const file = files.openForDownlink(volumeOf(c, p), p.filepath);
    return sendFile(c, file, deps.downlinkBase64);
  });

  router.post('/delete', async (c) => {
    const p = parseParams(pathParams, await readParams(c));
    await files.delete(volumeOf(c, p), p.filepath);
    return c.json({ message: 'File deleted successfully' }, 200);
  });

  router.post('/uplink', async (c) => {
    const { fields, session } = await receiveUplink(c, deps);
    try {
      const p = parseParams(z.object({ ...volumeParams, dest_path: text().optional() }), { ...c.req.query(), ...fields });
      const ref = volumeOf(c, p);
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
  });

  return router;
}

function sendFile(c: Context<AppEnv>, file: { fd: number; size: number; name: string }, base64: boolean): Response {
  const out = c.env.outgoing as ServerResponse;
  const stream = createReadStream('', { fd: file.fd, highWaterMark: READ_CHUNK });
  if (base64) {
    // The older client (seed 002) wants {"filename", "content": base64}; still streamed.
    const prefix = `{"filename": ${JSON.stringify(file.name)}, "content": "`;
    const suffix = '"}';
    out.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(prefix) + 4 * Math.ceil(file.size / 3) + suffix.length,
    });
    out.write(prefix);
    pipeline(stream, new Base64Encode(), out, { end: false })
      .then(() => out.end(suffix))
      .catch(() => out.destroy());
  } else {
    out.writeHead(200, {
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
  try {
    const parser = busboy({ headers: incoming.headers, highWaterMark: READ_CHUNK, limits: { fieldSize: 1 << 20, fields: 1000 } });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'files') {
        stream.resume();
        return;
      }
      const done = session.receive(info.filename ?? '', stream);
      // Keep reading the body even if this file is refused, so busboy can finish; report later.
      done.catch(() => stream.resume());
      receiving.push(done);
    });
    await pipeline(incoming, new ByteLimit(deps.uplinkMaxBytes, tooLarge), parser);
    const results = await Promise.allSettled(receiving);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { fields, session };
  } catch (err) {
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

/** Closes the connection once the error response is out, instead of reading the rest of the body. */
function cutOff(c: Context<AppEnv>): void {
  const out = c.env.outgoing as ServerResponse;
  out.setHeader('Connection', 'close');
  out.once('finish', () => (c.env.incoming as IncomingMessage).socket?.destroySoon());
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
