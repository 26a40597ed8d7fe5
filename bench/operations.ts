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

const BACK_TO_BACK = 100;

/**
 * Operations at the scale of a CI farm (issue 16): 100 operations of three tasks (uplink a
 * namespace file into the volume, list the volume, downlink the file into the namespace),
 * submitted at once and run back to back (a user's executions run one at a time), against the
 * same three calls made directly through the EM API 100 times. Throughput (operations per second)
 * and the overhead per task, from submission of the first to the end of the last.
 */
export async function operationsBackToBack(ctx: BenchContext): Promise<BenchResult[]> {
  const sim = await startBenchSim();
  try {
    const up = await sim.fetch('/sim/namespaces/bench/files?path=/data.txt', { method: 'POST', body: 'x'.repeat(1024) });
    if (up.status !== 201) throw new Error(`namespace upload: ${up.status} ${await up.text()}`);
    const yaml = [
      'id: three',
      'namespace: bench',
      'tasks:',
      '  - {id: up, type: dphi.space.cg2.uplink, source: [data.txt], destination: /}',
      '  - {id: list, type: dphi.space.cg2.files.list}',
      '  - {id: down, type: dphi.space.cg2.downlink, source: [data.txt], destination: ./back}',
      '',
    ].join('\n');
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < BACK_TO_BACK; i++) {
      const res = await sim.fetch('/sim/executions', { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
      if (res.status !== 201) throw new Error(`POST /sim/executions: ${res.status} ${await res.text()}`);
      ids.push(((await res.json()) as { id: string }).id);
    }
    for (;;) {
      const last = (await (await sim.fetch(`/sim/executions/${ids[ids.length - 1]}`)).json()) as { state: string };
      if (last.state === 'COMPLETED') break;
      if (last.state === 'FAILED' || last.state === 'KILLED') throw new Error(`execution ${ids[ids.length - 1]} ended ${last.state}`);
      await sleep(POLL_MS);
    }
    const viaOperations = performance.now() - started;
    for (const id of ids) {
      const r = (await (await sim.fetch(`/sim/executions/${id}`)).json()) as { state: string };
      if (r.state !== 'COMPLETED') throw new Error(`execution ${id} ended ${r.state}`);
    }

    const direct = performance.now();
    for (let i = 0; i < BACK_TO_BACK; i++) {
      const form = new FormData();
      form.append('files', new Blob(['x'.repeat(1024)]), 'data.txt');
      for (const [path, init] of [
        ['/em/files/uplink', { method: 'POST', body: form }],
        ['/em/files/list', {}],
        ['/em/files/downlink?filepath=data.txt', {}],
      ] as const) {
        const res = await sim.fetch(path, init);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      }
    }
    const viaApi = performance.now() - direct;
    const perTask = (viaOperations - viaApi) / (BACK_TO_BACK * 3);
    ctx.log(`${BACK_TO_BACK} operations of 3 tasks: ${round(viaOperations, 0)} ms (${round(BACK_TO_BACK / (viaOperations / 1000), 1)}/s); the same calls made directly: ${round(viaApi, 0)} ms; overhead ${round(perTask, 1)} ms per task`);
    return [
      result('operation.back_to_back.rate', BACK_TO_BACK / (viaOperations / 1000), 'ops/s', BACK_TO_BACK / (viaApi / 1000), { ratioAtLeast: 0.25 }, `${BACK_TO_BACK} operations of uplink, files.list, downlink submitted at once; baseline: the same calls made directly`),
      result('operation.back_to_back.task_overhead', perTask, 'ms', null, { below: 50 }, 'per task: (operations − direct calls) / 300 tasks'),
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
