/**
 * Pull requests, reviews and review comments. A pull request is an issue with a `pr` part; they
 * share the repository's number sequence.
 */
import { reactionRoutes } from './api-issues.js';
import {
  ApiError, actor, bodyObject, created, field, intParam, listResponse, noContent, notFound, ok, oneOf, repoFor, required,
  sinceParam, sortBy, validationFailed, type ApiRequest, type RouteDef,
} from './http.js';
import { PullCreateError } from './ops.js';
import * as R from './render.js';
import { nodeId, type Issue, type Repo, type Review, type ReviewComment } from './state.js';

const D = {
  list: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests',
  create: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
  get: 'https://docs.github.com/rest/pulls/pulls#get-a-pull-request',
  update: 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request',
  merge: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
  repoComments: 'https://docs.github.com/rest/pulls/comments#list-review-comments-in-a-repository',
  prComments: 'https://docs.github.com/rest/pulls/comments#list-review-comments-on-a-pull-request',
  createComment: 'https://docs.github.com/rest/pulls/comments#create-a-review-comment-for-a-pull-request',
  getComment: 'https://docs.github.com/rest/pulls/comments#get-a-review-comment-for-a-pull-request',
  updateComment: 'https://docs.github.com/rest/pulls/comments#update-a-review-comment-for-a-pull-request',
  deleteComment: 'https://docs.github.com/rest/pulls/comments#delete-a-review-comment-for-a-pull-request',
  listReviews: 'https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request',
  createReview: 'https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request',
  getReview: 'https://docs.github.com/rest/pulls/reviews#get-a-review-for-a-pull-request',
  rcReactions: 'https://docs.github.com/rest/reactions/reactions#list-reactions-for-a-pull-request-review-comment',
  rcCreateReaction: 'https://docs.github.com/rest/reactions/reactions#create-reaction-for-a-pull-request-review-comment',
  rcDeleteReaction: 'https://docs.github.com/rest/reactions/reactions#delete-a-pull-request-comment-reaction',
};

function pullFor(req: ApiRequest, repo: Repo): Issue {
  const n = intParam(req, 'pull_number');
  const issue = repo.issues.get(n);
  if (!issue || !issue.pr || issue.deletedAt !== null) throw notFound(req.docs);
  return issue;
}

function liveReviewComments(repo: Repo): ReviewComment[] {
  return [...repo.reviewComments.values()].filter((c) => repo.issues.get(c.prNumber)?.deletedAt === null);
}

/** Build a review comment from a request body (shared by single comments and reviews). */
async function makeReviewComment(
  req: ApiRequest,
  repo: Repo,
  issue: Issue,
  b: Record<string, unknown>,
  reviewId: number | null,
  commitDefault: string,
  at: number,
  index?: number,
): Promise<ReviewComment> {
  const st = req.ctx.state;
  const body = required<string>(req, b, 'body', ['string']);
  const replyTo = field<number>(req, b, 'in_reply_to', ['integer']);
  const id = st.nextId('reviewComment');
  if (replyTo !== undefined) {
    const parent = repo.reviewComments.get(replyTo);
    if (!parent || parent.prNumber !== issue.number) {
      throw validationFailed(req.docs, [{ resource: 'PullRequestReviewComment', code: 'invalid', field: 'in_reply_to', value: replyTo }]);
    }
    return { ...parent, id, nodeId: nodeId('reviewComment', id), reviewId, user: actor(req), body, inReplyToId: parent.id, createdAt: at, updatedAt: at, reactions: [] };
  }
  const commitId = field<string>(req, b, 'commit_id', ['string']) ?? commitDefault;
  const path = required<string>(req, b, 'path', ['string']);
  const subjectType = oneOf(req, field<string>(req, b, 'subject_type', ['string']), ['line', 'file'] as const, 'subject_type', 'line');
  const position = field<number>(req, b, 'position', ['integer']);
  const line = field<number>(req, b, 'line', ['integer']);
  const startLine = field<number>(req, b, 'start_line', ['integer']);
  const side = oneOf(req, field<string>(req, b, 'side', ['string']), ['LEFT', 'RIGHT'] as const, 'side', 'RIGHT');
  const startSideRaw = field<string>(req, b, 'start_side', ['string']);
  const dir = req.svc.ops.dir(repo);
  if ((await req.svc.ops.git.objectType(dir, commitId)) !== 'commit') {
    throw validationFailed(req.docs, [{ resource: 'PullRequestReviewComment', code: 'invalid', field: 'commit_id', ...(index !== undefined ? { index } : {}) }]);
  }
  if ((await req.svc.ops.git.objectType(dir, `${commitId}:${path}`)) === null) {
    throw validationFailed(req.docs, [{ resource: 'PullRequestReviewComment', code: 'custom', field: 'pull_request_review_thread.path', message: 'pull_request_review_thread.path could not be resolved' }]);
  }
  if (subjectType === 'line' && position === undefined && line === undefined) {
    throw validationFailed(req.docs, [{ resource: 'PullRequestReviewComment', code: 'missing_field', field: 'line' }]);
  }
  const l = line ?? position ?? null;
  return {
    id,
    nodeId: nodeId('reviewComment', id),
    prNumber: issue.number,
    reviewId,
    user: actor(req),
    body,
    path,
    diffHunk: `@@ -${Math.max(1, (l ?? 1) - 1)},2 +${Math.max(1, (l ?? 1) - 1)},3 @@`,
    position: position ?? l,
    originalPosition: position ?? l,
    line: l,
    originalLine: l,
    side,
    startLine: startLine ?? null,
    startSide: startLine !== undefined ? ((startSideRaw as 'LEFT' | 'RIGHT' | undefined) ?? side) : null,
    subjectType,
    commitId,
    originalCommitId: commitId,
    inReplyToId: null,
    createdAt: at,
    updatedAt: at,
    reactions: [],
  };
}

export function pullRoutes(): RouteDef[] {
  const routes: RouteDef[] = [
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls', docs: D.list,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const q = req.query;
        const state = oneOf(req, q.get('state'), ['open', 'closed', 'all'] as const, 'state', 'open');
        const sortRaw = q.get('sort');
        const sort = oneOf(req, sortRaw, ['created', 'updated', 'popularity', 'long-running'] as const, 'sort', 'created');
        const direction = oneOf(req, q.get('direction'), ['asc', 'desc'] as const, 'direction', sort === 'created' ? 'desc' : 'asc');
        const head = q.get('head');
        const base = q.get('base');
        const st = req.ctx.state;
        let items = st.liveIssues(repo).filter((i) => {
          if (!i.pr) return false;
          if (state !== 'all' && i.state !== state) return false;
          if (base && i.pr.base.ref !== base) return false;
          if (head) {
            const [owner, ref] = head.includes(':') ? head.split(':', 2) : [repo.owner, head];
            if ((owner ?? '').toLowerCase() !== repo.owner.toLowerCase() || i.pr.head.ref !== ref) return false;
          }
          return true;
        });
        const key =
          sort === 'updated' ? (i: Issue) => i.updatedAt
            : sort === 'popularity' ? (i: Issue) => st.commentCount(repo, i.number)
              : sort === 'long-running' ? (i: Issue) => -(i.createdAt)
                : (i: Issue) => i.createdAt;
        items = sortBy(items, key, direction, (i) => i.number);
        return listResponse(req, items, (i) => R.pullSimple(req.ctx, repo, i));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/pulls', docs: D.create, creates: true,
      handler: async (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const b = bodyObject(req);
        const head = required<string>(req, b, 'head', ['string']);
        const base = required<string>(req, b, 'base', ['string']);
        const issueNum = field<number>(req, b, 'issue', ['integer']);
        let existing: Issue | undefined;
        let title = field<string>(req, b, 'title', ['string']);
        if (issueNum !== undefined) {
          existing = repo.issues.get(issueNum);
          if (!existing || existing.deletedAt !== null || existing.pr) {
            throw validationFailed(req.docs, [{ resource: 'PullRequest', code: 'invalid', field: 'issue', value: issueNum }]);
          }
          title = existing.title;
        }
        if (title === undefined) throw validationFailed(req.docs, [{ resource: 'PullRequest', code: 'missing_field', field: 'title' }]);
        const body = field<string | null>(req, b, 'body', ['string'], true) ?? null;
        const draft = field<boolean>(req, b, 'draft', ['boolean']) ?? false;
        const mcm = field<boolean>(req, b, 'maintainer_can_modify', ['boolean']) ?? false;
        try {
          const issue = await req.svc.ops.openPull(repo, { title, body, head, base, user: actor(req), draft, maintainerCanModify: mcm, issue: existing });
          return created(R.pull(req.ctx, repo, issue), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/pulls/${issue.number}` });
        } catch (e) {
          if (!(e instanceof PullCreateError)) throw e;
          if (e.kind === 'head' || e.kind === 'base') {
            throw validationFailed(req.docs, [{ resource: 'PullRequest', field: e.kind, code: 'invalid' }]);
          }
          if (e.kind === 'empty') throw new ApiError(422, 'Repository is empty.', req.docs);
          throw validationFailed(req.docs, [{ resource: 'PullRequest', code: 'custom', message: e.message }]);
        }
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}', docs: D.get,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        return ok(R.pull(req.ctx, repo, pullFor(req, repo)));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/pulls/{pull_number}', docs: D.update,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const issue = pullFor(req, repo);
        const pr = issue.pr as NonNullable<Issue['pr']>;
        const b = bodyObject(req);
        const st = req.ctx.state;
        const who = actor(req);
        const at = st.now();
        let changed = false;
        const title = field<string>(req, b, 'title', ['string']);
        if (title !== undefined && title !== issue.title) {
          st.addEvent(repo, issue, who, 'renamed', { rename: { from: issue.title, to: title } }, at);
          issue.title = title;
          changed = true;
        }
        const body = field<string | null>(req, b, 'body', ['string'], true);
        if (body !== undefined && body !== issue.body) {
          issue.body = body;
          changed = true;
        }
        const base = field<string>(req, b, 'base', ['string']);
        if (base !== undefined && base !== pr.base.ref) {
          const sha = repo.git.branches.get(base);
          if (!sha) throw validationFailed(req.docs, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
          pr.base = { ref: base, sha };
          changed = true;
        }
        const mcm = field<boolean>(req, b, 'maintainer_can_modify', ['boolean']);
        if (mcm !== undefined) pr.maintainerCanModify = mcm;
        const stateRaw = field<string>(req, b, 'state', ['string']);
        if (stateRaw !== undefined) {
          const s = oneOf(req, stateRaw, ['open', 'closed'] as const, 'state', 'open');
          if (s !== issue.state) {
            if (pr.merged) throw validationFailed(req.docs, [{ resource: 'PullRequest', code: 'custom', field: 'state', message: 'state cannot be changed. The pull request has been merged.' }]);
            if (s === 'open' && !repo.git.branches.has(pr.head.ref)) {
              throw validationFailed(req.docs, [{ resource: 'PullRequest', code: 'custom', field: 'state', message: `state cannot be changed. The ${pr.head.ref} branch has been deleted.` }]);
            }
            st.setIssueState(repo, issue, s, who, s === 'closed' ? 'completed' : undefined, at);
            if (s === 'closed') issue.stateReason = null;
            changed = true;
          }
        }
        if (changed) issue.updatedAt = at;
        return ok(R.pull(req.ctx, repo, issue));
      },
    },
    {
      method: 'PUT', path: '/repos/{owner}/{repo}/pulls/{pull_number}/merge', docs: D.merge,
      handler: async (req) => {
        const repo = repoFor(req, 'contents', true);
        const issue = pullFor(req, repo);
        if (issue.pr?.merged) throw new ApiError(405, 'Pull Request is not mergeable', req.docs);
        if (issue.state !== 'open') throw new ApiError(405, 'Pull Request is not mergeable', req.docs);
        const sha = await req.svc.ops.mergePull(repo, issue, actor(req)).catch(() => {
          throw new ApiError(405, 'Pull Request is not mergeable', req.docs);
        });
        return ok({ sha, merged: true, message: 'Pull Request successfully merged' });
      },
    },
    // ---------------- review comments ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/comments', docs: D.repoComments,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const sortRaw = req.query.get('sort');
        const sort = oneOf(req, sortRaw, ['created', 'updated', 'created_at'] as const, 'sort', 'created');
        const direction = oneOf(req, req.query.get('direction'), ['asc', 'desc'] as const, 'direction', sortRaw ? 'desc' : 'asc');
        const since = sinceParam(req);
        let items = liveReviewComments(repo).filter((c) => since === null || c.updatedAt >= since);
        items = sortBy(items, (c) => (sort === 'updated' ? c.updatedAt : c.createdAt), direction, (c) => c.id);
        return listResponse(req, items, (c) => R.reviewComment(req.ctx, repo, c));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}/comments', docs: D.prComments,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const issue = pullFor(req, repo);
        const sort = oneOf(req, req.query.get('sort'), ['created', 'updated'] as const, 'sort', 'created');
        const direction = oneOf(req, req.query.get('direction'), ['asc', 'desc'] as const, 'direction', 'asc');
        const since = sinceParam(req);
        let items = [...repo.reviewComments.values()].filter((c) => c.prNumber === issue.number && (since === null || c.updatedAt >= since));
        items = sortBy(items, (c) => (sort === 'updated' ? c.updatedAt : c.createdAt), direction, (c) => c.id);
        return listResponse(req, items, (c) => R.reviewComment(req.ctx, repo, c));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/pulls/{pull_number}/comments', docs: D.createComment, creates: true,
      handler: async (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const issue = pullFor(req, repo);
        const b = bodyObject(req);
        const st = req.ctx.state;
        const at = st.now();
        if (b.in_reply_to === undefined) {
          required<string>(req, b, 'commit_id', ['string']);
          required<string>(req, b, 'path', ['string']);
        }
        // A single review comment is filed inside a one-comment review, as on GitHub.
        const reviewId = st.nextId('review');
        const c = await makeReviewComment(req, repo, issue, b, reviewId, (issue.pr as NonNullable<Issue['pr']>).head.sha, at);
        const review: Review = { id: reviewId, nodeId: nodeId('review', reviewId), prNumber: issue.number, user: c.user, body: '', state: 'COMMENTED', commitId: c.commitId, submittedAt: at };
        repo.reviews.set(review.id, review);
        repo.reviewComments.set(c.id, c);
        issue.updatedAt = at;
        return created(R.reviewComment(req.ctx, repo, c), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/pulls/comments/${c.id}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/comments/{comment_id}', docs: D.getComment,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const c = repo.reviewComments.get(intParam(req, 'comment_id'));
        if (!c || repo.issues.get(c.prNumber)?.deletedAt !== null) throw notFound(req.docs);
        return ok(R.reviewComment(req.ctx, repo, c));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/pulls/comments/{comment_id}', docs: D.updateComment,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const c = repo.reviewComments.get(intParam(req, 'comment_id'));
        if (!c) throw notFound(req.docs);
        const body = required<string>(req, bodyObject(req), 'body', ['string']);
        if (body !== c.body) {
          c.body = body;
          c.updatedAt = req.ctx.state.now();
        }
        return ok(R.reviewComment(req.ctx, repo, c));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/pulls/comments/{comment_id}', docs: D.deleteComment,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const id = intParam(req, 'comment_id');
        if (!repo.reviewComments.has(id)) throw notFound(req.docs);
        repo.reviewComments.delete(id);
        return noContent();
      },
    },
    // ---------------- reviews ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', docs: D.listReviews,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const issue = pullFor(req, repo);
        const me = req.identity.kind === 'user' ? req.identity.user.login : req.identity.kind === 'installation' ? req.identity.bot.login : '';
        const items = [...repo.reviews.values()]
          .filter((r) => r.prNumber === issue.number && (r.state !== 'PENDING' || r.user === me))
          .sort((a, b) => a.id - b.id);
        return listResponse(req, items, (r) => R.review(req.ctx, repo, r));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', docs: D.getReview,
      handler: (req) => {
        const repo = repoFor(req, 'pull_requests', false);
        const issue = pullFor(req, repo);
        const r = repo.reviews.get(intParam(req, 'review_id'));
        if (!r || r.prNumber !== issue.number) throw notFound(req.docs);
        return ok(R.review(req.ctx, repo, r));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', docs: D.createReview, creates: true,
      handler: async (req) => {
        const repo = repoFor(req, 'pull_requests', true);
        const issue = pullFor(req, repo);
        const pr = issue.pr as NonNullable<Issue['pr']>;
        const b = bodyObject(req);
        const st = req.ctx.state;
        const who = actor(req);
        const eventRaw = field<string>(req, b, 'event', ['string']);
        const event = eventRaw === undefined ? undefined : oneOf(req, eventRaw, ['APPROVE', 'REQUEST_CHANGES', 'COMMENT'] as const, 'event', 'COMMENT');
        const body = field<string>(req, b, 'body', ['string']) ?? '';
        const own = issue.user.toLowerCase() === who.toLowerCase();
        // GitHub answers these with plain-string errors.
        const unprocessable = (msg: string) => new ApiError(422, 'Unprocessable Entity', req.docs, { errors: [msg] });
        if (event === 'APPROVE' && own) throw unprocessable('Can not approve your own pull request');
        if (event === 'REQUEST_CHANGES' && own) throw unprocessable('Can not request changes on your own pull request');
        const rawComments = field<unknown[]>(req, b, 'comments', ['array']) ?? [];
        if ((event === 'REQUEST_CHANGES' || event === 'COMMENT') && !body && rawComments.length === 0) {
          throw unprocessable(`Review Can not ${event === 'COMMENT' ? 'comment' : 'request changes'} without a body or comments`);
        }
        if (issue.state !== 'open' && event === 'APPROVE') throw unprocessable('Can not approve a closed pull request');
        const at = st.now();
        const commitId = field<string>(req, b, 'commit_id', ['string']) ?? pr.head.sha;
        const reviewId = st.nextId('review');
        const comments: ReviewComment[] = [];
        let idx = 0;
        for (const raw of rawComments) {
          if (!raw || typeof raw !== 'object') throw validationFailed(req.docs, [{ resource: 'PullRequestReviewComment', code: 'invalid', index: idx }]);
          comments.push(await makeReviewComment(req, repo, issue, { ...(raw as Record<string, unknown>), commit_id: commitId }, reviewId, commitId, at, idx));
          idx++;
        }
        const state: Review['state'] = event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : event === 'COMMENT' ? 'COMMENTED' : 'PENDING';
        const review: Review = { id: reviewId, nodeId: nodeId('review', reviewId), prNumber: issue.number, user: who, body, state, commitId, submittedAt: state === 'PENDING' ? null : at };
        repo.reviews.set(review.id, review);
        for (const c of comments) repo.reviewComments.set(c.id, c);
        if (state !== 'PENDING') issue.updatedAt = at;
        return ok(R.review(req.ctx, repo, review));
      },
    },
  ];
  routes.push(
    ...reactionRoutes(
      '/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions',
      { list: D.rcReactions, create: D.rcCreateReaction, remove: D.rcDeleteReaction },
      (req, write) => {
        const repo = repoFor(req, 'pull_requests', write);
        const c = repo.reviewComments.get(intParam(req, 'comment_id'));
        if (!c) throw notFound(req.docs);
        return { list: c.reactions, area: 'pull_requests' };
      },
    ),
  );
  return routes;
}
