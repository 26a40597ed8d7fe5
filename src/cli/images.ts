import type { SimConfig } from '../config/schema.ts';
import { engineTools } from '../simulator.ts';

/**
 * `em-sim images`: makes the onboard catalog exist on the Docker engine (pull each image, else
 * build a stand-in offline), printing progress with elapsed times. Throws when the engine does not
 * answer or an image could not be made ready.
 */
export async function provisionImages(config: SimConfig, source: string | null, options: { pull: boolean; out: (line: string) => void }): Promise<void> {
  const tools = engineTools(config);
  if ((await tools.ping(2000)) !== null) throw new Error(tools.missingMessage());
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  options.out(
    `em-sim images: ${tools.catalog.length} catalog images from ${source ?? 'the default configuration'}, ` +
      `registry ${config.images.registry}, engine ${tools.describe()}`,
  );
  const reports = await tools.provisionCatalog({
    pull: options.pull,
    onProgress: ({ message }) => options.out(`[${elapsed()}] ${message}`),
  });
  const count = (status: string) => reports.filter((r) => r.status === status).length;
  const failed = reports.filter((r) => r.status === 'failed');
  options.out(
    `em-sim images: done in ${elapsed().trim()}: ${count('present')} present, ${count('pulled')} pulled, ` +
      `${count('standin-built')} stand-ins, ${failed.length} failed`,
  );
  if (failed.length) {
    throw new Error(`${failed.length} catalog image(s) not ready, see the reasons above: ${failed.map((r) => r.ref).join(', ')}`);
  }
}
