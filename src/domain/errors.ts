/**
 * Every failure the simulator reports has a stable UPPER_SNAKE code; the HTTP layer maps codes to
 * statuses in one table (src/http/error-table.ts). Tests import these codes instead of retyping them.
 */
export const ErrorCode = {
  MISSING_PARAMETER: 'MISSING_PARAMETER',
  INVALID_PARAMETER: 'INVALID_PARAMETER',
  INVALID_PATH: 'INVALID_PATH',
  ILLEGAL_PATH: 'ILLEGAL_PATH',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  NOT_A_FILE: 'NOT_A_FILE',
  DELETE_FAILED: 'DELETE_FAILED',
  NO_FILES: 'NO_FILES',
  MAX_UPLINK_SIZE_EXCEEDED: 'MAX_UPLINK_SIZE_EXCEEDED',
  UPLINK_FAILED: 'UPLINK_FAILED',
  DISK_FULL: 'DISK_FULL',
  INVALID_POD_NAME: 'INVALID_POD_NAME',
  INVALID_IMAGE_NAME: 'INVALID_IMAGE_NAME',
  INVALID_NODE: 'INVALID_NODE',
  INVALID_SCHEDULED_TIME: 'INVALID_SCHEDULED_TIME',
  BUILD_FAILED: 'BUILD_FAILED',
  IMAGE_LOAD_FAILED: 'IMAGE_LOAD_FAILED',
  POD_NOT_FOUND: 'POD_NOT_FOUND',
  VOLUME_NOT_FOUND: 'VOLUME_NOT_FOUND',
  VOLUME_IN_USE: 'VOLUME_IN_USE',
  NAMESPACE_CREATE_FAILED: 'NAMESPACE_CREATE_FAILED',
  STRICT_MODE: 'STRICT_MODE',
  DOCKER_UNAVAILABLE: 'DOCKER_UNAVAILABLE',
  CG2_BUSY: 'CG2_BUSY',
  CLOCK_CONTROL_DISABLED: 'CLOCK_CONTROL_DISABLED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  INVALID_OPERATION: 'INVALID_OPERATION',
  EXECUTION_NOT_FOUND: 'EXECUTION_NOT_FOUND',
  OPERATION_NOT_FOUND: 'OPERATION_NOT_FOUND',
  UI_NOT_BUILT: 'UI_NOT_BUILT',
  EXECUTION_ENDED: 'EXECUTION_ENDED',
} as const;

/** One of the codes above. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What some failures carry besides their message. */
export interface SimErrorExtra {
  /** Build and load failures carry the tail of the engine's log, as the real EM does. */
  log_tail?: string[];
  /** Seconds until a lock lifts, sent as Retry-After. */
  retryAfter?: number;
  /** An invalid operation carries every problem found, with its line, column and key. */
  details?: { line: number; column: number; key: string; message: string }[];
}

/** A failure the user caused or can fix, with its code (the HTTP layer chooses the status). */
export class SimError extends Error {
  override name = 'SimError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: SimErrorExtra = {},
  ) {
    super(message);
  }
}
