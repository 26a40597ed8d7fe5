#!/usr/bin/env node
// Runs em-sim: from dist/em-sim.mjs (scripts/bundle.mjs) while that bundle is newer than every
// source, else the TypeScript sources directly through tsx, so a clone needs no build step and an
// edited source is never shadowed by an old bundle. EM_SIM_NO_BUNDLE=1 always takes the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/em-sim.mjs`;

function bundleIsFresh() {
  if (process.env.EM_SIM_NO_BUNDLE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  for (const entry of readdirSync(`${root}src`, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > built) return false;
  }
  return statSync(`${root}package.json`).mtimeMs <= built;
}

if (bundleIsFresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
