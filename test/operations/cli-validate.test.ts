import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/sim.ts';

const BIN = fileURLToPath(new URL('../../bin/em-sim.js', import.meta.url));
const dir = tempDir('em-sim-validate-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const validate = (...files: string[]) => spawnSync(process.execPath, [BIN, 'operation', 'validate', ...files], { encoding: 'utf8' });

describe('em-sim operation validate', () => {
  it('passes the provider-style examples: one ✓ line each, exit 0', () => {
    const run = validate('fixtures/operations/hello/hello-from-space.yaml', 'fixtures/operations/ollama/ollama.yaml');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('✓ fixtures/operations/hello/hello-from-space.yaml: em_testing / hello-from-space (2 tasks)\n✓ fixtures/operations/ollama/ollama.yaml: default / ollama (5 tasks)\n');
  });

  it('prints every error of every file as FILE:LINE:COLUMN, warnings on stderr, and exits 1', () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'tasks:\n  - id: up\n    type: dphi.space.cg2.uplink\n    source: [x.py]\n    destination: /data/in\n  - id: run\n    type: dphi.space.cg2.pod.run\n    image: {name: python}\n    max_duration: 5\n    max_duration_seconds: 5\n');
    const good = 'fixtures/operations/liquidai/liquidai.yaml';
    const run = validate(bad, good, path.join(dir, 'missing.yaml'));
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      `${bad}:8:12: error: tasks[1].image.tag: "tag" is required`,
      `${bad}:10:27: error: tasks[1].max_duration_seconds: give max_duration (minutes) or max_duration_seconds, not both`,
      `✘ ${bad}: 2 errors`,
      `✓ ${good}: default / liquidai (3 tasks)`,
      '',
    ]);
    expect(run.stderr).toContain(`${bad}:5:18: warning: tasks[0].destination: destination "/data/in" is a folder "data" inside the volume`);
    expect(run.stderr).toContain(`${path.join(dir, 'missing.yaml')}: cannot read it: ENOENT`);
  });
});
