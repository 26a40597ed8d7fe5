import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { expectedHash, snapshot, type Snapshot } from './_support.ts';

/*
 * Two users. Bob keeps files in his default volume and in a pod volume; Alice tries every
 * parameter she can think of. Whatever she sends, Bob's tree stays byte-for-byte the same and
 * nothing of his comes back to her.
 */

const BOB_SECRET = 'bob-secret-content-5d21';
const BOB_POD_SECRET = 'bob-pod-secret-content-a4c7';

describe('isolation between users', () => {
  let sim: TestSim;
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');
  let bobTree: Snapshot;

  beforeAll(async () => {
    sim = await startSim({ users: [alice, bob] });
    for (const fields of [{}, { dest_path: 'reports' }] as Record<string, string>[]) {
      const res = await sim.fetch('/em/files/uplink', { method: 'POST', user: bob, body: form({ 'secret.txt': BOB_SECRET }, fields) });
      expect(res.status).toBe(200);
    }
    const pod = await sim.fetch('/em/files/uplink', { method: 'POST', user: bob, body: form({ 'pod-secret.txt': BOB_POD_SECRET }, { pod_name: 'shared' }) });
    expect(pod.status).toBe(200);
    bobTree = snapshot([path.join(sim.dataDir, 'volumes', bob)]);
  });
  afterAll(() => sim.close());

  /** Every way Alice might name Bob's volume. Valid pod names select volumes of her own. */
  const volumeTricks = (): Record<string, string>[] => [
    {},
    { pod_name: bob },
    { pod_name: 'shared' },
    { pvc_name: bob },
    { pvc_name: 'shared' },
    { pod_name: 'default' },
    { pod_name: `../${bob}` },
    { pod_name: `../${bob}/default` },
    { pod_name: `../../${bob}/shared` },
    { pod_name: `${bob}/shared` },
    { pod_name: `${bob}-shared` },
    { pod_name: '..' },
    { pod_name: '.' },
    { pod_name: `%2e%2e%2f${bob}` },
    { pvc_name: `../${bob}` },
    { username: bob },
    { user: bob },
    { user_id: bob },
    { pod_name: 'shared', username: bob },
  ];
  /** Every way Alice might name one of Bob's files inside a volume. */
  const fileTricks = ['secret.txt', 'reports/secret.txt', 'pod-secret.txt', `../${bob}/default/secret.txt`, `../../${bob}/default/secret.txt`, `/../${bob}/shared/pod-secret.txt`];

  const asAlice = (p: string, init: RequestInit = {}) => sim.fetch(p, { ...init, user: alice });
  const unchanged = () => expect(snapshot([path.join(sim.dataDir, 'volumes', bob)])).toEqual(bobTree);
  const noSecrets = (text: string, what: string) => {
    expect(text, what).not.toContain(BOB_SECRET);
    expect(text, what).not.toContain(BOB_POD_SECRET);
  };

  it('lists none of the other user\'s files, whatever the volume parameters', async () => {
    for (const params of volumeTricks()) {
      const query = await asAlice(`/em/files/list?${new URLSearchParams(params)}`);
      const post = await asAlice('/em/files/list', { method: 'POST', body: JSON.stringify(params), headers: { 'Content-Type': 'application/json' } });
      for (const res of [query, post]) {
        const text = await res.text();
        noSecrets(text, JSON.stringify(params));
        // Valid names are Alice's own (still empty) volumes; the rest are refused.
        if (res.status === 200) expect(JSON.parse(text), JSON.stringify(params)).toEqual({ message: 'Successfully listed files', data: [] });
        else expect(JSON.parse(text).error, JSON.stringify(params)).toBe('INVALID_POD_NAME');
      }
    }
    unchanged();
  });

  it('downlinks none of the other user\'s files', async () => {
    for (const params of volumeTricks()) {
      for (const filepath of fileTricks) {
        const res = await asAlice(`/em/files/downlink?${new URLSearchParams({ ...params, filepath })}`);
        const text = await res.text();
        noSecrets(text, `${filepath} ${JSON.stringify(params)}`);
        expect([400, 403, 404], `${filepath} ${JSON.stringify(params)}: ${text}`).toContain(res.status);
      }
    }
    unchanged();
  });

  it('deletes none of the other user\'s files', async () => {
    for (const params of volumeTricks()) {
      for (const filepath of [...fileTricks, 'reports', '/', '.', `../${bob}`, '..']) {
        const res = await asAlice('/em/files/delete', { method: 'POST', body: new URLSearchParams({ ...params, filepath }) });
        expect([400, 403], `${filepath} ${JSON.stringify(params)}`).toContain(res.status);
        noSecrets(await res.text(), filepath);
      }
    }
    unchanged();
  });

  it('overwrites none of the other user\'s files: an uplink with the same names lands in her own volume', async () => {
    for (const params of volumeTricks()) {
      for (const dest_path of ['', 'reports', `../${bob}/default`, `../../${bob}/default`, `/../${bob}`]) {
        const res = await asAlice('/em/files/uplink', {
          method: 'POST',
          body: form({ 'secret.txt': 'alice was here', 'pod-secret.txt': 'alice was here' }, { ...params, dest_path }),
        });
        expect([200, 400, 403], `${dest_path} ${JSON.stringify(params)}`).toContain(res.status);
        noSecrets(await res.text(), dest_path);
      }
    }
    unchanged();
    // Alice's own copy exists, in her own default volume.
    expect(readFileSync(path.join(sim.volumeDir(alice), 'secret.txt'), 'utf8')).toBe('alice was here');
    // Naming Bob as a pod gives Alice a volume of her own by that name, under her tree.
    expect(readFileSync(path.join(sim.volumeDir(alice, bob), 'secret.txt'), 'utf8')).toBe('alice was here');
  });

  it('still serves the other user his own files, unchanged', async () => {
    const res = await sim.fetch('/em/files/downlink?filepath=reports/secret.txt', { user: bob });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BOB_SECRET);
    const pod = await sim.fetch('/em/files/downlink?filepath=pod-secret.txt&pod_name=shared', { user: bob });
    expect(await pod.text()).toBe(BOB_POD_SECRET);
    const list = await sim.fetch('/em/files/list', { user: bob });
    const names = ((await list.json()) as { data: { name: string }[] }).data.map((n) => n.name);
    expect(names).toEqual(['reports', 'secret.txt']);
  });

  it('gives a token no power over another user, whatever the body says', async () => {
    // A token of Alice's sent with Bob's name anywhere in the request still acts as Alice.
    const res = await sim.fetch(`/em/files/list?username=${bob}`, {
      user: alice,
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-User': bob, 'X-Forwarded-User': bob },
      body: JSON.stringify({ username: bob, user: bob }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    noSecrets(text, 'headers');
    // The listing is Alice's default volume: her secret.txt, with her content's hash.
    expect(text).toContain(`"name":"secret.txt","size":"14"`);
    expect(text).toContain(`"hash":${expectedHash('alice was here')}}`);
    expect(text).not.toContain(`"hash":${expectedHash(BOB_SECRET)}}`);
  });
});
