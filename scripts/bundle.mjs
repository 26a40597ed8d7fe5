// Bundles em-sim's TypeScript sources (src/cli.ts and all it imports) into one ES module,
// dist/em-sim.mjs, with esbuild: `em-sim` then starts without compiling TypeScript through tsx's
// loader hooks on every start (about 4x faster to its first answer). Packages stay external and
// load from node_modules; each file's import.meta.url is replaced by that file's own URL, so that
// the files found beside a source (the onboard catalog, the camera frame, package.json) are found
// from the bundle too (as a path relative to the bundle: a moved checkout keeps working). bin/em-sim.js uses the bundle only while it is newer than every source.
// It also bundles the dashboard (ui/, Preact, CodeMirror, Observable Plot) for the browser into
// dist/ui/: index.html, app.js, app.css, served at /ui by src/http/routes/ui.ts, offline.
// Run by `npm install` (prepare), `npm test` and the container image's build; `node
// scripts/bundle.mjs` by hand.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/em-sim.mjs');
mkdirSync(path.dirname(out), { recursive: true });

/** import.meta.url, per file: the source's own URL, as it is when tsx runs it. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      // Relative to the bundle, so that a checkout moved elsewhere still finds its own files.
      const fromBundle = path.relative(path.dirname(out), args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

const started = performance.now();
// The bundle is stamped with the time the build began: a source saved while it ran is newer.
const begun = new Date();
await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [ownUrl],
});
utimesSync(out, begun, begun);
process.stderr.write(`bundle: ${path.relative(process.cwd(), out)} in ${Math.round(performance.now() - started)} ms\n`);

// The dashboard: one browser module and its styles, minified, everything inlined (the world's
// land outline too), so that /ui works offline. Built whole into a fresh folder that then takes
// dist/ui's place, so a simulator serving it never sees a half-built one, and a failed build
// leaves the last good one.
const uiStarted = performance.now();
const uiDist = path.join(root, 'dist/ui');
const uiOut = path.join(root, `dist/.ui-${process.pid}`);
rmSync(uiOut, { recursive: true, force: true });
mkdirSync(uiOut, { recursive: true });
try {
  await build({
    entryPoints: { app: path.join(root, 'ui/main.tsx') },
    outdir: uiOut,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(path.join(root, 'ui/index.html'), path.join(uiOut, 'index.html'));
  utimesSync(path.join(uiOut, 'index.html'), begun, begun);
  const old = path.join(root, `dist/.ui-old-${process.pid}`);
  if (existsSync(uiDist)) renameSync(uiDist, old);
  renameSync(uiOut, uiDist);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(uiOut, { recursive: true, force: true });
}
process.stderr.write(`bundle: ${path.relative(process.cwd(), uiDist)}/ in ${Math.round(performance.now() - uiStarted)} ms\n`);
