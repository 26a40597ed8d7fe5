#!/usr/bin/env node
// Runs em-sim: from dist/em-sim.cjs (scripts/bundle.mjs) while that bundle is newer than every
// source, else the TypeScript sources directly through tsx, so a clone needs no build step and an
// edited source is never shadowed by an old bundle. EM_SIM_NO_BUNDLE=1 always takes the sources.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/em-sim.cjs`;

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

/**
 * Where V8's compiled code for the bundle is kept (one file per Node.js version, whose V8 wrote
 * it): EM_SIM_CODE_CACHE_DIR, else dist/.v8-cache beside the bundle.
 */
const CODE_CACHE = `${process.env.EM_SIM_CODE_CACHE_DIR || `${root}dist/.v8-cache`}/em-sim-${process.version}-${process.arch}.bin`;
/** How long after the bundle started its compiled code is saved: by then a start has served its first answers. */
const CODE_CACHE_AFTER_MS = 2000;

/**
 * Runs the CommonJS bundle as require() would (same wrapper, module object and require), but
 * compiled by vm.Script with V8's code cache: Node.js 20 has no compile cache of its own
 * (module.enableCompileCache is 22.1+), and parsing and compiling the 1.5 MB bundle were most of a
 * cold start. The cache is V8's code for every function compiled in the first CODE_CACHE_AFTER_MS
 * (script.createCachedData(), which takes the lazily compiled ones too), written atomically to
 * CODE_CACHE after a start that found none or found it stale, and prefixed with the SHA-1 of the
 * bundle's text: V8 itself checks only the text's length. A cache that cannot be written (a
 * read-only install) only costs the next start its speed; one V8 rejects (other flags) is redone.
 */
function runBundle() {
  const bytes = readFileSync(bundle);
  const key = createHash('sha1').update(bytes).digest();
  const source = bytes.toString('utf8'); // ASCII (scripts/bundle.mjs): a one-byte string
  let cachedData;
  try {
    const saved = readFileSync(CODE_CACHE);
    if (saved.subarray(0, key.length).equals(key)) cachedData = saved.subarray(key.length);
  } catch {
    // none yet
  }
  // No importModuleDynamically: the bundle holds no import() (scripts/bundle.mjs refuses one; in
  // Node.js 20's V8 a script read from a code cache loses what import() needs, nodejs/node#43663).
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    setTimeout(() => {
      const temp = `${CODE_CACHE}.${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        mkdirSync(dirname(CODE_CACHE), { recursive: true });
        writeFileSync(temp, Buffer.concat([key, script.createCachedData()]));
        renameSync(temp, CODE_CACHE);
      } catch {
        // read-only, or full: the next start compiles again
        rmSync(temp, { force: true });
      }
    }, CODE_CACHE_AFTER_MS).unref();
  }
  const bundled = new Module(bundle);
  bundled.filename = bundle;
  script.runInThisContext().call(bundled.exports, bundled.exports, createRequire(bundle), bundled, bundle, dirname(bundle));
}

if (bundleIsFresh()) {
  runBundle();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
