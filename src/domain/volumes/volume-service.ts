import { SimError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { HashStore } from '../ports/hash-store.ts';
import type { PodStore } from '../ports/pod-store.ts';
import type { VolumeIndex } from '../ports/volume-index.ts';
import type { VolumeRef, VolumeStore } from '../ports/volume-store.ts';
import { checkPodName } from '../pods/pod-names.ts';
import { podsUsingVolume } from '../pods/pod-records.ts';

/** A volume as /em/pvc/list shows it. */
export interface VolumeInfo {
  name: string;
  /** Simulated epoch milliseconds. */
  createdAt: number;
  lastUsedAt: number;
  /** Bytes of regular files. */
  size: number;
  fileCount: number;
  /** The user's pods that have (or will have) a container using it. */
  inUseBy: string[];
}

/** Which volume a request names: pod_name, or pvc_name as later clients say. */
export interface VolumeSelection {
  podName?: string;
  pvcName?: string;
}

// last_used_at feeds /em/pvc/list; minute precision is plenty and spares a write per request.
const TOUCH_EVERY_MS = 60_000;

/**
 * The users' volumes: one per (user, pod name), "default" when none is named (spec: every pod
 * has its volume, mounted at /data). A volume comes into being on first write (uplink, or a run
 * accepted); reading one that does not exist yet reads as empty.
 */
export class VolumeService {
  private readonly lastTouch = new Map<string, number>();

  constructor(
    private readonly store: VolumeStore,
    private readonly index: VolumeIndex,
    private readonly hashes: HashStore,
    private readonly pods: PodStore,
    private readonly clock: Clock,
    /** compat.strict: later clients' pvc_name is refused. */
    private readonly strict: boolean,
  ) {}

  ref(username: string, name: string): VolumeRef {
    return { username, name };
  }

  /**
   * The volume a request selects: pvc_name when given (STRICT_MODE in strict mode), else pod_name,
   * else the default volume. INVALID_POD_NAME for a name that is not a DNS label.
   */
  select(username: string, selection: VolumeSelection): VolumeRef {
    if (selection.pvcName !== undefined && this.strict) {
      throw new SimError('STRICT_MODE', 'Strict mode: pvc_name is not in the seed specification; use pod_name (rule: seed parameters only)');
    }
    const name = selection.pvcName !== undefined ? checkPodName(selection.pvcName, 'pvc_name') : checkPodName(selection.podName);
    return this.ref(username, name);
  }

  /** The volume's directory on the host, for a container's /data. */
  hostPath(ref: VolumeRef): string {
    return this.store.hostPath(ref);
  }

  exists(ref: VolumeRef): boolean {
    return this.store.exists(ref);
  }

  /** Whether the volume exists; when it does, it counts as used now. */
  use(ref: VolumeRef): boolean {
    if (!this.store.exists(ref)) return false;
    const key = `${ref.username}/${ref.name}`;
    const now = this.clock.now();
    if (now - (this.lastTouch.get(key) ?? 0) >= TOUCH_EVERY_MS) {
      this.lastTouch.set(key, now);
      this.index.touch(ref, now);
    }
    return true;
  }

  /** Creates the volume when missing, and records it as used now. */
  ensure(ref: VolumeRef): void {
    this.store.create(ref);
    this.index.record(ref, this.clock.now());
  }

  /** The user's volumes with their size and file count (links are not followed or counted). */
  list(username: string): VolumeInfo[] {
    const pods = this.pods.listForUser(username);
    return this.index
      .list(username)
      .filter((row) => this.store.exists(this.ref(username, row.name)))
      .map((row) => ({ ...row, ...this.store.usage(this.ref(username, row.name)), inUseBy: podsUsingVolume(pods, row.name) }));
  }

  /**
   * Deletes a volume and everything in it (/em/pvc/delete): VOLUME_NOT_FOUND when there is none,
   * VOLUME_IN_USE while a pod of the user has or will have a container on it.
   */
  async delete(username: string, name: string): Promise<void> {
    const ref = this.ref(username, checkPodName(name, 'pvc_name'));
    if (!this.store.exists(ref)) throw new SimError('VOLUME_NOT_FOUND', `No volume named "${ref.name}" exists for this user`);
    const users = podsUsingVolume(this.pods.listForUser(username), ref.name);
    if (users.length) {
      throw new SimError('VOLUME_IN_USE', `Volume "${ref.name}" is used by pod ${users.join(', ')}; wait for it to finish or replace it, then delete the volume`);
    }
    await this.store.remove(ref, () => {
      this.index.forget(ref);
      this.lastTouch.delete(`${ref.username}/${ref.name}`);
    });
    this.hashes.forget(`${ref.username}/${ref.name}`);
  }
}
