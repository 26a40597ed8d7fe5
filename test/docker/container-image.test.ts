import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmSimContainer, type StartedEmSimContainer } from 'em-sim/testcontainers';
import { downlink, post, requireDocker, run, uplink, waitForState, type SimFetch } from './_docker.ts';

// em-sim's container image (the top-level Dockerfile, built offline here by scripts/build-image.sh)
// started through its own Testcontainers module, as a team's test would; and the pytest plugin's
// example test against it. Testcontainers' reaper image cannot be pulled here (environment.md).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const PYTHON = process.env.EM_SIM_PYTHON ?? '/usr/bin/python3';

/** What em-sim instances hold on the engine now: containers and networks with an em-sim.instance label, and all volumes. */
async function engineThings(docker: Docker): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const label = { label: ['em-sim.instance'] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: label }),
    docker.listNetworks({ filters: label }),
    docker.listVolumes(),
  ]);
  return {
    containers: containers.map((c) => c.Id).sort(),
    networks: networks.map((n) => n.Name).sort(),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort(),
  };
}

/** A SimFetch on a container: requests signed in with the user's token. */
function containerFetch(sim: StartedEmSimContainer): SimFetch {
  return {
    async fetch(urlPath, init = {}) {
      const { user, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (user) headers.set('Authorization', `Bearer ${await sim.getAccessToken(user)}`);
      return fetch(sim.getBaseUrl() + urlPath, { ...rest, headers });
    },
  };
}

describe('the container image, through the Testcontainers module', () => {
  let docker: Docker;
  let image: string;

  beforeAll(async () => {
    docker = await requireDocker();
    // Idempotent: an image built from the same sources is kept.
    const built = await exec('bash', [path.join(ROOT, 'scripts/build-image.sh')], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`scripts/build-image.sh failed: ${err.stderr ?? err.message}`);
    });
    image = built.stdout.trim().split('\n').pop()!;
  }, 600_000);

  it('serves the guide workflow with pods and leaves no container, network or volume behind when stopped', async () => {
    const before = await engineThings(docker);
    const sim = await new EmSimContainer(image)
      .withUser('tcuser', 'tc-password')
      .withConfig({ log: { level: 'warn' }, nodes: { FPGA: { memory_mb: 256 } } })
      .start();
    let stopped = false;
    try {
      const health = await fetch(`${sim.getBaseUrl()}/sim/health`);
      expect(await health.json()).toEqual({ status: 'ok', version: expect.any(String) });
      // The dashboard is bundled into the image.
      expect(await (await fetch(`${sim.getBaseUrl()}/ui`)).text()).toContain('/ui/app.js');
      expect((await fetch(`${sim.getBaseUrl()}/ui/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      // The mounted configuration is read: the one user is tcuser, not client1.
      const refused = await fetch(`${sim.getBaseUrl()}/auth/`, { method: 'POST', body: new URLSearchParams({ username: 'client1', password: 'client1-password' }) });
      expect(refused.status).toBe(401);

      const api = containerFetch(sim);
      const user = 'tcuser';
      const dockerfile = 'FROM alpine:latest\nCOPY job.sh /job.sh\nCMD ["sh", "/job.sh"]\n';
      const job = '#!/bin/sh\necho "ran on $(uname -m)" > /data/result.txt\nwget -qO- http://ollama-dphi.dphi-public/api/version >> /data/result.txt\n';
      await uplink(api, user, { Dockerfile: dockerfile, 'job.sh': job }, { dest_path: 'job' });
      expect(await post(api, user, '/em/pod/image/build', { dockerfile: './job/Dockerfile', image: 'job', context: './job' })).toEqual({
        status: 200,
        body: { message: 'Docker Image built successfully' },
      });
      await run(api, user, { image: 'job', node: 'FPGA', max_duration: 1 });
      expect(await waitForState(api, user, undefined, 'terminated')).toMatchObject({ exitCode: 0, reason: 'Completed' });
      // arm64 like CG2 (the engine was asked, binfmt_misc is not visible in the container), and
      // the onboard services reach the pod through em-sim's container.
      expect(await downlink(api, user, 'result.txt')).toEqual({ status: 200, text: 'ran on aarch64\n{"version":"0.13.5"}' });

      // The file the pod wrote is on the engine's side of the container's data volume (this
      // machine's own disk: the engine is local here).
      const dataDir = await sim.getDataDir();
      expect(dataDir).toMatch(/^\/var\/lib\/docker\/volumes\/[0-9a-f]{64}\/_data$/);
      expect(readFileSync(path.join(dataDir, 'volumes', user, 'default', 'result.txt'), 'utf8')).toBe('ran on aarch64\n{"version":"0.13.5"}');

      // The file a pod wrote as root is deleted by em-sim, which runs as uid 1000.
      expect(await post(api, user, '/em/files/delete', { filepath: 'result.txt' })).toEqual({ status: 200, body: { message: 'File deleted successfully' } });
      const { output } = await sim.exec(['sh', '-c', 'cat /proc/1/status | grep -E "^(Uid|CapEff):"']);
      expect(output).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(output).toMatch(/^CapEff:\s+000000000000000a$/m);

      // What this instance made: its pods and networks carry its id.
      const instance = (await sim.exec(['cat', '/var/lib/em-sim/instance-id'])).output.trim();
      expect(instance).toMatch(/^[0-9a-f]{12}$/);
      const mine = { filters: { label: [`em-sim.instance=${instance}`] } };
      expect((await docker.listContainers({ all: true, ...mine })).length).toBeGreaterThan(0);
      expect((await docker.listNetworks(mine)).length).toBeGreaterThan(0);
      const containerId = sim.getId();

      await sim.stop();
      stopped = true;
      expect(await docker.listContainers({ all: true, ...mine })).toEqual([]);
      expect(await docker.listNetworks(mine)).toEqual([]);
      expect(await docker.listImages(mine)).toEqual([]);
      await expect(docker.getContainer(containerId).inspect()).rejects.toThrow(/no such container/i);
      expect(await engineThings(docker)).toEqual(before);
    } finally {
      if (!stopped) await sim.stop();
    }
  });

  it('passes the pytest plugin example (clients/python/examples) against a container it starts', async () => {
    const before = await engineThings(docker);
    const result = await exec(PYTHON, ['-m', 'pytest', '-p', 'em_sim_pytest.plugin', '-q', '-p', 'no:cacheprovider', 'examples'], {
      cwd: path.join(ROOT, 'clients/python'),
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'clients/python/src'), EM_SIM_IMAGE: image, EM_SIM_USERS: 'pyuser:py-password', EM_SIM_URL: '' },
      timeout: 300_000,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pytest failed (${PYTHON}; needs python3-pytest and python3-requests, which npm test installs on Debian):\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
    });
    expect(result.stdout).toMatch(/\b3 passed\b/);
    expect(await engineThings(docker)).toEqual(before);
  });
});
