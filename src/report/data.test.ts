import { beforeAll, describe, expect, it } from 'vitest';
import { FakeRepository } from '../metrics/fixtures/fake-repo.js';
import type { KindSpec } from '../model/kinds.js';
import { buildReport, redactLocation, type ReportData } from './data.js';
import { SAMPLE_NOW, sampleReportInput } from './fixtures/sample.js';

describe('buildReport on the sample', () => {
  let data: ReportData;
  beforeAll(async () => {
    data = await buildReport(sampleReportInput());
  });

  it('covers every kind of each service: possessed and restorable, not restorable, not possessed', () => {
    const row = (kind: string) => data.coverage.find((c) => c.kind === kind)!;
    expect(row('github.issue')).toMatchObject({ service: 'github', status: 'possessed-and-restorable', verification: 'findings', items: 747, sources: ['acme-github'] });
    expect(row('github.issue').reason).toBe('exported via GET /issues?state=all&since=; imported via POST /import/issues; 2 field(s) lost on import');
    expect(row('github.label')).toMatchObject({ status: 'possessed-and-restorable', verification: 'clean' });
    expect(row('github.star')).toMatchObject({ status: 'possessed-but-not-restorable', verification: 'n/a' });
    expect(row('github.star').reason).toContain('no API stars on their behalf');
    for (const k of ['github.discussion', 'github.project', 'github.actions-secret', 'github.package', 'chat.message', 'forms.response', 'keep.note', 'teams.channelMessage', 'planner.task']) {
      expect(row(k).status).toBe('not-possessed');
      expect(row(k).reason.length).toBeGreaterThan(5);
    }
    expect(data.totals.kinds).toEqual({ 'possessed-and-restorable': 13, 'possessed-but-not-restorable': 1, 'not-possessed': 9 });
    // Grouped by service, restorable first.
    expect(data.coverage.map((c) => c.service)).toEqual([...data.coverage.map((c) => c.service)].sort());
  });

  it('reports fidelity as declared and as observed, with import failures and why', () => {
    const issue = data.fidelity.find((f) => f.source === 'acme-github' && f.kind === 'github.issue')!;
    expect(issue.preserved).toContain('title');
    expect(issue.lost.map((l) => l.field)).toEqual(['user', 'reactions']);
    expect(issue.observed).toMatchObject({ scopesVerified: 3, stored: 747, mismatched: 1, matched: 746 });
    expect(issue.mismatchedFields).toEqual([
      { field: 'body', items: 1 },
      { field: 'title', items: 1 },
    ]);
    expect(issue.findings).toHaveLength(1);
    expect(issue.findings[0]).toMatchObject({ scope: 'repo~acme~gadgets', id: '57', type: 'mismatch' });
    const release = data.fidelity.find((f) => f.kind === 'github.release')!;
    expect(release.importFailuresTotal).toBe(1);
    expect(release.importFailures).toEqual([{ scope: 'repo~acme~gadgets', id: 'v2.0.0', error: 'asset gadgets-linux.tar.gz: 2.1 GiB > 2 GiB upload limit (422)' }]);
    expect(release.failureReasons).toEqual([{ error: 'asset gadgets-linux.tar.gz: 2.1 GiB > 2 GiB upload limit (422)', items: 1 }]);
    // The import-failed finding is the same item: listed once, under import failures.
    expect(release.findings).toEqual([]);
    expect(release.findingsTotal).toBe(1);
    expect(release.observed.importFailed).toBe(1);
    const star = data.fidelity.find((f) => f.kind === 'github.star')!;
    expect(star).toMatchObject({ restorable: false, findingsTotal: 0 });
  });

  it('puts RPO per kind and RTO side by side, and lists every objective missed', () => {
    const gh = data.sources.find((s) => s.name === 'acme-github')!;
    expect(gh).toMatchObject({ service: 'github', scopes: 3, rpoMs: 35 * 60_000, noRestoreRtoMs: 200_000, classicBasis: 'projected', findings: 2, importFailures: 1 });
    expect(gh.classicRtoMs).toBe(5 * 3_600_000);
    const gw = data.sources.find((s) => s.name === 'acme-workspace')!;
    expect(gw).toMatchObject({ classicBasis: 'measured', classicRtoMs: 33_120_000, noRestoreRtoMs: 372_000 });
    expect(data.missed.map((m) => `${m.metric} ${m.source} ${m.kind ?? '*'}`)).toEqual(['rpo acme-github github.issue', 'rpo acme-workspace gmail.label', 'rpo acme-workspace gmail.message', 'rto acme-m365 *']);
    expect(data.totals.objectivesMissed).toBe(4);
    expect(data.generatedAt).toBe(SAMPLE_NOW.toISOString());
    expect(data.rpo.history.length).toBe(13);
  });
});

describe('buildReport details', () => {
  const spec: KindSpec = { kind: 'github.issue', service: 'github', title: 'Issues', dependsOn: [], possession: 'restorable', exportVia: 'REST', importVia: 'REST', fidelity: { preserved: ['title'], lost: [] } };

  it('lists up to the limit and counts the rest; never-verified kinds say so', async () => {
    const repo = new FakeRepository();
    const t = (m: number): Date => new Date(Date.UTC(2026, 0, 1, 0, m));
    repo.addRun({ type: 'export', source: 'gh', scope: 's', startedAt: t(0), finishedAt: t(1), seqFrom: 1, seqTo: 30 });
    repo.addRun({ type: 'import', source: 'gh', scope: 's', startedAt: t(1), finishedAt: t(2), seqTo: 30, stats: { items: 25, bytes: 0, failed: 5, ms: 1000 }, summary: { failed: Array.from({ length: 5 }, (_, i) => ({ kind: 'github.issue', id: `f${i}`, error: i < 3 ? 'HTTP 422 <invalid>' : 'timeout' })), perKind: { 'github.issue': 30 } } });
    const findings = Array.from({ length: 8 }, (_, i) => ({ kind: 'github.issue', id: `m${i}`, type: 'mismatch' as const, fields: ['title'], detail: 'x' }));
    repo.addVerify({ source: 'gh', scope: 's', startedAt: t(2), finishedAt: t(3), seqTo: 30, proof: { sourceTimeThrough: null, counts: { 'github.issue': { stored: 30, standby: 25, matched: 17, mismatched: 8, missing: 5, extra: 0 } }, digests: {}, findings, findingsTruncated: 2 } });
    const other: KindSpec = { ...spec, kind: 'github.milestone', title: 'Milestones' };
    const data = await buildReport({ repo, now: t(10), listLimit: 3, sources: [{ name: 'gh', service: 'github', kinds: [spec, other], uncovered: [], objectives: () => ({ rpoMs: Infinity, rtoMs: Infinity }) }] });
    const f = data.fidelity.find((x) => x.kind === 'github.issue')!;
    expect(f.findings).toHaveLength(3);
    expect(f.findingsTotal).toBe(8);
    expect(f.findingsNotListed).toBe(5);
    expect(f.importFailures).toHaveLength(3);
    expect(f.importFailuresTotal).toBe(5);
    expect(f.failureReasons).toEqual([
      { error: 'HTTP 422 <invalid>', items: 3 },
      { error: 'timeout', items: 2 },
    ]);
    expect(data.sources[0]).toMatchObject({ findings: 10, unattributedFindings: 2, importFailures: 5 });
    expect(data.coverage.find((c) => c.kind === 'github.milestone')).toMatchObject({ verification: 'not-verified', items: null });
    expect(data.missed).toEqual([]);
  });

  it('never shows credentials of the repository location', () => {
    expect(redactLocation('s3://AKIAEXAMPLE:s3cr3t@minio.local:9000/bucket/prefix')).toBe('s3://***@minio.local:9000/bucket/prefix');
    expect(redactLocation('https://host/bucket?X-Amz-Signature=abc')).toBe('https://host/bucket');
    expect(redactLocation('/var/lib/norestore')).toBe('/var/lib/norestore');
  });
});
