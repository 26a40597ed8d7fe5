import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/domain/errors.ts';
import { form, startSim, tempDir, uniqueName, type TestSim } from '../helpers/sim.ts';
import { expectedHash, multipartBytes, rawRequest, tree } from './_support.ts';

// A moment whose minute is known, so `time` can be checked to the digit.
const WHEN = new Date('2025-11-20T12:31:45Z');
const WHEN_TEXT = '2025-11-20-12-31';
// Large buffers compare by digest: a deep equality of 300 kB is slow to run and to report.
const sha256 = (data: ArrayBuffer | Uint8Array) => createHash('sha256').update(new Uint8Array(data)).digest('hex');

describe('file API over HTTP', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  /** A fresh pod volume per test, so tests do not see each other's files. */
  const pod = () => uniqueName('p');
  const uplink = (body: FormData | string, init: RequestInit = {}) => sim.fetch('/em/files/uplink', { method: 'POST', body, ...init });
  const list = async (podName: string) => {
    const res = await sim.fetch(`/em/files/list?pod_name=${podName}`);
    expect(res.status).toBe(200);
    return res.json() as Promise<{ message: string; data: unknown[] }>;
  };
  const names = async (podName: string) => (await list(podName)).data.map((n) => (n as { name: string }).name);
  const downlink = (query: string) => sim.fetch(`/em/files/downlink?${query}`);
  const del = (params: Record<string, string>) => sim.fetch('/em/files/delete', { method: 'POST', body: new URLSearchParams(params) });
  const error = (code: ErrorCode, message: string) => ({ error: code, message });

  describe('uplink', () => {
    it('stores several files in one request under dest_path of the named pod volume', async () => {
      const p = pod();
      const res = await uplink(form({ 'a.txt': 'hello', 'b.bin': new Uint8Array(3000) }, { dest_path: 'in/deep', pod_name: p }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'Successfully uplinked files', data: { file_count: 2, total_size_kb: 2.93 } });
      expect(readFileSync(path.join(sim.volumeDir('client1', p), 'in/deep/a.txt'), 'utf8')).toBe('hello');
      expect(readFileSync(path.join(sim.volumeDir('client1', p), 'in/deep/b.bin'))).toEqual(Buffer.alloc(3000));
      // Nothing went to the default volume.
      expect(existsSync(path.join(sim.volumeDir('client1'), 'in'))).toBe(false);
    });

    it('keeps a non-ASCII file name as curl and requests send it (UTF-8 bytes in filename), and as filename* says', async () => {
      const p = pod();
      const boundary = 'em-sim-test-boundary';
      // The multipart body as the clients write it: curl -F and urllib3 put the name's UTF-8
      // bytes straight into filename="…"; other clients use RFC 5987's filename*.
      const part = (disposition: Buffer, content: string) =>
        Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; `), disposition, Buffer.from(`\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`)]);
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="pod_name"\r\n\r\n${p}\r\n`),
        part(Buffer.from('filename="résumé.txt"', 'utf8'), 'raw utf-8'),
        part(Buffer.from(`filename="x.txt"; filename*=UTF-8''${encodeURIComponent('naïve ☃.txt')}`), 'rfc 5987'),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      const res = await uplink(body as unknown as string, { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
      expect(res.status, await res.clone().text()).toBe(200);
      expect((await names(p)).sort()).toEqual(['naïve ☃.txt', 'résumé.txt']);
      expect(readFileSync(path.join(sim.volumeDir('client1', p), 'résumé.txt'), 'utf8')).toBe('raw utf-8');
    });

    it('puts files at the volume root without dest_path, and replaces a file of the same name', async () => {
      const p = pod();
      expect((await uplink(form({ 'x.txt': 'one' }, { pod_name: p }))).status).toBe(200);
      const res = await uplink(form({ 'x.txt': 'two!' }, { pod_name: p }));
      expect(await res.json()).toEqual({ message: 'Successfully uplinked files', data: { file_count: 1, total_size_kb: 0 } });
      expect(tree(sim.volumeDir('client1', p))).toEqual(['x.txt']);
      expect(readFileSync(path.join(sim.volumeDir('client1', p), 'x.txt'), 'utf8')).toBe('two!');
    });

    it('selects the volume with pvc_name as later clients do', async () => {
      const p = pod();
      expect((await uplink(form({ 'pvc.txt': 'v' }, { pvc_name: p }))).status).toBe(200);
      expect(await names(p)).toEqual(['pvc.txt']);
    });

    it('reports total_size_kb rounded to two decimals', async () => {
      const res = await uplink(form({ 'k.bin': new Uint8Array(1536), 'l.bin': new Uint8Array(10) }, { pod_name: pod() }));
      // 1546 bytes = 1.509765625 KB
      expect(await res.json()).toEqual({ message: 'Successfully uplinked files', data: { file_count: 2, total_size_kb: 1.51 } });
    });

    it('treats empty dest_path and pod_name as not given, as the Python client sends them', async () => {
      const name = `${uniqueName('e')}.txt`;
      const res = await uplink(form({ [name]: 'empty params' }, { dest_path: '', pod_name: '' }));
      expect(res.status).toBe(200);
      expect(readFileSync(path.join(sim.volumeDir('client1'), name), 'utf8')).toBe('empty params');
      const query = await sim.fetch('/em/files/uplink?pod_name=&dest_path=', { method: 'POST', body: form({ [`q${name}`]: 'q' }) });
      expect(query.status).toBe(200);
      expect(existsSync(path.join(sim.volumeDir('client1'), `q${name}`))).toBe(true);
    });

    it('answers NO_FILES for a multipart body without files, one with files under another field, and a non-multipart body', async () => {
      const noFiles = error('NO_FILES', 'No files were provided for uplink!');
      const p = pod();
      const fieldsOnly = new FormData();
      fieldsOnly.append('pod_name', p);
      const wrongField = new FormData();
      wrongField.append('file', new Blob(['x']), 'x.txt');
      wrongField.append('pod_name', p);
      for (const body of [fieldsOnly, wrongField]) {
        const res = await uplink(body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual(noFiles);
      }
      const json = await uplink(JSON.stringify({ pod_name: p }), { headers: { 'Content-Type': 'application/json' } });
      expect(json.status).toBe(400);
      expect(await json.json()).toEqual(noFiles);
      const empty = await sim.fetch('/em/files/uplink', { method: 'POST' });
      expect(empty.status).toBe(400);
      expect(await empty.json()).toEqual(noFiles);
      expect(existsSync(sim.volumeDir('client1', p))).toBe(false);
    });

    it('refuses a file name that cannot be a file, and keeps none of the request', async () => {
      const p = pod();
      const body = new FormData();
      body.append('pod_name', p);
      body.append('files', new Blob(['fine']), 'fine.txt');
      body.append('files', new Blob(['bad']), '..');
      const res = await uplink(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(error('INVALID_PATH', 'file name ".." is not a usable file name'));
      expect(existsSync(path.join(sim.volumeDir('client1', p), 'fine.txt'))).toBe(false);
      expect(tree(path.join(sim.dataDir, 'tmp'))).toEqual([]);
    });

    it('refuses a file that would replace a folder, and keeps none of the request', async () => {
      const p = pod();
      await uplink(form({ 'inner.txt': 'i' }, { pod_name: p, dest_path: 'taken' }));
      const res = await uplink(form({ 'first.txt': 'f', taken: 't' }, { pod_name: p }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(error('INVALID_PATH', '"taken" is a folder in this volume; a file cannot replace it'));
      expect(tree(sim.volumeDir('client1', p))).toEqual(['taken/', 'taken/inner.txt']);
      expect(tree(path.join(sim.dataDir, 'tmp'))).toEqual([]);
    });

    it('refuses dest_path through an existing file', async () => {
      const p = pod();
      await uplink(form({ plain: 'x' }, { pod_name: p }));
      const res = await uplink(form({ 'y.txt': 'y' }, { pod_name: p, dest_path: 'plain/sub' }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(error('INVALID_PATH', '"plain/sub": "plain" is a file, not a folder'));
    });
  });

  describe('list', () => {
    it('returns the volume as a tree with the spec\'s field names and types', async () => {
      const p = pod();
      await uplink(form({ 'downlink.txt': 'd'.repeat(167) }, { pod_name: p }));
      await uplink(form({ Dockerfile: 'f'.repeat(121), 'echo-test.sh': 'e'.repeat(362) }, { pod_name: p, dest_path: 'echo-test' }));
      await uplink(form({ 'deep.txt': 'z'.repeat(4) }, { pod_name: p, dest_path: 'echo-test/inner' }));
      const dir = sim.volumeDir('client1', p);
      for (const rel of ['downlink.txt', 'echo-test/Dockerfile', 'echo-test/echo-test.sh', 'echo-test/inner/deep.txt', 'echo-test/inner', 'echo-test']) {
        utimesSync(path.join(dir, rel), WHEN, WHEN);
      }

      const res = await sim.fetch(`/em/files/list?pod_name=${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await res.json();
      const file = (name: string, content: string) => ({
        type: 'file',
        name,
        size: String(content.length),
        time: WHEN_TEXT,
        hash: Number(expectedHash(content)),
      });
      expect(body).toEqual({
        message: 'Successfully listed files',
        data: [
          file('downlink.txt', 'd'.repeat(167)),
          {
            type: 'directory',
            name: 'echo-test',
            // A folder's size is everything inside it, nested folders included: 121 + 362 + 4.
            size: '487',
            time: WHEN_TEXT,
            contents: [
              file('Dockerfile', 'f'.repeat(121)),
              file('echo-test.sh', 'e'.repeat(362)),
              { type: 'directory', name: 'inner', size: '4', time: WHEN_TEXT, contents: [file('deep.txt', 'zzzz')] },
            ],
          },
        ],
      });
    });

    it('writes a hash above 2^53 with every digit, as a number', async () => {
      // Find content whose hash a double cannot hold exactly; nearly every content qualifies.
      let content = '';
      let hash = 0n;
      for (let i = 0; i < 1000; i++) {
        content = `big-hash-${i}`;
        hash = expectedHash(content);
        if (hash < 0n && BigInt(Number(hash)) !== hash) break;
      }
      expect(BigInt(Number(hash))).not.toBe(hash);
      expect(hash < -(2n ** 53n)).toBe(true);
      let positive = '';
      for (let i = 0; i < 1000; i++) {
        positive = `big-positive-${i}`;
        if (expectedHash(positive) > 2n ** 53n && BigInt(Number(expectedHash(positive))) !== expectedHash(positive)) break;
      }

      const p = pod();
      await uplink(form({ 'big.bin': content, 'pos.bin': positive }, { pod_name: p }));
      const raw = await (await sim.fetch(`/em/files/list?pod_name=${p}`)).text();
      expect(raw).toMatch(new RegExp(`"name":"big\\.bin","size":"${content.length}","time":"\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}","hash":${hash}}`));
      expect(raw).toContain(`"hash":${expectedHash(positive)}}`);
    });

    it('hashes an unchanged file once, keeps the hash in SQLite across a restart, and hashes again once it changes', async () => {
      const dataDir = tempDir();
      const hashOf = async (s: TestSim) => {
        const raw = await (await s.fetch('/em/files/list')).text();
        return raw.match(/"name":"cached\.txt"[^}]*"hash":(-?\d+)/)?.[1];
      };
      {
        await using first = await startSim({ dataDir });
        const up = await first.fetch('/em/files/uplink', { method: 'POST', body: form({ 'cached.txt': 'original' }) });
        expect(up.status).toBe(200);
        // A file changed within the last second is read on every listing (its times could still
        // miss a change): only then is its hash kept.
        await new Promise((r) => setTimeout(r, 1100));
        expect(await hashOf(first)).toBe(String(expectedHash('original')));
      }
      // Plant a wrong hash in the stopped simulator's cache: a listing that re-read the file
      // would not report it.
      const db = new Database(path.join(dataDir, 'em-sim.db'));
      const planted = db.prepare('UPDATE file_hashes SET hash = ? WHERE volume = ? AND rel_path = ?').run('42', 'client1/default', 'cached.txt');
      db.close();
      expect(planted.changes).toBe(1);
      try {
        await using second = await startSim({ dataDir });
        expect(await hashOf(second)).toBe('42');
        expect(await hashOf(second)).toBe('42');
        // Same size, new content and mtime: the cache entry no longer matches and the file is read.
        const file = path.join(second.volumeDir('client1'), 'cached.txt');
        writeFileSync(file, 'ORIGINAL');
        utimesSync(file, WHEN, WHEN);
        expect(await hashOf(second)).toBe(String(expectedHash('ORIGINAL')));
        expect(await hashOf(second)).toBe(String(expectedHash('ORIGINAL')));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('lists an unknown pod volume as empty, and a new volume as empty', async () => {
      expect(await list(pod())).toEqual({ message: 'Successfully listed files', data: [] });
    });

    it('answers POST with the parameters in a JSON, url-encoded or multipart body, or the query string', async () => {
      const p = pod();
      await uplink(form({ 'seen.txt': 's' }, { pod_name: p }));
      const multipart = new FormData();
      multipart.append('pod_name', p);
      const requests: RequestInit[] = [
        { method: 'POST', body: JSON.stringify({ pod_name: p }), headers: { 'Content-Type': 'application/json' } },
        { method: 'POST', body: new URLSearchParams({ pod_name: p }) },
        { method: 'POST', body: multipart },
      ];
      for (const init of requests) {
        const res = await sim.fetch('/em/files/list', init);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { data: { name: string }[] }).data.map((n) => n.name)).toEqual(['seen.txt']);
      }
      const query = await sim.fetch(`/em/files/list?pod_name=${p}`, { method: 'POST' });
      expect(((await query.json()) as { data: { name: string }[] }).data.map((n) => n.name)).toEqual(['seen.txt']);
    });

    it('reads a GET body too, as Python requests sends one with data=', async () => {
      const p = pod();
      await uplink(form({ 'body.txt': 'b' }, { pod_name: p }));
      const res = await rawRequest(sim.url, {
        path: '/em/files/list',
        headers: { Authorization: `Bearer ${await sim.token()}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `pod_name=${p}`,
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).data.map((n: { name: string }) => n.name)).toEqual(['body.txt']);
    });

    it('refuses a GET body over 1 MiB with the error body, and serves the connection\'s next request', async () => {
      const auth = { Authorization: `Bearer ${await sim.token()}`, 'Content-Type': 'application/x-www-form-urlencoded' };
      const res = await rawRequest(sim.url, { path: '/em/files/list', headers: auth, body: `pod_name=x&pad=${'a'.repeat(1 << 20)}` });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual(error('INVALID_PARAMETER', 'Request body is larger than 1048576 bytes; only /em/files/uplink takes large bodies'));
      expect((await sim.fetch('/em/files/list')).status).toBe(200);
    });

    it('treats pod_name "" and null as the default volume', async () => {
      const name = `${uniqueName('d')}.txt`;
      await uplink(form({ [name]: 'default' }));
      for (const init of [
        { method: 'GET' },
        { method: 'POST', body: JSON.stringify({ pod_name: null }), headers: { 'Content-Type': 'application/json' } },
        { method: 'POST', body: JSON.stringify({ pod_name: '' }), headers: { 'Content-Type': 'application/json' } },
      ]) {
        const res = await sim.fetch(`/em/files/list${init.method === 'GET' ? '?pod_name=' : ''}`, init);
        expect(res.status).toBe(200);
        expect(JSON.stringify(await res.json())).toContain(`"name":"${name}"`);
      }
    });

    it('routes //em/files/list like /em/files/list', async () => {
      const res = await rawRequest(sim.url, { path: '//em/files/list', headers: { Authorization: `Bearer ${await sim.token()}` } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).message).toBe('Successfully listed files');
    });

    it('routes a path with dot segments and doubled slashes as new URL() resolves it', async () => {
      const auth = { Authorization: `Bearer ${await sim.token()}` };
      for (const path of ['/em/./files//list', '/em/pod/../files/list', '/em/files/list']) {
        const res = await rawRequest(sim.url, { path, headers: auth });
        expect(res.status, path).toBe(200);
        expect(JSON.parse(res.text).message).toBe('Successfully listed files');
      }
    });

    it('takes the parameters of a GET body even after the same query string came without one', async () => {
      // The query's parameters are validated once and kept; a body must not be answered from them.
      const p = pod();
      await uplink(form({ 'only-in-pod.txt': 'x' }, { pod_name: p }));
      const auth = { Authorization: `Bearer ${await sim.token()}` };
      const plain = await rawRequest(sim.url, { path: '/em/files/list?x=1', headers: auth });
      expect(plain.text).not.toContain('only-in-pod.txt');
      const withBody = await rawRequest(sim.url, {
        path: '/em/files/list?x=1',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ pod_name: p }),
      });
      expect(withBody.status).toBe(200);
      expect(withBody.text).toContain('only-in-pod.txt');
    });

    it('refuses a pod name that is not a DNS label, saying why', async () => {
      const res = await sim.fetch(`/em/files/list?pod_name=${encodeURIComponent('Hey no whitespaces')}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(
        error(
          'INVALID_POD_NAME',
          'Invalid pod_name "Hey no whitespaces": it contains uppercase letters and whitespace. A pod name must be a DNS label (lowercase letters, digits and "-", at most 63 characters), e.g. "experiment-radiation".',
        ),
      );
      for (const bad of ['-lead', 'trail-', 'under_score', 'dot.ted', 'a'.repeat(64), '../client1']) {
        const r = await sim.fetch(`/em/files/list?pod_name=${encodeURIComponent(bad)}`);
        expect(r.status, bad).toBe(400);
        expect(((await r.json()) as { error: string }).error).toBe('INVALID_POD_NAME');
      }
      const pvc = await sim.fetch('/em/files/list?pvc_name=Bad');
      expect(await pvc.json()).toMatchObject({ error: 'INVALID_POD_NAME', message: expect.stringContaining('Invalid pvc_name "Bad"') });
      expect((await sim.fetch(`/em/files/list?pod_name=${'a'.repeat(63)}`)).status).toBe(200);
    });

    it('refuses a bad pod name on uplink, downlink and delete too, and stores nothing', async () => {
      const before = tree(path.join(sim.dataDir, 'volumes'));
      const requests = [
        () => uplink(form({ 'x.txt': 'x' }, { pod_name: 'Hey no whitespaces' })),
        () => downlink(`filepath=x.txt&pod_name=${encodeURIComponent('Hey no whitespaces')}`),
        () => del({ filepath: 'x.txt', pod_name: 'Hey no whitespaces' }),
      ];
      for (const send of requests) {
        const res = await send();
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'INVALID_POD_NAME', message: expect.stringMatching(/^Invalid pod_name "Hey no whitespaces": /) });
      }
      expect(tree(path.join(sim.dataDir, 'volumes'))).toEqual(before);
      expect(tree(path.join(sim.dataDir, 'tmp'))).toEqual([]);
    });

    it('does not list links, sockets or FIFOs, only files and folders', async () => {
      const p = pod();
      await uplink(form({ 'real.txt': 'r' }, { pod_name: p, dest_path: 'sub' }));
      const dir = sim.volumeDir('client1', p);
      symlinkSync('sub/real.txt', path.join(dir, 'link.txt'));
      symlinkSync('sub', path.join(dir, 'linkdir'));
      expect(await names(p)).toEqual(['sub']);
    });
  });

  describe('downlink', () => {
    it('streams the bytes with Content-Disposition', async () => {
      const p = pod();
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
      await uplink(form({ 'data.bin': bytes }, { pod_name: p, dest_path: 'out' }));
      const res = await downlink(`filepath=out/data.bin&pod_name=${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="data.bin"');
      expect(res.headers.get('content-length')).toBe('300000');
      expect(sha256(await res.arrayBuffer())).toBe(sha256(bytes));
      // The provider's examples give paths with a leading "/": the volume root.
      const slash = await downlink(`filepath=/out/data.bin&pod_name=${p}`);
      expect(slash.status).toBe(200);
      expect(sha256(await slash.arrayBuffer())).toBe(sha256(bytes));
    });

    it('downlinks an empty file', async () => {
      const p = pod();
      await uplink(form({ 'empty.txt': '' }, { pod_name: p }));
      const res = await downlink(`filepath=empty.txt&pod_name=${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe('0');
      expect(await res.text()).toBe('');
    });

    it('is over once the client has the bytes: the next request of the user is never refused as concurrent', async () => {
      const p = pod();
      await uplink(form({ 'small.txt': 'small', 'big.bin': new Uint8Array(200_000) }, { pod_name: p }));
      for (let i = 0; i < 100; i++) {
        const res = await downlink(`filepath=${i % 2 ? 'small.txt' : 'big.bin'}&pod_name=${p}`);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        const next = await sim.fetch(`/em/files/list?pod_name=${p}`);
        expect(next.status, await next.text()).toBe(200);
      }
    });

    it('names a non-ASCII file in both filename and filename*', async () => {
      const p = pod();
      await uplink(form({ 'other.txt': 'o' }, { pod_name: p }));
      // Browsers and undici escape '"' in multipart file names; a pod can name a file anything.
      writeFileSync(path.join(sim.volumeDir('client1', p), 'résumé "v1".txt'), 'r');
      const res = await downlink(`filepath=${encodeURIComponent('résumé "v1".txt')}&pod_name=${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="r_sum_ _v1_.txt"; filename*=UTF-8''${encodeURIComponent('résumé "v1".txt')}`,
      );
    });

    it('names the file asked for, when a link inside the volume leads to another', async () => {
      const p = pod();
      await uplink(form({ 'target.txt': 'behind the link' }, { pod_name: p }));
      symlinkSync('target.txt', path.join(sim.volumeDir('client1', p), 'alias.txt'));
      const res = await downlink(`filepath=alias.txt&pod_name=${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="alias.txt"');
      expect(await res.text()).toBe('behind the link');
    });

    it('answers 400 for a missing filepath, and for an empty one', async () => {
      for (const query of ['', 'filepath=', 'filepath=&pod_name=']) {
        const res = await downlink(query);
        expect(res.status, query).toBe(400);
        expect(await res.json()).toEqual(error('MISSING_PARAMETER', 'Parameter "filepath" is required'));
      }
    });

    it('answers 400 for a malformed path and for a folder', async () => {
      const p = pod();
      await uplink(form({ 'f.txt': 'f' }, { pod_name: p, dest_path: 'folder' }));
      const back = await downlink(`filepath=${encodeURIComponent('folder\\f.txt')}&pod_name=${p}`);
      expect(back.status).toBe(400);
      expect(await back.json()).toEqual(error('INVALID_PATH', 'filepath contains a backslash; separate folders with "/"'));
      const folder = await downlink(`filepath=folder&pod_name=${p}`);
      expect(folder.status).toBe(400);
      expect(await folder.json()).toEqual(error('NOT_A_FILE', '"folder" is a folder; give the path of a file'));
      const root = await downlink(`filepath=/&pod_name=${p}`);
      expect(root.status).toBe(400);
      expect(await root.json()).toEqual(error('NOT_A_FILE', '"/" is the volume root, not a file'));
    });

    it('answers 403 for a path out of the volume', async () => {
      const res = await downlink('filepath=../secret.key');
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual(
        error('ILLEGAL_PATH', 'filepath "../secret.key" points outside your volume; paths are relative to the volume root'),
      );
    });

    it('answers 404 for a missing file, in an existing and in a never-used volume', async () => {
      const p = pod();
      await uplink(form({ 'here.txt': 'h' }, { pod_name: p }));
      for (const query of [`filepath=gone.txt&pod_name=${p}`, `filepath=no/such/dir/gone.txt&pod_name=${p}`, `filepath=gone.txt&pod_name=${pod()}`]) {
        const res = await downlink(query);
        expect(res.status, query).toBe(404);
        expect(await res.json()).toMatchObject({ error: 'FILE_NOT_FOUND', message: expect.stringMatching(/" does not exist in this volume$/) });
      }
      const res = await downlink(`filepath=gone.txt&pod_name=${p}`);
      expect(await res.json()).toEqual(error('FILE_NOT_FOUND', '"gone.txt" does not exist in this volume'));
    });

    it('reads filepath from the query string, and from a JSON, url-encoded or multipart GET body', async () => {
      const p = pod();
      await uplink(form({ 'via.txt': 'via body' }, { pod_name: p }));
      const auth = { Authorization: `Bearer ${await sim.token()}` };
      const multipart = new FormData();
      multipart.append('filepath', 'via.txt');
      multipart.append('pod_name', p);
      const mp = await multipartBytes(multipart);
      const bodies: { type: string; body: string | Buffer }[] = [
        { type: 'application/json', body: JSON.stringify({ filepath: 'via.txt', pod_name: p }) },
        { type: 'application/x-www-form-urlencoded', body: `filepath=via.txt&pod_name=${p}` },
        { type: mp.contentType, body: mp.bytes },
      ];
      for (const { type, body } of bodies) {
        const res = await rawRequest(sim.url, { path: '/em/files/downlink', headers: { ...auth, 'Content-Type': type }, body });
        expect(res.status, type).toBe(200);
        expect(res.text).toBe('via body');
      }
      const query = await downlink(`filepath=via.txt&pod_name=${p}`);
      expect(await query.text()).toBe('via body');
    });
  });

  describe('delete', () => {
    it('deletes a file', async () => {
      const p = pod();
      await uplink(form({ 'keep.txt': 'k', 'drop.txt': 'd' }, { pod_name: p }));
      const res = await del({ filepath: 'drop.txt', pod_name: p });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'File deleted successfully' });
      expect(await names(p)).toEqual(['keep.txt']);
      expect(tree(sim.volumeDir('client1', p))).toEqual(['keep.txt']);
    });

    it('deletes a whole folder with everything in it', async () => {
      const p = pod();
      await uplink(form({ 'a.txt': 'a' }, { pod_name: p, dest_path: 'top/mid/low' }));
      await uplink(form({ 'b.txt': 'b' }, { pod_name: p, dest_path: 'top' }));
      await uplink(form({ 'c.txt': 'c' }, { pod_name: p }));
      const res = await del({ filepath: 'top', pod_name: p });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'File deleted successfully' });
      expect(tree(sim.volumeDir('client1', p))).toEqual(['c.txt']);
      expect(tree(path.join(sim.dataDir, 'trash'))).toEqual([]);
    });

    it('answers 400 DELETE_FAILED when there is nothing to delete', async () => {
      const p = pod();
      await uplink(form({ 'only.txt': 'o' }, { pod_name: p }));
      for (const filepath of ['missing.txt', 'no/such/file', 'only.txt/below']) {
        const res = await del({ filepath, pod_name: p });
        expect(res.status, filepath).toBe(400);
        expect(await res.json()).toEqual(error('DELETE_FAILED', `Nothing to delete: "${filepath}" does not exist in this volume`));
      }
      const unknown = await del({ filepath: 'x', pod_name: pod() });
      expect(await unknown.json()).toEqual(error('DELETE_FAILED', 'Nothing to delete: "x" does not exist in this volume'));
      const root = await del({ filepath: '/', pod_name: p });
      expect(root.status).toBe(400);
      expect(await root.json()).toEqual(error('DELETE_FAILED', 'filepath "/" is the volume root; name a file or folder inside it'));
      expect(tree(sim.volumeDir('client1', p))).toEqual(['only.txt']);
    });

    it('answers 400 for a missing or empty filepath', async () => {
      for (const params of [{}, { filepath: '' }, { filepath: '', pod_name: '' }] as Record<string, string>[]) {
        const res = await del(params);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual(error('MISSING_PARAMETER', 'Parameter "filepath" is required'));
      }
    });

    it('takes its parameters from JSON, url-encoded and multipart bodies and from the query string', async () => {
      const p = pod();
      await uplink(form({ 'j.txt': '1', 'u.txt': '2', 'm.txt': '3', 'q.txt': '4', 'keep.txt': '5' }, { pod_name: p }));
      const multipart = new FormData();
      multipart.append('filepath', 'm.txt');
      multipart.append('pod_name', p);
      const requests: [string, RequestInit][] = [
        ['/em/files/delete', { method: 'POST', body: JSON.stringify({ filepath: 'j.txt', pod_name: p }), headers: { 'Content-Type': 'application/json' } }],
        ['/em/files/delete', { method: 'POST', body: new URLSearchParams({ filepath: 'u.txt', pod_name: p }) }],
        ['/em/files/delete', { method: 'POST', body: multipart }],
        [`/em/files/delete?filepath=q.txt&pod_name=${p}`, { method: 'POST' }],
      ];
      for (const [url, init] of requests) {
        const res = await sim.fetch(url, init);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ message: 'File deleted successfully' });
      }
      expect(tree(sim.volumeDir('client1', p))).toEqual(['keep.txt']);
    });

    it('deletes from the default volume when pod_name is ""', async () => {
      const name = `${uniqueName('x')}.txt`;
      await uplink(form({ [name]: 'x' }));
      const res = await del({ filepath: name, pod_name: '' });
      expect(res.status).toBe(200);
      expect(existsSync(path.join(sim.volumeDir('client1'), name))).toBe(false);
    });

    it('refuses a path out of the volume and a malformed one', async () => {
      const out = await del({ filepath: '../default' });
      expect(out.status).toBe(403);
      expect(await out.json()).toEqual(error('ILLEGAL_PATH', 'filepath "../default" points outside your volume; paths are relative to the volume root'));
      const bad = await del({ filepath: 'a\u0001b' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual(error('INVALID_PATH', 'filepath contains a control character'));
    });
  });

  it('answers 404 with the error body for an unknown endpoint', async () => {
    const res = await sim.fetch('/em/files/nothing');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(error('NOT_FOUND', 'No endpoint GET /em/files/nothing; the README lists every endpoint'));
  });

  it('keeps the staging area empty after successful and failed uplinks', async () => {
    const p = pod();
    await uplink(form({ 'ok.txt': 'ok' }, { pod_name: p }));
    await uplink(form({ 'bad.txt': 'bad' }, { pod_name: p, dest_path: '../x' }));
    expect(tree(path.join(sim.dataDir, 'tmp'))).toEqual([]);
  });
});
