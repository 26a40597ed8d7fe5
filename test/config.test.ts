import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, loadConfig } from '../src/config/load.ts';
import { catalogEntries } from '../src/domain/images/catalog.ts';
import { configuredCatalog } from '../src/config/provider-catalog.ts';
import { tempDir } from './helpers/sim.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/em-sim.js');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder holding `name` with the given YAML; returns the file's path. */
function configFile(yaml: string, name = 'sim-config.yaml'): string {
  const dir = tempDir('em-sim-config-');
  dirs.push(dir);
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, yaml);
  return file;
}

/** The message loadConfig throws for a file, asserting it throws a ConfigError. */
function failure(yaml: string): { file: string; message: string } {
  const file = configFile(yaml);
  try {
    loadConfig({ configPath: file, env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { file, message: (err as Error).message };
  }
  throw new Error('the configuration was accepted');
}

describe('configuration', () => {
  describe('schema errors name the key and what was expected', () => {
    it('a misspelt key, with the keys allowed there', () => {
      const { file, message } = failure('servr:\n  port: 9000\n');
      expect(message).toBe(
        `invalid ${file}: servr: unknown key (check the spelling; expected one of: server, data_dir, ephemeral, users, auth, limits, compat, operations, log, images, platform, nodes, busy_windows, clock, services)`,
      );
    });

    it('a misspelt nested key', () => {
      const { file, message } = failure('server:\n  prot: 9000\n');
      expect(message).toBe(`invalid ${file}: server.prot: unknown key (check the spelling; expected one of: host, port)`);
    });

    it('a value of the wrong type', () => {
      const { file, message } = failure('server:\n  port: "eighty"\n');
      expect(message).toBe(`invalid ${file}: server.port: Invalid input: expected number, received string`);
    });

    it('a username that cannot be one', () => {
      const { file, message } = failure('users:\n  - username: Bad-Name\n    password: secret\n');
      expect(message).toBe(
        `invalid ${file}: users.0.username: a lowercase name of letters and digits (no "-": container names are USER-POD), at most 31 characters`,
      );
    });

    it('every problem at once, on one line', () => {
      const { message } = failure('servr: {}\nserver:\n  port: -1\nusers:\n  - username: ok\n    pasword: x\n');
      expect(message).not.toContain('\n');
      expect(message).toContain('servr: unknown key');
      expect(message).toContain('server.port: Too small: expected number to be >=0');
      expect(message).toContain('users.0.pasword: unknown key (check the spelling; expected one of: username, password)');
      expect(message).toContain('users.0.password: Invalid input: expected string, received undefined');
    });

    it('a TLE that SGP4 could not fly, and a history too long to keep', () => {
      const bad = failure('services:\n  telemetry:\n    tle: ["1 99999U 26001A", "2 99999"]\n');
      expect(bad.message).toBe(`invalid ${bad.file}: services.telemetry.tle: not a usable TLE: line 1 has 15 characters; a TLE line has 69`);
      const long = failure('services:\n  telemetry:\n    interval_seconds: 1\n    history_hours: 48\n');
      expect(long.message).toContain('services.telemetry: history_hours * 3600 / interval_seconds must be at most 100000 records per type');
    });

    it('windows that follow the orbit by name, alone or in a list; an unknown name is refused', () => {
      const config = buildConfig({ nodes: { GPU: { availability: 'sunlit' } }, busy_windows: ['ground-passes', { every: 600, duration: 60 }] });
      expect(config.nodes.GPU.availability).toEqual(['sunlit']);
      expect(config.busy_windows).toEqual(['ground-passes', { every: 600, duration: 60, offset: 0 }]);
      expect(config.services.telemetry.ground_station).toEqual({ latitude: 46.52, longitude: 6.63, altitude_m: 500, min_elevation_deg: 10 });
      const bad = failure('nodes:\n  GPU:\n    availability: moonlit\n');
      expect(bad.message).toContain('nodes.GPU.availability.0');
    });

    it('YAML that does not parse, with where', () => {
      const { file, message } = failure('server: [unclosed\n');
      expect(message.startsWith(`${file}: not valid YAML: `)).toBe(true);
      expect(message).toMatch(/line \d+, column \d+/);
      expect(message).not.toContain('\n');
    });

    it('a named file that does not exist', () => {
      const missing = path.join(tempDir(), 'nope.yaml');
      dirs.push(path.dirname(missing));
      expect(() => loadConfig({ configPath: missing, env: {} })).toThrow(new ConfigError(`configuration file not found: ${missing}`));
    });
  });

  describe('precedence', () => {
    it('the file overrides the defaults, and what it leaves out keeps its default', () => {
      const file = configFile('server:\n  port: 9123\nlimits:\n  uplink_max_bytes: 4096\n');
      const { config, source } = loadConfig({ configPath: file, env: {} });
      expect(source).toBe(file);
      expect(config.server).toEqual({ host: '127.0.0.1', port: 9123 });
      expect(config.limits.uplink_max_bytes).toBe(4096);
      expect(config.auth.access_token_lifetime).toBe(300);
      expect(config.users).toEqual([{ username: 'client1', password: 'client1-password' }]);
    });

    it('flags override the file', () => {
      const file = configFile('server:\n  host: 0.0.0.0\n  port: 9123\ndata_dir: ./from-file\n');
      const { config } = loadConfig({ configPath: file, env: {}, overrides: { host: '127.0.0.2', port: 0, dataDir: '/tmp/from-flag' } });
      expect(config.server).toEqual({ host: '127.0.0.2', port: 0 });
      expect(config.data_dir).toBe('/tmp/from-flag');
    });

    it('a bad port flag is refused', () => {
      const file = configFile('{}\n');
      expect(() => loadConfig({ configPath: file, env: {}, overrides: { port: 70000 } })).toThrow(
        new ConfigError('--port: expected a whole number from 0 to 65535, got 70000'),
      );
    });

    it('EM_SIM_CONFIG names the file, and --config wins over it', () => {
      const fromEnv = configFile('server:\n  port: 9001\n');
      const fromFlag = configFile('server:\n  port: 9002\n');
      const env = loadConfig({ env: { EM_SIM_CONFIG: fromEnv } });
      expect(env.source).toBe(fromEnv);
      expect(env.config.server.port).toBe(9001);
      const flag = loadConfig({ configPath: fromFlag, env: { EM_SIM_CONFIG: fromEnv } });
      expect(flag.source).toBe(fromFlag);
      expect(flag.config.server.port).toBe(9002);
    });

    it('a relative data_dir in a file resolves next to the file, not the working directory', () => {
      const file = configFile('data_dir: ./state\n', 'nested/deeper/sim-config.yaml');
      const { config } = loadConfig({ configPath: file, env: {} });
      expect(config.data_dir).toBe(path.join(path.dirname(file), 'state'));
      expect(process.cwd()).not.toBe(path.dirname(file));
    });

    it('a relative --data-dir resolves against the working directory', () => {
      const file = configFile('data_dir: ./state\n');
      const { config } = loadConfig({ configPath: file, env: {}, overrides: { dataDir: 'flag-state' } });
      expect(config.data_dir).toBe(path.resolve(process.cwd(), 'flag-state'));
    });
  });

  describe('the em-sim command', () => {
    /** Runs bin/em-sim.js in an empty folder, without the caller's EM_SIM_CONFIG. */
    const run = (args: string[]) => {
      const cwd = tempDir('em-sim-cli-');
      dirs.push(cwd);
      const env = { ...process.env };
      delete env.EM_SIM_CONFIG;
      const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { cwd, child, exited, out: () => stdout, err: () => stderr };
    };

    it('starts, serves /sim/health, and stops on SIGTERM', async () => {
      const dataDir = tempDir('em-sim-cli-data-');
      dirs.push(dataDir);
      const proc = run(['start', '--port', '0', '--data-dir', dataDir]);
      try {
        const url = await new Promise<string>((resolve, reject) => {
          proc.child.stdout.on('data', () => {
            const match = /listening on (http:\/\/\S+)/.exec(proc.out());
            if (match) resolve(match[1]!);
          });
          void proc.exited.then((code) => reject(new Error(`exited with ${code} before listening: ${proc.err()}`)));
        });
        const res = await fetch(`${url}/sim/health`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ status: 'ok' });
      } finally {
        proc.child.kill('SIGTERM');
      }
      expect(await proc.exited).toBe(0);
    });

    it('exits non-zero with a one-line error, and no stack trace, on a bad configuration', async () => {
      const file = configFile('servr:\n  port: 1\nusers:\n  - username: Bad-Name\n    password: x\n');
      const proc = run(['start', '--config', file]);
      const code = await proc.exited;
      expect(code).not.toBe(0);
      expect(proc.out()).toBe('');
      const lines = proc.err().trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^em-sim: invalid ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(lines[0]).toContain('servr: unknown key');
      expect(lines[0]).toContain('users.0.username: ');
      expect(proc.err()).not.toMatch(/^\s+at /m);
    });

    it('exits non-zero with a one-line error when the named file is missing', async () => {
      const proc = run(['start', '--config', 'missing.yaml']);
      expect(await proc.exited).not.toBe(0);
      expect(proc.err()).toBe(`em-sim: configuration file not found: ${path.join(proc.cwd, 'missing.yaml')}\n`);
    });
  });
});

describe('the catalog as configured', () => {
  it('is the provider\'s published list by default: 135 images, none of them alpine:3.20', () => {
    const config = buildConfig();
    const entries = catalogEntries(configuredCatalog(config), config.images.registry);
    const table = readFileSync(new URL('../src/config/onboard-images.tsv', import.meta.url), 'utf8');
    const rows = table.split('\n').filter((l) => l.trim() && !l.startsWith('#')).slice(1);
    expect(entries).toHaveLength(rows.length);
    expect(entries).toHaveLength(135);
    expect(entries.map((e) => e.ref)).not.toContain('alpine:3.20');
    expect(entries.find((e) => e.ref === 'python:3.10-slim')).toEqual({ ref: 'python:3.10-slim', standin: 'python' });
    expect(entries.find((e) => e.ref === 'alpine:latest')).toEqual({ ref: 'alpine:latest', standin: 'busybox', version: '3.22.1' });
    expect(entries.find((e) => e.ref === 'node:lts-alpine')).toEqual({ ref: 'node:lts-alpine', standin: 'node20', version: '22.19.0-alpine3.22' });
    expect(entries.find((e) => e.ref === 'dinov3-sat493m_orin16-r36.4.0:latest')).toEqual({
      ref: 'dinov3-sat493m_orin16-r36.4.0:latest',
      standin: 'none',
      note: 'provider-built image',
    });
    expect(config.images.prepare).toEqual(['alpine:latest', 'python:3.10-slim']);
    expect(config.platform.architecture).toBe('auto');
  });

  it('refuses references Docker would not accept and a registry with a scheme, naming the key', () => {
    expect(() => buildConfig({ images: { catalog: ['Not A Ref'] } })).toThrow(/images\.catalog\.0: an image reference Docker accepts/);
    expect(() => buildConfig({ images: { catalog: [{ image: '../../etc:1' }] } })).toThrow(/images\.catalog\.0\.image: an image reference Docker accepts/);
    expect(() => buildConfig({ images: { prepare: ['ALPINE'] } })).toThrow(/images\.prepare\.0: an image reference Docker accepts/);
    expect(() => buildConfig({ images: { registry: 'http://evil/' } })).toThrow(/images\.registry: a registry host\[:port\]/);
  });

  it('images.catalog adds to the provider\'s list and wins over it; provider_catalog: false leaves only it', () => {
    const added = buildConfig({ images: { catalog: ['alpine:3.20', { image: 'mysql:8.0', standin: 'debian' }] } });
    const entries = catalogEntries(configuredCatalog(added), added.images.registry);
    expect(entries).toHaveLength(136);
    expect(entries.slice(0, 2)).toEqual([
      { ref: 'alpine:3.20', standin: 'busybox' },
      { ref: 'mysql:8.0', standin: 'debian' },
    ]);
    const only = buildConfig({ images: { provider_catalog: false, catalog: ['alpine:3.20'] } });
    expect(catalogEntries(configuredCatalog(only), only.images.registry)).toEqual([{ ref: 'alpine:3.20', standin: 'busybox' }]);
  });

  it('takes strings and objects, normalizes, keeps the first mention, honours an explicit stand-in', () => {
    const { images } = buildConfig({
      images: {
        registry: 'reg.example:5000',
        catalog: [
          'alpine',
          { image: 'node:20-alpine', standin: 'busybox' },
          'reg.example:5000/alpine:latest',
          { image: 'docker.io/library/ubuntu:24.04' },
          { image: 'python:3.12-slim', standin: 'none' },
        ],
      },
    });
    expect(catalogEntries(images.catalog, images.registry)).toEqual([
      { ref: 'alpine:latest', standin: 'busybox' },
      { ref: 'node:20-alpine', standin: 'busybox' },
      { ref: 'ubuntu:24.04', standin: 'debian' },
      { ref: 'python:3.12-slim', standin: 'none' },
    ]);
  });
});
