import { describe, expect, it } from 'vitest';
import type { KindSpec, Service } from '../model/kinds.js';
import type { DrillDocument } from '../model/proof.js';
import { FakeRepository } from './fixtures/fake-repo.js';
import { GOOGLE_NEW_PROJECT_QUOTA, costOf, quotaTimeMs } from './quota.js';
import { computeRto, makespan } from './rto.js';
import type { MetricsSource } from './types.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const MIN = 60_000;
const t = (min: number): Date => new Date(T0 + min * MIN);

function spec(kind: string, service: Service, dependsOn: string[] = [], possession: KindSpec['possession'] = 'restorable'): KindSpec {
  return { kind, service, title: kind, dependsOn, possession, exportVia: 'api', importVia: 'api', fidelity: { preserved: [], lost: [] } };
}
const GH = [spec('github.label', 'github'), spec('github.issue', 'github', ['github.label']), spec('github.star', 'github', [], 'possessed-not-restorable')];
const GOOGLE = [spec('gmail.label', 'google'), spec('gmail.message', 'google', ['gmail.label'])];

function src(name: string, kinds: KindSpec[], rtoMs = Infinity, extra: Partial<MetricsSource> = {}): MetricsSource {
  return { name, kinds, objectives: () => ({ rpoMs: Infinity, rtoMs }), ...extra };
}

function drill(mode: DrillDocument['mode'], at: number, totalMs: number, opts: Partial<DrillDocument> = {}): DrillDocument {
  return { source: 'gh', mode, startedAt: t(at).toISOString(), finishedAt: new Date(t(at).getTime() + totalMs).toISOString(), steps: [{ name: 'catch-up', ms: totalMs / 2 }, { name: 'verify', ms: totalMs / 2 }], totalMs, imported: {}, ok: true, findings: 0, ...opts };
}

const many = (kind: string, n: number, bytes = 0): Array<{ kind: string; id: string; bytes: number }> => Array.from({ length: n }, (_, i) => ({ kind, id: String(i + 1), bytes }));

describe('quota helpers', () => {
  it('spends units in fixed windows that start full', () => {
    expect(quotaTimeMs(0, { units: 80, windowMs: MIN })).toBe(0);
    expect(quotaTimeMs(80, { units: 80, windowMs: MIN })).toBe(0);
    expect(quotaTimeMs(81, { units: 80, windowMs: MIN })).toBe(MIN);
    expect(quotaTimeMs(1000, { units: 500, windowMs: 60 * MIN })).toBe(60 * MIN);
    expect(quotaTimeMs(1001, { units: 500, windowMs: 60 * MIN })).toBe(120 * MIN);
  });
  it('matches costs by exact kind, then the longest prefix', () => {
    const l = { name: 'x', units: 1, windowMs: 1, per: 'account' as const, measure: 'items' as const, ref: '', cost: { 'github.git': 0, 'github.*': 1, 'gmail.message': 25, 'gmail.*': 5 } };
    expect(costOf(l, 'github.git')).toBe(0);
    expect(costOf(l, 'github.issue')).toBe(1);
    expect(costOf(l, 'gmail.message')).toBe(25);
    expect(costOf(l, 'gmail.label')).toBe(5);
    expect(costOf(l, 'drive.file')).toBeNull();
  });
  it('schedules scopes on a pool (longest first)', () => {
    expect(makespan([], 4)).toBe(0);
    expect(makespan([10, 10, 10, 10], 4)).toBe(10);
    expect(makespan([10, 10, 10, 10], 2)).toBe(20);
    expect(makespan([7, 5, 4, 3, 1], 2)).toBe(10);
  });
});

describe('computeRto', () => {
  it('takes the latest drills per mode; the no-restore one is measured against the objective', async () => {
    const repo = new FakeRepository();
    repo.addDrill('gh', drill('no-restore', 0, 90_000));
    repo.addDrill('gh', drill('fresh', 5, 7_200_000));
    repo.addDrill('gh', drill('no-restore', 10, 45_000));
    repo.addDrill('gh', drill('no-restore', 300, 1_000)); // after now: not counted
    const r = await computeRto(repo, { sources: [src('gh', GH, 60_000)], now: t(200) });
    const s = r.sources[0]!;
    expect(s.noRestore).toMatchObject({ ms: 45_000, met: true });
    expect(s.noRestore.drill!.steps.map((x) => x.name)).toEqual(['catch-up', 'verify']);
    expect(s.classic).toMatchObject({ basis: 'measured', ms: 7_200_000, projection: null, met: false });
    expect(s.ratio).toBe(160);
    expect(r.missed).toEqual([]);
  });

  it('misses the RTO objective when never drilled, too slow, or the drill failed', async () => {
    const repo = new FakeRepository();
    let r = await computeRto(repo, { sources: [src('gh', GH, 60_000)], now: t(60) });
    expect(r.missed).toHaveLength(1);
    expect(r.missed[0]).toMatchObject({ metric: 'rto', valueMs: null, objectiveMs: 60_000, kind: null });
    expect(r.missed[0]!.message).toMatch(/never measured: run norestore drill/);

    repo.addDrill('gh', drill('no-restore', 0, 61_000));
    r = await computeRto(repo, { sources: [src('gh', GH, 60_000)], now: t(60) });
    expect(r.missed[0]).toMatchObject({ valueMs: 61_000 });
    expect(r.missed[0]!.message).toContain('1m 01s');

    repo.addDrill('gh', drill('no-restore', 10, 1_000, { ok: false, findings: 3 }));
    r = await computeRto(repo, { sources: [src('gh', GH, 60_000)], now: t(60) });
    expect(r.sources[0]!.noRestore.met).toBe(false);
    expect(r.missed[0]!.message).toMatch(/did not succeed \(3 finding/);

    // A stricter objective for one kind is checked against the same drill.
    repo.addDrill('gh', drill('no-restore', 20, 30_000));
    const strict = src('gh', GH, 60_000, { objectives: (k) => ({ rpoMs: Infinity, rtoMs: k === 'github.issue' ? 10_000 : 60_000 }) });
    r = await computeRto(repo, { sources: [strict], now: t(60) });
    expect(r.missed).toHaveLength(1);
    expect(r.missed[0]).toMatchObject({ kind: 'github.issue', valueMs: 30_000, objectiveMs: 10_000 });
  });

  it('projects the classic RTO from measured rates, capped by the GitHub account quota', async () => {
    const repo = new FakeRepository();
    repo.addRun({ type: 'import', source: 'gh', scope: 's1', startedAt: t(0), finishedAt: t(1), seqTo: 100, stats: { items: 100, bytes: 0, ms: 10_000 }, summary: { failed: [], perKind: { 'github.issue': 100 } } });
    repo.addRun({ type: 'import', source: 'gh', scope: 's1', startedAt: t(2), finishedAt: t(3), seqTo: 110, stats: { items: 10, bytes: 0, ms: 5_000 }, summary: { failed: [], perKind: { 'github.label': 5, 'github.issue': 5 } } });
    repo.addRun({ type: 'export', source: 'gh', scope: 's2', startedAt: t(0), finishedAt: t(1), seqTo: 100 });
    repo.setLive('gh', 's1', [...many('github.issue', 1000), ...many('github.label', 10), ...many('github.star', 50)]);
    repo.setLive('gh', 's2', many('github.issue', 100));
    repo.addDrill('gh', drill('no-restore', 10, 42_000));
    const r = await computeRto(repo, { sources: [src('gh', GH)], now: t(60) });
    const s = r.sources[0]!;
    const p = s.classic.projection!;
    expect(s.classic.basis).toBe('projected');
    // 1110 content-creating requests: 500/h allows 500 now, 500 after 1 h, 110 after 2 h.
    expect(p.accountQuotaMs).toBe(2 * 3_600_000);
    expect(s.classic.ms).toBe(2 * 3_600_000);
    expect(p.items).toBe(1110);
    expect(p.perKind.map((k) => k.kind)).toEqual(['github.label', 'github.issue']);
    const issue = p.perKind.find((k) => k.kind === 'github.issue')!;
    expect(issue.rate).toMatchObject({ itemsPerSec: 10, basis: 'import-runs', sampleItems: 100 });
    expect(issue.rateMs).toBe(100_000); // s1: 1000 at 10/s; s2 (100 items) runs beside it
    expect(issue.quotaMs).toBe(2 * 3_600_000);
    expect(issue).toMatchObject({ limitedBy: 'quota', ms: 2 * 3_600_000 });
    const label = p.perKind.find((k) => k.kind === 'github.label')!;
    expect(label.rate.basis).toBe('blended');
    expect(label.rateMs).toBeCloseTo((10 / (110 / 15)) * 1000, 6);
    expect(label).toMatchObject({ quotaMs: 0, limitedBy: 'rate' });
    expect(p.perScope.find((x) => x.scope === 's1')!.ms).toBeCloseTo(100_000 + (10 / (110 / 15)) * 1000, 6);
    expect(s.ratio).toBeCloseTo(7_200_000 / 42_000, 9);
    expect(p.assumptions.join('\n')).toMatch(/4 at a time/);
    expect(p.assumptions.join('\n')).toMatch(/github\.star \(possessed but not restorable/);
    expect(p.assumptions.join('\n')).toMatch(/500 per h, per standby account/);
  });

  it('uses per-scope budgets (Gmail units per user) and the pool size; drill rates come first', async () => {
    const repo = new FakeRepository();
    for (const scope of ['mbx~a', 'mbx~b']) {
      repo.addRun({ type: 'export', source: 'gw', scope, startedAt: t(0), finishedAt: t(1), seqTo: 10 });
      repo.setLive('gw', scope, [...many('gmail.message', 10_000, 50_000), ...many('gmail.label', 20)]);
    }
    repo.addRun({ type: 'import', source: 'gw', scope: 'mbx~a', startedAt: t(1), finishedAt: t(2), seqTo: 10, stats: { items: 10, bytes: 0, ms: 1_000 }, summary: { failed: [], perKind: { 'gmail.message': 10 } } });
    repo.addDrill('gw', { ...drill('no-restore', 5, 20_000), source: 'gw', imported: { 'gmail.message': { items: 500, bytes: 25_000_000, ms: 10_000 } } });
    const one = src('gw', GOOGLE, Infinity, { concurrency: 1 });
    let r = await computeRto(repo, { sources: [one], now: t(60) });
    let p = r.sources[0]!.classic.projection!;
    const msg = p.perKind.find((k) => k.kind === 'gmail.message')!;
    expect(msg.rate).toMatchObject({ itemsPerSec: 50, bytesPerSec: 2_500_000, basis: 'drill' });
    // 10,000 messages x 25 units under 250 units/s: 999 s per mailbox; at 50/s it would be 200 s.
    expect(msg).toMatchObject({ limitedBy: 'quota' });
    expect(msg.quotaMs).toBe(2 * 999_000); // two mailboxes, one at a time
    // Per mailbox: labels at the blended 10/s (2 s) after the messages (999 s); together the mailbox's
    // 250,100 units need 1000 s at least, less than the 1001 s of the kinds one after another.
    expect(p.perScope.map((x) => x.ms)).toEqual([1_001_000, 1_001_000]);
    expect(p.ms).toBe(2_002_000); // one mailbox at a time
    r = await computeRto(repo, { sources: [{ ...one, concurrency: 2 }], now: t(60) });
    expect(r.sources[0]!.classic.ms).toBe(1_001_000);
    // New projects: 6,000 units/min per user.
    r = await computeRto(repo, { sources: [{ ...one, concurrency: 2 }], quotas: { google: GOOGLE_NEW_PROJECT_QUOTA }, now: t(60) });
    p = r.sources[0]!.classic.projection!;
    expect(p.ms).toBe((Math.ceil(250_000 / 6_000) - 1) * MIN + 2_000);
  });

  it('cannot project without any measured import, and says so', async () => {
    const repo = new FakeRepository();
    repo.addRun({ type: 'export', source: 'gh', scope: 's1', startedAt: t(0), finishedAt: t(1), seqTo: 10 });
    repo.setLive('gh', 's1', many('github.issue', 10));
    const r = await computeRto(repo, { sources: [src('gh', GH)], now: t(60) });
    const s = r.sources[0]!;
    expect(s.classic).toMatchObject({ basis: 'unknown', ms: null });
    expect(s.classic.projection!.perKind[0]).toMatchObject({ kind: 'github.issue', limitedBy: 'unknown', ms: null, items: 10 });
    expect(s.classic.projection!.assumptions.join('\n')).toMatch(/No import has been measured yet/);
    expect(s.ratio).toBeNull();
  });
});
