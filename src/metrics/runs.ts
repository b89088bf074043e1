import { isDataScope } from '../model/scopes.js';
import type { ImportFailure } from '../model/connector.js';
import { DrillDocument, VerifyProof } from '../model/proof.js';
import type { Repository, RunManifest } from '../store/types.js';

export function ms(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Committed runs of one scope up to `now` (commit = manifest finishedAt), in commit order. */
export async function scopeRuns(repo: Repository, source: string, scope: string, now: Date): Promise<RunManifest[]> {
  const runs: RunManifest[] = [];
  for await (const m of repo.listRuns(source, scope)) {
    if (m.scope !== scope) continue;
    if (ms(m.finishedAt) <= now.getTime()) runs.push(m);
  }
  return runs.sort(byCommit);
}

export function byCommit(a: RunManifest, b: RunManifest): number {
  return ms(a.finishedAt) - ms(b.finishedAt) || a.number - b.number;
}

/** The scopes to account for: the configured list, else every scope of the source with a committed run. */
export async function sourceScopes(repo: Repository, source: string, configured?: readonly string[]): Promise<string[]> {
  if (configured) return [...new Set(configured)].sort();
  const all = await repo.listScopes(source);
  return [...new Set(all.filter((s) => s.source === source && isDataScope(s.scope)).map((s) => s.scope))].sort();
}

/** Total findings a verify manifest announces (summary or stats), or null when it says nothing. */
export function announcedFindings(m: RunManifest): number | null {
  const s = m.summary?.findings;
  if (typeof s === 'number') return s;
  const t = m.stats?.findings;
  return typeof t === 'number' ? t : null;
}

/** Reads and validates the proof of a verify run; null when it has none or it is unreadable. */
export async function readProof(repo: Repository, m: RunManifest): Promise<VerifyProof | null> {
  if (!m.document) return null;
  try {
    const parsed = VerifyProof.safeParse(await repo.readDocument(m.document));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readDrill(repo: Repository, m: RunManifest): Promise<DrillDocument | null> {
  if (!m.document) return null;
  try {
    const parsed = DrillDocument.safeParse(await repo.readDocument(m.document));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Import failures an import run recorded in its summary (`summary.failed`). */
export function importFailuresOf(m: RunManifest | undefined): ImportFailure[] {
  const f = m?.summary?.failed;
  if (!Array.isArray(f)) return [];
  return f.filter((x): x is ImportFailure => !!x && typeof x === 'object' && typeof (x as ImportFailure).kind === 'string' && typeof (x as ImportFailure).id === 'string').map((x) => ({ kind: x.kind, id: x.id, error: String(x.error ?? '') }));
}

/** Per-kind record counts an import run recorded in its summary (`summary.perKind`). */
export function importPerKindOf(m: RunManifest): Record<string, number> {
  const p = m.summary?.perKind;
  const out: Record<string, number> = {};
  if (p && typeof p === 'object') for (const [k, v] of Object.entries(p)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** Wall time of a run: stats.ms when recorded, else finishedAt - startedAt. */
export function runMs(m: RunManifest): number {
  const s = m.stats?.ms;
  if (typeof s === 'number' && s >= 0) return s;
  return Math.max(0, ms(m.finishedAt) - ms(m.startedAt));
}
