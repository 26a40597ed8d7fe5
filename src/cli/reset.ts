import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { SimConfig } from '../config/schema.ts';
import { LABEL, PodService } from '../domain/pods.ts';
import { CliError } from './errors.ts';
import { emSimAt, reachableUrl } from './running.ts';

/**
 * `em-sim reset`: removes the simulator's state, on the engine (containers of this data
 * directory's instance, the users' networks and images) and on disk (database, volumes, staging
 * areas). Kept: the configuration, secret.key (tokens already handed out stay valid) and
 * instance-id (so a reset that could not reach the engine can be run again and still find the
 * containers).
 */

export interface ResetPlan {
  dataDir: string;
  /** null when the data directory never ran a simulator. */
  instanceId: string | null;
  users: string[];
  /** The files and folders to remove that exist. */
  paths: string[];
  volumeCount: number;
}

const DB_FILES = ['em-sim.db', 'em-sim.db-wal', 'em-sim.db-shm', 'em-sim.db-journal'];
const DIRS = ['volumes', 'tmp', 'trash'];

export function planReset(config: SimConfig): ResetPlan {
  const dataDir = config.data_dir;
  const idFile = path.join(dataDir, 'instance-id');
  const instanceId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() || null : null;
  const paths = [...DB_FILES, ...DIRS].map((name) => path.join(dataDir, name)).filter((p) => existsSync(p));
  return { dataDir, instanceId, users: config.users.map((u) => u.username), paths, volumeCount: countVolumes(path.join(dataDir, 'volumes')) };
}

/** What the plan removes, in words, for the confirmation question. */
export function describePlan(plan: ResetPlan): string[] {
  const lines = [`em-sim reset removes the simulator's state of ${plan.dataDir}:`];
  lines.push(
    plan.paths.length
      ? `  on disk: ${plan.paths.map((p) => path.relative(plan.dataDir, p)).join(', ')} (${plan.volumeCount} volume${plan.volumeCount === 1 ? '' : 's'})`
      : '  on disk: nothing (no database or volumes)',
  );
  if (plan.instanceId) lines.push(`  on the Docker engine: containers labelled ${LABEL.instance}=${plan.instanceId}`);
  if (plan.users.length) {
    lines.push(`  on the Docker engine: networks ${plan.users.map((u) => PodService.networkName(u)).join(', ')}`);
    lines.push(`  on the Docker engine: images ${plan.users.map((u) => `${u}-*`).join(', ')}`);
  }
  lines.push('  kept: the configuration, secret.key and instance-id');
  return lines;
}

export interface ResetResult {
  /** false when something could not be removed; `report` has said what and why. */
  complete: boolean;
  /** How many containers, networks, images, files and folders were removed. */
  removed: number;
}

/**
 * Carries the plan out: the engine first (so no pod writes into a volume being removed), then
 * the files. `docker` is null when no engine answers: the files are removed anyway, and the
 * result is incomplete.
 */
export async function resetState(plan: ResetPlan, docker: Docker | null, engineProblem: string, report: (line: string) => void): Promise<ResetResult> {
  let complete = true;
  let removed = 0;
  const done = (line: string) => {
    removed += 1;
    report(line);
  };
  const failed = (what: string, err: unknown) => {
    complete = false;
    report(`✗ ${what}: ${(err as Error).message.trim()}`);
  };

  if (!docker) {
    complete = false;
    report(`✗ Docker: ${engineProblem}; containers, networks and images were not removed: run \`em-sim reset\` again once it answers`);
  } else {
    if (plan.instanceId) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL.instance}=${plan.instanceId}`] } });
      for (const c of containers) {
        const name = c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
        await docker.getContainer(c.Id).remove({ force: true }).then(
          () => done(`✓ removed container ${name}`),
          (err: unknown) => failed(`container ${name}`, err),
        );
      }
    }
    for (const user of plan.users) {
      const name = PodService.networkName(user);
      const networks = await docker.listNetworks({ filters: { name: [name] } });
      // The name filter matches substrings: keep the exact name only.
      for (const network of networks.filter((n) => n.Name === name)) {
        await docker.getNetwork(network.Id).remove().then(
          () => done(`✓ removed network ${name}`),
          (err: unknown) => failed(`network ${name} (a container outside this data directory may still use it)`, err),
        );
      }
      const images = await docker.listImages({ filters: { reference: [`${user}-*`] } });
      for (const image of images) {
        // Untag by name, never remove by id: a user's tag may share its image with a catalog tag.
        for (const tag of (image.RepoTags ?? []).filter((t) => t.startsWith(`${user}-`))) {
          await docker.getImage(tag).remove().then(
            () => done(`✓ removed image ${tag}`),
            (err: unknown) => failed(`image ${tag}`, err),
          );
        }
      }
    }
  }

  for (const p of plan.paths) {
    const rel = path.relative(plan.dataDir, p);
    try {
      await rm(p, { recursive: true, force: true, maxRetries: 2 });
      done(`✓ removed ${rel}`);
    } catch (err) {
      failed(rel, err);
      if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') {
        report(`    fix: files that pods wrote may belong to root: \`sudo rm -rf ${p}\``);
      }
    }
  }
  return { complete, removed };
}

/** Refuses to pull the database from under a simulator that answers at the configured address. */
export async function refuseIfRunning(config: SimConfig): Promise<void> {
  const { host, port } = config.server;
  if (port === 0) return;
  if (await emSimAt(host, port)) {
    throw new CliError(`an em-sim answers at ${reachableUrl(host, port)} (the configured address): stop it before reset, which removes the database it has open`);
  }
}

function countVolumes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let count = 0;
  for (const user of readdirSync(dir, { withFileTypes: true })) {
    if (user.isDirectory()) count += readdirSync(path.join(dir, user.name)).length;
  }
  return count;
}
