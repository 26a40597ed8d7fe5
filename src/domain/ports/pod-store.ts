import type { PodSpec } from '../pods/pod-spec.ts';

/*
 * The record of every pod and its latest run, and of the namespaces users asked for. Every state
 * change is one committed write, so that a crash never loses or repeats a run. Implemented by
 * src/adapters/sqlite/pod-store.ts.
 */

/**
 * Where a run is: `scheduled` (due later, or held back for its node or the engine), `starting`
 * (the start is committed, the container may not exist yet), `waiting` (could not start: an image
 * that is missing, a refused container), `running`, `terminated`.
 */
export type PodPhase = 'scheduled' | 'starting' | 'waiting' | 'running' | 'terminated';

/** A pod and its latest run. */
export interface PodRecord {
  username: string;
  name: string;
  /** Counts runs of this pod name; containers carry it so a restart can tell runs apart. */
  generation: number;
  spec: PodSpec;
  phase: PodPhase;
  /** Simulated epoch ms at which the run is due. */
  dueAt: number;
  createdAt: number;
  containerId: string | null;
  /** Simulated epoch ms the container started; for a `waiting` pod, when the image pull was tried. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Simulated epoch ms at which max_duration runs out. */
  deadlineAt: number | null;
  exitCode: number | null;
  /** The Kubernetes reason word (Completed, Error, ErrImagePull, NodeUnavailable, …). */
  reason: string | null;
  message: string | null;
  /** Why the run's image would not start onboard, when it ran anyway (platform.architecture: native). */
  warning: string | null;
}

/** The fields a run's progress changes. */
export type PodChanges = Partial<Omit<PodRecord, 'username' | 'name' | 'generation' | 'spec' | 'createdAt'>>;

/** The port itself. */
export interface PodStore {
  /**
   * The pod's record. It must not be changed by the caller (it may be frozen and shared), and the
   * same object may come back while the pod is unchanged: PodService keeps views by it.
   */
  get(username: string, name: string): PodRecord | undefined;
  /** A user's pods, by name. */
  listForUser(username: string): PodRecord[];
  /** Pods still needing attention (scheduled, starting, running), by due time. */
  listActive(): PodRecord[];
  listAll(): PodRecord[];
  /** Records a new run of the pod name, replacing any earlier one; returns its generation. */
  replace(record: Omit<PodRecord, 'generation'>): number;
  /**
   * Changes a pod only if it is still the given generation, so a late callback of an old run can
   * never overwrite a newer one. Returns whether a record changed.
   */
  update(username: string, name: string, generation: number, changes: PodChanges): boolean;
  /** Remembers that the user asked for their namespace (strict mode requires it before ports). */
  markNamespace(username: string, at: number): void;
  hasNamespace(username: string): boolean;
}
