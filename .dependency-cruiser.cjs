/**
 * The import rules of em-sim's layers (ARCHITECTURE.md). test/architecture/layers.test.ts runs them on
 * every `npm test`; `npm run lint:deps` prints the same report by hand.
 *
 *   http ─┐
 *         ├─> domain (services, rules, errors, ports) <── adapters
 *   cli ──┴─> simulator.ts (the composition root: the one module that imports adapters)
 *
 * Rule syntax: https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */

/** Everything of src/ outside the domain. */
const OUTSIDE_DOMAIN = '^src/(?!domain/)';
/** The composition root and the command line: only the command line may import them. */
const ENTRY_POINTS = '^src/(simulator|cli)\\.ts$';

/** Packages that do input and output: the domain declares a port instead, and an adapter uses them. */
const IO_PACKAGES = [
  'fs',
  'fs/promises',
  'child_process',
  'cluster',
  'dgram',
  'dns',
  'http',
  'http2',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'process',
  'readline',
  'repl',
  'tls',
  'tty',
  'v8',
  'vm',
  'worker_threads',
  'dockerode',
  'better-sqlite3',
  'busboy',
  'hono',
  '@hono/node-server',
  'tar-fs',
  'tar-stream',
  'commander',
  'yaml',
];
const ioPackage = `^(node:)?(${IO_PACKAGES.map((p) => p.replace('/', '\\/')).join('|')})(/|$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module may import itself through others: a circle has no bottom floor to build on.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-the-domain',
      severity: 'error',
      comment:
        'The domain (services, rules, the error type and every port) is the centre: it imports nothing of ' +
        'http/, adapters/, config/, cli/ or the composition root. What it needs from outside, it declares as a port ' +
        'in src/domain/ports/, and an adapter implements it.',
      from: { path: '^src/domain/' },
      to: { path: OUTSIDE_DOMAIN },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment:
        'The domain reads no files, talks to no engine or database and serves no HTTP: it calls a port. ' +
        `(${IO_PACKAGES.join(', ')} belong to adapters, the HTTP layer and the command line.)`,
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev'], path: ioPackage },
    },
    {
      name: 'adapters-implement-domain-ports',
      severity: 'error',
      comment: 'An adapter implements a port of the domain; it never reaches up into http/, config/, cli/ or the composition root.',
      from: { path: '^src/adapters/' },
      to: { path: ['^src/(http|config|cli)/', ENTRY_POINTS] },
    },
    {
      name: 'http-talks-to-the-domain-only',
      severity: 'error',
      comment:
        'A route decodes the request, calls one domain operation and encodes the answer: it never uses an adapter, ' +
        'the configuration file format or the command line. The composition root hands it what it needs.',
      from: { path: '^src/http/' },
      to: { path: ['^src/(adapters|config|cli)/', ENTRY_POINTS] },
    },
    {
      name: 'config-is-input-only',
      severity: 'error',
      comment: 'The configuration schema may use the domain\'s values (node names, the ISO time rule); nothing else.',
      from: { path: '^src/config/' },
      to: { path: ['^src/(adapters|http|cli)/', ENTRY_POINTS] },
    },
    {
      name: 'cli-goes-through-the-composition-root',
      severity: 'error',
      comment: 'The command line gets engines, stores and tokens from src/simulator.ts, the one place that builds adapters.',
      from: { path: '^src/cli(/|\\.ts$)' },
      to: { path: '^src/(adapters|http)/' },
    },
    {
      name: 'only-the-cli-imports-the-entry-points',
      severity: 'error',
      comment: 'src/simulator.ts and src/cli.ts sit on top: nothing in src/ but the command line imports them.',
      from: { path: '^src/', pathNot: '^src/cli(/|\\.ts$)' },
      to: { path: ENTRY_POINTS },
    },
    {
      name: 'src-does-not-import-tests-or-benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'the-dashboard-talks-http-only',
      severity: 'error',
      comment:
        'The dashboard (ui/) runs in the browser and reaches the simulator through the same /auth/, /em/* and /sim/* routes ' +
        'a script uses: it imports nothing of src/ outside the domain, nor of test/ or bench/.',
      from: { path: '^ui/' },
      to: { path: '^(src/(?!domain/)|test/|bench/)' },
    },
    {
      name: 'the-dashboard-takes-only-types-from-the-domain',
      severity: 'error',
      comment:
        'The dashboard may read the shapes of the answers from the domain (`import type`: the execution record, a pod summary), ' +
        'so that the page and the server cannot drift apart; no code of the domain runs in the browser.',
      from: { path: '^ui/' },
      to: { path: '^src/domain/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-the-dashboard',
      severity: 'error',
      from: { path: '^(src|test|bench)/' },
      to: { path: '^ui/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
