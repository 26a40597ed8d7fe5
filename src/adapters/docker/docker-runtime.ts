import { cpus } from 'node:os';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import {
  EngineLogFailure,
  StartFailure,
  type BuildRequest,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type ImageInfo,
  type ManagedContainer,
} from '../../domain/runtime.ts';
import { describeEngine, dockerAvailable, engineMissingMessage } from './engine.ts';

const PING_CACHE_MS = 1000;
const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';

/** The container runtime on a real Docker engine, through dockerode. */
export class DockerRuntime implements ContainerRuntime {
  private lastPing = { at: 0, ok: false };
  private readonly hostCpus = cpus().length;

  constructor(
    private readonly docker: Docker,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async available(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastPing.at < PING_CACHE_MS) return this.lastPing.ok;
    const ok = await dockerAvailable(this.docker, 1500);
    this.lastPing = { at: Date.now(), ok };
    return ok;
  }

  describe(): string {
    return describeEngine(this.env);
  }

  unavailableMessage(): string {
    return `No Docker engine: ${engineMissingMessage(this.env)}. File endpoints keep working meanwhile.`;
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    try {
      const existing = await this.docker.getNetwork(name).inspect();
      if (existing.Internal && existing.Options?.[INHIBIT_IPV4] === 'true') return;
      // Made by an older em-sim without the host cut off: replace it unless pods are on it.
      if (Object.keys(existing.Containers ?? {}).length) return;
      await this.removeNetwork(name);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    try {
      // Internal: no route out, as onboard where nothing reaches the ground. Without an address
      // on the host side of the bridge, pods cannot reach the host's own services either.
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Internal: true,
        Labels: labels,
        CheckDuplicate: true,
        Options: { [INHIBIT_IPV4]: 'true' },
      });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return {
        id: info.Id,
        repoTags: info.RepoTags ?? [],
        size: info.Size,
        created: info.Created,
        architecture: info.Architecture,
        labels: info.Config?.Labels ?? {},
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async listImages(): Promise<ImageInfo[]> {
    const images = await this.docker.listImages();
    const out: ImageInfo[] = [];
    for (const image of images) {
      const info = await this.inspectImage(image.Id);
      if (info) out.push(info);
    }
    return out;
  }

  async build(request: BuildRequest): Promise<string[]> {
    const lines: string[] = [];
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(request.context, {
        t: request.tag,
        dockerfile: request.dockerfile,
        // Air-gapped like onboard: RUN steps get no network, and nothing is pulled.
        networkmode: 'none',
        pull: false,
        rm: true,
        forcerm: true,
        labels: request.labels,
      });
    } catch (err) {
      throw new EngineLogFailure('build refused', [...lines, lineOf(engineMessage(err))]);
    }
    const error = await followJson(this.docker, stream, (event) => {
      if (typeof event.stream === 'string') lines.push(...splitLines(event.stream));
      if (typeof event.status === 'string') lines.push(lineOf(event.status));
    });
    if (error) throw new EngineLogFailure('build failed', [...lines, lineOf(error)]);
    return lines;
  }

  async load(tar: Readable): Promise<string[]> {
    const lines: string[] = [];
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.loadImage(tar, { quiet: false });
    } catch (err) {
      throw new EngineLogFailure('load refused', [lineOf(engineMessage(err))]);
    }
    const error = await followJson(this.docker, stream, (event) => {
      if (typeof event.stream === 'string') lines.push(...splitLines(event.stream));
    });
    if (error) throw new EngineLogFailure('load failed', [...lines, lineOf(error)]);
    return lines;
  }

  async tagImage(source: string, target: string): Promise<void> {
    const colon = target.lastIndexOf(':');
    const hasTag = colon > target.lastIndexOf('/');
    await this.docker.getImage(source).tag({ repo: hasTag ? target.slice(0, colon) : target, tag: hasTag ? target.slice(colon + 1) : 'latest' });
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  async run(spec: ContainerSpec): Promise<string> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name: spec.name,
        Hostname: spec.name.slice(0, 63),
        Image: spec.image,
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        HostConfig: {
          Binds: [`${spec.volumeDir}:/data`],
          NetworkMode: spec.network,
          // Docker refuses a CPU limit above what the host has; the node's limit is capped.
          NanoCpus: Math.round(Math.min(spec.cpus, this.hostCpus) * 1e9),
          Memory: spec.memoryBytes,
          MemorySwap: spec.memoryBytes,
          Privileged: false,
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: 1024,
          RestartPolicy: { Name: 'no' },
        },
        NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases } } },
      });
    } catch (err) {
      throw new StartFailure(engineMessage(err), false);
    }
    try {
      await container.start();
    } catch (err) {
      throw new StartFailure(engineMessage(err), true);
    }
    return container.id;
  }

  async inspect(idOrName: string): Promise<ContainerState | null> {
    try {
      const info = await this.docker.getContainer(idOrName).inspect();
      const state = info.State;
      const never = (t: string | undefined) => (!t || t.startsWith('0001-01-01') ? null : t);
      return {
        id: info.Id,
        running: state.Running,
        exitCode: state.Status === 'created' && !state.Error ? null : state.ExitCode,
        oomKilled: state.OOMKilled,
        startedAt: never(state.StartedAt),
        finishedAt: state.Running ? null : never(state.FinishedAt),
        error: state.Error || null,
        labels: info.Config.Labels ?? {},
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      const status = statusOf(err);
      // 409: removal already in progress.
      if (status !== 404 && status !== 409) throw err;
    }
  }

  async listContainers(labelFilter: string[]): Promise<ManagedContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: labelFilter } });
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels, running: c.State === 'running' }));
  }

  async onContainerExit(labelFilter: string[], listener: (id: string) => void): Promise<() => void> {
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'], event: ['die'], label: labelFilter },
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        try {
          const event = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
          const id = event.id ?? event.Actor?.ID;
          if (id) listener(id);
        } catch {
          /* a partial or foreign line; the next status query re-reads the engine anyway */
        }
      }
    });
    stream.on('error', () => {});
    return () => stream.destroy?.();
  }

  async logs(id: string): Promise<{ stdout: string; stderr: string }> {
    const container = this.docker.getContainer(id);
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demux(raw);
  }
}

/** Splits Docker's multiplexed log format (8-byte frame headers) into stdout and stderr. */
function demux(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    const frame = raw.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(frame);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

async function followJson(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: Record<string, unknown>) => void,
): Promise<string | null> {
  return new Promise((resolve) => {
    let error: string | null = null;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => resolve(error ?? (err ? err.message : null)),
      (event: Record<string, unknown>) => {
        if (typeof event.error === 'string') error = event.error;
        else onEvent(event);
      },
    );
  });
}

function splitLines(text: string): string[] {
  return text
    .split(/(?<=\n)/)
    .filter((l) => l.length > 0)
    .map(lineOf);
}

/** Log lines end with a newline, as the real EM's log_tail entries do. */
function lineOf(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;
}

/** The engine's own words from a dockerode error. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  if (json?.message) return json.message;
  const reason = (err as { reason?: string }).reason;
  const message = (err as Error).message ?? String(err);
  return reason && !message.includes(reason) ? `${reason}: ${message}` : message;
}
