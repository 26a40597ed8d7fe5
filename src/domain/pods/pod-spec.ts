import { parse as shellParse } from 'shell-quote';
import type { NodeName } from '../nodes/node-schedule.ts';

/** What a run asked for, as stored with the pod (/em/pod/run's parameters, checked). */
export interface PodSpec {
  /** As the user wrote it: one of theirs (USER-IMAGE), else a catalog image. */
  image: string;
  node: NodeName;
  /** max_duration: minutes before the pod is stopped gracefully. */
  maxDurationMinutes: number;
  /** An operation's max_duration_seconds: the deadline in seconds, in place of the minutes. */
  maxDurationSeconds?: number;
  command?: string;
  /**
   * An operation's `command` (dashboard tasks): the entrypoint word by word, as Kubernetes' own
   * `command` is, with no shell; takes the place of `command`.
   */
  commandWords?: string[];
  args?: string[];
  envs?: Record<string, string>;
  ports?: number[];
  namespace: boolean;
  /** The volume mounted at /data: the pod's own, or the pvc_name given. */
  volume: string;
  /** scheduled_time as given (ISO 8601 with a timezone). */
  scheduledTime?: string;
}

/**
 * The command semantics of api-decisions.md: a command alone runs through /bin/sh -c; with
 * args, the command is split into words (no expansion) and the args appended, as Kubernetes
 * does; args alone replace the image's CMD; neither keeps the image's own.
 */
export function commandFor(spec: Pick<PodSpec, 'command' | 'commandWords' | 'args'>): { entrypoint?: string[]; cmd?: string[] } {
  // Kubernetes: a command replaces the entrypoint and the image's CMD; args, when given, follow it.
  if (spec.commandWords) return { entrypoint: spec.commandWords, cmd: spec.args ?? [] };
  if (spec.command !== undefined && !spec.args?.length) return { entrypoint: ['/bin/sh', '-c'], cmd: [spec.command] };
  if (spec.command !== undefined) return { entrypoint: splitWords(spec.command), cmd: spec.args };
  if (spec.args?.length) return { cmd: spec.args };
  return {};
}

/** Splits a command into words as a shell would, without expanding anything ($VAR stays as written). */
export function splitWords(command: string): string[] {
  // Variables stay as written: Kubernetes does not expand $VAR in command either.
  return shellParse(command, (key) => `$${key}`).map((part) => {
    if (typeof part === 'string') return part;
    if ('op' in part) return part.op === 'glob' ? (part as { pattern: string }).pattern : part.op;
    if ('comment' in part) return `#${part.comment}`;
    return String(part);
  });
}
