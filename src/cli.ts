import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CliError } from './cli/errors.ts';
import { formatCheck, runDoctor, summarize } from './cli/doctor.ts';
import { provisionImages, startProgress } from './cli/images.ts';
import { describePlan, planReset, refuseIfRunning, resetState } from './cli/reset.ts';
import { issueTokens } from './cli/token.ts';
import { listExecutions, processOutput, runOperation, showExecution, validateFiles } from './cli/operation.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { isReady } from './domain/images/catalog-images.ts';
import { createLogger, startServer } from './simulator.ts';
import { VERSION } from './version.ts';

const program = new Command('em-sim')
  .description('Local simulator of the ClusterGate-2 Engineering Model API')
  .version(VERSION)
  // Errors are printed as one line by the handler at the bottom, never as commander's own text.
  .configureOutput({ outputError: () => {} })
  .exitOverride();

/** A command whose usage errors name it, so the one-line message can point at its --help. */
const command = (name: string) => {
  const cmd = program.command(name);
  return cmd.exitOverride((err) => {
    throw Object.assign(err, { command: cmd.name() });
  });
};

const CONFIG_HELP = 'configuration file (default: $EM_SIM_CONFIG, else ./sim-config.yaml)';
const DATA_DIR_HELP = 'where state and volumes are kept (default ./data)';

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
};

const out = (line: string) => process.stdout.write(line + '\n');

command('start')
  .description('start the simulator and serve the EM API')
  .option('-c, --config <path>', CONFIG_HELP)
  .option('--host <host>', 'address to listen on (default 127.0.0.1)')
  .option('-p, --port <n>', 'port to listen on (default 8000)', port)
  .option('--data-dir <dir>', DATA_DIR_HELP)
  .action(async (opts: { config?: string; host?: string; port?: number; dataDir?: string }) => {
    const { config, source, fromEnv } = loadConfig({ configPath: opts.config, overrides: opts });
    const logger = createLogger(config.log.level);
    // images.prepare begins in the background: a progress bar on a terminal, log lines otherwise.
    const progress = startProgress(config.images.prepare.length, Boolean(process.stdout.isTTY), (p) => logger.info('catalog image', { ...p }));
    // A signal during start-up (em-sim is PID 1 in its image: without a handler `docker stop`
    // would wait out its timeout) stops the simulator once it has started, so that it cleans up.
    let requested: string | null = null;
    let onSignal = (signal: string) => void (requested ??= signal);
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    const running = await startServer(config, { logger, prepareCatalog: true, onCatalogProgress: (p) => progress.listener(p) });
    logger.info('em-sim listening', { url: running.url, config: source ?? '(defaults)', ...(fromEnv.length ? { env: fromEnv } : {}), data_dir: config.data_dir });
    process.stdout.write(`em-sim ${VERSION} listening on ${running.url}\n  dashboard: ${running.url}/ui   API page: ${running.url}/docs\n`);
    void running.sim.preparation.then((reports) => {
      progress.end();
      const ready = reports.filter(isReady);
      const failed = reports.filter((r) => !isReady(r));
      if (reports.length) out(`em-sim: onboard images ready: ${ready.map((r) => r.ref).join(', ') || 'none'}`);
      for (const r of failed) out(`em-sim: ${r.ref} could not be prepared: ${r.detail ?? 'unknown reason'}`);
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      await running.close();
      process.exit(0);
    };
    onSignal = (signal) => void stop(signal);
    if (requested) await stop(requested);
  });

command('images')
  .summary('make onboard catalog images exist on the Docker engine (pull, else build a stand-in offline)')
  .description(
    'make onboard catalog images exist on the Docker engine for the configured platform: pull each (linux/arm64, ' +
      'the pinned upstream version) when a registry answers, else build a stand-in offline. With no IMAGE, the ' +
      'images.prepare list; --all for the whole catalog (images em-sim cannot make here are reported, not failed). ' +
      'Pods and builds also prepare what they need on first use',
  )
  .argument('[image...]', 'catalog images to prepare, e.g. python:3.10-slim')
  .option('-c, --config <path>', CONFIG_HELP)
  .option('--all', 'every image of the catalog')
  .option('--list', 'only list the catalog: present, stand-in, missing (made on first use) or unavailable here')
  .option('--no-pull', 'do not try registries; build stand-ins straight away')
  .action(async (refs: string[], opts: { config?: string; pull: boolean; all?: boolean; list?: boolean }) => {
    const { config, source } = loadConfig({ configPath: opts.config });
    await provisionImages(config, source, {
      refs,
      all: opts.all ?? false,
      list: opts.list ?? false,
      pull: opts.pull,
      out,
      bars: Boolean(process.stdout.isTTY),
    });
  });

command('doctor')
  .summary('check that this machine can run the simulator, and say how to fix what is missing')
  .description(
    'check that this machine can run the simulator: Docker engine (DOCKER_HOST respected), catalog images, ' +
      'arm64 emulation, the port, free disk space; prints how to fix each failure. ' +
      'Exits 1 when the engine or the catalog images are missing, 0 otherwise',
  )
  .option('-c, --config <path>', CONFIG_HELP)
  .option('--host <host>', 'address to check (default: server.host)')
  .option('-p, --port <n>', 'port to check (default: server.port)', port)
  .option('--data-dir <dir>', DATA_DIR_HELP)
  .action(async (opts: { config?: string; host?: string; port?: number; dataDir?: string }) => {
    let loaded;
    try {
      loaded = loadConfig({ configPath: opts.config, overrides: opts });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      out(formatCheck({ name: 'configuration', ok: false, required: true, detail: err.message, fix: 'correct the configuration file' }));
      process.exitCode = 1;
      return;
    }
    const { config, source } = loaded;
    out(formatCheck({ name: 'configuration', ok: true, required: true, detail: `${source ?? 'defaults (no sim-config.yaml)'}, data directory ${config.data_dir}` }));
    const checks = await runDoctor(config, { configSource: opts.config ?? null });
    for (const check of checks) out(formatCheck(check));
    const { exitCode, line } = summarize(checks);
    out(line);
    process.exitCode = exitCode;
  });

command('token')
  .summary('print an access token for a configured user')
  .description(
    'print an access token for a configured user (the first one by default), signed with the secret the server uses ' +
      'on this data directory (auth.signing_secret, else DATA_DIR/secret.key); use it as "Authorization: Bearer TOKEN"',
  )
  .argument('[user]', 'a username from the configuration')
  .option('-c, --config <path>', CONFIG_HELP)
  .option('--data-dir <dir>', DATA_DIR_HELP)
  .option('--refresh', 'print the refresh token too, on a second line')
  .action(async (user: string | undefined, opts: { config?: string; dataDir?: string; refresh?: boolean }) => {
    const { config } = loadConfig({ configPath: opts.config, overrides: opts });
    const issued = await issueTokens(config, user);
    out(issued.access);
    if (opts.refresh) out(issued.refresh);
    if (process.stderr.isTTY) {
      process.stderr.write(
        `em-sim: access token of ${issued.user}, valid ${issued.accessLifetimeSeconds} s (auth.access_token_lifetime)` +
          `${opts.refresh ? '; the second line is the refresh token, for POST /auth/refresh' : ''}\n`,
      );
    }
  });

command("reset")
  .summary("remove the simulator's containers, networks, images, database and volumes")
  .description(
    "remove the simulator's state: its containers, networks and images on the Docker engine, the database and the volumes " +
      '(the configuration and secret.key are kept). Asks "type yes to continue" on a terminal; without one, --yes is required',
  )
  .option('-c, --config <path>', CONFIG_HELP)
  .option('--data-dir <dir>', DATA_DIR_HELP)
  .option('-y, --yes', 'do not ask; remove straight away')
  .option('--all-instances', "also remove every other em-sim instance's containers, networks and users' images on this engine (other simulators lose theirs; the catalog's images stay)")
  .action(async (opts: { config?: string; dataDir?: string; yes?: boolean; allInstances?: boolean }) => {
    const { config } = loadConfig({ configPath: opts.config, overrides: opts });
    await refuseIfRunning(config);
    const plan = { ...planReset(config), allInstances: Boolean(opts.allInstances) };
    if (!opts.yes) {
      if (!process.stdin.isTTY) {
        throw new CliError(`reset removes the database and volumes of ${plan.dataDir} and cannot ask without a terminal: pass --yes to confirm`);
      }
      for (const line of describePlan(plan)) out(line);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question('type yes to continue: ').finally(() => rl.close());
      if (answer.trim() !== 'yes') throw new CliError('reset cancelled: nothing was removed');
    }
    const { complete, removed } = await resetState(config, plan, out);
    if (!complete) throw new CliError('reset incomplete: see the ✗ lines above');
    out(`em-sim reset: ${removed ? 'done' : 'nothing to remove'}; ${plan.dataDir} starts afresh on the next start`);
  });

const operation = command('operation')
  .summary("dry-run the provider's operation files: validate, run, list and show executions")
  .description(
    "dry-run operations (the YAML files the provider's dashboard executes) on the simulator: validate them, run one " +
      'with the namespace file area on your disk, list and show past executions. run, list and show talk to the ' +
      'simulator at --url (default: the configured address) and start one for the command when none answers there',
  );
const sub = (name: string) =>
  operation.command(name).exitOverride((err) => {
    throw Object.assign(err, { command: `operation ${name}` });
  });
const connectOptions = (cmd: Command) =>
  cmd
    .option('-c, --config <path>', CONFIG_HELP)
    .option('--url <url>', 'the simulator to use (default: http://server.host:server.port of the configuration)')
    .option('--user <name>', 'whose execution (default: the first configured user)')
    .option('--password <password>', "the user's password (default: the configured one)")
    .option('--data-dir <dir>', `${DATA_DIR_HELP}; for a simulator this command starts`);

sub('validate')
  .description('check operation files without running anything: every error with file, line and column; exit 1 on any')
  .argument('<file...>', 'operation files (YAML)')
  .option('-c, --config <path>', `${CONFIG_HELP}; its onboard catalog tells which pod images are onboard`)
  .action((files: string[], opts: { config?: string }) => {
    const { config } = loadConfig({ configPath: opts.config });
    process.exitCode = validateFiles(files, processOutput, config);
  });

connectOptions(
  sub('run')
    .description(
      'run an operation and follow it: uplink sources are read from --files DIR (uploaded to the namespace when changed), ' +
        'downlinked files are written into it. Exit 0 COMPLETED, 1 FAILED, 130 interrupted (the execution is killed)',
    )
    .argument('<file>', 'the operation (YAML)')
    .option('--files <dir>', "the namespace's file area on your disk (default: the folder holding FILE)")
    .option('--json', 'print only the execution record, as JSON, on standard output'),
).action(async (file: string, opts: { config?: string; dataDir?: string; url?: string; user?: string; password?: string; files?: string; json?: boolean }) => {
  const { config } = loadConfig({ configPath: opts.config, overrides: { dataDir: opts.dataDir } });
  process.exitCode = await runOperation(file, config, opts, processOutput);
});

connectOptions(sub('list').description('your executions, newest first').option('--json', 'as JSON')).action(
  async (opts: { config?: string; dataDir?: string; url?: string; user?: string; password?: string; json?: boolean }) => {
    const { config } = loadConfig({ configPath: opts.config, overrides: { dataDir: opts.dataDir } });
    process.exitCode = await listExecutions(config, opts, processOutput);
  },
);

connectOptions(sub('show').description("an execution's record: states, tasks, outputs, errors, logs").argument('<id>', 'the execution id').option('--json', 'the record as JSON')).action(
  async (id: string, opts: { config?: string; dataDir?: string; url?: string; user?: string; password?: string; json?: boolean }) => {
    const { config } = loadConfig({ configPath: opts.config, overrides: { dataDir: opts.dataDir } });
    process.exitCode = await showExecution(id, config, opts, processOutput);
  },
);

// Not a top-level await: the bundle is a CommonJS script (scripts/bundle.mjs), which has none.
program.parseAsync(process.argv).catch((err: unknown) => process.exit(report(err)));

/** Prints the failure as one line and returns the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end this way too, having printed what was asked for.
    if (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
      return err.exitCode;
    }
    const name = (err as CommanderError & { command?: string }).command;
    const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`em-sim${name ? ` ${name}` : ''}: ${message}; see \`em-sim${name ? ` ${name}` : ''} --help\`\n`);
    return err.exitCode || 1;
  }
  if (err instanceof CliError) {
    process.stderr.write(`em-sim: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`em-sim: ${err.message}\n`);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`em-sim: the port is already in use (${(err as Error).message}); pick another with --port\n`);
  } else {
    process.stderr.write(`em-sim: ${(err as Error).message}\n`);
  }
  return 1;
}
