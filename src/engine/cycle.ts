import PQueue from 'p-queue';
import type { Connector, Logger, ScopeRef } from '../model/connector.js';
import type { VerifyProof } from '../model/proof.js';
import type { Lease, Repository } from '../store/types.js';
import { exportStep, importStep, verifyStep, type StepProgress } from './steps.js';

export type StepName = 'export' | 'import' | 'verify';

export interface ScopeOutcome {
  source: string;
  scope: string;
  name: string;
  ok: boolean;
  /** Step that failed, if any. */
  failedStep?: StepName;
  error?: string;
  exported?: number;
  imported?: number;
  importFailures?: number;
  findings?: number;
  ms: number;
  steps: Partial<Record<StepName, number>>;
}

export interface CycleResult {
  source: string;
  startedAt: string;
  finishedAt: string;
  scopes: ScopeOutcome[];
  /** True only when every scope exported, imported and verified with no findings. */
  ok: boolean;
}

export interface CycleOptions {
  repo: Repository;
  connector: Connector;
  source: string;
  cacheDir: string;
  log: Logger;
  signal?: AbortSignal;
  concurrency?: number;
  /** Only these scope ids (or names). */
  only?: string[];
  steps?: StepName[];
  progress?: StepProgress;
  onPlan?(scopes: ScopeRef[]): void;
  onScope?(event: { scope: ScopeRef; phase: 'start' | 'done'; outcome?: ScopeOutcome }): void;
}

/**
 * One cycle of a source: plan scopes, then per scope (in parallel, each under its lease):
 * export -> commit -> import -> commit -> verify -> commit proof. A failing scope never stops the others.
 */
export async function runCycle(opts: CycleOptions): Promise<CycleResult> {
  const startedAt = new Date().toISOString();
  const signal = opts.signal ?? new AbortController().signal;
  const steps = opts.steps ?? ['export', 'import', 'verify'];
  let scopes = await opts.connector.scopes();
  if (opts.only?.length) {
    const wanted = new Set(opts.only);
    scopes = scopes.filter((s) => wanted.has(s.id) || wanted.has(s.name));
  }
  opts.onPlan?.(scopes);
  const queue = new PQueue({ concurrency: opts.concurrency ?? 4 });
  const outcomes: ScopeOutcome[] = [];
  await Promise.all(
    scopes.map((scope) =>
      queue.add(async () => {
        if (signal.aborted) {
          outcomes.push({ source: opts.source, scope: scope.id, name: scope.name, ok: false, error: 'not started: shutting down', ms: 0, steps: {} });
          return;
        }
        opts.onScope?.({ scope, phase: 'start' });
        const outcome = await runScope(opts, scope, steps, signal);
        outcomes.push(outcome);
        opts.onScope?.({ scope, phase: 'done', outcome });
      }),
    ),
  );
  outcomes.sort((a, b) => a.scope.localeCompare(b.scope));
  return { source: opts.source, startedAt, finishedAt: new Date().toISOString(), scopes: outcomes, ok: outcomes.every((o) => o.ok) };
}

async function runScope(opts: CycleOptions, scope: ScopeRef, steps: StepName[], signal: AbortSignal): Promise<ScopeOutcome> {
  const started = Date.now();
  const log = opts.log;
  const outcome: ScopeOutcome = { source: opts.source, scope: scope.id, name: scope.name, ok: false, ms: 0, steps: {} };
  let lease: Lease | undefined;
  let current: StepName = steps[0] ?? 'export';
  try {
    lease = await opts.repo.acquireLease(opts.source, scope.id);
    const env = { repo: opts.repo, connector: opts.connector, source: opts.source, scope, lease, cacheDir: opts.cacheDir, signal, log, progress: opts.progress };
    let proof: VerifyProof | undefined;
    for (const step of steps) {
      current = step;
      if (signal.aborted) throw new Error('interrupted before ' + step);
      const t = Date.now();
      if (step === 'export') {
        const m = await exportStep(env);
        outcome.exported = m.stats.items;
      } else if (step === 'import') {
        const m = await importStep(env);
        outcome.imported = m.stats.items;
        outcome.importFailures = m.stats.failed ?? 0;
      } else {
        proof = (await verifyStep(env)).proof;
        outcome.findings = proof.findings.length + proof.findingsTruncated;
      }
      outcome.steps[step] = Date.now() - t;
      log.debug('step committed', { source: opts.source, scope: scope.id, step, ms: outcome.steps[step] });
    }
    outcome.ok = !outcome.importFailures && !outcome.findings;
    if (!outcome.ok) outcome.error = [outcome.importFailures ? `${outcome.importFailures} items failed to import` : '', outcome.findings ? `${outcome.findings} verification findings` : ''].filter(Boolean).join(', ');
  } catch (err) {
    outcome.failedStep = current;
    outcome.error = err instanceof Error ? err.message : String(err);
    log.error('scope failed', { source: opts.source, scope: scope.id, step: current, error: outcome.error });
  } finally {
    await lease?.release().catch(() => undefined);
    outcome.ms = Date.now() - started;
  }
  return outcome;
}
