/**
 * Issue 4, must show: the no-restore loop through the built CLI against GitHub source, standby and
 * fresh (empty) emulators. RPO proven right: the source is changed at known wall-clock times and the
 * RPO `status` reports is checked against those times and against what the standby really holds;
 * a standby that disagrees stops that kind (only) from advancing. Then drill, drill --fresh,
 * status exit codes against objectives, and the gap report in every format.
 */
import { copyFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubPair, type GithubPair } from '../helpers/github-pair.js';
import { finished, jsonLines, runCli, startCli, type CliResult } from '../helpers/cli.js';

interface KindRow {
  kind: string;
  rpoMs: number | null;
  sourceTimeThrough: string | null;
  status: string;
  findings: number;
}
interface ScopeRow extends KindRow {
  scope: string;
  kinds: KindRow[];
  findings: number;
}
interface SourceKindRow extends KindRow {
  worstScope: string | null;
}
interface Miss {
  source: string;
  kind: string | null;
  metric: 'rpo' | 'rto';
  valueMs: number | null;
  objectiveMs: number;
  message: string;
}
interface Drill {
  event: 'drill';
  mode: 'no-restore' | 'fresh';
  ok: boolean;
  totalMs: number;
  findings: number;
  steps: Array<{ name: string; ms: number }>;
  runbook: Array<{ title: string; details: string[] }>;
}
interface Status {
  event: 'status';
  now: string;
  ok: boolean;
  rpo: { sources: Array<{ source: string; rpoMs: number | null; status: string; worstScope: string | null; scopes: ScopeRow[]; kinds: SourceKindRow[] }> };
  rto: { sources: Array<{ noRestore: { ms: number | null; drill: { ok: boolean } | null }; classic: { basis: string; ms: number | null } }> };
  missed: Miss[];
}

const SEED = { profile: 'large' as const, repos: 2, issuesPerRepo: 3, commentsPerIssue: 1, prsPerRepo: 1 };
const REPOS = ['repo-0001', 'repo-0002'];
const scopeId = (repo: string): string => `repo~acme~${repo}`;
/** Issue #1 of each seeded repository is a pull request; #2 is a plain issue. */
const DRIFTED = { repo: 'repo-0001', number: 2 };

let pair: GithubPair;
/** Set by the drill tests, read by the objectives test. */
let drillMs: number | null = null;
let freshDrillMs: number | null = null;
const config = (): string => pair.configFile;
const t = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

function one<T>(r: CliResult, event: string): T {
  const line = jsonLines(r.stdout).find((l) => l.event === event);
  expect(line, `a ${event} line in: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`).toBeDefined();
  return line as T;
}

/** Run a command and note the wall-clock window it ran in. */
async function windowed(args: string[]): Promise<{ r: CliResult; from: number; to: number }> {
  const from = Date.now();
  const r = await runCli(args);
  return { r, from, to: Date.now() };
}

/** Like windowed, and calls `during` as soon as the first scope has started (mid-cycle). */
async function windowedWithChangeDuring(args: string[], during: () => void): Promise<{ r: CliResult; from: number; to: number }> {
  const from = Date.now();
  const child = startCli(args);
  const done = finished(child);
  let seen = '';
  let fired = false;
  child.stdout?.on('data', (d: Buffer) => {
    seen += d.toString();
    if (!fired && seen.includes('"msg":"scope started"')) {
      fired = true;
      during();
    }
  });
  const r = await done;
  expect(fired, 'a scope started line').toBe(true);
  return { r, from, to: Date.now() };
}

interface Change {
  repo: string;
  number: number;
  title: string;
  /** Wall-clock time just before the change was made at the source. */
  at: number;
}

/**
 * The reported RPO is a claim: every change made at the source at or before the proven source time
 * of its scope and kind is on the standby. Checked for every change made so far, against the standby.
 */
async function expectClaimsHold(s: Status, changes: Change[]): Promise<number> {
  let claimed = 0;
  for (const c of changes) {
    const through = t(s.rpo.sources[0]!.scopes.find((x) => x.scope === scopeId(c.repo))!.kinds.find((k) => k.kind === 'github.issue')!.sourceTimeThrough);
    if (!(through >= c.at)) continue;
    claimed++;
    expect((await issues('standby', c.repo)).get(c.number), `${c.repo}#${c.number} made at ${new Date(c.at).toISOString()}, claimed by a proof through ${new Date(through).toISOString()}`).toBe(c.title);
  }
  return claimed;
}

function change(repo: string, title: string): Change {
  const at = Date.now();
  return { repo, title, at, number: pair.source.mutate.createIssue(repo, { title, body: 'made at a known time' }).number };
}

async function status(file = config()): Promise<{ code: number | null; s: Status }> {
  const r = await runCli(['status', '--config', file, '--json']);
  return { code: r.code, s: one<Status>(r, 'status') };
}

function octo(side: 'source' | 'standby' | 'fresh'): { o: Octokit; owner: string } {
  const emu = pair[side];
  if (!emu) throw new Error(`no ${side} emulator`);
  return { o: new Octokit({ baseUrl: emu.baseUrl, auth: emu.credentials.token }), owner: { source: 'acme', standby: 'acme-dr', fresh: 'acme-fresh' }[side] };
}

async function issues(side: 'source' | 'standby' | 'fresh', repo: string): Promise<Map<number, string>> {
  const { o, owner } = octo(side);
  const list = await o.paginate(o.rest.issues.listForRepo, { owner, repo, state: 'all', per_page: 100 });
  return new Map(list.map((i) => [i.number, i.title]));
}

/**
 * When each export of a scope started reading the source: its run manifest's startedAt, read from the
 * storage as docs/FORMAT.md describes it (plain JSON under runs/<source>/<scope>/<number>).
 */
async function exportStarts(scope: string): Promise<number[]> {
  const root = join(pair.dir, 'repo', 'runs', 'acme-github');
  const out: number[] = [];
  for (const dir of await readdir(root)) {
    for (const f of await readdir(join(root, dir))) {
      if (!/^\d{10}$/.test(f)) continue;
      const m = JSON.parse(await readFile(join(root, dir, f), 'utf8')) as { type: string; scope: string; startedAt: string };
      if (m.type === 'export' && m.scope === scope) out.push(t(m.startedAt));
    }
  }
  return out;
}

/**
 * Every kind of every scope, and every kind of the source, proven through the time the export of the
 * window [from, to] (a cycle, a drill) started reading the source: not when it committed, imported or
 * verified (changes made in between are not in the standby).
 */
async function expectAllThrough(s: Status, from: number, to: number, except: { scope: string; kind: string } | null = null): Promise<void> {
  const src = s.rpo.sources[0]!;
  const now = t(s.now);
  expect(src.scopes.map((x) => x.scope).sort()).toEqual(REPOS.map(scopeId));
  for (const sc of src.scopes) {
    expect(sc.kinds.length, `${sc.scope} has kinds`).toBeGreaterThanOrEqual(5);
    const started = (await exportStarts(sc.scope)).filter((x) => x >= from && x <= to);
    expect(started, `one export of ${sc.scope} in the window`).toHaveLength(1);
    for (const k of sc.kinds) {
      if (except && sc.scope === except.scope && k.kind === except.kind) continue;
      const through = t(k.sourceTimeThrough);
      expect(through, `${sc.scope} ${k.kind} proven through ${k.sourceTimeThrough}, window ${new Date(from).toISOString()}..${new Date(to).toISOString()}`).toBe(started[0]);
      expect(k.rpoMs, `${sc.scope} ${k.kind}: RPO = now - source time proven`).toBe(now - through);
      expect(k.status).toBe('proven');
    }
  }
  for (const k of src.kinds) {
    if (k.status === 'not-restorable' || k.status === 'no-data' || k.kind === except?.kind) continue;
    const through = t(k.sourceTimeThrough);
    expect(through >= from && through <= to, `source kind ${k.kind} proven through ${k.sourceTimeThrough}`).toBe(true);
  }
  // The source's RPO is its worst scope's; a scope's is its worst kind's.
  for (const sc of src.scopes) expect(sc.rpoMs).toBe(Math.max(...sc.kinds.map((k) => k.rpoMs ?? Infinity)));
  expect(src.rpoMs).toBe(Math.max(...src.scopes.map((x) => x.rpoMs ?? Infinity)));
}

beforeAll(async () => {
  pair = await githubPair({ seed: SEED, fresh: true });
  // Generous objectives: status is 0 only once everything is proven and a drill measured the RTO.
  await pair.writeConfig({ objectives: { rpo: '1h', rto: '1h' } });
  const init = await runCli(['init', '--config', config()]);
  expect(init.code, init.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await pair?.close();
});

describe('the no-restore loop through the CLI (GitHub emulators)', () => {
  it('before any cycle: never proven is a missed objective (1); bad input is 2; no repository is 3', async () => {
    await pair.writeConfig({ storage: { type: 'fs', path: './not-a-repository' } });
    await copyFile(config(), join(pair.dir, 'no-repo.yaml'));
    await pair.writeConfig({ objectives: { rpo: '1h', rto: '1h' } });
    const [st, unknown, format, noRepo] = await Promise.all([
      status(),
      runCli(['status', '--config', config(), '--source', 'nope']),
      runCli(['report', '--config', config(), '--format', 'pdf']),
      runCli(['status', '--config', join(pair.dir, 'no-repo.yaml')]),
    ]);
    expect(st.code).toBe(1);
    expect(st.s.ok).toBe(false);
    expect(st.s.rpo.sources[0]?.status).toBe('never-proven');
    expect(st.s.missed.some((m) => m.metric === 'rpo' && m.valueMs === null && /never proven/.test(m.message))).toBe(true);
    expect(st.s.missed.some((m) => m.metric === 'rto' && /never measured: run norestore drill/.test(m.message))).toBe(true);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toMatch(/unknown source nope/);
    expect(format.code, format.stderr).toBe(2);
    expect(format.stderr).toMatch(/--format/);
    expect(noRepo.code, noRepo.stderr).toBe(3);
  }, 240_000);

  it('RPO proven right: changes at known times, reported RPO bounded by them, a disagreeing standby stops only its kind', async () => {
    // Cycle 1: everything proven through a source time inside the cycle's window.
    const c1 = await windowed(['cycle', '--config', config(), '--json']);
    expect(c1.r.code, c1.r.stdout + c1.r.stderr).toBe(0);
    const changeA = change('repo-0002', 'change A, after cycle 1');
    const s1 = (await status()).s;
    await expectAllThrough(s1, c1.from, c1.to);
    // The change is not claimed: every proven source time is before it, and the standby indeed lacks it.
    for (const sc of s1.rpo.sources[0]!.scopes) expect(t(sc.sourceTimeThrough)).toBeLessThan(changeA.at);
    expect(s1.rpo.sources[0]!.rpoMs!).toBeGreaterThan(t(s1.now) - changeA.at);
    expect((await issues('standby', 'repo-0002')).has(changeA.number)).toBe(false);
    expect(await expectClaimsHold(s1, [changeA])).toBe(0);

    // Cycle 2 starts after change A; change B is made while it runs (exported or not, depending on
    // timing: either way the claim must hold). Change A is claimed, and the standby holds it.
    let changeB: Change | undefined;
    const c2 = await windowedWithChangeDuring(['cycle', '--config', config(), '--json'], () => (changeB = change('repo-0002', 'change B, during cycle 2')));
    expect(c2.r.code, c2.r.stdout + c2.r.stderr).toBe(0);
    const s2 = (await status()).s;
    await expectAllThrough(s2, c2.from, c2.to);
    for (const sc of s2.rpo.sources[0]!.scopes) expect(t(sc.sourceTimeThrough)).toBeGreaterThan(changeA.at);
    expect((await issues('standby', 'repo-0002')).get(changeA.number)).toBe('change A, after cycle 1');
    expect(await expectClaimsHold(s2, [changeA, changeB!])).toBeGreaterThanOrEqual(1);
    const issueThroughBefore = s2.rpo.sources[0]!.scopes.find((x) => x.scope === scopeId(DRIFTED.repo))!.kinds.find((k) => k.kind === 'github.issue')!.sourceTimeThrough;

    // The standby disagrees: an issue title edited there directly. The cycle reports it (exit 1) ...
    const original = (await issues('source', DRIFTED.repo)).get(DRIFTED.number)!;
    pair.standby.mutate.editIssue(DRIFTED.repo, DRIFTED.number, { title: 'edited on the standby behind norestore' });
    const c3 = await windowed(['cycle', '--config', config(), '--json']);
    expect(c3.r.code, c3.r.stdout + c3.r.stderr).toBe(1);
    const cycle3 = one<{ ok: boolean; scopes: Array<{ scope: string; ok: boolean; findings?: number }> }>(c3.r, 'cycle');
    expect(cycle3.scopes.find((x) => x.scope === scopeId(DRIFTED.repo))).toMatchObject({ ok: false, findings: 1 });
    expect(cycle3.scopes.find((x) => x.scope === scopeId('repo-0002'))).toMatchObject({ ok: true, findings: 0 });
    // ... and only that kind of that scope stops advancing; every other kind advances to cycle 3.
    const s3 = (await status()).s;
    const drifted = { scope: scopeId(DRIFTED.repo), kind: 'github.issue' };
    await expectAllThrough(s3, c3.from, c3.to, drifted);
    const src3 = s3.rpo.sources[0]!;
    const scope3 = src3.scopes.find((x) => x.scope === drifted.scope)!;
    const issue3 = scope3.kinds.find((k) => k.kind === 'github.issue')!;
    expect(issue3.sourceTimeThrough).toBe(issueThroughBefore);
    expect(issue3.findings).toBe(1);
    expect(issue3.rpoMs).toBe(t(s3.now) - t(issueThroughBefore));
    expect(scope3.rpoMs).toBe(issue3.rpoMs);
    expect(scope3.findings).toBe(1);
    const kind3 = src3.kinds.find((k) => k.kind === 'github.issue')!;
    expect(kind3).toMatchObject({ worstScope: drifted.scope, sourceTimeThrough: issueThroughBefore, findings: 1 });
    expect(src3.rpoMs).toBe(issue3.rpoMs);
    // Change B (made during cycle 2) is claimed now at the latest, and on the standby.
    expect(await expectClaimsHold(s3, [changeA, changeB!])).toBe(2);

    // Repaired on the standby: the next verification (the drill's, below) lets the kind advance again.
    pair.standby.mutate.editIssue(DRIFTED.repo, DRIFTED.number, { title: original });
  }, 240_000);

  it('drill: catches up a pending change, verifies, times each step; status shows the measured no-restore RTO', async () => {
    const pending = pair.source.mutate.createIssue('repo-0001', { title: 'pending when the drill starts' });
    const d = await windowed(['drill', '--config', config(), '--json']);
    expect(d.r.code, d.r.stdout + d.r.stderr).toBe(0);
    const drill = one<Drill>(d.r, 'drill');
    expect(drill).toMatchObject({ mode: 'no-restore', ok: true, findings: 0 });
    expect(drill.steps.map((s) => s.name)).toEqual(['catch-up export of pending source changes', 'catch-up import into the standby', 'verify the standby', 'switch steps (dry-run)']);
    expect(drill.totalMs).toBe(drill.steps.reduce((n, s) => n + s.ms, 0));
    expect(drill.totalMs).toBeLessThanOrEqual(d.to - d.from);
    expect(drill.runbook.some((s) => s.details.some((x) => x.includes('acme-dr/repo-0001.git')))).toBe(true);
    // The catch-up was real: the standby holds the pending change, and the repaired kind advanced again.
    expect((await issues('standby', 'repo-0001')).get(pending.number)).toBe('pending when the drill starts');
    const { code, s } = await status();
    await expectAllThrough(s, d.from, d.to);
    expect(s.rto.sources[0]!.noRestore.ms).toBe(drill.totalMs);
    drillMs = drill.totalMs;
    expect(s.rto.sources[0]!.classic.basis).toBe('projected');
    expect(code, JSON.stringify(s.missed)).toBe(0);
    expect(s.ok).toBe(true);
  }, 240_000);

  it('drill --fresh: restores everything into the empty tenant, verified and timed: the classic RTO, measured', async () => {
    const fresh = octo('fresh');
    expect(await fresh.o.paginate(fresh.o.rest.repos.listForOrg, { org: 'acme-fresh' })).toHaveLength(0);
    const standbyBefore = await Promise.all(REPOS.map((r) => issues('standby', r)));
    const d = await windowed(['drill', '--fresh', '--config', config(), '--json']);
    expect(d.r.code, d.r.stdout + d.r.stderr).toBe(0);
    const drill = one<Drill>(d.r, 'drill');
    expect(drill).toMatchObject({ mode: 'fresh', ok: true, findings: 0 });
    expect(drill.totalMs).toBeGreaterThan(0);
    expect(drill.totalMs).toBeLessThanOrEqual(d.to - d.from);
    for (const repo of REPOS) {
      // Same numbers and titles as the source: a restore, not an approximation.
      expect(Object.fromEntries(await issues('fresh', repo)), `acme-fresh/${repo}`).toEqual(Object.fromEntries(await issues('source', repo)));
    }
    // The standby was not touched by the fresh drill.
    expect(await Promise.all(REPOS.map((r) => issues('standby', r)))).toEqual(standbyBefore);
    freshDrillMs = drill.totalMs;
  }, 240_000);

  it('status exit codes against objectives, and the report in every format', async () => {
    const file = (name: string): string => join(pair.dir, name);
    await pair.writeConfig({ objectives: { rpo: '1h', rto: '1h' } }, { objectives: { kinds: { 'github.issue': { rpo: '1ms' } } } });
    await copyFile(config(), file('issue-rpo.yaml'));
    await pair.writeConfig({ objectives: { rpo: '1h', rto: '1ms' } });
    await copyFile(config(), file('rto.yaml'));
    await pair.writeConfig({ objectives: { rpo: '1h', rto: '1h' } });
    // (status exits 0 with these objectives: asserted after the drill above.)
    const [issueRpo, rto, text, json, md, html] = await Promise.all([
      status(file('issue-rpo.yaml')),
      status(file('rto.yaml')),
      runCli(['report', '--config', file('issue-rpo.yaml')]),
      runCli(['report', '--config', config(), '--format', 'json']),
      runCli(['report', '--config', config(), '--format', 'md', '--out', file('report.md')]),
      runCli(['report', '--config', config(), '--format', 'html', '--out', file('report.html')]),
    ]);

    // A per-kind objective overrides the source's: only github.issue misses.
    expect(issueRpo.code).toBe(1);
    expect(issueRpo.s.missed.map((m) => [m.kind, m.metric, m.objectiveMs])).toEqual([['github.issue', 'rpo', 1]]);
    expect(issueRpo.s.missed[0]!.valueMs!).toBeGreaterThan(1);
    // The RTO objective is judged on the measured no-restore drill; the classic RTO was measured by drill --fresh.
    expect(rto.code).toBe(1);
    expect(drillMs).not.toBeNull();
    expect(rto.s.missed.map((m) => [m.kind, m.metric, m.valueMs])).toEqual([[null, 'rto', drillMs]]);
    expect(rto.s.rto.sources[0]!.noRestore.ms).toBe(drillMs);
    expect(rto.s.rto.sources[0]!.classic).toMatchObject({ basis: 'measured', ms: freshDrillMs });

    // The report exits like status: 1 with the missed objective (and says so), 0 when all are met.
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(/github\.issue/);
    expect(text.stdout).toMatch(/MISSED|missed/);
    for (const r of [json, md, html]) expect(r.code, r.stdout.slice(-1000) + r.stderr).toBe(0);

    // JSON: coverage of every kind, also those not possessed, with the reason; fidelity observed; freshness.
    const data = JSON.parse(json.stdout) as {
      coverage: Array<{ kind: string; status: string; reason: string; verification: string; items: number | null }>;
      fidelity: Array<{ kind: string; preserved: string[]; lost: unknown[]; observed: { matched: number; stored: number; mismatched: number } }>;
      rpo: { sources: Array<{ kinds: KindRow[] }> };
      rto: { sources: Array<{ classic: { basis: string } }> };
      missed: Miss[];
    };
    const cov = new Map(data.coverage.map((c) => [c.kind, c]));
    expect(cov.get('github.issue')).toMatchObject({ status: 'possessed-and-restorable', verification: 'clean' });
    expect(cov.get('github.issue')!.items).toBeGreaterThan(0);
    expect(cov.get('github.discussion')).toMatchObject({ status: 'not-possessed' });
    expect(cov.get('github.discussion')!.reason).toMatch(/GraphQL/);
    const issueFidelity = data.fidelity.find((f) => f.kind === 'github.issue')!;
    expect(issueFidelity.preserved).toContain('title');
    expect(issueFidelity.observed.mismatched).toBe(0);
    expect(issueFidelity.observed.matched).toBe(issueFidelity.observed.stored);
    expect(data.rpo.sources[0]!.kinds.find((k) => k.kind === 'github.issue')!.status).toBe('proven');
    expect(data.rto.sources[0]!.classic.basis).toBe('measured');
    expect(data.missed).toEqual([]);

    // Text, Markdown, HTML carry the same facts.
    for (const [name, body] of [
      ['text', text.stdout],
      ['md', await readFile(file('report.md'), 'utf8')],
      ['html', await readFile(file('report.html'), 'utf8')],
    ] as const) {
      expect(body, name).toContain('github.issue');
      expect(body, name).toContain('Discussions');
      expect(body, name).toContain('acme-github');
    }
    expect(md.stdout).toContain('report written to');
    expect(await readFile(file('report.md'), 'utf8')).toMatch(/^# .*\n[\s\S]*\n\|.*\|\n\|[-: |]+\|\n/);
    const page = await readFile(file('report.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(page).not.toMatch(/<script/i);
  }, 240_000);
});
