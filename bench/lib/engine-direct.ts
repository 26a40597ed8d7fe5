import Docker from 'dockerode';

/**
 * The engine on its own, as the peer of em-sim's pod starts at scale: `count` containers of
 * alpine:latest (the image em-sim runs; arm64 here, emulated) running `cmd`, all asked for at
 * once through the engine's API. Returns each one's seconds from the asking to its
 * State.StartedAt; every container is removed afterwards.
 */
export async function startOnEngine(count: number, cmd: string[]): Promise<number[]> {
  const docker = new Docker();
  const asked = Date.now();
  const ids: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const c = await docker.createContainer({ Image: 'alpine:latest', Cmd: cmd, Labels: { 'em-sim-bench-engine': String(process.pid) } });
        ids.push(c.id);
        await c.start();
      }),
    );
    const seconds: number[] = [];
    for (const id of ids) seconds.push((Date.parse((await docker.getContainer(id).inspect()).State.StartedAt) - asked) / 1000);
    return seconds;
  } finally {
    // Every container made: a create that failed made none.
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
    }
  }
}
