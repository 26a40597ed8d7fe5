import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { engineMessage, statusOf } from './engine-output.ts';

/**
 * em-sim running inside a container on the engine it drives (the image in the top-level
 * Dockerfile, the Testcontainers module, a CI service container): its pods are the container's
 * siblings, so a path em-sim hands the engine (a pod's volume, bind-mounted at /data) must be the
 * engine's path, not the container's. The data directory is on a volume or bind mount (the image
 * declares it a VOLUME, so plain `docker run` gives one); the engine's inspect of this container
 * says where that mount's source is, and every path under the data directory is translated.
 * The onboard services' listener, too, must be where relays reach it: on the services network,
 * which this container joins.
 */
export interface ContainerSelf {
  /** This container's full id on the engine. */
  id: string;
  /** A path under the data directory, as the engine must be given it: "/var/lib/docker/volumes/x/_data/volumes/…". */
  enginePath(localPath: string): string;
}

/** Where the data directory is mounted from, for start-up's log line. */
export interface SelfMount {
  destination: string;
  source: string;
  type: string;
}

/**
 * Whether this process may run in a container: the engine's /.dockerenv, or EM_SIM_IN_CONTAINER=1
 * (set by the image, where not finding itself on the engine is an error). EM_SIM_IN_CONTAINER=0
 * says no. A /.dockerenv alone is only a hint: a machine that is itself a container may run its
 * own engine inside, which shares its paths (the engine then does not know the container).
 */
export function inContainer(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.EM_SIM_IN_CONTAINER === '0') return false;
  return env.EM_SIM_IN_CONTAINER === '1' || existsSync('/.dockerenv');
}

/**
 * This container's id as the engine knows it: the 64-hex id in the paths of the files the engine
 * mounts into every container (/etc/hostname, /etc/hosts, /etc/resolv.conf, seen in
 * /proc/self/mountinfo), else the hostname, which the engine sets to the short id by default.
 */
export function ownContainerRef(mountinfo: string | null = readMountinfo()): string {
  const match = mountinfo?.match(/\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)/);
  return match ? match[1]! : hostname();
}

/** Whether `ref` can be (the start of) a container id: 12 to 64 hex digits, as the engine's default hostname. */
function isContainerId(ref: string): boolean {
  return /^[0-9a-f]{12,64}$/.test(ref);
}

/** Whether the container the engine found for `ref` is this one: a hostname is only an id's start, never a name. */
function isThisContainer(ref: string, id: string): boolean {
  return isContainerId(ref) && id.startsWith(ref);
}

function readMountinfo(): string | null {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
}

/** The engine does not know this container: it runs elsewhere (an engine inside the same container or VM). */
export class NotOnThisEngine extends Error {
  override name = 'NotOnThisEngine';
}

/** No engine answered the inspect at all (no socket, engine down). */
export class EngineUnreachable extends Error {
  override name = 'EngineUnreachable';
}

/**
 * Finds this container on the engine and the mount that holds `dataDir`. Throws EngineUnreachable
 * when no engine answers, NotOnThisEngine, or an Error, saying
 * what to do when the engine does not know this container (it drives another engine: set
 * EM_SIM_IN_CONTAINER=0 and share no paths, or mount the socket of the engine that runs it) or
 * when the data directory is in the container's own layer (no pod could see its volume).
 */
export async function findSelf(docker: Docker, dataDir: string, ref: string = ownContainerRef()): Promise<ContainerSelf & { mount: SelfMount }> {
  // Nothing the engine could answer for it would be this container (isThisContainer): not asked.
  if (!isContainerId(ref)) {
    throw new NotOnThisEngine(
      `em-sim may run in a container, but /proc/self/mountinfo names no container id and its hostname (${ref}) is not one, so the Docker engine cannot be asked for it: ` +
        'run it with the hostname the engine gives (no --hostname), or set EM_SIM_IN_CONTAINER=0 when the data directory is shared with that engine at the same path',
    );
  }
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(ref).inspect();
  } catch (err) {
    if (statusOf(err) === 404) {
      throw new NotOnThisEngine(
        `em-sim runs in a container (${ref}) that the Docker engine it drives does not know, so pods could not share its data directory: ` +
          'mount the socket of the engine that runs this container (-v /var/run/docker.sock:/var/run/docker.sock), or set EM_SIM_IN_CONTAINER=0 when the data directory is shared with that engine at the same path',
      );
    }
    if (statusOf(err) === undefined) throw new EngineUnreachable(`no Docker engine answered: ${engineMessage(err)}`);
    throw new Error(`em-sim could not inspect its own container ${ref}: ${engineMessage(err)}`);
  }
  // A hostname that is not this container's id start may name another container: not us.
  if (!isThisContainer(ref, info.Id)) {
    throw new NotOnThisEngine(`em-sim runs in a container whose id it cannot tell (${ref} is a container name on this engine, not this container's id)`);
  }
  const local = realOrSelf(dataDir);
  // Longest destination first: a mount inside the data directory (its volumes/ on another disk) wins.
  const mounts = (info.Mounts ?? []).filter((m) => m.Source).sort((a, b) => b.Destination.length - a.Destination.length);
  const holding = (p: string) => mounts.find((m) => p === m.Destination || p.startsWith(m.Destination.replace(/\/$/, '') + '/'));
  const mount = holding(local);
  if (!mount) {
    throw new Error(
      `em-sim runs in container ${info.Name.replace(/^\//, '')} but its data directory ${dataDir} is not on a volume or bind mount, so pods could not see their volumes: ` +
        `run it with -v em-sim-data:${dataDir} (or a host folder: -v "$PWD/data:${dataDir}")`,
    );
  }
  return {
    id: info.Id,
    mount: { destination: mount.Destination, source: mount.Source, type: mount.Type },
    enginePath(localPath: string): string {
      const full = path.resolve(localPath);
      const resolved = full === local || full.startsWith(local + '/') ? full : realOrSelf(full);
      const inData = path.relative(local, resolved);
      const at = holding(resolved);
      if (!at || inData.startsWith('..') || path.isAbsolute(inData)) throw new Error(`${localPath} is outside the mounted data directory ${dataDir}`);
      const rest = path.relative(at.Destination, resolved);
      return rest ? path.posix.join(at.Source, rest) : at.Source;
    },
  };
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
