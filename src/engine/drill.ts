import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import PQueue from 'p-queue';
import type { SourceConfig } from '../config/schema.js';
import type { Connector, ImportContext, ImportResult, Logger, ScopeRef } from '../model/connector.js';
import type { ChangeRecord } from '../model/records.js';
import type { DrillDocument } from '../model/proof.js';
import type { LiveView, Repository } from '../store/types.js';
import { runCycle, type CycleResult } from './cycle.js';
import { MemoryIdMap } from './idmap.js';
import { importBatch } from './order.js';
import { buildRunbook, type RunbookStep } from './runbook.js';
import { compareWithStandby, upsertsByKind, type StepProgress } from './steps.js';

import { SOURCE_SCOPE } from '../model/scopes.js';

export interface DrillInput {
  repo: Repository;
  src: SourceConfig;
  /** Storage key of the source (its generation). */
  key: string;
  connector: Connector;
  cacheDir: string;
  log: Logger;
  signal?: AbortSignal;
  concurrency?: number;
  progress?: StepProgress;
  onScope?: Parameters<typeof runCycle>[0]['onScope'];
  onPlan?: Parameters<typeof runCycle>[0]['onPlan'];
}

export interface DrillOutcome {
  document: DrillDocument;
  runbook: RunbookStep[];
  cycles: CycleResult[];
}

/**
 * No-restore RTO, measured: catch up every pending change, verify, and walk the switch steps in
 * dry-run, timing each part; the drill document is committed to the storage. Nothing is switched.
 */
export async function runNoRestoreDrill(input: DrillInput): Promise<DrillOutcome> {
  const startedAt = new Date();
  const steps: DrillDocument['steps'] = [];
  const cycles: CycleResult[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    steps.push({ name, ms: Math.round(performance.now() - t), detail: detail?.(r) });
    return r;
  };
  const cycle = (step: 'export' | 'import' | 'verify') => () =>
    runCycle({ repo: input.repo, connector: input.connector, source: input.key, cacheDir: input.cacheDir, log: input.log, signal: input.signal, concurrency: input.concurrency, steps: [step], progress: input.progress, onScope: input.onScope, onPlan: input.onPlan });
  const summary = (r: CycleResult) => `${r.scopes.filter((s) => s.ok).length}/${r.scopes.length} scopes ok`;
  cycles.push(await timed('catch-up export of pending source changes', cycle('export'), summary));
  cycles.push(await timed('catch-up import into the standby', cycle('import'), summary));
  const verify = await timed('verify the standby', cycle('verify'), summary);
  cycles.push(verify);
  const runbook = await timed('switch steps (dry-run)', () => dryRunSwitch(input.src, verify.scopes.map((s) => s.name)), (r) => `${r.length} steps, ${r.filter((s) => s.hook).length} automated by hooks`);

  // Per-kind import rates, only where an import run applied a single kind: a run that mixed kinds
  // times them together, and splitting its time would be an estimate, not a measurement.
  const imported: DrillDocument['imported'] = {};
  for (const o of cycles[1]?.scopes ?? []) {
    const m = (await input.repo.scopeState(input.key, o.scope)).lastRuns.import;
    const perKind = Object.entries((m?.summary?.perKind as Record<string, number> | undefined) ?? {});
    const only = perKind.length === 1 ? perKind[0] : undefined;
    if (!m || !only) continue;
    const e = (imported[only[0]] ??= { items: 0, bytes: 0, ms: 0 });
    e.items += only[1];
    e.bytes += m.stats.bytes;
    e.ms += m.stats.ms ?? 0;
  }
  const findings = verify.scopes.reduce((n, s) => n + (s.findings ?? 0), 0);
  const finishedAt = new Date();
  const document: DrillDocument = {
    source: input.src.name,
    mode: 'no-restore',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    steps,
    totalMs: steps.reduce((n, s) => n + s.ms, 0),
    imported,
    ok: cycles.every((c) => c.ok),
    findings,
  };
  await commitDrill(input.repo, input.key, document);
  return { document, runbook, cycles };
}

/**
 * Classic RTO, measured: restore everything possessed from the storage into an EMPTY tenant (the
 * source's freshStandby), kind by kind, then verify it. The restore's id maps are thrown away.
 */
export async function runFreshDrill(input: DrillInput): Promise<DrillOutcome> {
  const startedAt = new Date();
  const signal = input.signal ?? new AbortController().signal;
  const possessed = new Set((await input.repo.listScopes(input.key)).map((s) => s.scope));
  const scopes = (await input.connector.scopes()).filter((s) => possessed.has(s.id));
  input.onPlan?.(scopes);
  const imported: DrillDocument['imported'] = {};
  let findings = 0;
  let failed = 0;
  const queue = new PQueue({ concurrency: input.concurrency ?? 4 });
  const t0 = performance.now();
  await Promise.all(
    scopes.map((scope) =>
      queue.add(async () => {
        input.onScope?.({ scope, phase: 'start' });
        const r = await restoreScope(input, scope, signal, imported);
        findings += r.findings;
        failed += r.failed;
        input.onScope?.({ scope, phase: 'done', outcome: { source: input.key, scope: scope.id, name: scope.name, ok: r.findings === 0 && r.failed === 0, ms: r.ms, steps: {}, findings: r.findings, importFailures: r.failed } });
      }),
    ),
  );
  const restoreMs = Math.round(performance.now() - t0);
  const finishedAt = new Date();
  const document: DrillDocument = {
    source: input.src.name,
    mode: 'fresh',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    steps: [{ name: `full restore of ${scopes.length} scopes from the storage into an empty tenant, verified`, ms: restoreMs, detail: `${failed} items failed, ${findings} findings` }],
    totalMs: restoreMs,
    imported,
    ok: findings === 0 && failed === 0,
    findings,
  };
  await commitDrill(input.repo, input.key, document);
  return { document, runbook: [], cycles: [] };
}

async function restoreScope(input: DrillInput, scope: ScopeRef, signal: AbortSignal, imported: DrillDocument['imported']): Promise<{ findings: number; failed: number; ms: number }> {
  const t = performance.now();
  const live = await input.repo.live(input.key, scope.id);
  const idMap = new MemoryIdMap();
  const workDir = join(input.cacheDir, 'drill-fresh', input.key, scope.id);
  const result = await importEverything(input, scope, live, idMap, workDir, signal, imported);
  // verification reads the records again, segment by segment: the import batch is gone by now
  const cmp = await compareWithStandby({ connector: input.connector, scope, live, idMap, failed: result.failed, getBlob: (sha) => input.repo.getBlob(sha), workDir, signal, log: input.log });
  return { findings: cmp.findings.length + cmp.findingsTruncated, failed: result.failed.length, ms: Math.round(performance.now() - t) };
}

/** Import every live record of a scope into the empty tenant in one batch (the connector's contract). */
async function importEverything(input: DrillInput, scope: ScopeRef, live: LiveView, idMap: MemoryIdMap, workDir: string, signal: AbortSignal, imported: DrillDocument['imported']): Promise<ImportResult> {
  const records: ChangeRecord[] = [];
  for await (const r of live.records()) records.push(r);
  const batch = importBatch(records, input.connector.kinds);
  records.length = 0;
  const byKind = upsertsByKind(batch);
  // One import of the whole scope (the connector orders across kinds, e.g. issue and pull numbers);
  // time is attributed to a kind as it passes between the connector's per-item progress events.
  // Progress without a kind is attributed to '*'.
  let last = performance.now();
  const ctx: ImportContext = {
    getBlob: (sha) => input.repo.getBlob(sha),
    idMap,
    lastRecord: async (k, id) => byKind.get(k)?.get(id) ?? null,
    workDir,
    signal,
    log: input.log,
    progress: (d) => {
      const now = performance.now();
      const e = (imported[d.kind ?? '*'] ??= { items: 0, bytes: 0, ms: 0 });
      e.items += d.items ?? 0;
      e.bytes += d.bytes ?? 0;
      if (d.items) {
        e.ms += Math.round(now - last);
        last = now;
      }
      input.progress?.({ source: input.key, scope: scope.id, step: 'import', ...d });
    },
  };
  return batch.length ? await input.connector.importChanges(scope, batch, ctx) : { imported: 0, unchanged: 0, deleted: 0, failed: [] };
}

async function commitDrill(repo: Repository, key: string, document: DrillDocument): Promise<void> {
  const lease = await repo.acquireLease(key, SOURCE_SCOPE);
  try {
    const writer = await repo.beginRun(lease, 'drill');
    await writer.commit({ document, stats: { items: 0, bytes: 0, ms: document.totalMs }, summary: { mode: document.mode, totalMs: document.totalMs, ok: document.ok } });
  } finally {
    await lease.release();
  }
}

/** Walk the switch steps without switching: build the runbook and check each hook could run. */
export async function dryRunSwitch(src: SourceConfig, scopes: string[]): Promise<RunbookStep[]> {
  const steps = buildRunbook(src, scopes);
  for (const s of steps) {
    if (!s.hook) continue;
    const exe = s.hook.run.trim().split(/\s+/)[0] ?? '';
    if (!(await executableExists(exe))) s.details.push(`WARNING: ${exe} is not an executable file on this machine: the hook would fail`);
  }
  return steps;
}

async function executableExists(cmd: string): Promise<boolean> {
  const candidates = isAbsolute(cmd) || cmd.includes('/') ? [cmd] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return true;
    } catch {
      // try the next
    }
  }
  return false;
}
