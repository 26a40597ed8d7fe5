import type { ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { VolumeFile } from '../domain/ports/volume-store.ts';
import type { AppEnv } from './env.ts';
import { writeHead } from './node-server.ts';

/**
 * Sends a volume file as the downlink's body, streamed straight to the connection (a 1 GiB file
 * never sits in memory), and closes it once sent or abandoned. As bytes with Content-Disposition
 * (spec section 2), or, with compat.downlink_base64, as `{"filename", "content": BASE64}` for the
 * older client (seed 002), still streamed.
 */
export function sendFile(c: Context<AppEnv>, file: VolumeFile, base64: boolean): Response {
  const out = c.env.outgoing as ServerResponse;
  // The stream takes the file over: it closes it once sent or abandoned.
  const stream = file.stream();
  if (base64) {
    const prefix = `{"filename": ${JSON.stringify(file.name)}, "content": "`;
    const suffix = '"}';
    writeHead(out, 200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(prefix) + 4 * Math.ceil(file.size / 3) + suffix.length,
    });
    out.write(prefix);
    pipeline(stream, new Base64Encode(), out, { end: false })
      .then(() => out.end(suffix))
      .catch(() => out.destroy());
  } else {
    writeHead(out, 200, {
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
 * Sends a stream as an attachment of a known size (namespace files, task artifacts), straight to
 * the connection. The stream is destroyed if the client goes away.
 */
export function sendStream(c: Context<AppEnv>, stream: Readable, file: { size: number; name: string; contentType: string }): Response {
  const out = c.env.outgoing as ServerResponse;
  writeHead(out, 200, { 'Content-Type': file.contentType, 'Content-Length': file.size, 'Content-Disposition': contentDisposition(file.name) });
  pipeline(stream, out).catch(() => {
    /* the client went away; pipeline closed the stream */
  });
  return RESPONSE_ALREADY_SENT;
}

/** `attachment; filename="ASCII"`, plus RFC 5987's filename* when the name is not plain ASCII. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const extended = ascii === name ? '' : `; filename*=UTF-8''${encodeURIComponent(name)}`;
  return `attachment; filename="${ascii}"${extended}`;
}

/** Base64 of a byte stream, as a stream (3-byte groups carried across chunks). */
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
