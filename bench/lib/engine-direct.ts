import Docker from 'dockerode';
import { run } from './proc.ts';

/**
 * The engine on its own, as the peer of em-sim's pod starts at scale: `count` containers of
 * alpine:latest (the image em-sim runs; arm64 here, emulated) running `cmd`, all asked for at
 * once through the engine's API. Returns each one's seconds from the asking to its
 * State.StartedAt; every container is removed afterwards.
 */
export async function startOnEngine(count: number, cmd: string[]): Promise<number[]> {
  const docker = new Docker();
  const label = `em-sim-bench-engine-${process.pid}`;
  const asked = Date.now();
  const ids: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const c = await docker.createContainer({ Image: 'alpine:latest', Cmd: cmd, Labels: { [label]: '1' } });
        ids.push(c.id);
        await c.start();
      }),
    );
    const seconds: number[] = [];
    for (const id of ids) seconds.push((Date.parse((await docker.getContainer(id).inspect()).State.StartedAt) - asked) / 1000);
    return seconds;
  } finally {
    const all = (await run('docker', ['ps', '-aq', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }))).stdout.split(/\s+/).filter(Boolean);
    for (let i = 0; i < all.length; i += 100) await run('docker', ['rm', '-f', ...all.slice(i, i + 100)]).catch(() => undefined);
  }
}
