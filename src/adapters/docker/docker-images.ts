import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { ImageReference } from '../../domain/images/image-reference.ts';
import {
  EngineLogFailure,
  type BuildRequest,
  type ImageInfo,
  type ImageRuntimeConfig,
  type ImageStore,
  type PullResult,
  type StandinMark,
  type StandsFor,
} from '../../domain/ports/image-store.ts';
import { engineMessage, followJson, lineOf, oneLine, readProgress, splitLines, statusOf } from './engine-output.ts';
import { readRepoTags } from './image-archive.ts';
import { loadRootfsArchive } from './rootfs-archive.ts';
import { standinOf, standinLabels, standsForLabels, userImageLabels } from './labels.ts';
import { tarStream } from '../on-first-use.ts';

/** Once a registry has answered, a pull may take this long in all. */
const PULL_TOTAL_TIMEOUT_MS = 10 * 60_000;
const UNREACHABLE = /dial tcp|no such host|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|Client\.Timeout/i;

/**
 * The ImageStore port on a real Docker engine, through dockerode. Builds are air-gapped like
 * onboard: RUN steps get no network, and nothing is pulled. Errors other than "not found" are
 * dockerode's, with the engine's message.
 */
export class DockerImages implements ImageStore {
  constructor(
    private readonly docker: Docker,
    /** The simulator instance that builds, for the images' labels. */
    private readonly instanceId: string,
  ) {}

  async inspect(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return {
        id: info.Id,
        repoTags: info.RepoTags ?? [],
        size: info.Size,
        created: info.Created,
        architecture: info.Architecture,
        standin: standinOf(info.Config?.Labels ?? undefined),
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw withEngineMessage(err);
    }
  }

  async list(): Promise<ImageInfo[]> {
    const out: ImageInfo[] = [];
    for (const image of await this.docker.listImages()) {
      const info = await this.inspect(image.Id);
      if (info) out.push(info);
    }
    return out;
  }

  build(request: BuildRequest): Promise<string[]> {
    return this.airGappedBuild(request.context, {
      t: request.tag,
      dockerfile: request.dockerfile,
      labels: userImageLabels(this.instanceId, request.owner),
      ...(request.platform ? { platform: request.platform } : {}),
      ...(request.buildArgs ? { buildargs: request.buildArgs } : {}),
    });
  }

  async load(tar: Readable, check: (tags: string[] | null) => void): Promise<string[]> {
    // A private copy: the archive in the volume may change while it is checked and loaded (a
    // running pod can write it), the copy cannot.
    const dir = await mkdtemp(path.join(tmpdir(), 'em-sim-load-'));
    try {
      const copy = path.join(dir, 'archive.tar');
      await pipeline(tar, createWriteStream(copy, { mode: 0o600 }));
      check(await readRepoTags(createReadStream(copy)));
      const lines: string[] = [];
      let stream: NodeJS.ReadableStream;
      try {
        stream = await this.docker.loadImage(createReadStream(copy), { quiet: false });
      } catch (err) {
        throw new EngineLogFailure('load refused', [lineOf(engineMessage(err))]);
      }
      const error = await followJson(this.docker, stream, (event) => {
        if (typeof event.stream === 'string') lines.push(...splitLines(event.stream));
      });
      if (error) throw new EngineLogFailure('load failed', [...lines, lineOf(error)]);
      return lines;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async tag(source: string, target: string): Promise<void> {
    const ref = ImageReference.parse(target);
    try {
      await this.docker.getImage(source).tag({ repo: ref.name, tag: ref.tagOrLatest });
    } catch (err) {
      throw withEngineMessage(err);
    }
  }

  async remove(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
    } catch (err) {
      if (statusOf(err) !== 404) throw withEngineMessage(err);
    }
  }

  async pull(ref: string, answerTimeoutMs: number, platform?: string): Promise<PullResult> {
    const abort = new AbortController();
    let timedOut = false;
    const giveUp = () => {
      timedOut = true;
      abort.abort();
    };
    const quiet = setTimeout(giveUp, answerTimeoutMs);
    const total = setTimeout(giveUp, PULL_TOTAL_TIMEOUT_MS);
    try {
      const stream = await this.docker.pull(ref, { abortSignal: abort.signal, ...(platform ? { platform } : {}) });
      await readProgress(this.docker, stream, (event) => {
        // The registry answered: from here on only the overall limit applies.
        if (!event.error) clearTimeout(quiet);
      });
      if (!(await this.inspect(ref))) return { ok: false, reason: 'the pull ended without the image', unreachable: false };
      return { ok: true };
    } catch (err) {
      if (timedOut) return { ok: false, reason: `the registry did not answer within ${Math.round(answerTimeoutMs / 100) / 10} s`, unreachable: true };
      const reason = oneLine(err);
      return { ok: false, reason, unreachable: UNREACHABLE.test(reason) };
    } finally {
      clearTimeout(quiet);
      clearTimeout(total);
    }
  }

  async importRootfs(
    tar: Readable,
    options: { tag: string; config: ImageRuntimeConfig; mark: StandinMark; complete?: Promise<void> },
  ): Promise<{ id: string; size: number }> {
    // `docker import` cannot say the architecture (the engine writes its own), so the layer goes
    // into a `docker save` archive whose config names it, and that is loaded.
    await loadRootfsArchive(this.docker, tar, {
      tag: options.tag,
      architecture: options.mark.architecture,
      config: options.config,
      labels: standinLabels(options.mark),
      ...(options.complete ? { complete: options.complete } : {}),
    });
    const image = await this.docker.getImage(options.tag).inspect();
    return { id: image.Id, size: image.Size };
  }

  async derive(source: string, target: string, standsFor: StandsFor, platform?: string): Promise<string> {
    const pack = tarStream().pack();
    pack.entry({ name: 'Dockerfile', mode: 0o644 }, `FROM ${source}\n`);
    pack.finalize();
    try {
      await this.airGappedBuild(pack as unknown as Readable, { t: target, labels: standsForLabels(standsFor), ...(platform ? { platform } : {}) });
    } catch (err) {
      const lines = err instanceof EngineLogFailure ? err.logLines.slice(-3).join(' ').trim() : (err as Error).message;
      throw new Error(`tagging ${target}: ${lines}`);
    }
    return (await this.docker.getImage(target).inspect()).Id;
  }

  /**
   * A build as onboard: RUN steps get no network, nothing is pulled. Resolves with the build log;
   * rejects with EngineLogFailure carrying it.
   */
  private async airGappedBuild(context: Readable, options: Docker.ImageBuildOptions): Promise<string[]> {
    const lines: string[] = [];
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(context, { ...options, networkmode: 'none', pull: false, rm: true, forcerm: true });
    } catch (err) {
      throw new EngineLogFailure('build refused', [lineOf(engineMessage(err))]);
    }
    const error = await followJson(this.docker, stream, (event) => {
      if (typeof event.stream === 'string') lines.push(...splitLines(event.stream));
      if (typeof event.status === 'string') lines.push(lineOf(event.status));
    });
    if (error) {
      await this.removeStepImages(lines);
      throw new EngineLogFailure('build failed', [...lines, lineOf(error)]);
    }
    return lines;
  }

  /**
   * The classic builder keeps the image of every step that succeeded, also when a later step
   * fails: untagged, they would pile up as <none> images (a pip install without network fails
   * after FROM and COPY). Removes each step image (" ---> ID" in the log) that no tag names; an
   * image that is the parent of another one (a cached step of an earlier build) stays, as the
   * engine refuses to remove it.
   */
  private async removeStepImages(lines: string[]): Promise<void> {
    const ids = lines.map((l) => /^\s*---> ([0-9a-f]{12})\s*$/.exec(l)?.[1]).filter((id): id is string => Boolean(id));
    for (const id of [...new Set(ids)].reverse()) {
      try {
        const image = await this.docker.getImage(id).inspect();
        if (!image.RepoTags?.length) await this.docker.getImage(id).remove();
      } catch {
        // Gone already, tagged, or a parent of another image: not ours to remove.
      }
    }
  }
}

/** A dockerode error as an Error whose message is the engine's, in one line. */
function withEngineMessage(err: unknown): Error {
  return Object.assign(new Error(oneLine(err)), { statusCode: statusOf(err) });
}
