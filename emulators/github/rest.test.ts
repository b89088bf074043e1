import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApi } from '../../test/helpers/openapi.js';
import { startEmulator, type RunningEmulator } from '../index.js';

const spec = loadOpenApi();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let emu: RunningEmulator;
let gh: Octokit;
const owner = 'acme';
const repo = 'alpha';

beforeAll(async () => {
  emu = await startEmulator('github', { seed: 'small' });
  gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
});
afterAll(async () => {
  await emu?.stop();
});

async function status(p: Promise<unknown>): Promise<{ status: number; data: unknown; headers: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RequestError) return { status: e.status, data: e.response?.data, headers: e.response?.headers ?? {} };
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('GitHub emulator REST', () => {
  it('serves org, repositories and the authenticated user in the documented shapes', async () => {
    const org = await gh.rest.orgs.get({ org: owner });
    spec.assertResponse('get', '/orgs/{org}', 200, org.data);
    const repos = await gh.rest.repos.listForOrg({ org: owner, per_page: 100 });
    spec.assertResponse('get', '/orgs/{org}/repos', 200, repos.data);
    expect(repos.data.map((r) => r.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
    const r = await gh.rest.repos.get({ owner, repo });
    spec.assertResponse('get', '/repos/{owner}/{repo}', 200, r.data);
    expect(r.data.clone_url).toBe(`${emu.gitUrl}/acme/alpha.git`);
    expect(r.data.private).toBe(true);
    const me = await gh.rest.users.getAuthenticated();
    spec.assertResponse('get', '/user', 200, me.data);
    const members = await gh.rest.orgs.listMembers({ org: owner });
    spec.assertResponse('get', '/orgs/{org}/members', 200, members.data);
    const branches = await gh.rest.repos.listBranches({ owner, repo });
    spec.assertResponse('get', '/repos/{owner}/{repo}/branches', 200, branches.data);
    expect(branches.data.map((b) => b.name)).toEqual(['experiment', 'feature/login', 'main']);
    const rl = await gh.rest.rateLimit.get();
    spec.assertResponse('get', '/rate_limit', 200, rl.data);
    const made = await gh.rest.repos.createInOrg({ org: owner, name: 'made-here', private: true, auto_init: true, description: 'new' });
    spec.assertResponse('post', '/orgs/{org}/repos', 201, made.data);
    expect(made.data.default_branch).toBe('main');
    const labels = await gh.rest.issues.listLabelsForRepo({ owner, repo: 'made-here' });
    expect(labels.data.filter((l) => l.default).map((l) => l.name)).toContain('good first issue');
    const dupRepo = await status(gh.rest.repos.createInOrg({ org: owner, name: 'made-here' }));
    expect(dupRepo.status).toBe(422);
    spec.assertResponse('post', '/orgs/{org}/repos', 422, dupRepo.data);
    const upd = await gh.rest.repos.update({ owner, repo: 'made-here', description: 'changed', has_wiki: false });
    spec.assertResponse('patch', '/repos/{owner}/{repo}', 200, upd.data);
    expect(upd.data).toMatchObject({ description: 'changed', has_wiki: false });
    const main = (await gh.rest.repos.listBranches({ owner, repo: 'made-here' })).data[0]?.commit.sha ?? '';
    const ref = await gh.rest.git.createRef({ owner, repo: 'made-here', ref: 'refs/heads/second', sha: main });
    spec.assertResponse('post', '/repos/{owner}/{repo}/git/refs', 201, ref.data);
    expect((await status(gh.rest.git.createRef({ owner, repo: 'made-here', ref: 'refs/heads/second', sha: main }))).status).toBe(422);
  });

  it('pages the issues list with Link headers, includes pull requests, shares one number sequence', async () => {
    const first = await gh.rest.issues.listForRepo({ owner, repo, state: 'all', per_page: 5 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues', 200, first.data);
    expect(first.data).toHaveLength(5);
    const link = String(first.headers.link);
    expect(link).toMatch(/<[^>]*page=2[^>]*>; rel="next"/);
    expect(link).toMatch(/<[^>]*page=5[^>]*>; rel="last"/);
    expect(link.startsWith(`<${emu.baseUrl}/repos/acme/alpha/issues?`)).toBe(true);

    const all = await gh.paginate(gh.rest.issues.listForRepo, { owner, repo, state: 'all', per_page: 5 });
    const numbers = all.map((i) => i.number).sort((a, b) => a - b);
    // 22 numbers were used; #7 was deleted, so it is gone from the list
    expect(numbers).toEqual(Array.from({ length: 22 }, (_, i) => i + 1).filter((n) => n !== 7));
    const prNumbers = all.filter((i) => i.pull_request).map((i) => i.number).sort((a, b) => a - b);
    expect(prNumbers).toEqual([4, 9, 15]);
    const pulls = await gh.rest.pulls.list({ owner, repo, state: 'all' });
    spec.assertResponse('get', '/repos/{owner}/{repo}/pulls', 200, pulls.data);
    expect(pulls.data.map((p) => p.number).sort((a, b) => a - b)).toEqual(prNumbers);
    // defaults: state=open, sort=created desc
    const open = await gh.rest.issues.listForRepo({ owner, repo });
    expect(open.data.every((i) => i.state === 'open')).toBe(true);
    const created = open.data.map((i) => Date.parse(i.created_at));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it('filters by since (updated_at) and keeps deleted issues out (410 Gone)', async () => {
    emu.mutate.advanceClock(60_000);
    const marker = new Date(emu.state.now()).toISOString();
    emu.mutate.advanceClock(1_000);
    emu.mutate.editIssue(repo, 3, { title: 'Edited after the marker' });
    const since = await gh.rest.issues.listForRepo({ owner, repo, state: 'all', since: marker, sort: 'updated', direction: 'asc' });
    expect(since.data.map((i) => i.number)).toEqual([3]);
    expect(Date.parse(since.data[0]?.updated_at ?? '')).toBeGreaterThanOrEqual(Date.parse(marker));

    const gone = await status(gh.rest.issues.get({ owner, repo, issue_number: 7 }));
    expect(gone.status).toBe(410);
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}', 410, gone.data);
    const missing = await status(gh.rest.issues.get({ owner, repo, issue_number: 999 }));
    expect(missing.status).toBe(404);
    expect(missing.data).toMatchObject({ message: 'Not Found', documentation_url: expect.stringContaining('docs.github.com') });
  });

  it('answers If-None-Match with 304 without counting it against the rate limit', async () => {
    const a = await gh.rest.issues.get({ owner, repo, issue_number: 1 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}', 200, a.data);
    const etag = String(a.headers.etag);
    expect(etag).toMatch(/^W\/"/);
    const usedBefore = Number(a.headers['x-ratelimit-used']);
    const nm = await status(gh.rest.issues.get({ owner, repo, issue_number: 1, headers: { 'if-none-match': etag } }));
    expect(nm.status).toBe(304);
    expect(Number(nm.headers['x-ratelimit-used'])).toBe(usedBefore);
    const again = await gh.rest.issues.get({ owner, repo, issue_number: 1 });
    expect(Number(again.headers['x-ratelimit-used'])).toBe(usedBefore + 1);
    expect(again.headers['x-ratelimit-resource']).toBe('core');
    expect(Number(again.headers['x-ratelimit-limit'])).toBe(5000);
    // a list ETag changes when an item changes
    const list1 = await gh.rest.issues.listForRepo({ owner, repo, state: 'all' });
    emu.mutate.addComment(repo, 1, 'one more');
    const list2 = await gh.rest.issues.listForRepo({ owner, repo, state: 'all', headers: { 'if-none-match': String(list1.headers.etag) } });
    expect(list2.status).toBe(200);
  });

  it('serves comments, labels, milestones, reviews, review comments, releases and reactions in the documented shapes', async () => {
    const comments = await gh.paginate(gh.rest.issues.listCommentsForRepo, { owner, repo, per_page: 100 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/comments', 200, comments);
    expect(comments.length).toBeGreaterThan(5);
    const perIssue = await gh.rest.issues.listComments({ owner, repo, issue_number: 15 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 200, perIssue.data);
    const one = await gh.rest.issues.getComment({ owner, repo, comment_id: comments[0]?.id ?? 0 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 200, one.data);
    const labels = await gh.rest.issues.listLabelsForRepo({ owner, repo, per_page: 100 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/labels', 200, labels.data);
    expect(labels.data.map((l) => l.name)).toContain('priority:high');
    const label = await gh.rest.issues.getLabel({ owner, repo, name: 'good first issue' });
    spec.assertResponse('get', '/repos/{owner}/{repo}/labels/{name}', 200, label.data);
    const ms = await gh.rest.issues.listMilestones({ owner, repo, state: 'all' });
    spec.assertResponse('get', '/repos/{owner}/{repo}/milestones', 200, ms.data);
    expect(ms.data.map((m) => m.title).sort()).toEqual(['Backlog', 'v1.0', 'v1.1']);
    const pr = await gh.rest.pulls.get({ owner, repo, pull_number: 15 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/pulls/{pull_number}', 200, pr.data);
    expect(pr.data.head.ref).toBe('feature/login');
    const merged = await gh.rest.pulls.get({ owner, repo, pull_number: 9 });
    expect(merged.data.merged).toBe(true);
    expect(merged.data.merge_commit_sha).toMatch(/^[0-9a-f]{40}$/);
    const reviews = await gh.rest.pulls.listReviews({ owner, repo, pull_number: 15 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', 200, reviews.data);
    expect(reviews.data.map((r) => r.state)).toEqual(['APPROVED', 'COMMENTED']);
    const rcRepo = await gh.rest.pulls.listReviewCommentsForRepo({ owner, repo });
    spec.assertResponse('get', '/repos/{owner}/{repo}/pulls/comments', 200, rcRepo.data);
    const rcPr = await gh.rest.pulls.listReviewComments({ owner, repo, pull_number: 15 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/pulls/{pull_number}/comments', 200, rcPr.data);
    expect(rcPr.data.find((c) => c.in_reply_to_id)?.in_reply_to_id).toBe(rcPr.data[0]?.id);
    const rels = await gh.rest.repos.listReleases({ owner, repo });
    spec.assertResponse('get', '/repos/{owner}/{repo}/releases', 200, rels.data);
    expect(rels.data.map((r) => r.tag_name)).toEqual(['v2.0.0', 'v1.1.0', 'v1.0.0']);
    expect(rels.data[0]?.draft).toBe(true);
    const v1 = rels.data.find((r) => r.tag_name === 'v1.0.0');
    const assets = await gh.rest.repos.listReleaseAssets({ owner, repo, release_id: v1?.id ?? 0 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/releases/{release_id}/assets', 200, assets.data);
    expect(assets.data.map((a) => a.name)).toEqual(['alpha-linux-amd64.tar.gz', 'checksums.txt']);
    const reactions = await gh.rest.reactions.listForIssue({ owner, repo, issue_number: 15 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}/reactions', 200, reactions.data);
    const events = await gh.rest.issues.listEventsForRepo({ owner, repo });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/events', 200, events.data);
  });

  it('creates and updates issues, comments, labels and milestones like GitHub', async () => {
    const ms = await gh.rest.issues.createMilestone({ owner, repo: 'beta', title: 'Next', due_on: '2030-01-01T00:00:00Z' });
    spec.assertResponse('post', '/repos/{owner}/{repo}/milestones', 201, ms.data);
    const created = await gh.rest.issues.create({ owner, repo: 'beta', title: 'From the API', body: 'Body', labels: ['bug', 'brand-new'], milestone: ms.data.number });
    spec.assertResponse('post', '/repos/{owner}/{repo}/issues', 201, created.data);
    const betaNext = Math.max(...[...emu.mutate.repo('beta').issues.keys()]);
    expect(created.data.number).toBe(betaNext);
    expect(created.data.labels.map((l) => (typeof l === 'string' ? l : l.name))).toEqual(['bug', 'brand-new']);
    const closed = await gh.rest.issues.update({ owner, repo: 'beta', issue_number: created.data.number, state: 'closed', state_reason: 'not_planned', labels: ['bug'] });
    spec.assertResponse('patch', '/repos/{owner}/{repo}/issues/{issue_number}', 200, closed.data);
    expect(closed.data).toMatchObject({ state: 'closed', state_reason: 'not_planned' });
    expect(closed.data.closed_at).not.toBeNull();
    const reopened = await gh.rest.issues.update({ owner, repo: 'beta', issue_number: created.data.number, state: 'open' });
    expect(reopened.data).toMatchObject({ state: 'open', state_reason: 'reopened', closed_at: null });
    const c = await gh.rest.issues.createComment({ owner, repo: 'beta', issue_number: created.data.number, body: 'hello' });
    spec.assertResponse('post', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 201, c.data);
    const cu = await gh.rest.issues.updateComment({ owner, repo: 'beta', comment_id: c.data.id, body: 'hello again' });
    spec.assertResponse('patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 200, cu.data);
    const l = await gh.rest.issues.createLabel({ owner, repo: 'beta', name: 'Needs-Review', color: 'aabbcc', description: 'x' });
    spec.assertResponse('post', '/repos/{owner}/{repo}/labels', 201, l.data);
    const dup = await status(gh.rest.issues.createLabel({ owner, repo: 'beta', name: 'needs-review', color: 'aabbcc' }));
    expect(dup.status).toBe(422);
    spec.assertResponse('post', '/repos/{owner}/{repo}/labels', 422, dup.data);
    expect(dup.data).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }] });
    const lu = await gh.rest.issues.updateLabel({ owner, repo: 'beta', name: 'Needs-Review', new_name: 'needs review', color: '000000' });
    spec.assertResponse('patch', '/repos/{owner}/{repo}/labels/{name}', 200, lu.data);
    await gh.rest.issues.deleteLabel({ owner, repo: 'beta', name: 'needs review' });
    const noTitle = await status(gh.request('POST /repos/{owner}/{repo}/issues' as string, { owner, repo: 'beta' }));
    expect(noTitle.status).toBe(422);
    spec.assertResponse('post', '/repos/{owner}/{repo}/issues', 422, noTitle.data);
    const disabled = await status(gh.rest.issues.create({ owner, repo: 'gamma', title: 'x' }));
    expect(disabled.status).toBe(410);
  });

  it('opens pull requests only between existing branches (422 otherwise) and numbers them with the issues', async () => {
    const badHead = await status(gh.rest.pulls.create({ owner, repo, head: 'no-such-branch', base: 'main', title: 'x' }));
    expect(badHead.status).toBe(422);
    spec.assertResponse('post', '/repos/{owner}/{repo}/pulls', 422, badHead.data);
    expect(badHead.data).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
    const badBase = await status(gh.rest.pulls.create({ owner, repo, head: 'experiment', base: 'nope', title: 'x' }));
    expect(badBase.data).toMatchObject({ errors: [{ field: 'base', code: 'invalid' }] });
    const dupOpen = await status(gh.rest.pulls.create({ owner, repo, head: 'feature/login', base: 'main', title: 'again' }));
    expect(dupOpen.data).toMatchObject({ errors: [{ code: 'custom', message: 'A pull request already exists for acme:feature/login.' }] });
    await emu.mutate.createBranch(repo, 'same-as-main');
    const noCommits = await status(gh.rest.pulls.create({ owner, repo, head: 'same-as-main', base: 'main', title: 'x' }));
    expect(noCommits.data).toMatchObject({ errors: [{ code: 'custom', message: 'No commits between main and same-as-main' }] });

    await emu.mutate.pushCommit(repo, { branch: 'feature/new', message: 'New work', files: [{ path: 'new.txt', content: 'new\n' }] });
    const next = emu.mutate.repo(repo).nextNumber;
    const pr = await gh.rest.pulls.create({ owner, repo, head: 'acme:feature/new', base: 'main', title: 'New work', body: 'please' });
    spec.assertResponse('post', '/repos/{owner}/{repo}/pulls', 201, pr.data);
    expect(pr.data.number).toBe(next);
    expect(pr.data).toMatchObject({ commits: 1, additions: 1, changed_files: 1, mergeable: true });
    const asIssue = await gh.rest.issues.get({ owner, repo, issue_number: pr.data.number });
    expect(asIssue.data.pull_request?.url).toBe(pr.data.url);
    const ref = await gh.rest.git.getRef({ owner, repo, ref: `pull/${pr.data.number}/head` });
    expect(ref.data.object.sha).toBe(pr.data.head.sha);

    const own = await status(gh.rest.pulls.createReview({ owner, repo, pull_number: pr.data.number, event: 'APPROVE' }));
    expect(own.status).toBe(422);
    expect(own.data).toMatchObject({ message: 'Unprocessable Entity', errors: ['Can not approve your own pull request'] });
    const review = await gh.rest.pulls.createReview({
      owner, repo, pull_number: pr.data.number, event: 'COMMENT', body: 'Some notes', comments: [{ path: 'new.txt', line: 1, body: 'why?' }],
    });
    spec.assertResponse('post', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', 200, review.data);
    const rc = await gh.rest.pulls.createReviewComment({ owner, repo, pull_number: pr.data.number, body: 'nit', commit_id: pr.data.head.sha, path: 'new.txt', line: 1 });
    spec.assertResponse('post', '/repos/{owner}/{repo}/pulls/{pull_number}/comments', 201, rc.data);
    const badPath = await status(gh.rest.pulls.createReviewComment({ owner, repo, pull_number: pr.data.number, body: 'x', commit_id: pr.data.head.sha, path: 'nope.txt', line: 1 }));
    expect(badPath.status).toBe(422);
    const upd = await gh.rest.pulls.update({ owner, repo, pull_number: pr.data.number, state: 'closed' });
    spec.assertResponse('patch', '/repos/{owner}/{repo}/pulls/{pull_number}', 200, upd.data);
    expect(upd.data.state).toBe('closed');
  });

  it('creates reactions (201, then 200 for the same one) and rejects bad content', async () => {
    const a = await gh.rest.reactions.createForIssue({ owner, repo, issue_number: 1, content: 'rocket' });
    expect(a.status).toBe(201);
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}/reactions', 200, [a.data]);
    const b = await gh.rest.reactions.createForIssue({ owner, repo, issue_number: 1, content: 'rocket' });
    expect(b.status).toBe(200);
    expect(b.data.id).toBe(a.data.id);
    const bad = await status(gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/reactions' as string, { owner, repo, issue_number: 1, content: 'thumbsup' }));
    expect(bad.status).toBe(422);
    const comments = await gh.rest.issues.listComments({ owner, repo, issue_number: 15 });
    const cr = await gh.rest.reactions.createForIssueComment({ owner, repo, comment_id: comments.data[0]?.id ?? 0, content: 'heart' });
    expect(cr.status).toBe(201);
  });

  it('answers bad credentials and unknown routes like GitHub', async () => {
    const bad = new Octokit({ auth: 'ghp_wrongwrongwrongwrongwrongwrongwrong', baseUrl: emu.baseUrl, log });
    const r = await status(bad.rest.repos.get({ owner, repo }));
    expect(r.status).toBe(401);
    expect(r.data).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    const anon = new Octokit({ baseUrl: emu.baseUrl, log });
    expect((await status(anon.rest.repos.get({ owner, repo }))).status).toBe(404);
    const pub = await anon.rest.repos.get({ owner, repo: 'gamma' });
    expect(Number(pub.headers['x-ratelimit-limit'])).toBe(60);
    const unknown = await status(gh.request('GET /repos/{owner}/{repo}/nothing-here', { owner, repo }));
    expect(unknown.status).toBe(404);
    const bearer = new Octokit({ baseUrl: emu.baseUrl, log, request: { fetch: (u: string, init: RequestInit) => fetch(u, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${emu.credentials.token}` } }) } });
    expect((await bearer.rest.repos.get({ owner, repo })).status).toBe(200);
    expect(emu.stats().lastError).toBeNull();
  });
});
