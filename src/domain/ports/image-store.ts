import type { Readable } from 'node:stream';

/*
 * Images on the engine: the users' own (built or loaded) and the onboard catalog's. Implemented
 * by src/adapters/docker/docker-images.ts; the fake runtime of the scheduling tests keeps a few
 * in memory.
 */

export interface ImageInfo {
  /** The image id, "sha256:…". */
  id: string;
  /** Every NAME:TAG the image is known by. */
  repoTags: string[];
  /** Bytes. */
  size: number;
  /** ISO 8601, as the engine reports it. */
  created: string;
  /** "amd64", "arm64", … */
  architecture: string;
}

/** A build, as ImageService asks for it. */
export interface BuildRequest {
  /** A tar stream of the build context, Dockerfile included. */
  context: Readable;
  /** The Dockerfile's path inside the context tar. */
  dockerfile: string;
  /** The NAME:TAG to give the result (USER-NAME:TAG). */
  tag: string;
  /** The user the image belongs to (marked on it, for reset). */
  owner: string;
}

/** Thrown by build/load with the log lines the user should see (the EM's log_tail). */
export class EngineLogFailure extends Error {
  override name = 'EngineLogFailure';
  constructor(
    message: string,
    /** Each line ends with "\n", as the real EM's log_tail entries do. */
    readonly logLines: string[],
  ) {
    super(message);
  }
}

/** `unreachable`: the registry cannot be reached at all, so asking it for the next image is pointless. */
export type PullResult = { ok: true } | { ok: false; reason: string; unreachable: boolean };

/** What marks an image as a stand-in for catalog images, so that a later run reuses it. */
export interface StandinMark {
  kind: string;
  /** The recipe's version (StandinRecipes.version). */
  recipe: string;
}

/** The port itself. Errors other than EngineLogFailure carry the engine's message. */
export interface ImageStore {
  /** null when no image has that id or reference. */
  inspect(ref: string): Promise<ImageInfo | null>;
  /** Every image on the engine. */
  list(): Promise<ImageInfo[]>;
  /** Builds without network (air-gapped, as onboard); resolves with the build log, rejects with EngineLogFailure. */
  build(request: BuildRequest): Promise<string[]>;
  /** Loads a `docker save` archive; resolves with the engine's output lines, rejects with EngineLogFailure. */
  load(tar: Readable): Promise<string[]>;
  /** The NAME:TAG of every image in a `docker save` archive, or null when it is not one. */
  archiveTags(tar: Readable): Promise<string[] | null>;
  /** Gives the image `source` the reference `target` too. */
  tag(source: string, target: string): Promise<void>;
  /** Removes a reference (untags; the image goes when nothing else names it); a missing one is fine. */
  remove(ref: string): Promise<void>;

  /**
   * Pulls `ref` from its registry, giving the registry `answerTimeoutMs` to start answering (no
   * registry answers on an offline machine, and a pull must then fail in seconds).
   */
  pull(ref: string, answerTimeoutMs: number): Promise<PullResult>;
  /**
   * Imports a root filesystem tar as an image tagged `tag`, with Dockerfile instructions
   * (`ENV …`, `CMD […]`) and the stand-in mark; resolves with the image id and size in bytes.
   */
  importRootfs(tar: Readable, options: { tag: string; changes: string[]; mark: StandinMark }): Promise<{ id: string; size: number }>;
  /** The newest image carrying the mark, if any. */
  findStandin(mark: StandinMark): Promise<string | undefined>;
}
