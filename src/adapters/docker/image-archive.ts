import type { Readable } from 'node:stream';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tarStream } from '../on-first-use.ts';
import { ImageReference } from '../../domain/images/image-reference.ts';

/**
 * The NAME:TAG of every image in a `docker save` archive (its manifest.json's RepoTags), or null
 * when the stream is not such an archive, or not one to trust: Docker cleans each entry's path
 * when it unpacks (`x/../manifest.json` is `manifest.json`, and the last copy wins), so an archive
 * with an entry that climbs (`..`) or with more than one manifest.json is refused, never read
 * differently from the engine.
 */
export async function readRepoTags(stream: Readable): Promise<string[] | null> {
  const extract = tarStream().extract();
  let manifest: string | null = null;
  let manifests = 0;
  let climbs = false;
  extract.on('entry', (header, entry, next) => {
    const cleaned = path.posix.normalize(header.name.replace(/^\/+/, ''));
    if (header.name.split('/').includes('..')) climbs = true;
    if (cleaned === 'manifest.json') {
      manifests++;
      const chunks: Buffer[] = [];
      entry.on('data', (c: unknown) => chunks.push(c as Buffer));
      entry.on('end', () => {
        manifest = Buffer.concat(chunks).toString('utf8');
        next();
      });
    } else {
      entry.on('end', next);
      entry.resume();
    }
  });
  try {
    await pipeline(stream, extract);
  } catch {
    return null;
  }
  if (manifest === null || manifests !== 1 || climbs) return null;
  try {
    const parsed = JSON.parse(manifest) as { RepoTags?: string[] | null }[];
    // NAME becomes NAME:latest; anything with a digest stays as written.
    return parsed.flatMap((m) => m.RepoTags ?? []).map((t) => {
      const ref = ImageReference.parse(t);
      return ref.digest !== undefined ? t : `${ref.name}:${ref.tagOrLatest}`;
    });
  } catch {
    return null;
  }
}
