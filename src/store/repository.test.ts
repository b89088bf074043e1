import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsTarget } from '../../targets/fs/index.js';
import { TargetError, type Target } from '../../targets/types.js';
import type { ChangeRecordInput } from '../model/records.js';
import { BlobCorruptError, BlobMissingError, EncryptionKeyError, FormatVersionError, RepositoryError } from './errors.js';
import { MemoryTarget } from './memory-target.js';
import { readAll } from './objects.js';
import { initRepository, openRepository } from './repository.js';
import type { Repository } from './types.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Kind = 'memory' | 'memory-unconditional' | 'fs';
async function makeTarget(kind: Kind): Promise<Target> {
  if (kind === 'fs') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'norestore-repo-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return createFsTarget({ path: dir });
  }
  return new MemoryTarget({ conditionalCreate: kind === 'memory' });
}

function track(repo: Repository): Repository {
  cleanups.unshift(() => repo.close());
  return repo;
}

async function text(stream: Readable): Promise<string> {
  return (await readAll(stream)).toString('utf8');
}

function rec(id: string, version: string, extra: Partial<ChangeRecordInput> = {}): ChangeRecordInput {
  return { kind: 'issue', id, op: 'upsert', version, sourceTime: '2026-01-01T00:00:00Z', raw: { title: `issue ${id} ${version}` }, ...extra };
}

async function snapshot(target: Target): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of target.list('')) out.set(o.key, (await readAll(await target.get(o.key))).toString('base64'));
  return out;
}

for (const kind of ['memory', 'memory-unconditional', 'fs'] as const) {
  describe(`repository on ${kind}`, () => {
    it('init refuses an existing repository and a non-empty location; open refuses a missing one', async () => {
      const target = await makeTarget(kind);
      await expect(openRepository(target)).rejects.toThrow(`no norestore repository at ${target.location}: run norestore init`);
      const repo = track(await initRepository(target));
      expect(repo.formatVersion).toBe(1);
      expect(repo.repoId).toMatch(/^[0-9a-f]{32}$/);
      await expect(initRepository(target)).rejects.toThrow(/a norestore repository already exists at .*use it as it is/);
      const other = await makeTarget(kind);
      await other.put('something/else', Buffer.from('x'));
      await expect(initRepository(other)).rejects.toThrow(/the location is not empty \(it holds "something\/else"\)/);
      const again = track(await openRepository(target));
      expect(again.repoId).toBe(repo.repoId);
    });

    it('refuses a repository of a newer format version, changing nothing', async () => {
      const target = await makeTarget(kind);
      track(await initRepository(target));
      const config = JSON.parse(await text(await target.get('config'))) as Record<string, unknown>;
      await target.put('config', Buffer.from(JSON.stringify({ ...config, formatVersion: 2 })));
      const before = await snapshot(target);
      const err = await openRepository(target).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatVersionError);
      expect((err as Error).message).toBe('repository format 2 is newer than this norestore understands (1): upgrade norestore');
      await expect(initRepository(target)).rejects.toThrow(/already exists/);
      expect(await snapshot(target)).toEqual(before);
    });

    it('stores blobs content-addressed, deduplicated, streamed in and out', async () => {
      const target = await makeTarget(kind);
      const repo = track(await initRepository(target, { memoryLimit: 4096 }));
      const big = randomBytes(100_000);
      const pieces = Array.from({ length: 10 }, (_, i) => big.subarray(i * 10_000, (i + 1) * 10_000));
      const a = await repo.putBlob(Readable.from(pieces), 'application/octet-stream'); // spooled
      const b = await repo.putBlob(big); // in memory, deduplicated
      expect(a).toEqual({ sha256: b.sha256, size: 100_000, mediaType: 'application/octet-stream' });
      let blobs = 0;
      for await (const o of target.list('blobs/')) {
        blobs++;
        expect(o.key).toBe(`blobs/${a.sha256.slice(0, 2)}/${a.sha256}`);
      }
      expect(blobs).toBe(1);
      expect(await repo.hasBlob(a.sha256)).toBe(true);
      expect((await readAll(await repo.getBlob(a.sha256))).equals(big)).toBe(true);
      const empty = await repo.putBlob(Readable.from([]));
      expect(empty.size).toBe(0);
      expect((await readAll(await repo.getBlob(empty.sha256))).length).toBe(0);
      const missing = 'f'.repeat(64);
      expect(await repo.hasBlob(missing)).toBe(false);
      await expect(repo.getBlob(missing)).rejects.toThrow(BlobMissingError);
    });

    it('a corrupted blob fails getBlob naming its sha, and check --read-data reports it', async () => {
      const target = await makeTarget(kind);
      const repo = track(await initRepository(target));
      const lease = await repo.acquireLease('gmail', 'alice@acme.com');
      const w = await repo.beginRun(lease, 'export');
      const ref = await w.putBlob(Buffer.from('From: a\r\n\r\nhello'), 'message/rfc822');
      await w.append([rec('m1', 'v1', { kind: 'gmail.message', blobs: { mime: ref } })]);
      await w.commit({ cursor: { historyId: '1' } });
      expect((await repo.check({ readData: true })).ok).toBe(true);
      await target.put(`blobs/${ref.sha256.slice(0, 2)}/${ref.sha256}`, Buffer.from('From: a\r\n\r\nHELLO'));
      const err = await readAll(await repo.getBlob(ref.sha256)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlobCorruptError);
      expect((err as Error).message).toContain(`blob ${ref.sha256}`);
      expect((await repo.check()).ok).toBe(true); // same size: only reading the data finds it
      const report = await repo.check({ readData: true });
      expect(report.ok).toBe(false);
      expect(report.findings).toContainEqual(expect.objectContaining({ severity: 'error', code: 'corrupt-blob', key: `blobs/${ref.sha256.slice(0, 2)}/${ref.sha256}` }));
    });

    it('commits runs: seqs continue, state comes from manifests, journal and live records fold', async () => {
      const target = await makeTarget(kind);
      const repo = track(await initRepository(target, { segmentBytes: 300 }));
      const empty = await repo.scopeState('github', 'acme/api');
      expect(empty).toMatchObject({ cursor: null, exportedSeq: 0, importedSeq: 0, verifiedSeq: 0, idMap: {}, lastRuns: {} });
      const lease = await repo.acquireLease('github', 'acme/api');

      const w1 = await repo.beginRun(lease, 'export');
      const body = await w1.putBlob(Readable.from([Buffer.from('body 1')]), 'text/plain');
      const out = await w1.append([rec('1', 'a', { blobs: { body } }), rec('2', 'a'), rec('3', 'a')]);
      expect(out.map((r) => r.seq)).toEqual([1, 2, 3]);
      const m1 = await w1.commit({ cursor: { since: 't1' } });
      expect(m1).toMatchObject({ number: 1, type: 'export', seqFrom: 1, seqTo: 3, cursor: { since: 't1' }, blobs: [body.sha256], stats: { items: 3, bytes: 6 } });
      expect(m1.segments.length).toBeGreaterThan(1); // split at the size bound
      expect(m1.segments.reduce((n, s) => n + s.records, 0)).toBe(3);

      const w2 = await repo.beginRun(lease, 'export');
      await w2.append([rec('2', 'b'), rec('3', 'b', { op: 'delete' }), rec('4', 'a', { kind: 'label' })]);
      const m2 = await w2.commit({ cursor: { since: 't2' } });
      expect(m2).toMatchObject({ number: 2, seqFrom: 4, seqTo: 6 });

      const w3 = await repo.beginRun(lease, 'export');
      const m3 = await w3.commit({ cursor: { since: 't3' } }); // an empty export proves freshness
      expect(m3).toMatchObject({ number: 3, seqFrom: 7, seqTo: 6, segments: [] });

      const imp = await repo.beginRun(lease, 'import');
      await expect(imp.append([rec('9', 'x')])).rejects.toThrow(/only export runs write the journal/);
      const mi = await imp.commit({ idMap: { issue: { '1': { standbyId: '101', version: 'a' } } }, seqFrom: 0, seqTo: 6 });
      expect(mi.idMap).toBeDefined();
      const imp2 = await repo.beginRun(lease, 'import');
      await expect(imp2.commit({ seqTo: 7 })).rejects.toThrow(/seqTo <= 6/);
      const imp3 = await repo.beginRun(lease, 'import');
      const mi3 = await imp3.commit({ seqFrom: 6, seqTo: 6 }); // no new id map: the last one carries forward
      expect(mi3.idMap).toEqual(mi.idMap);

      const proof = { findings: [], counts: { issue: 2 } };
      const v = await repo.beginRun(lease, 'verify');
      const mv = await v.commit({ document: proof, seqFrom: 0, seqTo: 6, summary: { findings: 0 } });
      expect(await repo.readDocument(mv.document!)).toEqual(proof);

      const aborted = await repo.beginRun(lease, 'export');
      await aborted.append([rec('5', 'z')]);
      await aborted.abort();
      await expect(aborted.commit({})).rejects.toThrow(/already aborted/);

      const state = await repo.scopeState('github', 'acme/api');
      expect(state).toMatchObject({ cursor: { since: 't3' }, exportedSeq: 6, importedSeq: 6, verifiedSeq: 6, idMap: { issue: { '1': { standbyId: '101', version: 'a' } } } });
      expect(state.lastRuns.export?.number).toBe(3);
      expect(state.lastRuns.verify?.number).toBe(6);

      const all = [];
      for await (const r of repo.readJournal('github', 'acme/api')) all.push(`${r.seq}:${r.id}:${r.version}:${r.op}`);
      expect(all).toEqual(['1:1:a:upsert', '2:2:a:upsert', '3:3:a:upsert', '4:2:b:upsert', '5:3:b:delete', '6:4:a:upsert']);
      const some = [];
      for await (const r of repo.readJournal('github', 'acme/api', { afterSeq: 2, uptoSeq: 4 })) some.push(r.seq);
      expect(some).toEqual([3, 4]);

      const live = await repo.liveRecords('github', 'acme/api');
      expect([...live.keys()].sort()).toEqual(['issue', 'label']);
      expect([...live.get('issue')!.entries()].map(([id, r]) => `${id}:${r.version}`).sort()).toEqual(['1:a', '2:b']);
      live.get('issue')!.clear(); // callers get copies
      expect((await repo.liveRecords('github', 'acme/api')).get('issue')!.size).toBe(2);

      const w4 = await repo.beginRun(lease, 'export');
      await w4.append([rec('1', 'c', { op: 'delete' })]);
      await w4.commit({ cursor: { since: 't4' } });
      expect([...(await repo.liveRecords('github', 'acme/api')).get('issue')!.keys()]).toEqual(['2']);

      expect(await repo.listScopes()).toEqual([{ source: 'github', scope: 'acme/api' }]);
      const runs = [];
      for await (const m of repo.listRuns('github')) runs.push(`${m.number}:${m.type}`);
      expect(runs).toEqual(['1:export', '2:export', '3:export', '4:import', '5:import', '6:verify', '7:export']);
      await lease.release();

      // a second process sees the same committed state
      const other = track(await openRepository(target));
      expect(await other.scopeState('github', 'acme/api')).toEqual(await repo.scopeState('github', 'acme/api'));
      const report = await other.check({ readData: true });
      expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(report.ok).toBe(true);
    });

    it('a run that is never committed is invisible; its blobs are orphans, not errors', async () => {
      const target = await makeTarget(kind);
      const repo = track(await initRepository(target, { segmentBytes: 100 }));
      const lease = await repo.acquireLease('github', 'acme/api');
      const w = await repo.beginRun(lease, 'export');
      await w.append([rec('1', 'a'), rec('2', 'a'), rec('3', 'a')]);
      await w.putBlob(Buffer.from('orphan content'));
      // the process "dies" here: no commit
      const state = await repo.scopeState('github', 'acme/api');
      expect(state.exportedSeq).toBe(0);
      expect(state.cursor).toBeNull();
      const seen = [];
      for await (const r of repo.readJournal('github', 'acme/api')) seen.push(r);
      expect(seen).toEqual([]);
      const report = await repo.check();
      expect(report.ok).toBe(true);
      expect(report.findings.length).toBeGreaterThan(0);
      expect(report.findings.every((f) => f.severity === 'warning' && f.code === 'orphan-blob')).toBe(true);
    });

    it('keeps small meta documents', async () => {
      const target = await makeTarget(kind);
      const repo = track(await initRepository(target));
      expect(await repo.getMeta('failover/github')).toBeNull();
      await repo.putMeta('failover/github', { active: 'standby' });
      expect(await repo.getMeta('failover/github')).toEqual({ active: 'standby' });
      await expect(repo.putMeta('../x', {})).rejects.toThrow(/invalid meta document name/);
    });
  });
}

describe('encrypted repository', () => {
  const key = randomBytes(32);
  const secretBody = 'Subject: merger plans\r\n\r\nThe board approves the acquisition of Initech.';

  async function populated(kind: Kind): Promise<{ target: Target; repo: Repository; sha: string }> {
    const target = await makeTarget(kind);
    const repo = track(await initRepository(target, { encryptionKey: key, memoryLimit: 1024 }));
    const lease = await repo.acquireLease('gmail', 'ceo@acme.com');
    const w = await repo.beginRun(lease, 'export');
    const mime = await w.putBlob(Readable.from([Buffer.from(secretBody.repeat(100))]), 'message/rfc822');
    await w.append([rec('msg-1', 'h1', { kind: 'gmail.message', raw: { snippet: 'The board approves' }, blobs: { mime } })]);
    await w.commit({ cursor: { historyId: '777' } });
    await repo.putMeta('failover', { note: 'The board approves' });
    await lease.release();
    return { target, repo, sha: mime.sha256 };
  }

  for (const kind of ['memory', 'fs'] as const) {
    it(`round-trips everything and stores no plaintext (${kind})`, async () => {
      const { target, repo, sha } = await populated(kind);
      expect((await readAll(await repo.getBlob(sha))).toString()).toBe(secretBody.repeat(100));
      const reopened = track(await openRepository(target, { encryptionKey: key }));
      expect((await reopened.scopeState('gmail', 'ceo@acme.com')).cursor).toEqual({ historyId: '777' });
      const recs = [];
      for await (const r of reopened.readJournal('gmail', 'ceo@acme.com')) recs.push(r);
      expect(recs[0]?.raw).toEqual({ snippet: 'The board approves' });
      expect(await reopened.getMeta('failover')).toEqual({ note: 'The board approves' });
      expect(await reopened.listScopes('gmail')).toEqual([{ source: 'gmail', scope: 'ceo@acme.com' }]);
      expect((await reopened.check({ readData: true })).ok).toBe(true);
      for await (const o of target.list('')) {
        expect(o.key).not.toMatch(/ceo|acme|gmail/);
        const bytes = await readAll(await target.get(o.key));
        for (const needle of ['board approves', 'Initech', 'ceo@acme.com', 'historyId', 'gmail.message']) {
          expect(bytes.includes(Buffer.from(needle)), `${o.key} contains ${needle}`).toBe(false);
        }
      }
    });
  }

  it('refuses a wrong or missing key, or a key for a plain repository, changing nothing', async () => {
    const { target } = await populated('memory');
    const before = await snapshot(target);
    await expect(openRepository(target, { encryptionKey: randomBytes(32) })).rejects.toThrow(/^the encryption key does not match this repository/);
    await expect(openRepository(target)).rejects.toThrow(EncryptionKeyError);
    await expect(openRepository(target)).rejects.toThrow(/is encrypted and no encryption key was given/);
    await expect(openRepository(target, { encryptionKey: randomBytes(16) })).rejects.toThrow(/must be 32 bytes/);
    expect(await snapshot(target)).toEqual(before);
    const plain = await makeTarget('memory');
    track(await initRepository(plain));
    await expect(openRepository(plain, { encryptionKey: key })).rejects.toThrow(/is not encrypted, but an encryption key was given/);
  });

  it('detects tampering with a stored blob, a segment and a manifest', async () => {
    const { target, repo, sha } = await populated('memory');
    const t = target as MemoryTarget;
    const flip = (k: string): void => {
      const o = t.objects.get(k)!;
      const bytes = Buffer.from(o.bytes);
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x40;
      t.objects.set(k, { ...o, bytes });
    };
    const blobKey = `blobs/${sha.slice(0, 2)}/${sha}`;
    flip(blobKey);
    const err = await readAll(await repo.getBlob(sha)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobCorruptError);
    expect((err as Error).message).toMatch(new RegExp(`^blob ${sha} in memory:\\d+ is corrupt`));
    const report = await repo.check({ readData: true });
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'corrupt-blob', key: blobKey }));
    const manifestKey = [...t.objects.keys()].find((k) => k.startsWith('runs/'))!;
    flip(manifestKey);
    const fresh = track(await openRepository(target, { encryptionKey: key }));
    await expect(fresh.scopeState('gmail', 'ceo@acme.com')).rejects.toThrow(/cannot be read: cannot decrypt/);
    expect((await fresh.check()).findings).toContainEqual(expect.objectContaining({ severity: 'error', code: 'bad-manifest', key: manifestKey }));
  });
});

describe('object lock retention', () => {
  it('retains write-once objects (blobs, segments, manifests) but not locks or meta, where supported', async () => {
    const target = new MemoryTarget({ objectLock: true });
    const repo = track(await initRepository(target, { retentionDays: 30 }));
    const lease = await repo.acquireLease('github', 'acme/api');
    const w = await repo.beginRun(lease, 'export');
    const body = await w.putBlob(Buffer.from('content'));
    await w.append([rec('1', 'a', { blobs: { body } })]);
    await w.commit({});
    await repo.putMeta('state', { x: 1 });
    const soon = Date.now() + 29 * 86_400_000;
    for (const [key, o] of target.objects) {
      const writeOnce = key.startsWith('blobs/') || key.startsWith('runs/');
      expect(o.retainUntil === undefined ? 0 : o.retainUntil.getTime() > soon ? 2 : 1, key).toBe(writeOnce ? 2 : 0);
    }
    await expect(target.delete(`blobs/${body.sha256.slice(0, 2)}/${body.sha256}`)).rejects.toThrow(/retained until/);
    await lease.release();
  });

  it('is refused clearly, changing nothing, where the target has no object lock', async () => {
    const target = new MemoryTarget();
    await expect(initRepository(target, { retentionDays: 30 })).rejects.toThrow(/object lock retention is configured, but memory:\d+ does not support object lock/);
    expect(target.objects.size).toBe(0);
  });
});

describe('storage failures', () => {
  it('a put failing mid-run (disk full) fails the commit and loses nothing committed', async () => {
    const target = new MemoryTarget();
    const repo = track(await initRepository(target, { segmentBytes: 200 }));
    const lease = await repo.acquireLease('github', 'acme/api');
    const w1 = await repo.beginRun(lease, 'export');
    await w1.append([rec('1', 'a'), rec('2', 'a')]);
    await w1.commit({ cursor: { n: 1 } });
    const before = await repo.scopeState('github', 'acme/api');

    let puts = 0;
    target.beforePut = (key) => {
      if (key.startsWith('blobs/') && ++puts === 3) throw new TargetError('NoSpace', `${target.location}: put ${key}: no space left on the device`);
    };
    const w2 = await repo.beginRun(lease, 'export');
    const failed = (async () => {
      for (let i = 0; i < 20; i++) await w2.append([rec(`n${i}`, 'a')]);
      return w2.commit({ cursor: { n: 2 } });
    })();
    await expect(failed).rejects.toThrow(/no space left/);
    await w2.abort();
    target.beforePut = undefined;
    expect(await repo.scopeState('github', 'acme/api')).toEqual(before);
    expect((await repo.check({ readData: true })).ok).toBe(true);
    // the retry commits once, continuing the seqs
    const w3 = await repo.beginRun(lease, 'export');
    await w3.append([rec('n0', 'a')]);
    expect(await w3.commit({ cursor: { n: 2 } })).toMatchObject({ number: 2, seqFrom: 3, seqTo: 3 });
  });

  it('the run writer refuses to be used after commit, and validates records', async () => {
    const repo = track(await initRepository(new MemoryTarget()));
    const lease = await repo.acquireLease('s', 'c');
    const w = await repo.beginRun(lease, 'export');
    await expect(w.append([{ kind: 'x', id: '', op: 'upsert', version: '1', sourceTime: 't' }])).rejects.toThrow(/change record 0 \(x \): field id/);
    await w.commit({});
    await expect(w.append([rec('1', 'a')])).rejects.toThrow(RepositoryError);
  });
});
