import { randomBytes } from 'node:crypto';
import type { ImageStore, StandinMark } from '../ports/image-store.ts';
import type { StandinRecipeKind, StandinRecipes } from '../ports/standin-recipes.ts';
import { catalogTags, type CatalogEntry, type StandinKind } from './catalog.ts';
import { ImageReference } from './image-reference.ts';

/*
 * Makes the onboard catalog exist on the local engine (`em-sim images`): every entry tagged
 * `NAME:TAG` and `REGISTRY/NAME:TAG`. An image already there is left alone; a missing one is
 * pulled when a registry answers within a few seconds, else built offline as a stand-in
 * (environment.md, "Images without a registry"). Each kind is built at most once per call (all
 * python entries share one image); a stand-in of the same kind and recipe already on the engine
 * is reused rather than rebuilt. The recipes are a port (StandinRecipes).
 */

export type CatalogImageStatus = 'present' | 'pulled' | 'standin-built' | 'failed';

/** What became of one catalog entry. */
export interface CatalogImageReport {
  ref: string;
  /** The local tags the entry lives under. */
  tags: string[];
  standin: StandinKind;
  status: CatalogImageStatus;
  /** For `failed`, the reason; otherwise extra facts worth showing (a tag added, a stand-in reused). */
  detail?: string;
}

/** A progress message, with the entry or stand-in kind it is about. */
export interface CatalogProgress {
  message: string;
  ref?: string;
  kind?: StandinKind;
}

/** How ensureCatalogImages goes about it. */
export interface EnsureCatalogOptions {
  onProgress?: (progress: CatalogProgress) => void;
  /** How long a registry has to start answering a pull before we give up on it (default 5000 ms). */
  pullTimeoutMs?: number;
  /** Set false to go straight to stand-ins (default true). */
  pull?: boolean;
}

const DEFAULT_PULL_TIMEOUT_MS = 5000;

/** The tags of the catalog that do not exist on the engine, in catalog order. */
export async function missingCatalogImages(images: ImageStore, entries: readonly CatalogEntry[], registry: string): Promise<string[]> {
  const missing: string[] = [];
  for (const entry of entries) {
    for (const tag of catalogTags(entry, registry)) {
      if (!(await images.inspect(tag))) missing.push(tag);
    }
  }
  return missing;
}

/** The catalog entries whose image is not on the engine (by their NAME:TAG), in catalog order. */
export async function absentCatalogEntries(images: ImageStore, entries: readonly CatalogEntry[]): Promise<string[]> {
  const absent: string[] = [];
  for (const entry of entries) if (!(await images.inspect(entry.ref))) absent.push(entry.ref);
  return absent;
}

/** Makes every entry present (see above); one report per entry, in catalog order. Never throws for one entry's failure. */
export async function ensureCatalogImages(
  images: ImageStore,
  recipes: StandinRecipes,
  entries: readonly CatalogEntry[],
  registry: string,
  options: EnsureCatalogOptions = {},
): Promise<CatalogImageReport[]> {
  const progress = options.onProgress ?? (() => {});
  const reports = new Map<string, CatalogImageReport>();
  const needStandin = new Map<StandinRecipeKind, CatalogEntry[]>();
  /** Registries that could not be reached: no use asking them again for the next entry. */
  const silentRegistries = new Map<string, string>();

  /** Settles an entry that is present or can be pulled; else names the stand-in it needs (none when it failed). */
  async function presentOrPulled(entry: CatalogEntry, report: CatalogImageReport): Promise<StandinRecipeKind | undefined> {
    const tags = report.tags;
    const present: string[] = [];
    for (const tag of tags) if (await images.inspect(tag)) present.push(tag);
    if (present.length > 0) {
      const added = tags.filter((tag) => !present.includes(tag));
      for (const tag of added) await images.tag(present[0]!, tag);
      report.status = 'present';
      if (added.length) report.detail = `added tag ${added.join(', ')}`;
      progress({ ref: entry.ref, message: `${entry.ref}: present${added.length ? ` (${report.detail})` : ''}` });
      return undefined;
    }

    let pullFailure = 'pulling is switched off';
    if (options.pull !== false) {
      const source = ImageReference.parse(entry.ref).registry ?? 'docker.io';
      const earlier = silentRegistries.get(source);
      if (earlier) {
        pullFailure = earlier;
      } else {
        progress({ ref: entry.ref, message: `${entry.ref}: not on the engine; pulling (registry ${source})` });
        const result = await images.pull(entry.ref, options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS);
        if (result.ok) {
          for (const tag of tags) if (tag !== entry.ref) await images.tag(entry.ref, tag);
          report.status = 'pulled';
          progress({ ref: entry.ref, message: `${entry.ref}: pulled` });
          return undefined;
        }
        pullFailure = result.reason;
        if (result.unreachable) silentRegistries.set(source, `registry ${source} unreachable: ${result.reason}`);
      }
    }

    if (entry.standin === 'none') {
      report.detail =
        `cannot be pulled (${pullFailure}) and has no stand-in (standin: none): ` +
        'load it with `docker load` from a machine that reaches a registry, or give it a stand-in in images.catalog';
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
      return undefined;
    }
    if (entry.ref.includes('@')) {
      report.detail = `cannot be pulled (${pullFailure}), and a digest reference cannot be stood in for: name it by tag, or load it with \`docker load\``;
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
      return undefined;
    }
    progress({ ref: entry.ref, kind: entry.standin, message: `${entry.ref}: cannot be pulled (${pullFailure}); a ${entry.standin} stand-in will do` });
    return entry.standin;
  }

  for (const entry of entries) {
    const report: CatalogImageReport = { ref: entry.ref, tags: catalogTags(entry, registry), standin: entry.standin, status: 'failed' };
    reports.set(entry.ref, report);
    try {
      const standin = await presentOrPulled(entry, report);
      if (standin) needStandin.set(standin, [...(needStandin.get(standin) ?? []), entry]);
    } catch (err) {
      // One bad entry (an invalid reference, say) must not stop the others.
      report.status = 'failed';
      report.detail = oneLine((err as Error).message);
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
    }
  }

  // Kinds are independent, so they build side by side.
  await Promise.all(
    [...needStandin].map(async ([kind, kindEntries]) => {
      const mark: StandinMark = { kind, recipe: recipes.version };
      const tags = kindEntries.flatMap((entry) => reports.get(entry.ref)!.tags);
      let detail: string | undefined;
      try {
        const existing = await images.findStandin(mark);
        if (existing) {
          detail = `reused the ${kind} stand-in ${shortId(existing)}`;
          progress({ kind, message: `${kind} stand-in: reusing ${shortId(existing)}, already on the engine` });
          for (const tag of tags) await images.tag(existing, tag);
        } else {
          await buildStandin(images, recipes, kind, tags, (message) => progress({ kind, message: `${kind} stand-in: ${message}` }));
        }
        for (const entry of kindEntries) {
          const report = reports.get(entry.ref)!;
          report.status = 'standin-built';
          report.detail = detail;
          progress({ ref: entry.ref, kind, message: `${entry.ref}: ${kind} stand-in tagged ${report.tags.join(', ')}` });
        }
      } catch (err) {
        const reason = `building the ${kind} stand-in failed: ${(err as Error).message}`;
        for (const entry of kindEntries) Object.assign(reports.get(entry.ref)!, { status: 'failed', detail: reason });
        progress({ kind, message: `${kind} stand-in: FAILED: ${(err as Error).message}` });
      }
    }),
  );

  return entries.map((entry) => reports.get(entry.ref)!);
}

/**
 * Builds one stand-in image under a temporary tag and, once it is complete, gives it `tags`; so a
 * failed build never leaves a catalog tag on a half-made image. Returns the image id.
 */
async function buildStandin(
  images: ImageStore,
  recipes: StandinRecipes,
  kind: StandinRecipeKind,
  tags: string[],
  onStep: (message: string) => void,
): Promise<string> {
  // A stopwatch for the progress message, not the simulated clock.
  const started = performance.now();
  const producer = await recipes.produce(kind, onStep);
  const buildTag = `em-sim-standin-build/${kind}:${Date.now()}-${randomBytes(4).toString('hex')}`;
  try {
    const imported = images.importRootfs(producer.tar, { tag: buildTag, changes: recipes.changes(kind), mark: { kind, recipe: recipes.version } });
    const [imports, produced] = await Promise.allSettled([imported, producer.done]);
    if (produced.status === 'rejected') throw produced.reason;
    if (imports.status === 'rejected') throw new Error(`docker import: ${(imports.reason as Error).message}`);
    const image = imports.value;
    onStep(`imported as ${shortId(image.id)} (${Math.round(image.size / 1e6)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const target of tags) await images.tag(image.id, target);
    return image.id;
  } catch (err) {
    producer.stop();
    throw err;
  } finally {
    // Untag: the image stays under its catalog tags, and a half-made one goes away.
    await images.remove(buildTag).catch(() => {});
    await producer.cleanup();
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
