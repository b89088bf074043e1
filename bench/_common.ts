/**
 * What the service benchmarks share: number knobs from the environment, a peak-RSS sampler, the
 * engine steps against an fs repository (one lease per step, as the engine takes it), and the
 * driver that runs the chosen parts and exits 0 (aims met), 1 (missed) or 2 (failed).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/engine/log.js';
import { exportStep, importStep, verifyStep, type StepEnv } from '../src/engine/steps.js';
import type { Connector, ScopeRef } from '../src/model/connector.js';
import { initRepository } from '../src/store/repository.js';
import type { Repository } from '../src/store/types.js';
import { createFsTarget } from '../targets/fs/index.js';

export const MB = 1e6;
export const log = (line: string): void => console.log(line);

/** A positive number from the environment, or the default. */
export function num(name: string, def: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? def : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

/** Samples RSS every `everyMs` until stopped; `stop()` returns the peak in MB. */
export function rssSampler(everyMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / MB;
    },
  };
}

export interface StepRig {
  repo: Repository;
  /** Run one engine step on a scope under its lease. */
  step<T>(scope: ScopeRef, fn: (e: StepEnv) => Promise<T>): Promise<T>;
  /** The connector's first scope whose id starts with `prefix`. */
  scope(prefix: string): Promise<ScopeRef>;
  /** export -> import -> verify of one scope, each timed, with the peak RSS (MB) over the three. */
  timedCycle(scope: ScopeRef): Promise<TimedCycle>;
  close(): Promise<void>;
}

export interface TimedCycle {
  exp: Awaited<ReturnType<typeof exportStep>>;
  imp: Awaited<ReturnType<typeof importStep>>;
  proof: Awaited<ReturnType<typeof verifyStep>>['proof'];
  exportS: number;
  importS: number;
  verifyS: number;
  peakMb: number;
}

/** An fs repository under `dir` and the engine steps of `connector` on it. */
export async function stepRig(dir: string, connector: Connector): Promise<StepRig> {
  const repo = await initRepository(createFsTarget({ path: path.join(dir, 'repo') }));
  const rig: StepRig = {
    repo,
    async step(scope, fn) {
      const lease = await repo.acquireLease('bench', scope.id);
      try {
        return await fn({ repo, connector, source: 'bench', scope, lease, cacheDir: path.join(dir, 'cache'), signal: new AbortController().signal, log: silentLogger });
      } finally {
        await lease.release();
      }
    },
    async scope(prefix) {
      const s = (await connector.scopes()).find((x) => x.id.startsWith(prefix));
      if (!s) throw new Error(`no scope ${prefix}*`);
      return s;
    },
    async timedCycle(scope) {
      const rss = rssSampler();
      const timed = async <T>(fn: (e: StepEnv) => Promise<T>): Promise<[T, number]> => {
        const t = Date.now();
        const r = await rig.step(scope, fn);
        return [r, (Date.now() - t) / 1000];
      };
      const [exp, exportS] = await timed(exportStep);
      const [imp, importS] = await timed(importStep);
      const [{ proof }, verifyS] = await timed(verifyStep);
      return { exp, imp, proof, exportS, importS, verifyS, peakMb: rss.stop() };
    },
    async close() {
      await connector.close();
      await repo.close();
    },
  };
  return rig;
}

export interface BenchPart {
  /** Name in the parts knob. */
  key: string;
  title: string;
  run(dir: string): Promise<boolean>;
}

/**
 * Runs the parts named in the `knob` variable (default: all) in a temporary directory each, then
 * prints the process's peak RSS and whether every aim was met; the process exits accordingly.
 */
export async function runBench(name: string, knob: string, parts: BenchPart[]): Promise<never> {
  try {
    const chosen = new Set((process.env[knob] ?? parts.map((p) => p.key).join(',')).split(',').map((p) => p.trim()));
    const unknown = [...chosen].filter((k) => !parts.some((p) => p.key === k));
    if (unknown.length) throw new Error(`${knob}: unknown part ${unknown.join(', ')} (known: ${parts.map((p) => p.key).join(', ')})`);
    const work = await mkdtemp(path.join(os.tmpdir(), `norestore-bench-${name}-`));
    let ok = true;
    try {
      for (const [i, part] of parts.entries()) {
        if (!chosen.has(part.key)) continue;
        log(`--- ${i + 1}. ${part.title}`);
        const dir = path.join(work, part.key);
        await mkdir(dir);
        ok = (await part.run(dir)) && ok;
      }
      log(`process maxRSS            ${((process.resourceUsage().maxRSS * 1024) / MB).toFixed(0).padStart(6)} MB (emulators included)`);
      log(ok ? 'aims met' : 'AIMS MISSED (see above)');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    process.exit(ok ? 0 : 1);
  } catch (err: unknown) {
    console.error(`${name} benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  }
}
