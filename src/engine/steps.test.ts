import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connector, ImportContext, ImportFailure, ImportResult, Logger, ScopeRef, StandbyItem, VerifyContext } from '../model/connector.js';
import type { KindSpec } from '../model/kinds.js';
import type { Finding, KindCounts, VerifyProof } from '../model/proof.js';
import type { ChangeRecord, ChangeRecordInput } from '../model/records.js';
import { MemoryTarget } from '../store/memory-target.js';
import { initRepository } from '../store/repository.js';
import type { Repository } from '../store/types.js';
import { differingFields, pickFields, stableStringify } from '../verify/compare.js';
import { MemoryIdMap } from './idmap.js';
import { importBatch } from './order.js';
import { compareWithStandby, importStep, type StepEnv } from './steps.js';

/**
 * compareWithStandby streams the stored side and keeps only digests of the standby side; its proofs
 * (counts, digests, findings, their order and truncation) must equal those of the implementation
 * that held every record and every standby item in memory, kept here as the reference.
 */

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function referenceCompare(input: {
  connector: Connector;
  scope: ScopeRef;
  live: Map<string, Map<string, ChangeRecord>>;
  idMap: MemoryIdMap;
  failed: ImportFailure[];
  ctx: VerifyContext;
}): Promise<Pick<VerifyProof, 'counts' | 'digests' | 'findings' | 'findingsTruncated'>> {
  const { connector, scope, live, ctx } = input;
  const specs = new Map(connector.kinds.map((k) => [k.kind, k]));
  const counts: Record<string, KindCounts> = {};
  const count = (kind: string): KindCounts => (counts[kind] ??= { stored: 0, standby: 0, matched: 0, mismatched: 0, missing: 0, extra: 0 });
  const findings: Finding[] = [];
  let truncated = 0;
  const find = (f: Finding): void => {
    if (findings.length < 1000) findings.push(f);
    else truncated++;
  };
  const short = (v: unknown): string => {
    const s = JSON.stringify(v) ?? 'undefined';
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  };
  const standby = new Map<string, Map<string, Record<string, unknown>>>();
  for await (const item of connector.readStandby(scope, ctx)) {
    if (specs.get(item.kind)?.possession !== 'restorable') continue;
    count(item.kind).standby++;
    if (item.sourceId === null) {
      count(item.kind).extra++;
      find({ kind: item.kind, id: item.standbyId, type: 'extra', detail: `standby holds ${item.kind} ${item.standbyId} that is not in the owned storage` });
      continue;
    }
    let m = standby.get(item.kind);
    if (!m) standby.set(item.kind, (m = new Map()));
    if (m.has(item.sourceId)) {
      count(item.kind).extra++;
      find({ kind: item.kind, id: item.sourceId, type: 'extra', detail: `standby holds ${item.kind} ${item.sourceId} twice (also as ${item.standbyId})` });
      continue;
    }
    m.set(item.sourceId, item.normalized);
  }
  const failedImports = new Map(input.failed.map((f) => [`${f.kind}\u0000${f.id}`, f.error]));
  const digests: Record<string, string> = {};
  for (const [kind, items] of [...live.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const spec = specs.get(kind);
    if (!spec || spec.possession !== 'restorable') continue;
    const hash = createHash('sha256');
    const side = standby.get(kind) ?? new Map<string, Record<string, unknown>>();
    for (const [id, record] of [...items.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const c = count(kind);
      c.stored++;
      const stored = await connector.normalize(record, ctx);
      hash.update(`${id}\u0000${stableStringify(pickFields(stored, spec.fidelity.preserved))}\n`);
      const other = side.get(id);
      side.delete(id);
      if (!other) {
        c.missing++;
        const failed = failedImports.get(`${kind}\u0000${id}`);
        find(failed ? { kind, id, type: 'import-failed', detail: failed } : { kind, id, type: 'missing', detail: `${kind} ${id} is possessed but not on the standby` });
        continue;
      }
      const diff = differingFields(stored, other, spec.fidelity.preserved);
      if (diff.length) {
        c.mismatched++;
        find({ kind, id, type: 'mismatch', fields: diff, detail: diff.map((f) => `${f}: stored ${short(pickFields(stored, [f])[f])} standby ${short(pickFields(other, [f])[f])}`).join('; ') });
      } else c.matched++;
    }
    digests[kind] = hash.digest('hex');
  }
  for (const [kind, side] of standby) {
    for (const id of side.keys()) {
      count(kind).extra++;
      find({ kind, id, type: 'extra', detail: `standby still holds ${kind} ${id}, which is deleted at the source` });
    }
  }
  return { counts, digests, findings, findingsTruncated: truncated };
}

const spec = (kind: string, preserved: string[], possession: KindSpec['possession'] = 'restorable'): KindSpec => ({
  kind,
  service: 'github',
  title: kind,
  dependsOn: [],
  possession,
  exportVia: 'test',
  fidelity: { preserved, lost: [] },
});

class TableConnector implements Connector {
  readonly service = 'github' as const;
  readonly kinds = [spec('t.issue', ['title', 'labels', 'meta.state', 'body']), spec('t.label', ['name', '10', '9', 'color']), spec('t.audit', ['x'], 'possessed-not-restorable'), spec('t.empty', ['x']), spec('t.note', ['x']), spec('t.comment', ['x'])];
  readonly uncovered = [];
  constructor(private readonly standby: StandbyItem[]) {}
  async scopes(): Promise<ScopeRef[]> {
    return [];
  }
  async exportScope(): Promise<never> {
    throw new Error('not used');
  }
  async importChanges(_scope: ScopeRef, _records: ChangeRecord[], _ctx: ImportContext): Promise<ImportResult> {
    throw new Error('not used');
  }
  async *readStandby(): AsyncIterable<StandbyItem> {
    yield* this.standby;
  }
  async normalize(record: ChangeRecord): Promise<Record<string, unknown>> {
    return { ...(record.raw as Record<string, unknown>), normalizedFrom: record.seq };
  }
  async close(): Promise<void> {}
}

async function repoWith(batches: ChangeRecordInput[][]): Promise<Repository> {
  const repo = await initRepository(new MemoryTarget(), { segmentBytes: 2048 });
  cleanups.push(() => repo.close());
  const lease = await repo.acquireLease('src', 'scope');
  for (const batch of batches) {
    const w = await repo.beginRun(lease, 'export');
    await w.append(batch);
    await w.commit({ cursor: {} });
  }
  await lease.release();
  return repo;
}

const up = (kind: string, id: string, raw: Record<string, unknown>): ChangeRecordInput => ({ kind, id, op: 'upsert', version: JSON.stringify(raw).length.toString(), sourceTime: '2026-01-01T00:00:00Z', raw });
const del = (kind: string, id: string): ChangeRecordInput => ({ kind, id, op: 'delete', version: 'x', sourceTime: '2026-01-01T00:00:00Z' });
const sb = (kind: string, sourceId: string | null, normalized: Record<string, unknown>, standbyId = `sb-${sourceId}`): StandbyItem => ({ kind, sourceId, standbyId, normalized });

async function both(repo: Repository, connector: Connector, failed: ImportFailure[] = []): Promise<{ ref: unknown; got: unknown; workDir: string }> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'norestore-steps-test-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  const signal = new AbortController().signal;
  const idMap = new MemoryIdMap();
  const ctx: VerifyContext = { idMap, getBlob: (sha) => repo.getBlob(sha), workDir, signal, log: quiet };
  const ref = await referenceCompare({ connector, scope: { id: 'scope', type: 't', name: 'scope' }, live: await repo.liveRecords('src', 'scope'), idMap, failed, ctx });
  const got = await compareWithStandby({ connector, scope: { id: 'scope', type: 't', name: 'scope' }, live: await repo.live('src', 'scope'), idMap, failed, getBlob: ctx.getBlob, workDir: path.join(workDir, 'verify'), signal, log: quiet });
  return { ref, got, workDir };
}

describe('compareWithStandby', () => {
  it('gives the proof the in-memory comparison gave: counts, digests, findings in order', async () => {
    const long = 'x'.repeat(200);
    const ids = ['b', 'B', 'a', 'é', 'e\u0301', 'ä', '10', '9', 'Z', 'z-1', 'z_1', 'Ω', '#', 'long'];
    const repo = await repoWith([
      [
        up('t.note', 'n1', { x: 1 }), // kinds nothing on the standby has: counted in name order, not journal order
        ...ids.map((id) => up('t.issue', id, { title: `T ${id}`, labels: ['x', id], meta: { state: 'open', n: 1 }, body: id === 'long' ? long : 'b' })),
        up('t.label', 'l1', { name: 'L1', 10: 'ten', 9: 'nine', color: { r: 1, g: 2 } }),
        up('t.label', 'l2', { name: 'L2', 10: 'ten', 9: 'nine', color: { r: 1, g: 2 } }),
        up('t.audit', 'a1', { x: 1 }),
        up('t.issue', 'gone', { title: 'deleted later' }),
        up('t.issue', 'failed', { title: 'F' }),
      ],
      [up('t.comment', 'c1', { x: 1 }), up('t.issue', 'B', { title: 'T B v2', labels: ['y'], meta: { state: 'closed' }, body: 'b2' }), del('t.issue', 'gone'), up('t.label', 'l3', { name: 'L3' })],
    ]);
    const issue = (id: string, over: Record<string, unknown> = {}): StandbyItem => sb('t.issue', id, { title: `T ${id}`, labels: ['x', id], meta: { state: 'open', n: 2 }, body: id === 'long' ? long : 'b', ...over });
    const standby: StandbyItem[] = [
      sb('t.label', 'l1', { name: 'L1', 9: 'nine', 10: 'ten', color: { g: 2, r: 1 } }), // equal: key order differs
      sb('t.label', 'l2', { name: 'L2', 10: 'TEN', 9: 'nine', color: { r: 1 } }), // two fields differ
      issue('b'),
      issue('B', { title: 'T B v2', labels: ['y'], meta: { state: 'closed' }, body: 'b2' }),
      issue('a', { labels: ['x'] }),
      issue('é', { title: undefined }),
      issue('e\u0301'),
      issue('10', { meta: { state: null } }), // null and absent are equal
      issue('Z'),
      issue('long', { body: long + '!' }), // long values are cut in the detail
      issue('Ω', { labels: { 0: 'x', 1: 'Ω' } }),
      issue('#'),
      issue('b', {}, ),
      sb('t.issue', null, { title: 'unmapped' }, 'sb-unmapped'),
      issue('gone'), // deleted at the source
      issue('never'), // never possessed
      sb('t.audit', 'a1', { x: 2 }), // not restorable: not compared
      sb('t.empty', 'e1', { x: 1 }), // a kind with nothing live
    ];
    standby[12] = { ...standby[12]!, standbyId: 'sb-b-again' };
    const { ref, got, workDir } = await both(repo, new TableConnector(standby), [{ kind: 't.issue', id: 'failed', error: 'the standby refused it: 422' }, { kind: 't.issue', id: '9', error: 'timeout' }]);
    expect(got).toEqual(ref);
    expect(JSON.stringify(got)).toBe(JSON.stringify(ref)); // key order of counts and digests too
    const r = got as VerifyProof;
    expect(r.findings.map((f) => `${f.type} ${f.id}`)).toEqual(expect.arrayContaining(['mismatch l2', 'mismatch a', 'mismatch long', 'import-failed failed', 'import-failed 9', 'extra sb-unmapped', 'extra gone', 'extra never', 'extra b']));
    expect(r.counts['t.audit']).toBeUndefined();
    // the scratch files are gone
    expect(await readdir(path.join(workDir, 'verify'))).toEqual([]);
  });

  it('lists the same first 1000 findings and counts the rest, across segments', async () => {
    const n = 1600;
    const records = Array.from({ length: n }, (_, i) => up('t.issue', createHash('sha1').update(String(i)).digest('hex').slice(0, 8), { title: `t${i}`, labels: [], meta: { state: 'open' }, body: 'b' }));
    const repo = await repoWith([records.slice(0, 700), records.slice(700)]);
    // every third missing, every third different, the rest equal; extras interleaved
    const standby: StandbyItem[] = [];
    records.forEach((r, i) => {
      const raw = r.raw as Record<string, unknown>;
      if (i % 3 === 1) standby.push(sb('t.issue', r.id, { ...raw, title: `other ${i}` }));
      else if (i % 3 === 2) standby.push(sb('t.issue', r.id, raw));
      if (i % 100 === 0) standby.push(sb('t.issue', `extra-${i}`, raw));
    });
    const { ref, got } = await both(repo, new TableConnector(standby));
    expect((got as VerifyProof).findingsTruncated).toBeGreaterThan(0);
    expect(JSON.stringify(got)).toBe(JSON.stringify(ref));
  });

  it('compares an empty scope and an empty standby', async () => {
    const repo = await repoWith([]);
    const { ref, got } = await both(repo, new TableConnector([]));
    expect(got).toEqual(ref);
    expect(got).toEqual({ counts: {}, digests: {}, findings: [], findingsTruncated: 0 });
  });
});

class CapturingConnector extends TableConnector {
  batches: string[][] = [];
  parents: string[] = [];
  failNext = new Set<string>();
  override async importChanges(_scope: ScopeRef, records: ChangeRecord[], ctx: ImportContext): Promise<ImportResult> {
    this.batches.push(records.map((r) => `${r.seq}:${r.op}:${r.kind}:${r.id}`));
    const result: ImportResult = { imported: 0, unchanged: 0, deleted: 0, failed: [] };
    for (const r of records) {
      const parent = (r.raw as { parent?: string } | undefined)?.parent;
      if (parent !== undefined) this.parents.push(`${r.id}->${(await ctx.lastRecord('t.issue', parent))?.seq ?? 'none'}`);
      if (this.failNext.has(r.id)) result.failed.push({ kind: r.kind, id: r.id, error: 'refused' });
      else if (r.op === 'delete') result.deleted++;
      else result.imported++;
    }
    this.failNext.clear();
    return result;
  }
}

describe('importStep', () => {
  it('imports the latest record of each changed item (as importBatch over the journal did), retries failures, and finds parents', async () => {
    const repo = await repoWith([]);
    const connector = new CapturingConnector([]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'norestore-steps-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const run = async (step: (env: StepEnv) => Promise<unknown>): Promise<void> => {
      const lease = await repo.acquireLease('src', 'scope');
      try {
        await step({ repo, connector, source: 'src', scope: { id: 'scope', type: 't', name: 'scope' }, lease, cacheDir: dir, signal: new AbortController().signal, log: quiet });
      } finally {
        await lease.release();
      }
    };
    const exportRun = (records: ChangeRecordInput[]) =>
      run(async (env) => {
        const w = await repo.beginRun(env.lease, 'export');
        await w.append(records);
        await w.commit({ cursor: {} });
      });
    const expected = async (afterSeq: number, retry: string[] = []): Promise<string[]> => {
      const all: ChangeRecord[] = [];
      for await (const r of repo.readJournal('src', 'scope', { afterSeq })) all.push(r);
      const live = await repo.liveRecords('src', 'scope');
      for (const id of retry) all.push(live.get('t.issue')!.get(id)!);
      return importBatch(all, connector.kinds).map((r) => `${r.seq}:${r.op}:${r.kind}:${r.id}`);
    };

    await exportRun([up('t.issue', 'a', { title: 'a1' }), up('t.issue', 'b', { title: 'b1' }), up('t.label', 'l', { name: 'l' }), up('t.issue', 'c', { title: 'c1' })]);
    await exportRun([del('t.issue', 'a'), up('t.issue', 'a', { title: 'a2' }), up('t.issue', 'c', { title: 'c2' }), del('t.issue', 'c'), up('t.issue', 'd', { title: 'd' }), del('t.issue', 'd'), del('t.issue', 'd'), up('t.note', 'n', { x: 1, parent: 'b' })]);
    const first = await expected(0);
    connector.failNext.add('b');
    await run(importStep);
    expect(connector.batches.at(-1)).toEqual(first);
    expect(connector.parents).toEqual(['n->2']);

    const seq = (await repo.scopeState('src', 'scope')).exportedSeq;
    await exportRun([up('t.issue', 'e', { title: 'e' }), up('t.note', 'm', { x: 2, parent: 'a' }), up('t.note', 'o', { x: 3, parent: 'gone' })]);
    const second = await expected(seq, ['b']);
    await run(importStep);
    expect(connector.batches.at(-1)).toEqual(second);
    expect(connector.batches.at(-1)).toContain('2:upsert:t.issue:b'); // the failed item, retried
    expect(connector.parents.slice(1)).toEqual(['m->6', 'o->none']);
    const state = await repo.scopeState('src', 'scope');
    expect(state.importedSeq).toBe(state.exportedSeq);
  });
});
