import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDocker, requireDocker } from '../docker/_docker.ts';
import { spawnSim, type ChildSim } from '../helpers/child-sim.ts';
import { PASSWORD, tempDir, uniqueName } from '../helpers/sim.ts';

// The provider's users drive the EM from Python with requests; these suites play the client
// guides' examples against a real `em-sim start` with clients written the guides' way.

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Debian's python3, where apt puts python3-requests (PyPI is not reachable here).
const PYTHON = process.env.EM_SIM_PYTHON ?? '/usr/bin/python3';
const TOKEN_LIFETIME = 2;
const LOADED_IMAGE_BASE = 'busybox:latest';

function requirePython(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import requests'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `The Python suite needs ${PYTHON} with requests: apt-get install python3-requests ` +
        `(npm test installs it on Debian), or point EM_SIM_PYTHON at a python3 that has it. ${probe.error?.message ?? probe.stderr}`,
    );
  }
}

/** Runs one unittest file against the simulator; resolves with its exit code and output. */
function runSuite(module: string, sim: ChildSim, user: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-u', path.join(HERE, 'run_suite.py'), module], {
      env: { ...process.env, EM_SIM_URL: sim.url, EM_SIM_USER: user, EM_SIM_PASSWORD: PASSWORD, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Each test's outcome, from the line run_suite.py prints last. */
function outcomes(output: string): Record<string, string> {
  const line = /^EM-SIM-RESULTS (.*)$/m.exec(output);
  return line ? (JSON.parse(line[1]!) as Record<string, string>) : {};
}

describe('the Python clients of the guides, against em-sim start', () => {
  let docker: Docker;
  const dirs: string[] = [];
  const sims: { sim: ChildSim; dataDir: string; user: string }[] = [];

  beforeAll(async () => {
    requirePython();
    docker = await requireDocker();
  });
  afterAll(async () => {
    for (const { sim, dataDir, user } of sims) {
      await sim.kill('SIGTERM');
      const instance = readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim();
      await cleanupDocker(docker, instance, [user]);
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function start(config: Parameters<typeof spawnSim>[2]): Promise<{ sim: ChildSim; user: string }> {
    const dataDir = tempDir('em-sim-python-');
    dirs.push(dataDir);
    const user = uniqueName('py');
    const sim = await spawnSim(dataDir, [user], config);
    sims.push({ sim, dataDir, user });
    return { sim, user };
  }

  it('plays every example of the client guide (seed 001), token refresh included', async () => {
    const { sim, user } = await start({ auth: { access_token_lifetime: TOKEN_LIFETIME } });

    // The tar the image_load example uplinks: an image with the user's prefix, as docker save makes it.
    const tarDir = tempDir('em-sim-python-tar-');
    dirs.push(tarDir);
    const tarPath = path.join(tarDir, 'loaded.tar');
    const tag = `${user}-loaded:latest`;
    await docker.getImage(LOADED_IMAGE_BASE).tag({ repo: `${user}-loaded`, tag: 'latest' });
    try {
      await pipeline(await docker.getImage(tag).get(), createWriteStream(tarPath));
    } finally {
      await docker.getImage(tag).remove({ noprune: true });
    }

    const { code, output } = await runSuite('test_examples', sim, user, {
      EM_SIM_TOKEN_LIFETIME: String(TOKEN_LIFETIME),
      EM_SIM_LOAD_TAR: tarPath,
    });
    expect(outcomes(output), output).toEqual({
      test_1_simple_operations: 'ok',
      test_2_pod_volumes: 'ok',
      test_3_pod_intercommunication: 'ok',
      test_4_env_and_args: 'ok',
      test_5_errors: 'ok',
      test_6_image_load: 'ok',
      test_7_expired_token_is_refreshed: 'ok',
    });
    expect(code, output).toBe(0);
    // The two-second tokens expired during the suite, and the client's retry path took over.
    const retried = Number(/401 answers retried with a fresh token: (\d+)/.exec(output)?.[1] ?? 0);
    expect(retried, output).toBeGreaterThan(0);
  }, 600_000);

  it('plays the example workflow of the older walkthrough (seed 002) with base64 downlinks', async () => {
    const { sim, user } = await start({ compat: { downlink_base64: true } });
    const { code, output } = await runSuite('test_workflow_2023', sim, user);
    expect(outcomes(output), output).toEqual({ test_example_workflow: 'ok' });
    expect(code, output).toBe(0);
  }, 300_000);
});
