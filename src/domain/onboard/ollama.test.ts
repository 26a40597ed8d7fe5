import { describe, expect, it } from 'vitest';
import type { Clock } from '../ports/clock.ts';
import type { ServiceCall, UsageTotal } from '../ports/usage-store.ts';
import { OllamaError, OllamaTwin } from './ollama.ts';
import { ServiceUsage } from './service-usage.ts';

function twin() {
  let now = Date.parse('2026-12-01T00:00:00Z');
  const clock = { now: () => now, speed: 1 } as Clock;
  const calls: ServiceCall[] = [];
  const usage = new ServiceUsage({ record: (c) => calls.push(c), totals: () => [] as UsageTotal[] }, clock);
  return { ollama: new OllamaTwin(clock, usage, '0.13.5'), calls, advance: (ms: number) => (now += ms) };
}

describe('OllamaTwin', () => {
  it("answers Ollama's 404 for a model that is not onboard, and resolves names as Ollama does", () => {
    const { ollama } = twin();
    expect(() => ollama.generate('u', { model: 'gemma3', prompt: 'x', images: [] })).toThrow(new OllamaError(404, "model 'gemma3' not found"));
    expect(ollama.generate('u', { model: 'GEMMA3:4B', prompt: 'x', images: [] }).model).toBe('gemma3:4b');
    expect(() => ollama.show(undefined)).toThrow('model is required');
  });

  it('keeps a model loaded for keep_alive on the simulated clock; a warm load is fast, keep_alive 0 unloads', () => {
    const { ollama, advance } = twin();
    const cold = ollama.generate('u', { model: 'llava:7b', prompt: 'x', images: [] });
    const warm = ollama.generate('u', { model: 'llava:7b', prompt: 'x', images: [] });
    expect(cold.durations.load).toBeGreaterThan(1e9);
    expect(warm.durations.load).toBeLessThan(1e8);
    expect(ollama.ps('u').models).toHaveLength(1);
    expect(ollama.ps('someone-else').models).toEqual([]);
    advance(301_000);
    expect(ollama.ps('u').models).toEqual([]);
    ollama.generate('u', { model: 'llava:7b', prompt: '', images: [], keepAliveSeconds: -1 });
    advance(10 * 86_400_000);
    expect(ollama.ps('u').models).toHaveLength(1);
    expect(ollama.generate('u', { model: 'llava:7b', prompt: '', images: [], keepAliveSeconds: 0 }).doneReason).toBe('unload');
    expect(ollama.ps('u').models).toEqual([]);
  });

  it('meters each answered call with its tokens and images, not a load or a refusal', () => {
    const { ollama, calls } = twin();
    ollama.generate('u', { model: 'gemma3:4b', prompt: '', images: [] });
    expect(() => ollama.generate('u', { model: 'deepseek-r1:8b', prompt: 'x', images: [new Uint8Array(4)] })).toThrow(/does not support images/);
    const a = ollama.generate('u', { model: 'gemma3:4b', prompt: 'hello', images: [new Uint8Array(8)] });
    expect(calls).toEqual([expect.objectContaining({ user: 'u', service: 'ollama', model: 'gemma3:4b', endpoint: 'generate', promptTokens: a.promptTokens, completionTokens: a.evalTokens, images: 1 })]);
    expect(a.promptTokens).toBeGreaterThan(256);
  });
});
