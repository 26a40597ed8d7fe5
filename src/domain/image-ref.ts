/**
 * Image references as Docker reads them. Users name images without their prefix; the EM stores
 * a user's images as USER-NAME, which is also what a run tries first.
 */

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?';
const REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

export function isValidReference(ref: string): boolean {
  return ref.length <= 255 && REFERENCE.test(ref);
}

/** Splits NAME[:TAG] (no digest), defaulting the tag to latest. */
export function splitTag(ref: string): { name: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/** The name a user's image is stored under: "echo-test" becomes "client1-echo-test:latest". */
export function userImageRef(username: string, image: string): string {
  const { name, tag } = splitTag(image);
  const prefixed = name.startsWith(`${username}-`) ? name : `${username}-${name}`;
  return `${prefixed}:${tag}`;
}

/** Whether a reference (as stored in the engine) belongs to the user. */
export function ownedBy(username: string, repoTag: string): boolean {
  return repoTag.startsWith(`${username}-`);
}

/** How containerd would spell the reference it tried to pull (for ErrImagePull messages). */
export function fullyQualified(ref: string): string {
  const { name, tag } = splitTag(ref);
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return `${name}:${tag}`;
  return `docker.io/${name.includes('/') ? name : `library/${name}`}:${tag}`;
}
