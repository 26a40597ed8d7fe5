import { rmSync } from 'node:fs';
import net from 'node:net';

/**
 * A unix-socket proxy in front of a Docker engine's socket: one simulator pointed at `path`
 * loses its engine when the proxy stops (listener closed, every open connection destroyed) and
 * finds it again when the proxy starts, while everything else keeps using the real engine.
 */
export interface SocketProxy {
  readonly path: string;
  /** Listens again on the same path (after stop). */
  start(): Promise<void>;
  /** Stops listening and cuts every connection, as an engine going away would. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startSocketProxy(socketPath: string, target = '/var/run/docker.sock'): Promise<SocketProxy> {
  const open = new Set<net.Socket>();
  let server: net.Server | null = null;

  const start = async () => {
    if (server) return;
    rmSync(socketPath, { force: true });
    const listening = net.createServer((client) => {
      const upstream = net.connect(target);
      open.add(client);
      open.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(socketPath, () => resolve());
    });
    server = listening;
  };

  const stop = async () => {
    const closing = server;
    server = null;
    if (!closing) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of open) socket.destroy();
    open.clear();
    await closed;
    rmSync(socketPath, { force: true });
  };

  await start();
  return { path: socketPath, start, stop, [Symbol.asyncDispose]: stop };
}
