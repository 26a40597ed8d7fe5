import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RootfsProducer } from '../../domain/ports/standin-recipes.ts';
import { findExecutable, missingTool, runProducer } from './producer.ts';

/**
 * A root filesystem of Debian's busybox-static with its applet links and a minimal /etc, as a tar
 * stream: the stand-in for alpine and busybox (environment.md: "a tiny busybox image").
 */
export async function busyboxRootfs(
  onStep: (message: string) => void,
  /** The busybox-static to copy in (another architecture's); default: the host's, whose applets are listed either way. */
  binary?: string,
  cleanupBinary: () => Promise<void> = async () => {},
): Promise<RootfsProducer> {
  const hostBusybox = findExecutable('busybox', ['/bin/busybox', '/usr/bin/busybox']);
  const busybox = binary ?? hostBusybox;
  if (!busybox) throw missingTool('busybox (static)', 'busybox-static');
  if (!(await isStaticElf(busybox))) {
    throw new Error(`${busybox} is dynamically linked and cannot run in an empty image: apt-get install busybox-static`);
  }
  const tarTool = findExecutable('tar');
  if (!tarTool) throw missingTool('tar', 'tar');
  // The binary lists its own applets (natively, or through binfmt's emulation); else the host's
  // busybox does: Debian builds every architecture with the same configuration.
  const applets = await listApplets(busybox).catch((err: Error) => {
    if (!hostBusybox || hostBusybox === busybox) throw err;
    return listApplets(hostBusybox);
  });
  onStep(`${busybox} with ${applets.length} applet links`);

  const root = await mkdtemp(path.join(tmpdir(), 'em-sim-busybox-'));
  const cleanup = async () => {
    await rm(root, { recursive: true, force: true });
    await cleanupBinary();
  };
  try {
    // Modes are set explicitly: the tree must not depend on the caller's umask.
    const dirs = new Set(['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'etc', 'home', 'var', 'dev', 'proc', 'sys']);
    for (const applet of applets) dirs.add(path.dirname(applet));
    for (const dir of dirs) await mkdir(path.join(root, dir), { recursive: true });
    for (const dir of [...dirs, 'usr', 'usr/local']) await chmod(path.join(root, dir), 0o755);
    for (const [dir, mode] of [
      ['.', 0o755],
      ['root', 0o700],
      ['tmp', 0o1777],
      ['var/tmp', 0o1777],
    ] as const) {
      await mkdir(path.join(root, dir), { recursive: true });
      await chmod(path.join(root, dir), mode);
    }
    const put = async (file: string, content: string | null, mode: number) => {
      const full = path.join(root, file);
      if (content === null) await copyFile(busybox, full);
      else await writeFile(full, content);
      await chmod(full, mode);
    };
    await put('bin/busybox', null, 0o755);
    for (const applet of applets) {
      if (applet === 'bin/busybox') continue;
      await symlink('/bin/busybox', path.join(root, applet)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    // hosts, hostname and resolv.conf are mounted by the engine.
    await put('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n', 0o644);
    await put('etc/group', 'root:x:0:\nnogroup:x:65534:\n', 0o644);
    await put('etc/os-release', 'NAME="BusyBox (em-sim stand-in)"\nID=busybox\nPRETTY_NAME="BusyBox stand-in built by em-sim"\n', 0o644);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return runProducer(tarTool, ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-c', '.'], () => {}, cleanup);
}

/** True when an ELF file asks for no dynamic loader, i.e. runs in an empty image. */
async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false; // 64-bit little-endian only
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    await handle.close();
  }
}

function listApplets(busybox: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(busybox, ['--list-full'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const applets = out.split('\n').map((l) => l.trim()).filter(Boolean);
      if (code !== 0 || applets.length === 0) return reject(new Error(`${busybox} --list-full gave no applets (exit ${code})`));
      resolve(applets);
    });
  });
}
