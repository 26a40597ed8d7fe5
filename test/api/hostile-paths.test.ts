import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, startSim, tempDir, uniqueName, type TestSim } from '../helpers/sim.ts';
import { snapshot, tree, type Snapshot } from './_support.ts';

/*
 * Every case asserts two things: the status (and error code) the decisions give, and that
 * nothing outside the attacker's volume was read, written or removed. Outside are: a folder of
 * sentinel files, another user's volume, and the simulator's own signing key. A pod could plant
 * any of the links below in /data, so they are made on disk directly, as a pod would.
 */

const SENTINEL = 'SENTINEL-outside-secret-8c1f';
const SENTINEL_INNER = 'SENTINEL-outside-inner-77ad';
const SENTINEL_VICTIM = 'SENTINEL-victim-file-3b90';
const INSIDE = 'inside content';

type Expect = { status: 200; body?: string } | { status: 400 | 403 | 404; code: string };

interface Case {
  name: string;
  /** Sends the request; returns the response's status and text. */
  send: () => Promise<{ status: number; text: string }>;
  expect: Expect;
  /** What else must hold afterwards, on disk. */
  check?: () => void;
}

describe('hostile paths', () => {
  let sim: TestSim;
  let outside: string;
  let vol: string;
  let victimVol: string;
  let before: Snapshot;
  const attacker = uniqueName('a');
  const victim = uniqueName('v');
  const POD = 'hostile';

  /** Everything outside the attacker's volume that a request could reach: all other volumes included. */
  const outsideNow = () => snapshot([outside, path.join(sim.dataDir, 'volumes'), path.join(sim.dataDir, 'secret.key')], [vol]);
  const link = (at: string, target: string) => {
    mkdirSync(path.dirname(path.join(vol, at)), { recursive: true });
    symlinkSync(target, path.join(vol, at));
  };

  beforeAll(async () => {
    sim = await startSim({ users: [attacker, victim] });
    outside = tempDir('em-sim-outside-');
    writeFileSync(path.join(outside, 'secret.txt'), SENTINEL);
    mkdirSync(path.join(outside, 'dir/sub'), { recursive: true });
    writeFileSync(path.join(outside, 'dir/inner.txt'), SENTINEL_INNER);

    const up = await sim.fetch('/em/files/uplink', { method: 'POST', user: victim, body: form({ 'victim.txt': SENTINEL_VICTIM }, { dest_path: 'vdir' }) });
    expect(up.status).toBe(200);
    victimVol = sim.volumeDir(victim);

    const mine = await sim.fetch('/em/files/uplink', { method: 'POST', user: attacker, body: form({ 'inside.txt': INSIDE }, { pod_name: POD }) });
    expect(mine.status).toBe(200);
    await sim.fetch('/em/files/uplink', { method: 'POST', user: attacker, body: form({ 'in.txt': INSIDE }, { pod_name: POD, dest_path: 'sub' }) });
    vol = sim.volumeDir(attacker, POD);

    link('abs-file', path.join(outside, 'secret.txt'));
    link('rel-file', path.relative(vol, path.join(outside, 'secret.txt')));
    link('abs-dir', path.join(outside, 'dir'));
    link('rel-dir', path.relative(vol, path.join(outside, 'dir')));
    link('victim-file', path.join(victimVol, 'vdir/victim.txt'));
    link('victim-dir', path.join(victimVol, 'vdir'));
    link('victim-rel', `../../${victim}/default`);
    link('key', path.join(sim.dataDir, 'secret.key'));
    link('root', '/');
    link('parent', '..');
    link('all-users', '../..');
    link('chain1', 'chain2');
    link('chain2', path.join(outside, 'secret.txt'));
    link('dangling-out', path.join(outside, 'no-such-file'));
    link('dangling-out-dir', path.join(outside, 'no-such-dir'));
    link('loop1', 'loop2');
    link('loop2', 'loop1');
    link('in-file', 'inside.txt');
    link('in-dir', 'sub');
    link('self', '.');
    link('sub/up', '..');
    link('sub/up2', '../..');
    execFileSync('mkfifo', [path.join(vol, 'fifo')]);

    before = outsideNow();
  });

  afterAll(async () => {
    await sim.close();
    rmSync(outside, { recursive: true, force: true });
  });

  const token = () => sim.token(attacker);
  const asText = async (res: Response) => ({ status: res.status, text: await res.text() });
  /** Downlink with a query string taken as written: encodings are the point of some cases. */
  const downRaw = (query: string) => async () => asText(await fetch(`${sim.url}/em/files/downlink?pod_name=${POD}&filepath=${query}`, { headers: { Authorization: `Bearer ${await token()}` } }));
  const down = (filepath: string) => downRaw(encodeURIComponent(filepath));
  const del = (filepath: string) => async () =>
    asText(await sim.fetch('/em/files/delete', { method: 'POST', user: attacker, body: new URLSearchParams({ filepath, pod_name: POD }) }));
  const delJson = (filepath: string) => async () =>
    asText(
      await sim.fetch('/em/files/delete', {
        method: 'POST',
        user: attacker,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ filepath, pod_name: POD }),
      }),
    );
  const up = (fields: Record<string, string>, name = 'planted.txt', content = 'planted by the attacker') => async () =>
    asText(await sim.fetch('/em/files/uplink', { method: 'POST', user: attacker, body: form({ [name]: content }, { pod_name: POD, ...fields }) }));

  /** An uplink whose file part carries the given Content-Disposition parameters, written by hand. */
  const upRaw = (disposition: string) => async () => {
    const b = 'hostile-boundary';
    const body =
      `--${b}\r\nContent-Disposition: form-data; name="pod_name"\r\n\r\n${POD}\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="files"; ${disposition}\r\n\r\nplanted\r\n--${b}--\r\n`;
    return asText(
      await sim.fetch('/em/files/uplink', { method: 'POST', user: attacker, headers: { 'Content-Type': `multipart/form-data; boundary=${b}` }, body }),
    );
  };
  const ok = (body?: string): Expect => ({ status: 200, body });
  const malformed: Expect = { status: 400, code: 'INVALID_PATH' };
  const illegal: Expect = { status: 403, code: 'ILLEGAL_PATH' };
  const missing: Expect = { status: 404, code: 'FILE_NOT_FOUND' };
  const notAFile: Expect = { status: 400, code: 'NOT_A_FILE' };
  const nothingToDelete: Expect = { status: 400, code: 'DELETE_FAILED' };
  const isLinkStill = (rel: string) => () => expect(lstatSync(path.join(vol, rel)).isSymbolicLink()).toBe(true);
  const gone = (rel: string) => () => expect(existsSync(path.join(vol, rel)) || isLink(path.join(vol, rel))).toBe(false);

  // Cases are built before beforeAll runs: anything naming `outside` or a volume must be lazy.
  const downlinkCases: Case[] = [
    // ".." in every position
    { name: 'a leading ..', send: down('../default/x'), expect: illegal },
    { name: 'a bare ..', send: down('..'), expect: illegal },
    { name: '.. after ./', send: down('./../x'), expect: illegal },
    { name: '.. after a leading /', send: down('/../x'), expect: illegal },
    { name: '.. in the middle, climbing out', send: down('sub/../../x'), expect: illegal },
    { name: 'deep .. climbing out', send: down('a/b/c/../../../../x'), expect: illegal },
    { name: 'a trailing .. climbing out', send: down('sub/../..'), expect: illegal },
    { name: '.. that stays inside', send: down('sub/../inside.txt'), expect: ok(INSIDE) },
    { name: '.. after a link is lexical: it never climbs out through the link', send: down('abs-dir/../inside.txt'), expect: ok(INSIDE) },
    { name: '.. resolving to the root', send: down('sub/..'), expect: notAFile },
    { name: 'dots that are names', send: down('....//....//etc/passwd'), expect: missing },
    // absolute paths are relative to the volume
    { name: '/etc/passwd', send: down('/etc/passwd'), expect: missing },
    { name: 'the absolute path of the sentinel', send: () => down(`${outside}/secret.txt`)(), expect: missing },
    { name: 'the absolute path of the other user\'s file', send: () => down(`${victimVol}/vdir/victim.txt`)(), expect: missing },
    // encodings: the query string is decoded exactly once
    { name: '%2e%2e%2f', send: downRaw('%2e%2e%2fdefault%2fx'), expect: illegal },
    { name: '..%2f..%2f', send: downRaw('..%2f..%2f..%2fetc%2fpasswd'), expect: illegal },
    { name: '%2e%2e/ with plain slashes', send: downRaw('%2e%2e/%2e%2e/etc/passwd'), expect: illegal },
    { name: 'double-encoded %252e%252e%252f is a name', send: downRaw('%252e%252e%252fsecret.txt'), expect: missing },
    { name: 'double-encoded dots with real slashes are names', send: downRaw('%252e%252e/%252e%252e/etc/passwd'), expect: missing },
    { name: 'broken percent-encoding', send: downRaw('%E0%A4%A'), expect: missing },
    // malformed
    { name: 'a backslash climb', send: down('..\\..\\secret.txt'), expect: malformed },
    { name: 'an encoded backslash', send: downRaw('%5c..%5csecret.txt'), expect: malformed },
    { name: 'a NUL byte', send: downRaw('inside.txt%00.png'), expect: malformed },
    { name: 'a newline', send: down('inside\n.txt'), expect: malformed },
    { name: 'an escape character', send: down('inside\u001b.txt'), expect: malformed },
    { name: 'DEL', send: down('inside\u007f.txt'), expect: malformed },
    { name: 'a 256-byte name', send: down('a'.repeat(256)), expect: malformed },
    { name: 'a 256-byte name of two-byte characters', send: down('é'.repeat(128)), expect: malformed },
    { name: 'a 255-byte name is allowed', send: down('a'.repeat(255)), expect: missing },
    { name: 'a path over 4096 bytes', send: down('a/'.repeat(2049)), expect: malformed },
    // links out of the volume
    { name: 'an absolute link to an outside file', send: down('abs-file'), expect: illegal },
    { name: 'a relative link to an outside file', send: down('rel-file'), expect: illegal },
    { name: 'an absolute link to an outside folder, as an intermediate folder', send: down('abs-dir/inner.txt'), expect: illegal },
    { name: 'a relative link to an outside folder, as an intermediate folder', send: down('rel-dir/inner.txt'), expect: illegal },
    { name: 'a link to another user\'s file', send: down('victim-file'), expect: illegal },
    { name: 'a link to another user\'s folder', send: down('victim-dir/victim.txt'), expect: illegal },
    { name: 'a relative link to another user\'s volume', send: down('victim-rel/vdir/victim.txt'), expect: illegal },
    { name: 'a link to the simulator\'s signing key', send: down('key'), expect: illegal },
    { name: 'a link to /', send: down('root/etc/passwd'), expect: illegal },
    { name: 'a link to the folder of the user\'s volumes', send: down('parent/default/x'), expect: illegal },
    { name: 'a link to the folder of all users', send: down(`all-users/${victim}/default/vdir/victim.txt`), expect: illegal },
    { name: 'a chain of links ending outside', send: down('chain1'), expect: illegal },
    { name: 'a dangling link to outside', send: down('dangling-out'), expect: illegal },
    { name: 'a nested link climbing out', send: down(`sub/up2/${POD}/inside.txt`), expect: illegal },
    { name: 'a loop of links', send: down('loop1'), expect: missing },
    // links that stay inside may be followed
    { name: 'a link to a file inside', send: down('in-file'), expect: ok(INSIDE) },
    { name: 'a link to a folder inside', send: down('in-dir/in.txt'), expect: ok(INSIDE) },
    { name: 'a link to the volume root', send: down('self/self/inside.txt'), expect: ok(INSIDE) },
    { name: 'a nested link back to the root', send: down('sub/up/inside.txt'), expect: ok(INSIDE) },
    { name: 'a FIFO is not a file, and does not hang', send: down('fifo'), expect: notAFile },
  ];

  const listCases: Case[] = [
    {
      name: 'list shows neither links nor anything behind them',
      send: async () => asText(await sim.fetch(`/em/files/list?pod_name=${POD}`, { user: attacker })),
      expect: ok(),
    },
  ];

  const uplinkCases: Case[] = [
    { name: 'dest_path ..', send: up({ dest_path: '..' }), expect: illegal },
    { name: 'dest_path climbing out from a folder', send: up({ dest_path: 'sub/../../other' }), expect: illegal },
    { name: 'dest_path through %2e%2e in a form field (not decoded)', send: up({ dest_path: '%2e%2e%2fx' }), expect: ok(), check: () => expect(existsSync(path.join(vol, '%2e%2e%2fx/planted.txt'))).toBe(true) },
    { name: 'dest_path a link to an outside folder', send: up({ dest_path: 'abs-dir' }), expect: illegal },
    { name: 'dest_path a new folder under a link to outside', send: up({ dest_path: 'rel-dir/created' }), expect: illegal },
    { name: 'dest_path a dangling link to an outside folder', send: up({ dest_path: 'dangling-out-dir' }), expect: illegal },
    { name: 'dest_path under a dangling link to an outside folder', send: up({ dest_path: 'dangling-out-dir/deeper' }), expect: illegal },
    { name: 'dest_path another user\'s folder', send: up({ dest_path: 'victim-dir' }), expect: illegal },
    { name: 'dest_path the folder of the user\'s volumes', send: up({ dest_path: 'parent/default' }), expect: illegal },
    { name: 'dest_path a link to /', send: up({ dest_path: 'root/tmp' }), expect: illegal },
    { name: 'dest_path with a backslash', send: up({ dest_path: '..\\x' }), expect: malformed },
    { name: 'dest_path with a NUL byte', send: up({ dest_path: 'x\u0000y' }), expect: malformed },
    { name: 'dest_path an absolute outside path lands inside', send: () => up({ dest_path: `${outside}/dir` })(), expect: ok(), check: () => expect(readFileSync(path.join(vol, outside, 'dir/planted.txt'), 'utf8')).toBe('planted by the attacker') },
    { name: 'dest_path a link to a folder inside', send: up({ dest_path: 'in-dir' }, 'via-link.txt'), expect: ok(), check: () => expect(readFileSync(path.join(vol, 'sub/via-link.txt'), 'utf8')).toBe('planted by the attacker') },
    {
      name: 'a file named like a link to outside replaces the link, not its target',
      send: async () => {
        link('replace-me', path.join(outside, 'secret.txt'));
        return up({}, 'replace-me')();
      },
      expect: ok(),
      check: () => {
        expect(lstatSync(path.join(vol, 'replace-me')).isFile()).toBe(true);
        expect(readFileSync(path.join(vol, 'replace-me'), 'utf8')).toBe('planted by the attacker');
      },
    },
    { name: 'a file name with ../ keeps only its last part', send: up({}, '../../secret.txt'), expect: ok(), check: () => expect(readFileSync(path.join(vol, 'secret.txt'), 'utf8')).toBe('planted by the attacker') },
    { name: 'a file name with ..\\ keeps only its last part', send: up({}, '..\\..\\bs.txt'), expect: ok(), check: () => expect(existsSync(path.join(vol, 'bs.txt'))).toBe(true) },
    { name: 'a file name with an absolute path keeps only its last part', send: () => up({}, `${outside}/secret.txt`)(), expect: ok(), check: () => expect(existsSync(path.join(vol, 'secret.txt'))).toBe(true) },
    { name: 'a file name with a control character, RFC 5987-encoded', send: upRaw("filename*=UTF-8''bad%01name"), expect: malformed },
    { name: 'a file name with a NUL byte, RFC 5987-encoded', send: upRaw("filename*=UTF-8''secret.txt%00.png"), expect: malformed },
    { name: 'a file name .. , RFC 5987-encoded', send: upRaw("filename*=UTF-8''.."), expect: malformed },
    { name: 'an encoded ../ file name keeps only its last part', send: upRaw("filename*=UTF-8''..%2F..%2Fencoded.txt"), expect: ok(), check: () => expect(readFileSync(path.join(vol, 'encoded.txt'), 'utf8')).toBe('planted') },
    { name: 'a raw control character in the part header', send: upRaw('filename="bad\u0001name"'), expect: { status: 400, code: 'UPLINK_FAILED' } },
    { name: 'a file name over 255 bytes', send: up({}, 'n'.repeat(256)), expect: malformed },
  ];

  const deleteCases: Case[] = [
    { name: 'delete ..', send: del('..'), expect: illegal },
    { name: 'delete ../default', send: del('../default'), expect: illegal },
    { name: 'delete climbing out from a folder', send: del('sub/../../default'), expect: illegal },
    { name: 'delete %2e%2e%2f from JSON (a name, not decoded)', send: delJson('%2e%2e%2fdefault'), expect: nothingToDelete },
    { name: 'delete a file behind a link to an outside folder', send: del('abs-dir/inner.txt'), expect: illegal },
    { name: 'delete a folder behind a relative link to outside', send: del('rel-dir/sub'), expect: illegal },
    { name: 'delete another user\'s file through a link', send: del('victim-dir/victim.txt'), expect: illegal },
    { name: 'delete another user\'s volume through a link', send: del(`all-users/${victim}`), expect: illegal },
    { name: 'delete under a dangling link to outside', send: del('dangling-out-dir/x'), expect: illegal },
    { name: 'delete with a backslash', send: del('..\\default'), expect: malformed },
    { name: 'delete with a NUL byte', send: delJson('sub\u0000'), expect: malformed },
    { name: 'delete the volume root through ..', send: del('sub/..'), expect: nothingToDelete },
    {
      name: 'delete a link to an outside file removes the link only',
      send: async () => {
        link('del-file-link', path.join(outside, 'secret.txt'));
        return del('del-file-link')();
      },
      expect: ok(),
      check: gone('del-file-link'),
    },
    {
      name: 'delete a link to an outside folder removes the link only',
      send: async () => {
        link('del-dir-link', path.join(outside, 'dir'));
        return del('del-dir-link')();
      },
      expect: ok(),
      check: gone('del-dir-link'),
    },
    {
      name: 'delete a link to an outside folder, written with a trailing slash, removes the link only',
      send: async () => {
        link('del-dir-slash', path.join(outside, 'dir'));
        return del('del-dir-slash/')();
      },
      expect: ok(),
      check: gone('del-dir-slash'),
    },
    {
      name: 'delete a link to another user\'s volume removes the link only',
      send: async () => {
        link('del-victim', victimVol);
        return del('del-victim')();
      },
      expect: ok(),
      check: gone('del-victim'),
    },
    {
      name: 'delete a folder holding links to outside does not follow them',
      send: async () => {
        link('trap/to-dir', path.join(outside, 'dir'));
        link('trap/to-file', path.join(outside, 'secret.txt'));
        link('trap/to-victim', victimVol);
        return del('trap')();
      },
      expect: ok(),
      check: gone('trap'),
    },
    { name: 'delete a dangling link to outside removes the link', send: del('dangling-out'), expect: ok(), check: gone('dangling-out') },
    {
      name: 'delete through a link to a folder inside reaches the file inside',
      send: async () => {
        writeFileSync(path.join(vol, 'sub/bye.txt'), 'bye');
        return del('in-dir/bye.txt')();
      },
      expect: ok(),
      check: () => {
        expect(existsSync(path.join(vol, 'sub/bye.txt'))).toBe(false);
        isLinkStill('in-dir')();
      },
    },
  ];

  const run = async (c: Case) => {
    const res = await c.send();
    expect(res.status, `${c.name}: ${res.text.slice(0, 300)}`).toBe(c.expect.status);
    if ('code' in c.expect) expect(JSON.parse(res.text).error, c.name).toBe(c.expect.code);
    else if (c.expect.body !== undefined) expect(res.text, c.name).toBe(c.expect.body);
    // Nothing of the outside came back ...
    for (const secret of [SENTINEL, SENTINEL_INNER, SENTINEL_VICTIM, readFileSync(path.join(sim.dataDir, 'secret.key'), 'utf8').trim()]) {
      expect(res.text.includes(secret), `${c.name}: response holds outside content`).toBe(false);
    }
    // ... and nothing outside changed, appeared or disappeared.
    expect(outsideNow(), c.name).toEqual(before);
    c.check?.();
  };

  it('has at least 40 cases', () => {
    expect(downlinkCases.length + listCases.length + uplinkCases.length + deleteCases.length).toBeGreaterThanOrEqual(40);
  });

  describe('downlink', () => {
    it.each(downlinkCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => run(c));
  });

  describe('uplink', () => {
    it.each(uplinkCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => run(c));

    it('leaves nothing staged after refused uplinks', () => {
      expect(tree(path.join(sim.dataDir, 'tmp'))).toEqual([]);
    });
  });

  describe('list', () => {
    it.each(listCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => run(c));

    it('lists exactly the regular files and folders', async () => {
      const res = await sim.fetch(`/em/files/list?pod_name=${POD}`, { user: attacker });
      const body = (await res.json()) as { data: { name: string; type: string; contents?: { name: string }[] }[] };
      const names = body.data.map((n) => n.name);
      const onDisk = readdirSync(vol, { withFileTypes: true }).filter((e) => e.isFile() || e.isDirectory()).map((e) => e.name);
      expect(names).toEqual([...onDisk].sort());
      for (const linkName of ['abs-file', 'abs-dir', 'victim-dir', 'root', 'parent', 'self', 'in-file', 'in-dir', 'fifo']) {
        expect(names).not.toContain(linkName);
      }
      const sub = body.data.find((n) => n.name === 'sub')!;
      expect(sub.contents!.map((n) => n.name)).not.toContain('up');
      expect(sub.contents!.map((n) => n.name)).not.toContain('up2');
      const text = JSON.stringify(body);
      for (const name of ['inner.txt', 'victim.txt', 'passwd']) expect(text).not.toContain(`"${name}"`);
    });
  });

  describe('delete', () => {
    it.each(deleteCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => run(c));
  });

  it('still holds the outside intact at the end', () => {
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(SENTINEL);
    expect(readFileSync(path.join(outside, 'dir/inner.txt'), 'utf8')).toBe(SENTINEL_INNER);
    expect(readFileSync(path.join(victimVol, 'vdir/victim.txt'), 'utf8')).toBe(SENTINEL_VICTIM);
    expect(outsideNow()).toEqual(before);
  });
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
