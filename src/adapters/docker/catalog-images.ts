import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { catalogTags, hasRegistryHost, repositoryOf, type CatalogEntry, type StandinKind } from '../../domain/catalog.ts';

/**
 * Makes the onboard catalog exist on the local engine: every entry tagged `NAME:TAG` and
 * `REGISTRY/NAME:TAG`. An image already there is left alone; a missing one is pulled when a
 * registry answers within a few seconds, else built offline as a stand-in (see environment.md):
 *
 * - busybox: Debian's busybox-static with its applet links and a minimal /etc, `CMD ["/bin/sh"]`;
 * - debian:  `mmdebstrap --variant=minbase bookworm`, `CMD ["bash"]`;
 * - python:  `mmdebstrap --variant=apt bookworm` with python3 (full standard library), wget and
 *            /usr/bin/python, `CMD ["python3"]`.
 *
 * Each kind is built at most once per call (all python entries share one image) and labelled
 * `em-sim.standin=true`, `em-sim.standin.kind=KIND`; a stand-in of the same kind and recipe
 * already on the engine is reused rather than rebuilt.
 */

export const STANDIN_LABEL = 'em-sim.standin';
export const STANDIN_KIND_LABEL = 'em-sim.standin.kind';
export const STANDIN_RECIPE_LABEL = 'em-sim.standin.recipe';
/** Bump when a recipe below changes, so that older stand-ins are not reused for new entries. */
export const STANDIN_RECIPE = '1';

export type CatalogImageStatus = 'present' | 'pulled' | 'standin-built' | 'failed';

export interface CatalogImageReport {
  ref: string;
  /** The local tags the entry lives under. */
  tags: string[];
  standin: StandinKind;
  status: CatalogImageStatus;
  /** For `failed`, the reason; otherwise extra facts worth showing (a tag added, a stand-in reused). */
  detail?: string;
}

export interface CatalogProgress {
  message: string;
  ref?: string;
  kind?: StandinKind;
}

export interface EnsureCatalogOptions {
  onProgress?: (progress: CatalogProgress) => void;
  /** How long a registry has to start answering a pull before we give up on it (default 5000 ms). */
  pullTimeoutMs?: number;
  /** Set false to go straight to stand-ins (default true). */
  pull?: boolean;
}

const DEFAULT_PULL_TIMEOUT_MS = 5000;
/** Once a registry has answered, a pull may take this long in all. */
const PULL_TOTAL_TIMEOUT_MS = 10 * 60_000;
const STANDIN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEBIAN_SUITE = 'bookworm';

/** The tags of the catalog that do not exist on the engine, in catalog order. */
export async function missingCatalogImages(docker: Docker, entries: readonly CatalogEntry[], registry: string): Promise<string[]> {
  const missing: string[] = [];
  for (const entry of entries) {
    for (const tag of catalogTags(entry, registry)) {
      if (!(await imageExists(docker, tag))) missing.push(tag);
    }
  }
  return missing;
}

export async function ensureCatalogImages(
  docker: Docker,
  entries: readonly CatalogEntry[],
  registry: string,
  options: EnsureCatalogOptions = {},
): Promise<CatalogImageReport[]> {
  const progress = options.onProgress ?? (() => {});
  const pullTimeoutMs = options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  const reports = new Map<string, CatalogImageReport>();
  const needStandin = new Map<Exclude<StandinKind, 'none'>, CatalogEntry[]>();
  /** Registries that could not be reached: no use asking them again for the next entry. */
  const silentRegistries = new Map<string, string>();

  /** Settles an entry that is present or can be pulled; else names the stand-in it needs (none when it failed). */
  async function presentOrPulled(entry: CatalogEntry, report: CatalogImageReport): Promise<Exclude<StandinKind, 'none'> | undefined> {
    const tags = report.tags;
    const present = await presentTags(docker, tags);
    if (present.length > 0) {
      const added = tags.filter((tag) => !present.includes(tag));
      for (const tag of added) await tagImage(docker, present[0]!, tag);
      report.status = 'present';
      if (added.length) report.detail = `added tag ${added.join(', ')}`;
      progress({ ref: entry.ref, message: `${entry.ref}: present${added.length ? ` (${report.detail})` : ''}` });
      return undefined;
    }

    let pullFailure = 'pulling is switched off';
    if (options.pull !== false) {
      const source = registryHost(entry.ref);
      const earlier = silentRegistries.get(source);
      if (earlier) {
        pullFailure = earlier;
      } else {
        progress({ ref: entry.ref, message: `${entry.ref}: not on the engine; pulling (registry ${source})` });
        const result = await tryPull(docker, entry.ref, pullTimeoutMs);
        if (result.ok) {
          for (const tag of tags) if (tag !== entry.ref) await tagImage(docker, entry.ref, tag);
          report.status = 'pulled';
          progress({ ref: entry.ref, message: `${entry.ref}: pulled` });
          return undefined;
        }
        pullFailure = result.reason;
        if (result.unreachable) silentRegistries.set(source, `registry ${source} unreachable: ${result.reason}`);
      }
    }

    if (entry.standin === 'none') {
      report.detail =
        `cannot be pulled (${pullFailure}) and has no stand-in (standin: none): ` +
        'load it with `docker load` from a machine that reaches a registry, or give it a stand-in in images.catalog';
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
      return undefined;
    }
    if (entry.ref.includes('@')) {
      report.detail = `cannot be pulled (${pullFailure}), and a digest reference cannot be stood in for: name it by tag, or load it with \`docker load\``;
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
      return undefined;
    }
    progress({ ref: entry.ref, kind: entry.standin, message: `${entry.ref}: cannot be pulled (${pullFailure}); a ${entry.standin} stand-in will do` });
    return entry.standin;
  }

  for (const entry of entries) {
    const tags = catalogTags(entry, registry);
    const report: CatalogImageReport = { ref: entry.ref, tags, standin: entry.standin, status: 'failed' };
    reports.set(entry.ref, report);
    try {
      const standin = await presentOrPulled(entry, report);
      if (standin) {
        const list = needStandin.get(standin) ?? [];
        list.push(entry);
        needStandin.set(standin, list);
      }
    } catch (err) {
      // One bad entry (an invalid reference, say) must not stop the others.
      report.status = 'failed';
      report.detail = oneLine((err as { json?: { message?: string } }).json?.message ?? (err as Error).message);
      progress({ ref: entry.ref, message: `${entry.ref}: FAILED: ${report.detail}` });
    }
  }

  // Kinds are independent, so they build side by side.
  await Promise.all(
    [...needStandin].map(async ([kind, kindEntries]) => {
      let detail: string | undefined;
      try {
        const existing = await existingStandin(docker, kind);
        const tags = kindEntries.flatMap((entry) => reports.get(entry.ref)!.tags);
        if (existing) {
          detail = `reused the ${kind} stand-in ${shortId(existing)}`;
          progress({ kind, message: `${kind} stand-in: reusing ${shortId(existing)}, already on the engine` });
          for (const tag of tags) await tagImage(docker, existing, tag);
        } else {
          await buildStandin(docker, kind, tags, (message) => progress({ kind, message: `${kind} stand-in: ${message}` }));
        }
        for (const entry of kindEntries) {
          const report = reports.get(entry.ref)!;
          report.status = 'standin-built';
          report.detail = detail;
          progress({ ref: entry.ref, kind, message: `${entry.ref}: ${kind} stand-in tagged ${report.tags.join(', ')}` });
        }
      } catch (err) {
        const reason = `building the ${kind} stand-in failed: ${(err as Error).message}`;
        for (const entry of kindEntries) {
          const report = reports.get(entry.ref)!;
          report.status = 'failed';
          report.detail = reason;
        }
        progress({ kind, message: `${kind} stand-in: FAILED: ${(err as Error).message}` });
      }
    }),
  );

  return entries.map((entry) => reports.get(entry.ref)!);
}

/** A report in words, for people: "present", "stand-in built (python)", "failed: ...". */
export function describeReport(report: CatalogImageReport): string {
  const words: Record<CatalogImageStatus, string> = {
    present: 'present',
    pulled: 'pulled',
    'standin-built': `stand-in built (${report.standin})`,
    failed: 'failed',
  };
  const text = words[report.status];
  if (!report.detail) return text;
  return report.status === 'failed' ? `${text}: ${report.detail}` : `${text}; ${report.detail}`;
}

// ---------------------------------------------------------------------------------------------
// Engine helpers

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function presentTags(docker: Docker, tags: string[]): Promise<string[]> {
  const present: string[] = [];
  for (const tag of tags) if (await imageExists(docker, tag)) present.push(tag);
  return present;
}

/** Splits `host:5000/name:tag` into repo and tag for the engine's tag call. */
function splitTag(ref: string): { repo: string; tag: string } {
  const repo = repositoryOf(ref);
  return { repo, tag: ref.length > repo.length ? ref.slice(repo.length + 1) : 'latest' };
}

async function tagImage(docker: Docker, source: string, target: string): Promise<void> {
  await docker.getImage(source).tag(splitTag(target));
}

/** The registry a pull of `ref` goes to, for messages and to stop asking one that is silent. */
function registryHost(ref: string): string {
  return hasRegistryHost(ref) ? ref.slice(0, ref.indexOf('/')) : 'docker.io';
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

interface ProgressEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads an engine's JSON-lines progress stream to its end; an `error` event becomes a rejection. */
function readProgress(docker: Docker, stream: NodeJS.ReadableStream, onEvent?: (event: ProgressEvent) => void): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: ProgressEvent[]) => {
        if (err) return reject(err);
        const failed = events.find((e) => e.error || e.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'the engine reported an error'));
        resolve(events);
      },
      onEvent,
    );
  });
}

/** `unreachable`: the registry cannot be reached at all, so asking it for the next image is pointless. */
type PullResult = { ok: true } | { ok: false; reason: string; unreachable: boolean };

const UNREACHABLE = /dial tcp|no such host|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|Client\.Timeout/i;

/**
 * Pulls `ref`, giving the registry `timeoutMs` to start answering: no registry is reachable on
 * the machines this usually runs on, and a pull must then fail in seconds, not minutes.
 */
async function tryPull(docker: Docker, ref: string, timeoutMs: number): Promise<PullResult> {
  const abort = new AbortController();
  let timedOut = false;
  const quiet = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const total = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, PULL_TOTAL_TIMEOUT_MS);
  try {
    const stream = await docker.pull(ref, { abortSignal: abort.signal });
    await readProgress(docker, stream, (event) => {
      // The registry answered: from here on only the overall limit applies.
      if (!event.error) clearTimeout(quiet);
    });
    if (!(await imageExists(docker, ref))) return { ok: false, reason: 'the pull ended without the image', unreachable: false };
    return { ok: true };
  } catch (err) {
    if (timedOut) return { ok: false, reason: `the registry did not answer within ${Math.round(timeoutMs / 100) / 10} s`, unreachable: true };
    const reason = oneLine((err as { json?: { message?: string } }).json?.message ?? (err as Error).message);
    return { ok: false, reason, unreachable: UNREACHABLE.test(reason) };
  } finally {
    clearTimeout(quiet);
    clearTimeout(total);
  }
}

function oneLine(text: string): string {
  return text.replace(/^\(HTTP code \d+\)[^-]*- /, '').replace(/\s+/g, ' ').trim();
}

async function existingStandin(docker: Docker, kind: StandinKind): Promise<string | undefined> {
  const images = await docker.listImages({
    filters: { label: [`${STANDIN_KIND_LABEL}=${kind}`, `${STANDIN_RECIPE_LABEL}=${STANDIN_RECIPE}`] },
  });
  images.sort((a, b) => b.Created - a.Created);
  return images[0]?.Id;
}

// ---------------------------------------------------------------------------------------------
// Stand-in recipes

interface Recipe {
  /** Dockerfile instructions for `docker import --change`. */
  changes: string[];
  /** Starts a process whose stdout is the root filesystem as a tar stream. */
  produce(onStep: (message: string) => void): Promise<Producer>;
}

interface Producer {
  tar: Readable;
  /** Resolves when the producer exited cleanly; rejects with the tail of its output otherwise. */
  done: Promise<void>;
  stop(): void;
  cleanup(): Promise<void>;
}

const SLIM_DPKG_OPTIONS = [
  // What Debian's own slim images leave out.
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/locale/*',
].map((opt) => `--dpkgopt=${opt}`);

const labels = (kind: StandinKind) =>
  `LABEL ${STANDIN_LABEL}=true ${STANDIN_KIND_LABEL}=${kind} ${STANDIN_RECIPE_LABEL}=${STANDIN_RECIPE}`;

const RECIPES: Record<Exclude<StandinKind, 'none'>, Recipe> = {
  busybox: {
    changes: [`ENV ${STANDIN_PATH}`, 'CMD ["/bin/sh"]', labels('busybox')],
    produce: busyboxRootfs,
  },
  debian: {
    changes: [`ENV ${STANDIN_PATH}`, 'CMD ["bash"]', labels('debian')],
    produce: (onStep) => mmdebstrap(['--variant=minbase'], onStep),
  },
  python: {
    changes: [`ENV ${STANDIN_PATH}`, 'ENV LANG=C.UTF-8', 'CMD ["python3"]', labels('python')],
    // python3 (not python3-minimal) brings the whole standard library: http.server, json, ...
    produce: (onStep) => mmdebstrap(['--variant=apt', '--include=python3,python-is-python3,wget'], onStep),
  },
};

/**
 * Builds one stand-in image under a temporary tag and, once it is complete, gives it `tags`; so a
 * failed build never leaves a catalog tag on a half-made image. Returns the image id.
 */
async function buildStandin(
  docker: Docker,
  kind: Exclude<StandinKind, 'none'>,
  tags: string[],
  onStep: (message: string) => void,
): Promise<string> {
  const recipe = RECIPES[kind];
  const started = Date.now();
  const producer = await recipe.produce(onStep);
  const buildTag = `em-sim-standin-build/${kind}:${process.pid}-${started}`;
  const { repo, tag } = splitTag(buildTag);
  try {
    const imported = docker
      .importImage(producer.tar, { repo, tag, changes: recipe.changes })
      .then((stream) => readProgress(docker, stream));
    const [imports, produced] = await Promise.allSettled([imported, producer.done]);
    if (produced.status === 'rejected') throw produced.reason;
    if (imports.status === 'rejected') throw new Error(`docker import: ${(imports.reason as Error).message}`);
    const image = await docker.getImage(buildTag).inspect();
    onStep(`imported as ${shortId(image.Id)} (${Math.round(image.Size / 1e6)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const target of tags) await tagImage(docker, image.Id, target);
    return image.Id;
  } catch (err) {
    producer.stop();
    throw err;
  } finally {
    // Untag: the image stays under its catalog tags, and a half-made one goes away.
    await docker
      .getImage(buildTag)
      .remove()
      .catch(() => {});
    await producer.cleanup();
  }
}

/** Runs a command whose stdout is a tar stream; forwards chosen stderr lines, keeps a tail for errors. */
function runProducer(command: string, args: string[], onLine: (line: string) => void, cleanup: () => Promise<void>): Producer {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trimEnd();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLine(line);
    }
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      if (pending.trim()) tail.push(pending.trim());
      const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      reject(new Error(`${command} ${how}${tail.length ? `; its last lines:\n${tail.join('\n')}` : ''}`));
    });
  });
  done.catch(() => {}); // observed by buildStandin; never an unhandled rejection
  return {
    tar: child.stdout,
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    cleanup,
  };
}

function findExecutable(name: string, candidates: string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const file of [...candidates, ...dirs.map((dir) => path.join(dir, name))]) {
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function missingTool(tool: string, pkg: string): Error {
  return new Error(`${tool} is not installed: apt-get install ${pkg} (bash scripts/ensure-docker.sh installs it as root on Debian)`);
}

async function mmdebstrap(extra: string[], onStep: (message: string) => void): Promise<Producer> {
  const tool = findExecutable('mmdebstrap');
  if (!tool) throw missingTool('mmdebstrap', 'mmdebstrap');
  const include = extra.find((a) => a.startsWith('--include='))?.slice('--include='.length);
  onStep(`mmdebstrap ${DEBIAN_SUITE}${include ? ` + ${include.split(',').join(', ')}` : ''} (about 20 s, needs Debian's mirror)`);
  // stdin is /dev/null, so mmdebstrap uses its default mirrors (deb.debian.org, updates, security).
  return runProducer(
    tool,
    [...extra, ...SLIM_DPKG_OPTIONS, DEBIAN_SUITE, '-'],
    (line) => {
      if (/^I: (using|automatically|chroot architecture|finding correct|removing tempdir|done)/.test(line)) return;
      if (/^[IWE]: /.test(line)) onStep(line.slice(3));
    },
    async () => {},
  );
}

/** True when an ELF file asks for no dynamic loader, i.e. runs in an empty image. */
async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false; // 64-bit little-endian only
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    await handle.close();
  }
}

async function busyboxRootfs(onStep: (message: string) => void): Promise<Producer> {
  const busybox = findExecutable('busybox', ['/bin/busybox', '/usr/bin/busybox']);
  if (!busybox) throw missingTool('busybox (static)', 'busybox-static');
  if (!(await isStaticElf(busybox))) {
    throw new Error(`${busybox} is dynamically linked and cannot run in an empty image: apt-get install busybox-static`);
  }
  const tarTool = findExecutable('tar');
  if (!tarTool) throw missingTool('tar', 'tar');
  const applets = await listApplets(busybox);
  onStep(`${busybox} with ${applets.length} applet links`);

  const root = await mkdtemp(path.join(tmpdir(), 'em-sim-busybox-'));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    // Modes are set explicitly: the tree must not depend on the caller's umask.
    const dirs = new Set(['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'etc', 'home', 'var', 'dev', 'proc', 'sys']);
    for (const applet of applets) dirs.add(path.dirname(applet));
    for (const dir of dirs) await mkdir(path.join(root, dir), { recursive: true });
    for (const dir of [...dirs, 'usr', 'usr/local']) await chmod(path.join(root, dir), 0o755);
    for (const [dir, mode] of [
      ['.', 0o755],
      ['root', 0o700],
      ['tmp', 0o1777],
      ['var/tmp', 0o1777],
    ] as const) {
      await mkdir(path.join(root, dir), { recursive: true });
      await chmod(path.join(root, dir), mode);
    }
    const put = async (file: string, content: string | null, mode: number) => {
      const full = path.join(root, file);
      if (content === null) await copyFile(busybox, full);
      else await writeFile(full, content);
      await chmod(full, mode);
    };
    await put('bin/busybox', null, 0o755);
    for (const applet of applets) {
      if (applet === 'bin/busybox') continue;
      await symlink('/bin/busybox', path.join(root, applet)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    // hosts, hostname and resolv.conf are mounted by the engine.
    await put('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n', 0o644);
    await put('etc/group', 'root:x:0:\nnogroup:x:65534:\n', 0o644);
    await put('etc/os-release', 'NAME="BusyBox (em-sim stand-in)"\nID=busybox\nPRETTY_NAME="BusyBox stand-in built by em-sim"\n', 0o644);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return runProducer(tarTool, ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-c', '.'], () => {}, cleanup);
}

function listApplets(busybox: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(busybox, ['--list-full'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const applets = out.split('\n').map((l) => l.trim()).filter(Boolean);
      if (code !== 0 || applets.length === 0) return reject(new Error(`${busybox} --list-full gave no applets (exit ${code})`));
      resolve(applets);
    });
  });
}
