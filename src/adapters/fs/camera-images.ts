import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CameraImages } from '../../domain/ports/camera-images.ts';

/** The provider's published fisheye frame (reference/20230608.png), shipped with em-sim. */
const BUNDLED_DIR = fileURLToPath(new URL('../../config/camera/', import.meta.url));
/** A frame's name: a plain file name ending in .png, nothing that could name a path. */
const FRAME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.png$/i;

/**
 * The CameraImages port on the file system: the bundled frame plus every regular *.png file
 * directly in services.telemetry.images_dir (re-read on each call, so frames dropped in while the
 * simulator runs appear; a frame there with the bundled frame's name replaces it). A name is
 * only ever looked up in the listing, never joined to a path as given.
 */
export class FsCameraImages implements CameraImages {
  constructor(private readonly userDir: string | null) {}

  async list(): Promise<string[]> {
    return [...(await this.frames()).keys()];
  }

  async read(name: string): Promise<Uint8Array | null> {
    const file = (await this.frames()).get(name);
    return file ? readFile(file) : null;
  }

  private async frames(): Promise<Map<string, string>> {
    const frames = new Map<string, string>();
    for (const dir of [BUNDLED_DIR, this.userDir]) {
      if (!dir) continue;
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // a folder that is gone serves no frames; doctor says so
      }
      for (const name of names) {
        if (!FRAME_NAME.test(name)) continue;
        const file = path.join(dir, name);
        if ((await lstat(file).catch(() => null))?.isFile()) frames.set(name, file);
      }
    }
    return frames;
  }
}
