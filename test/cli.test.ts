import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../src/adapters/docker/engine.ts';
import { runDoctor } from '../src/cli/doctor.ts';
import { engineTools } from '../src/simulator.ts';
import { buildConfig } from '../src/config/load.ts';
import type { SimConfigInput } from '../src/config/schema.ts';
import { spawnSim } from './helpers/child-sim.ts';
import { form, PASSWORD, startSim, tempDir as newTempDir, uniqueName } from './helpers/sim.ts';

const BIN = fileURLToPath(new URL('../bin/em-sim.js', import.meta.url));

const made: string[] = [];
const tempDir = (prefix?: string) => {
  const dir = newTempDir(prefix);
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/em-sim.js ARGS` with stdin not a terminal, as CI does. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A configuration file in a fresh directory; data_dir is DIR/data. */
function configFile(config: SimConfigInput & { users: { username: string; password: string }[] }): { file: string; dataDir: string } {
  const dir = tempDir('em-sim-cli-');
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'sim-config.yaml');
  writeFileSync(file, stringify({ server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, data_dir: dataDir, ...config }));
  return { file, dataDir };
}

const expectOneLine = (run: Run) => {
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
};

describe('em-sim doctor', () => {
  it('with the real engine: ✓ engine, the catalog counted and the platform mode, exit 0; an unprepared images.prepare entry is a warning with the command that makes it', async () => {
    const only = { provider_catalog: false, catalog: ['alpine:latest'], prepare: ['alpine:latest'] };
    const ok = configFile({ users: [{ username: 'client1', password: PASSWORD }], images: only });
    const run = await cli(['doctor', '--config', ok.file]);
    expect(run.stdout).toMatch(/^✓ Docker engine: Docker .* answers at /m);
    expect(run.stdout).toMatch(/^✓ catalog images: 1 onboard images for linux\/arm64: 0 present, 1 stand-ins, 0 made on first use, 0 unavailable here$/m);
    expect(run.stdout).toMatch(/^✓ platform: arm64 mode \(platform\.architecture: auto\): pods and builds run as linux\/arm64 like CG2; qemu-aarch64 is registered and enabled$/m);
    expect(run.stdout).toMatch(/^✓ port: server\.port is 0/m);
    expect(run.stdout).toMatch(/^[✓!] disk space: [\d.]+ GiB free/m);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const missing = configFile({
      users: [{ username: 'client1', password: PASSWORD }],
      images: { provider_catalog: false, catalog: ['alpine:latest', { image: 'emsimdoctor-absent:never', standin: 'busybox' }], prepare: ['emsimdoctor-absent:never'] },
    });
    const warned = await cli(['doctor', '--config', missing.file]);
    expect(warned.stdout).toMatch(/^! catalog images: 2 onboard images for linux\/arm64: 0 present, 1 stand-ins, 1 made on first use, 0 unavailable here; not yet prepared from images\.prepare: emsimdoctor-absent:never/m);
    expect(warned.stdout).toContain(`fix: run \`npx em-sim images --config ${missing.file}\``);
    expect(warned.code).toBe(0);
  });

  it('with DOCKER_HOST at a socket that does not exist: ✗ engine, how to start one, exit 1', async () => {
    const { file } = configFile({ users: [{ username: 'client1', password: PASSWORD }] });
    const run = await cli(['doctor', '--config', file], { DOCKER_HOST: 'unix:///nonexistent.sock' });
    expect(run.stdout).toMatch(/^✗ Docker engine: no Docker engine answers at unix:\/\/\/nonexistent\.sock/m);
    expect(run.stdout).toMatch(/fix: .*dockerd.*ensure-docker\.sh/);
    expect(run.stdout).toMatch(/^✗ catalog images: not checked/m);
    expect(run.stdout).toMatch(/required checks failed/);
    expect(run.code).toBe(1);
  });

  it('a port in use is a warning naming it, not a failure', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const { file } = configFile({ users: [{ username: 'client1', password: PASSWORD }], images: { provider_catalog: false, catalog: ['alpine:latest'] }, server: { host: '127.0.0.1', port } });
      const run = await cli(['doctor', '--config', file]);
      expect(run.stdout).toContain(`! port: 127.0.0.1:${port} is in use by another program`);
      expect(run.stdout).toMatch(/fix: stop that program, or pick another with `em-sim start --port N`/);
      expect(run.code).toBe(0);
    } finally {
      blocker.close();
    }
  });

  it('warns about little disk space and reads the platform from binfmt_misc', async () => {
    const binfmt = tempDir('em-sim-binfmt-');
    writeFileSync(path.join(binfmt, 'qemu-aarch64'), 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n');
    const config = buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), server: { port: 0 } });
    const checks = await runDoctor(config, { binfmtDir: binfmt, minFreeBytes: Number.MAX_SAFE_INTEGER });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['disk space']).toMatchObject({ ok: false, required: false, detail: expect.stringMatching(/^only [\d.]+ GiB free .* up to 2\.0 GiB each$/) });
    expect(byName['platform']).toMatchObject({ ok: true, detail: expect.stringMatching(/^arm64 mode/) });

    writeFileSync(path.join(binfmt, 'qemu-aarch64'), 'disabled\n');
    const off = await runDoctor(config, { binfmtDir: binfmt });
    expect(off.find((c) => c.name === 'platform')).toMatchObject({
      ok: false,
      required: false,
      detail: expect.stringMatching(/^native mode, because arm64 cannot run here \(qemu-aarch64 is registered but disabled\)/),
    });
    const none = await runDoctor(config, { binfmtDir: tempDir('em-sim-binfmt-') });
    expect(none.find((c) => c.name === 'platform')).toMatchObject({ ok: false, required: false, fix: expect.stringContaining('apt-get install qemu-user-static binfmt-support') });
    // Asked for arm64 where it cannot run: a required check that fails, saying what to install.
    const forced = await runDoctor(buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), platform: { architecture: 'arm64' } }), { binfmtDir: tempDir('em-sim-binfmt-') });
    expect(forced.find((c) => c.name === 'platform')).toMatchObject({ ok: false, required: true, detail: expect.stringContaining('set platform.architecture: native') });
    const native = await runDoctor(buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), platform: { architecture: 'native' } }), { binfmtDir: binfmt });
    expect(native.find((c) => c.name === 'platform')).toMatchObject({ ok: true, detail: expect.stringMatching(/^native mode \(platform\.architecture: native\)/) });
  });
});

describe('em-sim doctor: the onboard services', () => {
  it('says which services are on and that pods reach them; a missing camera folder is a warning with the fix', async () => {
    const config = buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), server: { port: 0 } });
    const services = (await runDoctor(config)).find((c) => c.name === 'onboard services');
    expect(services).toMatchObject({ ok: true, detail: 'telemetry, ollama, liquidai on; pods reach them by name on port 80 through a relay on their network' });
    const folder = path.join(tempDir(), 'frames');
    const missing = buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), services: { telemetry: { images_dir: folder }, ollama: { enabled: false } } });
    expect((await runDoctor(missing)).find((c) => c.name === 'onboard services')).toMatchObject({
      ok: false,
      required: false,
      detail: `telemetry, liquidai on; services.telemetry.images_dir ${folder} does not exist (the camera serves only the provider's frame)`,
      fix: `mkdir -p ${folder} and put *.png frames in it, or remove the key`,
    });
    const off = buildConfig({ data_dir: path.join(tempDir(), 'not-yet'), services: { telemetry: { enabled: false }, ollama: { enabled: false }, liquidai: { enabled: false } } });
    expect((await runDoctor(off)).find((c) => c.name === 'onboard services')).toMatchObject({ ok: true, detail: 'every service is turned off (services.*.enabled)' });
  });
});

describe('em-sim images', () => {
  const users = [{ username: 'client1', password: PASSWORD }];

  it('--list shows every catalog entry with its state, stand-in and pinned version', async () => {
    const { file } = configFile({
      users,
      images: { provider_catalog: false, catalog: [{ image: 'alpine:3.19' }, { image: 'mysql:8.0', version: '8.0.43' }, { image: 'emsimlist-absent:1', standin: 'busybox' }] },
    });
    const run = await cli(['images', '--list', '--config', file]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+STATE\s+STAND-IN\s+UPSTREAM\s+NOTE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^alpine:3\.19\s+standin \(arm64\)\s+busybox\s*$/));
    expect(lines).toContainEqual(expect.stringMatching(/^mysql:8\.0\s+unavailable\s+none\s+8\.0\.43$/));
    expect(lines).toContainEqual(expect.stringMatching(/^emsimlist-absent:1\s+missing\s+busybox\s*$/));
    expect(run.stdout).toMatch(/^3 onboard images for linux\/arm64: 0 present, 1 stand-ins, 1 missing \(made on first use\), 1 unavailable here/m);
  });

  it('refuses an image that is not onboard, one line saying how to see the catalog; an onboard one it cannot make fails naming why', async () => {
    const { file } = configFile({ users, images: { provider_catalog: false, catalog: ['mysql:8.0'] } });
    const notOnboard = await cli(['images', 'nosuch:1', '--config', file]);
    expect(notOnboard.code).toBe(1);
    expect(notOnboard.stderr).toMatch(/^em-sim: not in the onboard catalog: nosuch:1 \(`npx em-sim images --list` shows it/);
    expectOneLine(notOnboard);
    const unavailable = await cli(['images', 'mysql:8.0', '--no-pull', '--config', file]);
    expect(unavailable.code).toBe(1);
    expect(unavailable.stdout).toMatch(/^ {2}mysql:8\.0: mysql:8\.0 is onboard, but em-sim cannot make it on this machine: it cannot be pulled \(pulling is switched off\)/m);
    expect(unavailable.stdout).toMatch(/0 stand-ins made, 1 unavailable here, 0 failed$/m);
  });
});

describe('em-sim token', () => {
  it('prints a token the server accepts, made before the server ever started on the data directory', async () => {
    const user = uniqueName('t');
    const { file, dataDir } = configFile({ users: [{ username: user, password: PASSWORD }] });
    const run = await cli(['token', '--config', file, '--refresh']);
    expect(run.code, run.stderr).toBe(0);
    const [access, refresh, ...rest] = run.stdout.trimEnd().split('\n');
    expect(rest).toEqual([]);

    await using sim = await startSim({ dataDir, users: [user] });
    const list = await fetch(`${sim.url}/em/files/list`, { headers: { Authorization: `Bearer ${access}` } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ message: 'Successfully listed files', data: [] });
    const renewed = await fetch(`${sim.url}/auth/refresh`, { method: 'POST', body: new URLSearchParams({ refresh: refresh! }) });
    expect(renewed.status).toBe(200);
  });

  it('signs with the secret of a running server, for the first configured user by default', async () => {
    const user = uniqueName('t');
    const { file, dataDir } = configFile({ users: [{ username: user, password: PASSWORD }, { username: 'client1', password: PASSWORD }] });
    await using sim = await startSim({ dataDir, users: [user] });
    await sim.fetch('/em/files/uplink', { user, method: 'POST', body: form({ 'hello.txt': 'hi' }) });
    const run = await cli(['token', '--config', file]);
    expect(run.code, run.stderr).toBe(0);
    const res = await fetch(`${sim.url}/em/files/list`, { headers: { Authorization: `Bearer ${run.stdout.trim()}` } });
    expect(res.status).toBe(200);
    // The token is the first user's: it sees that user's file.
    expect(((await res.json()) as { data: { name: string }[] }).data.map((f) => f.name)).toEqual(['hello.txt']);
  });

  it('refuses an unknown user in one line', async () => {
    const { file } = configFile({ users: [{ username: 'client1', password: PASSWORD }] });
    const run = await cli(['token', 'nobody', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('em-sim: unknown user "nobody": the configured users are client1 ("users" in sim-config.yaml)\n');
  });
});

describe('em-sim reset', () => {
  let docker: Docker;
  const keep: string[] = [];
  afterAll(async () => {
    for (const tag of keep) await docker?.getImage(tag).remove({ force: true }).catch(() => {});
  });

  /** A tiny image made offline: an empty filesystem, enough to create (not start) a container. */
  async function importEmptyImage(repo: string): Promise<void> {
    const pack = tar.pack();
    pack.entry({ name: 'marker', mode: 0o644 }, 'x');
    pack.finalize();
    const stream = (await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo, tag: 'latest' } as never)) as unknown as NodeJS.ReadableStream;
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))));
  }

  it("doctor finds another simulator's leftovers on the engine, offering reset --all-instances, which removes each instance's things", async () => {
    docker = connectDocker();
    const user = uniqueName('r');
    const { dataDir } = configFile({ users: [{ username: user, password: PASSWORD }] });
    const config = buildConfig({ data_dir: dataDir, users: [{ username: user, password: PASSWORD }] });
    // A stopped simulator of another data directory left a pod, its network and an image.
    const other = randomBytes(6).toString('hex');
    const image = `${user}-tool.${other}:latest`;
    await importEmptyImage(`${user}-tool.${other}`);
    keep.push(image);
    const labels = { 'em-sim.managed': 'true', 'em-sim.instance': other };
    const container = await docker.createContainer({ Image: image, Cmd: ['/nothing'], name: `${user}-pod.${other}`, Labels: labels });
    const network = await docker.createNetwork({ Name: `em-sim-${user}.${other}`, Labels: labels });

    const found = (await runDoctor(config)).find((c) => c.name === 'other simulators');
    expect(found).toMatchObject({ ok: false, required: false, fix: expect.stringContaining('em-sim reset --all-instances') });
    expect(found!.detail).toContain(`${other}: 1 container, 1 network, 1 image`);

    // What reset --all-instances does for each instance (the command itself would also take the
    // things of the other test files running beside this one, so it runs on this instance only).
    const tools = engineTools(config);
    const things = (await tools.instances()).find((t) => t.instance === other)!;
    const { removed, failed } = await tools.removeInstance(things);
    expect(failed).toEqual([]);
    expect(removed).toEqual([`container ${user}-pod.${other}`, `network em-sim-${user}.${other}`, `image ${image}`]);
    const plan = await cli(['reset', '--help']);
    expect(plan.stdout).toContain('--all-instances');
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(network.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getImage(image).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await runDoctor(config)).find((c) => c.name === 'other simulators')?.detail).not.toContain(other);
  });

  it('--yes removes the containers, network and images it made, the database and the volumes; keeps the rest', async () => {
    docker = connectDocker();
    const user = uniqueName('r');
    const { file, dataDir } = configFile({ users: [{ username: user, password: PASSWORD }] });
    let instanceId: string;
    {
      await using sim = await startSim({ dataDir, users: [user] });
      instanceId = sim.running.sim.instanceId;
      const up = await sim.fetch('/em/files/uplink', { user, method: 'POST', body: form({ 'a.txt': 'A' }, { pod_name: 'other' }) });
      expect(up.status).toBe(200);
    }
    expect(readdirSync(path.join(dataDir, 'volumes', user))).toEqual(['other']);

    // What a run of the simulator leaves on the engine: a container labelled with the instance,
    // the user's network, a user image; plus a tag outside the user's prefix on the same image,
    // and the same user's image of another simulator (another instance), which stay.
    const userImage = `${user}-thing.${instanceId}:latest`;
    const shared = `emsimtest-keep-${user}:latest`;
    const otherInstance = `${user}-thing.0123456789ab:latest`;
    await importEmptyImage(`${user}-thing.${instanceId}`);
    await docker.getImage(userImage).tag({ repo: `emsimtest-keep-${user}`, tag: 'latest' });
    await docker.getImage(userImage).tag({ repo: `${user}-thing.0123456789ab`, tag: 'latest' });
    keep.push(shared, userImage, otherInstance);
    const container = await docker.createContainer({ Image: userImage, Cmd: ['/nothing'], name: `${user}-pod`, Labels: { 'em-sim.managed': 'true', 'em-sim.instance': instanceId } });
    const network = `em-sim-${user}.${instanceId}`;
    await docker.createNetwork({ Name: network, Labels: { 'em-sim.managed': 'true', 'em-sim.instance': instanceId } });

    const run = await cli(['reset', '--yes', '--config', file]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`✓ removed container ${user}-pod`);
    expect(run.stdout).toContain(`✓ removed network ${network}`);
    expect(run.stdout).toContain(`✓ removed image ${userImage}`);

    expect(existsSync(path.join(dataDir, 'em-sim.db'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'volumes'))).toBe(false);
    expect(readdirSync(dataDir).sort()).toEqual(['instance-id', 'secret.key']);
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getNetwork(network).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getImage(userImage).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getImage(shared).inspect()).RepoTags.sort()).toEqual([otherInstance, shared].sort());

    // The simulator starts afresh on the directory: empty volumes, same secret.
    await using again = await startSim({ dataDir, users: [user] });
    const list = await again.fetch('/em/files/list?pod_name=other', { user });
    expect(await list.json()).toEqual({ message: 'Successfully listed files', data: [] });
  });

  it('refuses without a terminal and without --yes, removing nothing', async () => {
    const { file, dataDir } = configFile({ users: [{ username: 'client1', password: PASSWORD }] });
    mkdirSync(path.join(dataDir, 'volumes', 'client1', 'default'), { recursive: true });
    writeFileSync(path.join(dataDir, 'em-sim.db'), '');
    const run = await cli(['reset', '--config', file]);
    expect(run.code).toBe(1);
    expectOneLine(run);
    expect(run.stderr).toMatch(/^em-sim: reset .* cannot ask without a terminal: pass --yes to confirm\n$/);
    expect(existsSync(path.join(dataDir, 'em-sim.db'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'volumes', 'client1', 'default'))).toBe(true);
  });

  it('refuses while a simulator answers at the configured address', async () => {
    const dir = tempDir();
    await using sim = await startSim({ dataDir: dir });
    const { file } = configFile({ users: [{ username: 'client1', password: PASSWORD }], server: { host: '127.0.0.1', port: sim.running.port }, data_dir: dir });
    const run = await cli(['reset', '--yes', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`em-sim: an em-sim answers at ${sim.url} (the configured address): stop it before reset, which removes the database it has open\n`);
    expect(existsSync(path.join(dir, 'em-sim.db'))).toBe(true);
  });
});

describe('em-sim usage', () => {
  it.each(['start', 'images', 'doctor', 'token', 'reset'])('%s --help prints usage and exits 0', async (name) => {
    const run = await cli([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: em-sim ${name} \\[options\\]`));
    expect(run.stderr).toBe('');
  });

  it('an unknown option is one line naming it and the command\'s --help, exit 1, no stack trace', async () => {
    const run = await cli(['reset', '--yse']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneLine(run);
    expect(run.stderr).toBe("em-sim reset: unknown option '--yse' (Did you mean --yes?); see `em-sim reset --help`\n");

    const unknownCommand = await cli(['frobnicate']);
    expect(unknownCommand.code).toBe(1);
    expectOneLine(unknownCommand);
  });
});

describe('em-sim start from the bundle keeps V8\'s compiled code between starts', () => {
  const BUNDLE = fileURLToPath(new URL('../dist/em-sim.cjs', import.meta.url));
  const NAME = `em-sim-${process.version}-${process.arch}.bin`;

  /** Starts em-sim with its code cache in `dir`, checks it answers, runs `meanwhile`, and stops it. */
  async function whileRunning<T>(dir: string, meanwhile: (output: () => string) => Promise<T>): Promise<T> {
    const sim = await spawnSim(tempDir('em-sim-cache-data-'), ['client1'], { log: { level: 'warn' }, images: { prepare: [] } }, { EM_SIM_CODE_CACHE_DIR: dir });
    try {
      expect((await fetch(`${sim.url}/sim/health`)).status).toBe(200);
      return await meanwhile(() => sim.output());
    } finally {
      await sim.kill('SIGINT');
    }
  }

  /** A start that must write the cache: what the file holds once it is other than `before`. */
  const startAndKeep = (dir: string, before: Buffer | null) =>
    whileRunning(dir, async (output) => {
      const file = path.join(dir, NAME);
      for (let waited = 0; ; waited += 100) {
        const now = existsSync(file) ? readFileSync(file) : null;
        if (now && (!before || !now.equals(before))) return now;
        if (waited > 15_000) {
          throw new Error(
            `no new ${file} 15 s after em-sim started: it ran from the TypeScript sources, not dist/em-sim.cjs (older than a source?); run node scripts/bundle.mjs (npm test does)\n${output()}`,
          );
        }
        await sleep(100);
      }
    });

  it('writes it 2 s into the first start, keyed by the bundle\'s SHA-1; a stale key or a cache V8 rejects is replaced, and em-sim answers all along', async () => {
    const dir = tempDir('em-sim-code-cache-');
    // The bundle's last line gives the SHA-1 of the text before it (read at start, not computed).
    const text = readFileSync(BUNDLE, 'latin1');
    const line = /\/\/ em-sim bundle sha1 ([0-9a-f]{40})\n$/.exec(text);
    expect(line, 'dist/em-sim.cjs ends with "// em-sim bundle sha1 <hex>" (scripts/bundle.mjs)').not.toBeNull();
    const key = createHash('sha1').update(text.slice(0, line!.index), 'latin1').digest();
    expect(key.toString('hex')).toBe(line![1]);

    const first = await startAndKeep(dir, null);
    expect(first.subarray(0, 20).equals(key)).toBe(true);
    expect(first.length).toBeGreaterThan(100_000);

    // Another bundle's cache (its key differs): not used, replaced by this bundle's.
    const stale = Buffer.concat([Buffer.alloc(20), first.subarray(20)]);
    writeFileSync(path.join(dir, NAME), stale);
    const afterStale = await startAndKeep(dir, stale);
    expect(afterStale.subarray(0, 20).equals(key)).toBe(true);

    // The right key over bytes V8 cannot use: rejected, em-sim compiles and writes a good one.
    const garbled = Buffer.concat([key, randomBytes(first.length - 20)]);
    writeFileSync(path.join(dir, NAME), garbled);
    const afterGarbled = await startAndKeep(dir, garbled);
    expect(afterGarbled.subarray(0, 20).equals(key)).toBe(true);

    // A good cache is used as it is: V8 takes it, and nothing is written again (a write renames a new file in).
    const written = statSync(path.join(dir, NAME)).ino;
    await whileRunning(dir, () => sleep(3000));
    expect(statSync(path.join(dir, NAME)).ino).toBe(written);
    expect(readdirSync(dir)).toEqual([NAME]);
  }, 90_000);
});
