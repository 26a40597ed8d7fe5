/** How to reach host:port from this machine: a wildcard listen address is reached on loopback. */
export function reachableUrl(host: string, port: number): string {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${target}:${port}`;
}

/** The version of the em-sim answering at host:port (its /sim/health), or null when none does. */
export async function emSimAt(host: string, port: number): Promise<string | null> {
  try {
    const res = await fetch(`${reachableUrl(host, port)}/sim/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { status?: string; version?: string };
    return body.status === 'ok' && typeof body.version === 'string' ? body.version : null;
  } catch {
    return null;
  }
}
