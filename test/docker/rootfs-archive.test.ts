import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { loadRootfsArchive } from '../../src/adapters/docker/rootfs-archive.ts';
import { uniqueName } from '../helpers/sim.ts';
import { requireDocker } from './_docker.ts';

// A stand-in's or relay's root filesystem is written by a process (tar, mmdebstrap). Found in
// the container image: busybox's tar failed part-way, the half-written layer was loaded and
// tagged, and the next start took that empty image for a made relay ("nc: not found").

function layer(): Readable {
  const pack = tarStream.pack();
  pack.entry({ name: 'hello.txt' }, 'hello\n');
  pack.finalize();
  return pack as unknown as Readable;
}

describe('loading a root filesystem', () => {
  it('loads nothing when its producer fails, and loads the image once it succeeds', async () => {
    const docker = await requireDocker();
    const tag = `em-sim-test-rootfs-${uniqueName('r')}:1`;
    const base = { tag, architecture: 'amd64', config: { env: [] }, labels: { 'em-sim.managed': 'true' } };
    const failed = Promise.reject(new Error('tar exited with 1'));
    failed.catch(() => {});
    await expect(loadRootfsArchive(docker, layer(), { ...base, complete: failed })).rejects.toThrow('tar exited with 1');
    await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });

    await loadRootfsArchive(docker, layer(), { ...base, complete: Promise.resolve() });
    try {
      expect((await docker.getImage(tag).inspect()).Architecture).toBe('amd64');
    } finally {
      await docker.getImage(tag).remove({ force: true });
    }
  });
});
