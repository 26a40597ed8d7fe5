#!/usr/bin/env node
// Runs em-sim: from dist/em-sim.mjs (scripts/bundle.mjs) while that bundle is newer than every
// source, else the TypeScript sources directly through tsx, so a clone needs no build step and an
// edited source is never shadowed by an old bundle. EM_SIM_NO_BUNDLE=1 always takes the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/em-sim.mjs`;

/** Whether the bundle was built after every source, package.json and the bundler last changed. */
function bundleIsFresh() {
  if (process.env.EM_SIM_NO_BUNDLE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  // An install without sources runs the bundle as it is.
  if (!existsSync(`${root}src`)) return true;
  for (const entry of readdirSync(`${root}src`, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) continue;
    if (statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > built) return false;
  }
  return [`${root}package.json`, `${root}scripts/bundle.mjs`].every((file) => !existsSync(file) || statSync(file).mtimeMs <= built);
}

if (bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
