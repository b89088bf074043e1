import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetError } from '../types.js';
import { createFsTarget } from './index.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fs target move', () => {
  it('renames an object into a new prefix, replacing nothing else, and NotFound when absent', async () => {
    dir = await mkdtemp(join(tmpdir(), 'norestore-fs-move-'));
    const t = createFsTarget({ path: dir });
    await t.put('tmp/abc', Buffer.from('payload'));
    await t.move!('tmp/abc', 'blobs/ab/abc');
    expect(await t.stat('tmp/abc')).toBeNull();
    const chunks: Buffer[] = [];
    for await (const c of await t.get('blobs/ab/abc')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('payload');
    await expect(t.move!('tmp/missing', 'blobs/ab/x')).rejects.toSatisfy((e: unknown) => e instanceof TargetError && e.code === 'NotFound');
  });
});
