import cliProgress from 'cli-progress';
import type { SimConfig } from '../config/schema.ts';
import type { CatalogEntry } from '../domain/images/catalog.ts';
import type { CatalogImageReport, CatalogProgress } from '../domain/images/catalog-images.ts';
import { STANDIN_CONTENTS } from '../domain/images/catalog.ts';
import { engineTools } from '../simulator.ts';

/** What `em-sim images` is asked to do. */
export interface ImagesOptions {
  /** Catalog references to prepare; none: images.prepare (or the whole catalog with `all`). */
  refs: string[];
  all: boolean;
  pull: boolean;
  /** Only show every catalog entry and how it stands. */
  list: boolean;
  out: (line: string) => void;
  /** A progress bar per image (a terminal); else one line per step. */
  bars: boolean;
}

/**
 * `em-sim images`: makes onboard catalog images exist on the Docker engine for the configured
 * platform (pull each, else build a stand-in offline), with a progress bar per image on a
 * terminal. With `all`, entries em-sim cannot make here are reported, not failed. `list` prints
 * every entry: present, stand-in, missing (made on first use) or unavailable. Throws when the
 * engine does not answer, a named image is not onboard, or an image asked for could not be made.
 */
export async function provisionImages(config: SimConfig, source: string | null, options: ImagesOptions): Promise<void> {
  const tools = engineTools(config, { catalogOptions: { pull: options.pull } });
  if ((await tools.ping(2000)) !== null) throw new Error(tools.missingMessage());
  const { catalog, platform } = tools;
  if (options.list) return listCatalog(tools.catalog, options.out);

  let entries: CatalogEntry[];
  if (options.refs.length) {
    const unknown = options.refs.filter((ref) => !catalog.find(ref));
    if (unknown.length) {
      throw new Error(`not in the onboard catalog: ${unknown.join(', ')} (\`npx em-sim images --list\` shows it; images.catalog in sim-config.yaml adds to it)`);
    }
    entries = options.refs.map((ref) => catalog.find(ref)!);
  } else if (options.all) {
    entries = [...catalog.entries];
  } else {
    const notOnboard = config.images.prepare.filter((ref) => !catalog.find(ref));
    if (notOnboard.length) options.out(`em-sim images: images.prepare names images that are not onboard, skipped: ${notOnboard.join(', ')}`);
    entries = config.images.prepare.map((ref) => catalog.find(ref)).filter((e): e is CatalogEntry => e !== undefined);
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  options.out(
    `em-sim images: ${entries.length} of ${catalog.entries.length} catalog images for linux/${platform.architecture} (${platform.mode} mode) ` +
      `from ${source ?? 'the default configuration'}, registry ${config.images.registry}, engine ${tools.describe()}`,
  );
  const reports = await withProgress(entries, options, (listener) => {
    const stop = catalog.onProgress(listener);
    return catalog.ensure(entries).finally(stop);
  }, elapsed);

  const count = (status: string) => reports.filter((r) => r.status === status).length;
  // With --all, images em-sim has no recipe for are expected to be unavailable offline: reported, not fatal.
  const fatal = reports.filter((r) => r.status === 'failed' || (r.status === 'unavailable' && !options.all));
  options.out(
    `em-sim images: done in ${elapsed().trim()}: ${count('present')} present, ${count('standin')} stand-ins present, ${count('pulled')} pulled, ` +
      `${count('standin-built')} stand-ins made, ${count('unavailable')} unavailable here, ${count('failed')} failed`,
  );
  if (fatal.length) {
    for (const report of fatal) options.out(`  ${report.ref}: ${report.detail ?? 'failed'}`);
    throw new Error(`${fatal.length} catalog image(s) not ready, see the reasons above: ${fatal.map((r) => r.ref).join(', ')}`);
  }
}

/** Runs `work` while showing its progress: a bar per image on a terminal, else a line per message. */
async function withProgress(
  entries: CatalogEntry[],
  options: ImagesOptions,
  work: (listener: (progress: CatalogProgress) => void) => Promise<CatalogImageReport[]>,
  elapsed: () => string,
): Promise<CatalogImageReport[]> {
  if (!options.bars) return work(({ message }) => options.out(`[${elapsed()}] ${message}`));
  const multibar = new cliProgress.MultiBar(
    { format: ' {bar} {ref} | {step}', barsize: 12, hideCursor: true, clearOnComplete: false, stopOnComplete: false, autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...entries.map((e) => e.ref.length));
  const bars = new Map(entries.map((entry) => [entry.ref, { entry, bar: multibar.create(4, 0, { ref: entry.ref.padEnd(width), step: 'queued' }) }]));
  const stepValue = (message: string): number | undefined =>
    /pulling/.test(message) ? 1 : /making a|stand-in:/.test(message) ? 2 : /tagging/.test(message) ? 3 : undefined;
  try {
    return await work((progress) => {
      const targets = progress.ref ? [bars.get(progress.ref)].filter((b) => b !== undefined) : [...bars.values()].filter((b) => b.entry.standin === progress.kind);
      for (const { bar } of targets) {
        const step = progress.message.replace(/^[^:]+: /, '').slice(0, 90);
        if (progress.outcome) bar.update(4, { step: progress.outcome === 'failed' ? 'FAILED (see below)' : progress.message.replace(/^[^:]+: /, '') });
        else bar.update(Math.max(stepValue(progress.message) ?? 0, (bar as unknown as { value: number }).value ?? 0), { step });
      }
    });
  } finally {
    multibar.stop();
  }
}

async function listCatalog(catalog: ReturnType<typeof engineTools>['catalog'], out: (line: string) => void): Promise<void> {
  const rows = await catalog.list();
  const width = Math.max(...rows.map((r) => r.entry.ref.length));
  const versionWidth = Math.max(8, ...rows.map((r) => (r.entry.version ?? '').length));
  out(`${'IMAGE'.padEnd(width)}  ${'STATE'.padEnd(16)} ${'STAND-IN'.padEnd(18)} ${'UPSTREAM'.padEnd(versionWidth)} NOTE`.trimEnd());
  for (const { entry, state, architecture } of rows) {
    const arch = architecture ? ` (${architecture})` : '';
    out(`${entry.ref.padEnd(width)}  ${(state + arch).padEnd(16)} ${entry.standin.padEnd(18)} ${(entry.version ?? '').padEnd(versionWidth)} ${entry.note ?? ''}`.trimEnd());
  }
  out('UPSTREAM: the version the provider pinned the tag to (pulled instead of the tag); empty: the tag itself.');
  const by = (state: string) => rows.filter((r) => r.state === state).length;
  out(
    `${rows.length} onboard images for linux/${catalog.platform.architecture}: ${by('present')} present, ${by('standin')} stand-ins, ` +
      `${by('missing')} missing (made on first use), ${by('unavailable')} unavailable here (need a registry or docker load)`,
  );
  out(`stand-ins: ${Object.entries(STANDIN_CONTENTS).filter(([k]) => k !== 'none').map(([k, v]) => `${k}: ${v}`).join('; ')}`);
}

/**
 * How `em-sim start` shows the preparation of images.prepare: one progress bar on a terminal
 * (`total` images), else one line per step through `log`. Returns the listener and a function
 * that ends the display.
 */
export function startProgress(total: number, tty: boolean, log: (progress: CatalogProgress) => void): { listener: (progress: CatalogProgress) => void; end: () => void } {
  if (!tty || total === 0) return { listener: log, end: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: 'em-sim: preparing onboard images {bar} {value}/{total} | {step}', barsize: 16, hideCursor: false, stream: process.stdout, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { step: 'starting' });
  let done = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    bar.stop();
  };
  return {
    listener: (progress) => {
      if (ended) return log(progress);
      if (progress.outcome) done++;
      bar.update(done, { step: progress.message.slice(0, 80) });
      if (done >= total) end();
    },
    end,
  };
}
