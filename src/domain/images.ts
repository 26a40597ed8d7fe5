import { closeSync, createReadStream, readFileSync, realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarFs from 'tar-fs';
import tarStream from 'tar-stream';
import { parseVolumePath, type VolumeRoot } from '../adapters/fs/safe-path.ts';
import { findInCatalog, normalizeRef, type CatalogEntry } from './catalog.ts';
import { SimError } from './errors.ts';
import { fullyQualified, isValidReference, ownedBy, splitTag, userImageRef } from './image-ref.ts';
import { EngineLogFailure, type ContainerRuntime } from './runtime.ts';
import { DEFAULT_POD } from './names.ts';
import type { VolumeRef, VolumeService } from './volumes.ts';

export interface ImageListItem {
  name: string;
  tag: string;
  id: string;
  size: number;
  created: string;
  architecture: string;
}

export type RunImage = { id: string } | { waiting: { reason: 'ErrImagePull' | 'InvalidImageName'; message: string } };

const LOG_TAIL = 100;
const DOCKERFILE_MAX = 1 << 20;

/** Builds, loads and lists a user's images, and resolves the image a run names. */
export class ImageService {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly volumes: VolumeService,
    private readonly catalog: CatalogEntry[],
    private readonly registry: string,
    private readonly labels: Record<string, string>,
  ) {}

  async build(ref: VolumeRef, dockerfile: string, context: string, image: string): Promise<void> {
    const tag = this.checkedUserTag(ref.username, image);
    const display = volumeDisplayPath(ref);
    const fail = (lines: string[]) => new SimError('BUILD_FAILED', 'Docker build failed', { log_tail: lines.slice(-LOG_TAIL) });
    const contextSegments = parseVolumePath(context, 'context');
    const dockerfileSegments = parseVolumePath(dockerfile, 'dockerfile');
    const contextDisplay = joinDisplay(display, contextSegments);

    const root = this.volumes.openExisting(ref);
    if (!root) throw fail([`unable to prepare context: path "${contextDisplay}" not found\n`]);
    const contextDir = openOr(() => root.openExistingDir(contextSegments, context), () =>
      fail([`unable to prepare context: path "${contextDisplay}" not found\n`]),
    );
    try {
      const content = readDockerfile(root, dockerfileSegments, dockerfile, () =>
        fail([
          `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${joinDisplay(display, dockerfileSegments)}: no such file or directory\n`,
        ]),
      );
      const refused = this.refusedBases(ref.username, content);
      if (refused.length) {
        throw fail(
          refused.map(
            (base) =>
              `FROM ${base}: not in the onboard catalog; builds are air-gapped and may start only from the catalog (${this.catalog.map((e) => e.ref).join(', ')}) or your own images\n`,
          ),
        );
      }
      // The Dockerfile travels inside the context under a name of ours, wherever it lived.
      const dockerfileName = '.em-sim.Dockerfile';
      // tar-fs walks by path; start it at where the opened folder really is (the /proc link
      // itself would be packed as a link). Entries below are packed as they are, links as links.
      const pack = tarFs.pack(realpathSync(contextDir.self()), {
        dereference: false,
        finalize: false,
        finish: (p: tarStream.Pack) => {
          p.entry({ name: dockerfileName, mode: 0o644 }, content);
          p.finalize();
        },
      } as tarFs.PackOptions);
      try {
        await this.runtime.build({ context: pack as unknown as Readable, dockerfile: dockerfileName, tag, labels: { ...this.labels, 'em-sim.user': ref.username } });
      } catch (err) {
        if (err instanceof EngineLogFailure) throw fail(err.logLines);
        throw err;
      }
    } finally {
      contextDir.close();
    }
  }

  async load(ref: VolumeRef, tarfile: string, image: string): Promise<void> {
    const expected = this.checkedUserTag(ref.username, image);
    const display = joinDisplay(volumeDisplayPath(ref), parseVolumePath(tarfile, 'tarfile'));
    const fail = (lines: string[]) => new SimError('IMAGE_LOAD_FAILED', 'Docker Image tarfile failed to load', { log_tail: lines.slice(-LOG_TAIL) });
    const missing = () => fail([`sh: line 1: ${display}: No such file or directory\n`]);
    const root = this.volumes.openExisting(ref);
    if (!root) throw missing();
    const segments = parseVolumePath(tarfile, 'tarfile');
    const file = openOr(() => root.openFile(segments, tarfile), missing);
    const path = `/proc/self/fd/${file.fd}`;
    try {
      const tags = await readRepoTags(createReadStream(path, { start: 0 }));
      if (tags === null) throw fail([`open ${display}: not a Docker image archive (no manifest.json); create it with docker save\n`]);
      const foreign = tags.filter((t) => !ownedBy(ref.username, t));
      if (foreign.length) {
        throw fail([
          `the archive holds ${foreign.join(', ')}: every image in it must be named with your prefix "${ref.username}-" (docker tag IMAGE ${ref.username}-NAME before docker save)\n`,
        ]);
      }
      if (!tags.includes(expected)) {
        throw fail([
          `image "${expected}" not found in ${display}; it holds ${tags.length ? tags.join(', ') : 'no tagged image'}. The image parameter must match the name used at docker build, with your prefix "${ref.username}-"\n`,
        ]);
      }
      try {
        await this.runtime.load(createReadStream(path, { start: 0 }));
      } catch (err) {
        if (err instanceof EngineLogFailure) throw fail(err.logLines);
        throw err;
      }
    } finally {
      closeQuietly(file.fd);
    }
  }

  async list(username: string): Promise<ImageListItem[]> {
    const out: ImageListItem[] = [];
    for (const info of await this.runtime.listImages()) {
      for (const repoTag of info.repoTags) {
        if (!ownedBy(username, repoTag)) continue;
        const { name, tag } = splitTag(repoTag);
        out.push({ name, tag, id: info.id, size: info.size, created: info.created, architecture: info.architecture });
      }
    }
    return out.sort((a, b) => (a.name + a.tag).localeCompare(b.name + b.tag));
  }

  /** The user's image first, then the onboard catalog, else the pull failure a pod shows. */
  async resolveForRun(username: string, image: string): Promise<RunImage> {
    if (!isValidReference(image)) {
      return {
        waiting: {
          reason: 'InvalidImageName',
          message: `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": invalid reference format`,
        },
      };
    }
    if (!image.includes('/') || !image.includes('@')) {
      const own = await this.runtime.inspectImage(userImageRef(username, image));
      if (own) return { id: own.id };
    }
    const entry = findInCatalog(this.catalog, image, this.registry);
    if (entry) {
      const local = await this.runtime.inspectImage(entry.ref);
      if (local) return { id: local.id };
      return {
        waiting: {
          reason: 'ErrImagePull',
          message: `catalog image "${entry.ref}" is not present on this machine: run \`npx em-sim images\` to prepare the onboard catalog`,
        },
      };
    }
    const tried = fullyQualified(this.triedReference(username, image));
    return {
      waiting: {
        reason: 'ErrImagePull',
        message: `rpc error: code = NotFound desc = failed to pull and unpack image "${tried}": failed to resolve reference "${tried}": ${tried}: not found`,
      },
    };
  }

  /** The reference the EM reports having tried, as in the seed's example ("client1-echo-test12"). */
  triedReference(username: string, image: string): string {
    if (findInCatalog(this.catalog, image, this.registry)) return image;
    const { name, tag } = splitTag(image);
    const prefixed = name.startsWith(`${username}-`) || name.includes('/') ? name : `${username}-${name}`;
    return tag === 'latest' && !image.endsWith(':latest') ? prefixed : `${prefixed}:${tag}`;
  }

  private checkedUserTag(username: string, image: string): string {
    if (!isValidReference(image) || image.includes('/') || image.includes('@')) {
      throw new SimError(
        'INVALID_IMAGE_NAME',
        `Invalid image name ${JSON.stringify(image)}: use lowercase letters, digits, ".", "_" and "-", optionally with ":TAG" (no registry or "/"), e.g. "echo-test" or "echo-test:v2"`,
      );
    }
    return userImageRef(username, image);
  }

  /** FROM lines naming neither a catalog image, an earlier stage, nor one of the user's images. */
  private refusedBases(username: string, dockerfile: string): string[] {
    const stages = new Set<string>();
    const refused: string[] = [];
    const logical = dockerfile.replace(/\\\r?\n/g, ' ');
    for (const line of logical.split(/\r?\n/)) {
      const match = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
      if (!match) continue;
      const base = match[1]!;
      const lower = base.toLowerCase();
      const ok =
        stages.has(lower) ||
        lower === 'scratch' ||
        base.includes('$') ||
        findInCatalog(this.catalog, base, this.registry) !== undefined ||
        ownedBy(username, normalizeRef(base, this.registry));
      if (!ok) refused.push(base);
      if (match[2]) stages.add(match[2].toLowerCase());
    }
    return refused;
  }
}

/** Where the real EM keeps a volume, as its error messages show it. */
export function volumeDisplayPath(ref: VolumeRef): string {
  return ref.name === DEFAULT_POD ? `/clients/${ref.username}-pvc` : `/clients/${ref.username}-${ref.name}-pvc`;
}

function joinDisplay(base: string, segments: string[]): string {
  return segments.length ? `${base}/${segments.join('/')}` : base;
}

function openOr<T>(open: () => T, onMissing: () => Error): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof SimError && (err.code === 'FILE_NOT_FOUND' || err.code === 'NOT_A_FILE')) throw onMissing();
    throw err;
  }
}

function readDockerfile(root: VolumeRoot, segments: string[], display: string, onMissing: () => Error): string {
  const file = openOr(() => root.openFile(segments, display), onMissing);
  try {
    if (file.stat.size > DOCKERFILE_MAX) throw new SimError('BUILD_FAILED', 'Docker build failed', { log_tail: [`Dockerfile ${display} is larger than 1 MiB\n`] });
    return readFileSync(file.fd, 'utf8');
  } finally {
    closeQuietly(file.fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** The RepoTags of every image in a `docker save` archive, or null when it is not one. */
async function readRepoTags(stream: Readable): Promise<string[] | null> {
  const extract = tarStream.extract();
  let manifest: string | null = null;
  extract.on('entry', (header, entry, next) => {
    if (header.name === 'manifest.json' || header.name === './manifest.json') {
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
  if (manifest === null) return null;
  try {
    const parsed = JSON.parse(manifest) as { RepoTags?: string[] | null }[];
    return parsed.flatMap((m) => m.RepoTags ?? []).map((t) => {
      const { name, tag } = splitTag(t);
      return `${name}:${tag}`;
    });
  } catch {
    return null;
  }
}
