import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { SimConfig } from './config/schema.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from './app.ts';

export interface RunningSimulator {
  sim: Simulator;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds the simulator and listens; resolves once it serves requests. */
export async function startServer(config: SimConfig, options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await createSimulator(config, options);
  let server: ServerType;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: sim.app.fetch, hostname: config.server.host, port: config.server.port }, (info) => resolve(info));
    server.once('error', reject);
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  return {
    sim,
    url,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await sim.close();
    },
  };
}
