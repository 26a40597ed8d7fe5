import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import type TarFs from 'tar-fs';
import type TarStream from 'tar-stream';

// Packages em-sim loads at their first use instead of at start, so that a cold start does not
// run them before the server answers (issue 16: 12 ms for the engine client and its HTTP stack,
// 6 ms for the tar streams and their readable-stream, on this 2-core machine). In the bundle
// (CommonJS, scripts/bundle.mjs) esbuild bundles each require() below and runs that package at
// the call; from the sources (ES modules, through tsx) there is no require, and the package is
// loaded from node_modules. The literal require('name') must stay: it is what esbuild bundles.

const fromSources = (name: string): unknown => createRequire(import.meta.url)(name);

/** dockerode's constructor (the Docker engine client). */
export function dockerode(): typeof Docker {
  return typeof require === 'function' ? require('dockerode') : (fromSources('dockerode') as typeof Docker);
}

/** tar-stream: pack() and extract() (image archives, build contexts). */
export function tarStream(): typeof TarStream {
  return typeof require === 'function' ? require('tar-stream') : (fromSources('tar-stream') as typeof TarStream);
}

/** tar-fs: pack() of a folder (a volume's download as a tar). */
export function tarFs(): typeof TarFs {
  return typeof require === 'function' ? require('tar-fs') : (fromSources('tar-fs') as typeof TarFs);
}
