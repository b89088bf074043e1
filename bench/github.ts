import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGithubConnector, repoScopeId, type GithubConnector, type GithubConnectorOptions } from '../connectors/github/index.js';
import { gitAuthConfig, gitEnv } from '../connectors/github/git.js';
import { startEmulator, type EmulatorStats, type RunningGithubEmulator } from '../emulators/index.js';
import { runCycle, type CycleResult, type StepName } from '../src/engine/cycle.js';
import { silentLogger } from '../src/engine/log.js';
import { exportStep } from '../src/engine/steps.js';
import type { ScopeRef } from '../src/model/connector.js';
import { initRepository } from '../src/store/repository.js';
import type { Repository } from '../src/store/types.js';
import { MB, rssSampler } from './_common.js';
import { createFsTarget } from '../targets/fs/index.js';

/**
 * GitHub benchmarks (issue 3), each figure printed beside its limit as a ratio from the same run:
 *
 * 1. git: the connector's export of a repository with real history (first: full bundle into an fs
 *    repository; then incremental, after a few new commits) beside `git clone --mirror` and
 *    `git fetch` of the same repository from the same emulator.
 * 2. no-change cycle over BENCH_GITHUB_REPOS repositories (default 200): a seeding cycle, then a
 *    cycle with nothing changed, with a fresh connector as every `norestore cycle` process has:
 *    wall time, requests per scope from the emulators' counters (304s apart), and the primary-limit
 *    cost (x-ratelimit used) beside GitHub's 5,000 requests per hour.
 * 3. import pacing: a standby emulator with GitHub's secondary limits (80 content-creating requests
 *    per minute, 500 per hour) on a faster clock, the connector told the same limits with its
 *    windows divided by the same factor (limitWindowScale); writes per (scaled) minute and hour
 *    beside the limits, and how many requests were refused (403/429). Two phases: clock 10x with
 *    fewer than 500 writes (the minute limit binds; at 60x a loaded machine cannot send 80 writes
 *    per real second, one at a time), and clock 60x with more than 500 (the hour limit binds).
 *
 * Emulators run in this process, so the peak RSS printed includes them; git runs in child processes
 * whose memory is not included.
 *
 *   npm run build && node dist/bench/github.js
 *   BENCH_GITHUB_REPOS=50 BENCH_GITHUB_PARTS=cycle node dist/bench/github.js
 *
 * Knobs (env): BENCH_GITHUB_PARTS (git,cycle,pacing), BENCH_GITHUB_REPOS (200),
 * BENCH_GITHUB_ISSUES (25 per repository), BENCH_GITHUB_CYCLE_STEPS (export, the default, or full:
 * export -> import -> verify in both the seeding and the no-change cycle), BENCH_GITHUB_CONCURRENCY
 * (4, the config default),
 * BENCH_GITHUB_GIT_COMMITS (2000), BENCH_GITHUB_GIT_BINARY_MB (2), BENCH_GITHUB_GIT_RUNS (3),
 * BENCH_GITHUB_GIT_NEW_COMMITS (20), BENCH_GITHUB_PACING_MINUTE_SCALE (10) and _MINUTE_ISSUES (90)
 * for the phase that crosses minute windows, BENCH_GITHUB_PACING_HOUR_SCALE (60) and _HOUR_ISSUES
 * (260) for the phase that crosses the hour window, BENCH_GITHUB_PACING_IMPORT_API (0: plain API,
 * 1: issue import endpoint).
 */

const SOURCE = 'bench';
/** GitHub's primary limit for a personal access token (requests per hour). */
const PRIMARY_PER_HOUR = 5000;
/** GitHub's secondary limits on content creation. */
const SECONDARY_PER_MINUTE = 80;
const SECONDARY_PER_HOUR = 500;
/**
 * Aims (this benchmark's own): git export within 3x git; a no-change cycle within one hour's
 * primary budget; pacing never over a limit, nothing refused, and (where the minute limit binds)
 * at least 0.8x as fast as the fastest schedule the limits allow.
 */
const AIM_GIT_RATIO = 3;
const AIM_PACING_EFFICIENCY = 0.8;

type Log = (line: string) => void;

// ------------------------------------------------------------------ env

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function envParts(): Set<string> {
  const raw = process.env.BENCH_GITHUB_PARTS;
  const all = ['git', 'cycle', 'pacing'];
  if (raw === undefined || raw.trim() === '') return new Set(all);
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) if (!all.includes(p)) throw new Error(`BENCH_GITHUB_PARTS: unknown part ${JSON.stringify(p)} (use any of ${all.join(',')})`);
  return new Set(list);
}

// ------------------------------------------------------------------ small helpers

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const fmtS = (s: number): string => `${s.toFixed(2)} s`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Samples RSS while a part runs (maxRSS of the process cannot be reset between parts). */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args[0] ?? ''} exited with ${code}: ${err.trim()}`))));
  });
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

function tenant(emu: RunningGithubEmulator): GithubConnectorOptions['source'] {
  return { baseUrl: emu.baseUrl, org: emu.orgs[0]!, auth: { type: 'token', token: emu.credentials.token } };
}

/** x-ratelimit used of the emulator admin's token (GET /rate_limit is free, as on GitHub). */
async function primaryUsed(emu: RunningGithubEmulator): Promise<number> {
  const res = await fetch(`${emu.baseUrl}/rate_limit`, { headers: { authorization: `token ${emu.credentials.token}`, accept: 'application/vnd.github+json' } });
  if (!res.ok) throw new Error(`GET /rate_limit answered ${res.status}`);
  const body = (await res.json()) as { resources: { core: { used: number } } };
  return body.resources.core.used;
}

interface StatsDelta {
  requests: number;
  notModified: number;
  throttled: number;
  throttledSecondary: number;
  contentCreated: number;
  byRoute: Record<string, number>;
}

function statsDelta(a: EmulatorStats, b: EmulatorStats): StatsDelta {
  const byRoute: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.byRoute)) {
    const d = v - (a.byRoute[k] ?? 0);
    if (d) byRoute[k] = d;
  }
  return {
    requests: b.requests - a.requests,
    notModified: b.notModified - a.notModified,
    throttled: b.throttled - a.throttled,
    throttledSecondary: b.throttledSecondary - a.throttledSecondary,
    contentCreated: b.contentCreated - a.contentCreated,
    byRoute,
  };
}

async function openRepo(dir: string): Promise<Repository> {
  return initRepository(createFsTarget({ path: dir }), { spoolDir: path.dirname(dir) });
}

// ------------------------------------------------------------------ part 1: git

/** Deterministic text: lines of words from a small PRNG (mulberry32). */
class Text {
  private s: number;
  private static readonly WORDS = 'export import cycle scope bundle mirror fetch commit branch tag issue label pacing window limit token verify standby source journal segment blob'.split(' ');
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  line(): string {
    const n = 6 + this.int(10);
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(Text.WORDS[this.int(Text.WORDS.length)]!);
    return `${w.join(' ')} ${this.int(1e9)}`;
  }
}

interface HistoryOptions {
  commits: number;
  /** Text files in the tree (each about 8 KB), 3 rewritten per commit. */
  textFiles: number;
  /** Every this many commits a binary file of binaryBytes random bytes is added. */
  binaryEvery: number;
  binaryBytes: number;
  /** Every this many commits a tag; every 5 tags a release branch. */
  tagEvery: number;
  /** Continue refs/heads/main of the repository (incremental rounds). */
  continueFrom: boolean;
  label: string;
}

/** Generate history with `git fast-import` into the bare repository `dir`. */
async function generateHistory(dir: string, o: HistoryOptions, files: Map<string, string[]>, rnd: Text, clock: { t: number }): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'], env: gitEnv() });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const closed = once(child, 'close');
  const write = async (chunk: string | Buffer): Promise<void> => {
    if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
  };
  const data = async (body: string | Buffer): Promise<void> => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    await write(`data ${buf.length}\n`);
    await write(buf);
    await write('\n');
  };
  for (let c = 1; c <= o.commits; c++) {
    clock.t += 60 + rnd.int(3600);
    await write(`commit refs/heads/main\nmark :${c}\ncommitter Bench Author <bench@example.invalid> ${clock.t} +0000\n`);
    await data(`${o.label} commit ${c}: ${rnd.line()}\n`);
    if (c === 1 && o.continueFrom) await write('from refs/heads/main^0\n');
    for (let k = 0; k < 3; k++) {
      const name = `src/module-${String(rnd.int(o.textFiles)).padStart(4, '0')}.txt`;
      let lines = files.get(name);
      if (!lines) {
        lines = Array.from({ length: 100 }, () => rnd.line());
        files.set(name, lines);
      } else {
        for (let j = 0; j < 5; j++) lines[rnd.int(lines.length)] = rnd.line();
        lines.push(rnd.line());
      }
      await write(`M 100644 inline ${name}\n`);
      await data(lines.join('\n') + '\n');
    }
    if (c % o.binaryEvery === 0) {
      await write(`M 100644 inline assets/${o.label}-${c}.bin\n`);
      await data(randomBytes(o.binaryBytes));
    }
    if (c % o.tagEvery === 0) {
      await write(`reset refs/tags/${o.label}-v${c}\nfrom :${c}\n\n`);
      if ((c / o.tagEvery) % 5 === 0) await write(`reset refs/heads/release/${o.label}-${c}\nfrom :${c}\n\n`);
    }
  }
  await write('done\n');
  child.stdin.end();
  const [code] = (await closed) as [number | null];
  if (code !== 0) throw new Error(`git fast-import failed (exit ${code}): ${err.trim()}`);
}

interface GitPartResult {
  ok: boolean;
}

async function gitPart(work: string, log: Log): Promise<GitPartResult> {
  const commits = envInt('BENCH_GITHUB_GIT_COMMITS', 2000);
  const binaryMB = envInt('BENCH_GITHUB_GIT_BINARY_MB', 2, 0);
  const runs = envInt('BENCH_GITHUB_GIT_RUNS', 3);
  const newCommits = envInt('BENCH_GITHUB_GIT_NEW_COMMITS', 20);
  const rss = rssSampler();
  const source = await startEmulator('github', { role: 'source', org: 'bench', seed: 'empty', limits: { primaryLimit: 1_000_000 } });
  try {
    const org = source.orgs[0]!;
    const name = 'history';
    await source.mutate.createRepo(name, { autoInit: false, hasWiki: false, description: 'benchmark history' });
    const url = `${source.gitUrl}/${org}/${name}.git`;
    const env = gitEnv(gitAuthConfig(source.gitUrl, source.credentials.token));

    // A local repository with real history, pushed over smart HTTP.
    const local = path.join(work, 'local.git');
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', local], { env: gitEnv() });
    const files = new Map<string, string[]>();
    const rnd = new Text(42);
    const clock = { t: Math.floor(Date.UTC(2020, 0, 1) / 1000) };
    const hist = { textFiles: 300, binaryEvery: 250, binaryBytes: binaryMB * 2 ** 20, tagEvery: 100 };
    let t0 = process.hrtime.bigint();
    await generateHistory(local, { ...hist, commits, continueFrom: false, label: 'base' }, files, rnd, clock);
    await run('git', ['push', '--quiet', '--mirror', url], { cwd: local, env });
    const pushedS = seconds(t0);
    const refs = (await run('git', ['for-each-ref', '--format=%(refname)'], { cwd: local, env: gitEnv() })).trim().split('\n').length;
    const localBytes = await dirBytes(path.join(local, 'objects'));
    log(`git: ${commits} commits, ${refs} refs, ${(localBytes / MB).toFixed(1)} MB of objects (text files rewritten per commit, ${binaryMB} MiB binary every ${hist.binaryEvery} commits); generated and pushed in ${fmtS(pushedS)}`);
    log(`git: ${runs} runs each, medians; aim: connector export <= ${AIM_GIT_RATIO}x git`);

    const connector = createGithubConnector({ source: tenant(source), standby: tenant(source), log: silentLogger });
    const scope: ScopeRef = { id: repoScopeId(org, name), type: 'repo', name: `${org}/${name}` };
    const exportOnce = async (repo: Repository, cacheDir: string): Promise<{ s: number; bytes: number; rest: number }> => {
      const lease = await repo.acquireLease(SOURCE, scope.id);
      const before = source.stats();
      try {
        const t = process.hrtime.bigint();
        await exportStep({ repo, connector, source: SOURCE, scope, lease, cacheDir, signal: new AbortController().signal, log: silentLogger });
        const s = seconds(t);
        const d = statsDelta(before, source.stats());
        const git = Object.entries(d.byRoute).filter(([k]) => k.startsWith('GIT ')).reduce((n, [, v]) => n + v, 0);
        // The record names the new bundle and (again) every bundle of the chain: count the new one.
        const rec = (await repo.liveRecords(SOURCE, scope.id)).get('github.git')?.get('git');
        return { s, bytes: rec?.blobs?.bundle?.size ?? 0, rest: d.requests - git };
      } finally {
        await lease.release();
      }
    };

    // Full: clone --mirror vs first export (fresh repository and cache each run), alternating.
    await run('git', ['clone', '--mirror', '--quiet', url, path.join(work, 'warmup.git')], { env }); // warm caches alike for both
    await rm(path.join(work, 'warmup.git'), { recursive: true, force: true });
    const cloneS: number[] = [];
    const exportS: number[] = [];
    let mirror = '';
    let repo: Repository | null = null;
    let cacheDir = '';
    let bundleBytes = 0;
    let restFull = 0;
    for (let i = 0; i < runs; i++) {
      if (mirror) await rm(mirror, { recursive: true, force: true });
      mirror = path.join(work, `mirror-${i}.git`);
      t0 = process.hrtime.bigint();
      await run('git', ['clone', '--mirror', '--quiet', url, mirror], { env });
      cloneS.push(seconds(t0));
      if (repo) await repo.close();
      await rm(path.join(work, `store-${i - 1}`), { recursive: true, force: true });
      await rm(path.join(work, `cache-${i - 1}`), { recursive: true, force: true });
      repo = await openRepo(path.join(work, `store-${i}`));
      cacheDir = path.join(work, `cache-${i}`);
      const r = await exportOnce(repo, cacheDir);
      exportS.push(r.s);
      bundleBytes = r.bytes;
      restFull = r.rest;
    }
    const mirrorBytes = await dirBytes(path.join(mirror, 'objects'));
    const fullRatio = median(exportS) / median(cloneS);
    log(`git clone --mirror        ${fmtS(median(cloneS)).padStart(9)}  (${(mirrorBytes / MB).toFixed(1)} MB of objects)`);
    log(`connector first export    ${fmtS(median(exportS)).padStart(9)}  ${fullRatio.toFixed(2)}x clone --mirror  (bundle ${(bundleBytes / MB).toFixed(1)} MB stored; ${restFull} REST requests besides git)`);

    // Incremental: new commits pushed, then git fetch in the mirror vs the connector's next export.
    const fetchS: number[] = [];
    const incS: number[] = [];
    let incBytes = 0;
    let restInc = 0;
    for (let i = 0; i < runs; i++) {
      await generateHistory(local, { ...hist, binaryEvery: Math.max(1, Math.floor(newCommits / 2)), binaryBytes: Math.max(1, binaryMB) * 2 ** 19, commits: newCommits, continueFrom: true, label: `inc${i}` }, files, rnd, clock);
      await run('git', ['push', '--quiet', '--mirror', url], { cwd: local, env });
      t0 = process.hrtime.bigint();
      await run('git', ['fetch', '--quiet', '--prune', 'origin'], { cwd: mirror, env });
      fetchS.push(seconds(t0));
      const r = await exportOnce(repo!, cacheDir);
      incS.push(r.s);
      incBytes = r.bytes;
      restInc = r.rest;
    }
    await repo?.close();
    const incRatio = median(incS) / median(fetchS);
    log(`git fetch (mirror)        ${fmtS(median(fetchS)).padStart(9)}  (${newCommits} new commits per round)`);
    log(`connector next export     ${fmtS(median(incS)).padStart(9)}  ${incRatio.toFixed(2)}x git fetch  (incremental bundle ${(incBytes / MB).toFixed(2)} MB; ${restInc} REST requests besides git)`);
    log(`git part peak RSS         ${rss.stop().toFixed(0).padStart(6)} MB`);
    return { ok: fullRatio <= AIM_GIT_RATIO && incRatio <= AIM_GIT_RATIO };
  } finally {
    rss.stop();
    await source.stop();
  }
}

// ------------------------------------------------------------------ part 2: no-change cycle

function perScopeTable(label: string, d: StatsDelta, scopes: number, primary: number, log: Log): void {
  const git = Object.entries(d.byRoute).filter(([k]) => k.startsWith('GIT ')).reduce((n, [, v]) => n + v, 0);
  const rest = d.requests - git;
  const per = (n: number): string => (n / scopes).toFixed(2).padStart(7);
  log(`  ${label.padEnd(8)} requests ${per(d.requests)}/scope  REST ${per(rest)} (304: ${per(d.notModified)})  git ${per(git)}  primary-limit cost ${per(primary)}  [totals: ${d.requests} requests, ${d.notModified} 304s, ${primary} counted]`);
  const routes = Object.entries(d.byRoute).sort((a, b) => b[1] - a[1]);
  for (const [route, n] of routes) log(`    ${per(n)}/scope  ${route}`);
}

interface CyclePartResult {
  ok: boolean;
}

async function cyclePart(work: string, log: Log): Promise<CyclePartResult> {
  const repos = envInt('BENCH_GITHUB_REPOS', 200);
  const issues = envInt('BENCH_GITHUB_ISSUES', 25 * repos, 0);
  const concurrency = envInt('BENCH_GITHUB_CONCURRENCY', 4);
  // Default export only: importing 200 repositories into the standby (about 100 content-creating
  // requests each, sent one at a time) takes tens of minutes on a small machine.
  const mode = process.env.BENCH_GITHUB_CYCLE_STEPS || 'export';
  if (mode !== 'full' && mode !== 'export') throw new Error(`BENCH_GITHUB_CYCLE_STEPS must be export or full, got ${JSON.stringify(mode)}`);
  const steps: StepName[] = mode === 'full' ? ['export', 'import', 'verify'] : ['export'];
  const rss = rssSampler();
  // Primary limits raised so the seeding cycle need not wait an hour for a reset; the no-change
  // cycle's cost is read from x-ratelimit used and set beside GitHub's 5,000 per hour.
  const big = 100_000_000;
  const t0 = process.hrtime.bigint();
  const [source, standby] = await Promise.all([
    startEmulator('github', { role: 'source', org: 'acme', seed: `large:repos=${repos},issues=${issues}`, limits: { primaryLimit: big } }),
    startEmulator('github', { role: 'standby', org: 'acme-dr', limits: { primaryLimit: big, secondaryPerMinute: big, secondaryPerHour: big }, importDelayMs: 0 }),
  ]);
  const repo = await openRepo(path.join(work, 'cycle-store'));
  const cacheDir = path.join(work, 'cycle-cache');
  const connectorOpts: GithubConnectorOptions = { source: tenant(source), standby: tenant(standby), contentCreationPerMinute: big, contentCreationPerHour: big, log: silentLogger };
  const cycle = async (connector: GithubConnector): Promise<{ result: CycleResult; client: ReturnType<GithubConnector['stats']> }> => {
    try {
      const result = await runCycle({ repo, connector, source: SOURCE, cacheDir, log: silentLogger, concurrency, steps });
      return { result, client: connector.stats() };
    } finally {
      await connector.close();
    }
  };
  try {
    log(`cycle: ${repos} repositories, ${source.seed.issues} issues, ${source.seed.pulls} pull requests, ${source.seed.comments} comments (seeded in ${fmtS(seconds(t0))}); steps ${steps.join(' -> ')}; ${concurrency} scopes at a time`);
    let t = process.hrtime.bigint();
    const { result: first } = await cycle(createGithubConnector(connectorOpts));
    const firstS = seconds(t);
    const bad1 = first.scopes.filter((s) => !s.ok);
    log(`seeding cycle             ${fmtS(firstS).padStart(9)}  ${first.scopes.length - bad1.length}/${first.scopes.length} scopes ok`);
    for (const s of bad1.slice(0, 5)) log(`  NOT OK ${s.name}: ${s.failedStep ?? ''} ${s.error ?? ''}`);

    // No changes: a fresh connector (no in-memory ETag cache), as a new `norestore cycle` process.
    const [u0s, u0b] = await Promise.all([primaryUsed(source), primaryUsed(standby)]);
    const s0 = source.stats();
    const b0 = standby.stats();
    t = process.hrtime.bigint();
    const { result: second, client: cs } = await cycle(createGithubConnector(connectorOpts));
    const secondS = seconds(t);
    const ds = statsDelta(s0, source.stats());
    const db = statsDelta(b0, standby.stats());
    const [u1s, u1b] = await Promise.all([primaryUsed(source), primaryUsed(standby)]);
    const bad2 = second.scopes.filter((s) => !s.ok);
    const n = second.scopes.length;
    const exported = second.scopes.reduce((k, s) => k + (s.exported ?? 0), 0);
    const imported = second.scopes.reduce((k, s) => k + (s.imported ?? 0), 0);
    const stepMs = (step: StepName): string => {
      const xs = second.scopes.map((s) => s.steps[step]).filter((x): x is number => x !== undefined);
      return xs.length ? `${step} ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(0)} ms` : '';
    };
    const cost = u1s - u0s + (u1b - u0b);
    log(`no-change cycle           ${fmtS(secondS).padStart(9)}  ${n - bad2.length}/${n} scopes ok, ${exported} records exported, ${imported} imported; ${(secondS * 1000 / n).toFixed(0)} ms per scope of wall time; mean per scope: ${[stepMs('export'), stepMs('import'), stepMs('verify')].filter(Boolean).join(', ')}`);
    for (const s of bad2.slice(0, 5)) log(`  NOT OK ${s.name}: ${s.failedStep ?? ''} ${s.error ?? ''}`);
    perScopeTable('source', ds, n, u1s - u0s, log);
    perScopeTable('standby', db, n, u1b - u0b, log);
    log(`  connector's own count: source ${cs.source.requests} requests (${cs.source.notModified} 304), standby ${cs.standby.requests} (${cs.standby.notModified} 304), ${cs.source.writes + cs.standby.writes} writes, ${cs.source.throttled + cs.standby.throttled} throttled`);
    const perHourSource = (u1s - u0s) / PRIMARY_PER_HOUR;
    const perHourStandby = (u1b - u0b) / PRIMARY_PER_HOUR;
    log(`primary-limit cost        source ${u1s - u0s} = ${perHourSource.toFixed(3)}x GitHub's ${PRIMARY_PER_HOUR}/h; standby ${u1b - u0b} = ${perHourStandby.toFixed(3)}x; ${((u1s - u0s) / n).toFixed(2)} + ${((u1b - u0b) / n).toFixed(2)} per scope; no-change cycles per hour within the budget: ${cost ? Math.floor(PRIMARY_PER_HOUR / Math.max(u1s - u0s, u1b - u0b)) : 'unbounded'}`);
    log(`cycle part peak RSS       ${rss.stop().toFixed(0).padStart(6)} MB`);
    return { ok: first.ok && second.ok && perHourSource <= 1 && perHourStandby <= 1 };
  } finally {
    rss.stop();
    await repo.close();
    await Promise.all([source.stop(), standby.stop()]);
  }
}

// ------------------------------------------------------------------ part 3: import pacing

/** Largest number of timestamps (sorted) inside any window of `ms`. */
function maxInWindow(ts: number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < ts.length; j++) {
    while (ts[j]! - ts[i]! >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Shortest time (ms) in which n requests can be sent under both sliding windows (first at 0). */
function fastestSchedule(n: number, minuteMs: number, hourMs: number): number {
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = i ? s[i - 1]! : 0;
    if (i >= SECONDARY_PER_MINUTE) t = Math.max(t, s[i - SECONDARY_PER_MINUTE]! + minuteMs);
    if (i >= SECONDARY_PER_HOUR) t = Math.max(t, s[i - SECONDARY_PER_HOUR]! + hourMs);
    s.push(t);
  }
  return s.length ? s[s.length - 1]! : 0;
}

interface PacingPhase {
  /** What the phase shows. */
  label: string;
  /** Emulator clock speed-up; the connector's windows are divided by the same. */
  scale: number;
  issues: number;
  /** Aim the run at >= AIM_PACING_EFFICIENCY x the fastest schedule the limits allow. */
  aimEfficiency: boolean;
}

interface SeriesFigures {
  n: number;
  minute: number;
  hour: number;
  burst: number;
  efficiency: number;
}

async function pacingPhase(work: string, phase: PacingPhase, importApi: boolean, log: Log): Promise<boolean> {
  const { scale } = phase;
  const minuteMs = 60_000 / scale;
  const hourMs = 3_600_000 / scale;
  const [source, standby] = await Promise.all([
    startEmulator('github', { role: 'source', org: 'acme', seed: `large:repos=2,issues=${phase.issues}` }),
    // GitHub's limits unchanged (80/min, 500/h); the emulator's clock runs `scale` times faster.
    startEmulator('github', { role: 'standby', org: 'acme-dr', timeScale: scale, limits: { secondaryPerMinute: SECONDARY_PER_MINUTE, secondaryPerHour: SECONDARY_PER_HOUR } }),
  ]);
  const repo = await openRepo(path.join(work, `pacing-store-${scale}`));
  const cacheDir = path.join(work, `pacing-cache-${scale}`);
  // Every write sent to the standby (client side, retries included) and every creation it counted.
  const writes: number[] = [];
  const created: number[] = [];
  const realFetch = globalThis.fetch;
  const standbyOrigin = new URL(standby.baseUrl).origin;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (href.startsWith(standbyOrigin) && ['POST', 'PATCH', 'PUT', 'DELETE'].includes(method)) writes.push(performance.now());
    return realFetch(input, init);
  };
  const limiter = standby.server.limiter;
  const check = limiter.checkCreation.bind(limiter);
  limiter.checkCreation = (key: string) => {
    const r = check(key);
    if (r === null) created.push(performance.now());
    return r;
  };
  try {
    const opts: GithubConnectorOptions = {
      source: tenant(source),
      standby: tenant(standby),
      // The limits as GitHub states them; only the windows shrink with the emulator's clock.
      contentCreationPerMinute: SECONDARY_PER_MINUTE,
      contentCreationPerHour: SECONDARY_PER_HOUR,
      limitWindowScale: scale,
      useImportEndpoint: importApi,
      log: silentLogger,
    };
    log(`${phase.label}: clock ${scale}x (a minute lasts ${(minuteMs / 1000).toFixed(1)} s, an hour ${(hourMs / 1000).toFixed(0)} s); source ${source.seed.repos.length} repositories, ${source.seed.issues} issues, ${source.seed.pulls} pull requests, ${source.seed.comments} comments`);
    const exportConnector = createGithubConnector(opts);
    await runCycle({ repo, connector: exportConnector, source: SOURCE, cacheDir, log: silentLogger, steps: ['export'] });
    await exportConnector.close();
    const b0 = standby.stats();
    const connector = createGithubConnector(opts);
    const t0 = process.hrtime.bigint();
    const result = await runCycle({ repo, connector, source: SOURCE, cacheDir, log: silentLogger, steps: ['import', 'verify'] });
    const importS = seconds(t0);
    const cs = connector.stats().standby;
    await connector.close();
    const d = statsDelta(b0, standby.stats());
    const bad = result.scopes.filter((s) => !s.ok);
    log(`  import + verify         ${fmtS(importS).padStart(9)} = ${((importS * 1000) / minuteMs).toFixed(1)} scaled minutes; ${result.scopes.length - bad.length}/${result.scopes.length} scopes verified`);
    for (const s of bad.slice(0, 5)) log(`  NOT OK ${s.name}: ${s.failedStep ?? ''} ${s.error ?? ''}`);

    const figures = (ts: number[]): SeriesFigures => {
      const n = ts.length;
      const spanMs = n > 1 ? ts[n - 1]! - ts[0]! : 0;
      // Burst: the first writes up to the hourly budget, which only the minute limit may slow down.
      const k = Math.min(n, SECONDARY_PER_HOUR);
      const burstMin = k > 1 ? (ts[k - 1]! - ts[0]!) / minuteMs : 0;
      const best = fastestSchedule(n, minuteMs, hourMs);
      return { n, minute: maxInWindow(ts, minuteMs), hour: maxInWindow(ts, hourMs), burst: burstMin > 0 ? (k - 1) / burstMin : 0, efficiency: spanMs > 0 ? best / spanMs : 1 };
    };
    const w = figures(writes);
    const c = figures(created);
    const spanMin = writes.length > 1 ? (writes[writes.length - 1]! - writes[0]!) / minuteMs : 0;
    log(
      `  writes sent (paced)     ${String(w.n).padStart(5)} over ${spanMin.toFixed(1)} scaled minutes (${Math.floor(spanMin)} minute windows, ${(spanMin / 60).toFixed(2)} hours); ${c.n} of them counted as content creation by the standby\n` +
        `  peak in any minute      ${String(w.minute).padStart(5)}  ${(w.minute / SECONDARY_PER_MINUTE).toFixed(2)}x the ${SECONDARY_PER_MINUTE}/min limit   (counted creations: ${c.minute}, ${(c.minute / SECONDARY_PER_MINUTE).toFixed(2)}x)\n` +
        `  peak in any hour        ${String(w.hour).padStart(5)}  ${(w.hour / SECONDARY_PER_HOUR).toFixed(2)}x the ${SECONDARY_PER_HOUR}/h limit    (counted creations: ${c.hour}, ${(c.hour / SECONDARY_PER_HOUR).toFixed(2)}x)\n` +
        `  rate, first ${String(Math.min(w.n, SECONDARY_PER_HOUR)).padEnd(4)}       ${w.burst.toFixed(1).padStart(6)}/min  ${(w.burst / SECONDARY_PER_MINUTE).toFixed(2)}x the ${SECONDARY_PER_MINUTE}/min limit (before the hourly budget is spent)\n` +
        `  whole run               ${(spanMin > 0 ? (w.n - 1) / spanMin : 0).toFixed(1).padStart(6)}/min; the limits allow these ${w.n} writes in no less than ${(fastestSchedule(w.n, minuteMs, hourMs) / minuteMs).toFixed(1)} scaled minutes = ${w.efficiency.toFixed(2)}x the time taken\n` +
        `  throttled               ${String(d.throttled).padStart(5)}  refused by the standby (403/429; ${d.throttledSecondary} secondary), ${cs.throttled} seen by the connector; ${(cs.pacedMs / 1000).toFixed(1)} s waited in the pacer (summed over scopes)`,
    );
    const fastEnough = !phase.aimEfficiency || w.efficiency >= AIM_PACING_EFFICIENCY;
    return result.ok && d.throttled === 0 && cs.throttled === 0 && w.minute <= SECONDARY_PER_MINUTE && w.hour <= SECONDARY_PER_HOUR && fastEnough;
  } finally {
    globalThis.fetch = realFetch;
    limiter.checkCreation = check;
    await repo.close();
    await Promise.all([source.stop(), standby.stop()]);
  }
}

async function pacingPart(work: string, log: Log): Promise<{ ok: boolean }> {
  const importApi = process.env.BENCH_GITHUB_PACING_IMPORT_API === '1';
  const rss = rssSampler();
  log(
    `pacing: standby emulators with GitHub's limits (${SECONDARY_PER_MINUTE}/min, ${SECONDARY_PER_HOUR}/h content creation) on a faster clock; the connector with contentCreationPerMinute ${SECONDARY_PER_MINUTE}, contentCreationPerHour ${SECONDARY_PER_HOUR} and limitWindowScale = the clock's speed-up; issues through ${importApi ? 'the import endpoint' : 'the plain API'}\n` +
      `pacing: aims: never over either limit, nothing refused, and in the minute-window phase >= ${AIM_PACING_EFFICIENCY}x as fast as the fastest schedule the limits allow`,
  );
  try {
    let ok = await pacingPhase(work, { label: 'minute windows', scale: envInt('BENCH_GITHUB_PACING_MINUTE_SCALE', 10), issues: envInt('BENCH_GITHUB_PACING_MINUTE_ISSUES', 90), aimEfficiency: true }, importApi, log);
    ok = (await pacingPhase(work, { label: 'hour window', scale: envInt('BENCH_GITHUB_PACING_HOUR_SCALE', 60), issues: envInt('BENCH_GITHUB_PACING_HOUR_ISSUES', 260), aimEfficiency: false }, importApi, log)) && ok;
    log(`pacing part peak RSS      ${rss.stop().toFixed(0).padStart(6)} MB`);
    return { ok };
  } finally {
    rss.stop();
  }
}

// ------------------------------------------------------------------ main

export async function benchGithub(log: Log = (l) => console.log(l)): Promise<boolean> {
  const parts = envParts();
  const work = await mkdtemp(path.join(os.tmpdir(), 'norestore-bench-github-'));
  let ok = true;
  try {
    if (parts.has('git')) {
      log('--- 1. git export beside git clone --mirror / git fetch');
      const dir = path.join(work, 'git');
      await mkdir(dir);
      ok = (await gitPart(dir, log)).ok && ok;
    }
    if (parts.has('cycle')) {
      log('--- 2. no-change cycle');
      const dir = path.join(work, 'cycle');
      await mkdir(dir);
      ok = (await cyclePart(dir, log)).ok && ok;
    }
    if (parts.has('pacing')) {
      log('--- 3. import pacing under the secondary limits');
      const dir = path.join(work, 'pacing');
      await mkdir(dir);
      ok = (await pacingPart(dir, log)).ok && ok;
    }
    log(`process maxRSS            ${((process.resourceUsage().maxRSS * 1024) / MB).toFixed(0).padStart(6)} MB (emulators included, git children not)`);
    log(ok ? 'aims met' : 'AIMS MISSED (see above)');
    return ok;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

try {
  const ok = await benchGithub();
  process.exit(ok ? 0 : 1);
} catch (err: unknown) {
  console.error(`github benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(2);
}
