import { readFileSync } from 'node:fs';
import { parseProviderCatalog, type CatalogItem } from '../domain/images/catalog.ts';
import type { SimConfig } from './schema.ts';

/** The provider's published onboard image list, shipped with em-sim (see its first lines for the source). */
export const PROVIDER_CATALOG_FILE = new URL('./onboard-images.tsv', import.meta.url);

let providerItems: CatalogItem[] | undefined;

/** The provider's list as catalog items, read once. */
export function providerCatalog(): CatalogItem[] {
  providerItems ??= parseProviderCatalog(readFileSync(PROVIDER_CATALOG_FILE, 'utf8'));
  return providerItems;
}

/**
 * The catalog a configuration makes: `images.catalog` first (so an entry there can give a provider
 * image its stand-in or version), then the provider's list unless `images.provider_catalog` is false.
 */
export function configuredCatalog(config: SimConfig): CatalogItem[] {
  return [...config.images.catalog, ...(config.images.provider_catalog ? providerCatalog() : [])];
}
