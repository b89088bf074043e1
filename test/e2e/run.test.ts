/**
 * Issue 4, must show: `norestore run` (the daemon) through the built CLI against GitHub emulators.
 * It cycles on its schedule; SIGTERM in the middle of a cycle abandons the running step cleanly and
 * exits 0; the repository then checks clean (blobs read and hashed) and the next `cycle` verifies
 * everything, the change made while the daemon ran included: nothing lost, nothing duplicated.
 */
import type { ChildProcess } from 'node:child_process';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubPair, type GithubPair } from '../helpers/github-pair.js';
import { finished, jsonLines, runCli, startCli, type CliResult } from '../helpers/cli.js';

const SEED = { profile: 'large' as const, repos: 1, issuesPerRepo: 3, commentsPerIssue: 1, prsPerRepo: 1 };
const REPO = 'repo-0001';
let pair: GithubPair;

type Line = Record<string, unknown>;

/** Every JSON line the child prints (stdout and stderr), and a way to wait for one. */
function watch(child: ChildProcess): { lines: Line[]; until(pred: (l: Line, seen: Line[]) => boolean): Promise<Line> } {
  const lines: Line[] = [];
  const waiters: Array<{ pred: (l: Line, seen: Line[]) => boolean; resolve(l: Line): void; reject(e: Error): void }> = [];
  const feed = (stream: NodeJS.ReadableStream | null): void => {
    let rest = '';
    stream?.on('data', (d: Buffer) => {
      rest += d.toString();
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const l of jsonLines(parts.join('\n'))) {
        lines.push(l);
        for (const w of [...waiters]) {
          if (w.pred(l, lines)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(l);
          }
        }
      }
    });
  };
  feed(child.stdout);
  feed(child.stderr);
  child.on('close', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`norestore run exited (${code}) before the awaited line; lines: ${JSON.stringify(lines).slice(-3000)}`));
  });
  return {
    lines,
    until: (pred) => {
      const hit = lines.find((l) => pred(l, lines));
      return hit ? Promise.resolve(hit) : new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }));
    },
  };
}

async function issues(side: 'source' | 'standby'): Promise<Record<number, string>> {
  const emu = pair[side];
  const o = new Octokit({ baseUrl: emu.baseUrl, auth: emu.credentials.token });
  const list = await o.paginate(o.rest.issues.listForRepo, { owner: side === 'source' ? 'acme' : 'acme-dr', repo: REPO, state: 'all', per_page: 100 });
  return Object.fromEntries(list.map((i) => [i.number, i.title]));
}

function expectCode(r: CliResult, code: number): void {
  expect(r.code, `exit code; stdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`).toBe(code);
}

beforeAll(async () => {
  pair = await githubPair({ seed: SEED });
  await pair.writeConfig({}, { schedule: { every: '1s', jitter: '0s' } });
  expectCode(await runCli(['init', '--config', pair.configFile]), 0);
});
afterAll(async () => {
  await pair?.close();
});

describe('norestore run (daemon) through the CLI (GitHub emulators)', () => {
  it('cycles on its schedule; SIGTERM mid-cycle exits 0; check is clean and the next cycle verifies everything', async () => {
    const child = startCli(['run', '--config', pair.configFile, '--json']);
    const done = finished(child);
    const out = watch(child);
    try {
      // A first complete cycle, then the schedule starts the next one (every 1s: at once, cycles take longer).
      const first = await out.until((l) => l.event === 'cycle');
      expect(first.ok, JSON.stringify(first)).toBe(true);
      const made = pair.source.mutate.createIssue(REPO, { title: 'made while the daemon runs', body: 'must not be lost' });
      pair.source.mutate.addComment(REPO, made.number, 'and a comment');
      const next = await out.until((l) => l.msg === 'next cycle scheduled');
      expect(next.inMs).toBeLessThanOrEqual(1000);
      // SIGTERM as soon as the second cycle has started work on its scope.
      await out.until((l, seen) => l.msg === 'scope started' && seen.filter((x) => x.msg === 'scope started').length === 2);
      const signalled = Date.now();
      child.kill('SIGTERM');
      const r = await done;
      const exitMs = Date.now() - signalled;
      expectCode(r, 0);
      expect(r.signal).toBeNull();
      expect(r.stderr).toMatch(/SIGTERM received, finishing the running steps/);
      // The signal landed mid-cycle: the second cycle was abandoned, not completed.
      const cycles = out.lines.filter((l) => l.event === 'cycle');
      expect(cycles).toHaveLength(2);
      expect(cycles[1]!.ok, JSON.stringify(cycles[1])).toBe(false);
      expect(JSON.stringify(cycles[1])).toMatch(/interrupted|abort/i);
      console.log(`norestore run: exited ${exitMs} ms after SIGTERM`);

      // The repository is consistent: every referenced blob present and hashing right.
      const check = await runCli(['check', '--config', pair.configFile, '--read-data']);
      expectCode(check, 0);
      expect(check.stdout).toMatch(/^ok: /m);

      // The next cycle picks up where the abandoned one stopped: everything verified, nothing lost.
      const cycle = await runCli(['cycle', '--config', pair.configFile, '--json']);
      expectCode(cycle, 0);
      const result = jsonLines(cycle.stdout).find((l) => l.event === 'cycle') as { ok: boolean; scopes: Array<{ findings: number; importFailures: number }> };
      expect(result.ok).toBe(true);
      expect(result.scopes.map((s) => [s.findings, s.importFailures])).toEqual([[0, 0]]);
      const standby = await issues('standby');
      expect(standby[made.number]).toBe('made while the daemon runs');
      expect(standby).toEqual(await issues('source'));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
