import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CatalogImages } from '../src/domain/images/catalog-images.ts';
import type { CatalogEntry } from '../src/domain/images/catalog.ts';
import type { Platform } from '../src/domain/images/platform.ts';
import type { StandinRecipes } from '../src/domain/ports/standin-recipes.ts';
import { FakeImages } from './helpers/fake-runtime.ts';

// CatalogImages on the fake engine: what is made, how often, and what a failure says.

const REGISTRY = 'fpga.dphi.space:5000';
const ARM64: Platform = { mode: 'arm64', architecture: 'arm64' };

/** Recipes that count what they produce; `fail` makes a kind's production fail. */
function countingRecipes(fail: string[] = []): StandinRecipes & { produced: string[] } {
  const produced: string[] = [];
  return {
    produced,
    version: () => 't1',
    config: () => ({ env: [] }),
    async produce(kind, architecture) {
      produced.push(`${kind}/${architecture}`);
      if (fail.includes(kind)) throw new Error(`mmdebstrap is not installed: apt-get install mmdebstrap`);
      const tar = new PassThrough();
      setImmediate(() => tar.end(Buffer.alloc(10)));
      return { tar, done: Promise.resolve(), stop() {}, cleanup: async () => {} };
    },
  };
}

/** FakeImages whose importRootfs makes the image (the real one loads an archive). */
function fakeImages(): FakeImages {
  const images = new FakeImages(() => {});
  images.importRootfs = async (tar, options) => {
    for await (const _ of tar) {
      /* drain */
    }
    const info = images.add(options.tag);
    info.standin = { kind: options.mark.kind, recipe: options.mark.recipe };
    return { id: info.id, size: info.size };
  };
  return images;
}

const entry = (ref: string, standin: CatalogEntry['standin']): CatalogEntry => ({ ref, standin });

describe('CatalogImages', () => {
  it('makes one stand-in root per kind however many tags and callers ask, and tags each under both names', async () => {
    const images = fakeImages();
    const recipes = countingRecipes();
    const entries = [entry('python:3.10-slim', 'python'), entry('python:3.12-alpine', 'python'), entry('alpine:3.19', 'busybox')];
    const catalog = new CatalogImages(images, recipes, entries, REGISTRY, ARM64);
    const [a, b] = await Promise.all([catalog.prepare(entries[0]!), catalog.prepare(entries[0]!), catalog.ensure()]);
    expect(a).toBe(b); // one preparation for both callers
    expect(recipes.produced.sort()).toEqual(['busybox/arm64', 'python/arm64']);
    for (const e of entries) {
      const plain = await images.inspect(e.ref);
      expect(plain?.id).toBe((await images.inspect(`${REGISTRY}/${e.ref}`))?.id);
    }
    expect((await catalog.ensure()).map((r) => r.status)).toEqual(['standin', 'standin', 'standin']);
  });

  it('in arm64 mode, an image present for another architecture is not ready and is made again', async () => {
    const images = fakeImages();
    const amd64 = images.add('alpine:latest');
    amd64.architecture = 'amd64';
    const catalog = new CatalogImages(images, countingRecipes(), [entry('alpine:latest', 'busybox')], REGISTRY, ARM64);
    expect(await catalog.ready(catalog.entries[0]!)).toBeNull();
    expect((await catalog.ensure())[0]!.status).toBe('standin-built');
    expect((await catalog.ready(catalog.entries[0]!))?.architecture).toBe('arm64');
    // native mode takes what is there
    const native = new CatalogImages(images, countingRecipes(), [entry('busybox:latest', 'busybox')], REGISTRY, { mode: 'native', architecture: 'amd64' });
    const other = images.add('busybox:latest');
    other.architecture = 'amd64';
    expect(await native.ready(native.entries[0]!)).toBe(other);
  });

  it('tells an image it has no stand-in for (unavailable) from one whose making failed (failed), and remembers both for a while', async () => {
    let now = 0;
    const recipes = countingRecipes(['debian']);
    const catalog = new CatalogImages(fakeImages(), recipes, [entry('mysql:8.0', 'none'), entry('ubuntu:24.04', 'debian')], REGISTRY, ARM64, {
      now: () => now,
      failureMemoryMs: 1000,
    });
    const [mysql, ubuntu] = await catalog.ensure();
    expect(mysql).toMatchObject({ status: 'unavailable', detail: expect.stringMatching(/^mysql:8\.0 is onboard, but em-sim cannot make it on this machine: it cannot be pulled \(registry docker\.io unreachable: .*\) and em-sim has no offline stand-in/) });
    expect(ubuntu).toMatchObject({ status: 'failed', detail: expect.stringContaining('building the debian stand-in failed: mmdebstrap is not installed') });
    expect(catalog.recentFailure('mysql:8.0')).toBe(mysql);
    now = 2000;
    expect(catalog.recentFailure('mysql:8.0')).toBeUndefined();
    // A failed kind is tried again on the next request.
    await catalog.ensure([catalog.entries[1]!]);
    expect(recipes.produced).toEqual(['debian/arm64', 'debian/arm64']);
  });

  it('says what it is doing while it prepares', async () => {
    const catalog = new CatalogImages(fakeImages(), countingRecipes(), [entry('alpine:3.19', 'busybox')], REGISTRY, ARM64);
    const messages: string[] = [];
    catalog.onProgress((p) => messages.push(p.message));
    const work = catalog.prepare(catalog.entries[0]!);
    expect(catalog.inProgress('alpine:3.19')).toMatch(/alpine:3\.19/);
    await work;
    expect(catalog.inProgress('alpine:3.19')).toBeUndefined();
    expect(messages.at(-1)).toBe('alpine:3.19: stand-in ready');
    expect(messages).toContainEqual(expect.stringMatching(/^alpine:3\.19: cannot be pulled .*making a busybox stand-in for linux\/arm64$/));
  });
});
