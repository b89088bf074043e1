import type { Service } from '../model/kinds.js';
import type { Repository, RunManifest } from '../store/types.js';
import { announcedFindings, importFailuresOf, importPerKindOf, ms, readProof, scopeRuns, sourceScopes } from './runs.js';
import type { MetricsSource, ObjectiveMiss } from './types.js';
import { formatDuration, meets, objectiveOrNull, serviceOf, storageKey } from './types.js';

/**
 * Measured RPO (DESIGN.md, Verification, RPO, RTO). An export run E captured every source change
 * before E.startedAt. For a scope and kind, the RPO at `now` is now - E.startedAt of the newest export
 * run E such that, by commit times up to `now`:
 * - a committed import run covered it (cumulative exported seq through E <= imported seq), and
 * - a committed verify run started after E was committed, covered that seq, and its proof lists no
 *   finding of the kind (findings past the proof's listing limit cannot be attributed: they block every
 *   kind of the scope).
 * No such E: never proven (null, infinite), which misses any objective. Per source and per kind the
 * worst scope counts. Computed from committed manifests and proofs only, never estimated.
 */

export type RpoStatus =
  /** A value is proven. */
  | 'proven'
  /** Nothing proven yet (or findings blocked every verification so far): infinite. */
  | 'never-proven'
  /** The kind has no items in any scope yet: nothing to prove, no objective applies. */
  | 'no-data'
  /** The kind is possessed but cannot be imported: no standby, so no no-restore RPO. */
  | 'not-restorable';

export interface RpoValue {
  /** now - sourceTimeThrough; null = never proven (infinite), or not applicable (see status). */
  rpoMs: number | null;
  /** Source time through which every change is imported into the standby and verified. */
  sourceTimeThrough: string | null;
  /** null = no objective set. */
  objectiveMs: number | null;
  met: boolean;
  status: RpoStatus;
}

export interface ScopeKindRpo extends RpoValue {
  kind: string;
  /** Findings of this kind listed in the scope's latest proof. */
  findings: number;
}

export interface ScopeRpo extends RpoValue {
  source: string;
  scope: string;
  kinds: ScopeKindRpo[];
  /** Commit times (manifest finishedAt) of the latest runs; null = none. */
  lastExport: string | null;
  lastImport: string | null;
  lastVerify: string | null;
  /** now - startedAt of the newest export: how fresh the owned copy is (possession, not restorability). */
  exportLagMs: number | null;
  /** Findings of the latest proof (listed and truncated). */
  findings: number;
  /** Items that failed in the latest import run. */
  importFailures: number;
  exportedSeq: number;
  importedSeq: number;
  /** Seq covered by the latest verify run. */
  verifiedSeq: number;
}

export interface KindRpo extends RpoValue {
  source: string;
  kind: string;
  title: string;
  /** Scope with the largest RPO (a never-proven one first); null when no scope has the kind. */
  worstScope: string | null;
  /** Scopes holding the kind. */
  scopes: number;
  /** Findings of this kind in the latest proofs of all scopes. */
  findings: number;
  exportLagMs: number | null;
}

export interface SourceRpo extends RpoValue {
  source: string;
  service: Service | null;
  worstScope: string | null;
  scopes: ScopeRpo[];
  kinds: KindRpo[];
}

export interface RpoHistoryPoint {
  /** Commit time of a verify run (or `now` for the last point). */
  at: string;
  /** Worst (oldest) proven source time over the scopes holding the kind at that moment; null = not all proven. */
  sourceTimeThrough: string | null;
  /** at - sourceTimeThrough (null = never proven). Between points the RPO grows 1:1 with time. */
  rpoMs: number | null;
}

/** The RPO staircase of one kind of one source, for the chart. */
export interface RpoHistory {
  source: string;
  kind: string;
  title: string;
  objectiveMs: number | null;
  points: RpoHistoryPoint[];
}

export interface RpoReport {
  now: string;
  sources: SourceRpo[];
  history: RpoHistory[];
  missed: ObjectiveMiss[];
}

export interface ComputeRpoOptions {
  sources: readonly MetricsSource[];
  now: Date;
}

/** One verification event of one scope, with what it proved per kind. */
interface VerifyEvent {
  at: number;
  scope: string;
  /** Proven source time per kind after this event (cumulative, never goes back). */
  through: Map<string, number | null>;
}

interface ScopeComputation {
  row: ScopeRpo;
  /** Restorable kinds the scope holds. */
  kinds: Set<string>;
  firstRunAt: number | null;
  events: VerifyEvent[];
}

export async function computeRpo(repo: Repository, opts: ComputeRpoOptions): Promise<RpoReport> {
  const now = opts.now;
  const sources: SourceRpo[] = [];
  const history: RpoHistory[] = [];
  const missed: ObjectiveMiss[] = [];
  for (const src of opts.sources) {
    const { source, hist, miss } = await computeSource(repo, src, now);
    sources.push(source);
    history.push(...hist);
    missed.push(...miss);
  }
  return { now: now.toISOString(), sources, history, missed };
}

async function computeSource(repo: Repository, src: MetricsSource, now: Date): Promise<{ source: SourceRpo; hist: RpoHistory[]; miss: ObjectiveMiss[] }> {
  const nowMs = now.getTime();
  const specs = new Map(src.kinds.map((k) => [k.kind, k]));
  const notRestorable = new Set(src.kinds.filter((k) => k.possession !== 'restorable').map((k) => k.kind));
  const scopeIds = await sourceScopes(repo, storageKey(src), src.scopes);
  const comps: ScopeComputation[] = [];
  for (const scope of scopeIds) {
    const runs = await scopeRuns(repo, storageKey(src), scope, now);
    if (runs.length && runs.every((r) => r.type === 'drill')) continue; // a drill's own record, not a data scope
    comps.push(await computeScope(repo, src, scope, runs, notRestorable, nowMs));
  }

  // Per kind: restorable kinds declared or seen, then the declared not-restorable ones.
  const kindNames = new Set<string>();
  for (const k of src.kinds) if (k.possession === 'restorable') kindNames.add(k.kind);
  for (const c of comps) for (const k of c.kinds) kindNames.add(k);
  const kinds: KindRpo[] = [];
  const maxLag = worst(comps.map((c) => c.row.exportLagMs));
  for (const kind of [...kindNames].sort()) {
    const objectiveMs = objectiveOrNull(src.objectives(kind).rpoMs);
    const rows = comps.map((c) => ({ scope: c.row.scope, k: c.row.kinds.find((x) => x.kind === kind) })).filter((x): x is { scope: string; k: ScopeKindRpo } => !!x.k);
    const title = specs.get(kind)?.title ?? kind;
    if (!rows.length) {
      kinds.push({ source: src.name, kind, title, rpoMs: null, sourceTimeThrough: null, objectiveMs, met: true, status: 'no-data', worstScope: null, scopes: 0, findings: 0, exportLagMs: maxLag });
      continue;
    }
    const w = worstOf(rows.map((r) => ({ scope: r.scope, rpoMs: r.k.rpoMs, through: r.k.sourceTimeThrough })));
    const lag = worst(comps.filter((c) => c.kinds.has(kind)).map((c) => c.row.exportLagMs));
    kinds.push({
      source: src.name,
      kind,
      title,
      rpoMs: w.rpoMs,
      sourceTimeThrough: w.through,
      objectiveMs,
      met: meets(w.rpoMs, objectiveMs),
      status: w.rpoMs === null ? 'never-proven' : 'proven',
      worstScope: w.scope,
      scopes: rows.length,
      findings: rows.reduce((n, r) => n + r.k.findings, 0),
      exportLagMs: lag,
    });
  }
  for (const k of src.kinds) {
    if (k.possession === 'restorable') continue;
    kinds.push({ source: src.name, kind: k.kind, title: k.title, rpoMs: null, sourceTimeThrough: null, objectiveMs: null, met: true, status: 'not-restorable', worstScope: null, scopes: 0, findings: 0, exportLagMs: maxLag });
  }

  const sourceObjective = objectiveOrNull(src.objectives().rpoMs);
  const scopeRows = comps.map((c) => c.row);
  const counted = scopeRows.filter((r) => r.status !== 'not-restorable');
  const w = counted.length ? worstOf(counted.map((r) => ({ scope: r.scope, rpoMs: r.rpoMs, through: r.sourceTimeThrough }))) : { scope: null, rpoMs: null, through: null };
  const source: SourceRpo = {
    source: src.name,
    service: serviceOf(src) ?? null,
    rpoMs: w.rpoMs,
    sourceTimeThrough: w.through,
    objectiveMs: sourceObjective,
    met: meets(w.rpoMs, sourceObjective),
    status: w.rpoMs === null ? 'never-proven' : 'proven',
    worstScope: w.scope,
    scopes: scopeRows,
    kinds,
  };

  const miss: ObjectiveMiss[] = [];
  for (const k of kinds) {
    if (k.met || k.objectiveMs === null) continue;
    miss.push({ source: src.name, kind: k.kind, scope: k.worstScope, metric: 'rpo', valueMs: k.rpoMs, objectiveMs: k.objectiveMs, message: missMessage(src.name, k.kind, k.worstScope, k.rpoMs, k.objectiveMs, comps.find((c) => c.row.scope === k.worstScope)?.row) });
  }
  if (!source.met && source.objectiveMs !== null && !miss.length) {
    miss.push({ source: src.name, kind: null, scope: source.worstScope, metric: 'rpo', valueMs: source.rpoMs, objectiveMs: source.objectiveMs, message: missMessage(src.name, null, source.worstScope, source.rpoMs, source.objectiveMs, comps.find((c) => c.row.scope === source.worstScope)?.row) });
  }

  const hist: RpoHistory[] = [];
  for (const k of kinds) {
    if (k.status === 'not-restorable' || k.status === 'no-data') continue;
    hist.push({ source: src.name, kind: k.kind, title: k.title, objectiveMs: k.objectiveMs, points: historyOf(comps, k.kind, nowMs) });
  }
  return { source, hist, miss };
}

function missMessage(source: string, kind: string | null, scope: string | null, rpoMs: number | null, objectiveMs: number, row: ScopeRpo | undefined): string {
  const what = kind ? `RPO of ${kind} in source ${source}` : `RPO of source ${source}`;
  const where = scope ? ` (worst scope ${scope})` : '';
  if (rpoMs !== null) {
    const why = row && (row.findings > 0 || row.importFailures > 0) ? `; the latest verification has ${row.findings} finding(s) and the latest import ${row.importFailures} failure(s): fix them (norestore report) so the RPO can advance` : '; run cycles more often or check that they complete';
    return `${what} is ${formatDuration(rpoMs)}${where}, objective ${formatDuration(objectiveMs)}${why}`;
  }
  if (!row || !row.lastExport) return `${what} was never proven${where}: the scope was never exported; run norestore cycle`;
  if (!row.lastVerify) return `${what} was never proven${where}: no committed import and verification yet; run norestore cycle`;
  return `${what} was never proven${where}: every verification so far found differences for it; see the fidelity section of norestore report`;
}

async function computeScope(repo: Repository, src: MetricsSource, scope: string, runs: RunManifest[], notRestorable: Set<string>, nowMs: number): Promise<ScopeComputation> {
  const exports = runs.filter((r) => r.type === 'export');
  const imports = runs.filter((r) => r.type === 'import');
  const verifies = runs.filter((r) => r.type === 'verify');
  const lastVerify = verifies.at(-1);
  const lastImport = imports.at(-1);

  // Proofs: the latest one (counts, findings), and every one that announces findings (per-kind blocking).
  const proofs = new Map<RunManifest, Awaited<ReturnType<typeof readProof>>>();
  for (const v of verifies) {
    const announced = announcedFindings(v);
    if (v === lastVerify || announced === null || announced > 0) proofs.set(v, await readProof(repo, v));
  }

  // Kinds the scope holds: latest proof counts, findings, import batches; live records as a last resort.
  const kinds = new Set<string>();
  const latestProof = lastVerify ? proofs.get(lastVerify) : null;
  for (const k of Object.keys(latestProof?.counts ?? {})) kinds.add(k);
  for (const p of proofs.values()) for (const f of p?.findings ?? []) kinds.add(f.kind);
  for (const i of imports) for (const k of Object.keys(importPerKindOf(i))) kinds.add(k);
  if (!kinds.size && exports.some((e) => e.seqTo > 0)) {
    try {
      for (const k of (await repo.live(storageKey(src), scope)).kinds()) kinds.add(k);
    } catch {
      /* an unreadable journal leaves the scope without kinds: its scope-level RPO still counts */
    }
  }
  for (const k of notRestorable) kinds.delete(k);

  // Cumulative exported seq through each export (an empty export appends nothing but still proves freshness).
  const exportCum: Array<{ m: RunManifest; cum: number }> = [];
  let cum = 0;
  for (const e of [...exports].sort((a, b) => a.number - b.number)) {
    cum = Math.max(cum, e.seqTo);
    exportCum.push({ m: e, cum });
  }

  const through = new Map<string, number | null>([...kinds].map((k) => [k, null]));
  let anyThrough: number | null = null;
  const events: VerifyEvent[] = [];
  for (const v of verifies) {
    const start = ms(v.startedAt);
    const proof = proofs.get(v);
    const seqTo = Math.min(v.seqTo, proof?.seqTo ?? v.seqTo);
    let importedAtStart = 0;
    for (const i of imports) if (ms(i.finishedAt) <= start) importedAtStart = Math.max(importedAtStart, i.seqTo);
    const covered = Math.min(seqTo, importedAtStart);
    let proven: number | null = null;
    for (const { m, cum: c } of exportCum) {
      if (ms(m.finishedAt) <= start && c <= covered) {
        const t = ms(m.startedAt);
        if (proven === null || t > proven) proven = t;
      }
    }
    const announced = announcedFindings(v);
    const blockedAll = (announced === null || announced > 0) && (!proof || proof.findingsTruncated > 0);
    const blocked = new Set((proof?.findings ?? []).map((f) => f.kind));
    if (proven !== null) {
      for (const k of kinds) {
        if (blockedAll || blocked.has(k)) continue;
        const prev = through.get(k) ?? null;
        if (prev === null || proven > prev) through.set(k, proven);
      }
      if (!blockedAll && blocked.size === 0 && (anyThrough === null || proven > anyThrough)) anyThrough = proven;
    }
    events.push({ at: ms(v.finishedAt), scope, through: new Map(through) });
  }

  const latestFindings = new Map<string, number>();
  for (const f of latestProof?.findings ?? []) latestFindings.set(f.kind, (latestFindings.get(f.kind) ?? 0) + 1);
  const kindRows: ScopeKindRpo[] = [...kinds].sort().map((kind) => {
    const t = through.get(kind) ?? null;
    const rpoMs = t === null ? null : nowMs - t;
    const objectiveMs = objectiveOrNull(src.objectives(kind).rpoMs);
    return { kind, rpoMs, sourceTimeThrough: iso(t), objectiveMs, met: meets(rpoMs, objectiveMs), status: rpoMs === null ? 'never-proven' : 'proven', findings: latestFindings.get(kind) ?? 0 };
  });

  let rpoMs: number | null;
  let thr: number | null;
  if (kindRows.length) {
    const w = worstOf(kindRows.map((k) => ({ scope: scope, rpoMs: k.rpoMs, through: k.sourceTimeThrough })));
    rpoMs = w.rpoMs;
    thr = w.through === null ? null : ms(w.through);
  } else {
    thr = anyThrough;
    rpoMs = thr === null ? null : nowMs - thr;
  }
  const objectiveMs = objectiveOrNull(src.objectives().rpoMs);
  const newestExport = exports.reduce<RunManifest | null>((a, e) => (a === null || ms(e.startedAt) > ms(a.startedAt) ? e : a), null);
  const latestFindingsTotal = latestProof ? latestProof.findings.length + latestProof.findingsTruncated : lastVerify ? (announcedFindings(lastVerify) ?? 0) : 0;
  const row: ScopeRpo = {
    source: src.name,
    scope,
    rpoMs,
    sourceTimeThrough: iso(thr),
    objectiveMs,
    met: meets(rpoMs, objectiveMs),
    status: rpoMs === null ? 'never-proven' : 'proven',
    kinds: kindRows,
    lastExport: exports.at(-1)?.finishedAt ?? null,
    lastImport: lastImport?.finishedAt ?? null,
    lastVerify: lastVerify?.finishedAt ?? null,
    exportLagMs: newestExport ? nowMs - ms(newestExport.startedAt) : null,
    findings: latestFindingsTotal,
    importFailures: lastImport ? (typeof lastImport.stats?.failed === 'number' ? lastImport.stats.failed : importFailuresOf(lastImport).length) : 0,
    exportedSeq: cum,
    importedSeq: imports.reduce((n, i) => Math.max(n, i.seqTo), 0),
    verifiedSeq: lastVerify ? Math.min(lastVerify.seqTo, latestProof?.seqTo ?? lastVerify.seqTo) : 0,
  };
  return { row, kinds, firstRunAt: runs.length ? ms(runs[0]!.finishedAt) : null, events };
}

/**
 * History of one kind over the scopes holding it: at each verification commit, the worst proven
 * source time over the scopes that existed then (a scope exists from its first committed run).
 */
function historyOf(comps: ScopeComputation[], kind: string, nowMs: number): RpoHistoryPoint[] {
  const holders = comps.filter((c) => c.kinds.has(kind));
  const events = holders.flatMap((c) => c.events.map((e) => ({ e, c }))).sort((a, b) => a.e.at - b.e.at);
  const current = new Map<string, number | null>();
  const points: RpoHistoryPoint[] = [];
  const point = (at: number): RpoHistoryPoint => {
    let thr: number | null = null;
    let all = true;
    for (const c of holders) {
      if (c.firstRunAt === null || c.firstRunAt > at) continue;
      const t = current.get(c.row.scope) ?? null;
      if (t === null) all = false;
      else if (thr === null || t < thr) thr = t;
    }
    if (!all) thr = null;
    return { at: new Date(at).toISOString(), sourceTimeThrough: iso(thr), rpoMs: thr === null ? null : at - thr };
  };
  for (const { e, c } of events) {
    current.set(c.row.scope, e.through.get(kind) ?? null);
    const p = point(e.at);
    if (points.length && points.at(-1)!.at === p.at) points[points.length - 1] = p;
    else points.push(p);
  }
  if (points.length && ms(points.at(-1)!.at) < nowMs) points.push(point(nowMs));
  return points;
}

function worstOf(rows: Array<{ scope: string; rpoMs: number | null; through: string | null }>): { scope: string | null; rpoMs: number | null; through: string | null } {
  let best: { scope: string | null; rpoMs: number | null; through: string | null } | null = null;
  for (const r of rows) {
    if (r.rpoMs === null) return r;
    if (best === null || best.rpoMs === null || r.rpoMs > best.rpoMs) best = r;
  }
  return best ?? { scope: null, rpoMs: null, through: null };
}

function worst(values: Array<number | null>): number | null {
  let out: number | null = null;
  for (const v of values) if (v !== null && (out === null || v > out)) out = v;
  return out;
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}
