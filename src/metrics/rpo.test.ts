import { describe, expect, it } from 'vitest';
import type { KindSpec } from '../model/kinds.js';
import type { Finding, KindCounts } from '../model/proof.js';
import { FakeRepository } from './fixtures/fake-repo.js';
import { computeRpo } from './rpo.js';
import type { MetricsSource } from './types.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const MIN = 60_000;
const t = (min: number): Date => new Date(T0 + min * MIN);

function spec(kind: string, possession: KindSpec['possession'] = 'restorable'): KindSpec {
  return { kind, service: 'github', title: kind.replace('github.', ''), dependsOn: [], possession, exportVia: 'REST', importVia: 'REST', fidelity: { preserved: ['title'], lost: [] } };
}
const KINDS = [spec('github.label'), spec('github.issue'), spec('github.star', 'possessed-not-restorable')];
const counts = (stored: number): KindCounts => ({ stored, standby: stored, matched: stored, mismatched: 0, missing: 0, extra: 0 });

function source(rpoMin: number, perKind: Record<string, number> = {}, extra: Partial<MetricsSource> = {}): MetricsSource {
  return { name: 'gh', service: 'github', kinds: KINDS, objectives: (kind) => ({ rpoMs: (kind && perKind[kind] !== undefined ? perKind[kind]! : rpoMin) * MIN, rtoMs: Infinity }), ...extra };
}

/** One committed cycle: export [a, a+1], import [a+1, a+2], verify [a+2, a+3] (minutes from T0). */
function cycle(repo: FakeRepository, scope: string, a: number, seq: { from: number; to: number }, findings: Finding[] = [], opts: { truncated?: number } = {}): void {
  repo.addRun({ type: 'export', source: 'gh', scope, startedAt: t(a), finishedAt: t(a + 1), seqFrom: seq.from, seqTo: seq.to, stats: { items: seq.to - seq.from + 1 } });
  repo.addRun({ type: 'import', source: 'gh', scope, startedAt: t(a + 1), finishedAt: t(a + 2), seqFrom: seq.from - 1, seqTo: seq.to, stats: { items: seq.to - seq.from + 1, failed: 0, ms: MIN }, summary: { failed: [], perKind: { 'github.label': 2, 'github.issue': 3 } } });
  repo.addVerify({ source: 'gh', scope, startedAt: t(a + 2), finishedAt: t(a + 3), seqTo: seq.to, proof: { sourceTimeThrough: t(a).toISOString(), counts: { 'github.label': counts(2), 'github.issue': counts(3) }, digests: {}, findings, findingsTruncated: opts.truncated ?? 0 } });
}

const mismatch = (kind: string, id: string): Finding => ({ kind, id, type: 'mismatch', fields: ['title'], detail: 'title: stored "a" standby "b"' });

describe('computeRpo', () => {
  it('measures now minus the start of the newest export imported and verified, exactly', async () => {
    const repo = new FakeRepository();
    cycle(repo, 'repo~acme~widgets', 0, { from: 1, to: 10 });
    const r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    const s = r.sources[0]!;
    expect(s.rpoMs).toBe(30 * MIN);
    expect(s.sourceTimeThrough).toBe(t(0).toISOString());
    expect(s.met).toBe(true);
    expect(s.status).toBe('proven');
    const scope = s.scopes[0]!;
    expect(scope.kinds.map((k) => [k.kind, k.rpoMs])).toEqual([
      ['github.issue', 30 * MIN],
      ['github.label', 30 * MIN],
    ]);
    expect(scope.lastExport).toBe(t(1).toISOString());
    expect(scope.lastImport).toBe(t(2).toISOString());
    expect(scope.lastVerify).toBe(t(3).toISOString());
    expect(scope.exportLagMs).toBe(30 * MIN);
    expect(scope).toMatchObject({ exportedSeq: 10, importedSeq: 10, verifiedSeq: 10, findings: 0, importFailures: 0 });
    expect(r.missed).toEqual([]);
  });

  it('misses the objective by the exact amount, per kind and naming the scope', async () => {
    const repo = new FakeRepository();
    cycle(repo, 'repo~acme~widgets', 0, { from: 1, to: 10 });
    const r = await computeRpo(repo, { sources: [source(60, { 'github.issue': 29 })], now: t(30) });
    const issue = r.sources[0]!.kinds.find((k) => k.kind === 'github.issue')!;
    expect(issue).toMatchObject({ rpoMs: 30 * MIN, objectiveMs: 29 * MIN, met: false, worstScope: 'repo~acme~widgets' });
    expect(r.sources[0]!.kinds.find((k) => k.kind === 'github.label')!.met).toBe(true);
    expect(r.missed).toHaveLength(1);
    expect(r.missed[0]).toMatchObject({ source: 'gh', kind: 'github.issue', scope: 'repo~acme~widgets', metric: 'rpo', valueMs: 30 * MIN, objectiveMs: 29 * MIN });
    expect(r.missed[0]!.message).toContain('30m 00s');
    // Exactly at the objective is met.
    const r2 = await computeRpo(repo, { sources: [source(30)], now: t(30) });
    expect(r2.missed).toEqual([]);
  });

  it('does not advance a kind whose verification has findings; other kinds advance', async () => {
    const repo = new FakeRepository();
    cycle(repo, 'repo~acme~widgets', 0, { from: 1, to: 10 });
    cycle(repo, 'repo~acme~widgets', 10, { from: 11, to: 15 }, [mismatch('github.issue', '7')]);
    const r = await computeRpo(repo, { sources: [source(25)], now: t(30) });
    const s = r.sources[0]!;
    const byKind = Object.fromEntries(s.kinds.map((k) => [k.kind, k]));
    expect(byKind['github.label']!.rpoMs).toBe(20 * MIN);
    expect(byKind['github.issue']!.rpoMs).toBe(30 * MIN);
    expect(byKind['github.issue']!.findings).toBe(1);
    expect(byKind['github.issue']!.met).toBe(false);
    expect(s.rpoMs).toBe(30 * MIN);
    expect(r.missed.map((m) => m.kind)).toEqual(['github.issue']);
    expect(r.missed[0]!.message).toMatch(/1 finding/);
    // Once a clean verification follows, the kind catches up.
    cycle(repo, 'repo~acme~widgets', 20, { from: 16, to: 16 });
    const r2 = await computeRpo(repo, { sources: [source(25)], now: t(30) });
    expect(r2.sources[0]!.kinds.find((k) => k.kind === 'github.issue')!.rpoMs).toBe(10 * MIN);
  });

  it('truncated findings cannot be attributed and block every kind of the scope', async () => {
    const repo = new FakeRepository();
    cycle(repo, 's1', 0, { from: 1, to: 10 });
    cycle(repo, 's1', 10, { from: 11, to: 15 }, [mismatch('github.issue', '1')], { truncated: 5 });
    const r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    expect(r.sources[0]!.scopes[0]!.kinds.map((k) => k.rpoMs)).toEqual([30 * MIN, 30 * MIN]);
    expect(r.sources[0]!.scopes[0]!.findings).toBe(6);
  });

  it('an export not yet imported does not count; an empty export after an imported one does', async () => {
    const repo = new FakeRepository();
    cycle(repo, 's1', 0, { from: 1, to: 10 });
    // Export at 10 appends 11..20 but is not imported; the verify at 12 covers only seq 10.
    repo.addRun({ type: 'export', source: 'gh', scope: 's1', startedAt: t(10), finishedAt: t(11), seqFrom: 11, seqTo: 20 });
    repo.addVerify({ source: 'gh', scope: 's1', startedAt: t(12), finishedAt: t(13), seqTo: 10, proof: { sourceTimeThrough: t(0).toISOString(), counts: { 'github.label': counts(2) }, digests: {}, findings: [] } });
    // An empty export (no new records) at 20: cumulative seq is still 20, so still not covered.
    repo.addRun({ type: 'export', source: 'gh', scope: 's1', startedAt: t(20), finishedAt: t(21), seqFrom: 21, seqTo: 0 });
    repo.addVerify({ source: 'gh', scope: 's1', startedAt: t(22), finishedAt: t(23), seqTo: 10, proof: { sourceTimeThrough: t(0).toISOString(), counts: { 'github.label': counts(2) }, digests: {}, findings: [] } });
    let r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    expect(r.sources[0]!.rpoMs).toBe(30 * MIN);
    // Import 11..20, then verify: the empty export at 20 now proves everything before minute 20.
    repo.addRun({ type: 'import', source: 'gh', scope: 's1', startedAt: t(24), finishedAt: t(25), seqFrom: 10, seqTo: 20 });
    repo.addVerify({ source: 'gh', scope: 's1', startedAt: t(25), finishedAt: t(26), seqTo: 20, proof: { sourceTimeThrough: t(20).toISOString(), counts: { 'github.label': counts(2) }, digests: {}, findings: [] } });
    r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    expect(r.sources[0]!.rpoMs).toBe(10 * MIN);
  });

  it('a verification that started before the export committed does not prove it', async () => {
    const repo = new FakeRepository();
    cycle(repo, 's1', 0, { from: 1, to: 10 });
    // Empty export committed at 11, but the verify ran at 10.5 .. 12: it cannot vouch for minute 10.
    repo.addRun({ type: 'export', source: 'gh', scope: 's1', startedAt: t(10), finishedAt: t(11), seqFrom: 11, seqTo: 10 });
    repo.addVerify({ source: 'gh', scope: 's1', startedAt: t(10.5), finishedAt: t(12), seqTo: 10, proof: { sourceTimeThrough: null, counts: { 'github.label': counts(2) }, digests: {}, findings: [] } });
    const r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    expect(r.sources[0]!.rpoMs).toBe(30 * MIN);
  });

  it('runs committed after `now` do not count (the RPO at a past instant)', async () => {
    const repo = new FakeRepository();
    cycle(repo, 's1', 0, { from: 1, to: 10 });
    cycle(repo, 's1', 10, { from: 11, to: 12 });
    expect((await computeRpo(repo, { sources: [source(60)], now: t(12.5) })).sources[0]!.rpoMs).toBe(12.5 * MIN);
    expect((await computeRpo(repo, { sources: [source(60)], now: t(13) })).sources[0]!.rpoMs).toBe(3 * MIN);
  });

  it('never proven is null, infinite, and misses any objective; per source the worst scope counts', async () => {
    const repo = new FakeRepository();
    cycle(repo, 'a', 0, { from: 1, to: 10 });
    cycle(repo, 'b', 5, { from: 1, to: 4 });
    repo.addRun({ type: 'export', source: 'gh', scope: 'c', startedAt: t(6), finishedAt: t(7), seqFrom: 1, seqTo: 3 });
    repo.setLive('gh', 'c', [{ kind: 'github.issue', id: '1' }]);
    let r = await computeRpo(repo, { sources: [source(24 * 60)], now: t(30) });
    let s = r.sources[0]!;
    expect(s.scopes.map((x) => [x.scope, x.rpoMs])).toEqual([
      ['a', 30 * MIN],
      ['b', 25 * MIN],
      ['c', null],
    ]);
    expect(s).toMatchObject({ rpoMs: null, status: 'never-proven', met: false, worstScope: 'c' });
    expect(s.kinds.find((k) => k.kind === 'github.issue')).toMatchObject({ rpoMs: null, worstScope: 'c', met: false, scopes: 3 });
    expect(s.kinds.find((k) => k.kind === 'github.label')).toMatchObject({ rpoMs: 30 * MIN, worstScope: 'a', scopes: 2 });
    expect(r.missed).toHaveLength(1);
    expect(r.missed[0]).toMatchObject({ kind: 'github.issue', scope: 'c', valueMs: null });
    expect(r.missed[0]!.message).toMatch(/never proven.*no committed import/);

    // Configured scopes: only those count, and one never exported is never proven.
    r = await computeRpo(repo, { sources: [source(60, {}, { scopes: ['a', 'new'] })], now: t(30) });
    s = r.sources[0]!;
    expect(s.scopes.map((x) => [x.scope, x.rpoMs])).toEqual([
      ['a', 30 * MIN],
      ['new', null],
    ]);
    expect(r.missed).toHaveLength(1);
    expect(r.missed[0]).toMatchObject({ kind: null, scope: 'new', valueMs: null });
    expect(r.missed[0]!.message).toMatch(/never exported/);
  });

  it('with no objective set nothing is missed; not-restorable and unseen kinds carry no objective', async () => {
    const repo = new FakeRepository();
    repo.addRun({ type: 'export', source: 'gh', scope: 's1', startedAt: t(0), finishedAt: t(1), seqFrom: 1, seqTo: 3 });
    const r = await computeRpo(repo, { sources: [{ name: 'gh', kinds: KINDS, objectives: () => ({ rpoMs: Infinity, rtoMs: Infinity }) }], now: t(30) });
    expect(r.missed).toEqual([]);
    const s = r.sources[0]!;
    expect(s.service).toBe('github');
    expect(s.objectiveMs).toBeNull();
    expect(s.kinds.find((k) => k.kind === 'github.star')).toMatchObject({ status: 'not-restorable', met: true, exportLagMs: 30 * MIN });
    expect(s.kinds.find((k) => k.kind === 'github.issue')).toMatchObject({ status: 'no-data', met: true, scopes: 0 });
  });

  it('reads the runs under the storage key of the current direction, and names the source', async () => {
    const repo = new FakeRepository();
    cycle(repo, 's1', 0, { from: 1, to: 10 }); // generation 0, keyed 'gh'
    const g1 = new FakeRepository();
    g1.addRun({ type: 'export', source: 'gh.g1', scope: 's1', startedAt: t(20), finishedAt: t(21), seqFrom: 1, seqTo: 2 });
    g1.addRun({ type: 'import', source: 'gh.g1', scope: 's1', startedAt: t(21), finishedAt: t(22), seqTo: 2, summary: { failed: [], perKind: { 'github.label': 2 } } });
    g1.addVerify({ source: 'gh.g1', scope: 's1', startedAt: t(22), finishedAt: t(23), seqTo: 2, proof: { sourceTimeThrough: null, counts: { 'github.label': counts(2) }, digests: {}, findings: [] } });
    const r = await computeRpo(g1, { sources: [source(60, {}, { key: 'gh.g1' })], now: t(30) });
    expect(r.sources[0]).toMatchObject({ source: 'gh', rpoMs: 10 * MIN });
    expect((await computeRpo(repo, { sources: [source(60, {}, { key: 'gh.g1' })], now: t(30) })).sources[0]!.scopes).toEqual([]);
  });

  it('reads only the latest proof and those announcing findings', async () => {
    const repo = new FakeRepository();
    for (let i = 0; i < 5; i++) cycle(repo, 's1', i * 10, { from: i * 10 + 1, to: i * 10 + 10 }, i === 2 ? [mismatch('github.issue', '3')] : []);
    await computeRpo(repo, { sources: [source(60)], now: t(60) });
    expect(repo.documentReads).toBe(2);
  });

  it('gives the staircase per kind: at each verification the worst proven source time over the scopes', async () => {
    const repo = new FakeRepository();
    cycle(repo, 'a', 0, { from: 1, to: 10 }); // verify committed at 3, proves 0
    cycle(repo, 'b', 5, { from: 1, to: 4 }); // b exists from 6; verify committed at 8, proves 5
    cycle(repo, 'a', 10, { from: 11, to: 12 }, [mismatch('github.issue', '1')]); // 13: label proves 10, issue stays 0
    cycle(repo, 'b', 20, { from: 5, to: 6 }); // 23: b proves 20
    const r = await computeRpo(repo, { sources: [source(60)], now: t(30) });
    const label = r.history.find((h) => h.kind === 'github.label')!;
    const issue = r.history.find((h) => h.kind === 'github.issue')!;
    const iso = (m: number): string => t(m).toISOString();
    expect(label.points).toEqual([
      { at: iso(3), sourceTimeThrough: iso(0), rpoMs: 3 * MIN },
      // At 6 scope b exists but is not proven until 8: the point at 8 is its first verification.
      { at: iso(8), sourceTimeThrough: iso(0), rpoMs: 8 * MIN },
      { at: iso(13), sourceTimeThrough: iso(5), rpoMs: 8 * MIN },
      { at: iso(23), sourceTimeThrough: iso(10), rpoMs: 13 * MIN },
      { at: iso(30), sourceTimeThrough: iso(10), rpoMs: 20 * MIN },
    ]);
    expect(issue.points.map((p) => p.rpoMs)).toEqual([3 * MIN, 8 * MIN, 13 * MIN, 23 * MIN, 30 * MIN]);
    expect(label.objectiveMs).toBe(60 * MIN);
    expect(r.history.some((h) => h.kind === 'github.star')).toBe(false);
  });
});
