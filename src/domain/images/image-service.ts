import { EngineLogFailure, type ImageStore } from '../ports/image-store.ts';
import type { VolumeFile, VolumeRef, VolumeStore } from '../ports/volume-store.ts';
import { SimError } from '../errors.ts';
import { DEFAULT_POD } from '../pods/pod-names.ts';
import { parseVolumePath } from '../volumes/volume-path.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import type { CatalogEntry } from './catalog.ts';
import { isReady, type CatalogImages } from './catalog-images.ts';
import { parseDockerfile, type FromLine } from './dockerfile.ts';
import { ImageReference } from './image-reference.ts';
import { architectureProblem, platformBuildArgs, platformString, type Platform } from './platform.ts';

/** One image of /em/pod/image/list. */
export interface ImageListItem {
  name: string;
  tag: string;
  id: string;
  /** Bytes. */
  size: number;
  created: string;
  architecture: string;
}

/**
 * What a run's image resolves to: the image (its id, the name to show the user, and, in arm64 mode,
 * why it would not start onboard); or a catalog image still being prepared (`done` settles when the
 * preparation does, and the run should be tried again then); or the Kubernetes waiting state a pod
 * shows instead.
 */
export type RunImage =
  | { id: string; name: string; architectureProblem: string | null }
  | { preparing: { message: string; done: Promise<unknown> } }
  | { waiting: { reason: 'ErrImagePull' | 'InvalidImageName'; message: string } };

const LOG_TAIL = 100;
const DOCKERFILE_MAX = 1 << 20;
/** The name the Dockerfile travels under inside the build context, wherever it lived in the volume. */
const DOCKERFILE_IN_CONTEXT = '.em-sim.Dockerfile';

/**
 * Spec sections 5 to 7: builds, loads and lists a user's images, stored as USER-NAME; and resolves
 * the image a run names (the user's own first, then the onboard catalog).
 */
export class ImageService {
  constructor(
    private readonly images: ImageStore,
    private readonly volumes: VolumeService,
    private readonly store: VolumeStore,
    private readonly catalog: CatalogImages,
    /** The engine host's architecture in Docker's words, for BUILDPLATFORM. */
    private readonly hostArchitecture: string,
    /**
     * The simulator instance (DATA_DIR/instance-id): on the engine, a user's image USER-NAME:TAG
     * is USER-NAME.INSTANCE:TAG, so simulators sharing an engine never see or overwrite each
     * other's images. Users still name and list them USER-NAME. '' keeps the bare names.
     */
    private readonly instance: string = '',
  ) {}

  /** The engine's reference of a user's image reference (USER-NAME[:TAG] or @digest). */
  private onEngine(userRef: string): string {
    if (!this.instance) return userRef;
    const ref = ImageReference.parse(userRef);
    return ref.renamed(`${ref.name}.${this.instance}`).toString();
  }

  /** The platform pods and builds run as. */
  get platform(): Platform {
    return this.catalog.platform;
  }

  /** What is being done to prepare a catalog image a pod waits for, in words; undefined when nothing is. */
  preparing(image: string): string | undefined {
    const entry = this.catalog.find(image);
    return entry && this.catalog.inProgress(entry.ref);
  }

  /**
   * docker build of `dockerfile` with the folder `context` of the volume, air-gapped: BUILD_FAILED
   * with the log's tail when the context or Dockerfile is missing, a FROM is not allowed or the
   * build fails; INVALID_IMAGE_NAME; INVALID_PATH / ILLEGAL_PATH for the paths.
   */
  async build(ref: VolumeRef, dockerfile: string, context: string, image: string): Promise<void> {
    const display = volumeDisplayPath(ref);
    const fail = (lines: string[]) => new SimError('BUILD_FAILED', 'Docker build failed', { log_tail: lines.slice(-LOG_TAIL) });
    // The EM hands `docker build -t USER-IMAGE` a name it does not check first: the builder's own
    // words come back in log_tail.
    const tagProblem = buildTagProblem(ref.username, image);
    if (tagProblem) throw fail([tagProblem]);
    const tag = this.onEngine(this.checkedUserTag(ref.username, image));
    const contextSegments = parseVolumePath(context, 'context');
    const dockerfileSegments = parseVolumePath(dockerfile, 'dockerfile');
    const contextMissing = () => fail([`unable to prepare context: path "${joinDisplay(display, contextSegments)}" not found\n`]);

    if (!this.volumes.use(ref)) throw contextMissing();
    const contextDir = openOr(() => this.store.openDirectory(ref, contextSegments, context), contextMissing);
    try {
      const content = this.readDockerfile(ref, dockerfileSegments, dockerfile, () =>
        fail([
          `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${joinDisplay(display, dockerfileSegments)}: no such file or directory\n`,
        ]),
      );
      const platform = this.catalog.platform;
      const buildArgs = platformBuildArgs(platform, this.hostArchitecture);
      // The user's own bases go to the engine under their instance's names.
      const parsed = parseDockerfile(content, buildArgs, (base) => (isOwnBase(ref.username, base) ? this.onEngine(base) : base));
      const refused = this.refusedBases(ref.username, parsed.froms);
      if (refused.length) throw fail(refused);
      const baseProblems = await this.prepareBases(parsed.froms);
      if (baseProblems.length) throw fail(baseProblems);
      const previous = await this.images.inspect(tag);
      try {
        await this.images.build({
          // Each FROM as it was checked, so that the engine's builder cannot read it otherwise.
          context: contextDir.pack([
            { name: DOCKERFILE_IN_CONTEXT, content: parsed.rewritten },
            { name: '.dockerignore', content: contextIgnore(this.readContextIgnore(ref, contextSegments, context)) },
          ]),
          dockerfile: DOCKERFILE_IN_CONTEXT,
          tag,
          owner: ref.username,
          ...(platform.mode === 'arm64' ? { platform: platformString(platform) } : {}),
          buildArgs,
        });
      } catch (err) {
        if (err instanceof EngineLogFailure) throw fail(err.logLines);
        throw err;
      }
      await this.dropReplaced(previous?.id, tag);
    } finally {
      contextDir.close();
    }
  }

  /**
   * The image a tag named before a build or load replaced it, removed when nothing else names or
   * runs it: replaced builds leave no `<none>` images behind. One a container still uses (a pod
   * kept for a restart to adopt) or another tag names stays; the engine refuses, and that is fine.
   */
  private async dropReplaced(previousId: string | undefined, tag: string): Promise<void> {
    if (!previousId) return;
    const now = await this.images.inspect(tag);
    if (!now || now.id === previousId) return;
    // Only when no tag names it: by id, the engine would untag and delete an image that one other
    // tag still names (another user's, or the catalog's, of the same content).
    const left = await this.images.inspect(previousId).catch(() => null);
    if (left && left.repoTags.length === 0) await this.images.remove(previousId).catch(() => {});
  }

  /**
   * docker load of a `docker save` archive in the volume: IMAGE_LOAD_FAILED with the log's tail
   * when the file is missing or not an archive, holds another user's (or unprefixed) images, or
   * does not hold `image`.
   */
  async load(ref: VolumeRef, tarfile: string, image: string): Promise<void> {
    const expected = this.checkedUserTag(ref.username, image);
    const segments = parseVolumePath(tarfile, 'tarfile');
    const display = joinDisplay(volumeDisplayPath(ref), segments);
    const fail = (lines: string[]) => new SimError('IMAGE_LOAD_FAILED', 'Docker Image tarfile failed to load', { log_tail: lines.slice(-LOG_TAIL) });
    const missing = () => fail([`sh: line 1: ${display}: No such file or directory\n`]);
    if (!this.volumes.use(ref)) throw missing();
    const file = openOr(() => this.store.openFile(ref, segments, tarfile), missing);
    try {
      const check = (tags: string[] | null) => {
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
      };
      let loaded: string[] = [];
      const keep = (tags: string[] | null) => {
        check(tags);
        loaded = tags ?? [];
      };
      try {
        await this.images.load(file.stream(), keep);
      } catch (err) {
        if (err instanceof EngineLogFailure) throw fail(err.logLines);
        throw err;
      }
      // The archive's names are the user's (USER-NAME): each becomes the instance's, and the bare
      // name goes, so that another simulator's images of that name are never touched for long.
      if (this.instance) {
        for (const tag of loaded) {
          const previous = await this.images.inspect(this.onEngine(tag));
          await this.images.tag(tag, this.onEngine(tag));
          await this.images.remove(tag);
          await this.dropReplaced(previous?.id, this.onEngine(tag));
        }
      }
    } finally {
      file.close();
    }
  }

  /** The user's images (USER-*), by name and tag; catalog images are not listed. */
  async list(username: string): Promise<ImageListItem[]> {
    const out: ImageListItem[] = [];
    for (const info of await this.images.list()) {
      for (const repoTag of info.repoTags) {
        if (!ownedBy(username, repoTag, this.instance)) continue;
        const parsed = ImageReference.parse(repoTag);
        const name = this.instance ? parsed.name.slice(0, -(this.instance.length + 1)) : parsed.name;
        out.push({ name, tag: parsed.tagOrLatest, id: info.id, size: info.size, created: info.created, architecture: info.architecture });
      }
    }
    return out.sort((a, b) => (a.name + a.tag).localeCompare(b.name + b.tag));
  }

  /**
   * The user's image first, then the onboard catalog (prepared on demand: the first run of a
   * catalog image not yet on the engine waits for it), else the pull failure a pod shows.
   */
  async resolveForRun(username: string, image: string): Promise<RunImage> {
    if (!ImageReference.isValid(image)) {
      return {
        waiting: {
          reason: 'InvalidImageName',
          message: `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": invalid reference format`,
        },
      };
    }
    const name = userImageRef(username, image);
    // A name that is too long once prefixed cannot be one of the user's images.
    if ((!image.includes('/') || !image.includes('@')) && ImageReference.isValid(name)) {
      const own = await this.images.inspect(this.onEngine(name));
      if (own) return { id: own.id, name, architectureProblem: architectureProblem(name, own.architecture) };
    }
    const entry = this.catalog.find(image);
    if (entry) {
      const local = await this.catalog.ready(entry);
      if (local) return { id: local.id, name: entry.ref, architectureProblem: architectureProblem(entry.ref, local.architecture) };
      const failure = this.catalog.recentFailure(entry.ref);
      if (failure) return { waiting: { reason: 'ErrImagePull', message: failure.detail ?? `${entry.ref} could not be prepared` } };
      const done = this.catalog.prepare(entry);
      return { preparing: { message: this.catalog.inProgress(entry.ref) ?? `preparing ${entry.ref}`, done } };
    }
    const tried = ImageReference.parse(this.triedReference(username, image)).fullyQualified();
    return {
      waiting: {
        reason: 'ErrImagePull',
        message: `rpc error: code = NotFound desc = failed to pull and unpack image "${tried}": failed to resolve reference "${tried}": ${tried}: not found`,
      },
    };
  }

  /** The reference the EM reports having tried, as in the seed's example ("client1-echo-test12"). */
  triedReference(username: string, image: string): string {
    if (this.catalog.find(image)) return image;
    const ref = ImageReference.parse(image);
    const prefixed = ref.name.startsWith(`${username}-`) || ref.name.includes('/') ? ref.name : `${username}-${ref.name}`;
    return ref.renamed(prefixed).toString();
  }

  private checkedUserTag(username: string, image: string): string {
    if (!ImageReference.isValid(image) || image.includes('/') || image.includes('@') || !ImageReference.isValid(userImageRef(username, image))) {
      throw new SimError(
        'INVALID_IMAGE_NAME',
        `Invalid image name ${JSON.stringify(image)}: use lowercase letters, digits, ".", "_" and "-", optionally with ":TAG" (no registry or "/"), e.g. "echo-test" or "echo-test:v2"`,
      );
    }
    return userImageRef(username, image);
  }

  /**
   * One log line for each FROM the air-gapped builder refuses: a base it cannot resolve, a platform
   * other than CG2's, or an image that is neither onboard, an earlier stage, nor the user's own
   * (a name without "/" with their prefix: anything else would be pulled).
   */
  private refusedBases(username: string, froms: FromLine[]): string[] {
    const refused: string[] = [];
    for (const { written, base, platform, earlierStage } of froms) {
      if (base === null) {
        refused.push(`FROM ${written}: em-sim cannot resolve this base (a variable without a value, or a form it does not read): write the image name out\n`);
        continue;
      }
      if (platform !== undefined && this.catalog.platform.mode === 'arm64' && !ARM64_PLATFORMS.includes(platform)) {
        refused.push(`FROM --platform=${platform} ${base}: CG2 builds on and for linux/arm64, and the onboard registry holds arm64 images only: drop --platform or use linux/arm64\n`);
        continue;
      }
      if (earlierStage || base.toLowerCase() === 'scratch' || this.catalog.find(base) || isOwnBase(username, base)) continue;
      refused.push(
        `FROM ${base}: not in the onboard catalog; builds are air-gapped and may start only from the catalog (\`npx em-sim images --list\` lists its ${this.catalog.entries.length} images) or your own images\n`,
      );
    }
    return refused;
  }

  /**
   * Makes the catalog images the Dockerfile starts FROM present (a build waits for them), and
   * checks that the user's own bases (refusedBases let only those through) exist and would run
   * onboard; one log line per problem.
   */
  private async prepareBases(froms: FromLine[]): Promise<string[]> {
    // Every spelling catalog.find accepts is one the engine resolves to the entry's local tags, so
    // a prepared entry is never pulled; the user's own bases must exist under the name as written.
    const problems: string[] = [];
    const entries = new Map<string, { base: string; entry: CatalogEntry }>();
    for (const { base, earlierStage } of froms) {
      if (base === null || earlierStage || base.toLowerCase() === 'scratch') continue;
      const entry = this.catalog.find(base);
      if (entry) {
        entries.set(entry.ref, { base, entry });
        continue;
      }
      const own = await this.images.inspect(this.onEngine(base));
      if (!own) problems.push(`FROM ${base}: no such image on this machine: build or load it first (builds never pull)\n`);
      const problem = own && this.catalog.platform.mode === 'arm64' ? architectureProblem(base, own.architecture) : null;
      if (problem) problems.push(`FROM ${base}: ${problem}\n`);
    }
    for (const { base, entry } of entries.values()) {
      if (await this.catalog.ready(entry)) continue;
      const report = await this.catalog.prepare(entry);
      if (!isReady(report)) problems.push(`FROM ${base}: ${report.detail ?? 'could not be prepared'}\n`);
    }
    return problems;
  }

  /** The context's own .dockerignore, or '' when it has none (or none that is a file under 1 MiB). */
  private readContextIgnore(ref: VolumeRef, contextSegments: string[], context: string): string {
    try {
      const file = this.store.openFile(ref, [...contextSegments, '.dockerignore'], `${context}/.dockerignore`);
      try {
        return file.size > DOCKERFILE_MAX ? '' : file.readText();
      } finally {
        file.close();
      }
    } catch (err) {
      if (err instanceof SimError) return '';
      throw err;
    }
  }

  private readDockerfile(ref: VolumeRef, segments: string[], display: string, onMissing: () => Error): string {
    const file: VolumeFile = openOr(() => this.store.openFile(ref, segments, display), onMissing);
    try {
      if (file.size > DOCKERFILE_MAX) throw new SimError('BUILD_FAILED', 'Docker build failed', { log_tail: [`Dockerfile ${display} is larger than 1 MiB\n`] });
      return file.readText();
    } finally {
      file.close();
    }
  }
}

/** The name a user's image is stored under: "echo-test" becomes "client1-echo-test:latest". */
function userImageRef(username: string, image: string): string {
  const ref = ImageReference.parse(image);
  const prefixed = ref.name.startsWith(`${username}-`) ? ref.name : `${username}-${ref.name}`;
  return ref.digest !== undefined ? ref.renamed(prefixed).toString() : `${prefixed}:${ref.tagOrLatest}`;
}

/**
 * The .dockerignore sent with a build: the context's own patterns, plus the Dockerfile em-sim
 * sends and the .dockerignore itself. The engine's builder removes both from the context when
 * its .dockerignore names them (moby builder/remotecontext/detect.go, removeDockerfile), so
 * `COPY . /x` copies neither: nothing of em-sim's reaches an image.
 */
function contextIgnore(own: string): string {
  return `${own}${own && !own.endsWith('\n') ? '\n' : ''}${DOCKERFILE_IN_CONTEXT}\n.dockerignore\n`;
}

/**
 * What BuildKit's `docker build -t USER-IMAGE` says of a tag it cannot use, or null: its wording
 * ("ERROR: invalid tag …: repository name must be lowercase"). A registry or digest in the name
 * (which em-sim refuses: the image would not be the user's) gets em-sim's own line.
 */
function buildTagProblem(username: string, image: string): string | null {
  const tagged = image.startsWith(`${username}-`) ? image : `${username}-${image}`;
  if (image.includes('/') || image.includes('@')) {
    return `ERROR: invalid tag "${tagged}": em-sim builds your own images only: no registry, path or digest in the image name\n`;
  }
  if (ImageReference.isValid(tagged) && ImageReference.isValid(userImageRef(username, image))) return null;
  const colon = tagged.lastIndexOf(':');
  const repository = colon === -1 ? tagged : tagged.slice(0, colon);
  const lowered = `${repository.toLowerCase()}${colon === -1 ? '' : tagged.slice(colon)}`;
  if (repository !== repository.toLowerCase() && ImageReference.isValid(lowered)) return `ERROR: invalid tag "${tagged}": repository name must be lowercase\n`;
  return `ERROR: invalid tag "${tagged}": invalid reference format\n`;
}

/** The platforms a FROM may ask for in arm64 mode: CG2's own. */
const ARM64_PLATFORMS = ['linux/arm64', 'linux/arm64/v8', 'arm64'];

/** A FROM naming one of the user's own images: their prefix, and no registry or path (those would be pulled). */
function isOwnBase(username: string, base: string): boolean {
  return !base.includes('/') && ownedBy(username, base);
}

/**
 * Whether a reference belongs to the user: named USER-…, and, given the simulator instance, one
 * of that instance's on the engine (USER-NAME.INSTANCE).
 */
export function ownedBy(username: string, repoTag: string, instance = ''): boolean {
  if (!repoTag.startsWith(`${username}-`)) return false;
  if (!instance) return true;
  const ref = ImageReference.isValid(repoTag) ? ImageReference.parse(repoTag) : null;
  return ref !== null && ref.name.endsWith(`.${instance}`);
}

/** Where the real EM keeps a volume, as its error messages show it. */
function volumeDisplayPath(ref: VolumeRef): string {
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
