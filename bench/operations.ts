import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, startBenchSim, type BenchSim } from './lib/sim.ts';
import { median, round, sleep } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const IMAGE = 'alpine:latest';
const REPS = 5;
const POLL_MS = 20;
const MANY = 1000;

/**
 * Operations (issue 12). (1) One pod.run task, from POST /sim/executions to COMPLETED, against the
 * same pod through the EM API (POST /em/pod/run, /em/pod/status polled to terminated), both polled
 * every 20 ms, alternating, median of five: what the engine adds to a pod. (2) An operation of
 * 1,000 files.list tasks: tasks per second, and the slowest /sim/health answered meanwhile (the
 * server must stay responsive while an execution's tasks end one after another).
 */
export async function operations(ctx: BenchContext): Promise<BenchResult[]> {
  if (!(await dockerAvailable())) return [skipped('operation.pod.time', 'ms', 'ratio <= 1.5', 'no Docker engine answers')];
  const sim = await startBenchSim();
  try {
    const viaOperation: number[] = [];
    const viaApi: number[] = [];
    for (let rep = 0; rep <= REPS; rep++) {
      const o = await operationPod(sim, `op-${rep}`);
      const a = await apiPod(sim, `api-${rep}`);
      ctx.log(`operation pod run ${rep}: operation ${round(o, 0)} ms, EM API ${round(a, 0)} ms${rep === 0 ? ' (warm-up)' : ''}`);
      if (rep === 0) continue;
      viaOperation.push(o);
      viaApi.push(a);
    }
    const many = await manyTasks(sim);
    ctx.log(`${MANY} files.list tasks: ${round(many.tasksPerSecond, 0)} tasks/s, slowest /sim/health meanwhile ${round(many.worstHealthMs, 1)} ms`);
    return [
      result('operation.pod.time', median(viaOperation), 'ms', median(viaApi), { ratioAtMost: 1.5 }, `one pod.run task (${IMAGE} "true") to COMPLETED vs /em/pod/run to terminated, median of ${REPS}`),
      result('operation.tasks.rate', many.tasksPerSecond, 'tasks/s', null, { none: true }, `${MANY} files.list tasks of one execution`),
      result('operation.tasks.health_p100', many.worstHealthMs, 'ms', null, { below: 100 }, `slowest /sim/health while the ${MANY} tasks ran`),
    ];
  } finally {
    await sim.close();
  }
}

async function operationPod(sim: BenchSim, pod: string): Promise<number> {
  const yaml = `id: bench\ntasks:\n  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: ${pod}\n    image: ${IMAGE}\n    command: ["true"]\n`;
  const started = performance.now();
  const res = await sim.fetch('/sim/executions', { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
  if (res.status !== 201) throw new Error(`POST /sim/executions: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const r = (await (await sim.fetch(`/sim/executions/${id}`)).json()) as { state: string };
    if (r.state === 'COMPLETED') return performance.now() - started;
    if (r.state === 'FAILED' || r.state === 'KILLED') throw new Error(`execution ${id} ended ${r.state}`);
    await sleep(POLL_MS);
  }
}

async function apiPod(sim: BenchSim, pod: string): Promise<number> {
  const started = performance.now();
  const res = await sim.fetch('/em/pod/run', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ image: IMAGE, node: 'FPGA', max_duration: 60, command: 'true', pod_name: pod }),
  });
  if (res.status !== 200) throw new Error(`pod/run: ${res.status} ${await res.text()}`);
  for (;;) {
    const body = (await (await sim.fetch(`/em/pod/status?pod_name=${pod}`)).json()) as { data?: { state: Record<string, unknown> } };
    if (body.data && 'terminated' in body.data.state) return performance.now() - started;
    await sleep(POLL_MS);
  }
}

async function manyTasks(sim: BenchSim): Promise<{ tasksPerSecond: number; worstHealthMs: number }> {
  const yaml = `id: many\ntasks:\n${Array.from({ length: MANY }, (_, i) => `  - {id: t${i}, type: dphi.space.cg2.files.list}`).join('\n')}\n`;
  const started = performance.now();
  const res = await sim.fetch('/sim/executions', { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
  if (res.status !== 201) throw new Error(`POST /sim/executions: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  let worst = 0;
  for (;;) {
    const h = performance.now();
    await sim.fetch('/sim/health');
    worst = Math.max(worst, performance.now() - h);
    const r = (await (await sim.fetch(`/sim/executions/${id}`)).json()) as { state: string };
    if (r.state === 'COMPLETED') return { tasksPerSecond: MANY / ((performance.now() - started) / 1000), worstHealthMs: worst };
    if (r.state !== 'RUNNING' && r.state !== 'SCHEDULED') throw new Error(`execution ${id} ended ${r.state}`);
    await sleep(POLL_MS);
  }
}
