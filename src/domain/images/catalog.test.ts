import { describe, expect, it } from 'vitest';
import { catalogEntries, catalogTags, findInCatalog, inferStandin, parseProviderCatalog, upstreamReference, type CatalogItem } from './catalog.ts';
import { ImageReference } from './image-reference.ts';

/** The configuration's default catalog (test/config.test.ts reads it through the configuration). */
const DEFAULT_ITEMS: CatalogItem[] = ['alpine:latest', 'alpine:3.20', 'busybox:latest', 'debian:bookworm-slim', 'python:3.11-alpine', 'python:3.12-alpine'];

const REGISTRY = 'fpga.dphi.space:5000';

describe('ImageReference.normalize', () => {
  it.each([
    ['alpine', 'alpine:latest'],
    ['alpine:3.20', 'alpine:3.20'],
    ['  busybox ', 'busybox:latest'],
    [`${REGISTRY}/python:3.11-alpine`, 'python:3.11-alpine'],
    [`${REGISTRY}/alpine`, 'alpine:latest'],
    ['docker.io/library/debian:bookworm-slim', 'debian:bookworm-slim'],
    ['docker.io/python:3.12-alpine', 'python:3.12-alpine'],
    ['library/alpine', 'alpine:latest'],
    ['myorg/tool', 'myorg/tool:latest'],
    ['other.registry:5000/alpine', 'other.registry:5000/alpine:latest'],
    ['other.registry:5000/alpine:3.20', 'other.registry:5000/alpine:3.20'],
  ])('%s -> %s', (input, expected) => {
    expect(ImageReference.normalize(input, REGISTRY)).toBe(expected);
  });

  it('keeps digests as they are', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    expect(ImageReference.normalize(`alpine@${digest}`, REGISTRY)).toBe(`alpine@${digest}`);
    expect(ImageReference.normalize(`${REGISTRY}/alpine:3.20@${digest}`, REGISTRY)).toBe(`alpine:3.20@${digest}`);
  });

  it('strips a registry given with a trailing slash', () => {
    expect(ImageReference.normalize('reg.local/alpine', 'reg.local/')).toBe('alpine:latest');
  });
});

describe('inferStandin', () => {
  it.each([
    ['alpine:latest', 'busybox'],
    ['busybox:1.36', 'busybox'],
    ['debian:bookworm-slim', 'debian'],
    ['python:3.11-alpine', 'python'],
    ['ubuntu:24.04', 'debian'],
    ['node:18-slim', 'node18'],
    ['node:20-alpine', 'node20'],
    ['node:lts', 'node20'],
    ['distroless-static:latest', 'distroless-static'],
    ['distroless-python3-debian12:latest', 'distroless-python'],
    ['distroless-java17-debian12:latest', 'none'],
    ['mysql:8.0', 'none'],
    ['pythonic:1', 'none'],
    ['myorg/python:3', 'python'],
  ] as const)('%s -> %s', (ref, kind) => {
    expect(inferStandin(ref)).toBe(kind);
  });
});

describe('findInCatalog', () => {
  const entries = catalogEntries(DEFAULT_ITEMS, REGISTRY);

  it('finds an entry however the reference is spelled', () => {
    for (const ref of ['alpine', 'alpine:latest', `${REGISTRY}/alpine`, `${REGISTRY}/alpine:latest`, 'docker.io/library/alpine']) {
      expect(findInCatalog(entries, ref, REGISTRY)?.ref).toBe('alpine:latest');
    }
    expect(findInCatalog(entries, `${REGISTRY}/python:3.11-alpine`, REGISTRY)).toEqual({ ref: 'python:3.11-alpine', standin: 'python' });
  });

  it('returns undefined for what is not onboard', () => {
    expect(findInCatalog(entries, 'alpine:3.19', REGISTRY)).toBeUndefined();
    expect(findInCatalog(entries, 'node:20', REGISTRY)).toBeUndefined();
    expect(findInCatalog(entries, 'other.registry/alpine:latest', REGISTRY)).toBeUndefined();
  });
});

describe('catalogTags', () => {
  it('gives both the plain and the registry tag, and a digest only itself', () => {
    expect(catalogTags({ ref: 'alpine:latest', standin: 'busybox' }, REGISTRY)).toEqual(['alpine:latest', `${REGISTRY}/alpine:latest`]);
    const digest = `alpine@sha256:${'b'.repeat(64)}`;
    expect(catalogTags({ ref: digest, standin: 'busybox' }, REGISTRY)).toEqual([digest]);
  });

  it('keeps an image of another registry under its own name only', () => {
    expect(catalogTags({ ref: 'ghcr.io/org/tool:1', standin: 'none' }, REGISTRY)).toEqual(['ghcr.io/org/tool:1']);
    expect(catalogTags({ ref: 'localhost:5999/alpine:latest', standin: 'busybox' }, REGISTRY)).toEqual(['localhost:5999/alpine:latest']);
    expect(catalogTags({ ref: 'myorg/tool:1', standin: 'none' }, REGISTRY)).toEqual(['myorg/tool:1', `${REGISTRY}/myorg/tool:1`]);
  });
});

describe('parseProviderCatalog', () => {
  it('reads name, tag, pinned version and note; skips comments and the header', () => {
    const tsv = '# a comment\nname\ttag\tversion\tnote\nalpine\tlatest\t3.22.1\t\npython\t3.10-slim\t\t\nl4t-ml\tlatest\tr36.4.0\tprovider-built image\n';
    expect(parseProviderCatalog(tsv)).toEqual([
      { image: 'alpine:latest', version: '3.22.1' },
      { image: 'python:3.10-slim' },
      { image: 'l4t-ml:latest', version: 'r36.4.0', note: 'provider-built image' },
    ]);
  });

  it('refuses a row without a tag, naming it', () => {
    expect(() => parseProviderCatalog('name\ttag\nalpine\n')).toThrow(/row 2 has no name or tag: "alpine"/);
  });
});

describe('upstreamReference', () => {
  it.each([
    [{ ref: 'alpine:latest', standin: 'busybox', version: '3.22.1' }, 'alpine:3.22.1'],
    [{ ref: 'python:3.10-slim', standin: 'python' }, 'python:3.10-slim'],
    [{ ref: 'distroless-base:latest', standin: 'distroless-base', version: 'base' }, 'gcr.io/distroless/base'],
    [{ ref: 'grafana/grafana:latest', standin: 'none', version: '12.2.0-16791878397' }, 'grafana/grafana:12.2.0-16791878397'],
  ] as const)('%o pulls %s', (entry, expected) => {
    expect(upstreamReference(entry)).toBe(expected);
  });
});

describe('ImageReference.normalize with both prefixes', () => {
  it('strips the onboard registry or the Hub prefix, never both', () => {
    expect(ImageReference.normalize(`${REGISTRY}/docker.io/library/alpine:latest`, REGISTRY)).toBe('docker.io/library/alpine:latest');
    expect(ImageReference.normalize(`${REGISTRY}/library/alpine`, REGISTRY)).toBe('library/alpine:latest');
  });
});
