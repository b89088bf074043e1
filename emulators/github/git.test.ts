import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../index.js';

let emu: RunningEmulator;
let gh: Octokit;
let work: string;
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function git(args: string[], opts: { cwd?: string; auth?: string | null } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const auth = opts.auth === undefined ? emu.credentials.token : opts.auth;
  const pre = auth ? ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${auth}`).toString('base64')}`] : [];
  return new Promise((resolve) => {
    execFile(
      'git',
      [...pre, ...args],
      {
        cwd: opts.cwd ?? work,
        env: {
          PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '',
          GIT_AUTHOR_NAME: 'Tester', GIT_AUTHOR_EMAIL: 'tester@example.invalid', GIT_COMMITTER_NAME: 'Tester', GIT_COMMITTER_EMAIL: 'tester@example.invalid',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

async function refsOf(dir: string): Promise<Map<string, string>> {
  const r = await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir, auth: null });
  return new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => [l.split(' ')[1] as string, l.split(' ')[0] as string]));
}

beforeAll(async () => {
  emu = await startEmulator('github', { seed: 'small' });
  gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
  work = await mkdtemp(join(tmpdir(), 'gh-emu-git-test-'));
});
afterAll(async () => {
  await emu?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('GitHub emulator git smart HTTP', () => {
  it('asks for credentials (401) without auth and refuses a wrong token', async () => {
    const anon = await git(['ls-remote', `${emu.gitUrl}/acme/alpha.git`], { auth: null });
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/Authentication failed|could not read Username|terminal prompts disabled/);
    const res = await fetch(`${emu.gitUrl}/acme/alpha.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
    const wrong = await git(['ls-remote', `${emu.gitUrl}/acme/alpha.git`], { auth: 'ghp_not_a_valid_token_at_all_000000000' });
    expect(wrong.code).not.toBe(0);
    // a public repository can be read anonymously, but not written
    const pub = await git(['ls-remote', `${emu.gitUrl}/acme/gamma.git`], { auth: null });
    expect(pub.code).toBe(0);
    const missing = await git(['ls-remote', `${emu.gitUrl}/acme/nope.git`]);
    expect(missing.stderr).toMatch(/not found/i);
  });

  it('mirrors a repository with branches, tags and refs/pull/* heads', async () => {
    const r = await git(['clone', '--mirror', '--quiet', `${emu.gitUrl}/acme/alpha.git`, 'alpha.git']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const refs = await refsOf(join(work, 'alpha.git'));
    const alpha = emu.mutate.repo('alpha');
    expect([...refs.keys()].filter((k) => k.startsWith('refs/pull/')).sort()).toEqual(['refs/pull/15/head', 'refs/pull/4/head', 'refs/pull/9/head']);
    for (const [b, sha] of alpha.git.branches) expect(refs.get(`refs/heads/${b}`)).toBe(sha);
    expect(refs.get('refs/tags/v1.0.0')).toBe(alpha.git.tags.get('v1.0.0'));
    expect(refs.has('refs/tags/v1.1.0')).toBe(true);
    const pr = await gh.rest.pulls.get({ owner: 'acme', repo: 'alpha', pull_number: 9 });
    expect(refs.get('refs/pull/9/head')).toBe(pr.data.head.sha);
    const head = await readFile(join(work, 'alpha.git', 'HEAD'), 'utf8');
    expect(head.trim()).toBe('ref: refs/heads/main');
  });

  it('rejects pushes to refs/pull/* as hidden refs and refuses deleting the default branch', async () => {
    const dir = join(work, 'alpha.git');
    const main = (await refsOf(dir)).get('refs/heads/main') as string;
    const push = await git(['push', `${emu.gitUrl}/acme/alpha.git`, `${main}:refs/pull/99/head`], { cwd: dir });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('deny updating a hidden ref');
    const del = await git(['push', `${emu.gitUrl}/acme/alpha.git`, ':refs/heads/main'], { cwd: dir });
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/refusing to delete the current branch|remote rejected/);
  });

  it('pushes update the REST view: new branches, PR heads and refs/pull/N/head', async () => {
    const dir = join(work, 'alpha.git');
    const refs = await refsOf(dir);
    const loginTip = refs.get('refs/heads/feature/login') as string;
    const tree = (await git(['rev-parse', `${loginTip}^{tree}`], { cwd: dir, auth: null })).stdout.trim();
    const commit = (await git(['commit-tree', tree, '-p', loginTip, '-m', 'More login work'], { cwd: dir, auth: null })).stdout.trim();
    const push = await git(['push', `${emu.gitUrl}/acme/alpha.git`, `${commit}:refs/heads/feature/login`, `${commit}:refs/heads/pushed-branch`], { cwd: dir });
    expect(push.code).toBe(0);
    const branches = await gh.rest.repos.listBranches({ owner: 'acme', repo: 'alpha' });
    expect(branches.data.find((b) => b.name === 'pushed-branch')?.commit.sha).toBe(commit);
    const pr = await gh.rest.pulls.get({ owner: 'acme', repo: 'alpha', pull_number: 15 });
    expect(pr.data.head.sha).toBe(commit);
    expect(pr.data.commits).toBe(3);
    const fetched = await git(['fetch', '--quiet', 'origin', '+refs/pull/*:refs/pull/*'], { cwd: dir });
    expect(fetched.code).toBe(0);
    expect((await refsOf(dir)).get('refs/pull/15/head')).toBe(commit);
  });

  it('restores heads and tags into an empty repository created over REST; the first push sets the default branch', async () => {
    const created = await gh.rest.repos.createInOrg({ org: 'acme', name: 'alpha-copy', private: true });
    expect(created.data.default_branch).toBe('main');
    expect(created.data.size).toBe(0);
    const dir = join(work, 'alpha.git');
    const push = await git(['push', '--quiet', `${emu.gitUrl}/acme/alpha-copy.git`, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], { cwd: dir });
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const repo = await gh.rest.repos.get({ owner: 'acme', repo: 'alpha-copy' });
    expect(repo.data.default_branch).toBe('main');
    expect(repo.data.size).toBeGreaterThan(0);
    const copy = emu.mutate.repo('alpha-copy');
    const src = await refsOf(dir);
    for (const [b, sha] of copy.git.branches) expect(src.get(`refs/heads/${b}`)).toBe(sha);
    expect([...copy.git.tags.keys()].sort()).toEqual(['v1.0.0', 'v1.1.0']);
    // a mirror push carries refs/pull/*: those are refused, as on GitHub
    const mirror = await git(['push', '--mirror', `${emu.gitUrl}/acme/alpha-copy.git`], { cwd: dir });
    expect(mirror.code).not.toBe(0);
    expect(mirror.stderr).toContain('deny updating a hidden ref');
  });

  it('serves wikis at {repo}.wiki.git, and 404 where no wiki page was ever written', async () => {
    const w = await git(['clone', '--quiet', `${emu.gitUrl}/acme/alpha.wiki.git`, 'alpha-wiki']);
    expect(w.code).toBe(0);
    expect(await readFile(join(work, 'alpha-wiki', 'Home.md'), 'utf8')).toContain('Welcome to the alpha wiki.');
    const beta = await git(['ls-remote', `${emu.gitUrl}/acme/beta.wiki.git`]);
    expect(beta.code).not.toBe(0);
    expect(beta.stderr).toMatch(/not found/i);
    await emu.mutate.editWiki('beta', 'Home', 'First page\n');
    const after = await git(['ls-remote', `${emu.gitUrl}/acme/beta.wiki.git`]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('refs/heads/master');
  });
});
