import type { Readable } from 'node:stream';
import type { ImageRuntimeConfig } from './image-store.ts';

/*
 * How a stand-in for an onboard catalog image is made offline, when no registry answers: a root
 * filesystem produced by a local tool (busybox, mmdebstrap) and imported as an image. Implemented
 * by src/adapters/standins/recipes.ts; the provisioning itself is src/domain/images/catalog-provisioning.ts.
 */

/** The stand-ins there are recipes for: every kind of catalog.ts but `none`. */
export type StandinRecipeKind =
  | 'busybox'
  | 'debian'
  | 'python'
  | 'node18'
  | 'node20'
  | 'distroless-static'
  | 'distroless-base'
  | 'distroless-python'
  | 'distroless-nodejs';

/** A running producer of a root filesystem tar. */
export interface RootfsProducer {
  /** The root filesystem as a tar stream. */
  tar: Readable;
  /** Resolves when the producer exited cleanly; rejects with the tail of its output otherwise. */
  done: Promise<void>;
  /** Stops the producer early (a failed import). */
  stop(): void;
  /** Removes whatever the producer left behind (temporary folders). */
  cleanup(): Promise<void>;
}

/** The port itself. */
export interface StandinRecipes {
  /** The kind's recipe version, bumped when the recipe changes, so that older stand-ins are not reused. */
  version(kind: StandinRecipeKind): string;
  /** What the image runs with (environment, command, entrypoint, user). */
  config(kind: StandinRecipeKind): ImageRuntimeConfig;
  /**
   * Starts producing the root filesystem for `architecture` (Docker's name: "arm64", "amd64");
   * `onStep` hears progress in words. Rejects when a tool is missing, naming the package.
   */
  produce(kind: StandinRecipeKind, architecture: string, onStep: (message: string) => void): Promise<RootfsProducer>;
}
