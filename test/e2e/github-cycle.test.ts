/**
 * Issue 3, must show: `norestore cycle` run as a user would (the built CLI, a config file) against a
 * source and a standby emulator; mutate the source, run again; then plain octokit and git check that
 * the standby holds everything, numbers and timestamps included where the fidelity spec says so.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubPair, type GithubPair } from '../helpers/github-pair.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
let pair: GithubPair;

async function lsRemote(url: string, token: string): Promise<Map<string, string>> {
  const { stdout } = await exec('git', ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`, 'ls-remote', url], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  const refs = new Map<string, string>();
  for (const line of stdout.trim().split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t') as [string, string];
    if (ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/')) refs.set(ref, sha);
  }
  return refs;
}

async function compareOrgs(): Promise<void> {
  const src = new Octokit({ baseUrl: pair.source.baseUrl, auth: pair.source.credentials.token });
  const dst = new Octokit({ baseUrl: pair.standby.baseUrl, auth: pair.standby.credentials.token });
  const repos = await src.paginate(src.rest.repos.listForOrg, { org: 'acme', per_page: 100 });
  expect(repos.length).toBeGreaterThan(0);
  for (const repo of repos) {
    const standbyRepo = await dst.rest.repos.get({ owner: 'acme-dr', repo: repo.name });
    expect(standbyRepo.data.default_branch).toBe(repo.default_branch);
    // git: branches and tags, object ids exactly
    const a = await lsRemote(`${pair.source.gitUrl}/acme/${repo.name}.git`, pair.source.credentials.token).catch(() => new Map());
    const b = await lsRemote(`${pair.standby.gitUrl}/acme-dr/${repo.name}.git`, pair.standby.credentials.token).catch(() => new Map());
    expect(Object.fromEntries(b), `git refs of ${repo.name}`).toEqual(Object.fromEntries(a));
    // labels by name, color, description
    const labels = async (o: Octokit, owner: string) => (await o.paginate(o.rest.issues.listLabelsForRepo, { owner, repo: repo.name, per_page: 100 })).map((l) => `${l.name}|${l.color}|${l.description ?? ''}`).sort();
    expect(await labels(dst, 'acme-dr'), `labels of ${repo.name}`).toEqual(await labels(src, 'acme'));
    if (!repo.has_issues) continue;
    // issues (and PRs) by number: title, state, labels; created_at kept for issues through the import endpoint
    const list = async (o: Octokit, owner: string) => o.paginate(o.rest.issues.listForRepo, { owner, repo: repo.name, state: 'all', per_page: 100 });
    const srcIssues = await list(src, 'acme');
    const dstIssues = new Map((await list(dst, 'acme-dr')).map((i) => [i.number, i]));
    for (const i of srcIssues) {
      const d = dstIssues.get(i.number);
      expect(d, `${repo.name}#${i.number} on the standby`).toBeDefined();
      if (!d) continue;
      expect(d.title, `${repo.name}#${i.number} title`).toBe(i.title);
      expect(d.state, `${repo.name}#${i.number} state`).toBe(i.state);
      expect(d.labels.map((l) => (typeof l === 'string' ? l : l.name)).sort(), `${repo.name}#${i.number} labels`).toEqual(i.labels.map((l) => (typeof l === 'string' ? l : l.name)).sort());
      if (!i.pull_request) expect(d.created_at, `${repo.name}#${i.number} created_at`).toBe(i.created_at);
      expect(d.body ?? '', `${repo.name}#${i.number} body keeps the original text`).toContain((i.body ?? '').slice(0, 40));
    }
  }
}

beforeAll(async () => {
  pair = await githubPair();
});
afterAll(async () => {
  await pair?.close();
});

describe('norestore cycle against GitHub emulators (CLI)', () => {
  it('init, cycle, mutate, cycle: the standby holds everything', async () => {
    const init = await runCli(['init', '--config', pair.configFile]);
    expect(init.code, init.stderr).toBe(0);

    const first = await runCli(['cycle', '--config', pair.configFile, '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const summary = jsonLines(first.stdout).find((l) => l.event === 'cycle');
    expect(summary?.ok).toBe(true);
    await compareOrgs();

    const m = pair.source.mutate;
    m.advanceClock(60_000);
    const issue = m.createIssue('alpha', { title: 'after the first cycle', body: 'new at the source', labels: ['bug'] });
    m.addComment('alpha', issue.number, 'a comment');
    m.closeIssue('alpha', 1, 'completed');
    m.addLabel('alpha', 'e2e-label', '00ff00', 'added between cycles');
    await m.pushCommit('alpha', { message: 'between cycles', files: [{ path: 'e2e.txt', content: 'x\n' }] });

    const second = await runCli(['cycle', '--config', pair.configFile, '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const scopes = (jsonLines(second.stdout).find((l) => l.event === 'cycle')?.scopes ?? []) as Array<{ name: string; exported: number }>;
    // Only the changes were exported the second time; untouched repositories exported nothing.
    expect(scopes.find((s) => s.name === 'acme/alpha')?.exported).toBeGreaterThan(0);
    for (const s of scopes.filter((s) => s.name !== 'acme/alpha')) expect(s.exported, s.name).toBe(0);
    await compareOrgs();

    const check = await runCli(['check', '--config', pair.configFile, '--read-data']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 300_000);
});
