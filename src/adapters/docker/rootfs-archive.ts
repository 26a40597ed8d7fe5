import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { tarStream } from '../on-first-use.ts';
import type { ImageRuntimeConfig } from '../../domain/ports/image-store.ts';
import { followJson, oneLine } from './engine-output.ts';

/** What the one-layer image is to be. */
export interface RootfsImage {
  tag: string;
  /** Docker's architecture name, written in the image config ("arm64"). */
  architecture: string;
  config: ImageRuntimeConfig;
  labels: Record<string, string>;
  /**
   * The producer's end, when a process writes the root filesystem: the layer is loaded only once
   * it has succeeded, so a producer that fails part-way loads nothing (a half-written layer
   * tagged as the image would pass for a made one at the next start).
   */
  complete?: Promise<void>;
}

/**
 * Loads a root filesystem tar as a one-layer image whose config names its architecture: the tar
 * is spooled to a temporary file (its size and SHA-256, the layer's diff_id, must be known before
 * the archive is written), then a `docker save` archive (manifest.json, the config, the layer;
 * Docker's image spec v1.2) is streamed to the engine's load. `docker import` would write the
 * engine's own architecture instead. Throws with the engine's message when the load fails.
 */
export async function loadRootfsArchive(docker: Docker, rootfs: Readable, image: RootfsImage): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'em-sim-rootfs-'));
  try {
    const layerFile = path.join(dir, 'layer.tar');
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(rootfs, hashing, createWriteStream(layerFile));
    await image.complete;
    const diffId = hash.digest('hex');
    const { size } = await stat(layerFile);

    const config = Buffer.from(
      JSON.stringify({
        architecture: image.architecture,
        os: 'linux',
        created: new Date().toISOString(),
        config: {
          Env: image.config.env,
          ...(image.config.cmd ? { Cmd: image.config.cmd } : {}),
          ...(image.config.entrypoint ? { Entrypoint: image.config.entrypoint } : {}),
          ...(image.config.user ? { User: image.config.user } : {}),
          ...(image.config.workingDir ? { WorkingDir: image.config.workingDir } : {}),
          Labels: image.labels,
        },
        rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
        history: [{ created_by: 'em-sim: stand-in root filesystem' }],
      }),
    );
    const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
    const manifest = JSON.stringify([{ Config: configName, RepoTags: [image.tag], Layers: [`${diffId}/layer.tar`] }]);

    const pack = tarStream().pack();
    const packing = (async () => {
      pack.entry({ name: 'manifest.json', mode: 0o644 }, manifest);
      pack.entry({ name: configName, mode: 0o644 }, config);
      const entry = pack.entry({ name: `${diffId}/layer.tar`, mode: 0o644, size });
      await pipeline(createReadStream(layerFile), entry);
      pack.finalize();
    })();
    packing.catch((err: unknown) => pack.destroy(err as Error));
    const stream = await docker.loadImage(pack as unknown as NodeJS.ReadableStream, { quiet: true });
    const error = await followJson(docker, stream, () => {});
    await packing;
    if (error) throw new Error(`docker load: ${oneLine(error)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
