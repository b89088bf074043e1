import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseHeldError, LeaseLostError } from './errors.js';
import { bootId, type LeaseImpl } from './lease.js';
import { MemoryTarget } from './memory-target.js';
import { readAll } from './objects.js';
import { initRepository, openRepository } from './repository.js';
import type { Repository } from './types.js';

const open: Repository[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const r of open.splice(0)) await r.close();
});

async function twoRepos(conditionalCreate = true): Promise<{ target: MemoryTarget; a: Repository; b: Repository }> {
  const target = new MemoryTarget({ conditionalCreate });
  const a = await initRepository(target, { holder: 'worker-a' });
  const b = await openRepository(target, { holder: 'worker-b' });
  open.push(a, b);
  return { target, a, b };
}

async function lockKeys(target: MemoryTarget): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of target.list('locks/')) keys.push(o.key);
  return keys;
}

/** Write a lock object as another process would have left it. */
async function plantLock(target: MemoryTarget, fields: { host: string; pid: number; expiresAt: Date; bootId?: string }): Promise<string> {
  const key = `locks/github/acme=2Fapi/${'ab'.repeat(16)}`;
  const record = { formatVersion: 1, token: 'ab'.repeat(16), holder: 'crashed worker', bootId: fields.bootId ?? '', acquiredAt: new Date(0).toISOString(), ttlMs: 60_000, host: fields.host, pid: fields.pid, expiresAt: fields.expiresAt.toISOString() };
  await target.put(key, Buffer.from(JSON.stringify(record)));
  return key;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('leases', () => {
  it('two repositories on one target: the second is refused, naming the holder and expiry', async () => {
    const { a, b } = await twoRepos();
    const lease = await a.acquireLease('github', 'acme/api', { ttlMs: 30_000 });
    expect(lease.valid()).toBe(true);
    const err = await b.acquireLease('github', 'acme/api').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    const held = err as LeaseHeldError;
    expect(held.holder).toBe('worker-a');
    expect(held.pid).toBe(process.pid);
    expect(held.message).toMatch(/^scope "acme\/api" of source "github" is leased by worker-a \(host .+, pid \d+\) until \d{4}-\d\d-\d\dT/);
    // other scopes are independent
    const other = await b.acquireLease('github', 'acme/web');
    await other.release();
    await lease.release();
    expect(lease.valid()).toBe(false);
    const taken = await b.acquireLease('github', 'acme/api');
    expect(taken.valid()).toBe(true);
  });

  for (const conditionalCreate of [true, false]) {
    it(`concurrent contenders never both win (conditional create ${conditionalCreate})`, async () => {
      const { target, a, b } = await twoRepos(conditionalCreate);
      let wins = 0;
      for (let round = 0; round < 10; round++) {
        const results = await Promise.allSettled([a.acquireLease('s', 'c'), b.acquireLease('s', 'c')]);
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won.length).toBeLessThanOrEqual(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LeaseHeldError);
        wins += won.length;
        for (const r of won) await r.value.release();
        expect(await lockKeys(target)).toEqual([]);
      }
      expect(wins).toBeGreaterThan(0);
    });
  }

  it('recovers a lease whose holder died on this host', async () => {
    const { target, b } = await twoRepos();
    const stale = await plantLock(target, { host: os.hostname(), bootId: bootId(), pid: await deadPid(), expiresAt: new Date(Date.now() + 3_600_000) });
    const report = await b.check();
    expect(report.findings).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'stale-lock', key: stale }));
    expect(report.ok).toBe(true);
    const lease = await b.acquireLease('github', 'acme/api');
    expect(lease.valid()).toBe(true);
    expect(await lockKeys(target)).not.toContain(stale);
  });

  it('recovers an expired lease of another host, but not a live one', async () => {
    const { target, b } = await twoRepos();
    const live = await plantLock(target, { host: 'elsewhere', pid: 1, expiresAt: new Date(Date.now() + 3_600_000) });
    await expect(b.acquireLease('github', 'acme/api')).rejects.toThrow(/leased by crashed worker \(host elsewhere, pid 1\)/);
    await target.delete(live);
    await plantLock(target, { host: 'elsewhere', pid: 1, expiresAt: new Date(Date.now() - 60_000) });
    const lease = await b.acquireLease('github', 'acme/api');
    expect(lease.valid()).toBe(true);
  });

  it('renews while held', async () => {
    const { target, a } = await twoRepos();
    const lease = (await a.acquireLease('github', 'acme/api', { ttlMs: 60_000 })) as LeaseImpl;
    const before = lease.expiresAt;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 20_000);
    await lease.renew();
    expect(lease.expiresAt).toBeGreaterThan(before);
    const [key] = await lockKeys(target);
    const stored = JSON.parse((await readAll(await target.get(key!))).toString()) as { expiresAt: string };
    expect(Date.parse(stored.expiresAt)).toBe(lease.expiresAt);
  });

  it('a commit after the lease expired fails and writes no manifest', async () => {
    const { a } = await twoRepos();
    const lease = await a.acquireLease('github', 'acme/api', { ttlMs: 60_000 });
    const w = await a.beginRun(lease, 'export');
    await w.append([{ kind: 'issue', id: '1', op: 'upsert', version: '1', sourceTime: 't' }]);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 120_000); // the process was paused past its lease
    expect(lease.valid()).toBe(false);
    await expect(w.commit({ cursor: { n: 1 } })).rejects.toThrow(LeaseLostError);
    vi.useRealTimers();
    expect((await a.scopeState('github', 'acme/api')).exportedSeq).toBe(0);
    await expect(a.beginRun(lease, 'export')).rejects.toThrow(/no longer valid/);
  });

  it('a commit after another process took the scope over fails and writes no manifest', async () => {
    const { target, a, b } = await twoRepos();
    const lease = await a.acquireLease('github', 'acme/api');
    const w = await a.beginRun(lease, 'export');
    await w.append([{ kind: 'issue', id: '1', op: 'upsert', version: '1', sourceTime: 't' }]);
    for (const k of await lockKeys(target)) await target.delete(k); // e.g. an operator removed the lock
    const theirs = await b.acquireLease('github', 'acme/api');
    await expect(w.commit({})).rejects.toThrow(/the lease on scope "acme\/api" of source "github" was lost \(its lock object was removed by another process\): the run was not committed/);
    expect((await b.scopeState('github', 'acme/api')).lastRuns).toEqual({});
    expect(theirs.valid()).toBe(true);
  });

  it('refuses a run on a lease of another repository object', async () => {
    const { a, b } = await twoRepos();
    const lease = await a.acquireLease('github', 'acme/api');
    await expect(b.beginRun(lease, 'export')).rejects.toThrow(/was not taken from this repository object/);
  });
});
