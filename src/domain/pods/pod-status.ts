import type { PodRecord } from '../ports/pod-store.ts';
import type { NodeSchedule } from '../nodes/node-schedule.ts';
import { isoSeconds } from '../time/iso-time.ts';

/*
 * The Kubernetes view of a pod: the container state /em/pod/status returns, in Kubernetes' shapes
 * and words (api-decisions.md: states are Kubernetes' container states).
 */

export type TerminatedState = { exitCode: number; reason: string; startedAt: string; finishedAt: string; message?: string };

/**
 * What Kubernetes reports for a time that never happened: the zero time, written as the Unix
 * epoch. A container that could not start (StartError) shows `startedAt: "1970-01-01T00:00:00Z"`,
 * never null, so a client that parses the field as a date works on both.
 */
const NEVER = '1970-01-01T00:00:00Z';

/** The Kubernetes container state the status endpoint returns. */
export type ContainerStateView = { waiting: { reason: string; message: string } } | { running: { startedAt: string } } | { terminated: TerminatedState };

/** One pod of /sim/pods. */
export interface PodSummary {
  pod_name: string;
  image: string;
  node: PodRecord['spec']['node'];
  generation: number;
  state: ContainerStateView;
  /** Why its image would not start onboard (platform.architecture: native). */
  warning?: string;
}

/** ErrImagePull turns into ImagePullBackOff this long after the pull was tried, as on Kubernetes. */
const PULL_BACKOFF_AFTER_MS = 10_000;

/**
 * A pod's container state at simulated time `now`. `triedReference` is the image reference the
 * pull tried (ImageService.triedReference), for ImagePullBackOff's message.
 */
export function containerState(record: PodRecord, now: number, nodes: NodeSchedule, triedReference: () => string): ContainerStateView {
  const iso = (ms: number | null) => (ms === null ? null : isoSeconds(ms));
  const { spec } = record;
  switch (record.phase) {
    case 'scheduled': {
      if (record.reason === 'NodeUnavailable') {
        const node = nodes.availability(spec.node, now);
        const back = node.available
          ? 'it is coming up now'
          : node.until === null
            ? 'no availability window is configured ahead'
            : `it becomes available at ${isoSeconds(node.until)}`;
        return { waiting: { reason: 'NodeUnavailable', message: `Node ${spec.node} is unavailable; ${back}. The pod will start then.` } };
      }
      if (record.reason === 'EngineUnavailable') {
        return { waiting: { reason: 'ContainerCreating', message: `Waiting for the container engine; retrying at ${isoSeconds(record.dueAt)}` } };
      }
      return { waiting: { reason: 'Scheduled', message: `Scheduled to run at ${isoSeconds(record.dueAt)} on node ${spec.node}` } };
    }
    case 'starting':
      return { waiting: { reason: 'ContainerCreating', message: record.message ?? '' } };
    case 'waiting':
      if (record.reason === 'ErrImagePull' && now - (record.startedAt ?? 0) > PULL_BACKOFF_AFTER_MS) {
        return { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${triedReference()}": ErrImagePull: ${record.message}` } };
      }
      return { waiting: { reason: record.reason ?? 'ContainerCreating', message: record.message ?? '' } };
    case 'running':
      return { running: { startedAt: iso(record.startedAt)! } };
    case 'terminated': {
      const terminated: TerminatedState = {
        exitCode: record.exitCode ?? 0,
        reason: record.reason ?? 'Completed',
        startedAt: iso(record.startedAt) ?? NEVER,
        finishedAt: iso(record.finishedAt) ?? NEVER,
      };
      if (record.message) terminated.message = record.message;
      return { terminated };
    }
  }
}
