import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetError, type Target } from '../types.js';
import { createFsTarget } from './index.js';

async function keys(t: Target, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of t.list(prefix)) out.push(o.key);
  return out;
}

describe('fs target: layout and reserved names', () => {
  let dir: string;
  let t: Target;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'norestore-fs-layout-'));
    t = createFsTarget({ path: dir });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores object a/b/c as the plain file <root>/a/b/c', async () => {
    await t.put('a/b/c.eml', Buffer.from('From: x\r\n\r\nhi'));
    expect(await readFile(path.join(dir, 'a', 'b', 'c.eml'), 'utf8')).toBe('From: x\r\n\r\nhi');
    expect(t.location).toBe(`fs:${dir}`);
  });

  it('never exposes in-flight temporary files, and reserves .tmp', async () => {
    const body = new PassThrough();
    const putting = t.put('slow', body);
    body.write(Buffer.alloc(1000, 1));
    // wait until the temp file exists
    for (;;) {
      const tmp = await readdir(path.join(dir, '.tmp')).catch(() => []);
      if (tmp.length > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    expect(await keys(t)).toEqual([]);
    expect(await keys(t, '.tmp/')).toEqual([]);
    expect(await t.stat('slow')).toBeNull();
    body.end(Buffer.alloc(10, 2));
    await putting;
    expect(await keys(t)).toEqual(['slow']);
    expect(await readdir(path.join(dir, '.tmp'))).toEqual([]);
    const err = await t.put('.tmp/x', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).message).toMatch(/reserved/);
  });

  it('a key that collides with a directory fails with a clear Io error', async () => {
    await t.put('a/b', Buffer.from('x'));
    const err = await t.put('a', Buffer.from('y')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe('Io');
    expect((err as TargetError).message).toMatch(/collides/);
    const err2 = await t.put('a/b/c', Buffer.from('z')).catch((e: unknown) => e);
    expect((err2 as TargetError).message).toMatch(/collides/);
    expect(await keys(t)).toEqual(['a/b']);
    expect(await t.stat('a')).toBeNull();
    await t.delete('a'); // a directory is no object: nothing to delete
    expect(await keys(t)).toEqual(['a/b']);
  });

  it('skips stray files whose names are not object keys', async () => {
    await writeFile(path.join(dir, 'has space.txt'), 'x');
    await t.put('ok', Buffer.from('1'));
    expect(await keys(t)).toEqual(['ok']);
  });
});
