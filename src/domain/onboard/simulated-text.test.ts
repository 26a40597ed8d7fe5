import { describe, expect, it } from 'vitest';
import { countTokens, imageFacts, simulatedAnswer, simulatedEmbedding, streamPieces, truncateTokens } from './simulated-text.ts';
import { serviceForHost } from './onboard-access.ts';

describe('simulated answers', () => {
  it('are marked, deterministic, and change with the model, the prompt and the image bytes', () => {
    const base = { model: 'gemma3:4b', prompt: 'What is in orbit?', images: [] };
    const a = simulatedAnswer(base);
    expect(a).toMatch(/^\[em-sim: simulated gemma3:4b answer; no model ran/);
    expect(simulatedAnswer(base)).toBe(a);
    expect(simulatedAnswer({ ...base, model: 'llava:7b' })).not.toBe(a);
    const png = Buffer.alloc(33);
    png.writeUInt32BE(0x89504e47, 0);
    png.write('IHDR', 12, 'latin1');
    png.writeUInt32BE(640, 16);
    png.writeUInt32BE(480, 20);
    const withImage = simulatedAnswer({ ...base, images: [png] });
    expect(withImage).toContain('640x480 PNG of 33 bytes');
    png[32] = 1;
    expect(simulatedAnswer({ ...base, images: [png] })).not.toBe(withImage);
  });

  it('read JPEG sizes from the frame header, and count and cut tokens', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, 0, 0, 0, 0]);
    expect(imageFacts(jpeg)).toEqual({ format: 'JPEG', width: 640, height: 480, bytes: jpeg.length });
    expect(countTokens('Hello, world!')).toBe(4);
    expect(truncateTokens('one two three four', 2)).toEqual({ text: 'one two', truncated: true });
    // One piece per token, lossless: a stream of num_predict pieces says as many tokens.
    const text = '[em-sim: simulated answer] Onboard processing, radiation-tolerant.';
    expect(streamPieces(text).join('')).toBe(text);
    expect(streamPieces(text)).toHaveLength(countTokens(text));
    expect(truncateTokens(text, 5).text).toBe('[em-sim:');
    expect(truncateTokens(text, 7).text).toBe('[em-sim: simulated');
    expect(truncateTokens('one two', 10)).toEqual({ text: 'one two', truncated: false });
  });

  it('embed as deterministic unit vectors of the asked length', () => {
    const v = simulatedEmbedding('gemma3:4b', 'x', 2560);
    expect(v).toHaveLength(2560);
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(simulatedEmbedding('gemma3:4b', 'x', 2560)).toEqual(v);
  });
});

describe('serviceForHost', () => {
  it('routes the cluster names in every form a pod may write them, and nothing else', () => {
    expect(serviceForHost('satellite-telemetry.dphi-tm')).toBe('telemetry');
    expect(serviceForHost('Ollama-DPhi.dphi-public:80')).toBe('ollama');
    expect(serviceForHost('liquid-3b.dphi-public.svc.cluster.local.')).toBe('liquidai');
    expect(serviceForHost('satellite-telemetry')).toBeNull();
    expect(serviceForHost('172.18.0.2')).toBeNull();
    expect(serviceForHost(undefined)).toBeNull();
  });
});
