import type { SimConfig } from '../config/schema.ts';

/**
 * The onboard catalog: the public images a pod may run or a build may start FROM. On the real EM
 * they live in the provider's registry (`images.registry`); here each is a local image tagged both
 * `NAME:TAG` and `REGISTRY/NAME:TAG`, pulled when a registry answers, else built offline as a
 * stand-in of the kind below (see src/adapters/docker/catalog-images.ts).
 */
export type StandinKind = 'busybox' | 'debian' | 'python' | 'none';

export interface CatalogEntry {
  /** Normalized `NAME:TAG` (or `NAME@DIGEST`, kept as written). */
  ref: string;
  /** What to build offline when the image cannot be pulled; `none`: nothing, the entry fails. */
  standin: StandinKind;
}

/** Prefixes that name the same image as no prefix at all (Docker Hub's official images). */
const HUB_PREFIXES = ['docker.io/library/', 'docker.io/', 'library/'];

/**
 * `alpine` -> `alpine:latest`; `REGISTRY/python:3.11-alpine`, `docker.io/library/python:3.11-alpine`
 * and `library/python:3.11-alpine` -> `python:3.11-alpine`. A digest reference keeps its digest and
 * gets no tag. Other registries' names are kept whole (they are other images).
 */
export function normalizeRef(ref: string, registry: string): string {
  let name = ref.trim();
  const registryPrefix = `${registry.replace(/\/+$/, '')}/`;
  if (name.startsWith(registryPrefix)) name = name.slice(registryPrefix.length);
  for (const prefix of HUB_PREFIXES) {
    if (name.startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  if (name.includes('@')) return name;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? name : `${name}:latest`;
}

/** The repository part of a normalized reference: `python:3.11-alpine` -> `python`. */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

/** The stand-in that fits an image name when the configuration does not say. */
export function inferStandin(ref: string): StandinKind {
  const repo = repositoryOf(ref);
  const base = repo.slice(repo.lastIndexOf('/') + 1);
  switch (base) {
    case 'alpine':
    case 'busybox':
      return 'busybox';
    case 'debian':
      return 'debian';
    case 'python':
      return 'python';
    default:
      return 'none';
  }
}

/** The catalog in configuration order, normalized, each reference once (the first mention wins). */
export function catalogEntries(images: SimConfig['images']): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  for (const item of images.catalog) {
    const raw = typeof item === 'string' ? item : item.image;
    const ref = normalizeRef(raw, images.registry);
    if (seen.has(ref)) continue;
    seen.add(ref);
    const standin = (typeof item === 'string' ? undefined : item.standin) ?? inferStandin(ref);
    entries.push({ ref, standin });
  }
  return entries;
}

/** The catalog entry a reference names, whichever way it is spelled; undefined when it is not onboard. */
export function findInCatalog(entries: readonly CatalogEntry[], ref: string, registry: string): CatalogEntry | undefined {
  const wanted = normalizeRef(ref, registry);
  return entries.find((entry) => entry.ref === wanted);
}

/** Whether a reference names its own registry host (`ghcr.io/x/y:1`, `localhost:5000/y:1`). */
export function hasRegistryHost(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash < 0) return false;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/**
 * The local tags a catalog entry is kept under: `NAME:TAG` and `REGISTRY/NAME:TAG`. A digest
 * reference, or one that names another registry, is kept under itself only.
 */
export function catalogTags(entry: CatalogEntry, registry: string): string[] {
  if (entry.ref.includes('@') || hasRegistryHost(entry.ref)) return [entry.ref];
  return [entry.ref, `${registry.replace(/\/+$/, '')}/${entry.ref}`];
}
