import type { DrillDocument } from '../model/proof.js';
import type { Service } from '../model/kinds.js';
import { SOURCE_SCOPE } from '../model/scopes.js';
import type { Repository, RunManifest } from '../store/types.js';
import { DEFAULT_QUOTAS, costOf, quotaTimeMs, type QuotaLimit, type QuotaModel } from './quota.js';
import { importPerKindOf, ms, readDrill, runMs, scopeRuns, sourceScopes } from './runs.js';
import type { MetricsSource, ObjectiveMiss } from './types.js';
import { formatBytes, formatDuration, meets, objectiveOrNull, serviceOf, storageKey } from './types.js';

/**
 * Measured and projected RTO (DESIGN.md, Verification, RPO, RTO).
 * - No-restore RTO: totalMs of the latest committed drill with mode 'no-restore' (catch-up of pending
 *   changes + verification + switch steps). This is the RTO compared with the objective.
 * - Classic RTO: totalMs of the latest 'fresh' drill (everything restored into an empty standby), else a
 *   projection: every live item re-imported at the measured import rate, capped by the standby's quota
 *   model, whichever is slower; kinds one after another within a scope, scopes in parallel as the
 *   engine's pool runs them. Shown beside the no-restore RTO: the contrast is the point.
 */

export interface DrillSummary {
  runId: string;
  mode: 'no-restore' | 'fresh';
  startedAt: string;
  finishedAt: string;
  totalMs: number;
  ok: boolean;
  findings: number;
  steps: Array<{ name: string; ms: number; detail?: string }>;
}

export interface KindRate {
  itemsPerSec: number | null;
  bytesPerSec: number | null;
  /** drill: drills' per-kind imported figures; import-runs: import runs of this kind alone; blended: all import runs of the source. */
  basis: 'drill' | 'import-runs' | 'blended' | 'none';
  /** Items the rate was measured on. */
  sampleItems: number;
}

export interface ClassicKindProjection {
  kind: string;
  title: string;
  items: number;
  bytes: number;
  rate: KindRate;
  /** Time at the measured rate (scopes in parallel); null when no rate was ever measured. */
  rateMs: number | null;
  /** Time the quota windows impose at the least (0 when no limit applies). */
  quotaMs: number;
  /** max(rateMs, quotaMs); null when the rate is unknown. */
  ms: number | null;
  limitedBy: 'rate' | 'quota' | 'unknown';
  /** Names of the quota limits that apply to the kind. */
  limits: string[];
}

export interface ClassicProjection {
  ms: number | null;
  concurrency: number;
  perKind: ClassicKindProjection[];
  perScope: Array<{ scope: string; items: number; bytes: number; ms: number | null }>;
  /** Time the budgets shared by the whole standby impose on all scopes together. */
  accountQuotaMs: number;
  items: number;
  bytes: number;
  /** What the projection assumes, in sentences for the report. */
  assumptions: string[];
}

export interface SourceRto {
  source: string;
  service: Service | null;
  /** RTO objective of the source; null = none. */
  objectiveMs: number | null;
  noRestore: {
    /** Measured no-restore RTO; null = never drilled. */
    ms: number | null;
    drill: DrillSummary | null;
    met: boolean;
  };
  classic: {
    basis: 'measured' | 'projected' | 'unknown';
    ms: number | null;
    /** Latest fresh drill, if any. */
    drill: DrillSummary | null;
    /** Projection (computed when there is no fresh drill, or when asked). */
    projection: ClassicProjection | null;
    /** Would the classic restore meet the objective? (informational: the objective is measured on no-restore.) */
    met: boolean;
  };
  /** classic.ms / noRestore.ms, when both are known. */
  ratio: number | null;
}

export interface RtoReport {
  now: string;
  sources: SourceRto[];
  missed: ObjectiveMiss[];
}

export interface ComputeRtoOptions {
  sources: readonly MetricsSource[];
  /** Quota model per service; defaults to DEFAULT_QUOTAS. */
  quotas?: Partial<Record<Service, QuotaModel>>;
  now: Date;
  /** Also project the classic RTO when a fresh drill measured it (to compare). Default false. */
  alwaysProject?: boolean;
}

export const DEFAULT_CONCURRENCY = 4;

export async function computeRto(repo: Repository, opts: ComputeRtoOptions): Promise<RtoReport> {
  const sources: SourceRto[] = [];
  const missed: ObjectiveMiss[] = [];
  for (const src of opts.sources) {
    const r = await computeSourceRto(repo, src, opts);
    sources.push(r.rto);
    missed.push(...r.missed);
  }
  return { now: opts.now.toISOString(), sources, missed };
}

async function computeSourceRto(repo: Repository, src: MetricsSource, opts: ComputeRtoOptions): Promise<{ rto: SourceRto; missed: ObjectiveMiss[] }> {
  const now = opts.now;
  const service = serviceOf(src) ?? null;
  const scopes = await sourceScopes(repo, storageKey(src));
  const runsByScope = new Map<string, RunManifest[]>();
  for (const s of scopes) runsByScope.set(s, await scopeRuns(repo, storageKey(src), s, now));
  // Drills are committed under the source-level pseudo scope (engine/drill.ts SOURCE_SCOPE).
  runsByScope.set(SOURCE_SCOPE, await scopeRuns(repo, storageKey(src), SOURCE_SCOPE, now));

  // Drills of the source, newest last.
  const drills: Array<{ m: RunManifest; doc: DrillDocument }> = [];
  for (const runs of runsByScope.values()) {
    for (const m of runs) {
      if (m.type !== 'drill') continue;
      const doc = await readDrill(repo, m);
      if (doc) drills.push({ m, doc });
    }
  }
  drills.sort((a, b) => ms(a.m.finishedAt) - ms(b.m.finishedAt));
  const latest = (mode: DrillDocument['mode']): DrillSummary | null => {
    const d = drills.filter((x) => x.doc.mode === mode).at(-1);
    return d ? summarize(d.m, d.doc) : null;
  };
  const noRestoreDrill = latest('no-restore');
  const freshDrill = latest('fresh');
  const objectiveMs = objectiveOrNull(src.objectives().rtoMs);
  const noRestoreMs = noRestoreDrill ? noRestoreDrill.totalMs : null;
  const noRestoreMet = meets(noRestoreDrill && noRestoreDrill.ok ? noRestoreMs : null, objectiveMs);

  let projection: ClassicProjection | null = null;
  if (!freshDrill || opts.alwaysProject) {
    const dataScopes = [...runsByScope.entries()].filter(([, runs]) => runs.some((r) => r.type !== 'drill')).map(([s]) => s);
    const quota = service ? (opts.quotas?.[service] ?? DEFAULT_QUOTAS[service]) : undefined;
    projection = await project(repo, src, dataScopes, runsByScope, drills.map((d) => d.doc), quota);
  }
  const classicMs = freshDrill ? freshDrill.totalMs : (projection?.ms ?? null);
  const rto: SourceRto = {
    source: src.name,
    service,
    objectiveMs,
    noRestore: { ms: noRestoreMs, drill: noRestoreDrill, met: noRestoreMet },
    classic: { basis: freshDrill ? 'measured' : projection?.ms != null ? 'projected' : 'unknown', ms: classicMs, drill: freshDrill, projection, met: meets(classicMs, objectiveMs) },
    ratio: classicMs !== null && noRestoreMs !== null && noRestoreMs > 0 ? classicMs / noRestoreMs : null,
  };

  const missed: ObjectiveMiss[] = [];
  const check = (kind: string | null, objective: number): void => {
    const what = kind ? `no-restore RTO of source ${src.name} (objective for ${kind})` : `no-restore RTO of source ${src.name}`;
    let message: string;
    if (!noRestoreDrill) message = `${what} was never measured: run norestore drill`;
    else if (!noRestoreDrill.ok) message = `${what}: the latest drill (${noRestoreDrill.finishedAt}) did not succeed (${noRestoreDrill.findings} finding(s)): fix them and run norestore drill again`;
    else if (noRestoreDrill.totalMs > objective) message = `${what} is ${formatDuration(noRestoreDrill.totalMs)}, objective ${formatDuration(objective)}: see the drill's steps for the slow part`;
    else return;
    missed.push({ source: src.name, kind, scope: null, metric: 'rto', valueMs: noRestoreMs, objectiveMs: objective, message });
  };
  if (objectiveMs !== null) check(null, objectiveMs);
  if (!missed.length) {
    // Kinds with a stricter objective than the source's: the drill covers every kind, so its total counts.
    for (const k of src.kinds) {
      const o = objectiveOrNull(src.objectives(k.kind).rtoMs);
      if (o !== null && (objectiveMs === null || o < objectiveMs)) {
        check(k.kind, o);
      }
    }
  }
  return { rto, missed };
}

function summarize(m: RunManifest, d: DrillDocument): DrillSummary {
  return { runId: m.runId, mode: d.mode, startedAt: d.startedAt, finishedAt: d.finishedAt, totalMs: d.totalMs, ok: d.ok, findings: d.findings, steps: d.steps };
}

/** Measured import rate per kind: drills first, then single-kind import runs, then blended over all import runs. */
function measureRates(runsByScope: Map<string, RunManifest[]>, drills: DrillDocument[]): { perKind: Map<string, KindRate>; blended: KindRate; importRuns: number } {
  const acc = new Map<string, { items: number; bytes: number; ms: number; basis: 'drill' | 'import-runs' }>();
  for (const d of drills) {
    for (const [kind, v] of Object.entries(d.imported)) {
      if (!(v.items > 0 && v.ms > 0)) continue;
      const a = acc.get(kind) ?? { items: 0, bytes: 0, ms: 0, basis: 'drill' as const };
      a.items += v.items;
      a.bytes += v.bytes;
      a.ms += v.ms;
      acc.set(kind, a);
    }
  }
  const single = new Map<string, { items: number; bytes: number; ms: number }>();
  const all = { items: 0, bytes: 0, ms: 0 };
  let importRuns = 0;
  for (const runs of runsByScope.values()) {
    for (const m of runs) {
      if (m.type !== 'import') continue;
      const items = m.stats?.items ?? 0;
      const t = runMs(m);
      if (!(items > 0 && t > 0)) continue;
      importRuns++;
      all.items += items;
      all.bytes += m.stats.bytes ?? 0;
      all.ms += t;
      const kinds = Object.keys(importPerKindOf(m));
      if (kinds.length === 1) {
        const s = single.get(kinds[0]!) ?? { items: 0, bytes: 0, ms: 0 };
        s.items += items;
        s.bytes += m.stats.bytes ?? 0;
        s.ms += t;
        single.set(kinds[0]!, s);
      }
    }
  }
  for (const [kind, s] of single) if (!acc.has(kind)) acc.set(kind, { ...s, basis: 'import-runs' });
  const rate = (a: { items: number; bytes: number; ms: number }, basis: KindRate['basis']): KindRate => ({
    itemsPerSec: a.items / (a.ms / 1000),
    bytesPerSec: a.bytes > 0 ? a.bytes / (a.ms / 1000) : null,
    basis,
    sampleItems: a.items,
  });
  const perKind = new Map([...acc].map(([k, a]) => [k, rate(a, a.basis)]));
  const blended: KindRate = all.items > 0 ? rate(all, 'blended') : { itemsPerSec: null, bytesPerSec: null, basis: 'none', sampleItems: 0 };
  return { perKind, blended, importRuns };
}

function timeAtRate(items: number, bytes: number, rate: KindRate): number | null {
  if (rate.itemsPerSec === null || rate.itemsPerSec <= 0) return items === 0 && bytes === 0 ? 0 : null;
  let t = (items / rate.itemsPerSec) * 1000;
  if (rate.bytesPerSec && bytes > 0) t = Math.max(t, (bytes / rate.bytesPerSec) * 1000);
  return t;
}

/** Longest-processing-time schedule of jobs on `workers` parallel workers: the makespan. */
export function makespan(jobs: number[], workers: number): number {
  const w = Math.max(1, Math.floor(workers));
  const loads = new Array<number>(Math.min(w, Math.max(1, jobs.length))).fill(0);
  for (const j of [...jobs].sort((a, b) => b - a)) {
    let i = 0;
    for (let k = 1; k < loads.length; k++) if (loads[k]! < loads[i]!) i = k;
    loads[i]! += j;
  }
  return Math.max(0, ...loads);
}

async function project(
  repo: Repository,
  src: MetricsSource,
  scopes: string[],
  runsByScope: Map<string, RunManifest[]>,
  drills: DrillDocument[],
  quota: QuotaModel | undefined,
): Promise<ClassicProjection> {
  const concurrency = Math.max(1, Math.floor(src.concurrency ?? DEFAULT_CONCURRENCY));
  const specs = new Map(src.kinds.map((k) => [k.kind, k]));
  const notRestorable = new Set(src.kinds.filter((k) => k.possession !== 'restorable').map((k) => k.kind));
  const { perKind: rates, blended, importRuns } = measureRates(runsByScope, drills);
  const rateOf = (kind: string): KindRate => rates.get(kind) ?? blended;
  const limits = quota?.limits ?? [];
  const scopeLimits = limits.filter((l) => l.per === 'scope');
  const accountLimits = limits.filter((l) => l.per === 'account');
  const unitsOf = (l: QuotaLimit, kind: string, items: number, bytes: number): number => {
    const c = costOf(l, kind);
    if (!c) return 0;
    return l.measure === 'bytes' ? bytes * c : items * c;
  };

  // Per scope, per kind: items and bytes possessed.
  const perScope: Array<{ scope: string; kinds: Map<string, { items: number; bytes: number }> }> = [];
  for (const scope of scopes) {
    const live = await repo.live(storageKey(src), scope);
    const kinds = new Map<string, { items: number; bytes: number }>();
    for (const kind of live.kinds()) {
      const items = live.items(kind);
      if (notRestorable.has(kind) || !items.size) continue;
      let bytes = 0;
      for (const e of items.values()) bytes += e.bytes;
      kinds.set(kind, { items: items.size, bytes });
    }
    perScope.push({ scope, kinds });
  }

  const kindNames = [...new Set(perScope.flatMap((s) => [...s.kinds.keys()]))].sort((a, b) => order(a, specs) - order(b, specs) || a.localeCompare(b));
  let unknown = false;
  const scopeRows: ClassicProjection['perScope'] = [];
  const perKindScope = new Map<string, { rate: number[]; quota: number[]; both: number[] }>();
  for (const s of perScope) {
    let sum = 0;
    let scopeUnknown = false;
    let items = 0;
    let bytes = 0;
    for (const [kind, v] of s.kinds) {
      items += v.items;
      bytes += v.bytes;
      const r = timeAtRate(v.items, v.bytes, rateOf(kind));
      let q = 0;
      for (const l of scopeLimits) q = Math.max(q, quotaTimeMs(unitsOf(l, kind, v.items, v.bytes), l));
      const lists = perKindScope.get(kind) ?? { rate: [], quota: [], both: [] };
      perKindScope.set(kind, lists);
      lists.quota.push(q);
      if (r === null) scopeUnknown = true;
      else lists.rate.push(r);
      lists.both.push(Math.max(r ?? 0, q));
      sum += Math.max(r ?? 0, q);
    }
    // Budgets per scope shared by its kinds (e.g. a mailbox's units for labels and messages).
    for (const l of scopeLimits) {
      let units = 0;
      for (const [kind, v] of s.kinds) units += unitsOf(l, kind, v.items, v.bytes);
      sum = Math.max(sum, quotaTimeMs(units, l));
    }
    if (scopeUnknown) unknown = true;
    scopeRows.push({ scope: s.scope, items, bytes, ms: scopeUnknown ? null : sum });
  }
  let accountQuotaMs = 0;
  const accountApplied: string[] = [];
  for (const l of accountLimits) {
    let units = 0;
    for (const s of perScope) for (const [kind, v] of s.kinds) units += unitsOf(l, kind, v.items, v.bytes);
    if (units > 0) accountApplied.push(l.name);
    accountQuotaMs = Math.max(accountQuotaMs, quotaTimeMs(units, l));
  }
  const total = unknown ? null : Math.max(makespan(scopeRows.map((r) => r.ms ?? 0), concurrency), accountQuotaMs);

  const perKind: ClassicKindProjection[] = kindNames.map((kind) => {
    let items = 0;
    let bytes = 0;
    for (const s of perScope) {
      const v = s.kinds.get(kind);
      if (v) {
        items += v.items;
        bytes += v.bytes;
      }
    }
    const rate = rateOf(kind);
    const known = rate.itemsPerSec !== null;
    const lists = perKindScope.get(kind) ?? { rate: [], quota: [], both: [] };
    const rateMs = known ? makespan(lists.rate, concurrency) : null;
    let accountMs = 0;
    for (const l of accountLimits) accountMs = Math.max(accountMs, quotaTimeMs(unitsOf(l, kind, items, bytes), l));
    const quotaMs = Math.max(makespan(lists.quota, concurrency), accountMs);
    const applying = limits.filter((l) => (costOf(l, kind) ?? 0) > 0).map((l) => l.name);
    return {
      kind,
      title: specs.get(kind)?.title ?? kind,
      items,
      bytes,
      rate,
      rateMs,
      quotaMs,
      ms: rateMs === null ? null : Math.max(makespan(lists.both, concurrency), accountMs),
      limitedBy: rateMs === null ? 'unknown' : quotaMs > rateMs ? 'quota' : 'rate',
      limits: applying,
    };
  });

  const items = scopeRows.reduce((n, r) => n + r.items, 0);
  const bytes = scopeRows.reduce((n, r) => n + r.bytes, 0);
  const assumptions: string[] = [];
  assumptions.push(`Everything possessed is re-imported into an empty standby: ${items} live item(s), ${formatBytes(bytes)} of content, in ${scopes.length} scope(s).`);
  assumptions.push(`Scopes run in parallel, ${concurrency} at a time (the engine's pool for this source); within a scope, kinds run one after another in dependency order; sources run in parallel.`);
  const basisCount = (b: KindRate['basis']): number => perKind.filter((k) => k.rate.basis === b).length;
  if (blended.basis === 'none' && !rates.size) assumptions.push('No import has been measured yet: the import rate is unknown, so the classic RTO cannot be projected (run a cycle, or norestore drill --fresh).');
  else {
    const parts: string[] = [];
    if (basisCount('drill')) parts.push(`${basisCount('drill')} kind(s) from the drills' per-kind import figures`);
    if (basisCount('import-runs')) parts.push(`${basisCount('import-runs')} kind(s) from import runs of that kind alone`);
    if (basisCount('blended')) parts.push(`${basisCount('blended')} kind(s) at the blended rate of ${importRuns} import run(s) (${fmtRate(blended.itemsPerSec)} items/s)`);
    assumptions.push(`Import rates are measured, not assumed: ${parts.join('; ') || 'none needed'}. Time per kind = the slower of items/rate and bytes/byte-rate.`);
  }
  if (limits.length) {
    const names = new Set([...perKind.flatMap((k) => k.limits), ...accountApplied]);
    const applied = limits.filter((l) => names.has(l.name)).map((l) => `${l.name} (${budget(l)}, per ${l.per === 'scope' ? 'scope' : 'standby account'})`);
    assumptions.push(`Capped by the standby's quota (${quota!.service}): ${applied.length ? applied.join('; ') : 'no limit applies to these kinds'}. Quota windows start full (one window's burst, then one budget per window); budgets per scope are shared by the scope's kinds, account budgets by all scopes.`);
  } else assumptions.push('No quota model for this service: the projection is bounded by the measured rate only.');
  for (const n of quota?.notes ?? []) assumptions.push(n);
  if (notRestorable.size) assumptions.push(`Not included: ${[...notRestorable].sort().join(', ')} (possessed but not restorable; a classic restore cannot bring them back either).`);

  return { ms: total, concurrency, perKind, perScope: scopeRows, accountQuotaMs, items, bytes, assumptions };
}

function budget(l: QuotaLimit): string {
  const amount = l.measure === 'bytes' ? formatBytes(l.units) : l.units.toLocaleString('en-US');
  return `${amount} per ${windowLabel(l.windowMs)}`;
}

function windowLabel(w: number): string {
  for (const [size, unit] of [[86_400_000, 'day'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']] as const) {
    if (w % size === 0) return w === size ? unit : `${w / size} ${unit}`;
  }
  return formatDuration(w);
}

function fmtRate(v: number | null): string {
  if (v === null) return '?';
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2);
}

/** Dependency depth of a kind (labels before issues), for a stable restore order in the table. */
function order(kind: string, specs: Map<string, { dependsOn: string[] }>, seen = new Set<string>()): number {
  const s = specs.get(kind);
  if (!s || seen.has(kind)) return 0;
  seen.add(kind);
  return s.dependsOn.length ? 1 + Math.max(...s.dependsOn.map((d) => order(d, specs, seen))) : 0;
}
