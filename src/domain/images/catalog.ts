import { ImageReference, inRegistry } from './image-reference.ts';

/**
 * The onboard catalog: the public images a pod may run or a build may start FROM. On the real EM
 * they live in the provider's registry (`images.registry`); here each is a local image tagged both
 * `NAME:TAG` and `REGISTRY/NAME:TAG`, pulled (linux/arm64, the pinned upstream version) when a
 * registry answers, else built offline as a stand-in of the kind below (catalog-images.ts).
 *
 * By default the catalog is the provider's published list (docs/2-specs/0-docker-imgs.md of
 * DPhi-Space/public-documentation, kept as src/config/onboard-images.tsv), plus any image
 * `images.catalog` adds.
 */
export const STANDIN_KINDS = [
  'busybox',
  'debian',
  'python',
  'node18',
  'node20',
  'distroless-static',
  'distroless-base',
  'distroless-python',
  'distroless-nodejs',
  'none',
] as const;
/** A stand-in's kind; `none`: em-sim cannot make the image here (it must be pulled or loaded). */
export type StandinKind = (typeof STANDIN_KINDS)[number];

/** What each stand-in is made of, for labels, `em-sim images --list` and the README. */
export const STANDIN_CONTENTS: Record<StandinKind, string> = {
  busybox: "Debian trixie's busybox-static (1.37) with its applet links (no apk)",
  debian: 'Debian bookworm, minbase',
  python: "Debian bookworm's python3 (3.11, full standard library), pip, wget",
  node18: "Debian bookworm's nodejs (18), wget; no npm or yarn",
  node20: "Debian trixie's nodejs (20), wget; no npm or yarn",
  'distroless-static': 'base-files, netbase, tzdata and CA certificates; no shell',
  'distroless-base': 'distroless-static plus glibc and OpenSSL; no shell',
  'distroless-python': "distroless-base plus Debian bookworm's python3.11; no shell",
  'distroless-nodejs': "distroless-base plus Debian trixie's nodejs (20); no shell",
  none: 'nothing: em-sim cannot make this image offline',
};

/** A catalog entry as configured (sim-config.yaml `images.catalog`): a reference, or one with its stand-in. */
export type CatalogItem = string | { image: string; standin?: StandinKind; version?: string; note?: string };

/** One onboard image. */
export interface CatalogEntry {
  /** Normalized `NAME:TAG` (or `NAME@DIGEST`, kept as written); see ImageReference.normalize. */
  ref: string;
  /** What to build offline when the image cannot be pulled; `none`: nothing, the entry fails. */
  standin: StandinKind;
  /** The upstream version the tag held when the provider pushed it (`latest` is 3.22.1 for alpine), if pinned. */
  version?: string;
  /** The provider's note ("provider-built image"). */
  note?: string;
}

/**
 * The provider's table (onboard-images.tsv: name, tag, version, note; `#` lines are comments) as
 * catalog items, in its order. Throws on a row without a name or tag.
 */
export function parseProviderCatalog(tsv: string): Exclude<CatalogItem, string>[] {
  const items: Exclude<CatalogItem, string>[] = [];
  const rows = tsv.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
  for (const [index, row] of rows.entries()) {
    const [name = '', tag = '', version = '', note = ''] = row.split('\t').map((cell) => cell.trim());
    if (index === 0 && name === 'name' && tag === 'tag') continue; // the header
    if (!name || !tag) throw new Error(`onboard-images.tsv: row ${index + 1} has no name or tag: ${JSON.stringify(row)}`);
    items.push({ image: `${name}:${tag}`, ...(version ? { version } : {}), ...(note ? { note } : {}) });
  }
  return items;
}

/** The stand-in that fits an image when the configuration does not say. */
export function inferStandin(ref: string): StandinKind {
  const parsed = ImageReference.parse(ref);
  const name = parsed.name.slice(parsed.name.lastIndexOf('/') + 1);
  const tag = parsed.tagOrLatest;
  switch (name) {
    case 'alpine':
    case 'busybox':
      return 'busybox';
    case 'debian':
    case 'ubuntu':
      return 'debian';
    case 'python':
      return 'python';
    case 'node':
      return tag.startsWith('18') ? 'node18' : 'node20';
    case 'distroless-static':
      return 'distroless-static';
    case 'distroless-base':
      return 'distroless-base';
    case 'distroless-python3-debian12':
      return 'distroless-python';
    case 'distroless-nodejs20-debian12':
      return 'distroless-nodejs';
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
    const extra: Exclude<CatalogItem, string> & { note?: string } = typeof item === 'string' ? { image: item } : item;
    const entry: CatalogEntry = { ref, standin: extra.standin ?? inferStandin(ref) };
    if (extra.version) entry.version = extra.version;
    if (extra.note) entry.note = extra.note;
    entries.push(entry);
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

/** Images the provider renamed on its registry, and where their upstream lives. */
const UPSTREAM_RENAMES: [prefix: string, upstream: (version: string) => string][] = [
  ['distroless-', (version) => `gcr.io/distroless/${version}`],
];

/**
 * What to pull for an entry: the pinned upstream version where the provider's table gives one
 * (`alpine:latest` pulls `alpine:3.22.1`), the provider's renames undone (`distroless-base:latest`
 * is `gcr.io/distroless/base`); else the reference itself.
 */
export function upstreamReference(entry: CatalogEntry): string {
  const parsed = ImageReference.parse(entry.ref);
  if (parsed.digest !== undefined || !entry.version) return entry.ref;
  for (const [prefix, upstream] of UPSTREAM_RENAMES) if (parsed.name.startsWith(prefix)) return upstream(entry.version);
  return `${parsed.name}:${entry.version}`;
}
