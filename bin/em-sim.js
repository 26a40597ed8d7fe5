#!/usr/bin/env node
// Runs em-sim: from dist/em-sim.cjs (scripts/bundle.mjs) while that bundle is newer than every
// source, else the TypeScript sources directly through tsx, so a clone needs no build step and an
// edited source is never shadowed by an old bundle. EM_SIM_NO_BUNDLE=1 always takes the sources.
// CommonJS (bin/package.json): Node.js 20 starts a CommonJS script without its ES module loader,
// some 15 ms of every start on a 2-core machine.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

const root = `${dirname(__dirname)}/`;
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
  const key = bundleKey(bytes);
  // ASCII only (scripts/bundle.mjs refuses anything else): latin1 copies the bytes into a one-byte
  // string where utf8 would decode them (8 to 20 ms of each start here).
  const source = bytes.toString('latin1');
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
  script.runInThisContext().call(bundled.exports, bundled.exports, Module.createRequire(bundle), bundled, bundle, dirname(bundle));
}

/** What scripts/bundle.mjs writes as the bundle's last line: the SHA-1 of the text before it. */
const SHA1_LINE = /\/\/ em-sim bundle sha1 ([0-9a-f]{40})\n$/;

/**
 * The SHA-1 of the bundle (20 bytes), which its own last line gives (hashing 1.5 MB took 7 ms of
 * each start here); computed for a bundle without that line.
 */
function bundleKey(bytes) {
  const line = SHA1_LINE.exec(bytes.subarray(-80).toString('latin1'));
  return line ? Buffer.from(line[1], 'hex') : createHash('sha1').update(bytes).digest();
}

if (bundleIsFresh()) {
  runBundle();
} else {
  // tsx's loader hooks, then the sources as ES modules (a failure is thrown as an unhandled rejection: its stack, exit code 1).
  import('tsx/esm/api')
    .then(({ register }) => {
      register();
      return import('../src/cli.ts');
    });
}
