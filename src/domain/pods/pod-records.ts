import type { PodRecord } from '../ports/pod-store.ts';

/**
 * The pods among `records` that have (or will have) a container using the volume: those not yet
 * ended and not stuck waiting. /em/pvc/delete refuses while any does.
 */
export function podsUsingVolume(records: readonly PodRecord[], volume: string): string[] {
  return records.filter((r) => r.phase !== 'terminated' && r.phase !== 'waiting' && r.spec.volume === volume).map((r) => r.name);
}

/** The key of a pod in maps and locks: "USER/POD". */
export function podKey(record: Pick<PodRecord, 'username' | 'name'>): string {
  return `${record.username}/${record.name}`;
}
