import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { yamlOperationParser } from '../../src/adapters/yaml/operation-parser.ts';
import { checkOperation } from '../../src/domain/operations/check-operation.ts';
import type { PodRunTask } from '../../src/domain/operations/operation.ts';

/*
 * The operation format as operations-decisions.md settles the provider's inconsistencies
 * (onboard-platform.md 1.5): each test is one of them, or one rule of "The file" and "Every task".
 */

const check = (text: string, fileName = 'op.yaml') => checkOperation(yamlOperationParser.parse(text), { fileName });

/** One pod.run task with `extra` lines (indented by the caller as task keys). */
const podRun = (extra: string) => `tasks:
  - id: run
    type: dphi.space.cg2.pod.run
    image:
      name: alpine
      tag: latest
${extra}`;

const onlyTask = (text: string) => {
  const result = check(text);
  expect(result.errors).toEqual([]);
  return result.operation!.tasks[0]!;
};

describe('operation files: the provider\'s published operations run unchanged', () => {
  for (const file of ['hello/hello-from-space.yaml', 'ollama/ollama.yaml', 'liquidai/liquidai.yaml']) {
    it(`fixtures/operations/${file} is valid`, () => {
      const result = check(readFileSync(`fixtures/operations/${file}`, 'utf8'), file.split('/')[1]);
      expect(result.errors).toEqual([]);
      expect(result.operation!.tasks.length).toBeGreaterThan(1);
    });
  }
});

describe('operation files: scalars keep the text the user wrote (1.5 #8)', () => {
  it('tag: 3.10, quoted or not, is the tag "3.10"; 3.10-slim stays a string', () => {
    for (const tag of ['3.10', "'3.10'", '"3.10"']) {
      expect((onlyTask(podRun('').replace('tag: latest', `tag: ${tag}`)) as PodRunTask).image).toBe('python:3.10'.replace('python', 'alpine'));
    }
    expect((onlyTask(podRun('').replace('tag: latest', 'tag: 3.10-slim')) as PodRunTask).image).toBe('alpine:3.10-slim');
  });

  it('image may be {name, tag} or "name:tag"; a missing name or tag is named', () => {
    expect((onlyTask(`tasks:\n  - id: run\n    type: dphi.space.cg2.pod.run\n    image: python:3.10-slim\n`) as PodRunTask).image).toBe('python:3.10-slim');
    const missing = check(`tasks:\n  - id: run\n    type: dphi.space.cg2.pod.run\n    image:\n      name: python\n`);
    expect(missing.errors).toEqual([{ line: 5, column: 7, key: 'tasks[0].image.tag', message: '"tag" is required' }]);
    const empty = check(`tasks:\n  - id: run\n    type: dphi.space.cg2.pod.run\n    image: {name: python, tag: ''}\n`);
    expect(empty.errors[0]!.message).toContain('Image name or tag is missing');
    const untagged = check(`tasks:\n  - id: run\n    type: dphi.space.cg2.pod.run\n    image: python\n`);
    expect(untagged.errors[0]).toMatchObject({ key: 'tasks[0].image', message: expect.stringContaining('Image name or tag is missing') });
  });

  it('warns about a pod image that is neither onboard nor built by the operation itself', () => {
    const text = `tasks:
  - {id: build, type: dphi.space.cg2.docker.build, dockerfile: Dockerfile, context: ., image: {name: mine, tag: v1}}
  - {id: a, type: dphi.space.cg2.pod.run, image: "mine:v1"}
  - {id: b, type: dphi.space.cg2.pod.run, image: "python:3.1"}
  - {id: c, type: dphi.space.cg2.pod.run, image: "python:3.10"}
`;
    const result = checkOperation(yamlOperationParser.parse(text), { fileName: 'x.yaml', isOnboard: (ref) => ref === 'python:3.10' });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([{ line: 4, column: 50, key: 'tasks[2].image', message: expect.stringContaining('"python:3.1" is not an onboard image') }]);
    expect(result.operation!.tasks[2]!.warnings).toHaveLength(1);
  });
});

describe('operation files: pod.run inputs in both generations\' shapes', () => {
  it('max_duration is minutes, max_duration_seconds seconds, neither 60 minutes, both an error (1.5 #1)', () => {
    expect((onlyTask(podRun('    max_duration: 10\n')) as PodRunTask).maxDurationSeconds).toBe(600);
    expect((onlyTask(podRun('    max_duration_seconds: 1\n')) as PodRunTask).maxDurationSeconds).toBe(1);
    expect((onlyTask(podRun('')) as PodRunTask).maxDurationSeconds).toBe(3600);
    const both = check(podRun('    max_duration: 5\n    max_duration_seconds: 60\n'));
    expect(both.errors).toEqual([{ line: 8, column: 27, key: 'tasks[0].max_duration_seconds', message: 'give max_duration (minutes) or max_duration_seconds, not both' }]);
    expect(check(podRun('    max_duration: ten\n')).errors[0]).toMatchObject({ key: 'tasks[0].max_duration', message: 'expected a positive whole number, e.g. 5' });
  });

  it('node is case-insensitive, default means FPGA, anything else is refused (1.5 #3)', () => {
    for (const [written, node] of [['Fpga', 'FPGA'], ['Mpu', 'MPU'], ['GPU', 'GPU'], ['gpu', 'GPU'], ['default', 'FPGA']]) {
      expect((onlyTask(podRun(`    node: ${written}\n`)) as PodRunTask).node).toBe(node);
    }
    expect((onlyTask(podRun('')) as PodRunTask).node).toBe('FPGA');
    expect(check(podRun('    node: Arm\n')).errors[0]).toMatchObject({ line: 7, key: 'tasks[0].node', message: expect.stringContaining('unknown node "Arm"') });
  });

  it('env is a list of {name, value} or a map (1.5 #5)', () => {
    expect((onlyTask(podRun('    env:\n      - name: DURATION\n        value: 60\n')) as PodRunTask).env).toEqual({ DURATION: '60' });
    expect((onlyTask(podRun('    env: {DURATION: 60, MODE: fast}\n')) as PodRunTask).env).toEqual({ DURATION: '60', MODE: 'fast' });
    expect(check(podRun('    env: {1BAD: x}\n')).errors[0]!.key).toBe('tasks[0].env.1BAD');
  });

  it('ports are numbers or {container, host, protocol}; host is accepted with a warning (1.5 #6)', () => {
    const result = check(podRun('    ports:\n      - 8080\n      - {container: 9090, host: 9090, protocol: tcp}\n'));
    expect(result.errors).toEqual([]);
    expect((result.operation!.tasks[0] as PodRunTask).ports).toEqual([
      { container: 8080, protocol: 'TCP' },
      { container: 9090, host: 9090, protocol: 'TCP' },
    ]);
    expect(result.warnings).toEqual([expect.objectContaining({ key: 'tasks[0].ports[1].host', message: expect.stringContaining('no meaning onboard') })]);
    expect(result.operation!.tasks[0]!.warnings).toHaveLength(1);
    expect(check(podRun('    ports: [70000]\n')).errors[0]!.message).toContain('not between 1 and 65535');
  });

  it('command is a list of words, or one command line run by /bin/sh -c (1.5 #7)', () => {
    expect((onlyTask(podRun('    command: ["/bin/sh"]\n    args: ["-c", "echo hi"]\n')) as PodRunTask).command).toEqual(['/bin/sh']);
    expect((onlyTask(podRun('    command: python -m http.server 80\n')) as PodRunTask).command).toEqual(['/bin/sh', '-c', 'python -m http.server 80']);
  });

  it('scheduled_time is null or an ISO time with a timezone (1.5 #12)', () => {
    expect((onlyTask(podRun('    scheduled_time: null\n')) as PodRunTask).scheduledTime).toBeUndefined();
    expect((onlyTask(podRun('    scheduled_time: 2025-05-22T12:10:00+02:00\n')) as PodRunTask).scheduledTime).toBe('2025-05-22T12:10:00+02:00');
    expect(check(podRun('    scheduled_time: 2025-05-22T12:10:00\n')).errors[0]).toMatchObject({ key: 'tasks[0].scheduled_time', message: expect.stringContaining('with a timezone') });
  });

  it('pod_name and volume are DNS labels; volume omitted is the default volume (1.5 #9)', () => {
    expect((onlyTask(podRun('    volume: payload\n')) as PodRunTask).volume).toBe('payload');
    expect((onlyTask(podRun('')) as PodRunTask).volume).toBeUndefined();
    const bad = check(podRun('    pod_name: My_Pod\n    volume: Big Volume\n'));
    expect(bad.errors.map((e) => e.key)).toEqual(['tasks[0].pod_name', 'tasks[0].volume']);
    expect(bad.errors[1]!.message).toContain('A volume name must be a DNS label');
  });
});

describe('operation files: uplink, downlink, files.list, docker.build', () => {
  it('an uplink destination under /data is kept literally, with a warning (1.5 #10)', () => {
    const result = check('tasks:\n  - id: up\n    type: dphi.space.cg2.uplink\n    source: [config.yaml, /tests/calibration.json]\n    destination: /data/config\n');
    expect(result.errors).toEqual([]);
    expect(result.operation!.tasks[0]).toMatchObject({ source: ['/config.yaml', '/tests/calibration.json'], destination: '/data/config' });
    expect(result.warnings[0]).toMatchObject({ line: 5, column: 18, message: expect.stringContaining('/data/data/config') });
  });

  it('a downlink destination is /x, ./x or nothing (the namespace root) (1.5 #11)', () => {
    const dest = (line: string) => onlyTask(`tasks:\n  - id: down\n    type: dphi.space.cg2.downlink\n    source: [x.txt]\n${line}`);
    expect(dest('    destination: /first_test\n')).toMatchObject({ destination: '/first_test' });
    expect(dest('    destination: ./downlink\n')).toMatchObject({ destination: '/downlink' });
    expect(dest('')).toMatchObject({ destination: '/' });
    expect(check('tasks:\n  - id: down\n    type: dphi.space.cg2.downlink\n    source: [x.txt]\n    destination: ../up\n').errors[0]!.message).toContain('".."');
  });

  it('two sources with one last name, an empty source list, and a path out of the volume are errors', () => {
    const result = check('tasks:\n  - id: down\n    type: dphi.space.cg2.downlink\n    source: [a/x.txt, b/x.txt, ../../etc/passwd]\n  - id: up\n    type: dphi.space.cg2.uplink\n    source: []\n');
    expect(result.errors.map((e) => [e.key, e.message.slice(0, 30)])).toEqual([
      ['tasks[0].source[1]', '"b/x.txt" and "a/x.txt" would '],
      ['tasks[0].source[2]', 'source "../../etc/passwd" poin'],
      ['tasks[1].source', 'expected at least one namespac'],
    ]);
  });

  it('files.list defaults to folder / and depth 2; docker.build needs dockerfile, context and image', () => {
    expect(onlyTask('tasks:\n  - id: ls\n    type: dphi.space.cg2.files.list\n')).toMatchObject({ folder: '/', depth: 2 });
    const build = check('tasks:\n  - id: b\n    type: dphi.space.cg2.docker.build\n    dockerfile: app/Dockerfile\n');
    expect(build.errors.map((e) => e.key)).toEqual(['tasks[0].context', 'tasks[0].image']);
  });
});

describe('operation files: the file and every task', () => {
  it('id defaults to the file name, namespace to "default"; labels are a map or a list (1.5 #14)', () => {
    const op = check('tasks:\n  - {id: l, type: dphi.space.cg2.docker.image.list}\nlabels: [{key: team, value: ops}]\n', 'ollama.yaml').operation!;
    expect(op).toMatchObject({ id: 'ollama', namespace: 'default', labels: { team: 'ops' } });
    expect(check('id: x\nnamespace: em_testing\nlabels: {name: A}\ntasks:\n  - {id: l, type: dphi.space.cg2.docker.image.list}\n').operation).toMatchObject({ id: 'x', namespace: 'em_testing', labels: { name: 'A' } });
    expect(checkOperation(yamlOperationParser.parse('tasks:\n  - {id: l, type: dphi.space.cg2.docker.image.list}\n')).errors[0]!.message).toContain('add "id: my-operation"');
  });

  it('on_failure is stop (the default) or continue (1.5 #13)', () => {
    expect(onlyTask(podRun('')).onFailure).toBe('stop');
    expect(onlyTask(podRun('    on_failure: continue\n')).onFailure).toBe('continue');
    expect(check(podRun('    on_failure: retry\n')).errors[0]).toMatchObject({ key: 'tasks[0].on_failure', message: 'expected "stop" or "continue"' });
  });

  it('reports every error at once, each with its line, column and key, and suggests the nearest word', () => {
    const result = check(`namespace: em testing
tasks:
  - id: pod run
    type: dphi.space.cg2.pod.rn
  - id: up
    type: dphi.space.cg2.uplink
    sources: [x]
  - id: up
    type: dphi.space.cg2.docker.image.list
triggers: []
`);
    expect(result.operation).toBeNull();
    expect(result.errors).toEqual([
      { line: 1, column: 12, key: 'namespace', message: expect.stringContaining('"em testing" is not a namespace') },
      { line: 3, column: 9, key: 'tasks[0].id', message: expect.stringContaining('"pod run" is not a task id') },
      { line: 4, column: 11, key: 'tasks[0].type', message: expect.stringContaining('did you mean "dphi.space.cg2.pod.run"?') },
      { line: 5, column: 5, key: 'tasks[1].source', message: '"source" is required' },
      { line: 7, column: 5, key: 'tasks[1].sources', message: 'unknown key "sources"; did you mean "source"?' },
      { line: 8, column: 9, key: 'tasks[2].id', message: 'task id "up" is already used by tasks[1] (line 5); task ids must be unique in the operation' },
      { line: 10, column: 1, key: 'triggers', message: 'unknown key "triggers"' },
    ]);
  });

  it('names an unknown key inside a nested map at its own line, with the nearest word (image: {name, tag})', () => {
    const text = podRun('').replace('      tag: latest', '      xtag: latest');
    const result = check(text);
    expect(result.errors).toEqual([
      expect.objectContaining({ key: 'tasks[0].image.tag', message: '"tag" is required' }),
      expect.objectContaining({ key: 'tasks[0].image.xtag', message: 'unknown key "xtag"; did you mean "tag"?' }),
    ]);
    const xtag = result.errors[1]!;
    expect(text.split('\n')[xtag.line - 1]).toBe('      xtag: latest');
    expect(xtag.column).toBe(7);
  });

  it('refuses deeply nested YAML at once, with where, before the parser spends seconds on it', () => {
    // The place is the 65th level's, which only the scan before parsing reports (the parser gives up elsewhere).
    expect(check('tasks: ' + '['.repeat(1_000_000)).errors).toEqual([{ line: 1, column: 72, key: '', message: 'the file is nested deeper than 64 levels' }]);
    expect(check('tasks:\n' + '- '.repeat(500_000) + 'x\n').errors[0]).toMatchObject({ line: 2, column: 129, message: 'the file is nested deeper than 64 levels' });
    expect(check('tasks: ' + '{a: '.repeat(200_000)).errors[0]).toMatchObject({ line: 1, column: 8 + 64 * 4, message: 'the file is nested deeper than 64 levels' });
    // Brackets in quoted scalars and comments do not count.
    expect(check(podRun(`    command: ["/bin/sh", "-c", "echo '${'['.repeat(100)}'"]\n    # ${'{'.repeat(100)}\n`)).errors).toEqual([]);
  });

  it('YAML errors and duplicate keys come with their line; an empty file or no tasks is an error', () => {
    expect(check('tasks:\n  - id: a\n    id: b\n').errors[0]).toMatchObject({ line: 3, column: 5, message: 'Map keys must be unique' });
    expect(check('tasks: [\n').errors[0]).toMatchObject({ line: 2 });
    expect(check('').errors).toEqual([{ line: 1, column: 1, key: '', message: 'the file is empty; an operation needs "tasks"' }]);
    expect(check('tasks: []\n').errors).toEqual([{ line: 1, column: 8, key: 'tasks', message: 'an operation needs at least one task' }]);
    expect(check('- a\n- b\n').errors[0]).toMatchObject({ line: 1, column: 1, message: 'expected a map, got a list' });
  });

  it('bounds what one file can ask for: tasks, durations, nesting, listed unknown keys; labels once each', () => {
    const tasks = (n: number) => `tasks:\n${Array.from({ length: n }, (_, i) => `  - {id: t${i}, type: dphi.space.cg2.docker.image.list}`).join('\n')}\n`;
    expect(check(tasks(1000)).errors).toEqual([]);
    expect(check(tasks(1001)).errors).toEqual([{ line: 2, column: 3, key: 'tasks', message: 'an operation has at most 1000 tasks; split it into several' }]);
    expect(check(podRun('    max_duration_seconds: 99999999999999999999999\n')).errors[0]).toMatchObject({ message: 'expected 1 to 31536000 seconds' });
    expect(check(`tasks: ${'['.repeat(100)}${']'.repeat(100)}\n`).errors[0]!.message).toBe('the file is nested deeper than 64 levels');
    expect(check(`tasks: ${'['.repeat(5000)}${']'.repeat(5000)}\n`).errors[0]).toMatchObject({ line: 1, column: 72, message: 'the file is nested deeper than 64 levels' });
    const unknown = check(`tasks:\n  - id: a\n    type: dphi.space.cg2.docker.image.list\n${Array.from({ length: 500 }, (_, i) => `    k${i}: 1`).join('\n')}\n`);
    expect(unknown.errors).toHaveLength(21);
    expect(unknown.errors[0]).toMatchObject({ key: 'tasks[0]', message: 'and 480 more unknown keys' });
    expect(check(`labels: [{key: a, value: x}, {key: a, value: y}]\n${tasks(1)}`).errors).toEqual([expect.objectContaining({ key: 'labels[1].key', message: 'label "a" is given twice' })]);
  });

  it('aliases are expanded, but a "billion laughs" file is refused instead of filling memory', () => {
    const shared = 'x-image: &img {name: alpine, tag: latest}\n';
    const ok = check(`tasks:\n  - id: a\n    type: dphi.space.cg2.pod.run\n    image: &img {name: alpine, tag: "3.19"}\n  - id: b\n    type: dphi.space.cg2.pod.run\n    image: *img\n`);
    expect(ok.errors).toEqual([]);
    expect((ok.operation!.tasks[1] as PodRunTask).image).toBe('alpine:3.19');
    let bomb = `${shared}l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n`;
    for (let i = 1; i < 9; i++) bomb += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
    expect(check(`${bomb}tasks: *l8\n`).errors).toEqual([{ line: 1, column: 1, key: '', message: 'the file uses more than 100 aliases (*name)' }]);
  });
});
