/**
 * Run as its own process by scheduler.ts: an in-process simulator on the fake runtime with a
 * controllable clock, 1,000 runs scheduled for the same instant, the clock advanced past it.
 * Prints one JSON line: each run's lateness (real ms from the advance to the runtime's run()
 * call) and, as the floor, the lateness of 1,000 plain setTimeout callbacks due at one instant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JsonLogger } from '../src/adapters/log/json-logger.ts';
import { buildConfig } from '../src/config/load.ts';
import { NODE_NAMES } from '../src/domain/nodes/node-schedule.ts';
import type { ContainerSpec } from '../src/domain/ports/container-runtime.ts';
import { createSimulator } from '../src/simulator.ts';
import { FakeRuntime } from '../test/helpers/fake-runtime.ts';

const RUNS = Number(process.argv[2] ?? 1000);
const USERS = ['alpha', 'bravo', 'charlie', 'delta'];
const HOUR = 3_600_000;

async function simulatorLateness(): Promise<{ lateness: number[]; scheduleMs: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'em-sim-bench-sched-'));
  const runtime = new FakeRuntime();
  const calledAt: number[] = [];
  const realRun = runtime.run.bind(runtime);
  runtime.run = (spec: ContainerSpec) => {
    calledAt.push(performance.now());
    return realRun(spec);
  };
  const config = buildConfig({
    data_dir: dataDir,
    users: USERS.map((username) => ({ username, password: 'bench-password' })),
    clock: { control: true },
    log: { level: 'silent' },
  });
  const sim = await createSimulator(config, { engine: runtime.engine, logger: new JsonLogger('silent') });
  runtime.bindClock(sim.clock);
  try {
    const due = Math.ceil((sim.clock.now() + HOUR) / 1000) * 1000;
    const scheduling = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const pod = `job-${i}`;
      await sim.pods.run(USERS[i % USERS.length]!, {
        image: 'alpine:latest',
        node: NODE_NAMES[i % 3]!,
        maxDuration: 600,
        command: 'sleep 1',
        podName: pod,
        scheduledTime: new Date(due).toISOString(),
      });
    }
    const scheduleMs = performance.now() - scheduling;
    if (calledAt.length) throw new Error(`${calledAt.length} runs started before their time`);

    const advancedAt = performance.now();
    sim.clock.advance(due + 1 - sim.clock.now());
    const giveUp = advancedAt + 60_000;
    while (calledAt.length < RUNS) {
      if (performance.now() > giveUp) throw new Error(`only ${calledAt.length} of ${RUNS} runs started within 60 s`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return { lateness: calledAt.map((t) => t - advancedAt), scheduleMs };
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function setTimeoutLateness(): Promise<number[]> {
  const delay = 200;
  const lateness: number[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < RUNS; i++) {
      const dueAt = performance.now() + delay;
      setTimeout(() => {
        lateness.push(performance.now() - dueAt);
        if (lateness.length === RUNS) resolve();
      }, delay);
    }
  });
  return lateness;
}

const floor = await setTimeoutLateness();
const sim = await simulatorLateness();
process.stdout.write(JSON.stringify({ runs: RUNS, simulator: sim.lateness, floor, scheduleMs: sim.scheduleMs }) + '\n');
