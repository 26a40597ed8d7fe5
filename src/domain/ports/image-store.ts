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
  /** For a stand-in em-sim made for a catalog image (not the real image): its kind and recipe version; else null. */
  standin: { kind: string; recipe: string } | null;
}

/** What an image runs with, as an image's config holds it (Docker image spec v1.2, `config`). */
export interface ImageRuntimeConfig {
  /** "NAME=value" entries. */
  env: string[];
  cmd?: string[];
  entrypoint?: string[];
  user?: string;
  workingDir?: string;
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
  /** The platform to build for ("linux/arm64"); the engine's own when absent. */
  platform?: string;
  /** Build arguments (TARGETARCH, …, as the EM's builder sets them). */
  buildArgs?: Record<string, string>;
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
  /** Docker's name of the architecture it was made for ("arm64"). */
  architecture: string;
}

/** What one catalog tag's stand-in stands for, written on it as labels. */
export interface StandsFor {
  /** The catalog reference ("python:3.10-slim"). */
  ref: string;
  /** What the stand-in is made of, in words (catalog.ts STANDIN_CONTENTS). */
  contents: string;
  /** The upstream version the real image has, when the provider pinned one. */
  upstreamVersion?: string;
}

/** The port itself. Errors other than EngineLogFailure carry the engine's message. */
export interface ImageStore {
  /** null when no image has that id or reference. */
  inspect(ref: string): Promise<ImageInfo | null>;
  /** Every image on the engine. */
  list(): Promise<ImageInfo[]>;
  /** Builds without network (air-gapped, as onboard); resolves with the build log, rejects with EngineLogFailure. */
  build(request: BuildRequest): Promise<string[]>;
  /**
   * Loads a `docker save` archive read once from `tar`: the engine loads exactly the bytes whose
   * tags `check` saw (null: not an archive), so the file cannot change in between. `check` throws
   * to refuse the archive. Resolves with the engine's output lines, rejects with EngineLogFailure.
   */
  load(tar: Readable, check: (tags: string[] | null) => void): Promise<string[]>;
  /** Gives the image `source` the reference `target` too. */
  tag(source: string, target: string): Promise<void>;
  /** Removes a reference (untags; the image goes when nothing else names it); a missing one is fine. */
  remove(ref: string): Promise<void>;

  /**
   * Pulls `ref` from its registry, giving the registry `answerTimeoutMs` to start answering (no
   * registry answers on an offline machine, and a pull must then fail in seconds).
   */
  pull(ref: string, answerTimeoutMs: number, platform?: string): Promise<PullResult>;
  /**
   * Makes an image of one layer from a root filesystem tar, tagged `tag`, for `mark.architecture`
   * (its metadata says so, as a pulled image's would), with `config` and the stand-in mark as
   * labels; resolves with the image id and size in bytes. Nothing is tagged when it fails.
   */
  importRootfs(tar: Readable, options: { tag: string; config: ImageRuntimeConfig; mark: StandinMark; complete?: Promise<void> }): Promise<{ id: string; size: number }>;
  /**
   * Makes `target` an image that is `source` plus `labels` (no new layer; for the stand-in of one
   * catalog tag), built for `platform` when given; resolves with its id.
   */
  derive(source: string, target: string, standsFor: StandsFor, platform?: string): Promise<string>;
}
