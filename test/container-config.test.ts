import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDocker } from '../src/adapters/docker/engine.ts';
import { EngineUnreachable, findSelf, inContainer, NotOnThisEngine, ownContainerRef } from '../src/adapters/docker/self-container.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { tempDir } from './helpers/sim.ts';

// What the container image relies on: configuration from EM_SIM_* variables, and em-sim finding
// its own container's data mount so that pods (siblings on the host's engine) get host paths.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(yaml: string): string {
  const dir = tempDir('em-sim-envcfg-');
  dirs.push(dir);
  const file = path.join(dir, 'sim-config.yaml');
  writeFileSync(file, yaml);
  return file;
}

function envFailure(env: NodeJS.ProcessEnv, yaml = ''): string {
  try {
    loadConfig({ configPath: configFile(yaml), env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration from EM_SIM_* variables', () => {
  it('sets the common keys, over the file', () => {
    const file = configFile('server:\n  port: 9000\nusers:\n  - {username: fromfile, password: x}\nlog:\n  level: debug\n');
    const { config } = loadConfig({
      configPath: file,
      env: {
        EM_SIM_HOST: '0.0.0.0',
        EM_SIM_PORT: '8123',
        EM_SIM_USERS: 'alice:a-secret,bob:pa:ss:word',
        EM_SIM_LOG_LEVEL: 'warn',
        EM_SIM_EPHEMERAL: 'true',
        EM_SIM_CLOCK_CONTROL: '1',
        EM_SIM_CLOCK_SPEED: '60',
        EM_SIM_STRICT: 'no',
        EM_SIM_IMAGES_PREPARE: '',
        EM_SIM_SIGNING_SECRET: 'x'.repeat(32),
        EM_SIM_ACCESS_TOKEN_LIFETIME: '900',
        EM_SIM_PLATFORM_ARCHITECTURE: 'native',
      },
    });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 8123 });
    // A password may hold ":"; only the first one separates.
    expect(config.users).toEqual([
      { username: 'alice', password: 'a-secret' },
      { username: 'bob', password: 'pa:ss:word' },
    ]);
    expect(config.log.level).toBe('warn');
    expect(config.ephemeral).toBe(true);
    expect(config.clock).toEqual({ control: true, speed: 60 });
    expect(config.compat.strict).toBe(false);
    expect(config.images.prepare).toEqual([]);
    expect(config.auth.signing_secret).toBe('x'.repeat(32));
    expect(config.auth.access_token_lifetime).toBe(900);
    expect(config.platform.architecture).toBe('native');
  });

  it('leaves the file alone when a variable is unset or empty, and flags win over variables', () => {
    const file = configFile('server:\n  port: 9000\n');
    expect(loadConfig({ configPath: file, env: { EM_SIM_PORT: '' } }).config.server.port).toBe(9000);
    expect(loadConfig({ configPath: file, env: { EM_SIM_PORT: '8123' }, overrides: { port: 7000 } }).config.server.port).toBe(7000);
    expect(loadConfig({ configPath: file, env: {} }).config.ephemeral).toBe(false);
    // Blanks around a value are dropped; blanks only are as unset.
    expect(loadConfig({ configPath: file, env: { EM_SIM_PORT: ' 8123 ', EM_SIM_EPHEMERAL: ' true', EM_SIM_HOST: '  ' } }).config).toMatchObject({
      server: { port: 8123, host: '127.0.0.1' },
      ephemeral: true,
    });
  });

  it('reads EM_SIM_DATA_DIR relative to the working directory, not to the file', () => {
    const file = configFile('data_dir: ./beside-the-file\n');
    expect(loadConfig({ configPath: file, env: {} }).config.data_dir).toBe(path.join(path.dirname(file), 'beside-the-file'));
    expect(loadConfig({ configPath: file, env: { EM_SIM_DATA_DIR: 'here' } }).config.data_dir).toBe(path.resolve('here'));
  });

  it('names the variable when its value has the wrong form', () => {
    expect(envFailure({ EM_SIM_PORT: 'eighty' })).toBe('EM_SIM_PORT="eighty": expected a whole number (it sets server.port)');
    expect(envFailure({ EM_SIM_EPHEMERAL: 'sometimes' })).toBe('EM_SIM_EPHEMERAL="sometimes": expected true or false (it sets ephemeral)');
    expect(envFailure({ EM_SIM_CLOCK_SPEED: 'fast' })).toBe('EM_SIM_CLOCK_SPEED="fast": expected a number (it sets clock.speed)');
    expect(envFailure({ EM_SIM_CLOCK_SPEED: '0x10' })).toBe('EM_SIM_CLOCK_SPEED="0x10": expected a number (it sets clock.speed)');
    expect(envFailure({ EM_SIM_USERS: 'alice' })).toBe(
      'EM_SIM_USERS="alice": expected USER:PASSWORD pairs separated by commas, e.g. client1:secret,client2:other (a password with a comma needs sim-config.yaml) (it sets users)',
    );
    expect(envFailure({ EM_SIM_USERS: 'alice:,bob:x' })).toContain('EM_SIM_USERS="alice:,bob:x": expected USER:PASSWORD pairs');
  });

  it('says which variables were applied when the schema refuses a value', () => {
    const file = configFile('');
    try {
      loadConfig({ configPath: file, env: { EM_SIM_PORT: '70000', EM_SIM_USERS: 'Alice:x' } });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toContain(`invalid ${file} with EM_SIM_PORT, EM_SIM_USERS from the environment:`);
      expect(message).toContain('server.port:');
      expect(message).toContain('users.0.username: a lowercase name');
    }
  });
});

/** A Docker client whose only container is `info` (under its id and its short id), else 404. */
function fakeDocker(info: Partial<Docker.ContainerInspectInfo> | null): Docker {
  return {
    getContainer: (ref: string) => ({
      inspect: async () => {
        if (!info || (ref !== info.Id && ref !== info.Id!.slice(0, 12))) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return info;
      },
    }),
  } as unknown as Docker;
}

const ID = 'a'.repeat(64);

describe('em-sim in a container: its own data mount, seen from the engine', () => {
  it('finds its container id in mountinfo, else takes the hostname', () => {
    const mountinfo = [
      `612 590 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
      `613 590 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
    ].join('\n');
    expect(ownContainerRef(mountinfo)).toBe(ID);
    expect(ownContainerRef('590 1 0:50 / / rw - overlay overlay rw')).toMatch(/.+/);
  });

  it('knows a container by /.dockerenv or EM_SIM_IN_CONTAINER, and EM_SIM_IN_CONTAINER=0 says no', () => {
    expect(inContainer({ EM_SIM_IN_CONTAINER: '1' })).toBe(true);
    expect(inContainer({ EM_SIM_IN_CONTAINER: '0' })).toBe(false);
  });

  it('hands the engine the source side of the mount that holds the data directory', async () => {
    const dataDir = tempDir('em-sim-self-');
    dirs.push(dataDir);
    mkdirSync(path.join(dataDir, 'volumes', 'alice', 'default'), { recursive: true });
    const source = '/var/lib/docker/volumes/3be4/_data';
    const self = await findSelf(
      fakeDocker({
        Id: ID,
        Name: '/em-sim',
        Mounts: [
          { Type: 'bind', Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock' },
          { Type: 'volume', Source: source, Destination: dataDir },
        ] as Docker.ContainerInspectInfo['Mounts'],
      }),
      dataDir,
      ID.slice(0, 12),
    );
    expect(self.id).toBe(ID);
    expect(self.mount).toEqual({ destination: dataDir, source, type: 'volume' });
    expect(self.enginePath(path.join(dataDir, 'volumes', 'alice', 'default'))).toBe(`${source}/volumes/alice/default`);
    expect(self.enginePath(dataDir)).toBe(source);
    expect(() => self.enginePath('/etc')).toThrow(`/etc is outside the mounted data directory ${dataDir}`);
  });

  it('takes a mount inside the data directory over the one holding it', async () => {
    const dataDir = '/var/lib/em-sim';
    const self = await findSelf(
      fakeDocker({
        Id: ID,
        Name: '/em-sim',
        Mounts: [
          { Type: 'volume', Source: '/v/outer', Destination: dataDir },
          { Type: 'bind', Source: '/big-disk/volumes', Destination: `${dataDir}/volumes` },
        ] as Docker.ContainerInspectInfo['Mounts'],
      }),
      dataDir,
      ID,
    );
    expect(self.enginePath(`${dataDir}/volumes/alice/default`)).toBe('/big-disk/volumes/alice/default');
    expect(self.enginePath(`${dataDir}/blobs`)).toBe('/v/outer/blobs');
  });

  it('never takes another container for itself: a hostname must be the start of the id the engine answers with', async () => {
    // The engine also finds containers by name: one named like this machine is not this container.
    const other = fakeDocker({ Id: ID, Name: '/vm', Mounts: [{ Type: 'bind', Source: '/elsewhere', Destination: '/var/lib/em-sim' }] as Docker.ContainerInspectInfo['Mounts'] });
    const named = { getContainer: () => other.getContainer(ID) } as unknown as Docker;
    await expect(findSelf(named, '/var/lib/em-sim', 'vm')).rejects.toBeInstanceOf(NotOnThisEngine);
    await expect(findSelf(named, '/var/lib/em-sim', 'bbbbbbbbbbbb')).rejects.toBeInstanceOf(NotOnThisEngine);
  });

  it('does not ask the engine for a hostname that cannot be a container id (a machine with /.dockerenv that is no container of it)', async () => {
    let asked = 0;
    const counting = { getContainer: () => ({ inspect: async () => (asked++, Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 }))) }) } as unknown as Docker;
    await expect(findSelf(counting, '/var/lib/em-sim', 'vm')).rejects.toThrow(
      'em-sim may run in a container, but /proc/self/mountinfo names no container id and its hostname (vm) is not one',
    );
    await expect(findSelf(counting, '/var/lib/em-sim', 'deadbeef')).rejects.toBeInstanceOf(NotOnThisEngine);
    expect(asked).toBe(0);
    await expect(findSelf(counting, '/var/lib/em-sim', 'deadbeefdead')).rejects.toBeInstanceOf(NotOnThisEngine);
    expect(asked).toBe(1);
  });

  it('tells an engine that does not answer from one that does not know this container', async () => {
    const away = { getContainer: () => ({ inspect: async () => Promise.reject(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' })) }) } as unknown as Docker;
    await expect(findSelf(away, '/var/lib/em-sim', ID)).rejects.toBeInstanceOf(EngineUnreachable);
    await expect(findSelf(away, '/var/lib/em-sim', ID)).rejects.toThrow('no Docker engine answered: connect ENOENT /var/run/docker.sock');
  });

  it('refuses to start when the data directory is on no mount, saying which flag to add', async () => {
    const docker = fakeDocker({ Id: ID, Name: '/em-sim', Mounts: [] });
    await expect(findSelf(docker, '/var/lib/em-sim', ID)).rejects.toThrow(
      'em-sim runs in container em-sim but its data directory /var/lib/em-sim is not on a volume or bind mount, so pods could not see their volumes: run it with -v em-sim-data:/var/lib/em-sim',
    );
  });

  it('says so when the engine does not know this container (an engine inside it, or another engine)', async () => {
    await expect(findSelf(fakeDocker(null), '/var/lib/em-sim', 'deadbeefdead')).rejects.toBeInstanceOf(NotOnThisEngine);
    await expect(findSelf(fakeDocker(null), '/var/lib/em-sim', 'deadbeefdead')).rejects.toThrow(
      'em-sim runs in a container (deadbeefdead) that the Docker engine it drives does not know',
    );
  });
});

describe('the engine client (connectDocker)', () => {
  it('refuses an engine address it cannot use when called, though the client itself is made at its first use', () => {
    expect(() => connectDocker({ DOCKER_HOST: 'ssh://user@host' })).toThrow('DOCKER_HOST=ssh://user@host is not supported: use unix:///path/to/docker.sock or tcp://HOST:PORT');
    const certs = tempDir('em-sim-nocerts-');
    dirs.push(certs);
    expect(() => connectDocker({ DOCKER_HOST: 'tcp://engine.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs })).toThrow(`ENOENT: no such file or directory, open '${certs}/ca.pem'`);
  });

  it('reaches the engine DOCKER_HOST names through the client it hands out', async () => {
    const docker = connectDocker({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect((docker.modem as unknown as { socketPath: string }).socketPath).toBe('/nonexistent/docker.sock');
    await expect(docker.ping()).rejects.toThrow('connect ENOENT /nonexistent/docker.sock');
  });
});
