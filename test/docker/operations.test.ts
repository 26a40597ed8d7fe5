import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../src/domain/operations/execution.ts';
import { PASSWORD, startSim, tempDir, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, dockerSim, podStatus, requireDocker } from './_docker.ts';

/*
 * Operations on the real engine (issue 12): operations written in the provider's format, modelled
 * on its published ones, executed through /sim/executions and `em-sim operation run`; what lands
 * in the namespace and the execution record are what is asserted.
 */

const BIN = fileURLToPath(new URL('../../bin/em-sim.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/operations/', import.meta.url));

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function submit(sim: TestSim, user: string, yaml: string, file = 'op.yaml'): Promise<{ status: number; body: any }> {
  const res = await sim.fetch(`/sim/executions?file=${encodeURIComponent(file)}`, { user, method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
  return { status: res.status, body: await res.json() };
}

async function execution(sim: TestSim, user: string, id: string): Promise<ExecutionRecord> {
  const res = await sim.fetch(`/sim/executions/${id}`, { user });
  expect(res.status).toBe(200);
  return (await res.json()) as ExecutionRecord;
}

/** Submits an operation and waits for its end. */
async function runToEnd(sim: TestSim, user: string, yaml: string, file?: string, timeoutMs = 120_000): Promise<ExecutionRecord> {
  const { status, body } = await submit(sim, user, yaml, file);
  expect(status, JSON.stringify(body)).toBe(201);
  return waitFor(sim, user, body.id, (r) => ['COMPLETED', 'FAILED', 'KILLED'].includes(r.state), timeoutMs);
}

async function waitFor(sim: TestSim, user: string, id: string, done: (r: ExecutionRecord) => boolean, timeoutMs = 120_000): Promise<ExecutionRecord> {
  const until = Date.now() + timeoutMs;
  let record = await execution(sim, user, id);
  while (!done(record)) {
    if (Date.now() > until) throw new Error(`execution ${id} never got there; last: ${JSON.stringify(record, null, 1)}`);
    await new Promise((r) => setTimeout(r, 200));
    record = await execution(sim, user, id);
  }
  return record;
}

async function namespaceFile(sim: TestSim, user: string, namespace: string, file: string, version?: number): Promise<{ status: number; text: string }> {
  const q = new URLSearchParams({ path: file, ...(version ? { version: String(version) } : {}) });
  const res = await sim.fetch(`/sim/namespaces/${namespace}/files/content?${q}`, { user });
  return { status: res.status, text: await res.text() };
}

const states = (history: { state: string }[]) => history.map((h) => h.state);

/** `node bin/em-sim.js ARGS` in `cwd`, stdin not a terminal. */
function cli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A copy of a fixture folder, as a user's checkout of the provider's example would be. */
function fixtureCopy(name: string): string {
  const dir = tempDir('em-sim-op-');
  made.push(dir);
  cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

const user = uniqueName('op');
const other = uniqueName('op');
const env = dockerSim([user, other], { config: { operations: { downlink_wait_seconds: 2 } } });

describe('operations: the provider\'s examples run unchanged', () => {
  it('the dashboard\'s run-and-downlink example: the file lands in the namespace, versioned, and the record tells every step', async () => {
    const { sim } = env;
    const yaml = readFileSync(path.join(FIXTURES, 'hello/hello-from-space.yaml'), 'utf8');
    const record = await runToEnd(sim, user, yaml, 'hello-from-space.yaml');
    expect(record).toMatchObject({ namespace: 'em_testing', operation: 'hello-from-space', revision: 1, state: 'COMPLETED', labels: { name: 'First test' }, errors: [] });
    expect(states(record.state_history)).toEqual(['CREATED', 'SCHEDULED', 'RUNNING', 'COMPLETED']);
    const [podTask, down] = record.tasks;
    expect(podTask).toMatchObject({ id: 'pod_run_job', type: 'dphi.space.cg2.pod.run', state: 'SUCCESS', outputs: { status: true, exitCode: 0, reason: 'Completed' }, errors: [] });
    expect(states(podTask!.state_history)).toEqual(['CREATED', 'SCHEDULED', 'RUNNING', 'SUCCESS']);
    expect(podTask!.duration_s).toBeGreaterThanOrEqual(0);
    expect(down).toMatchObject({ state: 'SUCCESS', outputs: { files: [{ path: '/first_test/hello-from-space.txt', version: 1 }], contentType: 'application/zip' } });
    // The 21 bytes of the dashboard's namespace view.
    expect(await namespaceFile(sim, user, 'em_testing', '/first_test/hello-from-space.txt')).toEqual({ status: 200, text: 'Debi tirar mas fotos\n' });

    // The uri output is the downlink's zip.
    const zip = await sim.fetch(String(down!.outputs.uri), { user });
    expect(zip.status).toBe(200);
    const bytes = new Uint8Array(await zip.arrayBuffer());
    expect(bytes.length).toBe(down!.outputs.contentLength);
    expect(new TextDecoder().decode(unzipSync(bytes)['hello-from-space.txt'])).toBe('Debi tirar mas fotos\n');

    // Executed again: the same revision, a second version of the file, the first one kept.
    const again = await runToEnd(sim, user, yaml, 'hello-from-space.yaml');
    expect(again.revision).toBe(1);
    expect(again.tasks[1]!.outputs.files).toEqual([{ path: '/first_test/hello-from-space.txt', version: 2 }]);
    const listing = (await (await sim.fetch('/sim/namespaces/em_testing/files', { user })).json()) as { data: any[] };
    expect(listing.data).toEqual([expect.objectContaining({ path: '/first_test/hello-from-space.txt', version: 2, size: 21, versions: [expect.objectContaining({ version: 1 }), expect.objectContaining({ version: 2 })] })]);
    // Edited, it is a new revision.
    expect((await runToEnd(sim, user, yaml.replace('Bring the file down', 'Bring it down'), 'hello-from-space.yaml')).revision).toBe(2);
  });

  it('an Ollama-style operation by `em-sim operation run`: uplink, three pods of one pod_name, six files downlinked into the folder', async () => {
    const { sim } = env;
    const dir = fixtureCopy('ollama');
    const run = await cli(['operation', 'run', 'ollama.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD, '--json'], dir);
    expect(run.code, run.stderr).toBe(0);
    // --json: the record and nothing else on standard output.
    const record = JSON.parse(run.stdout) as ExecutionRecord;
    expect(record).toMatchObject({ operation: 'ollama', namespace: 'default', state: 'COMPLETED', labels: { name: 'Orbital data processing automation' } });
    expect(record.tasks.map((t) => [t.id, t.state])).toEqual([
      ['uplink', 'SUCCESS'],
      ['tags', 'SUCCESS'],
      ['gemma', 'SUCCESS'],
      ['vlms', 'SUCCESS'],
      ['downlink', 'SUCCESS'],
    ]);
    const downlinked = readdirSync(path.join(dir, 'downlink')).sort();
    expect(downlinked).toEqual(['gemma3.json', 'gemma3.txt', 'llava.json', 'llava.txt', 'run.log', 'tags.json']);
    // The three runs of pod "vlms" happened one after another, each seeing the volume the last left.
    expect(readFileSync(path.join(dir, 'downlink/run.log'), 'utf8').trim().split('\n')).toEqual([
      expect.stringMatching(/ 5 models onboard$/),
      expect.stringMatching(/ gemma3:4b: \d+ tokens$/),
      expect.stringMatching(/ llava:7b: \d+ tokens$/),
    ]);
    expect(JSON.parse(readFileSync(path.join(dir, 'downlink/llava.json'), 'utf8'))).toMatchObject({ model: 'llava:7b', done: true });
    expect(run.stderr).toContain('/vlms.py → namespace default (version 1)');

    // Run again unchanged: the sources are not uploaded again.
    const second = await cli(['operation', 'run', 'ollama.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('→ namespace');
    expect(second.stdout).toMatch(/COMPLETED in [\d.]+ s: 5 SUCCESS/);
  });

  it('`operation run` never writes a downlinked file through a link that leads out of --files', async () => {
    const { sim } = env;
    const dir = fixtureCopy('hello');
    const outside = tempDir('em-sim-op-outside-');
    made.push(outside);
    symlinkSync(outside, path.join(dir, 'first_test'));
    const run = await cli(['operation', 'run', 'hello-from-space.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD], dir);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/COMPLETED in [\d.]+ s: 2 SUCCESS/);
    expect(run.stderr).toContain('em-sim: could not write /first_test/hello-from-space.txt:');
    expect(run.stderr).toContain('leads outside');
    expect(readdirSync(outside)).toEqual([]);
  });

  it('a LiquidAI-style operation runs against the onboard LiquidAI model', async () => {
    const { sim } = env;
    const dir = fixtureCopy('liquidai');
    const run = await cli(['operation', 'run', 'liquidai.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD], dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'downlink/answer.json'), 'utf8'))).toMatchObject({ object: 'chat.completion' });
    expect(readFileSync(path.join(dir, 'downlink/answer.txt'), 'utf8').length).toBeGreaterThan(10);
  });

  it('docker.build, docker.image.list and files.list: an image built onboard from the volume runs', async () => {
    const { sim } = env;
    const dir = tempDir('em-sim-op-');
    made.push(dir);
    cpSync(path.join(FIXTURES, '../echo-test'), path.join(dir, 'echo-test'), { recursive: true });
    const yaml = `id: build-and-run
tasks:
  - id: uplink
    type: dphi.space.cg2.uplink
    source: [echo-test/Dockerfile, echo-test/echo-test.sh]
    destination: /echo-test
    volume: builds
  - id: docker_build_image
    type: dphi.space.cg2.docker.build
    dockerfile: echo-test/Dockerfile
    context: echo-test
    image: {name: echo-test, tag: v1}
    volume: builds
  - id: images
    type: dphi.space.cg2.docker.image.list
  - id: list_files
    type: dphi.space.cg2.files.list
    folder: /
    depth: 1
    volume: builds
`;
    writeFileSync(path.join(dir, 'build.yaml'), yaml);
    const run = await cli(['operation', 'run', 'build.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD, '--json'], dir);
    expect(run.code, run.stderr).toBe(0);
    const record = JSON.parse(run.stdout) as ExecutionRecord;
    expect(record.tasks[1]).toMatchObject({ state: 'SUCCESS', outputs: { status: 'SUCCESS', image: 'echo-test:v1' } });
    // Listed under the user's name, as /em/pod/image/list shows a user's images (USER-NAME).
    expect(record.tasks[2]!.outputs.images).toContainEqual(expect.objectContaining({ repository: `${user}-echo-test`, tag: 'v1' }));
    // depth 1: the folder's own entries, without what is inside them.
    expect(record.tasks[3]!.outputs.files).toEqual([{ type: 'directory', name: 'echo-test', size: expect.any(String), time: expect.any(String) }]);
  });
});

describe('operations: failures name their reason, and the later tasks are SKIPPED', () => {
  const failing = (task: string, continueOn = false) => `id: failing
tasks:
${task}${continueOn ? '    on_failure: continue\n' : ''}  - id: after
    type: dphi.space.cg2.docker.image.list
`;

  it('a downlink of a file that never appears: 4 | EXECUTION_ERROR | File not found, after the wait', async () => {
    const { sim } = env;
    const record = await runToEnd(sim, user, failing('  - id: downlink_results\n    type: dphi.space.cg2.downlink\n    source: [never-written.txt]\n    destination: /never\n'));
    expect(record.state).toBe('FAILED');
    const [down, after] = record.tasks;
    expect(down).toMatchObject({ state: 'FAILED', errors: [{ code: 4, name: 'EXECUTION_ERROR', message: 'File not found: never-written.txt' }] });
    // operations.downlink_wait_seconds is 2 here (60 by default, as the dashboard waits).
    expect(down!.duration_s).toBeGreaterThanOrEqual(2);
    expect(after).toMatchObject({ state: 'SKIPPED' });
    expect(record.errors).toEqual([{ code: 4, name: 'EXECUTION_ERROR', message: 'downlink_results: File not found: never-written.txt' }]);
    expect((await namespaceFile(sim, user, 'default', '/never/never-written.txt')).status).toBe(404);
  });

  it('a downlink into a namespace folder that is a file: the task fails and keeps none of its files', async () => {
    const { sim } = env;
    const upload = await sim.fetch('/sim/namespaces/clashing/files?path=/results', { user, method: 'POST', body: 'a file, not a folder' });
    expect(upload.status).toBe(201);
    const record = await runToEnd(
      sim,
      user,
      `namespace: clashing\n${failing('  - id: write\n    type: dphi.space.cg2.pod.run\n    pod_name: clash\n    image: alpine:latest\n    command: ["/bin/sh", "-c", "echo x > /data/clash.txt"]\n  - id: down\n    type: dphi.space.cg2.downlink\n    source: [clash.txt]\n    destination: /results\n')}`,
    );
    expect(record.tasks.map((t) => t.state)).toEqual(['SUCCESS', 'FAILED', 'SKIPPED']);
    expect(record.tasks[1]!.errors).toEqual([
      { code: 4, name: 'EXECUTION_ERROR', message: '"/results" is a file of the namespace, so "/results/clash.txt" cannot be made inside it; the downlink\'s files were not kept' },
    ]);
    const listing = (await (await sim.fetch('/sim/namespaces/clashing/files', { user })).json()) as { data: { path: string }[] };
    expect(listing.data.map((f) => f.path)).toEqual(['/results']);
  });

  it('an image that is not onboard: ImagePullBackOff', async () => {
    const record = await runToEnd(env.sim, user, failing('  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: nope\n    image: {name: tensorflow/tensorflow, tag: latest}\n'));
    expect(record.tasks[0]).toMatchObject({ state: 'FAILED', outputs: { status: false, reason: 'ImagePullBackOff' } });
    expect(record.tasks[0]!.errors[0]).toMatchObject({ code: 4, name: 'EXECUTION_ERROR', message: expect.stringMatching(/^ImagePullBackOff: .*tensorflow\/tensorflow:latest/) });
    expect(record.tasks[1]!.state).toBe('SKIPPED');
  });

  it('a pod that exits non-zero: Error with its exit code; with on_failure: continue the next task runs, and the execution still fails', async () => {
    const record = await runToEnd(
      env.sim,
      user,
      failing(`  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: exit3\n    image: {name: alpine, tag: latest}\n    command: ["/bin/sh", "-c", "echo bad input >&2; exit 3"]\n`, true),
    );
    expect(record.state).toBe('FAILED');
    expect(record.tasks[0]).toMatchObject({ state: 'FAILED', outputs: { status: false, exitCode: 3, reason: 'Error' } });
    expect(record.tasks[0]!.errors[0]!.message).toBe('Error: exit code 3');
    // What the pod printed, marked as the simulator's courtesy (CG2 keeps no pod output).
    expect(record.tasks[0]!.logs).toContainEqual(expect.objectContaining({ level: 'DEBUG', message: expect.stringContaining('stderr: bad input') }));
    expect(record.tasks[1]!.state).toBe('SUCCESS');
  });

  it('a pod past its memory limit: OOMKilled; past max_duration_seconds: TIMEOUT', async () => {
    const oom = await runToEnd(
      env.sim,
      user,
      failing(`  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: oom\n    node: Mpu\n    image: python:3.11-alpine\n    command: ["python", "-c", "x = bytearray(2 * 1024 ** 3)"]\n`),
    );
    expect(oom.tasks[0]).toMatchObject({ state: 'FAILED', outputs: { exitCode: 137, reason: 'OOMKilled' } });
    expect(oom.tasks[1]!.state).toBe('SKIPPED');
    const slow = await runToEnd(
      env.sim,
      user,
      failing(`  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: slow\n    image: {name: alpine, tag: latest}\n    command: ["sleep", "30"]\n    max_duration_seconds: 1\n`),
    );
    expect(slow.tasks[0]).toMatchObject({ state: 'FAILED', outputs: { reason: 'DeadlineExceeded' }, errors: [{ code: 5, name: 'TIMEOUT' }] });
  });

  it('an invalid operation is refused before anything runs, with every error', async () => {
    const { sim } = env;
    const before = ((await (await sim.fetch('/sim/executions', { user })).json()) as { data: unknown[] }).data.length;
    const { status, body } = await submit(sim, user, 'tasks:\n  - id: a\n    type: dphi.space.cg2.pod.rn\n  - id: b\n    type: dphi.space.cg2.uplink\n    source: x\n');
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'INVALID_OPERATION', message: expect.stringContaining('2 errors') });
    expect(body.errors).toEqual([
      expect.objectContaining({ line: 3, column: 11, key: 'tasks[0].type' }),
      expect.objectContaining({ line: 6, column: 13, key: 'tasks[1].source', message: 'expected a list, got "x"' }),
    ]);
    expect(((await (await sim.fetch('/sim/executions', { user })).json()) as { data: unknown[] }).data.length).toBe(before);
    const validate = await sim.fetch('/sim/operations/validate?file=x.yaml', { user, method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: 'tasks: []\n' });
    expect(await validate.json()).toMatchObject({ valid: false, errors: [{ line: 1, column: 8, key: 'tasks' }] });
  });

  it('a kill stops the running pod: the task is KILLED, the rest SKIPPED', async () => {
    const { sim } = env;
    const { body } = await submit(sim, user, failing('  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: long\n    image: {name: alpine, tag: latest}\n    command: ["sleep", "120"]\n'));
    await waitFor(sim, user, body.id, (r) => r.tasks[0]!.state === 'RUNNING');
    const kill = await sim.fetch(`/sim/executions/${body.id}/kill`, { user, method: 'POST' });
    expect(kill.status).toBe(200);
    const record = (await kill.json()) as ExecutionRecord;
    expect(record.state).toBe('KILLED');
    expect(record.tasks.map((t) => t.state)).toEqual(['KILLED', 'SKIPPED']);
    expect((await podStatus(sim, user, 'long')).body.data.state.terminated).toMatchObject({ reason: 'Error' });
    const again = await sim.fetch(`/sim/executions/${body.id}/kill`, { user, method: 'POST' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'EXECUTION_ENDED' });
  });

  it('Ctrl-C on `em-sim operation run` kills the execution and exits 130', async () => {
    const { sim } = env;
    const dir = tempDir('em-sim-op-');
    made.push(dir);
    writeFileSync(path.join(dir, 'long.yaml'), failing('  - id: run\n    type: dphi.space.cg2.pod.run\n    pod_name: interrupted\n    image: {name: alpine, tag: latest}\n    command: ["sleep", "120"]\n'));
    const child = spawn(process.execPath, [BIN, 'operation', 'run', 'long.yaml', '--url', sim.url, '--user', user, '--password', PASSWORD], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('[run] RUNNING')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited, stdout + stderr).toBe(130);
    expect(stderr).toContain('interrupted; killing the execution');
    expect(stdout).toMatch(/execution \S+ KILLED/);
    const [latest] = ((await (await sim.fetch('/sim/executions', { user })).json()) as { data: { state: string; operation: string }[] }).data;
    expect(latest).toMatchObject({ operation: 'failing', state: 'KILLED' });
  });

  it('each user sees only their own executions and namespaces', async () => {
    const { sim } = env;
    const mine = ((await (await sim.fetch('/sim/executions', { user })).json()) as { data: { id: string }[] }).data;
    expect(mine.length).toBeGreaterThan(0);
    const res = await sim.fetch(`/sim/executions/${mine[0]!.id}`, { user: other });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'EXECUTION_NOT_FOUND' });
    expect((await sim.fetch(`/sim/executions/${mine[0]!.id}/kill`, { user: other, method: 'POST' })).status).toBe(404);
    expect(await (await sim.fetch('/sim/executions', { user: other })).json()).toEqual({ data: [] });
    expect(await (await sim.fetch('/sim/namespaces/em_testing/files', { user: other })).json()).toEqual({ data: [] });
    expect((await namespaceFile(sim, other, 'em_testing', '/first_test/hello-from-space.txt')).status).toBe(404);
    const escape = await sim.fetch(`/sim/namespaces/default/files?path=${encodeURIComponent('../../etc/passwd')}`, { user: other, method: 'POST', body: 'x' });
    expect(escape.status).toBe(403);
  });
});

describe('operations: `em-sim operation run` outlives its token', () => {
  it('logs in again when the access token expires during a long run', async () => {
    const docker = await requireDocker();
    const tokenUser = uniqueName('op');
    const sim = await startSim({ users: [tokenUser], config: { auth: { access_token_lifetime: 2 } } });
    try {
      const dir = tempDir('em-sim-op-');
      made.push(dir);
      writeFileSync(path.join(dir, 'slow.yaml'), 'tasks:\n  - id: wait\n    type: dphi.space.cg2.pod.run\n    image: alpine:latest\n    command: ["sleep", "5"]\n');
      const run = await cli(['operation', 'run', 'slow.yaml', '--url', sim.url, '--user', tokenUser, '--password', PASSWORD], dir);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/COMPLETED in [\d.]+ s: 1 SUCCESS/);
    } finally {
      await cleanupDocker(docker, sim.running.sim.instanceId, [tokenUser]);
      await sim.close();
    }
  });
});

describe('operations: a restart mid-execution', () => {
  it('neither loses nor repeats a task: the running pod is followed, not started again', async () => {
    const docker = await requireDocker();
    const dataDir = tempDir('em-sim-op-restart-');
    made.push(dataDir);
    const restartUser = uniqueName('op');
    let sim = await startSim({ users: [restartUser], dataDir });
    const instanceId = sim.running.sim.instanceId;
    try {
      const yaml = `id: restart
tasks:
  - id: count
    type: dphi.space.cg2.pod.run
    pod_name: counter
    image: {name: alpine, tag: latest}
    command: ["/bin/sh", "-c", "echo started >> /data/runs.txt; sleep 4; echo finished >> /data/runs.txt"]
  - id: down
    type: dphi.space.cg2.downlink
    source: [runs.txt]
`;
      const { body } = await submit(sim, restartUser, yaml);
      await waitFor(sim, restartUser, body.id, (r) => r.tasks[0]!.state === 'RUNNING');
      await sim.close();
      sim = await startSim({ users: [restartUser], dataDir });
      const record = await waitFor(sim, restartUser, body.id, (r) => ['COMPLETED', 'FAILED', 'KILLED'].includes(r.state));
      expect(record.state).toBe('COMPLETED');
      expect(states(record.tasks[0]!.state_history)).toEqual(['CREATED', 'SCHEDULED', 'RUNNING', 'SUCCESS']);
      expect(record.tasks[0]!.logs).toContainEqual(expect.objectContaining({ level: 'WARN', message: expect.stringContaining('restarted') }));
      // One run of the pod, and one version of the file.
      expect(await namespaceFile(sim, restartUser, 'default', '/runs.txt')).toEqual({ status: 200, text: 'started\nfinished\n' });
      expect(record.tasks[1]!.outputs.files).toEqual([{ path: '/runs.txt', version: 1 }]);
      // One blob: the file's bytes, kept once (the downlink's zip is made from them on request), and nothing orphaned.
      expect(readdirSync(path.join(dataDir, 'blobs'))).toHaveLength(1);
      const zip = await sim.fetch(String(record.tasks[1]!.outputs.uri), { user: restartUser });
      expect(new TextDecoder().decode(unzipSync(new Uint8Array(await zip.arrayBuffer()))['runs.txt'])).toBe('started\nfinished\n');
    } finally {
      await cleanupDocker(docker, instanceId, [restartUser]);
      await sim.close();
    }
  });
});
