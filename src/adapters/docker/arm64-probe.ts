import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { tarStream } from '../on-first-use.ts';
import { statusOf } from './engine-output.ts';
import { LABEL } from './labels.ts';
import { loadRootfsArchive } from './rootfs-archive.ts';

/**
 * The smallest arm64 Linux program: exit(0) (`mov x0, #0; mov x8, #93; svc #0`) in a 132-byte
 * static ELF (one PT_LOAD segment at 0x400000, entry right after the headers).
 */
const EXIT_ZERO_AARCH64 = Buffer.from(
  '7f454c460201010000000000000000000200b70001000000780040000000000040000000000000000000000000000000000000004000380001000000000000000100000005000000000000000000000000004000000000000000400000000000840000000000000084000000000000000010000000000000000080d2a80b80d2010000d4',
  'hex',
);
const PROBE_TAG = 'em-sim-arm64-probe:1';
const PROBE_TIMEOUT_MS = 20_000;

/**
 * Whether the engine's machine runs arm64 programs (qemu-user-static registered with binfmt_misc),
 * asked of the engine itself: em-sim in a container cannot read the host's binfmt_misc (it is not
 * mounted there), yet its pods run on the host's kernel. Runs the 132-byte program above as a
 * linux/arm64 image (made once, offline, labelled em-sim) with no network and 8 MB; true when it
 * exits 0. False, never a throw, when it cannot run (exec format error) or the engine fails.
 */
export async function engineRunsArm64(docker: Docker): Promise<boolean> {
  try {
    await ensureProbeImage(docker);
    const container = await docker.createContainer({
      Image: PROBE_TAG,
      Cmd: ['/exit0'],
      Labels: { [LABEL.managed]: 'true', [LABEL.role]: 'arm64-probe' },
      HostConfig: { NetworkMode: 'none', Memory: 8 * 1024 * 1024, AutoRemove: false, ReadonlyRootfs: true },
    });
    try {
      await container.start();
      // exit(0) takes milliseconds, even emulated; a probe that hangs says no.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ StatusCode: number }>((resolve) => (timer = setTimeout(() => resolve({ StatusCode: -1 }), PROBE_TIMEOUT_MS)));
      const result = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, timeout]);
      clearTimeout(timer);
      return result.StatusCode === 0;
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  } catch {
    return false;
  }
}

async function ensureProbeImage(docker: Docker): Promise<void> {
  try {
    await docker.getImage(PROBE_TAG).inspect();
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  const pack = tarStream().pack();
  pack.entry({ name: 'exit0', mode: 0o755 }, EXIT_ZERO_AARCH64);
  pack.finalize();
  await loadRootfsArchive(docker, Readable.from(pack), {
    tag: PROBE_TAG,
    architecture: 'arm64',
    config: { env: [], cmd: ['/exit0'] },
    labels: { [LABEL.managed]: 'true', [LABEL.role]: 'arm64-probe' },
  });
}
