import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimConfig } from '../config/schema.ts';
import { arm64EmulationState, BINFMT_DIR, engineTools, simulatorPlatform, simulatorState, type EngineTools } from '../simulator.ts';
import { emSimAt } from './running.ts';

/**
 * `em-sim doctor`: is this machine ready to run the simulator? Each check says what it found
 * and, when it fails, how to fix it. Only the engine and the catalog images are required: the
 * file endpoints work without them, but nothing that runs a pod does.
 */

export interface Check {
  name: string;
  ok: boolean;
  /** A failing required check makes doctor exit 1; a failing optional one is a warning. */
  required: boolean;
  detail: string;
  fix?: string;
}

/** What doctor checks against, for tests and the command's flags. */
export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  /** The configuration file, to repeat in the advice (`em-sim images --config FILE`). */
  configSource?: string | null;
  binfmtDir?: string;
  /** Below this much free space in the data directory's filesystem, warn. */
  minFreeBytes?: number;
  engineTimeoutMs?: number;
}

/** Below this much free space in the data directory's filesystem, doctor warns (5 GiB). */
export const MIN_FREE_BYTES = 5 * 1024 ** 3;
const ENSURE_DOCKER = shortPath(fileURLToPath(new URL('../../scripts/ensure-docker.sh', import.meta.url)));

/** Relative to the working directory when inside it, else absolute. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Every check, in the order printed: engine, catalog images, arm64 emulation, onboard services, port, disk. */
export async function runDoctor(config: SimConfig, options: DoctorOptions = {}): Promise<Check[]> {
  const env = options.env ?? process.env;
  const checks: Check[] = [];
  const engine = await checkEngine(config, env, options.engineTimeoutMs ?? 3000);
  checks.push(engine.check);
  checks.push(await checkImages(config, engine.tools, options.configSource ?? null));
  checks.push(checkPlatform(config, options.binfmtDir ?? BINFMT_DIR, env));
  checks.push(await checkServices(config, engine.tools));
  checks.push(await checkOtherInstances(config, engine.tools));
  checks.push(await checkPort(config.server.host, config.server.port));
  checks.push(checkDisk(config.data_dir, options.minFreeBytes ?? MIN_FREE_BYTES, config.limits.uplink_max_bytes));
  return checks;
}

/** "✓ name: detail", or "✗"/"!" and an indented "fix:" line. */
export function formatCheck(check: Check): string {
  const mark = check.ok ? '✓' : check.required ? '✗' : '!';
  const line = `${mark} ${check.name}: ${check.detail}`;
  return check.ok || !check.fix ? line : `${line}\n    fix: ${check.fix}`;
}

/** The exit code (1 when a required check failed) and the closing line. */
export function summarize(checks: Check[]): { exitCode: 0 | 1; line: string } {
  const failed = checks.filter((c) => !c.ok && c.required).length;
  const warned = checks.filter((c) => !c.ok && !c.required).length;
  const warnings = warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : '';
  if (failed) return { exitCode: 1, line: `em-sim doctor: ${failed} required check${failed > 1 ? 's' : ''} failed${warnings}; fix ${failed > 1 ? 'them' : 'it'} and run doctor again` };
  return { exitCode: 0, line: `em-sim doctor: ready${warnings}` };
}

// ---- the checks ----

async function checkEngine(config: SimConfig, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ check: Check; tools: EngineTools | null }> {
  const name = 'Docker engine';
  const viaEnv = Boolean(env.DOCKER_HOST?.trim());
  let tools: EngineTools;
  try {
    tools = engineTools(config, { env });
  } catch (err) {
    return { tools: null, check: { name, ok: false, required: true, detail: (err as Error).message, fix: 'set DOCKER_HOST to unix:///path/to/docker.sock or tcp://HOST:PORT, or unset it' } };
  }
  const where = tools.describe();
  const problem = await tools.ping(timeoutMs);
  if (problem === null) {
    // It answered the ping: the version is only decoration.
    const version = await tools.version();
    return { tools, check: { name, ok: true, required: true, detail: `Docker${version ? ` ${version}` : ''} answers at ${where}` } };
  }
  const start = `start dockerd (\`setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &\`), or as root on Debian run \`bash ${ENSURE_DOCKER}\`, which installs docker.io and starts it`;
  let fix: string;
  if (problem === 'EACCES') fix = 'run as root, or join the docker group (`usermod -aG docker $USER`, then log in again)';
  else if (viaEnv) fix = `start the engine that DOCKER_HOST names, or unset DOCKER_HOST to use ${tools.defaultSocket}: ${start}`;
  else fix = `${start}; or set DOCKER_HOST to an engine that runs`;
  const why = problem === 'EACCES' ? 'permission denied' : problem === 'ENOENT' ? 'no socket there' : problem === 'TIMEOUT' ? `no answer within ${timeoutMs} ms` : problem;
  return { tools: null, check: { name, ok: false, required: true, detail: `no Docker engine answers at ${where}: ${why}`, fix } };
}

async function checkImages(config: SimConfig, tools: EngineTools | null, configSource: string | null): Promise<Check> {
  const name = 'catalog images';
  const command = `npx em-sim images${configSource ? ` --config ${configSource}` : ''}`;
  if (!tools) {
    return { name, ok: false, required: true, detail: 'not checked: no Docker engine', fix: `start the engine first, then run \`${command}\`` };
  }
  let rows;
  try {
    rows = await tools.catalog.list();
  } catch (err) {
    return { name, ok: false, required: true, detail: `the engine did not list its images: ${(err as Error).message}`, fix: 'check the engine (`docker images`)' };
  }
  const by = (state: string) => rows.filter((r) => r.state === state).length;
  const counts =
    `${rows.length} onboard images for linux/${tools.platform.architecture}: ${by('present')} present, ${by('standin')} stand-ins, ` +
    `${by('missing')} made on first use, ${by('unavailable')} unavailable here`;
  const unready = config.images.prepare.filter((ref) => {
    const row = rows.find((r) => r.entry.ref === tools.catalog.find(ref)?.ref);
    return row && row.state !== 'present' && row.state !== 'standin';
  });
  if (!unready.length) return { name, ok: true, required: false, detail: counts };
  return {
    name,
    ok: false,
    required: false,
    detail: `${counts}; not yet prepared from images.prepare: ${unready.join(', ')} (the first pod or build using one waits for it)`,
    fix: `run \`${command}\` to prepare them now (\`${command} --list\` shows every image)`,
  };
}

function checkPlatform(config: SimConfig, binfmtDir: string, env: NodeJS.ProcessEnv): Check {
  const name = 'platform';
  const install = 'apt-get install qemu-user-static binfmt-support, then update-binfmts --enable qemu-aarch64 (as root; npm test does it)';
  const remote = env.DOCKER_HOST?.trim().startsWith('tcp://') ? ' (emulation checked on this machine; a remote engine needs it on its own host)' : '';
  const emulation = arm64EmulationState(binfmtDir);
  const why =
    emulation === 'enabled'
      ? 'qemu-aarch64 is registered and enabled'
      : emulation === 'disabled'
        ? 'qemu-aarch64 is registered but disabled'
        : emulation === 'unregistered'
          ? 'qemu-aarch64 is not registered with binfmt_misc'
          : `${binfmtDir} is not mounted (mount -t binfmt_misc binfmt_misc ${binfmtDir})`;
  let platform;
  try {
    platform = simulatorPlatform(config, binfmtDir);
  } catch (err) {
    return { name, ok: false, required: true, detail: `${(err as Error).message}${remote}`, fix: install };
  }
  if (platform.mode === 'arm64') {
    return { name, ok: true, required: false, detail: `arm64 mode (platform.architecture: ${config.platform.architecture}): pods and builds run as linux/arm64 like CG2; ${why}${remote}` };
  }
  if (config.platform.architecture === 'native') {
    return { name, ok: true, required: false, detail: `native mode (platform.architecture: native): pods run as linux/${platform.architecture}; images that would not run onboard carry a warning` };
  }
  return {
    name,
    ok: false,
    required: false,
    detail: `native mode, because arm64 cannot run here (${why})${remote}: an image built for linux/${platform.architecture} runs here but would fail on CG2's arm64 nodes`,
    fix: install,
  };
}

/**
 * Other simulators' things on this engine (another data directory's, or a stopped one's): they
 * do not disturb this simulator, but a stopped one's pile up. Offered for removal.
 */
async function checkOtherInstances(config: SimConfig, tools: EngineTools | null): Promise<Check> {
  const name = 'other simulators';
  if (!tools) return { name, ok: true, required: false, detail: 'not checked: no Docker engine' };
  const mine = simulatorState(config).instanceId;
  let all;
  try {
    all = await tools.instances();
  } catch (err) {
    return { name, ok: false, required: false, detail: `the engine did not list its containers: ${(err as Error).message}` };
  }
  const others = all.filter((t) => t.instance !== mine);
  if (!others.length) return { name, ok: true, required: false, detail: 'nothing of any other em-sim on this engine' };
  const describe = (t: (typeof others)[number]) => {
    const running = t.containers.filter((c) => c.running).length;
    const parts = [
      t.containers.length && `${t.containers.length} container${t.containers.length > 1 ? 's' : ''}${running ? ` (${running} running)` : ''}`,
      t.networks.length && `${t.networks.length} network${t.networks.length > 1 ? 's' : ''}`,
      t.images.length && `${t.images.length} image${t.images.length > 1 ? 's' : ''}`,
    ].filter(Boolean);
    return `${t.instance || 'an em-sim from before instances'}: ${parts.join(', ')}`;
  };
  return {
    name,
    ok: false,
    required: false,
    detail: `${others.length} other em-sim instance${others.length > 1 ? 's have' : ' has'} things on this engine (they do not disturb this one): ${others.map(describe).join('; ')}`,
    fix: 'if those simulators are stopped for good: `npx em-sim reset --all-instances` (asks first; removes this one\'s state too), or remove them with docker rm / docker network rm / docker rmi',
  };
}

/** The onboard services: which are on, whether relays can be made, whether the camera folder exists. */
async function checkServices(config: SimConfig, tools: EngineTools | null): Promise<Check> {
  const name = 'onboard services';
  const s = config.services;
  const on = (['telemetry', 'ollama', 'liquidai'] as const).filter((service) => s[service].enabled);
  if (!on.length) return { name, ok: true, required: false, detail: 'every service is turned off (services.*.enabled)' };
  const detail = `${on.join(', ')} on`;
  const folder = s.telemetry.images_dir;
  if (s.telemetry.enabled && folder && !existsSync(folder)) {
    return { name, ok: false, required: false, detail: `${detail}; services.telemetry.images_dir ${folder} does not exist (the camera serves only the provider's frame)`, fix: `mkdir -p ${folder} and put *.png frames in it, or remove the key` };
  }
  if (!tools) return { name, ok: false, required: false, detail: `${detail}; pods cannot reach them without a Docker engine`, fix: 'start the engine (see above)' };
  const problem = await tools.servicesProblem();
  if (problem) return { name, ok: false, required: false, detail: `${detail}; pods cannot reach them: ${problem}`, fix: problem.includes('apt-get') ? problem.slice(problem.indexOf('apt-get')) : 'check the engine' };
  return { name, ok: true, required: false, detail: `${detail}; pods reach them by name on port 80 through a relay on their network` };
}

async function checkPort(host: string, port: number): Promise<Check> {
  const name = 'port';
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (port === 0) return { name, ok: true, required: false, detail: 'server.port is 0: a free port is picked at start' };
  const problem = await new Promise<string | null>((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (problem === null) return { name, ok: true, required: false, detail: `${address} is free` };
  const other = 'pick another with `em-sim start --port N` or server.port in the configuration';
  if (problem === 'EADDRINUSE') {
    const sim = await emSimAt(host, port);
    if (sim) return { name, ok: false, required: false, detail: `${address} is in use by em-sim ${sim} (already running)`, fix: `stop it before starting another, or ${other}` };
    return { name, ok: false, required: false, detail: `${address} is in use by another program`, fix: `stop that program, or ${other}` };
  }
  if (problem === 'EACCES') return { name, ok: false, required: false, detail: `${address}: ports below 1024 need root`, fix: other };
  if (problem === 'EADDRNOTAVAIL' || problem === 'ENOTFOUND') {
    return { name, ok: false, required: false, detail: `${host} is not an address of this machine`, fix: 'set server.host (or --host) to 127.0.0.1, 0.0.0.0 or an address this machine has' };
  }
  return { name, ok: false, required: false, detail: `cannot listen on ${address}: ${problem}`, fix: other };
}

function checkDisk(dataDir: string, minFree: number, uplinkMax: number): Check {
  const name = 'disk space';
  // The data directory is made at first start; until then, its filesystem is its parent's.
  let dir = dataDir;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  let free: number;
  try {
    const stats = statfsSync(dir);
    free = stats.bavail * stats.bsize;
  } catch (err) {
    return { name, ok: false, required: false, detail: `cannot read the free space of ${dir}: ${(err as Error).message}` };
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return {
      name,
      ok: false,
      required: false,
      detail: `${dir} is not writable${dir === dataDir ? '' : ` (the data directory ${dataDir} would be made there)`}`,
      fix: 'run as a user who may write there, or set data_dir (or --data-dir) elsewhere',
    };
  }
  const detail = `${gib(free)} free in the filesystem of ${dataDir}`;
  if (free >= minFree) return { name, ok: true, required: false, detail };
  return {
    name,
    ok: false,
    required: false,
    detail: `only ${detail}; uploads are staged there and may be up to ${gib(uplinkMax)} each`,
    fix: `free some space (at least ${gib(minFree)} is comfortable), or set data_dir (or --data-dir) on a larger filesystem`,
  };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
