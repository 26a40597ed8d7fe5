import { expect, it } from 'vitest';
import { DockerRuntime } from '../../src/adapters/docker/docker-runtime.ts';
import { requireDocker } from './_docker.ts';

// Issue 16: every request that needs the engine asks whether it answers; 500 status polls arriving
// together must not ping the engine 500 times.
it('asks the engine once whether it answers, however many callers ask at once', async () => {
  const docker = await requireDocker();
  let pings = 0;
  const ping = docker.ping.bind(docker);
  docker.ping = ((...args: Parameters<typeof docker.ping>) => {
    pings++;
    return ping(...args);
  }) as typeof docker.ping;
  const runtime = new DockerRuntime(docker, 'ping-test');
  const answers = await Promise.all(Array.from({ length: 50 }, () => runtime.available()));
  expect(answers).toEqual(Array.from({ length: 50 }, () => true));
  expect(pings).toBe(1);
});
