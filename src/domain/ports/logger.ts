/**
 * Where the domain reports what happened (a pod started, a container was orphaned). Implemented
 * by src/adapters/log/json-logger.ts: one JSON object per line on stderr.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** How much is logged: each level includes those after it; `silent` nothing. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The port itself: a message and structured fields, at a level. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether a line at this level would be written: lets hot paths skip building fields. */
  enabled(level: LogLevel): boolean;
}
