import { describe, expect, it } from 'vitest';
import { catalogEntries, catalogTags, findInCatalog, inferStandin, type CatalogItem } from './catalog.ts';
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
    ['node:20-alpine', 'none'],
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
