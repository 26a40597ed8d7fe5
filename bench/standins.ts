import { randomBytes } from 'node:crypto';
import { connectDocker, dockerAvailable } from '../src/adapters/docker/engine.ts';
import { DockerImages } from '../src/adapters/docker/docker-images.ts';
import { standinRecipes } from '../src/adapters/standins/recipes.ts';
import { buildConfig } from '../src/config/load.ts';
import { CatalogImages } from '../src/domain/images/catalog-images.ts';
import { STANDIN_KINDS, type StandinKind } from '../src/domain/images/catalog.ts';
import type { StandinRecipes } from '../src/domain/ports/standin-recipes.ts';
import { simulatorPlatform } from '../src/simulator.ts';
import type { BenchContext } from './lib/context.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { round } from './lib/stats.ts';

/**
 * 7. Stand-in preparation: for each stand-in family, the time from nothing to a catalog tag ready
 * on the engine, offline (no registry), for the platform this machine runs pods as (arm64 under
 * emulation by default): the root filesystem made from Debian's packages, loaded, and one tag
 * derived. A recipe version of its own makes sure nothing already on the engine is reused; what
 * it makes is removed afterwards. Shown for context: it is a one-time cost per machine.
 */
export async function standins(ctx: BenchContext): Promise<BenchResult[]> {
  const docker = connectDocker();
  const kinds = STANDIN_KINDS.filter((k): k is Exclude<StandinKind, 'none'> => k !== 'none');
  if (!(await dockerAvailable(docker, 3000))) return kinds.map((k) => skipped(`standin.${k}.prepare`, 's', '(context)', 'no Docker engine answers'));
  const config = buildConfig();
  const platform = simulatorPlatform(config);
  const version = `bench-${randomBytes(3).toString('hex')}`;
  const recipes: StandinRecipes = { ...standinRecipes, version: () => version };
  const images = new DockerImages(docker, 'bench');
  const out: BenchResult[] = [];
  for (const kind of kinds) {
    const ref = `em-sim-bench-${kind}:${version}`;
    const catalog = new CatalogImages(images, recipes, [{ ref, standin: kind }], config.images.registry, platform, { pull: false });
    const started = performance.now();
    const [report] = await catalog.ensure();
    const seconds = (performance.now() - started) / 1000;
    if (report?.status !== 'standin-built') {
      out.push(skipped(`standin.${kind}.prepare`, 's', '(context)', report?.detail ?? 'no report'));
    } else {
      const size = (await images.inspect(ref))?.size ?? 0;
      ctx.log(`${kind} stand-in for linux/${platform.architecture}: ${round(seconds, 1)} s, ${round(size / 1e6, 0)} MB`);
      out.push(result(`standin.${kind}.prepare`, seconds, 's', null, { none: true }, `linux/${platform.architecture}, offline, ${round(size / 1e6, 0)} MB`));
    }
    for (const tag of [ref, `${config.images.registry}/${ref}`, `em-sim-standin/${kind}:r${version}-${platform.architecture}`]) await images.remove(tag).catch(() => {});
  }
  return out;
}
