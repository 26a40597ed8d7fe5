import { Command, InvalidArgumentError } from 'commander';
import { ensureCatalogImages } from './adapters/docker/catalog-images.ts';
import { describeEngine, requireDocker } from './adapters/docker/engine.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { catalogEntries } from './domain/catalog.ts';
import { Logger } from './logger.ts';
import { startServer } from './server.ts';
import { VERSION } from './version.ts';

const program = new Command('em-sim')
  .description('Local simulator of the ClusterGate-2 Engineering Model API')
  .version(VERSION)
  .showHelpAfterError();

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
};

program
  .command('start')
  .description('start the simulator and serve the EM API')
  .option('-c, --config <path>', 'configuration file (default: $EM_SIM_CONFIG, else ./sim-config.yaml)')
  .option('--host <host>', 'address to listen on (default 127.0.0.1)')
  .option('-p, --port <n>', 'port to listen on (default 8000)', port)
  .option('--data-dir <dir>', 'where state and volumes are kept (default ./data)')
  .action(async (opts: { config?: string; host?: string; port?: number; dataDir?: string }) => {
    const { config, source } = loadConfig({ configPath: opts.config, overrides: opts });
    const logger = new Logger(config.log.level);
    const running = await startServer(config, { logger });
    logger.info('em-sim listening', { url: running.url, config: source ?? '(defaults)', data_dir: config.data_dir });
    process.stdout.write(`em-sim ${VERSION} listening on ${running.url}\n`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      await running.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('images')
  .description('make the onboard image catalog exist on the Docker engine: pull each image, else build a stand-in offline')
  .option('-c, --config <path>', 'configuration file (default: $EM_SIM_CONFIG, else ./sim-config.yaml)')
  .option('--no-pull', 'do not try registries; build stand-ins straight away')
  .action(async (opts: { config?: string; pull: boolean }) => {
    const { config, source } = loadConfig({ configPath: opts.config });
    const entries = catalogEntries(config.images);
    const docker = await requireDocker();
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
    process.stdout.write(
      `em-sim images: ${entries.length} catalog images from ${source ?? 'the default configuration'}, ` +
        `registry ${config.images.registry}, engine ${describeEngine()}\n`,
    );
    const reports = await ensureCatalogImages(docker, entries, config.images.registry, {
      pull: opts.pull,
      onProgress: ({ message }) => process.stdout.write(`[${elapsed()}] ${message}\n`),
    });
    const count = (status: string) => reports.filter((r) => r.status === status).length;
    const failed = reports.filter((r) => r.status === 'failed');
    process.stdout.write(
      `em-sim images: done in ${elapsed().trim()}: ${count('present')} present, ${count('pulled')} pulled, ` +
        `${count('standin-built')} stand-ins, ${failed.length} failed\n`,
    );
    if (failed.length) {
      throw new Error(`${failed.length} catalog image(s) not ready, see the reasons above: ${failed.map((r) => r.ref).join(', ')}`);
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`em-sim: ${err.message}\n`);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`em-sim: the port is already in use (${(err as Error).message}); pick another with --port\n`);
  } else {
    process.stderr.write(`em-sim: ${(err as Error).message}\n`);
  }
  process.exit(1);
}
