import type Docker from 'dockerode';
import { statusOf } from './engine-output.ts';
import { LABEL } from './labels.ts';

/*
 * What em-sim made on an engine, by instance: for `doctor` (another simulator's things, or a
 * stopped one's), and `reset --all-instances` (everything any em-sim made that belongs to a
 * simulator: containers, networks, users' images). The onboard catalog's stand-ins and tags and
 * the relay image are shared by every simulator and stay.
 */

/** One instance's things on the engine. */
export interface InstanceThings {
  /** The instance id; "" for things of an em-sim from before instances had names on the engine. */
  instance: string;
  containers: { id: string; name: string; running: boolean }[];
  networks: { id: string; name: string }[];
  /** Users' image tags (USER-NAME.INSTANCE:TAG). */
  images: string[];
}

/** A user's image of an instance, as image-service.ts names it on the engine. */
const USER_IMAGE = /^([a-z][a-z0-9]{0,30})-[^/:@]+\.([0-9a-f]{12}):[^:/@]+$/;

/** Every instance's things (the engine's view), keyed by instance. */
export async function emSimThings(docker: Docker): Promise<InstanceThings[]> {
  const by = new Map<string, InstanceThings>();
  const of = (instance: string) => {
    let things = by.get(instance);
    if (!things) by.set(instance, (things = { instance, containers: [], networks: [], images: [] }));
    return things;
  };
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL.managed}=true`] } })) {
    of(c.Labels?.[LABEL.instance] ?? '').containers.push({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), running: c.State === 'running' });
  }
  for (const n of await docker.listNetworks({ filters: { label: [`${LABEL.managed}=true`] } })) {
    of(n.Labels?.[LABEL.instance] ?? '').networks.push({ id: n.Id, name: n.Name });
  }
  for (const image of await docker.listImages()) {
    for (const tag of image.RepoTags ?? []) {
      const match = USER_IMAGE.exec(tag);
      if (match) of(match[2]!).images.push(tag);
    }
  }
  return [...by.values()].sort((a, b) => a.instance.localeCompare(b.instance));
}

/** Removes one instance's things (containers first); resolves with a line per removal or failure. */
export async function removeThings(docker: Docker, things: InstanceThings): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = [];
  const failed: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
      removed.push(what);
    } catch (err) {
      if (statusOf(err) === 404) return;
      failed.push(`${what}: ${(err as Error).message.trim()}`);
    }
  };
  for (const c of things.containers) await attempt(`container ${c.name}`, () => docker.getContainer(c.id).remove({ force: true }));
  for (const n of things.networks) await attempt(`network ${n.name}`, () => docker.getNetwork(n.id).remove());
  // Untagged by name: the image goes with its last tag.
  for (const tag of things.images) await attempt(`image ${tag}`, () => docker.getImage(tag).remove());
  return { removed, failed };
}
