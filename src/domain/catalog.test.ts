import { describe, expect, it } from 'vitest';
import { buildConfig } from '../config/load.ts';
import { catalogEntries, catalogTags, findInCatalog, inferStandin, normalizeRef } from './catalog.ts';

const REGISTRY = 'fpga.dphi.space:5000';

describe('normalizeRef', () => {
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
    expect(normalizeRef(input, REGISTRY)).toBe(expected);
  });

  it('keeps digests as they are', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    expect(normalizeRef(`alpine@${digest}`, REGISTRY)).toBe(`alpine@${digest}`);
    expect(normalizeRef(`${REGISTRY}/alpine:3.20@${digest}`, REGISTRY)).toBe(`alpine:3.20@${digest}`);
  });

  it('strips a registry given with a trailing slash', () => {
    expect(normalizeRef('reg.local/alpine', 'reg.local/')).toBe('alpine:latest');
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

describe('catalogEntries', () => {
  it('reads the default catalog', () => {
    const { images } = buildConfig();
    expect(catalogEntries(images)).toEqual([
      { ref: 'alpine:latest', standin: 'busybox' },
      { ref: 'alpine:3.20', standin: 'busybox' },
      { ref: 'busybox:latest', standin: 'busybox' },
      { ref: 'debian:bookworm-slim', standin: 'debian' },
      { ref: 'python:3.11-alpine', standin: 'python' },
      { ref: 'python:3.12-alpine', standin: 'python' },
    ]);
  });

  it('takes strings and objects, normalizes, keeps the first mention, honours an explicit stand-in', () => {
    const { images } = buildConfig({
      images: {
        registry: 'reg.example:5000',
        catalog: [
          'alpine',
          { image: 'node:20-alpine', standin: 'busybox' },
          'reg.example:5000/alpine:latest',
          { image: 'docker.io/library/ubuntu:24.04' },
          { image: 'python:3.12-slim', standin: 'none' },
        ],
      },
    });
    expect(catalogEntries(images)).toEqual([
      { ref: 'alpine:latest', standin: 'busybox' },
      { ref: 'node:20-alpine', standin: 'busybox' },
      { ref: 'ubuntu:24.04', standin: 'none' },
      { ref: 'python:3.12-slim', standin: 'none' },
    ]);
  });
});

describe('findInCatalog', () => {
  const entries = catalogEntries(buildConfig().images);

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
