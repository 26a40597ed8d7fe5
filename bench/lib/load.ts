import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

/**
 * A fixed-duration load of GET requests over `connections` keep-alive connections. The servers
 * under test are other processes, so this process's event loop drives only the load.
 */
export async function load(url: string, headers: Record<string, string>, options: { connections: number; seconds: number }): Promise<LoadResult> {
  const r = await autocannon({ url, headers, connections: options.connections, duration: options.seconds, method: 'GET' });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}
