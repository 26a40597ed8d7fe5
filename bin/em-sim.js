#!/usr/bin/env node
// Runs em-sim: from dist/em-sim.mjs (scripts/bundle.mjs) while that bundle is newer than every
// source, else the TypeScript sources directly through tsx, so a clone needs no build step and an
// edited source is never shadowed by an old bundle. EM_SIM_NO_BUNDLE=1 always takes the sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node.js 22.1 and later keep V8's compiled code between runs (parsing the 2 MB bundle is about a
// fifth of a cold start); Node.js 20 has no such switch and starts without it.
module.enableCompileCache?.();

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/em-sim.mjs`;

/** Whether a file under `dir` changed after `ms` (epoch ms). */
function changedSince(dir, ms) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => !e.isDirectory() && statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs > ms);
}

/** Whether the bundle was built after every source, package.json and the bundler last changed. */
function bundleIsFresh() {
  if (process.env.EM_SIM_NO_BUNDLE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  // An install without sources runs the bundle as it is.
  if (!existsSync(`${root}src`)) return true;
  if (changedSince(`${root}src`, built)) return false;
  // The bundle holds the packages too: an install that changed them makes it stale.
  return [`${root}package.json`, `${root}package-lock.json`, `${root}scripts/bundle.mjs`].every((file) => !existsSync(file) || statSync(file).mtimeMs <= built);
}

/** The dashboard (dist/ui/) is older than its sources (ui/): rebuild both bundles (about 2 s). */
function dashboardIsStale() {
  if (!existsSync(`${root}ui`) || !existsSync(`${root}scripts/bundle.mjs`)) return false;
  const page = `${root}dist/ui/index.html`;
  return !existsSync(page) || changedSince(`${root}ui`, statSync(page).mtimeMs);
}

// Only `em-sim start` serves the dashboard; other commands do not wait for it.
if (process.argv[2] === 'start' && dashboardIsStale()) {
  const built = spawnSync(process.execPath, [`${root}scripts/bundle.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) process.stderr.write('em-sim: the dashboard could not be rebuilt (see above); /ui serves the last build, if any\n');
}

if (bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
