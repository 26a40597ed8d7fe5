import type { SimConfigInput } from '../../src/config/schema.ts';
import { FakeRuntime } from '../helpers/fake-runtime.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';

export interface ScheduleSim extends TestSim {
  runtime: FakeRuntime;
  /** The simulator's clock: advance it, then settle. */
  clock: TestSim['running']['sim']['clock'];
  /** POST with a JSON body as the user; returns status and parsed body. */
  post(path: string, body: Record<string, unknown>, user?: string): Promise<{ status: number; body: any; headers: Headers }>;
  /** GET as the user; returns status and parsed body. */
  get(path: string, user?: string): Promise<{ status: number; body: any; headers: Headers }>;
  /** The container state /em/pod/status reports. */
  state(pod: string, user?: string): Promise<Record<string, any>>;
  /** Polls the status endpoint until the state is of the given kind; returns it. */
  waitFor(pod: string, kind: 'waiting' | 'running' | 'terminated', user?: string): Promise<Record<string, any>>;
}

// Advancing the clock by hours must not expire the harness's cached tokens.
const TEN_YEARS = 10 * 365 * 86_400;

/** A simulator on the fake runtime with a controllable clock. */
export async function startScheduleSim(options: { users?: string[]; config?: SimConfigInput } = {}): Promise<ScheduleSim> {
  const runtime = new FakeRuntime();
  const sim = await startSim({
    ...options,
    engine: runtime.engine,
    config: {
      ...options.config,
      clock: { control: true, ...options.config?.clock },
      auth: { access_token_lifetime: TEN_YEARS, refresh_token_lifetime: TEN_YEARS + 1, ...options.config?.auth },
    },
  });
  const clock = sim.running.sim.clock;
  runtime.bindClock(clock);
  const call = async (path: string, init: RequestInit & { user?: string }) => {
    const res = await sim.fetch(path, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: body as any, headers: res.headers };
  };
  const post: ScheduleSim['post'] = (path, body, user) =>
    call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), ...(user ? { user } : {}) });
  const get: ScheduleSim['get'] = (path, user) => call(path, user ? { user } : {});
  const state: ScheduleSim['state'] = async (pod, user) => {
    const res = await get(`/em/pod/status?pod_name=${pod}`, user);
    if (res.status !== 200) throw new Error(`status of ${pod}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data.state;
  };
  const waitFor: ScheduleSim['waitFor'] = async (pod, kind, user) => {
    // No deadline of its own: the test's timeout bounds the wait.
    for (;;) {
      const s = await state(pod, user);
      if (kind in s) return s[kind];
      await clock.settle();
    }
  };
  return Object.assign(sim, { runtime, clock, post, get, state, waitFor });
}

/** Epoch ms rounded up to a whole second, so times survive the status message's seconds. */
export function wholeSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** The status message's rendering of a time: whole seconds, no fraction. */
export const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
