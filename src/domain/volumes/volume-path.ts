import { SimError } from '../errors.ts';

/*
 * The grammar of a path parameter inside a volume (filepath, dest_path, dockerfile, context,
 * tarfile). A leading "/" means the volume root (the provider's own examples send
 * "/echo-test/Dockerfile"). ".." is resolved here, without the file system, so a link can never
 * be climbed out of (api-decisions.md: paths are relative to the volume; escaping is 403).
 */

const MAX_PATH = 4096;
const MAX_NAME = 255;

/**
 * Checks a path parameter and splits it into segments relative to the volume root: INVALID_PATH
 * for a NUL, a backslash, a control character or an over-long path or name; ILLEGAL_PATH for a
 * ".." above the root.
 */
export function parseVolumePath(raw: string, param: string): string[] {
  if (raw.includes('\0')) throw invalid(param, 'contains a NUL byte');
  if (raw.includes('\\')) throw invalid(param, 'contains a backslash; separate folders with "/"');
  if (/[\x01-\x1f\x7f]/.test(raw)) throw invalid(param, 'contains a control character');
  if (Buffer.byteLength(raw) > MAX_PATH) throw invalid(param, `is longer than ${MAX_PATH} bytes`);
  const segments: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!segments.length) {
        throw new SimError('ILLEGAL_PATH', `${param} "${raw}" points outside your volume; paths are relative to the volume root`);
      }
      segments.pop();
      continue;
    }
    if (Buffer.byteLength(part) > MAX_NAME) throw invalid(param, `has a name longer than ${MAX_NAME} bytes`);
    segments.push(part);
  }
  return segments;
}

function invalid(param: string, why: string): SimError {
  return new SimError('INVALID_PATH', `${param} ${why}`);
}

/** The "does not exist" of every path in a volume. */
export function notFound(display: string): SimError {
  return new SimError('FILE_NOT_FOUND', `"${display}" does not exist in this volume`);
}
