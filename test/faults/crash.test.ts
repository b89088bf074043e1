import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsTarget } from '../../targets/fs/index.js';
import type { ChangeRecord } from '../../src/model/records.js';
import { readAll } from '../../src/store/objects.js';
import { initRepository, openRepository } from '../../src/store/repository.js';
import type { RunManifest } from '../../src/store/types.js';
import { transpileForChild } from './transpile.js';
import { BLOB_EVERY, blobBytes, record, RECORDS_PER_RUN, SCOPE, SOURCE } from './workload.js';

/**
 * Crash safety (issue 2, "Must show"): a child commits export runs into an fs repository and is
 * SIGKILLed at random points. After every kill: check passes (orphans and the dead child's lock
 * are only warnings), every earlier committed run is intact, the interrupted run is invisible, and
 * the next child (the retry, resuming from the committed cursor) commits it exactly once.
 */

const TRIALS = 20;
const SEED = 0x5eed_2026;
/** Steps the child reports per run: one per blob, one per 100-record append, one before commit. */
const STEPS_PER_RUN = Math.ceil(RECORDS_PER_RUN / BLOB_EVERY) + Math.floor(RECORDS_PER_RUN / 100) + 1;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir = '';
let childJs = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'norestore-crash-'));
  childJs = await transpileForChild(path.resolve(import.meta.dirname, '../..'), 'test/faults/commit-workload.ts', path.join(dir, 'child'));
  await initRepository(createFsTarget({ path: path.join(dir, 'repo') }));
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function startChild(lastRun: number): { child: ChildProcess; lines: AsyncIterator<string>; stderr: () => string } {
  const child = spawn(process.execPath, [childJs, path.join(dir, 'repo'), String(lastRun)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => err };
}

/** JSON with sorted keys, so records compare independently of property order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

/** What the repository must hold after `runs` committed runs of the workload. */
function expectedRecords(runs: number): Array<Omit<ChangeRecord, 'observedAt'>> {
  const out: Array<Omit<ChangeRecord, 'observedAt'>> = [];
  for (let k = 1; k <= runs; k++) for (let i = 0; i < RECORDS_PER_RUN; i++) out.push({ ...record(k, i).input, seq: out.length + 1 });
  return out;
}

interface Verified {
  runs: number;
  manifests: RunManifest[];
  orphans: number;
}

/**
 * Prove the repository holds exactly runs 1..K of the workload, intact, each once. Every call
 * checks that all referenced objects exist with their sizes and rehashes every journal segment;
 * blobs of runs committed since the last call are compared byte for byte, and with `readData`
 * every blob of every run is rehashed.
 */
async function verify(previous: RunManifest[], readNewBlobsFrom: number, readData: boolean): Promise<Verified> {
  const repo = await openRepository(createFsTarget({ path: path.join(dir, 'repo') }));
  try {
    const report = await repo.check({ readData });
    const errors = report.findings.filter((f) => f.severity === 'error');
    expect(errors, JSON.stringify(errors.slice(0, 3))).toEqual([]);
    expect(report.ok).toBe(true);
    for (const f of report.findings) expect(['orphan-blob', 'stale-lock']).toContain(f.code);

    const manifests: RunManifest[] = [];
    for await (const m of repo.listRuns(SOURCE, SCOPE)) manifests.push(m);
    const runs = manifests.length;
    // each run committed exactly once, in order, none lost
    expect(manifests.map((m) => [m.number, m.type, m.cursor?.run])).toEqual(manifests.map((_, i) => [i + 1, 'export', i + 1]));
    expect(runs).toBeGreaterThanOrEqual(previous.length);
    expect(manifests.slice(0, previous.length)).toEqual(previous);

    const state = await repo.scopeState(SOURCE, SCOPE);
    expect(state.exportedSeq).toBe(runs * RECORDS_PER_RUN);
    expect(state.cursor).toEqual(runs === 0 ? null : { run: runs });

    // the journal is exactly the records of runs 1..K, in seq order, none twice
    const journal: string[] = [];
    const ids = new Set<string>();
    for await (const r of repo.readJournal(SOURCE, SCOPE)) {
      const { observedAt: _o, ...rest } = r;
      journal.push(canonical(rest));
      ids.add(`${r.kind}/${r.id}/${r.version}`);
    }
    expect(ids.size, 'duplicate records in the journal').toBe(journal.length);
    const want = expectedRecords(runs).map(canonical);
    const firstDiff = want.findIndex((w, i) => journal[i] !== w);
    expect(journal.length).toBe(want.length);
    expect(firstDiff, firstDiff >= 0 ? `record ${firstDiff + 1}: ${journal[firstDiff]} != ${want[firstDiff]}` : '').toBe(-1);

    // blobs of the runs committed since the last verification, byte for byte (older ones were rehashed by check)
    for (let k = readNewBlobsFrom; k <= runs; k++) {
      for (let i = 0; i < RECORDS_PER_RUN; i += BLOB_EVERY) {
        const want = blobBytes(k, i);
        const { input } = record(k, i);
        const got = await readAll(await repo.getBlob(input.blobs!.content!.sha256));
        expect(got.equals(want), `blob of run ${k} record ${i}`).toBe(true);
      }
    }
    return { runs, manifests, orphans: report.findings.filter((f) => f.code === 'orphan-blob').length };
  } finally {
    await repo.close();
  }
}

describe('crash safety', () => {
  it(`survives ${TRIALS} SIGKILLs at random points mid-commit and resumes exactly once`, async () => {
    const rng = mulberry32(SEED);
    let last: Verified = { runs: 0, manifests: [], orphans: 0 };
    let killedWithLeftovers = 0;
    let killedInCommit = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const { child, lines, stderr } = startChild(1_000_000);
      const exited = once(child, 'exit');
      // kill after a random number of reported steps (up to about one and a half runs), sometimes a moment later
      const killAt = 1 + Math.floor(rng() * STEPS_PER_RUN * 1.5);
      const lag = rng() < 0.5 ? 0 : Math.floor(rng() * 20);
      let steps = 0;
      let lastLine = '';
      for (;;) {
        const next = await lines.next();
        if (next.done === true) throw new Error(`child ended before it was killed: ${stderr()}`);
        lastLine = next.value;
        if (lastLine === 'ready') continue;
        if (++steps >= killAt) break;
      }
      // not a wait for something to happen: a random extra moment moves the kill point off the step boundary
      if (lag > 0) await new Promise((r) => setTimeout(r, lag));
      child.kill('SIGKILL');
      const [code, signal] = (await exited) as [number | null, string | null];
      expect(signal, `child exited by itself (${code}): ${stderr()}`).toBe('SIGKILL');
      if (lastLine.startsWith('commit ')) killedInCommit++;

      const now = await verify(last.manifests, last.runs + 1, trial % 4 === 3);
      if (now.orphans > last.orphans) killedWithLeftovers++;
      last = now;
    }
    // the kills did land mid-run: some left uncommitted objects behind, some hit the commit itself
    expect(killedWithLeftovers).toBeGreaterThan(0);
    expect(killedInCommit + killedWithLeftovers).toBeGreaterThan(TRIALS / 4);
    expect(last.runs).toBeGreaterThan(3);

    // a last retry completes the interrupted run, exactly once
    const { child, lines, stderr } = startChild(last.runs + 1);
    const exited = once(child, 'exit');
    const out: string[] = [];
    for (let next = await lines.next(); next.done !== true; next = await lines.next()) out.push(next.value);
    const [code] = (await exited) as [number | null];
    expect(code, stderr()).toBe(0);
    expect(out.filter((l) => l.startsWith('committed '))).toEqual([`committed ${last.runs + 1}`]);
    const final = await verify(last.manifests, last.runs + 1, true);
    expect(final.runs).toBe(last.runs + 1);

    const repo = await openRepository(createFsTarget({ path: path.join(dir, 'repo') }));
    try {
      const live = await repo.liveRecords(SOURCE, SCOPE);
      const want = new Map<string, string>();
      for (const r of expectedRecords(final.runs)) {
        if (r.op === 'delete') want.delete(`${r.kind}/${r.id}`);
        else want.set(`${r.kind}/${r.id}`, r.version);
      }
      const got = new Map<string, string>();
      for (const [kind, items] of live) for (const [id, r] of items) got.set(`${kind}/${id}`, r.version);
      expect(got).toEqual(want);
    } finally {
      await repo.close();
    }
  }, 180_000);
});
