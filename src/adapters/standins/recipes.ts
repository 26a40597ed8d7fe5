import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dockerArchitecture } from '../../domain/images/platform.ts';
import type { ImageRuntimeConfig } from '../../domain/ports/image-store.ts';
import type { RootfsProducer, StandinRecipeKind, StandinRecipes } from '../../domain/ports/standin-recipes.ts';
import { busyboxRootfs } from './busybox-rootfs.ts';
import { findExecutable, missingTool, runProducer } from './producer.ts';

/*
 * The StandinRecipes port: how each stand-in's root filesystem is made offline from Debian's
 * packages (environment.md, "Images without a registry" and "arm64, like the real hardware"), for
 * the architecture asked (mmdebstrap --arch; arm64 maintainer scripts run under qemu-user-static):
 *
 * - busybox:   Debian trixie's busybox-static with its applet links and a minimal /etc, `CMD ["/bin/sh"]`;
 * - debian:    `mmdebstrap --variant=minbase bookworm`, `CMD ["bash"]`;
 * - python:    bookworm's python3 (full standard library), wget and /usr/bin/python, `CMD ["python3"]`;
 * - node18/20: bookworm's (18) or trixie's (20) nodejs and wget, `CMD ["node"]`;
 * - distroless-*: only the files of base-files and netbase (plus libc6 and libssl3 for base,
 *              python3.11 or nodejs for the language images), unpacked without running anything:
 *              no shell, no package manager; the host's CA bundle and time zones copied in; the
 *              `nonroot` user (65532) as in Google's images.
 */

const STANDIN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The environment of every distroless stand-in (their CA bundle is copied in, not made by ca-certificates). */
const DISTROLESS_ENV = [STANDIN_PATH, 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'];

const SLIM_DPKG_OPTIONS = [
  // What Debian's own slim images leave out.
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/locale/*',
].map((opt) => `--dpkgopt=${opt}`);

/** /etc/passwd and /etc/group of Google's distroless images: root, nobody and nonroot (65532). */
const DISTROLESS_USERS = [
  `printf 'root:x:0:0:root:/root:/sbin/nologin\\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\\n' > "$1/etc/passwd"`,
  `printf 'root:x:0:\\nnobody:x:65534:\\ntty:x:5:\\nstaff:x:50:\\nnonroot:x:65532:\\n' > "$1/etc/group"`,
  'mkdir -p "$1/home/nonroot" "$1/tmp" && chown 65532:65532 "$1/home/nonroot" && chmod 1777 "$1/tmp"',
  // Arch-independent data the image needs and that its packages only make in their maintainer scripts.
  'mkdir -p "$1/etc/ssl/certs" && if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/"; fi',
  'if [ -d /usr/share/zoneinfo ]; then mkdir -p "$1/usr/share" && cp -a /usr/share/zoneinfo "$1/usr/share/"; fi',
];

interface Recipe {
  /** Bumped when the recipe changes. */
  version: string;
  config: ImageRuntimeConfig;
  produce(architecture: string, onStep: (message: string) => void): Promise<RootfsProducer>;
}

const debianImage = (suite: string, variant: string, include: string[], customize: string[] = []) => (architecture: string, onStep: (message: string) => void) =>
  mmdebstrap(
    {
      suite,
      architecture,
      args: [
        `--variant=${variant}`,
        ...(include.length ? [`--include=${include.join(',')}`] : []),
        ...SLIM_DPKG_OPTIONS,
        ...customize.map((hook) => `--customize-hook=${hook}`),
      ],
    },
    onStep,
  );

const distroless = (suite: string, include: string[], hooks: string[] = []) => (architecture: string, onStep: (message: string) => void) =>
  mmdebstrap(
    {
      suite,
      architecture,
      args: [
        '--variant=extract',
        `--include=${['base-files', 'netbase', ...include].join(',')}`,
        ...SLIM_DPKG_OPTIONS,
        // The extract variant runs extract hooks only (no customize step).
        ...[...DISTROLESS_USERS, ...hooks].map((hook) => `--extract-hook=${hook}`),
      ],
    },
    onStep,
  );

const RECIPES: Record<StandinRecipeKind, Recipe> = {
  busybox: { version: '3', config: { env: [STANDIN_PATH], cmd: ['/bin/sh'] }, produce: busyboxFor },
  debian: { version: '2', config: { env: [STANDIN_PATH], cmd: ['bash'] }, produce: debianImage('bookworm', 'minbase', []) },
  python: {
    version: '3',
    config: { env: [STANDIN_PATH, 'LANG=C.UTF-8'], cmd: ['python3'] },
    // python3 (not python3-minimal) brings the whole standard library: http.server, json, ...
    // pip as in every python image, without Debian's "externally managed" guard (PEP 668), so
    // that `RUN pip install` in an air-gapped build fails as onboard: no index to reach.
    produce: debianImage(
      'bookworm',
      'apt',
      ['python3', 'python-is-python3', 'python3-pip', 'wget'],
      ['rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED', 'ln -sf pip3 "$1/usr/bin/pip" 2>/dev/null || true'],
    ),
  },
  node18: { version: '2', config: { env: [STANDIN_PATH], cmd: ['node'] }, produce: debianImage('bookworm', 'minbase', ['nodejs', 'wget', 'ca-certificates']) },
  node20: { version: '2', config: { env: [STANDIN_PATH], cmd: ['node'] }, produce: debianImage('trixie', 'minbase', ['nodejs', 'wget', 'ca-certificates']) },
  'distroless-static': { version: '3', config: { env: DISTROLESS_ENV }, produce: distroless('bookworm', []) },
  'distroless-base': { version: '3', config: { env: DISTROLESS_ENV }, produce: distroless('bookworm', ['libc6', 'libssl3']) },
  'distroless-python': {
    version: '3',
    config: { env: [...DISTROLESS_ENV, 'LANG=C.UTF-8'], entrypoint: ['/usr/bin/python3.11'] },
    produce: distroless('bookworm', ['libc6', 'libssl3', 'python3.11-minimal', 'libpython3.11-stdlib'], ['ln -sf python3.11 "$1/usr/bin/python3"']),
  },
  'distroless-nodejs': {
    version: '3',
    config: { env: DISTROLESS_ENV, entrypoint: ['/nodejs/bin/node'] },
    produce: distroless('trixie', ['libc6', 'nodejs'], ['mkdir -p "$1/nodejs/bin" && ln -sf /usr/bin/node "$1/nodejs/bin/node"']),
  },
};

/** The recipes above; each kind's `version` is bumped when its recipe changes, so that older stand-ins are not reused. */
export const standinRecipes: StandinRecipes = {
  version: (kind) => RECIPES[kind].version,
  config: (kind) => RECIPES[kind].config,
  produce: (kind, architecture, onStep) => RECIPES[kind].produce(architecture, onStep),
};

/**
 * Debian trixie's busybox-static (1.37) for the architecture. Not bookworm's (1.35): its `wget -T`
 * crashes (segmentation fault), where Alpine's busybox wget, which this stands in for, works.
 * Without Debian's mirror, on the host's own architecture, the host's busybox-static is used,
 * with that flaw.
 */
async function busyboxFor(architecture: string, onStep: (message: string) => void): Promise<RootfsProducer> {
  const native = architecture === dockerArchitecture(process.arch);
  const tool = findExecutable('mmdebstrap');
  if (!tool) {
    if (native) return busyboxRootfs(onStep);
    throw missingTool('mmdebstrap', 'mmdebstrap');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'em-sim-busybox-deb-'));
  try {
    onStep(`fetching Debian trixie's busybox-static for ${architecture}`);
    const fetch = runProducer(
      tool,
      [`--arch=${architecture}`, '--variant=extract', '--include=busybox-static', 'trixie', dir],
      () => {},
      async () => {},
    );
    fetch.tar.resume();
    await fetch.done;
    // trixie installs it in /usr/bin (merged /usr); bookworm in /bin.
    const binary = [path.join(dir, 'usr', 'bin', 'busybox'), path.join(dir, 'bin', 'busybox')].find((file) => existsSync(file));
    if (!binary) throw new Error("Debian's busybox-static package held no busybox binary");
    return await busyboxRootfs(onStep, binary, () => rm(dir, { recursive: true, force: true }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (!native) throw err;
    onStep(`trixie's busybox could not be fetched (${(err as Error).message}); using this machine's busybox-static, whose wget -T crashes`);
    return busyboxRootfs(onStep);
  }
}

async function mmdebstrap(
  options: { suite: string; architecture: string; args: string[] },
  onStep: (message: string) => void,
): Promise<RootfsProducer> {
  const tool = findExecutable('mmdebstrap');
  if (!tool) throw missingTool('mmdebstrap', 'mmdebstrap');
  const include = options.args.find((a) => a.startsWith('--include='))?.slice('--include='.length);
  onStep(`mmdebstrap ${options.suite} ${options.architecture}${include ? ` + ${include.split(',').join(', ')}` : ''} (needs Debian's mirror)`);
  // stdin is /dev/null, so mmdebstrap uses its default mirrors (deb.debian.org, updates, security).
  return runProducer(
    tool,
    [`--arch=${options.architecture}`, ...options.args, options.suite, '-'],
    (line) => {
      if (/^I: (using|automatically|chroot architecture|finding correct|removing tempdir|done)/.test(line)) return;
      if (/^[IWE]: /.test(line)) onStep(line.slice(3));
    },
    async () => {},
  );
}
