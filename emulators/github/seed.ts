/**
 * Deterministic seeding. The same profile and seed number give the same users, repositories,
 * numbers, ids, timestamps, texts, asset bytes and git object ids.
 *
 * Profiles
 *   empty   the organisation and its admin only (a fresh standby)
 *   small   3 repositories: `alpha` (git history with branches and tags, a wiki, ~20 issues and
 *           pull requests sharing numbers, one deleted issue, reviews, review comments, comments,
 *           labels, milestones, releases with binary assets, a draft release, reactions), `beta`
 *           (a smaller one, wiki enabled but never written, as on GitHub) and `gamma` (public,
 *           issues and wiki disabled)
 *   large   parameterisable and fast: `repos` (200), `issuesPerRepo` (25) or `issues` (total),
 *           `commentsPerIssue` (2), `prsPerRepo` (1); git history copied from one template
 *
 * String form: `small`, `small:seed=7`, `large:repos=200,issues=5000,seed=3`.
 */
import { join } from 'node:path';
import { seededRandom } from './faults.js';
import { FastImport, type GitIdent } from './git.js';
import { identOf, type RepoOps } from './ops.js';
import { nodeId, type GithubState, type Issue, type ReactionContent, type Repo, type ReviewComment } from './state.js';

export interface SeedSpec {
  profile: 'empty' | 'small' | 'large';
  seed?: number;
  repos?: number;
  issuesPerRepo?: number;
  /** total issues across repositories (overrides issuesPerRepo) */
  issues?: number;
  commentsPerIssue?: number;
  prsPerRepo?: number;
  [k: string]: unknown;
}

export interface SeedSummary {
  profile: SeedSpec['profile'];
  seed: number;
  users: string[];
  repos: string[];
  issues: number;
  pulls: number;
  comments: number;
  releases: number;
  assets: number;
}

export function parseSeedSpec(input: string | SeedSpec | undefined, fallback: SeedSpec['profile']): SeedSpec {
  if (input === undefined || input === '') return { profile: fallback };
  if (typeof input !== 'string') {
    if (!['empty', 'small', 'large'].includes(input.profile)) throw new Error(`seed profile "${input.profile}" is unknown (use empty, small or large)`);
    return input;
  }
  const [profile, rest] = input.split(':', 2) as [string, string | undefined];
  if (!['empty', 'small', 'large'].includes(profile)) throw new Error(`seed profile "${profile}" is unknown (use empty, small or large)`);
  const spec: SeedSpec = { profile: profile as SeedSpec['profile'] };
  for (const part of (rest ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=', 2) as [string, string | undefined];
    const n = Number(v);
    if (!k || v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`seed option "${part}" must be key=number (e.g. repos=200)`);
    spec[k.trim()] = Math.floor(n);
  }
  return spec;
}

const WORDS = [
  'cache', 'parser', 'login', 'export', 'import', 'timeout', 'retry', 'token', 'index', 'queue', 'upload', 'report', 'sync', 'webhook', 'config', 'schema',
  'migration', 'latency', 'memory', 'crash', 'docs', 'build', 'release', 'pagination', 'search', 'unicode', 'locale', 'backup', 'restore', 'label',
];
const VERBS = ['fails on', 'is slow for', 'ignores', 'breaks', 'should support', 'needs docs for', 'leaks', 'duplicates', 'drops', 'mishandles'];
const REACTIONS: ReactionContent[] = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

class Rand {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = seededRandom(seed * 7919 + 17);
  }
  next(): number {
    return this.r();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.r() * (max - min + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.r() * 256);
    return b;
  }
  sentence(): string {
    return `${this.pick(WORDS)} ${this.pick(VERBS)} ${this.pick(WORDS)}`;
  }
  paragraph(): string {
    const n = this.int(1, 3);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(`${this.sentence()[0]?.toUpperCase() ?? ''}${this.sentence().slice(1)}.`);
    return out.join(' ');
  }
}

const MIN = 60_000;
const DAY = 86_400_000;

export const SMALL_USERS = ['alice', 'bob', 'carol', 'dave'];

export async function seedGithub(ops: RepoOps, org: string, admin: string, spec: SeedSpec): Promise<SeedSummary> {
  const seed = spec.seed ?? 1;
  const summary: SeedSummary = { profile: spec.profile, seed, users: [admin], repos: [], issues: 0, pulls: 0, comments: 0, releases: 0, assets: 0 };
  if (spec.profile === 'small') await seedSmall(ops, org, admin, seed, summary);
  else if (spec.profile === 'large') await seedLarge(ops, org, admin, seed, spec, summary);
  return summary;
}

function addMembers(state: GithubState, org: string, logins: string[], at: number): void {
  const o = state.org(org);
  for (const [i, login] of logins.entries()) {
    state.addUser(login, { name: login[0]?.toUpperCase() + login.slice(1), email: `${login}@example.invalid`, createdAt: at + i * MIN });
    o?.members.set(login.toLowerCase(), 'member');
  }
}

// ------------------------------------------------------------------ small

async function seedSmall(ops: RepoOps, org: string, admin: string, seed: number, summary: SeedSummary): Promise<void> {
  const st = ops.state;
  const rnd = new Rand(seed);
  const t0 = Date.UTC(2024, 0, 15, 9, 0, 0) + (seed % 97) * DAY;
  let clock = t0;
  const tick = (minMinutes = 5, maxMinutes = 600) => (clock += rnd.int(minMinutes, maxMinutes) * MIN);
  addMembers(st, org, SMALL_USERS, t0 - 30 * DAY);
  summary.users.push(...SMALL_USERS);
  const people = [admin, ...SMALL_USERS];
  const who = (login: string, at: number): GitIdent => identOf(st, login, at);

  // ---------------- alpha ----------------
  const alpha = await ops.createRepo(org, 'alpha', { description: 'Alpha service: the main product repository', homepage: 'https://alpha.example.invalid', private: true, createdAt: tick() });
  summary.repos.push(`${org}/alpha`);
  const fi = new FastImport();
  const files = (n: number) => [{ path: `src/module${n}.ts`, content: `export const v${n} = ${rnd.int(1, 1000)};\n// ${rnd.sentence()}\n` }];
  const c1 = fi.commit({ ref: 'refs/heads/main', message: 'Initial commit', author: who('alice', tick()), files: [{ path: 'README.md', content: '# alpha\n\nThe alpha service.\n' }, { path: 'LICENSE', content: 'Apache-2.0\n' }] });
  const c2 = fi.commit({ ref: 'refs/heads/main', message: 'Add module 1', author: who('bob', tick()), from: c1, files: files(1) });
  const c3 = fi.commit({ ref: 'refs/heads/main', message: 'Add module 2', author: who('alice', tick()), from: c2, files: files(2) });
  const c4 = fi.commit({ ref: 'refs/heads/main', message: 'Add module 3\n\nWith a longer body explaining why.', author: who('carol', tick()), from: c3, files: files(3) });
  fi.tag('v1.0.0', c4, 'Release 1.0.0\n', who(admin, tick(1, 5)));
  // fix/typo: merged as #9; the branch was deleted after the merge, only refs/pull/9/head keeps it
  const f1 = fi.commit({ ref: 'refs/pull/9/head', message: 'Fix typo in README', author: who('dave', tick()), from: c4, files: [{ path: 'README.md', content: '# alpha\n\nThe alpha service, fixed.\n' }] });
  // experiment: closed without merge
  const e1 = fi.commit({ ref: 'refs/heads/experiment', message: 'Try a different parser', author: who('bob', tick()), from: c2, files: [{ path: 'src/parser.ts', content: 'export function parse(s: string) { return s.split(","); }\n' }] });
  fi.reset('refs/pull/4/head', e1);
  const c5 = fi.commit({ ref: 'refs/heads/main', message: 'Add module 4', author: who('alice', tick()), from: c4, files: files(4) });
  const merge = fi.commit({
    ref: 'refs/heads/main', message: `Merge pull request #9 from ${org}/fix/typo\n\nFix typo in README`, author: who(admin, tick()), from: c5, merge: [f1],
    files: [{ path: 'README.md', content: '# alpha\n\nThe alpha service, fixed.\n' }],
  });
  fi.reset('refs/tags/v1.1.0', merge);
  // feature/login: open PR
  const l1 = fi.commit({ ref: 'refs/heads/feature/login', message: 'Add login form', author: who('carol', tick()), from: merge, files: [{ path: 'src/login.ts', content: 'export function login(user: string) {\n  return user.length > 0;\n}\n' }] });
  const l2 = fi.commit({ ref: 'refs/heads/feature/login', message: 'Validate password length', author: who('carol', tick()), from: l1, files: [{ path: 'src/login.ts', content: 'export function login(user: string, pw = "") {\n  return user.length > 0 && pw.length >= 8;\n}\n' }] });
  fi.reset('refs/pull/15/head', l2);
  const c6 = fi.commit({ ref: 'refs/heads/main', message: 'Update docs', author: who('bob', tick()), from: merge, files: [{ path: 'docs/usage.md', content: `# Usage\n\n${rnd.paragraph()}\n` }] });
  const alphaRun = fi.run(ops.git, ops.dir(alpha));

  // wiki
  const wf = new FastImport();
  wf.commit({ ref: 'refs/heads/master', message: 'Initial Home page', author: who('alice', tick()), files: [{ path: 'Home.md', content: `Welcome to the alpha wiki.\n\n${rnd.paragraph()}\n` }] });
  wf.commit({ ref: 'refs/heads/master', message: 'Add Setup page', author: who('bob', tick()), from: 1, files: [{ path: 'Setup.md', content: '# Setup\n\n1. Install\n2. Configure\n' }] });
  const wikiRun = wf.run(ops.git, ops.dir(alpha, true));

  // beta and gamma repositories: their git streams run alongside alpha's
  const beta = await ops.createRepo(org, 'beta', { description: 'Beta tools', private: true, createdAt: tick(), hasWiki: false });
  beta.hasWiki = true; // enabled, but no page was ever written: the wiki repository does not exist yet
  summary.repos.push(`${org}/beta`);
  const fb = new FastImport();
  const b1 = fb.commit({ ref: 'refs/heads/main', message: 'Initial commit', author: who('bob', tick()), files: [{ path: 'README.md', content: '# beta\n' }] });
  const b2 = fb.commit({ ref: 'refs/heads/main', message: 'Add tool', author: who('bob', tick()), from: b1, files: [{ path: 'tool.sh', content: '#!/bin/sh\necho beta\n' }] });
  fb.reset('refs/tags/v0.1.0', b2);
  const d1 = fb.commit({ ref: 'refs/heads/develop', message: 'Develop: add flag', author: who('dave', tick()), from: b2, files: [{ path: 'tool.sh', content: '#!/bin/sh\necho "beta $1"\n' }] });
  fb.reset('refs/pull/4/head', d1);
  const betaRun = fb.run(ops.git, ops.dir(beta));
  const gamma = await ops.createRepo(org, 'gamma', { description: null, private: false, hasIssues: false, hasWiki: false, createdAt: tick() });
  summary.repos.push(`${org}/gamma`);
  const fg = new FastImport();
  const g1 = fg.commit({ ref: 'refs/heads/main', message: 'Initial commit', author: who(admin, tick()), files: [{ path: 'index.html', content: '<h1>gamma</h1>\n' }] });
  fg.commit({ ref: 'refs/heads/main', message: 'Add binary logo', author: who(admin, tick()), from: g1, files: [{ path: 'logo.bin', content: rnd.bytes(1500) }] });
  const gammaRun = fg.run(ops.git, ops.dir(gamma));
  const [marks, , bmarks] = await Promise.all([alphaRun, wikiRun, betaRun, gammaRun]);
  await Promise.all([ops.refresh(alpha, { pushed: true }), ops.refreshWiki(alpha), ops.refresh(beta, { pushed: true }), ops.refresh(gamma, { pushed: true })]);
  const sha = (m: number) => marks.get(m) as string;
  alpha.pushedAt = clock;

  // labels and milestones
  st.addLabel(alpha, 'priority:high', 'b60205', 'Needs attention this week');
  st.addLabel(alpha, 'area/api', '1d76db', null);
  const m1 = st.addMilestone(alpha, 'v1.0', { description: 'First stable release', state: 'closed', dueOn: t0 + 20 * DAY, creator: admin, at: tick() });
  m1.closedAt = t0 + 21 * DAY;
  const m2 = st.addMilestone(alpha, 'v1.1', { description: 'Polish', dueOn: t0 + 60 * DAY, creator: admin, at: tick() });
  const m3 = st.addMilestone(alpha, 'Backlog', { description: null, creator: 'alice', at: tick() });
  const labelIds = [...alpha.labels.values()].map((l) => l.id);

  // issues and pull requests share one number sequence
  const pullAt: Record<number, () => Promise<void>> = {
    4: async () => {
      const issue = st.createIssue(alpha, { title: 'Try a different parser', body: 'An experiment, probably not worth merging.', user: 'bob', at: tick() });
      seedPullPart(st, issue, { head: ['experiment', sha(e1)], base: ['main', sha(c4)], commits: 1, additions: 1, deletions: 0, changedFiles: 1 });
      st.setIssueState(alpha, issue, 'closed', 'alice', 'completed', tick());
      issue.stateReason = null;
    },
    9: async () => {
      // merged: head branch was deleted after the merge; recreate the PR from recorded shas
      const at = tick();
      const issue = st.createIssue(alpha, { title: 'Fix typo in README', body: 'Small fix.', user: 'dave', at });
      const pr = seedPullPart(st, issue, { head: ['fix/typo', sha(f1)], base: ['main', sha(c5)], commits: 1, additions: 1, deletions: 1, changedFiles: 1 });
      Object.assign(pr, { merged: true, mergedAt: at + 3 * 60 * MIN, mergedBy: admin, mergeCommitSha: sha(merge) });
      issue.state = 'closed';
      issue.closedAt = pr.mergedAt;
      issue.closedBy = admin;
      issue.updatedAt = pr.mergedAt ?? at;
      st.addEvent(alpha, issue, admin, 'merged', { commitId: sha(merge) }, issue.closedAt ?? at);
      st.addEvent(alpha, issue, admin, 'closed', {}, issue.closedAt ?? at);
      const rv = addReview(st, alpha, issue, 'alice', 'APPROVED', 'Looks good.', sha(f1), at + 60 * MIN);
      addReviewComment(st, alpha, issue, rv, 'alice', 'Nice catch.', 'README.md', 3, sha(f1), at + 61 * MIN);
    },
    15: async () => {
      const issue = st.createIssue(alpha, { title: 'Login form', body: 'Adds the login form.\n\nCloses #2.', user: 'carol', at: tick() });
      seedPullPart(st, issue, { head: ['feature/login', sha(l2)], base: ['main', sha(c6)], commits: 2, additions: 3, deletions: 0, changedFiles: 1 });
      issue.labels = [labelIds[3] as number];
      issue.milestone = m2.number;
      issue.assignees = ['carol'];
      const r1 = addReview(st, alpha, issue, 'bob', 'APPROVED', 'LGTM', sha(l2), tick());
      void r1;
      const r2 = addReview(st, alpha, issue, 'alice', 'COMMENTED', 'A couple of questions.', sha(l2), tick());
      const rc1 = addReviewComment(st, alpha, issue, r2, 'alice', 'Should the minimum be configurable?', 'src/login.ts', 2, sha(l2), tick());
      const reply = addReviewComment(st, alpha, issue, r2, 'carol', 'Good idea, later.', 'src/login.ts', 2, sha(l2), tick());
      reply.inReplyToId = rc1.id;
      st.addReaction(rc1.reactions, 'carol', '+1', tick());
      st.addComment(alpha, issue, 'dave', 'Tested locally, works.', tick());
      issue.updatedAt = clock;
    },
  };
  for (let n = 1; n <= 22; n++) {
    const seedPull = pullAt[n];
    if (seedPull) {
      await seedPull();
      continue;
    }
    const at = tick();
    const user = rnd.pick(people);
    const issue = st.createIssue(alpha, {
      title: `${rnd.sentence()[0]?.toUpperCase() ?? ''}${rnd.sentence().slice(1)}`,
      body: n % 5 === 0 ? null : `${rnd.paragraph()}\n\n- [ ] check ${rnd.pick(WORDS)}\n- [x] reproduce\n`,
      user,
      at,
      labels: labelIds.filter(() => rnd.chance(0.18)),
      milestone: n <= 6 ? m1.number : n % 3 === 0 ? m2.number : n % 7 === 0 ? m3.number : null,
      assignees: rnd.chance(0.4) ? [rnd.pick(SMALL_USERS)] : [],
    });
    const nComments = rnd.int(0, 4);
    for (let c = 0; c < nComments; c++) {
      const cm = st.addComment(alpha, issue, rnd.pick(people), rnd.paragraph(), tick(2, 120));
      if (rnd.chance(0.3)) st.addReaction(cm.reactions, rnd.pick(people), rnd.pick(REACTIONS), clock + MIN);
      if (rnd.chance(0.2)) cm.updatedAt = tick(1, 30);
    }
    for (const u of people) if (rnd.chance(0.2)) st.addReaction(issue.reactions, u, rnd.pick(REACTIONS), tick(1, 10));
    if (n <= 6 || rnd.chance(0.3)) st.setIssueState(alpha, issue, 'closed', rnd.pick(people), rnd.chance(0.25) ? 'not_planned' : 'completed', tick());
    if (n === 11) {
      issue.locked = true;
      issue.activeLockReason = 'resolved';
    }
    if (n === 7) issue.deletedAt = tick(1, 5);
  }

  // releases
  const r1 = await ops.createRelease(alpha, { tagName: 'v1.0.0', name: 'Alpha 1.0.0', body: `## Changes\n\n- ${rnd.sentence()}\n- ${rnd.sentence()}\n`, author: admin, at: tick() });
  await ops.storeAsset(alpha, r1, { name: 'alpha-linux-amd64.tar.gz', contentType: 'application/gzip', data: rnd.bytes(rnd.int(4096, 12288)), uploader: admin, at: clock + MIN });
  await ops.storeAsset(alpha, r1, { name: 'checksums.txt', label: 'SHA-256 checksums', contentType: 'text/plain', data: Buffer.from(`${rnd.bytes(32).toString('hex')}  alpha-linux-amd64.tar.gz\n`), uploader: admin, at: clock + 2 * MIN });
  st.addReaction(r1.reactions, 'alice', 'hooray', tick());
  const r2 = await ops.createRelease(alpha, { tagName: 'v1.1.0', name: 'Alpha 1.1.0', body: 'Bug fixes.', author: admin, at: tick() });
  await ops.storeAsset(alpha, r2, { name: 'alpha-darwin-arm64.zip', contentType: 'application/zip', data: rnd.bytes(rnd.int(2048, 6000)), uploader: admin, at: clock + MIN });
  await ops.createRelease(alpha, { tagName: 'v2.0.0', name: 'Alpha 2.0 (draft)', body: 'Work in progress.', draft: true, author: admin, at: tick() });
  alpha.updatedAt = clock;

  // ---------------- beta ----------------
  st.addLabel(beta, 'triage', 'fbca04', 'Needs triage');
  const bm = st.addMilestone(beta, 'Q3', { creator: 'bob', dueOn: t0 + 90 * DAY, at: tick() });
  for (let n = 1; n <= 6; n++) {
    if (n === 4) {
      const pr = st.createIssue(beta, { title: 'Develop into main', body: 'Periodic merge.', user: 'dave', at: tick() });
      seedPullPart(st, pr, { head: ['develop', bmarks.get(d1) as string], base: ['main', bmarks.get(b2) as string], commits: 1, additions: 1, deletions: 1, changedFiles: 1 });
      continue;
    }
    const issue = st.createIssue(beta, { title: rnd.sentence(), body: rnd.paragraph(), user: rnd.pick(people), at: tick(), milestone: n % 2 ? bm.number : null });
    if (rnd.chance(0.5)) st.addComment(beta, issue, rnd.pick(people), rnd.paragraph(), tick());
    if (n === 2) st.setIssueState(beta, issue, 'closed', 'bob', 'completed', tick());
  }
  const br = await ops.createRelease(beta, { tagName: 'v0.1.0', name: null, body: null, author: 'bob', at: tick() });
  await ops.storeAsset(beta, br, { name: 'beta.tar.gz', contentType: 'application/gzip', data: rnd.bytes(3000), uploader: 'bob', at: clock + MIN });
  beta.updatedAt = clock;

  gamma.updatedAt = clock;

  for (const r of [alpha, beta, gamma]) {
    summary.issues += [...r.issues.values()].filter((i) => !i.pr && i.deletedAt === null).length;
    summary.pulls += [...r.issues.values()].filter((i) => i.pr).length;
    summary.comments += r.comments.size;
    summary.releases += r.releases.size;
    summary.assets += r.assets.size;
  }
}

/** Make an issue a pull request whose refs the fast-import stream already wrote. */
function seedPullPart(
  state: GithubState,
  issue: Issue,
  p: { head: [string, string]; base: [string, string]; commits: number; additions: number; deletions: number; changedFiles: number },
): NonNullable<Issue['pr']> {
  const id = state.nextId('pull');
  issue.pr = {
    id, nodeId: nodeId('pull', id), head: { ref: p.head[0], sha: p.head[1] }, base: { ref: p.base[0], sha: p.base[1] }, draft: false, merged: false,
    mergedAt: null, mergedBy: null, mergeCommitSha: null, maintainerCanModify: false, commits: p.commits, additions: p.additions, deletions: p.deletions, changedFiles: p.changedFiles,
  };
  return issue.pr;
}

function addReview(state: GithubState, repo: Repo, issue: Issue, user: string, s: 'APPROVED' | 'COMMENTED' | 'CHANGES_REQUESTED', body: string, commitId: string, at: number) {
  const id = state.nextId('review');
  const r = { id, nodeId: nodeId('review', id), prNumber: issue.number, user, body, state: s, commitId, submittedAt: at };
  repo.reviews.set(id, r);
  return r;
}

function addReviewComment(state: GithubState, repo: Repo, issue: Issue, review: { id: number }, user: string, body: string, path: string, line: number, commitId: string, at: number): ReviewComment {
  const id = state.nextId('reviewComment');
  const c: ReviewComment = {
    id, nodeId: nodeId('reviewComment', id), prNumber: issue.number, reviewId: review.id, user, body, path,
    diffHunk: `@@ -1,2 +1,3 @@\n export function login(user: string${line > 1 ? ', pw = ""' : ''}) {`, position: line, originalPosition: line, line, originalLine: line,
    side: 'RIGHT' as const, startLine: null, startSide: null, subjectType: 'line' as const, commitId, originalCommitId: commitId, inReplyToId: null,
    createdAt: at, updatedAt: at, reactions: [],
  };
  repo.reviewComments.set(id, c);
  return c;
}

// ------------------------------------------------------------------ large

async function seedLarge(ops: RepoOps, org: string, admin: string, seed: number, spec: SeedSpec, summary: SeedSummary): Promise<void> {
  const st = ops.state;
  const rnd = new Rand(seed);
  const nRepos = spec.repos ?? 200;
  const perRepo = spec.issues !== undefined ? Math.ceil(spec.issues / Math.max(1, nRepos)) : (spec.issuesPerRepo ?? 25);
  let remaining = spec.issues ?? perRepo * nRepos;
  const commentsPer = spec.commentsPerIssue ?? 2;
  const prsPer = spec.prsPerRepo ?? 1;
  const t0 = Date.UTC(2023, 5, 1) + (seed % 97) * DAY;
  let clock = t0;
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  addMembers(st, org, users, t0 - DAY);
  summary.users.push(...users);
  const people = [admin, ...users];

  // one template repository, copied for every repository
  const templateDir = join(ops.git.root, '_template.git');
  await ops.git.initBare(templateDir, 'main');
  const fi = new FastImport();
  const a = identOf(st, 'alice', t0);
  const c1 = fi.commit({ ref: 'refs/heads/main', message: 'Initial commit', author: a, files: [{ path: 'README.md', content: '# project\n' }] });
  const c2 = fi.commit({ ref: 'refs/heads/main', message: 'Add code', author: { ...a, at: t0 + MIN }, from: c1, files: [{ path: 'src/index.ts', content: 'export {};\n' }] });
  fi.reset('refs/tags/v1.0.0', c2);
  const f1 = fi.commit({ ref: 'refs/heads/feature', message: 'Feature work', author: { ...a, at: t0 + 2 * MIN }, from: c2, files: [{ path: 'src/feature.ts', content: 'export const feature = true;\n' }] });
  const marks = await fi.run(ops.git, templateDir);
  const templateRefs = await ops.git.readRefs(templateDir);
  const headSha = marks.get(f1) as string;
  const baseSha = marks.get(c2) as string;

  const disk: (() => Promise<void>)[] = [];
  const templateObjects = join(templateDir, 'objects');
  const baseRefs: [string, string][] = [
    ...[...templateRefs.branches].map(([b, sha]): [string, string] => [`refs/heads/${b}`, sha]),
    ...[...templateRefs.tags].map(([t, sha]): [string, string] => [`refs/tags/${t}`, sha]),
  ];
  for (let r = 0; r < nRepos; r++) {
    const name = `repo-${String(r + 1).padStart(4, '0')}`;
    clock += rnd.int(1, 60) * MIN;
    const repo = st.createRepo(org, name, { description: `Repository ${r + 1}`, private: true, createdAt: clock, hasWiki: false });
    repo.git = { branches: new Map(templateRefs.branches), tags: new Map(templateRefs.tags), tagCommits: new Map(templateRefs.tagCommits), head: templateRefs.head };
    repo.pushedAt = clock;
    repo.sizeKb = 1;
    st.addDefaultLabels(repo);
    const ms = st.addMilestone(repo, 'v1', { creator: admin, at: clock });
    const labelIds = [...repo.labels.values()].map((l) => l.id);
    const count = Math.min(perRepo, remaining);
    remaining -= count;
    const refs = [...baseRefs];
    for (let n = 1; n <= count; n++) {
      clock += rnd.int(1, 30) * MIN;
      const isPr = n <= prsPer;
      const issue = st.createIssue(repo, {
        title: isPr ? 'Feature work' : rnd.sentence(),
        body: rnd.paragraph(),
        user: rnd.pick(people),
        at: clock,
        labels: rnd.chance(0.3) ? [rnd.pick(labelIds)] : [],
        milestone: rnd.chance(0.2) ? ms.number : null,
      });
      if (isPr) {
        seedPullPart(st, issue, { head: ['feature', headSha], base: ['main', baseSha], commits: 1, additions: 1, deletions: 0, changedFiles: 1 });
        refs.push([`refs/pull/${issue.number}/head`, headSha]);
      }
      for (let c = 0; c < commentsPer; c++) st.addComment(repo, issue, rnd.pick(people), rnd.sentence(), (clock += rnd.int(1, 20) * MIN));
      if (!isPr && rnd.chance(0.4)) st.setIssueState(repo, issue, 'closed', rnd.pick(people), 'completed', (clock += MIN));
    }
    disk.push(() => ops.git.initShared(ops.dir(repo), templateRefs.head, templateObjects, refs));
    repo.updatedAt = clock;
    summary.repos.push(`${org}/${name}`);
    summary.issues += count - Math.min(prsPer, count);
    summary.pulls += Math.min(prsPer, count);
    summary.comments += repo.comments.size;
  }
  // repositories on disk: a few small files each, written 16 at a time
  for (let i = 0; i < disk.length; i += 16) await Promise.all(disk.slice(i, i + 16).map((f) => f()));
}
