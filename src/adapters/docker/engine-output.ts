import type Docker from 'dockerode';

/*
 * Reading what the Docker engine says: dockerode's errors and the JSON-lines progress streams of
 * build, load, pull and import (https://docs.docker.com/reference/api/engine/).
 */

/** The HTTP status of a dockerode error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;
}

/** The engine's own words from a dockerode error. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  if (json?.message) return json.message;
  const reason = (err as { reason?: string }).reason;
  const message = (err as Error).message ?? String(err);
  return reason && !message.includes(reason) ? `${reason}: ${message}` : message;
}

/** A dockerode error as one plain line, without dockerode's "(HTTP code N) … -" prefix. */
export function oneLine(err: unknown): string {
  const text = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message ?? String(err);
  return text.replace(/^\(HTTP code \d+\)[^-]*- /, '').replace(/\s+/g, ' ').trim();
}

/**
 * Follows a progress stream to its end, handing each event without an error to `onEvent`;
 * resolves with the engine's error message, or null when there was none.
 */
export function followJson(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: Record<string, unknown>) => void): Promise<string | null> {
  return new Promise((resolve) => {
    let error: string | null = null;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => resolve(error ?? (err ? err.message : null)),
      (event: Record<string, unknown>) => {
        if (typeof event.error === 'string') error = event.error;
        else onEvent(event);
      },
    );
  });
}

/** One event of a pull's or import's progress stream. */
export interface ProgressEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads a progress stream to its end; an `error` event becomes a rejection. */
export function readProgress(docker: Docker, stream: NodeJS.ReadableStream, onEvent?: (event: ProgressEvent) => void): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        if (err) return reject(err);
        const failed = events.find((e) => e.error || e.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'the engine reported an error'));
        resolve(events);
      },
      onEvent,
    );
  });
}

/** Splits engine output into lines that each end with a newline. */
export function splitLines(text: string): string[] {
  return text
    .split(/(?<=\n)/)
    .filter((l) => l.length > 0)
    .map(lineOf);
}

/** Log lines end with a newline, as the real EM's log_tail entries do. */
export function lineOf(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Splits Docker's multiplexed log format (8-byte frame headers) into stdout and stderr. */
export function demux(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    const frame = raw.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(frame);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
