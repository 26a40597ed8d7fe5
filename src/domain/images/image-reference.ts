/*
 * Image references as Docker reads them: [REGISTRY/]PATH[:TAG][@DIGEST]
 * (https://github.com/distribution/reference/blob/main/reference.go). The one place em-sim takes
 * a reference apart; testcontainers' ImageName is the model.
 */

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?';
const REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

/** Prefixes that name the same image as no prefix at all (Docker Hub's official images). */
const HUB_PREFIXES = ['docker.io/library/', 'docker.io/', 'library/'];

/** A reference taken apart. Parsing is lenient: isValid says whether Docker would accept the text. */
export class ImageReference {
  private constructor(
    /** The registry host ("ghcr.io", "localhost:5000"), when the first component names one. */
    readonly registry: string | undefined,
    /** Everything before the tag: registry and path ("ghcr.io/org/tool", "alpine"). */
    readonly name: string,
    readonly tag: string | undefined,
    /** "sha256:…", when pinned. */
    readonly digest: string | undefined,
  ) {}

  static parse(text: string): ImageReference {
    const at = text.indexOf('@');
    const base = at >= 0 ? text.slice(0, at) : text;
    const digest = at >= 0 ? text.slice(at + 1) : undefined;
    const slash = base.lastIndexOf('/');
    const colon = base.lastIndexOf(':');
    const name = colon > slash ? base.slice(0, colon) : base;
    const tag = colon > slash ? base.slice(colon + 1) : undefined;
    const firstSlash = name.indexOf('/');
    const first = firstSlash >= 0 ? name.slice(0, firstSlash) : '';
    const registry = firstSlash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
    return new ImageReference(registry, name, tag, digest);
  }

  /** Whether Docker accepts the text as a reference (at most 255 characters, lowercase path). */
  static isValid(text: string): boolean {
    return text.length <= 255 && REFERENCE.test(text);
  }

  /**
   * The form the onboard catalog is kept in: `REGISTRY/python:3.11-alpine`,
   * `docker.io/library/python:3.11-alpine` and `library/python:3.11-alpine` are
   * `python:3.11-alpine`; `alpine` is `alpine:latest`. A digest reference is kept as written
   * (after the prefixes); another registry's names are kept whole (they are other images).
   */
  static normalize(text: string, onboardRegistry: string): string {
    let name = text.trim();
    const registryPrefix = `${trimSlashes(onboardRegistry)}/`;
    // One prefix or the other: `REGISTRY/docker.io/library/alpine` is another path on the registry.
    if (name.startsWith(registryPrefix)) name = name.slice(registryPrefix.length);
    else {
      const hub = HUB_PREFIXES.find((prefix) => name.startsWith(prefix));
      if (hub) name = name.slice(hub.length);
    }
    const ref = ImageReference.parse(name);
    return ref.digest !== undefined || ref.tag !== undefined ? name : `${name}:latest`;
  }

  /** The tag, or "latest" when none is written. */
  get tagOrLatest(): string {
    return this.tag ?? 'latest';
  }

  /** The same reference under another name (registry and path), tag and digest kept. */
  renamed(name: string): ImageReference {
    return ImageReference.parse(`${name}${this.suffix()}`);
  }

  /** How containerd spells the reference it pulls: `docker.io/library/alpine:latest`. */
  fullyQualified(): string {
    const name = this.registry ? this.name : `docker.io/${this.name.includes('/') ? this.name : `library/${this.name}`}`;
    return `${name}${this.digest !== undefined ? this.suffix() : `:${this.tagOrLatest}`}`;
  }

  toString(): string {
    return `${this.name}${this.suffix()}`;
  }

  private suffix(): string {
    return `${this.tag !== undefined ? `:${this.tag}` : ''}${this.digest !== undefined ? `@${this.digest}` : ''}`;
  }
}

function trimSlashes(registry: string): string {
  return registry.replace(/\/+$/, '');
}

/** `REGISTRY/REF`: how a catalog image is named in the onboard registry (trailing slashes of REGISTRY ignored). */
export function inRegistry(registry: string, ref: string): string {
  return `${trimSlashes(registry)}/${ref}`;
}
