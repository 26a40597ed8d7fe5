import type { RootfsProducer, StandinRecipeKind, StandinRecipes } from '../../domain/ports/standin-recipes.ts';
import { busyboxRootfs } from './busybox-rootfs.ts';
import { findExecutable, missingTool, runProducer } from './producer.ts';

/*
 * The StandinRecipes port: how each stand-in's root filesystem is made offline (environment.md,
 * "Images without a registry"):
 *
 * - busybox: Debian's busybox-static with its applet links and a minimal /etc, `CMD ["/bin/sh"]`;
 * - debian:  `mmdebstrap --variant=minbase bookworm`, `CMD ["bash"]`;
 * - python:  `mmdebstrap --variant=apt bookworm` with python3 (full standard library), wget and
 *            /usr/bin/python, `CMD ["python3"]`.
 */

const STANDIN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEBIAN_SUITE = 'bookworm';

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

const RECIPES: Record<StandinRecipeKind, { changes: string[]; produce(onStep: (message: string) => void): Promise<RootfsProducer> }> = {
  busybox: {
    changes: [`ENV ${STANDIN_PATH}`, 'CMD ["/bin/sh"]'],
    produce: busyboxRootfs,
  },
  debian: {
    changes: [`ENV ${STANDIN_PATH}`, 'CMD ["bash"]'],
    produce: (onStep) => mmdebstrap(['--variant=minbase'], onStep),
  },
  python: {
    changes: [`ENV ${STANDIN_PATH}`, 'ENV LANG=C.UTF-8', 'CMD ["python3"]'],
    // python3 (not python3-minimal) brings the whole standard library: http.server, json, ...
    produce: (onStep) => mmdebstrap(['--variant=apt', '--include=python3,python-is-python3,wget'], onStep),
  },
};

/** The recipes above; `version` is bumped when one changes, so that older stand-ins are not reused. */
export const standinRecipes: StandinRecipes = {
  version: '1',
  changes: (kind) => RECIPES[kind].changes,
  produce: (kind, onStep) => RECIPES[kind].produce(onStep),
};

async function mmdebstrap(extra: string[], onStep: (message: string) => void): Promise<RootfsProducer> {
  const tool = findExecutable('mmdebstrap');
  if (!tool) throw missingTool('mmdebstrap', 'mmdebstrap');
  const include = extra.find((a) => a.startsWith('--include='))?.slice('--include='.length);
  onStep(`mmdebstrap ${DEBIAN_SUITE}${include ? ` + ${include.split(',').join(', ')}` : ''} (about 20 s, needs Debian's mirror)`);
  // stdin is /dev/null, so mmdebstrap uses its default mirrors (deb.debian.org, updates, security).
  return runProducer(
    tool,
    [...extra, ...SLIM_DPKG_OPTIONS, DEBIAN_SUITE, '-'],
    (line) => {
      if (/^I: (using|automatically|chroot architecture|finding correct|removing tempdir|done)/.test(line)) return;
      if (/^[IWE]: /.test(line)) onStep(line.slice(3));
    },
    async () => {},
  );
}
