import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeRecordInput } from '../model/records.js';
import { MemoryTarget } from './memory-target.js';
import { initRepository, openRepository, type OpenOptions } from './repository.js';
import type { Repository } from './types.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const up = (kind: string, id: string, version: string, extra: Partial<ChangeRecordInput> = {}): ChangeRecordInput => ({ kind, id, op: 'upsert', version, sourceTime: '2026-01-01T00:00:00Z', raw: { text: `${kind} ${id} ${version} ${'.'.repeat(100)}` }, ...extra });
const del = (kind: string, id: string): ChangeRecordInput => ({ kind, id, op: 'delete', version: 'gone', sourceTime: '2026-01-01T00:00:00Z' });
const blob = (sha: string, size: number) => ({ sha256: sha.repeat(64).slice(0, 64), size });

async function repoOn(target: MemoryTarget, opts: OpenOptions = {}, open = false): Promise<Repository> {
  const repo = await (open ? openRepository : initRepository)(target, { segmentBytes: 600, ...opts });
  cleanups.push(() => repo.close());
  return repo;
}

async function exportRun(repo: Repository, scope: string, records: ChangeRecordInput[]): Promise<void> {
  const lease = await repo.acquireLease('src', scope);
  try {
    const w = await repo.beginRun(lease, 'export');
    await w.append(records);
    await w.commit({ cursor: {} });
  } finally {
    await lease.release();
  }
}

describe('live state', () => {
  it('is lean (version, seq, content bytes), reads records on demand and streams them in seq order', async () => {
    const target = new MemoryTarget();
    const repo = await repoOn(target);
    await exportRun(repo, 's', [up('issue', '1', 'a', { blobs: { body: blob('a', 10), copy: blob('a', 10), att: blob('b', 5) } }), up('issue', '2', 'a'), up('label', 'x', 'a'), up('issue', '3', 'a')]);
    await exportRun(repo, 's', [up('issue', '2', 'b'), del('issue', '3'), up('note', 'n', 'a'), del('note', 'n'), del('issue', 'never')]);
    const live = await repo.live('src', 's');
    expect(live.seqTo).toBe(9);
    expect(live.kinds()).toEqual(['issue', 'label']);
    expect(live.size).toBe(3);
    expect([...live.items('issue')].map(([id, e]) => `${id}:${e.version}:${e.seq}:${e.bytes}`)).toEqual(['1:a:1:15', '2:b:5:0']);
    expect(live.items('note').size).toBe(0);
    expect(live.items('unknown').size).toBe(0);
    expect((await live.record('issue', '2'))?.raw).toEqual({ text: `issue 2 b ${'.'.repeat(100)}` });
    expect(await live.record('issue', '3')).toBeNull();
    expect(await live.record('nope', '1')).toBeNull();
    const all = [];
    for await (const r of live.records()) all.push(`${r.seq}:${r.kind}:${r.id}`);
    expect(all).toEqual(['1:issue:1', '3:label:x', '5:issue:2']);
    const labels = [];
    for await (const r of live.records({ kinds: ['label'] })) labels.push(r.id);
    expect(labels).toEqual(['x']);
    // several segments were written, and liveRecords still gives every record
    const manifests = [];
    for await (const m of repo.listRuns('src', 's')) manifests.push(m.segments.length);
    expect(manifests.reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
    const records = await repo.liveRecords('src', 's');
    expect([...records.get('issue')!.values()].map((r) => `${r.id}:${r.version}`)).toEqual(['1:a', '2:b']);
  });

  it('folds only new exports, keeps the leased scopes and a few others, and refolds a dropped one the same', async () => {
    const target = new MemoryTarget();
    const repo = await repoOn(target, { cachedScopes: 1 });
    for (const s of ['s1', 's2', 's3']) await exportRun(repo, s, [up('issue', '1', s), up('issue', '2', s)]);
    const lease = await repo.acquireLease('src', 's1');
    cleanups.unshift(() => lease.release());
    const first = await repo.live('src', 's1');
    const s2first = await repo.live('src', 's2');
    await repo.live('src', 's3');
    // s1 is leased (kept), of the others only the latest
    const again = await repo.live('src', 's1');
    expect(again.items('issue')).toBe(first.items('issue'));
    const s2 = await repo.live('src', 's2'); // dropped before: folded again, same content
    expect(s2.items('issue')).not.toBe(s2first.items('issue'));
    expect([...s2.items('issue')].map(([id, e]) => `${id}:${e.version}`)).toEqual(['1:s2', '2:s2']);

    // a new export is folded into the kept state incrementally
    const w = await repo.beginRun(lease, 'export');
    await w.append([up('issue', '1', 'v2'), del('issue', '2')]);
    await w.commit({ cursor: {} });
    const after = await repo.live('src', 's1');
    expect(after.items('issue')).toBe(first.items('issue'));
    expect([...after.items('issue')].map(([id, e]) => `${id}:${e.version}:${e.seq}`)).toEqual(['1:v2:3']);
    expect((await after.record('issue', '1'))?.version).toBe('v2');

    // a second process sees the same
    const other = await repoOn(target, {}, true);
    const seen = await other.live('src', 's1');
    expect([...seen.items('issue')].map(([id, e]) => `${id}:${e.version}:${e.seq}`)).toEqual(['1:v2:3']);
  });

  it('names the segment when a record cannot be read', async () => {
    const target = new MemoryTarget();
    const repo = await repoOn(target);
    await exportRun(repo, 's', [up('issue', '1', 'a')]);
    const live = await repo.live('src', 's');
    const [key] = [...target.objects.keys()].filter((k) => k.startsWith('blobs/') && target.objects.get(k)!.bytes.toString().includes('"issue"'));
    target.objects.get(key!)!.bytes = Buffer.from('{"kind":"issue"\n');
    await expect(live.record('issue', '1')).rejects.toThrow(/is corrupt/);
    const fresh = await repoOn(target, {}, true);
    await expect(fresh.live('src', 's')).rejects.toThrow(/is corrupt/);
  });
});
