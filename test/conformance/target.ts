import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError, type ObjectInfo, type Target, type TargetCapabilities } from '../../targets/types.js';

/**
 * The one suite every Target passes (like rclone's fstests). A target's own test file is a few lines:
 *
 *   runTargetSuite('fs', async () => { ...; return { target, cleanup } });
 *
 * The fixture declares the capabilities the target must report (after `init()` where the target has
 * one); the suite checks the declaration is honest and runs the capability-specific checks for what
 * is declared — so no check is skipped, the set of checks follows the declaration.
 */
export interface TargetFixture {
  target: Target;
  cleanup(): Promise<void>;
}

export interface TargetSuiteOptions {
  /** What the target must report. Default: both false. */
  expect?: Partial<TargetCapabilities>;
  /** Strings (credentials) that must never appear in a location or an error message. */
  secrets?: string[];
  /**
   * Keys written for the pagination check (default 1013, beyond S3's 1000-key page). A fixture whose
   * target pages smaller (e.g. S3 listPageSize) may use fewer, as long as it still spans pages.
   */
  manyKeys?: number;
}

const MiB = 1024 * 1024;

/** A deterministic pseudo-random stream of `size` bytes, in chunks cycling through `chunkSizes`. */
export function generatedStream(size: number, seed: number, chunkSizes: number[] = [1, 1000, 65_536, MiB + 1, 7]): Readable {
  let produced = 0;
  let i = 0;
  let state = seed >>> 0 || 1;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkSizes[i++ % chunkSizes.length] ?? 1, size - produced);
      const buf = Buffer.allocUnsafe(n);
      for (let j = 0; j < n; j++) {
        // xorshift32: cheap and reproducible
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        buf[j] = state & 0xff;
      }
      produced += n;
      this.push(buf);
    },
  });
}

/** sha256 and length of a generated stream without storing it. */
export async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** A stream that yields `okBytes` bytes and then fails with `error`. */
export function failingStream(okBytes: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= okBytes) {
        this.destroy(error);
        return;
      }
      const n = Math.min(256 * 1024, okBytes - sent);
      sent += n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function expectTargetError(p: Promise<unknown>, code: TargetError['code'], mentions?: string): Promise<TargetError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected TargetError(${code})`).toBeInstanceOf(TargetError);
  const te = caught as TargetError;
  expect(te.code, te.message).toBe(code);
  if (mentions !== undefined) expect(te.message).toContain(mentions);
  return te;
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

async function probe(target: Target): Promise<TargetCapabilities> {
  const maybe = target as Target & { init?: () => Promise<TargetCapabilities> };
  if (typeof maybe.init === 'function') return maybe.init();
  return target.capabilities;
}

export function runTargetSuite(name: string, make: () => Promise<TargetFixture>, opts: TargetSuiteOptions = {}): void {
  const expected: TargetCapabilities = { conditionalCreate: opts.expect?.conditionalCreate ?? false, objectLock: opts.expect?.objectLock ?? false };
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);

  describe(`Target conformance: ${name}`, () => {
    let fx: TargetFixture;
    let t: Target;
    let n = 0;
    /** A fresh key prefix per test, so tests do not see each other's objects. */
    const space = (): string => `t${++n}-${randomBytes(3).toString('hex')}/`;
    const noSecrets = (text: string): void => {
      for (const s of secrets) expect(text).not.toContain(s);
    };

    beforeAll(async () => {
      fx = await make();
      t = fx.target;
    });
    afterAll(async () => {
      await t?.close();
      await fx?.cleanup();
    });

    it('declares kind, location and honest capabilities', async () => {
      expect(typeof t.kind).toBe('string');
      expect(t.kind.length).toBeGreaterThan(0);
      expect(t.location.length).toBeGreaterThan(0);
      noSecrets(t.location);
      expect(await probe(t)).toEqual(expected);
      expect(t.capabilities).toEqual(expected);
    });

    it('round-trips an empty object, from a Buffer and from a stream', async () => {
      const p = space();
      await t.put(`${p}empty-buf`, Buffer.alloc(0));
      await t.put(`${p}empty-stream`, Readable.from([]));
      for (const k of ['empty-buf', 'empty-stream']) {
        expect((await readAll(await t.get(p + k))).length).toBe(0);
        expect((await t.stat(p + k))?.size).toBe(0);
      }
    });

    it('round-trips small binary objects byte for byte', async () => {
      const p = space();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await t.put(`${p}bytes`, all);
      await t.put(`${p}chunks`, Readable.from([Buffer.from('he'), Buffer.from('llo '), Buffer.from('wörld')]));
      expect((await readAll(await t.get(`${p}bytes`))).equals(all)).toBe(true);
      expect((await readAll(await t.get(`${p}chunks`))).toString('utf8')).toBe('hello wörld');
    });

    it('streams a multi-MB object of uneven chunk sizes through put and get', async () => {
      const p = space();
      const size = 12 * MiB + 7;
      const want = await digestOf(generatedStream(size, 42));
      await t.put(`${p}big`, generatedStream(size, 42));
      expect(await digestOf(await t.get(`${p}big`))).toEqual(want);
      expect((await t.stat(`${p}big`))?.size).toBe(size);
      // a large Buffer body too
      const buf = randomBytes(6 * MiB + 3);
      await t.put(`${p}big-buf`, buf);
      expect((await readAll(await t.get(`${p}big-buf`))).equals(buf)).toBe(true);
    });

    it('overwrites an object without ifAbsent', async () => {
      const p = space();
      await t.put(`${p}k`, Buffer.from('one'));
      await t.put(`${p}k`, Buffer.from('second'));
      expect((await readAll(await t.get(`${p}k`))).toString()).toBe('second');
      expect((await t.stat(`${p}k`))?.size).toBe(6);
    });

    it('stat gives size and time, or null when absent', async () => {
      const p = space();
      const before = Date.now();
      await t.put(`${p}k`, Buffer.from('12345'));
      const info = await t.stat(`${p}k`);
      expect(info?.key).toBe(`${p}k`);
      expect(info?.size).toBe(5);
      expect(info?.modified).toBeInstanceOf(Date);
      // servers may keep whole seconds only
      expect(Math.abs((info?.modified.getTime() ?? 0) - before)).toBeLessThan(10 * 60 * 1000);
      expect(await t.stat(`${p}absent`)).toBeNull();
      expect(await t.stat(`${p}absent/deeper/still`)).toBeNull();
    });

    it('get of an absent key fails with NotFound naming the key', async () => {
      const p = space();
      const err = await expectTargetError(t.get(`${p}nope`), 'NotFound', `${p}nope`);
      noSecrets(err.message);
    });

    it('lists by prefix in lexicographic key order, with sizes', async () => {
      const p = space();
      const names = ['a-c', 'a.B', 'a.x', 'a/b', 'a/bc', 'a0', 'B', 'b/c/d', 'b/c=d', 'b/c/e', 'z=1'];
      await pool(names, 4, (k) => t.put(p + k, Buffer.from(k)));
      const sorted = [...names].sort();
      const listed = await collect(t.list(p));
      expect(listed.map((o) => o.key)).toEqual(sorted.map((k) => p + k));
      for (const o of listed) expect(o.size).toBe(o.key.length - p.length);
      expect((await collect(t.list(`${p}a`))).map((o) => o.key.slice(p.length))).toEqual(['a-c', 'a.B', 'a.x', 'a/b', 'a/bc', 'a0']);
      expect((await collect(t.list(`${p}a/`))).map((o) => o.key.slice(p.length))).toEqual(['a/b', 'a/bc']);
      expect((await collect(t.list(`${p}b/c`))).map((o) => o.key.slice(p.length))).toEqual(['b/c/d', 'b/c/e', 'b/c=d']);
      expect(await collect(t.list(`${p}nothing-here`))).toEqual([]);
      expect(await collect(t.list(`${p}q/`))).toEqual([]);
      // the whole-target listing contains this test's keys in order too
      const everything = (await collect(t.list(''))).map((o) => o.key);
      expect(everything.filter((k) => k.startsWith(p))).toEqual(sorted.map((k) => p + k));
      expect([...everything].sort()).toEqual(everything);
    });

    const manyKeys = opts.manyKeys ?? 1013;
    it(`lists ${manyKeys} keys completely and in order (pagination)`, async () => {
      const p = space();
      const keys = Array.from({ length: manyKeys }, (_, i) => `${p}k/${String(i).padStart(5, '0')}${i % 3 === 0 ? '/x' : ''}`);
      await pool(keys, 16, (k) => t.put(k, Buffer.alloc(0)));
      const listed = (await collect(t.list(p))).map((o) => o.key);
      expect(listed.length).toBe(keys.length);
      expect(listed).toEqual([...keys].sort());
    });

    it('deletes objects; deleting an absent key is not an error', async () => {
      const p = space();
      await t.put(`${p}a`, Buffer.from('x'));
      await t.put(`${p}b`, Buffer.from('y'));
      await t.delete(`${p}a`);
      expect(await t.stat(`${p}a`)).toBeNull();
      await expectTargetError(t.get(`${p}a`), 'NotFound');
      expect((await collect(t.list(p))).map((o) => o.key)).toEqual([`${p}b`]);
      await t.delete(`${p}a`);
      await t.delete(`${p}never/was`);
      expect((await readAll(await t.get(`${p}b`))).toString()).toBe('y');
    });

    it('handles keys with many segments', async () => {
      const p = space();
      const key = `${p}${Array.from({ length: 40 }, (_, i) => `s${i}`).join('/')}/leaf.json`;
      await t.put(key, Buffer.from('{"deep":true}'));
      expect((await readAll(await t.get(key))).toString()).toBe('{"deep":true}');
      expect((await collect(t.list(`${p}s0/s1/`))).map((o) => o.key)).toEqual([key]);
      await t.delete(key);
      expect(await t.stat(key)).toBeNull();
    });

    it('refuses invalid keys and prefixes with a clear error', async () => {
      for (const bad of ['', '/abs', 'a//b', '../x', 'a/../b', 'a/./b', 'sp ace', 'a/', 'new\nline', 'é']) {
        const err = await expectTargetError(t.put(bad, Buffer.from('x')), 'Io');
        expect(err.message).toContain(JSON.stringify(bad));
        await expectTargetError(t.get(bad), 'Io');
        await expectTargetError(t.stat(bad), 'Io');
        await expectTargetError(t.delete(bad), 'Io');
      }
      for (const bad of ['/x', 'a//', '../']) await expectTargetError(collect(t.list(bad)), 'Io', JSON.stringify(bad));
    });

    it('a put whose body fails midway leaves nothing visible and keeps the previous object', async () => {
      const p = space();
      const boom = new Error('source broke');
      // small (single request) and large (multipart) failures, on a new key
      for (const [k, bytes] of [['small', 3000], ['large', 11 * MiB]] as const) {
        const err = await t.put(`${p}${k}`, failingStream(bytes, boom)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `put of ${k} must fail`).toBe(boom);
        expect(await t.stat(`${p}${k}`)).toBeNull();
        await expectTargetError(t.get(`${p}${k}`), 'NotFound');
      }
      // and over an existing key
      await t.put(`${p}kept`, Buffer.from('original'));
      await expect(t.put(`${p}kept`, failingStream(6 * MiB, boom))).rejects.toBe(boom);
      expect((await readAll(await t.get(`${p}kept`))).toString()).toBe('original');
      expect((await collect(t.list(p))).map((o) => o.key)).toEqual([`${p}kept`]);
    });

    it('concurrent puts of one key end with exactly one complete object', async () => {
      const p = space();
      const seeds = [1, 2, 3, 4, 5, 6];
      const size = 2 * MiB + 11;
      const digests = new Set<string>();
      for (const s of seeds) digests.add((await digestOf(generatedStream(size, s))).sha256);
      await Promise.all(seeds.map((s) => t.put(`${p}same`, generatedStream(size, s))));
      const got = await digestOf(await t.get(`${p}same`));
      expect(got.size).toBe(size);
      expect(digests.has(got.sha256)).toBe(true);
      expect((await collect(t.list(p))).map((o) => o.key)).toEqual([`${p}same`]);
    });

    if (expected.conditionalCreate) {
      it('ifAbsent creates a new object and refuses an existing one (AlreadyExists), content unchanged', async () => {
        const p = space();
        await t.put(`${p}k`, Buffer.from('first'), { ifAbsent: true });
        await expectTargetError(t.put(`${p}k`, Buffer.from('second'), { ifAbsent: true }), 'AlreadyExists', `${p}k`);
        // a large (multipart) body too
        await expectTargetError(t.put(`${p}k`, generatedStream(11 * MiB, 9), { ifAbsent: true }), 'AlreadyExists');
        expect((await readAll(await t.get(`${p}k`))).toString()).toBe('first');
      });

      it('ifAbsent is atomic: of concurrent creators exactly one wins', async () => {
        const p = space();
        const contenders = Array.from({ length: 8 }, (_, i) => `writer-${i}`);
        const results = await Promise.allSettled(contenders.map((c) => t.put(`${p}lock`, Buffer.from(c), { ifAbsent: true })));
        const winners = contenders.filter((_, i) => results[i]?.status === 'fulfilled');
        expect(winners.length).toBe(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as TargetError).code).toBe('AlreadyExists');
        }
        expect((await readAll(await t.get(`${p}lock`))).toString()).toBe(winners[0]);
      });
    } else {
      it('does not claim conditional create; ifAbsent over an earlier object is still refused (best effort)', async () => {
        const p = space();
        expect(t.capabilities.conditionalCreate).toBe(false);
        await t.put(`${p}k`, Buffer.from('first'), { ifAbsent: true });
        await expectTargetError(t.put(`${p}k`, Buffer.from('second'), { ifAbsent: true }), 'AlreadyExists');
        expect((await readAll(await t.get(`${p}k`))).toString()).toBe('first');
      });
    }

    if (expected.objectLock) {
      it('retainUntil locks an object against delete (Locked)', async () => {
        const p = space();
        await t.put(`${p}locked`, Buffer.from('x'), { retainUntil: new Date(Date.now() + 24 * 3600 * 1000) });
        await expectTargetError(t.delete(`${p}locked`), 'Locked');
      });
    } else {
      it('retainUntil is refused with Unsupported and writes nothing', async () => {
        const p = space();
        const err = await expectTargetError(t.put(`${p}k`, Buffer.from('x'), { retainUntil: new Date(Date.now() + 3600_000) }), 'Unsupported', `${p}k`);
        noSecrets(err.message);
        expect(await t.stat(`${p}k`)).toBeNull();
      });
    }

    it('a get stream abandoned midway does not disturb later operations', async () => {
      const p = space();
      await t.put(`${p}big`, generatedStream(3 * MiB, 5));
      const s = await t.get(`${p}big`);
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.destroy();
      expect(await digestOf(await t.get(`${p}big`))).toEqual(await digestOf(generatedStream(3 * MiB, 5)));
    });
  });
}
