import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerArchitecture } from '../../domain/images/platform.ts';

/** Where the kernel lists registered binary formats (qemu-aarch64 for arm64 images). */
export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** Whether this machine runs arm64 programs through qemu-user-static: the binfmt_misc entry's state. */
export type Arm64Emulation = 'enabled' | 'disabled' | 'unregistered' | 'unmounted';

/** The qemu-aarch64 entry of binfmt_misc (environment.md: "arm64, like the real hardware"). */
export function arm64Emulation(binfmtDir: string = BINFMT_DIR): Arm64Emulation {
  try {
    const status = readFileSync(path.join(binfmtDir, 'qemu-aarch64'), 'utf8').split('\n')[0]!.trim();
    return status === 'enabled' ? 'enabled' : 'disabled';
  } catch {
    return existsSync(path.join(binfmtDir, 'register')) ? 'unregistered' : 'unmounted';
  }
}

/** This machine's architecture in Docker's words ("amd64", "arm64"). */
export function hostArchitecture(): string {
  return dockerArchitecture(process.arch);
}
