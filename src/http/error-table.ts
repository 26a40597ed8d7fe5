import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode, SimError } from '../domain/errors.ts';

/** The one place a failure code becomes an HTTP status. */
export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  MISSING_PARAMETER: 400,
  INVALID_PARAMETER: 400,
  INVALID_PATH: 400,
  ILLEGAL_PATH: 403,
  FILE_NOT_FOUND: 404,
  NOT_A_FILE: 400,
  DELETE_FAILED: 400,
  NO_FILES: 400,
  MAX_UPLINK_SIZE_EXCEEDED: 400,
  UPLINK_FAILED: 400,
  DISK_FULL: 507,
  INVALID_POD_NAME: 400,
  INVALID_IMAGE_NAME: 400,
  INVALID_NODE: 400,
  INVALID_SCHEDULED_TIME: 400,
  BUILD_FAILED: 400,
  IMAGE_LOAD_FAILED: 400,
  POD_NOT_FOUND: 404,
  VOLUME_NOT_FOUND: 404,
  VOLUME_IN_USE: 409,
  NAMESPACE_CREATE_FAILED: 400,
  STRICT_MODE: 400,
  DOCKER_UNAVAILABLE: 503,
  CG2_BUSY: 423,
  CLOCK_CONTROL_DISABLED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_ERROR: 500,
  INVALID_OPERATION: 400,
  EXECUTION_NOT_FOUND: 404,
  OPERATION_NOT_FOUND: 404,
  UI_NOT_BUILT: 503,
  EXECUTION_ENDED: 409,
};

/** A failure as the EM answers it: the status, `{"error", "message"}` (plus `log_tail` for builds and loads), and Retry-After when known. */
export function errorAnswer(err: SimError): { status: ContentfulStatusCode; body: Record<string, unknown>; headers: Record<string, string> } {
  const body: Record<string, unknown> = { error: err.code, message: err.message };
  if (err.extra.log_tail) body.log_tail = err.extra.log_tail;
  if (err.extra.details) body.errors = err.extra.details;
  const headers: Record<string, string> = {};
  if (err.extra.retryAfter !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.extra.retryAfter)));
  return { status: STATUS_OF[err.code], body, headers };
}
