import { SimError } from '../errors.ts';

/** The pod (and volume) a request means when it names none. */
export const DEFAULT_POD = 'default';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A pod name is a DNS label because it becomes part of a container and host name. Omitting it
 * means the user's default pod, named "default" (so pod_name=default is the same pod).
 */
export function checkPodName(raw: string | undefined, param = 'pod_name'): string {
  if (raw === undefined) return DEFAULT_POD;
  // Name every problem at once, so a user fixes the name in one round trip.
  const contains = [/[A-Z]/.test(raw) && 'uppercase letters', /\s/.test(raw) && 'whitespace'].filter(Boolean);
  const problems: string[] = [];
  if (raw.length > 63) problems.push('it is longer than 63 characters');
  if (contains.length) problems.push(`it contains ${contains.join(' and ')}`);
  if (problems.length) throw badName(raw, param, problems.join(', and '));
  if (!DNS_LABEL.test(raw)) {
    throw badName(raw, param, 'only lowercase letters, digits and "-" are allowed, and it must start and end with a letter or digit');
  }
  return raw;
}

function badName(raw: string, param: string, why: string): SimError {
  return new SimError(
    'INVALID_POD_NAME',
    `Invalid ${param} ${JSON.stringify(raw)}: ${why}. A pod name must be a DNS label (lowercase letters, digits and "-", at most 63 characters), e.g. "experiment-radiation".`,
  );
}

/** The container of a user's pod: USER-POD, also its host name and first network alias (spec section 9). */
export function containerName(username: string, pod: string): string {
  return `${username}-${pod}`;
}

/** The user's private network, where their pods find each other by USER-POD (and POD). */
export function networkName(username: string): string {
  return `em-sim-${username}`;
}
