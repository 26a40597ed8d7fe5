import type { Readable } from 'node:stream';

/*
 * How a stand-in for an onboard catalog image is made offline, when no registry answers: a root
 * filesystem produced by a local tool (busybox, mmdebstrap) and imported as an image. Implemented
 * by src/adapters/standins/recipes.ts; the provisioning itself is src/domain/images/catalog-provisioning.ts.
 */

/** The stand-ins there are recipes for. */
export type StandinRecipeKind = 'busybox' | 'debian' | 'python';

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
  /** Bumped when a recipe changes, so that older stand-ins are not reused for new entries. */
  readonly version: string;
  /** Dockerfile instructions for the import (`ENV …`, `CMD […]`). */
  changes(kind: StandinRecipeKind): string[];
  /** Starts producing the root filesystem; `onStep` hears progress in words. Rejects when a tool is missing. */
  produce(kind: StandinRecipeKind, onStep: (message: string) => void): Promise<RootfsProducer>;
}
