import type { IncomingMessage } from 'node:http';
import { finished, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Context } from 'hono';
import { SimError } from '../domain/errors.ts';
import type { AppEnv } from './env.ts';
import { PARAMETER_BODY_LIMIT, STREAM_CHUNK } from './limits.ts';

/**
 * A body refused while it still arrives: the answer must close the connection rather than read
 * the rest (api.ts answers it with answerAndClose).
 */
export class RefusedBody extends Error {
  override name = 'RefusedBody';
  constructor(readonly error: SimError) {
    super(error.message);
  }
}

/** What receiveMultipart does with a body. */
export interface MultipartOptions {
  /** The whole request body may not exceed this many bytes (limits.uplink_max_bytes). */
  maxBytes: number;
  /** The field that carries the files, repeatable (the spec's "files"); files of other fields are dropped. */
  fileField: string;
  /**
   * Receives one file: consumes `data` to its end. A failure that leaves the stream unread (a
   * refused file name) fails the request once the body is read (this module drains the stream);
   * one that destroyed it (a failed write) ends the request at once.
   */
  onFile(filename: string, data: Readable): Promise<void>;
  /** The message of MAX_UPLINK_SIZE_EXCEEDED. */
  tooLargeMessage: string;
}

/**
 * Streams a multipart/form-data body through busboy: files to `onFile` as they arrive, other
 * fields returned once the whole body is in. The size cap covers the whole body and is enforced as
 * bytes arrive. Errors: NO_FILES (not multipart), RefusedBody wrapping MAX_UPLINK_SIZE_EXCEEDED or
 * DISK_FULL (the connection is then closed), UPLINK_FAILED (interrupted or unreadable body), or
 * the SimError onFile threw.
 */
export async function receiveMultipart(c: Context<AppEnv>, options: MultipartOptions): Promise<Record<string, string>> {
  const incoming = c.env.incoming as IncomingMessage;
  const type = c.req.header('content-type') ?? '';
  const fields: Record<string, string> = {};
  const tooLarge = () => new SimError('MAX_UPLINK_SIZE_EXCEEDED', options.tooLargeMessage);

  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new SimError('NO_FILES', 'No files were provided for uplink!');
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > options.maxBytes) throw new RefusedBody(tooLarge());

  const receiving: Promise<void>[] = [];
  let body: ByteLimit | undefined;
  try {
    // preservePath: the receiver takes the base name itself and names the client's own file
    // name in its errors; busboy would turn ".." into "".
    const parser = busboy({
      headers: incoming.headers,
      highWaterMark: STREAM_CHUNK,
      preservePath: true,
      // File names arrive as the clients send them: curl and Python's requests (urllib3) put the
      // name's UTF-8 bytes in filename="…", and Django, which the EM runs, reads them as UTF-8
      // (DEFAULT_CHARSET). busboy's default would read them as ISO-8859-1 ("rÃ©sumÃ©.txt").
      defParamCharset: 'utf8',
      limits: { fieldSize: PARAMETER_BODY_LIMIT, fields: 1000 },
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== options.fileField) {
        stream.resume();
        return;
      }
      const done = options.onFile(info.filename ?? '', stream);
      // A refused file name leaves its stream unread: drain it so that busboy goes on, and
      // report at the end. A failed write (a full disk) has destroyed the stream, which would
      // stall busboy: end the whole request at once instead.
      done.catch((err) => (stream.destroyed ? body?.destroy(err as Error) : stream.resume()));
      receiving.push(done);
    });
    // Only once busboy accepted the headers (it throws on a multipart type without a boundary).
    body = bodyOf(incoming, options.maxBytes, tooLarge);
    await pipeline(body, parser);
    const results = await Promise.allSettled(receiving);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return fields;
  } catch (err) {
    // Whatever else of the body comes is read and dropped, so that the error response is not
    // lost to a reset; a refused body also closes the connection once the response is out.
    incoming.unpipe();
    incoming.resume();
    // Unpiped, the counter has no error listener left: end it quietly, so that a client that
    // goes away now cannot make it emit an error that nobody handles.
    body?.destroy();
    // Let every temporary file close before the caller removes it, so none is left behind.
    await Promise.allSettled(receiving);
    throw failure(err, incoming);
  }
}

/** What a failed multipart body answers: a body too large for the limit or the disk closes the connection. */
function failure(err: unknown, incoming: IncomingMessage): Error {
  if (err instanceof SimError) return err.code === 'MAX_UPLINK_SIZE_EXCEEDED' || err.code === 'DISK_FULL' ? new RefusedBody(err) : err;
  if (incoming.destroyed || incoming.readableAborted) {
    return new SimError('UPLINK_FAILED', 'The upload was interrupted before it completed; nothing was kept');
  }
  return new SimError('UPLINK_FAILED', `The multipart body could not be read (${(err as Error | null | undefined)?.message ?? String(err)}); nothing was kept`);
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

/** Passes bytes through until more than `max` have passed, then fails with `error()`. */
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

/** "2 GB", "1 MB", "512 KB" or "N bytes": the size limit as the EM's message writes it. */
export function formatLimit(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
