import type { KindSpec, Service, UncoveredKind } from '../model/kinds.js';
import type { Finding, VerifyProof } from '../model/proof.js';
import type { Repository } from '../store/types.js';
import type { QuotaModel } from '../metrics/quota.js';
import { computeRpo, type RpoReport } from '../metrics/rpo.js';
import { computeRto, type RtoReport } from '../metrics/rto.js';
import { importFailuresOf, readProof, scopeRuns, sourceScopes } from '../metrics/runs.js';
import { storageKey, type MetricsSource, type ObjectiveMiss } from '../metrics/types.js';

/**
 * The restorability-gap report's data: possession coverage, fidelity (declared and observed), freshness
 * (RPO per kind against objectives, no-restore RTO beside classic RTO) and the objectives missed.
 * Generated from the kinds' declarations plus committed runs and proofs, never from prose.
 * Renderers (text, json, md, html) only format it.
 */

export type Possession = 'possessed-and-restorable' | 'possessed-but-not-restorable' | 'not-possessed';

export interface ReportSource extends MetricsSource {
  service: Service;
  /** Kinds of the service norestore does not possess, with the reason (the connector's `uncovered`). */
  uncovered: readonly UncoveredKind[];
}

export interface BuildReportOptions {
  repo: Repository;
  sources: readonly ReportSource[];
  now: Date;
  quotas?: Partial<Record<Service, QuotaModel>>;
  /** Findings and import failures listed per kind (the rest are counted). Default 20. */
  listLimit?: number;
  title?: string;
}

export interface CoverageRow {
  service: Service;
  kind: string;
  title: string;
  status: Possession;
  /** Why, from the declarations: how it is exported and imported, or why it is not possessed. */
  reason: string;
  exportVia: string | null;
  importVia: string | null;
  /** Configured sources of the service. */
  sources: string[];
  /** Items possessed now (latest proofs), null when not verified. */
  items: number | null;
  /** What the latest verifications say: clean, findings, not yet verified, or not applicable. */
  verification: 'clean' | 'findings' | 'not-verified' | 'n/a';
}

export interface FidelityFinding {
  scope: string;
  id: string;
  type: Finding['type'];
  fields?: string[];
  detail: string;
}

export interface FidelityRow {
  source: string;
  service: Service;
  kind: string;
  title: string;
  restorable: boolean;
  /** Declared: fields compared and preserved on import; fields lost and why. */
  preserved: string[];
  lost: Array<{ field: string; why: string }>;
  /** Observed in the latest proof of each scope and the latest import run of each scope. */
  observed: {
    scopesVerified: number;
    stored: number;
    standby: number;
    matched: number;
    mismatched: number;
    missing: number;
    extra: number;
    importFailed: number;
    lastVerified: string | null;
  };
  /** Preserved fields that verification found different, with the number of items (listed findings only). */
  mismatchedFields: Array<{ field: string; items: number }>;
  /** Why items failed to import, grouped by error message. */
  failureReasons: Array<{ error: string; items: number }>;
  findings: FidelityFinding[];
  /** All findings of the kind, listed or not. */
  findingsTotal: number;
  /** Findings beyond the listing limit (import-failed ones are listed under importFailures). */
  findingsNotListed: number;
  importFailures: Array<{ scope: string; id: string; error: string }>;
  importFailuresTotal: number;
}

export interface SourceSummary {
  name: string;
  service: Service;
  scopes: number;
  rpoMs: number | null;
  rpoObjectiveMs: number | null;
  noRestoreRtoMs: number | null;
  classicRtoMs: number | null;
  classicBasis: 'measured' | 'projected' | 'unknown';
  rtoObjectiveMs: number | null;
  /** Findings of the latest proofs, listed per kind or not. */
  findings: number;
  /** Findings past the proofs' listing limit: their kind is unknown. */
  unattributedFindings: number;
  importFailures: number;
}

export interface ReportData {
  formatVersion: 1;
  title: string;
  generatedAt: string;
  repository: { location: string; repoId: string };
  sources: SourceSummary[];
  coverage: CoverageRow[];
  fidelity: FidelityRow[];
  rpo: RpoReport;
  rto: RtoReport;
  /** Every objective missed (RPO and RTO): non-empty means status/report exit non-zero. */
  missed: ObjectiveMiss[];
  totals: {
    kinds: Record<Possession, number>;
    findings: number;
    importFailures: number;
    objectivesMissed: number;
  };
}

export async function buildReport(opts: BuildReportOptions): Promise<ReportData> {
  const { repo, now } = opts;
  const limit = opts.listLimit ?? 20;
  const [rpo, rto] = await Promise.all([computeRpo(repo, { sources: opts.sources, now }), computeRto(repo, { sources: opts.sources, now, ...(opts.quotas ? { quotas: opts.quotas } : {}) })]);

  const fidelity: FidelityRow[] = [];
  const sources: SourceSummary[] = [];
  for (const src of opts.sources) {
    const { rows, unattributed } = await fidelityOf(repo, src, now, limit);
    fidelity.push(...rows);
    const r = rpo.sources.find((s) => s.source === src.name);
    const t = rto.sources.find((s) => s.source === src.name);
    sources.push({
      name: src.name,
      service: src.service,
      scopes: r?.scopes.length ?? 0,
      rpoMs: r?.rpoMs ?? null,
      rpoObjectiveMs: r?.objectiveMs ?? null,
      noRestoreRtoMs: t?.noRestore.ms ?? null,
      classicRtoMs: t?.classic.ms ?? null,
      classicBasis: t?.classic.basis ?? 'unknown',
      rtoObjectiveMs: t?.objectiveMs ?? null,
      findings: rows.reduce((n, f) => n + f.findingsTotal, 0) + unattributed,
      unattributedFindings: unattributed,
      importFailures: rows.reduce((n, f) => n + f.importFailuresTotal, 0),
    });
  }

  const coverage = coverageOf(opts.sources, fidelity);
  const missed = [...rpo.missed, ...rto.missed];
  const kinds: Record<Possession, number> = { 'possessed-and-restorable': 0, 'possessed-but-not-restorable': 0, 'not-possessed': 0 };
  for (const c of coverage) kinds[c.status]++;
  return {
    formatVersion: 1,
    title: opts.title ?? 'norestore restorability-gap report',
    generatedAt: now.toISOString(),
    repository: { location: redactLocation(repo.location), repoId: repo.repoId },
    sources,
    coverage,
    fidelity,
    rpo,
    rto,
    missed,
    totals: {
      kinds,
      findings: sources.reduce((n, s) => n + s.findings, 0),
      importFailures: sources.reduce((n, s) => n + s.importFailures, 0),
      objectivesMissed: missed.length,
    },
  };
}

/** Drop credentials a location URL might carry (user:password@, query strings with keys). */
export function redactLocation(location: string): string {
  return location.replace(/\/\/[^/@\s]*@/, '//***@').replace(/\?.*$/, '');
}

function coverageOf(sources: readonly ReportSource[], fidelity: FidelityRow[]): CoverageRow[] {
  const rows: CoverageRow[] = [];
  const services = [...new Set(sources.map((s) => s.service))];
  for (const service of services) {
    const of = sources.filter((s) => s.service === service);
    const names = of.map((s) => s.name);
    const kinds = new Map<string, KindSpec>();
    for (const s of of) for (const k of s.kinds) if (!kinds.has(k.kind)) kinds.set(k.kind, k);
    for (const k of kinds.values()) {
      const obs = fidelity.filter((f) => f.service === service && f.kind === k.kind);
      const verified = obs.filter((f) => f.observed.scopesVerified > 0);
      const restorable = k.possession === 'restorable';
      rows.push({
        service,
        kind: k.kind,
        title: k.title,
        status: restorable ? 'possessed-and-restorable' : 'possessed-but-not-restorable',
        reason: restorable
          ? `exported via ${k.exportVia}; imported via ${k.importVia ?? 'the connector'}${k.fidelity.lost.length ? `; ${k.fidelity.lost.length} field(s) lost on import` : ''}`
          : `exported via ${k.exportVia}; not restorable: ${k.importVia ?? 'the service offers no way to create it on the standby'}`,
        exportVia: k.exportVia,
        importVia: k.importVia ?? null,
        sources: names,
        items: verified.length ? verified.reduce((n, f) => n + f.observed.stored, 0) : null,
        verification: !restorable ? 'n/a' : !verified.length ? 'not-verified' : obs.some((f) => f.findingsTotal > 0 || f.importFailuresTotal > 0) ? 'findings' : 'clean',
      });
    }
    const seen = new Set(kinds.keys());
    for (const s of of) {
      for (const u of s.uncovered) {
        if (seen.has(u.kind)) continue;
        seen.add(u.kind);
        rows.push({ service, kind: u.kind, title: u.title, status: 'not-possessed', reason: u.reason, exportVia: null, importVia: null, sources: names, items: null, verification: 'n/a' });
      }
    }
  }
  const rank: Record<Possession, number> = { 'possessed-and-restorable': 0, 'possessed-but-not-restorable': 1, 'not-possessed': 2 };
  return rows.sort((a, b) => a.service.localeCompare(b.service) || rank[a.status] - rank[b.status] || a.kind.localeCompare(b.kind));
}

async function fidelityOf(repo: Repository, src: ReportSource, now: Date, limit: number): Promise<{ rows: FidelityRow[]; unattributed: number }> {
  const latest: Array<{ scope: string; proof: VerifyProof | null; verifiedAt: string | null; failures: ReturnType<typeof importFailuresOf> }> = [];
  for (const scope of await sourceScopes(repo, storageKey(src), src.scopes)) {
    const runs = await scopeRuns(repo, storageKey(src), scope, now);
    const v = runs.filter((r) => r.type === 'verify').at(-1);
    const i = runs.filter((r) => r.type === 'import').at(-1);
    latest.push({ scope, proof: v ? await readProof(repo, v) : null, verifiedAt: v?.finishedAt ?? null, failures: importFailuresOf(i) });
  }
  const kinds = new Map(src.kinds.map((k) => [k.kind, k]));
  // Kinds observed but not declared (e.g. a connector renamed one) still show.
  for (const l of latest) {
    for (const k of [...Object.keys(l.proof?.counts ?? {}), ...(l.proof?.findings ?? []).map((f) => f.kind), ...l.failures.map((f) => f.kind)]) {
      if (!kinds.has(k)) kinds.set(k, { kind: k, service: src.service, title: k, dependsOn: [], possession: 'restorable', exportVia: 'undeclared', fidelity: { preserved: [], lost: [] } });
    }
  }
  const rows: FidelityRow[] = [];
  for (const spec of kinds.values()) {
    const observed = { scopesVerified: 0, stored: 0, standby: 0, matched: 0, mismatched: 0, missing: 0, extra: 0, importFailed: 0, lastVerified: null as string | null };
    const fields = new Map<string, number>();
    const reasons = new Map<string, number>();
    const findings: FidelityFinding[] = [];
    const failures: FidelityRow['importFailures'] = [];
    let findingsTotal = 0;
    let failuresTotal = 0;
    let notListed = 0;
    for (const l of latest) {
      const c = l.proof?.counts[spec.kind];
      if (c) {
        observed.stored += c.stored;
        observed.standby += c.standby;
        observed.matched += c.matched;
        observed.mismatched += c.mismatched;
        observed.missing += c.missing;
        observed.extra += c.extra;
        observed.scopesVerified++;
        if (l.verifiedAt && (observed.lastVerified === null || l.verifiedAt > observed.lastVerified)) observed.lastVerified = l.verifiedAt;
      }
      const failedIds = new Set<string>();
      for (const f of l.failures) {
        if (f.kind !== spec.kind) continue;
        failuresTotal++;
        failedIds.add(f.id);
        reasons.set(f.error, (reasons.get(f.error) ?? 0) + 1);
        if (failures.length < limit) failures.push({ scope: l.scope, id: f.id, error: f.error });
      }
      observed.importFailed += failedIds.size;
      for (const f of l.proof?.findings ?? []) {
        if (f.kind !== spec.kind) continue;
        findingsTotal++;
        if (f.type === 'mismatch') for (const field of f.fields ?? []) fields.set(field, (fields.get(field) ?? 0) + 1);
        // An item that failed to import is listed once, with its import error.
        if (f.type === 'import-failed' && failedIds.has(f.id)) continue;
        if (findings.length < limit) findings.push({ scope: l.scope, id: f.id, type: f.type, ...(f.fields ? { fields: f.fields } : {}), detail: f.detail });
        else notListed++;
      }
    }
    rows.push({
      source: src.name,
      service: src.service,
      kind: spec.kind,
      title: spec.title,
      restorable: spec.possession === 'restorable',
      preserved: [...spec.fidelity.preserved],
      lost: spec.fidelity.lost.map((l) => ({ ...l })),
      observed,
      mismatchedFields: [...fields].map(([field, items]) => ({ field, items })).sort((a, b) => b.items - a.items || a.field.localeCompare(b.field)),
      failureReasons: [...reasons].map(([error, items]) => ({ error, items })).sort((a, b) => b.items - a.items || a.error.localeCompare(b.error)),
      findings,
      findingsTotal,
      findingsNotListed: notListed,
      importFailures: failures,
      importFailuresTotal: failuresTotal,
    });
  }
  // Findings past a proof's listing limit cannot be attributed to a kind: counted per source.
  const unattributed = latest.reduce((n, l) => n + (l.proof?.findingsTruncated ?? 0), 0);
  return { rows, unattributed };
}
