import type Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../../src/adapters/docker/engine.ts';
import { LABEL } from '../../src/adapters/docker/labels.ts';
import { buildConfig } from '../../src/config/load.ts';
import type { CatalogImageReport } from '../../src/domain/images/catalog-provisioning.ts';
import { engineTools } from '../../src/simulator.ts';

// The default catalog: the images every Docker test relies on.
const config = buildConfig();
const { images } = config;
const tools = engineTools(config);
const entries = tools.catalog;

let docker: Docker;
let first: CatalogImageReport[];

beforeAll(async () => {
  // Throws "no Docker engine answers at ...: start one ... or set DOCKER_HOST" when there is none:
  // these tests fail then, they never skip.
  docker = await requireDocker();
  first = await tools.provisionCatalog({});
});

/** Runs a command in a throwaway container and returns its exit code and output. */
async function run(image: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
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
  it('makes every catalog image ready', () => {
    const failed = first.filter((r) => r.status === 'failed');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(first.map((r) => r.ref)).toEqual(entries.map((e) => e.ref));
  });

  it('tags each image both NAME:TAG and REGISTRY/NAME:TAG', async () => {
    for (const entry of entries) {
      const plain = await docker.getImage(entry.ref).inspect();
      const prefixed = await docker.getImage(`${images.registry}/${entry.ref}`).inspect();
      expect(prefixed.Id, entry.ref).toBe(plain.Id);
    }
    expect(await tools.missingCatalogImages()).toEqual([]);
  });

  it('labels stand-ins with their kind', async () => {
    for (const entry of entries) {
      const report = first.find((r) => r.ref === entry.ref)!;
      const labels = (await docker.getImage(entry.ref).inspect()).Config.Labels ?? {};
      if (report.status === 'standin-built' || labels[LABEL.standin]) {
        expect(labels[LABEL.standin], entry.ref).toBe('true');
        expect(labels[LABEL.standinKind], entry.ref).toBe(entry.standin);
      }
    }
  });

  it('runs a shell in alpine:latest', async () => {
    const { exitCode, output } = await run('alpine:latest', ['sh', '-c', 'echo hi']);
    expect(exitCode).toBe(0);
    expect(output.trim()).toBe('hi');
  });

  it('runs python in python:3.11-alpine', async () => {
    const { exitCode, output } = await run('python:3.11-alpine', ['python', '-c', 'print(6*7)']);
    expect(exitCode).toBe(0);
    expect(output.trim()).toBe('42');
  });

  it('serves files with python -m http.server, fetched with wget', async () => {
    const script = [
      'python -m http.server 8080 >/dev/null 2>&1 &',
      'for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.1; done',
      'exit 1',
    ].join('\n');
    const { exitCode, output } = await run('python:3.11-alpine', ['sh', '-c', script]);
    expect(exitCode, output).toBe(0);
    expect(output).toContain('Directory listing for /');
  });

  it('finds everything present on a second call', async () => {
    const second = await tools.provisionCatalog({});
    expect(second.map((r) => [r.ref, r.status])).toEqual(entries.map((e) => [e.ref, 'present']));
  });
});
