import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { SourceConfig } from '../config/schema.js';
import type { Connector, Logger } from '../model/connector.js';
import type { Repository } from '../store/types.js';
import { runCycle, type CycleResult } from './cycle.js';
import { directionOf, saveDirection, storageSourceKey, swapConfigDirection, type DirectionState } from './direction.js';
import { dryRunSwitch } from './drill.js';
import type { RunbookStep } from './runbook.js';

export interface FailoverInput {
  repo: Repository;
  src: SourceConfig;
  configPath: string;
  connector: Connector;
  cacheDir: string;
  log: Logger;
  direction: 'failover' | 'failback';
  dryRun: boolean;
  /** Switch even if the final catch-up left something unverified. */
  force?: boolean;
  signal?: AbortSignal;
  onCycle?: Partial<Pick<Parameters<typeof runCycle>[0], 'onPlan' | 'onScope' | 'progress'>>;
}

export interface PendingScope {
  scope: string;
  pendingRecords: number;
  lastVerifiedAt: string | null;
  findings: number | null;
}

export interface FailoverOutcome {
  direction: 'failover' | 'failback';
  dryRun: boolean;
  /** What production moves from and to (display). */
  from: string;
  to: string;
  before: DirectionState;
  after: DirectionState;
  catchUp?: CycleResult;
  pending: PendingScope[];
  runbook: RunbookStep[];
  hooks: Array<{ name: string; ok: boolean; ms: number; output: string }>;
  switched: boolean;
  configBackup?: string;
  /** Why it did not switch. */
  refused?: string;
}

/** Machine values of one side for hooks: the org, domain or tenant id, and the API base URL. */
export function endpointValues(src: SourceConfig, side: 'source' | 'standby'): { id: string; url: string } {
  if (src.service === 'github') return { id: src[side].org, url: src[side].baseUrl };
  if (src.service === 'google') return { id: src[side].domain, url: src[side].rootUrl };
  return { id: src[side].tenantId, url: src[side].graphBaseUrl };
}

/**
 * The environment of a failover hook. Production moves from the config's source to its standby:
 * NORESTORE_FROM/TO are display text, the _ID and _URL variables machine values to act on.
 */
export function hookEnv(src: SourceConfig, direction: 'failover' | 'failback'): Record<string, string> {
  const from = endpointValues(src, 'source');
  const to = endpointValues(src, 'standby');
  return {
    NORESTORE_SOURCE: src.name,
    NORESTORE_SERVICE: src.service,
    NORESTORE_DIRECTION: direction,
    NORESTORE_FROM: describeEndpoint(src, 'source'),
    NORESTORE_TO: describeEndpoint(src, 'standby'),
    NORESTORE_FROM_ID: from.id,
    NORESTORE_TO_ID: to.id,
    NORESTORE_FROM_URL: from.url,
    NORESTORE_TO_URL: to.url,
  };
}

export function describeEndpoint(src: SourceConfig, side: 'source' | 'standby'): string {
  if (src.service === 'github') return `github org ${src[side].org}`;
  if (src.service === 'google') return `google domain ${src[side].domain}`;
  return `microsoft tenant ${src[side].tenantId}`;
}

/**
 * Failover (or failback): final catch-up and verification, the runbook with concrete values, the
 * configured hooks, then replication reversed: the config's source and standby are swapped and the
 * storage starts a new generation for the new direction. With dryRun: shows all of it, changes nothing.
 */
export async function runFailover(input: FailoverInput): Promise<FailoverOutcome> {
  const { repo, src } = input;
  const before = await directionOf(repo, src.name);
  const key = storageSourceKey(src.name, before);
  const expected = input.direction === 'failover' ? 'primary' : 'standby';
  const outcome: FailoverOutcome = {
    direction: input.direction,
    dryRun: input.dryRun,
    from: describeEndpoint(src, 'source'),
    to: describeEndpoint(src, 'standby'),
    before,
    after: before,
    pending: [],
    runbook: [],
    hooks: [],
    switched: false,
  };
  if (before.active !== expected) {
    outcome.refused =
      input.direction === 'failover'
        ? `${src.name} is already failed over (since ${before.history.at(-1)?.at ?? '?'}): use norestore failback to return`
        : `${src.name} is not failed over: nothing to fail back`;
    return outcome;
  }

  // The identity maps are reversed with the direction (swapConfigDirection): refuse before anything runs
  // when one cannot be.
  for (const [field, map] of Object.entries(src.identity) as Array<[string, Record<string, string>]>) {
    const values = Object.values(map);
    if (new Set(values).size !== values.length) {
      outcome.refused = `${src.name}.identity.${field} maps two names to the same one: it cannot be reversed for the ${input.direction}; make it one-to-one first`;
      return outcome;
    }
  }

  for (const s of await repo.listScopes(key)) {
    if (s.scope.startsWith('_')) continue;
    const st = await repo.scopeState(key, s.scope);
    const v = st.lastRuns.verify;
    outcome.pending.push({ scope: s.scope, pendingRecords: st.exportedSeq - st.importedSeq, lastVerifiedAt: v?.finishedAt ?? null, findings: v ? Number(v.summary?.findings ?? 0) : null });
  }

  if (!input.dryRun) {
    outcome.catchUp = await runCycle({ repo, connector: input.connector, source: key, cacheDir: input.cacheDir, log: input.log, signal: input.signal, concurrency: src.concurrency, ...input.onCycle });
    if (!outcome.catchUp.ok && !input.force) {
      const bad = outcome.catchUp.scopes.filter((s) => !s.ok).map((s) => `${s.name}: ${s.error ?? 'not verified'}`);
      outcome.refused = `the final catch-up did not verify every scope (${bad.join('; ')}); fix it, or pass --force to switch anyway`;
      return outcome;
    }
  }

  const scopeNames = outcome.catchUp?.scopes.map((s) => s.name) ?? (await input.connector.scopes()).map((s) => s.name);
  outcome.runbook = await dryRunSwitch(src, scopeNames);
  const now = new Date().toISOString();
  const after: DirectionState = {
    generation: before.generation + 1,
    active: before.active === 'primary' ? 'standby' : 'primary',
    history: [...before.history, { at: now, direction: input.direction, generation: before.generation + 1, from: outcome.from, to: outcome.to }],
  };
  outcome.after = after;
  if (input.dryRun) return outcome;

  for (const step of outcome.runbook) {
    if (!step.hook) continue;
    const r = await runHook(step.hook, dirname(input.configPath), hookEnv(src, input.direction));
    outcome.hooks.push({ name: step.hook.name, ...r });
    if (!r.ok) {
      outcome.refused = `hook "${step.hook.name}" failed; replication is NOT reversed. Fix it and run ${input.direction} again (earlier hooks ran: make them idempotent)`;
      return outcome;
    }
  }
  // Reverse replication: the config says so first, then the storage; a crash between the two is
  // detected by the next failover/status (config and direction disagree) and repaired by re-running.
  outcome.configBackup = await swapConfigDirection(input.configPath, src.name, `norestore ${input.direction} at ${now}: source and standby swapped (was: source ${outcome.from}, standby ${outcome.to})`);
  await saveDirection(repo, src.name, after);
  outcome.switched = true;
  return outcome;
}

function runHook(hook: { run: string; timeoutMs: number }, cwd: string, env: Record<string, string>): Promise<{ ok: boolean; ms: number; output: string }> {
  const t = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', hook.run], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: hook.timeoutMs });
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ ok: false, ms: Math.round(performance.now() - t), output: output + err.message }));
    child.on('close', (code, signal) => resolve({ ok: code === 0, ms: Math.round(performance.now() - t), output: signal ? `${output}\n(killed by ${signal}: timeout?)` : output }));
  });
}
