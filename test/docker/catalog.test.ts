import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../../src/adapters/docker/engine.ts';
import { LABEL } from '../../src/adapters/docker/labels.ts';
import { buildConfig } from '../../src/config/load.ts';
import type { CatalogImageReport } from '../../src/domain/images/catalog-images.ts';
import { engineTools } from '../../src/simulator.ts';

// The provider's catalog on the real engine, for the platform this machine runs (arm64 when it
// emulates it, as npm test makes sure). One tag of each stand-in family, both spellings.
const config = buildConfig();
const tools = engineTools(config);
const { catalog } = tools;
/** One tag per family, and what a command run in it prints (none for the images with nothing to run). */
const FAMILIES: Record<string, { ref: string; cmd?: string[]; expect?: RegExp }> = {
  busybox: { ref: 'alpine:3.19', cmd: ['sh', '-c', 'echo hi'], expect: /^hi$/ },
  debian: { ref: 'ubuntu:24.04', cmd: ['bash', '-c', 'echo $BASH_VERSION; test -x /usr/bin/apt-get && echo apt'], expect: /^5\.\d.*\napt$/ },
  python: { ref: 'python:3.10-slim', cmd: ['python', '-c', 'import http.server, json, sqlite3; print(6*7)'], expect: /^42$/ },
  node18: { ref: 'node:18-slim', cmd: ['node', '-e', 'console.log(process.versions.node.split(".")[0])'], expect: /^18$/ },
  node20: { ref: 'node:20-alpine', cmd: ['node', '-e', 'console.log(process.versions.node.split(".")[0])'], expect: /^20$/ },
  'distroless-static': { ref: 'distroless-static:latest' },
  'distroless-base': { ref: 'distroless-base:latest' },
  'distroless-python': {
    ref: 'distroless-python3-debian12:latest',
    cmd: ['-c', 'import os, ssl; print("ok", ssl.OPENSSL_VERSION[:7], os.path.exists("/etc/ssl/certs/ca-certificates.crt"), "nonroot:x:65532" in open("/etc/passwd").read())'],
    expect: /^ok OpenSSL True True$/,
  },
  'distroless-nodejs': { ref: 'distroless-nodejs20-debian12:latest', cmd: ['-e', 'console.log("ok", process.arch)'], expect: /^ok arm64$/ },
};

let docker: Docker;
let reports: CatalogImageReport[];

beforeAll(async () => {
  // Throws "no Docker engine answers at ...: start one ... or set DOCKER_HOST" when there is none:
  // these tests fail then, they never skip.
  docker = await requireDocker();
  reports = await catalog.ensure(Object.values(FAMILIES).map(({ ref }) => catalog.find(ref)!));
}, 30 * 60_000);

/** Runs a command in a throwaway container and returns its exit code and output. */
async function run(image: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    ...(cmd.length ? { Cmd: cmd } : {}),
    Tty: true, // one raw output stream, no multiplexing
    Labels: { 'em-sim.test': 'catalog' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs: unknown = await container.logs({ stdout: true, stderr: true });
    // docker-modem hands back JSON-looking output ("42") parsed, not as a Buffer.
    const output = Buffer.isBuffer(logs) ? logs.toString('utf8') : String(logs);
    return { exitCode: StatusCode, output: output.replace(/\r\n/g, '\n') };
  } finally {
    await container.remove({ force: true });
  }
}

describe('the onboard catalog on the engine', () => {
  it('runs in arm64 mode on this machine (npm test registers the emulation)', () => {
    expect(tools.platform).toEqual({ mode: 'arm64', architecture: 'arm64' });
  });

  it('makes one image of every stand-in family ready', () => {
    const bad = reports.filter((r) => r.status === 'failed' || r.status === 'unavailable');
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
  });

  it.each(Object.entries(FAMILIES))('%s: %s is linux/arm64 under both tags, labelled with what it stands for, and runs', async (kind, family) => {
    const plain = await docker.getImage(family.ref).inspect();
    const prefixed = await docker.getImage(`${config.images.registry}/${family.ref}`).inspect();
    expect(prefixed.Id).toBe(plain.Id);
    expect(plain.Architecture).toBe('arm64');
    const labels = plain.Config.Labels ?? {};
    if (labels[LABEL.standin]) {
      expect(labels).toMatchObject({ [LABEL.standinKind]: kind, [LABEL.standinFor]: family.ref, [LABEL.standinArchitecture]: 'arm64' });
      expect(labels['org.opencontainers.image.description']).toMatch(new RegExp(`^em-sim stand-in for ${family.ref.replace(/[.]/g, '\\.')}: `));
    }
    if (!family.cmd) return;
    const { exitCode, output } = await run(family.ref, family.cmd);
    expect(exitCode, output).toBe(0);
    expect(output.trim()).toMatch(family.expect!);
  });

  it('gives every container an aarch64 kernel view', async () => {
    const { output } = await run('alpine:3.19', ['uname', '-m']);
    expect(output.trim()).toBe('aarch64');
  });

  it('keeps distroless images without a shell', async () => {
    const shell = await docker.createContainer({ Image: 'distroless-base:latest', Cmd: ['/bin/sh', '-c', 'true'], Labels: { 'em-sim.test': 'catalog' } });
    try {
      await expect(shell.start()).rejects.toThrow(/no such file or directory|executable file not found/);
    } finally {
      await shell.remove({ force: true });
    }
  });

  it('reports an onboard image it cannot make as unavailable, saying why and what to do', async () => {
    const offline = engineTools(config, { catalogOptions: { pull: false } }).catalog;
    const [report] = await offline.ensure([offline.find('mysql:8.0')!]);
    expect(report!.status).toBe('unavailable');
    expect(report!.detail).toMatch(/^mysql:8\.0 is onboard, but em-sim cannot make it on this machine: it cannot be pulled \(pulling is switched off\)/);
    expect(report!.detail).toMatch(/docker pull --platform linux\/arm64 mysql:8\.0/);
    expect(report!.detail).toMatch(/images\.catalog/);
  });

  it('a catalog tag made again (an image that would not run here) leaves no untagged image behind', async () => {
    const docker = await requireDocker();
    const ref = `emsimtest-remade-${Date.now().toString(36)}:1`;
    // The tag names an image of the host's own architecture, which arm64 mode does not use.
    const pack = tarStream.pack();
    pack.entry({ name: 'marker', mode: 0o644 }, 'x');
    pack.finalize();
    const [repo, tag] = ref.split(':') as [string, string];
    const stream = (await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo, tag } as never)) as unknown as NodeJS.ReadableStream;
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))));
    const old = (await docker.getImage(ref).inspect()).Id;
    const own = engineTools(buildConfig({ images: { catalog: [{ image: ref, standin: 'busybox' }] } }), { catalogOptions: { pull: false } }).catalog;
    try {
      const [report] = await own.ensure([own.find(ref)!]);
      expect(report!.status).toBe('standin-built');
      expect((await docker.getImage(ref).inspect()).Id).not.toBe(old);
      await expect(docker.getImage(old).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      for (const t of [ref, `${config.images.registry}/${ref}`]) await docker.getImage(t).remove().catch(() => {});
    }
  });

  it('finds everything present on a second call', async () => {
    const second = await catalog.ensure(Object.values(FAMILIES).map(({ ref }) => catalog.find(ref)!));
    // Offline, every one of them is a stand-in made earlier.
    expect(second.map((r) => r.status)).toEqual(Object.values(FAMILIES).map(() => 'standin'));
  });

  it('lists every entry of the catalog with its state', async () => {
    const rows = await catalog.list();
    expect(rows).toHaveLength(135);
    const state = (ref: string) => rows.find((r) => r.entry.ref === ref)?.state;
    expect(state('python:3.10-slim')).toBe('standin');
    expect(state('dinov3-sat493m_orin16-r36.4.0:latest')).toBe('unavailable');
  });
});
