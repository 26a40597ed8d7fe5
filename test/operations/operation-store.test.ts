import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/adapters/sqlite/database.ts';
import { SqliteOperationStore } from '../../src/adapters/sqlite/operation-store.ts';
import { NamespacePathConflict } from '../../src/domain/ports/operation-store.ts';
import { tempDir } from '../helpers/sim.ts';

describe('the operation store: namespace files', () => {
  const dir = tempDir('em-sim-opstore-');
  const db = new SqliteDatabase(path.join(dir, 'em-sim.db'));
  const store = new SqliteOperationStore(db);
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (p: string) => ({ path: p, size: 1, sha256: 'x', blob: `blob-${p}` });

  it('numbers versions per path, and refuses a path that is a folder there, or under a file, inside the transaction', () => {
    expect(store.addNamespaceFiles('u', 'ns', [file('/r')], 1).map((v) => v.version)).toEqual([1]);
    expect(store.addNamespaceFiles('u', 'ns', [file('/r')], 2).map((v) => v.version)).toEqual([2]);
    expect(() => store.addNamespaceFiles('u', 'ns', [file('/r/x')], 3)).toThrow(NamespacePathConflict);
    store.addNamespaceFiles('u', 'ns', [file('/d/x')], 4);
    expect(() => store.addNamespaceFiles('u', 'ns', [file('/ok'), file('/d')], 5)).toThrow(NamespacePathConflict);
    // Nothing of a refused batch was added; another user or namespace is another area; "/rx" is no folder of "/r".
    expect(store.namespaceFiles('u', 'ns').map((f) => `${f.path}@${f.version}`)).toEqual(['/d/x@1', '/r@1', '/r@2']);
    expect(store.addNamespaceFiles('v', 'ns', [file('/r/x')], 6)).toHaveLength(1);
    expect(store.addNamespaceFiles('u', 'other', [file('/r/x')], 7)).toHaveLength(1);
    expect(store.addNamespaceFiles('u', 'ns', [file('/rx')], 8)).toHaveLength(1);
  });
});
