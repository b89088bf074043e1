import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCycle } from '../src/engine/cycle.js';
import { silentLogger } from '../src/engine/log.js';
import type { Connector, ExportContext, ImportContext, ImportResult, ScopeRef, StandbyItem } from '../src/model/connector.js';
import type { KindSpec } from '../src/model/kinds.js';
import type { ChangeRecord, Cursor } from '../src/model/records.js';
import { initRepository } from '../src/store/repository.js';
import type { Repository } from '../src/store/types.js';
import { createFsTarget } from '../targets/fs/index.js';

/**
 * Memory benchmark: does the engine's memory stay flat as items grow?
 *
 * A synthetic in-process connector (no emulator, no network) exports N items of about 1 KB of raw
 * JSON each; its standby is an append-only file per scope that importChanges writes and readStandby
 * reads back. The real engine (runCycle: export, import, verify) runs into an fs repository in a
 * temporary directory. Each N runs in a child process of its own, so that its peak RSS
 * (maxRSS of the process) is exact; RSS is also sampled per step.
 *
 * 1. scale: N = BENCH_MEMORY_ITEMS (default 25000,50000,100000; 200000 takes another ~2 minutes):
 *    peak RSS per step and per N, and the slope of peak RSS against N in bytes per item, beside the
 *    size of one item's journal line (what holding every record would cost, before parsing). Aims:
 *    export and verify hold no record per item: slope <= 1x the line; import holds one batch of the
 *    records it applies (Connector.importChanges takes an array): slope <= 2.5x the line.
 * 2. daemon: BENCH_MEMORY_SCOPES scopes (default 20) of BENCH_MEMORY_SCOPE_ITEMS items (default
 *    10000) cycled one after another through one open repository, like the run daemon; memory after
 *    a forced GC after the first scope, half way and at the end. What one scope leaves behind once its
 *    cycle is over must not add up: aim: (end - half way) / items cycled in between <= 0.05x the line
 *    size (a few bytes per item, i.e. at most a bounded cache of recent scopes).
 *
 *   npm run build && node dist/bench/memory.js       (children run with --expose-gc)
 *   BENCH_MEMORY_PARTS=daemon BENCH_MEMORY_SCOPES=10 node dist/bench/memory.js
 *   BENCH_MEMORY_ITEMS=25000,50000,100000,200000 node dist/bench/memory.js
 */

const MB = 1e6;
const RAW_BODY = 1000;
const FOLDERS = 10;
/** Slope aims per step, as multiples of the journal line of one item. */
const SLOPE_AIMS: Record<string, number> = { export: 1, import: 2.5, verify: 1 };
const DAEMON_AIM = 0.05;

const log = (line: string): void => console.log(line);

function numList(name: string, def: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const out = raw.split(',').map((s) => Number(s.trim()));
  for (const n of out) if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a comma-separated list of positive integers, got ${JSON.stringify(raw)}`);
  return out;
}

// The synthetic connector ------------------------------------------------------------------------

const KINDS: KindSpec[] = [
  {
    kind: 'bench.folder',
    service: 'google',
    title: 'Synthetic folders',
    dependsOn: [],
    possession: 'restorable',
    exportVia: 'generated in process',
    importVia: 'appended to a local file',
    fidelity: { preserved: ['name'], lost: [] },
  },
  {
    kind: 'bench.item',
    service: 'google',
    title: 'Synthetic items (about 1 KB of raw JSON)',
    dependsOn: ['bench.folder'],
    possession: 'restorable',
    exportVia: 'generated in process',
    importVia: 'appended to a local file',
    fidelity: { preserved: ['subject', 'from', 'labels', 'folder', 'date', 'bodySha256'], lost: [] },
  },
];

/** 1 MB of deterministic base64 text; an item's body is a slice of it at an offset of its own. */
const POOL = (() => {
  const parts: string[] = [];
  for (let k = 0; parts.length * 88 < 1 << 20; k++) parts.push(createHash('sha512').update(String(k)).digest('base64'));
  return parts.join('');
})();

function body(i: number, n: number): string {
  const off = (i * 7919) % (POOL.length - n);
  return POOL.slice(off, off + n);
}

/** Ids whose sort order is not the export order (as real message ids are). */
const itemId = (scope: string, i: number): string => createHash('sha1').update(`${scope}/${i}`).digest('hex').slice(0, 16);

interface ItemRaw {
  subject: string;
  from: string;
  labels: string[];
  folder: string;
  date: string;
  body: string;
}

function normalizeRaw(kind: string, raw: unknown): Record<string, unknown> {
  if (kind === 'bench.folder') return { name: (raw as { name: string }).name };
  const r = raw as ItemRaw;
  return { subject: r.subject, from: r.from, labels: r.labels, folder: r.folder, date: r.date, bodySha256: createHash('sha256').update(r.body).digest('hex'), size: r.body.length };
}

export class SyntheticConnector implements Connector {
  readonly service = 'google' as const;
  readonly kinds = KINDS;
  readonly uncovered = [];

  constructor(
    private readonly standbyDir: string,
    private readonly scopeItems: Map<string, number>,
  ) {}

  async scopes(): Promise<ScopeRef[]> {
    return [...this.scopeItems.keys()].map((id) => ({ id, type: 'mailbox', name: id }));
  }

  async exportScope(scope: ScopeRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
    if (cursor !== null) return cursor; // nothing changes after the first export
    const n = this.scopeItems.get(scope.id) ?? 0;
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let f = 0; f < FOLDERS; f++) {
      await ctx.emit({ kind: 'bench.folder', id: `f${f}`, op: 'upsert', version: '1', sourceTime: new Date(t0).toISOString(), raw: { name: `Folder ${f}` } });
    }
    for (let i = 0; i < n; i++) {
      const date = new Date(t0 + i * 1000).toISOString();
      const raw: ItemRaw = { subject: `Item ${i} of ${scope.id}`, from: `user${i % 97}@example.com`, labels: ['INBOX', `L${i % 7}`], folder: `f${i % FOLDERS}`, date, body: body(i, RAW_BODY) };
      await ctx.emit({ kind: 'bench.item', id: itemId(scope.id, i), op: 'upsert', version: date, sourceTime: date, raw });
      if (i % 1000 === 999) ctx.progress({ items: 1000 });
    }
    return { exported: n };
  }

  async importChanges(scope: ScopeRef, records: ChangeRecord[], ctx: ImportContext): Promise<ImportResult> {
    const out = createWriteStream(path.join(this.standbyDir, `${scope.id}.ndjson`), { flags: 'a' });
    const result: ImportResult = { imported: 0, unchanged: 0, deleted: 0, failed: [] };
    try {
      for (const r of records) {
        if (r.op === 'delete') {
          ctx.idMap.delete(r.kind, r.id);
          result.deleted++;
          continue;
        }
        if (ctx.idMap.get(r.kind, r.id)?.version === r.version) {
          result.unchanged++;
          continue;
        }
        if (r.kind === 'bench.item') {
          // the parent, as a real connector looks up the parent of a comment or a message's folder
          const folder = (r.raw as ItemRaw).folder;
          if ((await ctx.lastRecord('bench.folder', folder)) === null) {
            result.failed.push({ kind: r.kind, id: r.id, error: `its folder ${folder} is not possessed` });
            continue;
          }
        }
        const standbyId = `sb-${r.id}`;
        const line = JSON.stringify({ kind: r.kind, sourceId: r.id, standbyId, normalized: normalizeRaw(r.kind, r.raw) }) + '\n';
        if (!out.write(line)) await once(out, 'drain');
        ctx.idMap.set(r.kind, r.id, { standbyId, version: r.version });
        result.imported++;
        ctx.progress({ items: 1, kind: r.kind });
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    return result;
  }

  async *readStandby(scope: ScopeRef): AsyncIterable<StandbyItem> {
    const file = path.join(this.standbyDir, `${scope.id}.ndjson`);
    if (!existsSync(file)) return;
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) if (line) yield JSON.parse(line) as StandbyItem;
  }

  async normalize(record: ChangeRecord): Promise<Record<string, unknown>> {
    return normalizeRaw(record.kind, record.raw);
  }

  async close(): Promise<void> {}
}

// Child: one measured run ---------------------------------------------------------------------------

interface StepFigure {
  step: string;
  ms: number;
  peakRssMB: number;
}

interface ScaleFigures {
  items: number;
  lineBytes: number;
  baseRssMB: number;
  maxRssMB: number;
  steps: StepFigure[];
  heapAfterMB: number;
}

interface DaemonFigures {
  scopes: number;
  items: number;
  lineBytes: number;
  /** heapUsed + external after a forced GC, after each scope's cycle. */
  heapAfterMB: number[];
  rssAfterMB: number[];
  maxRssMB: number;
}

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 25);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / MB;
    },
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  g();
  g();
}

function heapMB(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / MB;
}

const maxRssMB = (): number => (process.resourceUsage().maxRSS * 1024) / MB;

async function journalLineBytes(repo: Repository, source: string, scope: string): Promise<number> {
  for await (const r of repo.readJournal(source, scope)) if (r.kind === 'bench.item') return Buffer.byteLength(JSON.stringify(r)) + 1;
  return 0;
}

async function checkProof(repo: Repository, expected: number): Promise<void> {
  const state = await repo.scopeState('bench', 'mbox', { idMap: false });
  const proof = await repo.readDocument<{ counts: Record<string, { stored: number; matched: number }> }>(state.lastRuns.verify!.document!);
  const matched = Object.values(proof.counts).reduce((n, c) => n + c.matched, 0);
  if (matched !== expected) throw new Error(`verify matched ${matched} items, expected ${expected}`);
}

function checkCycle(result: Awaited<ReturnType<typeof runCycle>>, what: string): void {
  const bad = result.scopes.filter((s) => !s.ok);
  if (bad.length) throw new Error(`${what}: ${bad.map((s) => `${s.scope}: ${s.failedStep ?? ''} ${s.error ?? ''}`).join('; ')}`);
}

async function childScale(items: number): Promise<ScaleFigures> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'norestore-bench-memory-'));
  try {
    await mkdir(path.join(work, 'standby'));
    const repo = await initRepository(createFsTarget({ path: path.join(work, 'repo') }));
    const connector = new SyntheticConnector(path.join(work, 'standby'), new Map([['mbox', items]]));
    gc();
    const baseRssMB = process.memoryUsage.rss() / MB;
    const steps: StepFigure[] = [];
    try {
      for (const step of ['export', 'import', 'verify'] as const) {
        gc(); // what the previous step left as garbage is not this step's
        const rss = rssSampler();
        const t = performance.now();
        const r = await runCycle({ repo, connector, source: 'bench', cacheDir: path.join(work, 'cache'), log: silentLogger, steps: [step], concurrency: 1 });
        steps.push({ step, ms: Math.round(performance.now() - t), peakRssMB: rss.stop() });
        checkCycle(r, step);
      }
      await checkProof(repo, items + FOLDERS);
      const lineBytes = await journalLineBytes(repo, 'bench', 'mbox');
      gc();
      return { items, lineBytes, baseRssMB, maxRssMB: maxRssMB(), steps, heapAfterMB: heapMB() };
    } finally {
      await repo.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function childDaemon(scopes: number, items: number): Promise<DaemonFigures> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'norestore-bench-memory-'));
  try {
    await mkdir(path.join(work, 'standby'));
    const repo = await initRepository(createFsTarget({ path: path.join(work, 'repo') }));
    const ids = Array.from({ length: scopes }, (_, i) => `mbox${String(i).padStart(3, '0')}`);
    const connector = new SyntheticConnector(path.join(work, 'standby'), new Map(ids.map((id) => [id, items])));
    const heapAfterMB: number[] = [];
    const rssAfterMB: number[] = [];
    try {
      for (const id of ids) {
        const r = await runCycle({ repo, connector, source: 'bench', cacheDir: path.join(work, 'cache'), log: silentLogger, only: [id], concurrency: 1 });
        checkCycle(r, `cycle of ${id}`);
        gc();
        heapAfterMB.push(heapMB());
        rssAfterMB.push(process.memoryUsage.rss() / MB);
      }
      const lineBytes = await journalLineBytes(repo, 'bench', ids[0]!);
      return { scopes, items, lineBytes, heapAfterMB, rssAfterMB, maxRssMB: maxRssMB() };
    } finally {
      await repo.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// Parent: run the children, print the figures -------------------------------------------------------

function runChild<T>(args: string[]): T {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', self, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as T;
}

/** Least-squares slope of y against x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const f0 = (n: number, w = 7): string => n.toFixed(0).padStart(w);

export async function benchMemory(): Promise<boolean> {
  const parts = (process.env.BENCH_MEMORY_PARTS ?? 'scale,daemon').split(',').map((s) => s.trim());
  let ok = true;
  if (parts.includes('scale')) {
    const sizes = numList('BENCH_MEMORY_ITEMS', [25_000, 50_000, 100_000]);
    log(`scale: one scope of N items (~${RAW_BODY} B of raw body each), cycled export, import, verify in one process`);
    log(`      N  export peak  import peak  verify peak   maxRSS  base RSS  heap after   (MB; seconds per step)`);
    const rows: ScaleFigures[] = [];
    for (const n of sizes) {
      const r = runChild<ScaleFigures>(['--scale', String(n)]);
      rows.push(r);
      const [e, i, v] = r.steps;
      log(`${f0(n)}  ${f0(e!.peakRssMB, 11)}  ${f0(i!.peakRssMB, 11)}  ${f0(v!.peakRssMB, 11)}  ${f0(r.maxRssMB)}  ${f0(r.baseRssMB, 8)}  ${f0(r.heapAfterMB, 10)}   (${r.steps.map((s) => (s.ms / 1000).toFixed(1)).join(' / ')} s)`);
    }
    if (rows.length >= 2) {
      const xs = rows.map((r) => r.items);
      const line = rows[rows.length - 1]!.lineBytes;
      log(`journal line of one item: ${line} B`);
      const total = slope(xs, rows.map((r) => r.maxRssMB * MB));
      log(`peak RSS slope, whole cycle: ${f0(total, 0)} B/item = ${(total / line).toFixed(2)}x the journal line`);
      ['export', 'import', 'verify'].forEach((step, k) => {
        const b = slope(xs, rows.map((r) => r.steps[k]!.peakRssMB * MB));
        const aim = SLOPE_AIMS[step]!;
        log(`peak RSS slope, ${step.padEnd(6)}:      ${f0(b, 0)} B/item = ${(b / line).toFixed(2)}x the journal line (aim <= ${aim}x)`);
        if (b / line > aim) ok = false;
      });
    }
  }
  if (parts.includes('daemon')) {
    const scopes = numList('BENCH_MEMORY_SCOPES', [20])[0]!;
    const items = numList('BENCH_MEMORY_SCOPE_ITEMS', [10_000])[0]!;
    const r = runChild<DaemonFigures>(['--daemon', String(scopes), String(items)]);
    const half = Math.max(0, Math.floor(scopes / 2) - 1);
    const end = scopes - 1;
    const grew = r.heapAfterMB[end]! - r.heapAfterMB[half]!;
    const perItem = scopes - 1 > half ? (grew * MB) / ((end - half) * items) : 0;
    log(`daemon: ${scopes} scopes of ${items} items cycled one after another through one open repository`);
    log(`  heap+external after GC: after scope 1 ${r.heapAfterMB[0]!.toFixed(1)} MB, after ${half + 1} ${r.heapAfterMB[half]!.toFixed(1)} MB, after ${scopes} ${r.heapAfterMB[end]!.toFixed(1)} MB`);
    log(`  RSS after GC:           after scope 1 ${r.rssAfterMB[0]!.toFixed(0)} MB, after ${half + 1} ${r.rssAfterMB[half]!.toFixed(0)} MB, after ${scopes} ${r.rssAfterMB[end]!.toFixed(0)} MB; maxRSS ${r.maxRssMB.toFixed(0)} MB`);
    log(`  left behind per item cycled after scope ${half + 1}: ${perItem.toFixed(1)} B = ${(perItem / r.lineBytes).toFixed(3)}x the journal line (aim <= ${DAEMON_AIM}x)`);
    if (perItem / r.lineBytes > DAEMON_AIM) ok = false;
  }
  log(ok ? 'aims met' : 'AIMS MISSED (see above)');
  return ok;
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === '--scale') {
    console.log(JSON.stringify(await childScale(Number(a))));
    return;
  }
  if (mode === '--daemon') {
    console.log(JSON.stringify(await childDaemon(Number(a), Number(b))));
    return;
  }
  process.exitCode = (await benchMemory()) ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`memory benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  });
}
