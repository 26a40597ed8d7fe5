import { ImageReference, inRegistry } from './image-reference.ts';

/**
 * The onboard catalog: the public images a pod may run or a build may start FROM. On the real EM
 * they live in the provider's registry (`images.registry`); here each is a local image tagged both
 * `NAME:TAG` and `REGISTRY/NAME:TAG`, pulled when a registry answers, else built offline as a
 * stand-in of the kind below (catalog-provisioning.ts).
 */
export const STANDIN_KINDS = ['busybox', 'debian', 'python', 'none'] as const;
/** A stand-in's kind; `none`: the image has none. */
export type StandinKind = (typeof STANDIN_KINDS)[number];

/** A catalog entry as configured (sim-config.yaml `images.catalog`): a reference, or one with its stand-in. */
export type CatalogItem = string | { image: string; standin?: StandinKind };

/** One onboard image. */
export interface CatalogEntry {
  /** Normalized `NAME:TAG` (or `NAME@DIGEST`, kept as written); see ImageReference.normalize. */
  ref: string;
  /** What to build offline when the image cannot be pulled; `none`: nothing, the entry fails. */
  standin: StandinKind;
}

/** The stand-in that fits an image name when the configuration does not say. */
export function inferStandin(ref: string): StandinKind {
  const name = ImageReference.parse(ref).name;
  switch (name.slice(name.lastIndexOf('/') + 1)) {
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
export function catalogEntries(items: readonly CatalogItem[], registry: string): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const raw = typeof item === 'string' ? item : item.image;
    const ref = ImageReference.normalize(raw, registry);
    if (seen.has(ref)) continue;
    seen.add(ref);
    const standin = (typeof item === 'string' ? undefined : item.standin) ?? inferStandin(ref);
    entries.push({ ref, standin });
  }
  return entries;
}

/** The catalog entry a reference names, whichever way it is spelled; undefined when it is not onboard. */
export function findInCatalog(entries: readonly CatalogEntry[], ref: string, registry: string): CatalogEntry | undefined {
  const wanted = ImageReference.normalize(ref, registry);
  return entries.find((entry) => entry.ref === wanted);
}

/**
 * The local tags a catalog entry is kept under: `NAME:TAG` and `REGISTRY/NAME:TAG`. A digest
 * reference, or one that names another registry, is kept under itself only.
 */
export function catalogTags(entry: CatalogEntry, registry: string): string[] {
  const ref = ImageReference.parse(entry.ref);
  if (ref.digest !== undefined || ref.registry !== undefined) return [entry.ref];
  return [entry.ref, inRegistry(registry, entry.ref)];
}
