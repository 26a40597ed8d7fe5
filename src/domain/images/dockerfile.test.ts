import { describe, expect, it } from 'vitest';
import { fromLines, parseDockerfile } from './dockerfile.ts';

// The bases a Dockerfile names, read as Docker reads them (found with hostile inputs).

describe('fromLines', () => {
  it('reads FROM in any case, with --platform and AS, and knows earlier stages', () => {
    expect(fromLines('from alpine:3.19 AS build\nRUN true\nFROM --platform=linux/arm64 build\n')).toEqual([
      { written: 'alpine:3.19', base: 'alpine:3.19', earlierStage: false },
      { written: 'build', base: 'build', platform: 'linux/arm64', earlierStage: true },
    ]);
  });

  it('joins a continuation with nothing between, even inside the keyword, and drops comment lines in it', () => {
    expect(fromLines('FR\\\nOM client2-secret:latest\n')[0]!.base).toBe('client2-secret:latest');
    expect(fromLines('FROM \\\n# a comment\n  python:3.10-slim\n')[0]!.base).toBe('python:3.10-slim');
    expect(fromLines('# escape=`\nFROM `\nalpine:3.19\n')[0]!.base).toBe('alpine:3.19');
  });

  it('substitutes global ARG defaults, build arguments and the default forms', () => {
    expect(fromLines('ARG B=client2-secret:latest\nFROM ${B}\n')[0]!.base).toBe('client2-secret:latest');
    expect(fromLines('ARG V="3.10"\nFROM python:$V-slim\n')[0]!.base).toBe('python:3.10-slim');
    expect(fromLines('ARG T\nFROM alpine:${T:-3.19}\n')[0]!.base).toBe('alpine:3.19');
    expect(fromLines('ARG TARGETARCH=amd64\nFROM img-${TARGETARCH}\n', { TARGETARCH: 'arm64' })[0]!.base).toBe('img-arm64');
    // An ARG declared after the first FROM does not reach a later FROM (Docker's scoping).
    expect(fromLines('FROM alpine:3.19\nARG B=x\nFROM ${B:-busybox}\n')[1]!.base).toBe('busybox');
  });

  it('leaves unresolvable bases null rather than guess', () => {
    expect(fromLines('FROM ${B}\n')[0]!.base).toBeNull();
    expect(fromLines('FROM a\\$b\n')[0]!.base).toBeNull();
    expect(fromLines('ARG P\nFROM --platform=${P:?x} alpine\n')[0]!.base).toBeNull();
  });
});

describe('parseDockerfile().rewritten', () => {
  it('writes each FROM out as checked and keeps every other line and the line count', () => {
    const text = 'ARG B=alpine:3.19\nFR\\\nOM ${B} AS one\nRUN echo $B \\\n  && true\n';
    const { rewritten } = parseDockerfile(text);
    expect(rewritten.split('\n')).toEqual(['ARG B=alpine:3.19', 'FROM alpine:3.19 AS one', '', 'RUN echo $B \\', '  && true', '']);
  });
});
