import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SimConfig } from '../config/schema.ts';
import { ownedBy } from '../domain/images/image-service.ts';
import { networkName } from '../domain/pods/pod-names.ts';
import { engineName, engineTools, instanceLabel, servicesNetworkName, simulatorState, type EngineTools } from '../simulator.ts';
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
  /** --all-instances: every em-sim instance's things on the engine go too. */
  allInstances?: boolean;
}

/** What reset would remove for this configuration's data directory (nothing is touched). */
export function planReset(config: SimConfig): ResetPlan {
  return { dataDir: config.data_dir, users: config.users.map((u) => u.username), ...simulatorState(config) };
}

/** What the plan removes, in words, for the confirmation question. */
export function describePlan(plan: ResetPlan): string[] {
  const lines = [`em-sim reset removes the simulator's state of ${plan.dataDir}:`];
  lines.push(
    plan.paths.length
      ? `  on disk: ${plan.paths.map((p) => path.relative(plan.dataDir, p)).join(', ')} (${plan.volumeCount} volume${plan.volumeCount === 1 ? '' : 's'})`
      : '  on disk: nothing (no database or volumes)',
  );
  if (plan.instanceId) lines.push(`  on the Docker engine: containers labelled ${instanceLabel(plan.instanceId)}`);
  if (plan.users.length) {
    if (plan.instanceId) lines.push(`  on the Docker engine: networks ${plan.users.map((u) => engineName(networkName(u), plan.instanceId!)).join(', ')}`);
    if (plan.instanceId) lines.push(`  on the Docker engine: images ${plan.users.map((u) => `${u}-*.${plan.instanceId}`).join(', ')}`);
  }
  if (plan.allInstances) {
    lines.push("  on the Docker engine, for --all-instances: the containers, networks and users' images of every em-sim instance (other simulators on this engine lose theirs)");
  }
  lines.push("  kept: the configuration, secret.key, instance-id and the onboard catalog's images");
  return lines;
}

/** How a reset went. */
export interface ResetResult {
  /** false when something could not be removed; `report` has said what and why. */
  complete: boolean;
  /** How many containers, networks, images, files and folders were removed. */
  removed: number;
}

/**
 * Carries the plan out: the engine first (so no pod writes into a volume being removed), then
 * the files. When no engine answers, the files are removed anyway, and the result is incomplete.
 */
export async function resetState(config: SimConfig, plan: ResetPlan, report: (line: string) => void): Promise<ResetResult> {
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

  const engine = engineTools(config, { instanceId: plan.instanceId ?? undefined });
  if ((await engine.ping(3000)) !== null) {
    complete = false;
    report(`✗ Docker: ${engine.missingMessage()}; containers, networks and images were not removed: run \`em-sim reset\` again once it answers`);
  } else {
    await removeFromEngine(engine, plan, done, failed);
    if (plan.allInstances) {
      for (const things of await engine.instances()) {
        const { removed: gone, failed: refused } = await engine.removeInstance(things);
        const whose = things.instance ? `instance ${things.instance}` : 'an em-sim without instance names';
        for (const what of gone) done(`✓ removed ${what} (${whose})`);
        for (const what of refused) failed(`${what} (${whose})`, new Error('the engine refused'));
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

/** The instance's containers, the users' networks and the users' images (untagged by name). */
async function removeFromEngine(engine: EngineTools, plan: ResetPlan, done: (line: string) => void, failed: (what: string, err: unknown) => void): Promise<void> {
  if (plan.instanceId) {
    for (const c of await engine.containers.listContainers()) {
      const name = c.name || c.id.slice(0, 12);
      await engine.containers.remove(c.id).then(
        () => done(`✓ removed container ${name}`),
        (err: unknown) => failed(`container ${name}`, err),
      );
    }
  }
  if (plan.instanceId) {
    const name = servicesNetworkName(plan.instanceId);
    await engine.removeServices().then(
      () => done(`✓ removed the onboard services' relays and network ${name}`),
      (err: unknown) => failed(`network ${name}`, err),
    );
  }
  let images: Awaited<ReturnType<EngineTools['images']['list']>> = [];
  try {
    if (plan.users.length) images = await engine.images.list();
  } catch (err) {
    failed("the users' images (the engine did not list them)", err);
  }
  for (const user of plan.users) {
    const name = plan.instanceId ? engineName(networkName(user), plan.instanceId) : networkName(user);
    await engine.containers.removeNetwork(networkName(user)).then(
      (existed) => existed && done(`✓ removed network ${name}`),
      (err: unknown) => failed(`network ${name} (a container outside this data directory may still use it)`, err),
    );
    // Untag by name, never remove by id: a user's tag may share its image with a catalog tag.
    for (const tag of images.flatMap((image) => image.repoTags).filter((t) => plan.instanceId !== null && ownedBy(user, t, plan.instanceId))) {
      await engine.images.remove(tag).then(
        () => done(`✓ removed image ${tag}`),
        (err: unknown) => failed(`image ${tag}`, err),
      );
    }
  }
}

/** Refuses to pull the database from under a simulator that answers at the configured address. */
export async function refuseIfRunning(config: SimConfig): Promise<void> {
  const { host, port } = config.server;
  if (port === 0) return;
  if (await emSimAt(host, port)) {
    throw new CliError(`an em-sim answers at ${reachableUrl(host, port)} (the configured address): stop it before reset, which removes the database it has open`);
  }
}
