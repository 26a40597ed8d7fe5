import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/sim.ts';

// The layering of ARCHITECTURE.md, checked by dependency-cruiser with the rules of
// .dependency-cruiser.cjs (the same check as `npm run lint:deps`).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

/** Runs depcruise in `cwd` on `dirs`; its "err" report names each offending import as "rule: from → to". */
function cruise(cwd: string, dirs: string[]): { status: number | null; report: string } {
  const run = spawnSync(DEPCRUISE, [...dirs, '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  if (run.error) throw new Error(`dependency-cruiser did not run (${run.error.message}): npm install installs it`);
  return { status: run.status, report: `${run.stdout}${run.stderr}` };
}

describe('the layers', () => {
  const fixture = tempDir('em-sim-layers-');
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('hold in src/, bench/, test/ and ui/: every import points the way ARCHITECTURE.md draws, and none goes round in a circle', () => {
    const { status, report } = cruise(ROOT, ['src', 'bench', 'test', 'ui']);
    // On failure the report is the message: each line names the rule, the importing file and the import.
    expect(report).toMatch(/no dependency violations found/);
    expect(status, report).toBe(0);
  });

  it('fail, naming the import, when the domain imports an adapter, the HTTP layer an adapter, the dashboard code of src/, or modules import each other', () => {
    // A tree of the same shape in a scratch folder, with one import of each forbidden kind.
    const put = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
      writeFileSync(path.join(fixture, file), text);
    };
    copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(fixture, 'tsconfig.json'));
    put('src/adapters/sqlite/store.ts', "export const store = 'sqlite';\n");
    put('src/domain/pods/service.ts', "import { store } from '../../adapters/sqlite/store.ts';\nexport const pods = store;\n");
    put('src/domain/ports/fs-user.ts', "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    put('src/http/routes/pods.ts', "import { store } from '../../adapters/sqlite/store.ts';\nimport { pods } from '../../domain/pods/service.ts';\nexport const route = [store, pods];\n");
    put('src/domain/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    put('src/domain/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
    // The dashboard: a type of the domain is fine, its code or an adapter is not.
    put('ui/types-only.ts', "import type { Pods } from '../src/domain/pods/types.ts';\nexport type P = Pods;\n");
    put('src/domain/pods/types.ts', 'export type Pods = string[];\n');
    put('ui/page.ts', "import { pods } from '../src/domain/pods/service.ts';\nimport { store } from '../src/adapters/sqlite/store.ts';\nexport const page = [pods, store];\n");
    const { status, report } = cruise(fixture, ['src', 'ui']);
    expect(status, report).not.toBe(0);
    expect(report).toMatch(/the-dashboard-takes-only-types-from-the-domain: ui\/page\.ts → src\/domain\/pods\/service\.ts/);
    expect(report).toMatch(/the-dashboard-talks-http-only: ui\/page\.ts → src\/adapters\/sqlite\/store\.ts/);
    expect(report).not.toMatch(/ui\/types-only\.ts/);
    expect(report).toMatch(/domain-imports-only-the-domain: src\/domain\/pods\/service\.ts → src\/adapters\/sqlite\/store\.ts/);
    expect(report).toMatch(/domain-does-no-io: src\/domain\/ports\/fs-user\.ts → (node:)?fs/);
    expect(report).toMatch(/http-talks-to-the-domain-only: src\/http\/routes\/pods\.ts → src\/adapters\/sqlite\/store\.ts/);
    expect(report).toMatch(/no-circular: src\/domain\/(a|b)\.ts →/);
  });
});
