import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import type { RequestError } from '@octokit/request-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../index.js';
import { parseSeedSpec } from './seed.js';

const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The org as a client sees it, with the server's address taken out. */
async function snapshot(emu: RunningEmulator): Promise<string> {
  const gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
  const out: unknown[] = [];
  for (const repo of ['alpha', 'beta']) {
    out.push(await gh.paginate(gh.rest.issues.listForRepo, { owner: 'acme', repo, state: 'all', per_page: 100 }));
    out.push(await gh.paginate(gh.rest.issues.listCommentsForRepo, { owner: 'acme', repo, per_page: 100 }));
    out.push((await gh.rest.repos.listReleases({ owner: 'acme', repo })).data);
    out.push([...emu.mutate.repo(repo).git.branches.entries()], [...emu.mutate.repo(repo).git.tags.entries()]);
  }
  return JSON.stringify(out).split(emu.gitUrl).join('http://emulator');
}

describe('seed spec', () => {
  it('parses profile strings with options', () => {
    expect(parseSeedSpec('large:repos=200,issues=5000,seed=3', 'small')).toEqual({ profile: 'large', repos: 200, issues: 5000, seed: 3 });
    expect(parseSeedSpec(undefined, 'empty')).toEqual({ profile: 'empty' });
    expect(() => parseSeedSpec('huge', 'small')).toThrow(/unknown/);
    expect(() => parseSeedSpec('large:repos=x', 'small')).toThrow(/key=number/);
  });
});

describe('GitHub emulator seeding', () => {
  let a: RunningEmulator;
  let b: RunningEmulator;
  let c: RunningEmulator;
  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      startEmulator('github', { seed: 'small:seed=5' }),
      startEmulator('github', { seed: { profile: 'small', seed: 5 } }),
      startEmulator('github', { seed: 'small:seed=6' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  it('is deterministic: same seed, same content, numbers, ids, timestamps and git object ids', async () => {
    const [sa, sb, sc] = await Promise.all([snapshot(a), snapshot(b), snapshot(c)]);
    expect(sb).toBe(sa);
    expect(sc).not.toBe(sa);
    expect(a.seed).toMatchObject({ profile: 'small', repos: ['acme/alpha', 'acme/beta', 'acme/gamma'], pulls: 4, releases: 4, assets: 4 });
    expect(a.seed.issues).toBeGreaterThanOrEqual(20);
  });

  it('creates the large profile quickly with the requested counts', async () => {
    const t = Date.now();
    const big = await startEmulator('github', { seed: 'large:repos=40,issues=2000,commentsPerIssue=1,seed=2' });
    const ms = Date.now() - t;
    try {
      expect(big.seed.repos).toHaveLength(40);
      expect(big.seed.issues + big.seed.pulls).toBe(2000);
      const gh = new Octokit({ auth: big.credentials.token, baseUrl: big.baseUrl, log });
      const repos = await gh.paginate(gh.rest.repos.listForOrg, { org: 'acme', per_page: 100 });
      expect(repos).toHaveLength(40);
      const issues = await gh.paginate(gh.rest.issues.listForRepo, { owner: 'acme', repo: 'repo-0007', state: 'all', per_page: 100 });
      expect(issues).toHaveLength(50);
      const pr = await gh.rest.pulls.get({ owner: 'acme', repo: 'repo-0007', pull_number: 1 });
      expect(pr.data.head.ref).toBe('feature');
      const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${big.credentials.token}`).toString('base64')}`;
      const { stdout } = await promisify(execFile)('git', ['-c', auth, 'ls-remote', `${big.gitUrl}/acme/repo-0007.git`], { env: { PATH: process.env.PATH, GIT_TERMINAL_PROMPT: '0' } });
      expect(stdout).toContain(`${pr.data.head.sha}\trefs/pull/1/head`);
      console.log(`[bench] large seed: 40 repos, 2000 issues+PRs, 2000 comments in ${ms} ms`);
    } finally {
      await big.stop();
    }
  });
});

describe('GitHub emulator mutation helpers', () => {
  let emu: RunningEmulator;
  let gh: Octokit;
  beforeAll(async () => {
    emu = await startEmulator('github', { seed: 'small' });
    gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('changes issues, comments and labels as users would; changes show up with since', async () => {
    emu.mutate.advanceClock(5_000);
    const since = new Date(emu.state.now()).toISOString();
    const m = emu.mutate;
    const created = m.createIssue('alpha', { title: 'Mutated', labels: ['bug'] });
    m.closeIssue('alpha', 1, 'not_planned');
    m.reopenIssue('alpha', 2);
    m.relabel('alpha', 3, ['question', 'fresh-label']);
    const comment = m.addComment('alpha', 5, 'new comment');
    m.editComment('alpha', comment.id, 'edited comment');
    const changed = await gh.paginate(gh.rest.issues.listForRepo, { owner: 'acme', repo: 'alpha', state: 'all', since, per_page: 100 });
    expect(changed.map((i) => i.number).sort((x, y) => x - y)).toEqual([1, 2, 3, 5, created.number].sort((x, y) => x - y));
    const comments = await gh.rest.issues.listCommentsForRepo({ owner: 'acme', repo: 'alpha', since });
    expect(comments.data.map((c) => c.body)).toEqual(['edited comment']);
    m.deleteComment('alpha', comment.id);
    expect((await gh.rest.issues.listCommentsForRepo({ owner: 'acme', repo: 'alpha', since })).data).toEqual([]);
    m.deleteIssue('alpha', created.number);
    const gone = await gh.rest.issues.get({ owner: 'acme', repo: 'alpha', issue_number: created.number }).catch((e: RequestError) => e.status);
    expect(gone).toBe(410);
    expect(() => m.deleteIssue('alpha', 15)).toThrow(/pull request/);
    m.deleteLabel('alpha', 'fresh-label');
    const labels = await gh.rest.issues.listLabelsOnIssue({ owner: 'acme', repo: 'alpha', issue_number: 3 });
    expect(labels.data.map((l) => l.name)).toEqual(['question']);
  });

  it('pushes commits, branches and tags, merges pull requests, and manages releases', async () => {
    const m = emu.mutate;
    const before = m.repo('alpha').git.branches.get('main');
    const sha = await m.pushCommit('alpha', { message: 'from the test', files: [{ path: 'x.txt', content: 'x\n' }] });
    const main = await gh.rest.repos.listBranches({ owner: 'acme', repo: 'alpha' });
    expect(main.data.find((br) => br.name === 'main')?.commit.sha).toBe(sha);
    expect(sha).not.toBe(before);
    await m.createTag('alpha', 'v3.0.0', { message: 'annotated' });
    const tags = await gh.rest.repos.listTags({ owner: 'acme', repo: 'alpha' });
    expect(tags.data.find((t) => t.name === 'v3.0.0')?.commit.sha).toBe(sha);
    const merge = await m.mergePull('alpha', 15, 'bob');
    const pr = await gh.rest.pulls.get({ owner: 'acme', repo: 'alpha', pull_number: 15 });
    expect(pr.data).toMatchObject({ merged: true, state: 'closed', merge_commit_sha: merge });
    expect(m.repo('alpha').git.branches.get('main')).toBe(merge);
    const rel = await m.createRelease('alpha', { tag: 'v3.0.0', name: 'Three' });
    await m.addAsset('alpha', rel.id, 'three.bin', Buffer.from([1, 2, 3]));
    const r = await gh.rest.repos.getReleaseByTag({ owner: 'acme', repo: 'alpha', tag: 'v3.0.0' });
    expect(r.data.assets.map((x) => x.size)).toEqual([3]);
    await m.deleteRelease('alpha', rel.id);
    const rels = await gh.rest.repos.listReleases({ owner: 'acme', repo: 'alpha' });
    expect(rels.data.map((x) => x.tag_name)).not.toContain('v3.0.0');
    await m.deleteBranch('alpha', 'experiment');
    await expect(m.deleteBranch('alpha', 'main')).rejects.toThrow(/default branch/);
    const repo = await m.createRepo('fresh');
    expect(repo.git.branches.has('main')).toBe(true);
  });
});
