/*
 * The platform pods and builds run as. CG2's nodes are arm64 (onboard-platform.md section 1: "images
 * must be arm64"), so by default em-sim runs them as linux/arm64 under emulation (qemu-user-static
 * registered with binfmt_misc), and an image built for another architecture fails to start the way
 * it does onboard. `native` runs everything on the host's architecture and only warns.
 */

/** `arm64`: like CG2; `native`: the host's architecture, with a warning for images that would not run onboard. */
export type PlatformMode = 'arm64' | 'native';

/** The architecture CG2's nodes have, as Docker spells it. */
export const ONBOARD_ARCHITECTURE = 'arm64';

/** The platform em-sim runs pods and builds as. */
export interface Platform {
  mode: PlatformMode;
  /** Docker's name for the architecture stand-ins are made for and builds target: "arm64", "amd64". */
  architecture: string;
}

/** "linux/arm64". */
export function platformString(platform: Platform): string {
  return `linux/${platform.architecture}`;
}

/** Node's process.arch in Docker's words (x64 → amd64, arm64 → arm64, …). */
export function dockerArchitecture(nodeArch: string): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[nodeArch] ?? nodeArch;
}

/**
 * The platform for a configured `platform.architecture`: `auto` is arm64 when the machine runs
 * arm64 natively or can emulate it, else native. Throws for `arm64` on a machine that can do neither,
 * saying what to install.
 */
export function resolvePlatform(setting: 'auto' | PlatformMode, host: { architecture: string; emulatesArm64: boolean }): Platform {
  const arm64Possible = host.architecture === ONBOARD_ARCHITECTURE || host.emulatesArm64;
  if (setting === 'native' || (setting === 'auto' && !arm64Possible)) return { mode: 'native', architecture: host.architecture };
  if (!arm64Possible) {
    throw new Error(
      'platform.architecture is arm64 but this machine cannot run arm64 images: install the emulation ' +
        '(Debian: apt-get install qemu-user-static binfmt-support; then update-binfmts --enable qemu-aarch64), ' +
        'or set platform.architecture: native',
    );
  }
  return { mode: 'arm64', architecture: ONBOARD_ARCHITECTURE };
}

/**
 * The build arguments BuildKit sets for a platform (Docker's "Automatic platform ARGs in the global
 * scope"); the EM's builder targets linux/arm64. Builds on the host's engine get them explicitly.
 */
export function platformBuildArgs(platform: Platform, hostArchitecture: string): Record<string, string> {
  return {
    TARGETPLATFORM: platformString(platform),
    TARGETOS: 'linux',
    TARGETARCH: platform.architecture,
    TARGETVARIANT: '',
    BUILDPLATFORM: `linux/${hostArchitecture}`,
    BUILDOS: 'linux',
    BUILDARCH: hostArchitecture,
    BUILDVARIANT: '',
  };
}

/**
 * Why an image would not start onboard, or null when it would: its architecture is not arm64.
 * `image` names it for the user (USER-NAME:TAG or the catalog reference).
 */
export function architectureProblem(image: string, architecture: string): string | null {
  if (architecture === ONBOARD_ARCHITECTURE) return null;
  return (
    `image ${image} is built for linux/${architecture || 'unknown'}, but CG2's nodes are linux/arm64: ` +
    `build it with \`docker buildx build --platform linux/arm64\` before docker save, or build it onboard with /em/pod/image/build`
  );
}
