import { execFileSync } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedStream } from '../../test/conformance/target.js';
import { TargetError, type Target } from '../types.js';
import { createFsTarget, defaultFsIo, type FsIo } from './index.js';

const MiB = 1024 * 1024;

/**
 * A full disk, for real where possible: a 2 MiB tmpfs (needs mount permission, e.g. root).
 * Where mounting is not permitted the same checks run against an injected ENOSPC, and the test's
 * title says so — never a silent skip.
 */
const root = await mkdtemp(path.join(os.tmpdir(), 'norestore-fs-full-'));
let mountProblem: string | null = null;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', root], { stdio: 'pipe' });
} catch (err) {
  mountProblem = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
}
const realDisk = mountProblem === null;

function sysError(code: string, syscall: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected, ${syscall}`) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** Writes fail with `code` once `limit` bytes have been written to one file. */
function failWritesAfter(limit: number, code = 'ENOSPC'): Partial<FsIo> {
  const written = new WeakMap<FileHandle, number>();
  return {
    async write(fh, bufs) {
      const size = bufs.reduce((n, b) => n + b.length, 0);
      const before = written.get(fh) ?? 0;
      if (before + size > limit) throw sysError(code, 'write');
      written.set(fh, before + size);
      await defaultFsIo.write(fh, bufs);
    },
  };
}

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const c of stream) out += (c as Buffer).toString();
  return out;
}

async function caught(p: Promise<unknown>): Promise<TargetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetError);
  return err as TargetError;
}

async function keys(t: Target): Promise<string[]> {
  const out: string[] = [];
  for await (const o of t.list('')) out.push(o.key);
  return out;
}

afterAll(async () => {
  if (realDisk) execFileSync('umount', [root]);
  await rm(root, { recursive: true, force: true });
});

describe('fs target: a full disk', () => {
  const where = realDisk ? 'on a real 2 MiB tmpfs' : `on an injected ENOSPC (mounting a tmpfs is not permitted here: ${mountProblem})`;

  it(`${where}: a put that does not fit fails with NoSpace, leaves nothing, and keeps what was committed`, async () => {
    const dir = path.join(root, 'repo');
    const target = createFsTarget({ path: dir, ...(realDisk ? {} : { io: failWritesAfter(2 * MiB) }) });
    await target.put('runs/committed.json', Buffer.from('{"run":1}'));

    const err = await caught(target.put('blobs/too-big', generatedStream(4 * MiB, 1)));
    expect(err.code).toBe('NoSpace');
    expect(err.message).toContain('"blobs/too-big"');
    expect(err.message).toContain(path.join(dir, 'blobs', 'too-big'));
    expect(err.message).toMatch(/free space/);
    expect(await target.stat('blobs/too-big')).toBeNull();
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);

    // overwriting a committed object with something too big keeps the committed one
    expect((await caught(target.put('runs/committed.json', generatedStream(4 * MiB, 2)))).code).toBe('NoSpace');
    expect(await text(await target.get('runs/committed.json'))).toBe('{"run":1}');
    expect(await keys(target)).toEqual(['runs/committed.json']);

    // the space of the failed temp files was given back: a small put still succeeds
    await target.put('runs/next.json', Buffer.from('{"run":2}'));
    expect(await keys(target)).toEqual(['runs/committed.json', 'runs/next.json']);
    await target.close();
  });
});

describe('fs target: injected filesystem errors map to clear TargetErrors', () => {
  it('ENOSPC at fsync and EDQUOT at write are NoSpace; nothing partial stays', async () => {
    const dir = path.join(root, 'inject-1');
    const atSync = createFsTarget({ path: dir, io: { sync: () => Promise.reject(sysError('ENOSPC', 'fsync')) } });
    expect((await caught(atSync.put('a', Buffer.from('x')))).code).toBe('NoSpace');
    const quota = createFsTarget({ path: dir, io: failWritesAfter(10, 'EDQUOT') });
    const err = await caught(quota.put('b', Buffer.from('more than ten bytes')));
    expect(err.code).toBe('NoSpace');
    expect(err.message).toMatch(/quota/);
    const plain = createFsTarget({ path: dir });
    expect(await keys(plain)).toEqual([]);
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);
  });

  it('EACCES/EPERM are AccessDenied naming the key, the path and what to do', async () => {
    const dir = path.join(root, 'inject-2');
    const ok = createFsTarget({ path: dir });
    await ok.put('present', Buffer.from('x'));
    const denied = createFsTarget({
      path: dir,
      io: {
        open: (p, flags, mode) => (p.includes('present') || p.includes('.tmp') ? Promise.reject(sysError(flags === 'r' ? 'EACCES' : 'EPERM', 'open')) : defaultFsIo.open(p, flags, mode)),
      },
    });
    const readErr = await caught(denied.get('present'));
    expect(readErr.code).toBe('AccessDenied');
    expect(readErr.message).toContain('"present"');
    expect(readErr.message).toContain(path.join(dir, 'present'));
    expect(readErr.message).toMatch(/read\/write access/);
    expect((await caught(denied.put('new', Buffer.from('y')))).code).toBe('AccessDenied');
    expect(await ok.stat('new')).toBeNull();
  });

  it('a rename that fails (EIO) removes the temp file and reports Io', async () => {
    const dir = path.join(root, 'inject-3');
    const t = createFsTarget({ path: dir, io: { rename: () => Promise.reject(sysError('EIO', 'rename')) } });
    const err = await caught(t.put('x/y', Buffer.from('z')));
    expect(err.code).toBe('Io');
    expect(err.message).toContain('"x/y"');
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);
    expect(await createFsTarget({ path: dir }).stat('x/y')).toBeNull();
  });
});
