import { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { AppEnv } from './env.ts';

/*
 * The HTTP layer's Node.js plumbing: the server, and the request and response classes it creates
 * (Node's documented `IncomingMessage` / `ServerResponse` options of http.createServer), which
 * count body bytes for the request log and tell the per-user lock when a response's last byte has
 * been handed to the connection. Nothing here is patched onto a library object.
 */

/** A request that counts the body bytes the HTTP parser hands over. */
export class MeteredRequest extends IncomingMessage {
  /** Body bytes received so far. */
  bodyBytes = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk) this.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).byteLength;
    return super.push(chunk, encoding);
  }
}

/**
 * A response that counts the body bytes written, and knows when the body has been handed to the
 * connection in full: when the bytes its Content-Length announces have been passed to write()
 * (just before they are), when end() is called, or when the connection closes, whichever comes
 * first. "Handed off" comes before the client can have the last byte, so a client that has the
 * whole body and sends its next request never meets a lock about to lift.
 *
 * Its hooks are plain fields called from emit(), not listeners: a status poll paid for three
 * once() wrappers and an event of its own on every response.
 */
export class MeteredResponse extends ServerResponse {
  /** Body bytes written so far (headers not counted). */
  bodyBytes = 0;
  private handedOff = false;
  private handedOffHooks: (() => void)[] | null = null;
  private sentHook: ((aborted: boolean) => void) | null = null;

  /** Calls fn once the whole body has been handed to the connection (at once if it has). */
  onceHandedOff(fn: () => void): void {
    if (this.handedOff) fn();
    else (this.handedOffHooks ??= []).push(fn);
  }

  /**
   * Calls fn once, when the response is complete ('finish'; or, for one that closes its connection
   * instead of ending (answerAndClose), once its whole body is written) with aborted false, or when
   * the connection closed before that, with aborted true. One hook per response.
   */
  onceDone(fn: (aborted: boolean) => void): void {
    this.sentHook = fn;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'finish') this.done(false);
    else if (event === 'close') {
      this.markHandedOff();
      this.done(true);
    }
    return super.emit(event, ...args);
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.count(chunk, rest[0]);
    if (!this.handedOff && this.bodyBytes >= this.announcedLength()) this.markHandedOff();
    return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }

  /**
   * Writes `body`, all that the Content-Length announces, then ends the connection rather than
   * the response (Node would destroy the socket at the response's end): see answerAndClose.
   */
  sendAndEndConnection(body: string, socket: { end(): void }): void {
    this.write(body, () => {
      socket.end();
      this.done(false);
    });
  }

  override end(...args: unknown[]): this {
    this.count(args[0], args[1]);
    this.markHandedOff();
    return (super.end as (...a: unknown[]) => this)(...args);
  }

  /** The Content-Length set with setHeader (writeHead's own headers cannot be read back); Infinity when none. */
  private announcedLength(): number {
    const length = Number(this.getHeader('content-length') ?? NaN);
    return Number.isFinite(length) ? length : Infinity;
  }

  private count(chunk: unknown, encoding: unknown): void {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    this.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : (chunk as Uint8Array).byteLength;
  }

  private done(aborted: boolean): void {
    const hook = this.sentHook;
    if (!hook) return;
    this.sentHook = null;
    hook(aborted);
  }

  private markHandedOff(): void {
    if (this.handedOff) return;
    this.handedOff = true;
    const hooks = this.handedOffHooks;
    this.handedOffHooks = null;
    if (hooks) for (const fn of hooks) fn();
  }
}

/** A server that listens. */
export interface ListeningServer {
  server: ServerType;
  address: AddressInfo;
  /** http://HOST:PORT, IPv6 hosts in brackets. */
  url: string;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Serves a Hono app over HTTP/1.1 with the metered request and response; resolves once listening. */
export async function listen(fetch: (request: Request, env: AppEnv['Bindings']) => Response | Promise<Response>, hostname: string, port: number): Promise<ListeningServer> {
  let server: ServerType;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve(
      {
        fetch: fetch as Parameters<typeof serve>[0]['fetch'],
        hostname,
        port,
        // Node's typings want the generic constructor; these classes are the plain ones, subclassed.
        serverOptions: { IncomingMessage: MeteredRequest, ServerResponse: MeteredResponse as unknown as typeof ServerResponse },
      },
      (info) => resolve(info),
    );
    server.once('error', reject);
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server: server!,
    address,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** How long a refused connection keeps dropping body bytes after the response, at most. */
const LINGER_MS = 10_000;

/**
 * Answers with `status` and a JSON body, then closes the connection the way nginx's lingering
 * close does, instead of reading (or storing) the rest of a body that is refused: the response,
 * then FIN, then whatever still arrives is read and dropped until the client closes, or LINGER_MS
 * at most. Closing at once would answer the bytes still arriving with a TCP reset, which can
 * discard the response before the client reads it. Without a Node connection (app.request in
 * tests) it is an ordinary response.
 */
export function answerAndClose(c: Context<AppEnv>, status: number, body: unknown): Response {
  const out = c.env?.outgoing;
  const socket = c.env?.incoming?.socket;
  const text = JSON.stringify(body);
  if (!(out instanceof MeteredResponse) || !socket || out.headersSent) return c.json(body, status as 400, { Connection: 'close' });
  c.env.incoming.resume();
  writeHead(out, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
  // The response is never end()ed: Node would then destroy the socket at once. The body is all
  // the Content-Length announces, and the FIN follows it.
  out.sendAndEndConnection(text, socket);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
  return RESPONSE_ALREADY_SENT;
}

/** Sends the status line and headers, set one by one so that middleware can read them back (getHeader). */
export function writeHead(out: ServerResponse, status: number, headers: Record<string, string | number>): void {
  for (const [name, value] of Object.entries(headers)) out.setHeader(name, value);
  out.writeHead(status);
}
