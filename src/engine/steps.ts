import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connector, ExportContext, ImportContext, ImportFailure, Logger, ScopeRef, VerifyContext } from '../model/connector.js';
import type { ChangeRecord, ChangeRecordInput } from '../model/records.js';
import type { Finding, KindCounts, VerifyProof } from '../model/proof.js';
import type { Lease, Repository, RunManifest } from '../store/types.js';
import { differingFields, pickFields, stableStringify } from '../verify/compare.js';
import { MemoryIdMap } from './idmap.js';
import { importBatch } from './order.js';

/** What a step hands to the progress display. */
export interface StepProgress {
  (event: { source: string; scope: string; step: 'export' | 'import' | 'verify'; items?: number; bytes?: number }): void;
}

export interface StepEnv {
  repo: Repository;
  connector: Connector;
  source: string;
  scope: ScopeRef;
  lease: Lease;
  cacheDir: string;
  signal: AbortSignal;
  log: Logger;
  progress?: StepProgress;
}

const APPEND_BATCH = 500;
const MAX_LISTED_FINDINGS = 1000;

async function scopeWorkDir(env: StepEnv): Promise<string> {
  const dir = join(env.cacheDir, env.source, env.scope.id);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Export one scope from its committed cursor and commit the run (even an empty one: it proves freshness). */
export async function exportStep(env: StepEnv): Promise<RunManifest> {
  const { repo, connector, source, scope } = env;
  const state = await repo.scopeState(source, scope.id);
  const live = await repo.liveRecords(source, scope.id);
  const writer = await repo.beginRun(env.lease, 'export');
  const pending: ChangeRecordInput[] = [];
  const emitted = new Map<string, ChangeRecordInput>();
  let items = 0;
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length) await writer.append(pending.splice(0));
  };
  try {
    const ctx: ExportContext = {
      putBlob: (body, mediaType) => writer.putBlob(body, mediaType),
      getBlob: (sha) => repo.getBlob(sha),
      emit: async (record) => {
        pending.push(record);
        emitted.set(`${record.kind}\u0000${record.id}`, record);
        items++;
        for (const b of Object.values(record.blobs ?? {})) bytes += b.size;
        if (pending.length >= APPEND_BATCH) await flush();
      },
      possessed: async (kind) => new Map([...(live.get(kind) ?? new Map<string, ChangeRecord>()).entries()].map(([id, r]) => [id, r.version])),
      lastRecord: async (kind, id) => live.get(kind)?.get(id) ?? null,
      workDir: await scopeWorkDir(env),
      signal: env.signal,
      log: env.log,
      progress: (d) => env.progress?.({ source, scope: scope.id, step: 'export', ...d }),
    };
    const cursor = await connector.exportScope(scope, state.cursor, ctx);
    await flush();
    return await writer.commit({ cursor, stats: { items, bytes } });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Import every committed change not yet applied to the standby (plus items that failed last time),
 * then commit the id map with the import run.
 */
export async function importStep(env: StepEnv): Promise<RunManifest> {
  const { repo, connector, source, scope } = env;
  const state = await repo.scopeState(source, scope.id);
  const records: ChangeRecord[] = [];
  for await (const r of repo.readJournal(source, scope.id, { afterSeq: state.importedSeq, uptoSeq: state.exportedSeq })) records.push(r);
  // Items that failed in the previous import are retried: their records are behind importedSeq.
  const retry = (state.lastRuns.import?.summary?.failed as ImportFailure[] | undefined) ?? [];
  if (retry.length) {
    const live = await repo.liveRecords(source, scope.id);
    for (const f of retry) {
      const r = live.get(f.kind)?.get(f.id);
      if (r) records.push(r);
    }
  }
  const batch = importBatch(records, connector.kinds);
  const idMap = new MemoryIdMap(state.idMap);
  const live = batch.length ? await repo.liveRecords(source, scope.id) : new Map<string, Map<string, ChangeRecord>>();
  const writer = await repo.beginRun(env.lease, 'import');
  const started = Date.now();
  let bytes = 0;
  try {
    const ctx: ImportContext = {
      getBlob: (sha) => repo.getBlob(sha),
      idMap,
      lastRecord: async (kind, id) => live.get(kind)?.get(id) ?? null,
      workDir: await scopeWorkDir(env),
      signal: env.signal,
      log: env.log,
      progress: (d) => {
        bytes += d.bytes ?? 0;
        env.progress?.({ source, scope: scope.id, step: 'import', ...d });
      },
    };
    const result = batch.length ? await connector.importChanges(scope, batch, ctx) : { imported: 0, unchanged: 0, deleted: 0, failed: [] };
    const perKind: Record<string, number> = {};
    for (const r of batch) perKind[r.kind] = (perKind[r.kind] ?? 0) + 1;
    return await writer.commit({
      idMap: idMap.snapshot(),
      seqFrom: state.importedSeq,
      seqTo: state.exportedSeq,
      stats: { items: result.imported + result.deleted, bytes, unchanged: result.unchanged, failed: result.failed.length, ms: Date.now() - started },
      summary: { failed: result.failed, perKind },
    });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Compare every live stored item with the standby on its kind's preserved fields and commit a proof.
 * Findings are part of the proof, not log lines.
 */
export async function verifyStep(env: StepEnv): Promise<{ manifest: RunManifest; proof: VerifyProof }> {
  const { repo, connector, source, scope } = env;
  const state = await repo.scopeState(source, scope.id);
  const live = await repo.liveRecords(source, scope.id);
  const failed = (state.lastRuns.import?.summary?.failed as ImportFailure[] | undefined) ?? [];
  const result = await compareWithStandby({ connector, scope, live, idMap: new MemoryIdMap(state.idMap), failed, getBlob: (sha) => repo.getBlob(sha), workDir: await scopeWorkDir(env), signal: env.signal, log: env.log });
  const through = await newestExportCovering(repo, source, scope.id, state.importedSeq);
  const proof: VerifyProof = { source, scope: scope.id, seqTo: state.importedSeq, sourceTimeThrough: through, verifiedAt: new Date().toISOString(), ...result };
  const writer = await repo.beginRun(env.lease, 'verify');
  try {
    const total = Object.values(result.counts).reduce((n, c) => n + c.stored, 0);
    const findings = result.findings.length + result.findingsTruncated;
    const manifest = await writer.commit({
      document: proof,
      seqFrom: 0,
      seqTo: state.importedSeq,
      stats: { items: total, bytes: 0, findings },
      summary: { findings, sourceTimeThrough: through },
    });
    return { manifest, proof };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Compare the live stored items of a scope with what the standby holds, on each kind's preserved
 * fields. Used by verify (against the standby) and by drill --fresh (against the restored tenant).
 */
export async function compareWithStandby(input: {
  connector: Connector;
  scope: ScopeRef;
  live: Map<string, Map<string, ChangeRecord>>;
  idMap: MemoryIdMap;
  failed: ImportFailure[];
  getBlob: VerifyContext['getBlob'];
  workDir: string;
  signal: AbortSignal;
  log: Logger;
}): Promise<Pick<VerifyProof, 'counts' | 'digests' | 'findings' | 'findingsTruncated'>> {
  const { connector, scope, live } = input;
  const ctx: VerifyContext = { idMap: input.idMap, getBlob: input.getBlob, workDir: input.workDir, signal: input.signal, log: input.log };
  const specs = new Map(connector.kinds.map((k) => [k.kind, k]));
  const counts: Record<string, KindCounts> = {};
  const count = (kind: string): KindCounts => (counts[kind] ??= { stored: 0, standby: 0, matched: 0, mismatched: 0, missing: 0, extra: 0 });
  const findings: Finding[] = [];
  let truncated = 0;
  const find = (f: Finding): void => {
    if (findings.length < MAX_LISTED_FINDINGS) findings.push(f);
    else truncated++;
  };

  // Standby side, keyed by source id.
  const standby = new Map<string, Map<string, Record<string, unknown>>>();
  for await (const item of connector.readStandby(scope, ctx)) {
    if (specs.get(item.kind)?.possession !== 'restorable') continue;
    count(item.kind).standby++;
    if (item.sourceId === null) {
      count(item.kind).extra++;
      find({ kind: item.kind, id: item.standbyId, type: 'extra', detail: `standby holds ${item.kind} ${item.standbyId} that is not in the owned storage` });
      continue;
    }
    let m = standby.get(item.kind);
    if (!m) standby.set(item.kind, (m = new Map()));
    if (m.has(item.sourceId)) {
      count(item.kind).extra++;
      find({ kind: item.kind, id: item.sourceId, type: 'extra', detail: `standby holds ${item.kind} ${item.sourceId} twice (also as ${item.standbyId})` });
      continue;
    }
    m.set(item.sourceId, item.normalized);
  }

  const failedImports = new Map(input.failed.map((f) => [`${f.kind}\u0000${f.id}`, f.error]));
  const digests: Record<string, string> = {};
  for (const [kind, items] of [...live.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const spec = specs.get(kind);
    if (!spec || spec.possession !== 'restorable') continue;
    const hash = createHash('sha256');
    const side = standby.get(kind) ?? new Map<string, Record<string, unknown>>();
    for (const [id, record] of [...items.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const c = count(kind);
      c.stored++;
      const stored = await connector.normalize(record, ctx);
      hash.update(`${id}\u0000${stableStringify(pickFields(stored, spec.fidelity.preserved))}\n`);
      const other = side.get(id);
      side.delete(id);
      if (!other) {
        c.missing++;
        const failed = failedImports.get(`${kind}\u0000${id}`);
        find(failed ? { kind, id, type: 'import-failed', detail: failed } : { kind, id, type: 'missing', detail: `${kind} ${id} is possessed but not on the standby` });
        continue;
      }
      const diff = differingFields(stored, other, spec.fidelity.preserved);
      if (diff.length) {
        c.mismatched++;
        find({ kind, id, type: 'mismatch', fields: diff, detail: diff.map((f) => `${f}: stored ${short(pickFields(stored, [f])[f])} standby ${short(pickFields(other, [f])[f])}`).join('; ') });
      } else c.matched++;
    }
    digests[kind] = hash.digest('hex');
  }
  // Standby items mapped to a source id that is not live (deleted at the source, or never possessed).
  for (const [kind, side] of standby) {
    for (const id of side.keys()) {
      count(kind).extra++;
      find({ kind, id, type: 'extra', detail: `standby still holds ${kind} ${id}, which is deleted at the source` });
    }
  }
  return { counts, digests, findings, findingsTruncated: truncated };
}

/** startedAt of the newest committed export run whose records are all at or below seq. */
async function newestExportCovering(repo: Repository, source: string, scope: string, seq: number): Promise<string | null> {
  let best: string | null = null;
  for await (const m of repo.listRuns(source, scope)) {
    if (m.type === 'export' && m.seqTo <= seq && (best === null || m.startedAt > best)) best = m.startedAt;
  }
  return best;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
