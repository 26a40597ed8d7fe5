import { SimError } from '../errors.ts';
import { NODE_NAMES, NodeSchedule } from '../nodes/node-schedule.ts';
import type { VolumeRef } from '../ports/volume-store.ts';
import { parseZonedIso } from '../time/iso-time.ts';
import type { VolumeSelection } from '../volumes/volume-service.ts';
import { checkPodName } from './pod-names.ts';
import type { PodSpec } from './pod-spec.ts';

/** /em/pod/run's parameters (spec section 9), decoded but not yet checked. */
export interface RunRequest {
  image: string;
  /** FPGA, GPU or MPU. */
  node: string;
  /** max_duration, in minutes. */
  maxDuration: number;
  /** ISO 8601 with a timezone; omitted: now. */
  scheduledTime?: string;
  command?: string;
  args?: string[];
  envs?: Record<string, string | number | boolean>;
  podName?: string;
  pvcName?: string;
  ports?: number[];
  namespace?: boolean;
  /** Operations: the volume by name (already checked), in place of pvc_name's rules. */
  volume?: string;
  /** Operations: the command word by word (PodSpec.commandWords). */
  commandWords?: string[];
  /** Operations: max_duration_seconds (PodSpec.maxDurationSeconds). */
  maxDurationSeconds?: number;
}

/** What a checked run request becomes: which pod, what to run, and when (simulated epoch ms). */
export interface PlannedRun {
  pod: string;
  spec: PodSpec;
  dueAt: number;
}

/** What planRun needs to know besides the request. */
export interface RunRules {
  /** Simulated now, epoch ms. */
  now: number;
  /** compat.strict: ports need namespace=true and a namespace created first. */
  strict: boolean;
  hasNamespace(): boolean;
  /** VolumeService.select for the user. */
  selectVolume(selection: VolumeSelection): VolumeRef;
}

/**
 * Checks a run request as the EM does and turns it into a pod spec: INVALID_POD_NAME, INVALID_NODE,
 * INVALID_PARAMETER (max_duration below 1), INVALID_SCHEDULED_TIME (no timezone, or a date that
 * does not exist), STRICT_MODE (pvc_name, or ports without a namespace, in strict mode). A
 * scheduled time already past runs at once.
 */
export function planRun(request: RunRequest, rules: RunRules): PlannedRun {
  const pod = checkPodName(request.podName);
  const node = request.node;
  if (!NodeSchedule.isNode(node)) {
    throw new SimError('INVALID_NODE', `Invalid node ${JSON.stringify(node)}: choose one of ${NODE_NAMES.join(', ')}`);
  }
  if (request.maxDuration < 1) throw new SimError('INVALID_PARAMETER', 'Parameter "max_duration": expected a whole number of minutes, at least 1');
  let dueAt = rules.now;
  if (request.scheduledTime !== undefined) {
    const parsed = parseZonedIso(request.scheduledTime);
    if (parsed === null) {
      throw new SimError(
        'INVALID_SCHEDULED_TIME',
        `scheduled_time ${JSON.stringify(request.scheduledTime)} is not an ISO 8601 time with a timezone, e.g. 2025-05-22T12:10:00+02:00`,
      );
    }
    dueAt = Math.max(parsed, dueAt);
  }
  const volume = request.volume ?? (request.pvcName !== undefined ? rules.selectVolume({ pvcName: request.pvcName }).name : pod);
  if (rules.strict && request.ports?.length) {
    if (!request.namespace) throw new SimError('STRICT_MODE', 'Strict mode: ports require namespace=true (rule: spec section 9, port exposure)');
    if (!rules.hasNamespace()) {
      throw new SimError('STRICT_MODE', 'Strict mode: create the namespace with /em/pod/namespace/create before exposing ports (rule: spec section 9, port exposure)');
    }
  }
  const spec: PodSpec = {
    image: request.image,
    node,
    maxDurationMinutes: request.maxDuration,
    ...(request.command !== undefined ? { command: request.command } : {}),
    ...(request.commandWords ? { commandWords: request.commandWords } : {}),
    ...(request.maxDurationSeconds !== undefined ? { maxDurationSeconds: request.maxDurationSeconds } : {}),
    ...(request.args ? { args: request.args } : {}),
    ...(request.envs ? { envs: Object.fromEntries(Object.entries(request.envs).map(([k, v]) => [k, String(v)])) } : {}),
    ...(request.ports ? { ports: request.ports } : {}),
    namespace: request.namespace ?? false,
    volume,
    ...(request.scheduledTime ? { scheduledTime: request.scheduledTime } : {}),
  };
  return { pod, spec, dueAt };
}
