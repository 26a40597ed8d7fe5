// Bundles em-sim's TypeScript sources (src/cli.ts and all it imports) and the packages they use
// into one CommonJS script, dist/em-sim.cjs, with esbuild: `em-sim` then starts without compiling
// TypeScript through tsx's loader hooks, nor resolving and reading some 900 files of node_modules.
// CommonJS because Node.js 20 keeps V8's compiled code only for scripts (bin/em-sim.js runs the
// bundle through vm.Script with a code cache), not for ES modules. Whitespace and comments are left
// out and the text is ASCII only: a single other character makes V8 hold all of it as two-byte
// text, read and parsed several times slower. Identifiers keep their names, for stack traces.
// Each file's import.meta.url is replaced by that file's own URL, so that the files found beside a
// source (the onboard catalog, the camera frame, package.json) are found from the bundle too (as a
// path relative to the bundle: a moved checkout keeps working). bin/em-sim.js uses the bundle only
// while it is newer than every source.
// It also bundles the dashboard (ui/, Preact, CodeMirror, Observable Plot) for the browser into
// dist/ui/: index.html, app.js, app.css, served at /ui by src/http/routes/ui.ts, offline.
// Run by `npm install` (prepare), `npm test` and the container image's build; `node
// scripts/bundle.mjs` by hand.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/em-sim.cjs');
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
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, require('node:url').pathToFileURL(__filename)).href`), loader: 'ts' };
    });
  },
};


/**
 * Modules of dockerode and docker-modem for what em-sim never or seldom does, kept out of the
 * bundle and required on first use: dockerode's BuildKit session (gRPC and a protobuf loader, 110
 * ms to load) and build progress (protobufjs), for `version: '2'` builds only, and docker-modem's
 * SSH transport (ssh2), for ssh:// engines only. Each exports one function or is required inside
 * one already.
 */
const DEFERRED = [
  { from: /[/\\]dockerode[/\\]lib$/, request: './session', module: 'dockerode/lib/session.js', eager: true },
  { from: /[/\\]dockerode[/\\]lib$/, request: './buildkit', module: 'dockerode/lib/buildkit.js', eager: false },
  { from: /[/\\]docker-modem[/\\]lib$/, request: './ssh', module: 'docker-modem/lib/ssh.js', eager: true },
];
const deferred = {
  name: 'deferred-engine-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/(session|buildkit|ssh)$/ }, (args) => {
      const entry = DEFERRED.find((d) => d.request === args.path && d.from.test(args.resolveDir));
      if (!entry) return undefined;
      // Required inside a function already: left to node_modules as it is.
      if (!entry.eager) return { path: entry.module, external: true };
      return { path: entry.module, namespace: 'deferred' };
    });
    // Resolved from dockerode's own folder, where npm puts docker-modem for it, nested or not.
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      contents:
        `const fromDockerode = () => require('node:module').createRequire(require('node:module').createRequire(__filename).resolve('dockerode/package.json'));\n` +
        `module.exports = function deferred(...args) { return fromDockerode()(${JSON.stringify(args.path.replace(/^dockerode\//, './'))}).apply(this, args); };`,
      loader: 'js',
    }));
  },
};

/**
 * zod exports its messages in 60-odd languages as z.locales (and core.locales) (358 KB of the bundle, parsed at
 * every start); em-sim's errors are English, configured by zod itself from its own en.js.
 */
const englishZod = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]v4[/\\](classic|core)$/.test(args.resolveDir) ? { path: 'zod-locales', namespace: 'english-zod' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'english-zod' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * satellite.js imports its WebAssembly runtimes (emscripten builds, with a top-level await a
 * CommonJS script cannot hold) only when asked for them; em-sim propagates with its JavaScript
 * SGP4, so they stay out.
 */
const noWasm = {
  name: 'satellite-wasm-runtimes-external',
  setup(b) {
    b.onResolve({ filter: /^#wasm-/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * @hono/node-server imports node:http2 (16 ms to load, at every start) for its `instanceof
 * Http2ServerRequest` checks and one constant. em-sim serves HTTP/1.1 only (src/http/node-server.ts
 * lets it make a node:http server), so no request is one: the import becomes a class nothing is an
 * instance of. Its own import only; anything else importing node:http2 gets the real module.
 */
const noHttp2 = {
  name: 'hono-node-server-without-http2',
  setup(b) {
    b.onResolve({ filter: /^node:http2$/ }, (args) => (/[/\\]@hono[/\\]node-server[/\\]/.test(args.importer) ? { path: 'node:http2', namespace: 'no-http2' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-http2' }, () => ({
      contents: 'export class Http2ServerRequest {}\nexport const constants = { NGHTTP2_NO_ERROR: 0 };\n',
      loader: 'js',
    }));
  },
};

/** What the bundle leaves to node_modules: native code, and packages that read files beside themselves at run time. */
const BUNDLE_EXTERNAL = [...DEFERRED.map((d) => d.module), 'better-sqlite3', 'ssh2', 'cpu-features', '@grpc/grpc-js', '@grpc/proto-loader', 'swagger-ui-dist', 'esbuild', 'tsx', 'fsevents'];

const started = performance.now();
// The bundle is stamped with the time the build began: a source saved while it ran is newer.
const begun = new Date();
const { outputFiles } = await build({
  entryPoints: [path.join(root, 'src/cli.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii',
  minifyWhitespace: true,
  // The dependencies are bundled too: resolving and reading some 900 files of node_modules was
  // most of a cold start. Kept outside: native code and packages that read files beside themselves.
  external: BUNDLE_EXTERNAL,
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [ownUrl, deferred, englishZod, noWasm, noHttp2],
  write: false,
});
const script = outputFiles.find((f) => f.path === out);
// Its own SHA-1 as its last line: bin/em-sim.js keys V8's code cache with it, without hashing the
// bundle at every start. After the source map's line, which maps no code.
const text = `${script.text}// em-sim bundle sha1 ${createHash('sha1').update(script.text).digest('hex')}\n`;
const problems = [];
const dynamicImport = text.search(/\bimport\(/);
// bin/em-sim.js runs the bundle from V8's code cache, after which Node.js 20 cannot import().
if (dynamicImport >= 0) problems.push(`an import() at ${text.slice(Math.max(0, dynamicImport - 60), dynamicImport + 40)}: import a bundled module, or require() an external one`);
const wide = text.search(/[^\x00-\x7f]/);
if (wide >= 0) problems.push(`a character that is not ASCII at ${text.slice(Math.max(0, wide - 60), wide + 20)}: write it as an escape (\\u...) in its source, else every start reads and parses the bundle as two-byte text`);
if (problems.length > 0) {
  for (const problem of problems) process.stderr.write(`bundle: ${path.relative(process.cwd(), out)} would hold ${problem}\n`);
  process.stderr.write('bundle: not written; em-sim runs from the sources until it is\n');
  process.exit(1);
}
// Each file written beside its place and renamed into it: a start meanwhile reads the old bundle
// or the new one, never half of one. The script last, stamped before it appears.
for (const file of [...outputFiles.filter((f) => f !== script), script]) {
  const temp = `${file.path}.${process.pid}`;
  writeFileSync(temp, file === script ? text : file.contents);
  if (file === script) utimesSync(temp, begun, begun);
  renameSync(temp, file.path);
}
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
