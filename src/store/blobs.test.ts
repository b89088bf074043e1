import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../../targets/types.js';
import { getBlob, putBlob } from './blobs.js';
import type { StoreContext } from './context.js';
import { ObjectCrypto } from './crypto.js';
import { MemoryTarget } from './memory-target.js';
import { readAll } from './objects.js';
import { plainNames } from './paths.js';

let spoolDir = '';
beforeAll(async () => {
  spoolDir = await mkdtemp(path.join(os.tmpdir(), 'norestore-blobs-test-'));
});
afterAll(async () => {
  await rm(spoolDir, { recursive: true, force: true });
});

function ctxFor(target: MemoryTarget, encrypted: boolean): StoreContext {
  return { target, location: target.location, crypto: encrypted ? new ObjectCrypto(randomBytes(32), { chunkLog2: 12 }) : null, names: plainNames, spoolDir, memoryLimit: 10_000, retainUntil: null };
}

function pieces(data: Buffer, size = 7_000): Readable {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
  return Readable.from(out);
}

function failingAfter(data: Buffer, n: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= n) {
        this.destroy(new Error('source connection reset'));
        return;
      }
      this.push(data.subarray(sent, sent + 5_000));
      sent += 5_000;
    },
  });
}

for (const move of [true, false]) {
  for (const encrypted of [false, true]) {
    describe(`large blobs via ${move ? 'staging + move' : 'local spool'}${encrypted ? ', encrypted' : ''}`, () => {
      it('round-trip, deduplicate, and leave no staging objects or spool files', async () => {
        const target = new MemoryTarget({ move });
        const ctx = ctxFor(target, encrypted);
        const data = randomBytes(123_457);
        const ref = await putBlob(ctx, pieces(data), 'application/zip');
        expect(ref).toEqual({ sha256: createHash('sha256').update(data).digest('hex'), size: data.length, mediaType: 'application/zip' });
        const again = await putBlob(ctx, pieces(data, 3_000));
        expect(again.sha256).toBe(ref.sha256);
        expect([...target.objects.keys()]).toEqual([`blobs/${ref.sha256.slice(0, 2)}/${ref.sha256}`]);
        const stored = target.objects.get(`blobs/${ref.sha256.slice(0, 2)}/${ref.sha256}`)!.bytes;
        expect(stored.length).toBe(encrypted ? ctx.crypto!.encryptedSize(data.length) : data.length);
        expect((await readAll(await getBlob(ctx, ref.sha256))).equals(data)).toBe(true);
        expect(await readdir(spoolDir)).toEqual([]);
      });

      it('a failing source stores nothing and reports the source error', async () => {
        const target = new MemoryTarget({ move });
        const ctx = ctxFor(target, encrypted);
        await expect(putBlob(ctx, failingAfter(randomBytes(100_000), 40_000))).rejects.toThrow(/source connection reset/);
        expect([...target.objects.keys()]).toEqual([]);
        expect(await readdir(spoolDir)).toEqual([]);
      });

      it('a failing put (disk full) stores nothing', async () => {
        const target = new MemoryTarget({ move, beforePut: () => Promise.reject(new TargetError('NoSpace', 'no space left on the device')) });
        const ctx = ctxFor(target, encrypted);
        await expect(putBlob(ctx, pieces(randomBytes(50_000)))).rejects.toThrow(/no space left/);
        expect([...target.objects.keys()]).toEqual([]);
        expect(await readdir(spoolDir)).toEqual([]);
      });
    });
  }
}
