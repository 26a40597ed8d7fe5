/**
 * Where the domain reports what happened (a pod started, a container was orphaned). Implemented
 * by src/adapters/log/json-logger.ts: one JSON object per line on stderr.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** The port itself: a message and structured fields, at a level. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether a line at this level would be written: lets hot paths skip building fields. */
  enabled(level: LogLevel): boolean;
}
