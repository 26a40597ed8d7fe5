import type { ImageInfo, ImageStore, StandinMark } from '../ports/image-store.ts';
import type { StandinRecipeKind, StandinRecipes } from '../ports/standin-recipes.ts';
import { semaphore } from '../primitives/semaphore.ts';
import { catalogTags, findInCatalog, STANDIN_CONTENTS, STANDIN_KINDS, upstreamReference, type CatalogEntry, type StandinKind } from './catalog.ts';
import { ImageReference } from './image-reference.ts';
import { platformString, type Platform } from './platform.ts';

/*
 * Makes onboard catalog images exist on the local engine, on demand (a run or a build that needs
 * one) or ahead of time (`em-sim images`, `images.prepare` at start): every entry tagged `NAME:TAG`
 * and `REGISTRY/NAME:TAG`, for the platform (linux/arm64 like CG2, or the host's). A missing image
 * is pulled (its pinned upstream version, for the platform) when a registry answers within a few
 * seconds, else made offline: one stand-in image per kind (all python tags share one root
 * filesystem), then for each tag a label-only image saying what it stands for. Each entry and each
 * kind is prepared at most once at a time, whoever asks. The recipes are a port (StandinRecipes).
 */

/**
 * `present`: the real image was already there; `standin`: an earlier stand-in was already there;
 * `pulled`, `standin-built`: made now; `unavailable`: onboard, but neither pullable nor made
 * offline here; `failed`: making it went wrong.
 */
export type CatalogImageStatus = 'present' | 'standin' | 'pulled' | 'standin-built' | 'unavailable' | 'failed';

/** How each outcome reads in a progress message. */
const OUTCOME_WORDS: Record<CatalogImageStatus, string> = {
  present: 'present',
  standin: 'stand-in present',
  pulled: 'pulled',
  'standin-built': 'stand-in ready',
  unavailable: 'unavailable here (no registry, no stand-in)',
  failed: 'FAILED',
};

/** Whether a preparation left the image usable (present, pulled, a stand-in). */
export function isReady(report: CatalogImageReport): boolean {
  return report.status !== 'failed' && report.status !== 'unavailable';
}

/** What became of one catalog entry. */
export interface CatalogImageReport {
  ref: string;
  /** The local tags the entry lives under. */
  tags: string[];
  standin: StandinKind;
  status: CatalogImageStatus;
  /** For `failed`, the reason and what to do; otherwise extra facts worth showing. */
  detail?: string;
}

/** A progress message about an entry (`ref`) or a stand-in kind (`kind`). */
export interface CatalogProgress {
  message: string;
  ref?: string;
  kind?: StandinKind;
  /** Set on an entry's last message. */
  outcome?: CatalogImageStatus;
}

/** How an entry stands on the engine, for `em-sim images --list`. */
export interface CatalogListing {
  entry: CatalogEntry;
  /** present: the real image (pulled or loaded); standin: em-sim's stand-in; missing: made on first use; unavailable: cannot be made here. */
  state: 'present' | 'standin' | 'missing' | 'unavailable';
  /** The image's architecture when present. */
  architecture?: string;
}

/** How CatalogImages goes about it. */
export interface CatalogImagesOptions {
  /** How long a registry has to start answering a pull before we give up on it (default 5000 ms). */
  pullTimeoutMs?: number;
  /** Set false to go straight to stand-ins (default true). */
  pull?: boolean;
  /** How long a failed preparation is remembered before a run may try again (real ms, default 60 s). */
  failureMemoryMs?: number;
  /** Real time in ms (the failure memory is about the machine, not the simulated clock). */
  now?: () => number;
}

const DEFAULT_PULL_TIMEOUT_MS = 5000;
/** Stand-in builds at once (each is heavy on a small machine, arm64 ones run under emulation). */
const PARALLEL_BUILDS = 2;
/** Pulls at once. */
const PARALLEL_PULLS = 3;

/** Thrown inside a preparation for an image that is onboard but cannot be made here. */
class Unavailable extends Error {}

/** The onboard catalog's images on the engine (see above). */
export class CatalogImages {
  private readonly inFlight = new Map<string, Promise<CatalogImageReport>>();
  private readonly steps = new Map<string, string>();
  private readonly bases = new Map<StandinRecipeKind, Promise<string>>();
  private readonly silentRegistries = new Map<string, string>();
  private readonly failures = new Map<string, { report: CatalogImageReport; at: number }>();
  private readonly listeners = new Set<(progress: CatalogProgress) => void>();
  private readonly buildLimit = semaphore(PARALLEL_BUILDS);
  private readonly pullLimit = semaphore(PARALLEL_PULLS);
  private readonly now: () => number;

  constructor(
    private readonly images: ImageStore,
    private readonly recipes: StandinRecipes,
    readonly entries: readonly CatalogEntry[],
    readonly registry: string,
    readonly platform: Platform,
    private readonly options: CatalogImagesOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The entry a reference names, whichever way it is spelled. */
  find(ref: string): CatalogEntry | undefined {
    return findInCatalog(this.entries, ref, this.registry);
  }

  /**
   * The entry's image when it is on the engine and usable: for the platform (arm64 mode wants
   * arm64), and, for a stand-in, made by the current recipe of its kind. Else null.
   */
  async ready(entry: CatalogEntry): Promise<ImageInfo | null> {
    const info = await this.images.inspect(entry.ref);
    return info && this.usable(info) ? info : null;
  }

  private usable(info: ImageInfo): boolean {
    if (this.platform.mode === 'arm64' && info.architecture !== this.platform.architecture) return false;
    const standin = info.standin;
    if (standin && isRecipeKind(standin.kind) && standin.recipe !== this.recipes.version(standin.kind)) return false;
    return true;
  }

  /** What is being done for the entry right now, in words; undefined when nothing is. */
  inProgress(ref: string): string | undefined {
    return this.inFlight.has(ref) ? (this.steps.get(ref) ?? `preparing ${ref}`) : undefined;
  }

  /** The entry's last failed preparation, while it is remembered. */
  recentFailure(ref: string): CatalogImageReport | undefined {
    const failure = this.failures.get(ref);
    if (!failure) return undefined;
    if (this.now() - failure.at > (this.options.failureMemoryMs ?? 60_000)) {
      this.failures.delete(ref);
      return undefined;
    }
    return failure.report;
  }

  /** Hears every progress message until the returned function is called. */
  onProgress(listener: (progress: CatalogProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes the entry present (see above); never rejects: a failure is a report with its reason. */
  prepare(entry: CatalogEntry): Promise<CatalogImageReport> {
    const running = this.inFlight.get(entry.ref);
    if (running) return running;
    const report: CatalogImageReport = { ref: entry.ref, tags: catalogTags(entry, this.registry), standin: entry.standin, status: 'failed' };
    const work = this.make(entry, report)
      .catch((err: unknown) => {
        report.status = err instanceof Unavailable ? 'unavailable' : 'failed';
        report.detail = oneLine((err as Error).message);
      })
      .then(() => {
        this.inFlight.delete(entry.ref);
        this.steps.delete(entry.ref);
        if (isReady(report)) this.failures.delete(entry.ref);
        else this.failures.set(entry.ref, { report, at: this.now() });
        const outcome = OUTCOME_WORDS[report.status] + (report.status === 'failed' ? `: ${report.detail}` : '');
        this.emit({ ref: entry.ref, message: `${entry.ref}: ${outcome}`, outcome: report.status });
        return report;
      });
    this.inFlight.set(entry.ref, work);
    this.steps.set(entry.ref, `waiting to prepare ${entry.ref}`);
    return work;
  }

  /** Prepares every entry given (all of the catalog by default); one report per entry, in order. */
  ensure(entries: readonly CatalogEntry[] = this.entries): Promise<CatalogImageReport[]> {
    return Promise.all(entries.map((entry) => this.prepare(entry)));
  }

  /** Every entry and how it stands on the engine (nothing is made). */
  async list(): Promise<CatalogListing[]> {
    const out: CatalogListing[] = [];
    for (const entry of this.entries) {
      const info = await this.images.inspect(entry.ref);
      if (info && this.usable(info)) {
        out.push({ entry, state: info.standin ? 'standin' : 'present', architecture: info.architecture });
      } else {
        out.push({ entry, state: entry.standin === 'none' ? 'unavailable' : 'missing', ...(info ? { architecture: info.architecture } : {}) });
      }
    }
    return out;
  }

  /** The message for an entry that is onboard but cannot be made here. */
  unavailableMessage(entry: CatalogEntry, why: string): string {
    const upstream = upstreamReference(entry);
    const platform = platformString(this.platform);
    const retag = upstream !== entry.ref ? ` && docker tag ${upstream} ${entry.ref}` : '';
    return (
      `${entry.ref} is onboard, but em-sim cannot make it on this machine: it cannot be pulled (${why}) and em-sim has no offline stand-in for it. ` +
      `Make a registry reachable (em-sim then pulls ${upstream} for ${platform}), or put it on the engine yourself ` +
      `(docker pull --platform ${platform} ${upstream}${retag}, or docker load), or, to build FROM something close to it, give it a stand-in family in images.catalog ({image: ${entry.ref}, standin: debian}: a Debian without its software)`
    );
  }

  private emit(progress: CatalogProgress): void {
    if (progress.ref && !progress.outcome) this.steps.set(progress.ref, progress.message);
    for (const listener of this.listeners) listener(progress);
  }

  private async make(entry: CatalogEntry, report: CatalogImageReport): Promise<void> {
    const say = (message: string) => this.emit({ ref: entry.ref, message: `${entry.ref}: ${message}` });
    // What the entry's tags name now: an image a tag moves away from is removed once nothing
    // names or runs it, so re-made stand-ins leave no <none> images behind.
    const before = new Set<string>();
    for (const tag of report.tags) {
      const info = await this.images.inspect(tag);
      if (info) before.add(info.id);
    }
    try {
      await this.makeTags(entry, report, say);
    } finally {
      for (const id of before) {
        // Only an image no tag names any more: by id, the engine would untag and delete one that
        // another tag (a user's loaded copy, say) still names.
        const left = await this.images.inspect(id).catch(() => null);
        if (left && left.repoTags.length === 0) await this.images.remove(id).catch(() => {});
      }
    }
  }

  private async makeTags(entry: CatalogEntry, report: CatalogImageReport, say: (message: string) => void): Promise<void> {
    const present = await this.ready(entry);
    if (present) {
      const added: string[] = [];
      for (const tag of report.tags) {
        const info = tag === entry.ref ? present : await this.images.inspect(tag);
        if (info?.id !== present.id) {
          await this.images.tag(present.id, tag);
          added.push(tag);
        }
      }
      report.status = present.standin ? 'standin' : 'present';
      if (added.length) report.detail = `added tag ${added.join(', ')}`;
      return;
    }

    const pullFailure = await this.pull(entry, say);
    if (pullFailure === null) {
      report.status = 'pulled';
      return;
    }
    if (entry.standin === 'none') throw new Unavailable(this.unavailableMessage(entry, pullFailure));
    if (ImageReference.parse(entry.ref).digest !== undefined) {
      throw new Error(`${entry.ref} cannot be pulled (${pullFailure}), and a digest reference cannot be stood in for: name it by tag, or load it with docker load`);
    }

    const kind = entry.standin;
    say(`cannot be pulled (${pullFailure}); making a ${kind} stand-in for ${platformString(this.platform)}`);
    const base = await this.base(kind);
    say('tagging the stand-in');
    const id = await this.images.derive(
      base,
      entry.ref,
      { ref: entry.ref, contents: STANDIN_CONTENTS[kind], ...(entry.version ? { upstreamVersion: entry.version } : {}) },
      this.platform.mode === 'arm64' ? platformString(this.platform) : undefined,
    );
    for (const tag of report.tags) if (tag !== entry.ref) await this.images.tag(id, tag);
    report.status = 'standin-built';
  }

  /** Pulls the entry's upstream image for the platform; null when it is here now, else why not. */
  private async pull(entry: CatalogEntry, say: (message: string) => void): Promise<string | null> {
    if (this.options.pull === false) return 'pulling is switched off';
    const upstream = upstreamReference(entry);
    const source = ImageReference.parse(upstream).registry ?? 'docker.io';
    const earlier = this.silentRegistries.get(source);
    if (earlier) return earlier;
    say(`pulling ${upstream} (${platformString(this.platform)}) from ${source}`);
    const result = await this.pullLimit(() => this.images.pull(upstream, this.options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS, platformString(this.platform)));
    if (!result.ok) {
      // "Get https://…: dial tcp: lookup … no such host" says no more than its last words.
      const unreachable = `registry ${source} unreachable: ${result.reason.split(': ').pop()}`;
      if (result.unreachable) this.silentRegistries.set(source, unreachable);
      return result.unreachable ? unreachable : result.reason;
    }
    const info = await this.images.inspect(upstream);
    if (!info) return 'the pull ended without the image';
    if (this.platform.mode === 'arm64' && info.architecture !== this.platform.architecture) {
      return `${upstream} has no ${platformString(this.platform)} variant (the registry gave linux/${info.architecture})`;
    }
    for (const tag of catalogTags(entry, this.registry)) if (tag !== upstream) await this.images.tag(info.id, tag);
    return null;
  }

  /** The kind's stand-in root image (one per kind, recipe and architecture), made once; resolves with a reference to it. */
  private base(kind: StandinRecipeKind): Promise<string> {
    const running = this.bases.get(kind);
    if (running) return running;
    const work = this.buildLimit(() => this.makeBase(kind));
    this.bases.set(kind, work);
    work.catch(() => this.bases.delete(kind)); // a later request tries again
    return work;
  }

  private async makeBase(kind: StandinRecipeKind): Promise<string> {
    const say = (message: string) => this.emit({ kind, message: `${kind} stand-in: ${message}` });
    const mark: StandinMark = { kind, recipe: this.recipes.version(kind), architecture: this.platform.architecture };
    const tag = `em-sim-standin/${kind}:r${mark.recipe}-${mark.architecture}`;
    // Only em-sim can make this tag (users' images are USER-NAME, a loaded archive holds only
    // those): labels alone would not do, anyone can write them.
    if (await this.images.inspect(tag)) return tag;
    // A stopwatch for the progress message, not the simulated clock.
    const started = performance.now();
    let producer;
    try {
      producer = await this.recipes.produce(kind, this.platform.architecture, say);
    } catch (err) {
      throw new Error(`building the ${kind} stand-in failed: ${(err as Error).message}`);
    }
    try {
      // The image is loaded only once the producer has succeeded (complete): a failed one loads nothing.
      const imported = this.images.importRootfs(producer.tar, { tag, config: this.recipes.config(kind), mark, complete: producer.done });
      const [imports, produced] = await Promise.allSettled([imported, producer.done]);
      if (produced.status === 'rejected') throw produced.reason;
      if (imports.status === 'rejected') throw new Error(`loading the root filesystem: ${(imports.reason as Error).message}`);
      say(`made (${Math.round(imports.value.size / 1e6)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return tag;
    } catch (err) {
      producer.stop();
      throw new Error(`building the ${kind} stand-in failed: ${(err as Error).message}`);
    } finally {
      await producer.cleanup();
    }
  }
}

function isRecipeKind(kind: string): kind is StandinRecipeKind {
  return (STANDIN_KINDS as readonly string[]).includes(kind) && kind !== 'none';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
