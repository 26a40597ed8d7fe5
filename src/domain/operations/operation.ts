import type { NodeName } from '../nodes/node-schedule.ts';
import type { SourcePosition } from '../ports/operation-parser.ts';

/*
 * An operation as the provider's dashboard executes it (operations-decisions.md; evidence in
 * onboard-platform.md section 1): tasks run one after another, each of one of six types. This is
 * the checked form; check-operation.ts makes it from the file.
 */

/** The six task types, in the provider's words (onboard-platform.md 1.3). */
export const TASK_TYPES = [
  'dphi.space.cg2.uplink',
  'dphi.space.cg2.downlink',
  'dphi.space.cg2.files.list',
  'dphi.space.cg2.pod.run',
  'dphi.space.cg2.docker.build',
  'dphi.space.cg2.docker.image.list',
] as const;

export type TaskType = (typeof TASK_TYPES)[number];

/** `stop` (default): the execution ends at a failed task, later ones are SKIPPED; `continue`: they still run. */
export type OnFailure = 'stop' | 'continue';

interface TaskBase {
  id: string;
  description?: string;
  onFailure: OnFailure;
  /** Where the task starts in its file. */
  pos: SourcePosition;
  /** What the task log says before it runs (a `/data/...` destination, a `ports[].host`). */
  warnings: string[];
}

/**
 * Volumes are named as on the EM: undefined is the user's default volume (also `<username>-pvc`,
 * resolved when the user is known); any other name is that PVC, made on first use.
 */
export type VolumeName = string | undefined;

export interface UplinkTask extends TaskBase {
  type: 'dphi.space.cg2.uplink';
  /** Namespace paths, normalised to "/a/b". */
  source: string[];
  /** A folder in the volume ("/" = its root), as written. */
  destination: string;
  volume: VolumeName;
}

export interface DownlinkTask extends TaskBase {
  type: 'dphi.space.cg2.downlink';
  /** Paths in the volume, as written. */
  source: string[];
  /** A namespace folder, normalised to "/a" ("/" by default, "./x" is "/x"). */
  destination: string;
  volume: VolumeName;
}

export interface FilesListTask extends TaskBase {
  type: 'dphi.space.cg2.files.list';
  folder: string;
  /** Levels of the tree kept below the folder (1 = its own entries). */
  depth: number;
  volume: VolumeName;
}

export interface PodPort {
  container: number;
  /** Accepted and ignored: a pod's ports are reached from the user's other pods, never the host. */
  host?: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodRunTask extends TaskBase {
  type: 'dphi.space.cg2.pod.run';
  /** undefined: the default pod. */
  podName: string | undefined;
  /** "name:tag" */
  image: string;
  /** Kubernetes' command: the entrypoint, word by word (no shell). */
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  ports: PodPort[];
  node: NodeName;
  volume: VolumeName;
  /** max_duration (minutes) or max_duration_seconds, in seconds; 60 minutes when neither is given. */
  maxDurationSeconds: number;
  /** ISO 8601 with a timezone, as written; undefined for null or absent. */
  scheduledTime?: string;
}

export interface BuildTask extends TaskBase {
  type: 'dphi.space.cg2.docker.build';
  dockerfile: string;
  context: string;
  /** "name:tag" */
  image: string;
  volume: VolumeName;
}

export interface ImageListTask extends TaskBase {
  type: 'dphi.space.cg2.docker.image.list';
}

export type Task = UplinkTask | DownlinkTask | FilesListTask | PodRunTask | BuildTask | ImageListTask;

/** A checked operation. */
export interface Operation {
  id: string;
  namespace: string;
  description?: string;
  labels: Record<string, string>;
  tasks: Task[];
}

/** One finding of `operation validate`: where, which key, what was expected. */
export interface OperationProblem {
  line: number;
  column: number;
  /** The key's path, e.g. "tasks[2].image.tag"; "" for the file itself. */
  key: string;
  message: string;
}

/** The check of one file: the operation when it has no errors, every error, and warnings. */
export interface OperationCheck {
  operation: Operation | null;
  errors: OperationProblem[];
  warnings: OperationProblem[];
}
