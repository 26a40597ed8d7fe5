import { startBaseline } from './lib/baseline.ts';
import type { BenchContext } from './lib/context.ts';
import { load } from './lib/load.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, SECRET, startBenchSim } from './lib/sim.ts';
import { median, round } from './lib/stats.ts';

const CONNECTIONS = 50;
const SECONDS = 5;

/**
 * The onboard services. (1) GET /api/telemetry/latest (six records computed from an SGP4
 * propagation at every request) under 50 connections, through /sim/services with a token,
 * against the bare Hono server verifying the same JWT. (2) What the relay costs a user once: a
 * namespace created with the services on (network and relay) against one with them off
 * (network only), the median of three users each.
 */
export async function services(ctx: BenchContext): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const sim = await startBenchSim();
  const bare = await startBaseline('jwt', SECRET);
  try {
    const headers = { Authorization: `Bearer ${sim.token}` };
    await load(`${bare.url}/em/files/list`, headers, { connections: CONNECTIONS, seconds: 1 });
    const b = await load(`${bare.url}/em/files/list`, headers, { connections: CONNECTIONS, seconds: SECONDS });
    const url = `${sim.url}/sim/services/telemetry/api/telemetry/latest`;
    await load(url, headers, { connections: CONNECTIONS, seconds: 1 });
    const s = await load(url, headers, { connections: CONNECTIONS, seconds: SECONDS });
    ctx.log(`telemetry/latest: simulator ${round(s.rps, 0)} req/s, p99 ${s.p99} ms; bare JWT server ${round(b.rps, 0)} req/s`);
    const invalid = s.non2xx || s.errors ? `INVALID: ${s.non2xx} non-2xx, ${s.errors} errors` : `${CONNECTIONS} connections, ${SECONDS} s`;
    out.push(result('services.telemetry_latest.rps', s.rps, 'req/s', b.rps, { ratioAtLeast: 0.25 }, invalid));
    out.push(result('services.telemetry_latest.p99', s.p99, 'ms', b.p99, { below: 50 }));
  } finally {
    await bare.close();
    await sim.close();
  }

  if (!(await dockerAvailable())) {
    out.push(skipped('services.relay_first_namespace', 'ms', '< 1500 ms', 'no Docker engine answers'));
    return out;
  }
  const firstNamespace = async (enabled: boolean): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A fresh user each time: the relay is made once per user network.
      const one = await startBenchSim({ services: { telemetry: { enabled }, ollama: { enabled }, liquidai: { enabled } } });
      try {
        const t = performance.now();
        const res = await one.fetch('/em/pod/namespace/create', { method: 'POST' });
        times.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`namespace/create: ${res.status} ${await res.text()}`);
      } finally {
        await one.close();
      }
    }
    return median(times);
  };
  const without = await firstNamespace(false);
  const withRelay = await firstNamespace(true);
  ctx.log(`first namespace of a user: ${round(withRelay, 0)} ms with the services' relay, ${round(without, 0)} ms without`);
  out.push(result('services.relay_first_namespace', withRelay, 'ms', without, { below: 1500 }, 'once per user network; median of 3'));
  return out;
}
