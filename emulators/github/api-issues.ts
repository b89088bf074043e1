/**
 * Issues (and pull requests seen as issues), issue comments, labels, milestones, reactions and
 * issue events.
 */
import {
  ApiError, actor, bodyObject, created, field, intParam, invalidRequest, listResponse, noContent, notFound, ok, oneOf, repoFor,
  required, sinceParam, sortBy, validationFailed, type ApiRequest, type RouteDef,
} from './http.js';
import * as R from './render.js';
import type { GithubState, Issue, Label, Reaction, ReactionContent, Repo } from './state.js';
import { REACTION_CONTENTS } from './state.js';

const D = {
  listIssues: 'https://docs.github.com/rest/issues/issues#list-repository-issues',
  createIssue: 'https://docs.github.com/rest/issues/issues#create-an-issue',
  getIssue: 'https://docs.github.com/rest/issues/issues#get-an-issue',
  updateIssue: 'https://docs.github.com/rest/issues/issues#update-an-issue',
  lock: 'https://docs.github.com/rest/issues/issues#lock-an-issue',
  unlock: 'https://docs.github.com/rest/issues/issues#unlock-an-issue',
  listRepoComments: 'https://docs.github.com/rest/issues/comments#list-issue-comments-for-a-repository',
  listComments: 'https://docs.github.com/rest/issues/comments#list-issue-comments',
  createComment: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
  getComment: 'https://docs.github.com/rest/issues/comments#get-an-issue-comment',
  updateComment: 'https://docs.github.com/rest/issues/comments#update-an-issue-comment',
  deleteComment: 'https://docs.github.com/rest/issues/comments#delete-an-issue-comment',
  listLabels: 'https://docs.github.com/rest/issues/labels#list-labels-for-a-repository',
  createLabel: 'https://docs.github.com/rest/issues/labels#create-a-label',
  getLabel: 'https://docs.github.com/rest/issues/labels#get-a-label',
  updateLabel: 'https://docs.github.com/rest/issues/labels#update-a-label',
  deleteLabel: 'https://docs.github.com/rest/issues/labels#delete-a-label',
  issueLabels: 'https://docs.github.com/rest/issues/labels#list-labels-for-an-issue',
  addLabels: 'https://docs.github.com/rest/issues/labels#add-labels-to-an-issue',
  setLabels: 'https://docs.github.com/rest/issues/labels#set-labels-for-an-issue',
  removeLabel: 'https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue',
  listMilestones: 'https://docs.github.com/rest/issues/milestones#list-milestones',
  createMilestone: 'https://docs.github.com/rest/issues/milestones#create-a-milestone',
  getMilestone: 'https://docs.github.com/rest/issues/milestones#get-a-milestone',
  updateMilestone: 'https://docs.github.com/rest/issues/milestones#update-a-milestone',
  deleteMilestone: 'https://docs.github.com/rest/issues/milestones#delete-a-milestone',
  issueReactions: 'https://docs.github.com/rest/reactions/reactions#list-reactions-for-an-issue',
  createIssueReaction: 'https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue',
  deleteIssueReaction: 'https://docs.github.com/rest/reactions/reactions#delete-an-issue-reaction',
  commentReactions: 'https://docs.github.com/rest/reactions/reactions#list-reactions-for-an-issue-comment',
  createCommentReaction: 'https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment',
  deleteCommentReaction: 'https://docs.github.com/rest/reactions/reactions#delete-an-issue-comment-reaction',
  repoEvents: 'https://docs.github.com/rest/issues/events#list-issue-events-for-a-repository',
  issueEvents: 'https://docs.github.com/rest/issues/events#list-issue-events',
};

/** Find a live issue (or pull request) by number: 404 when never existed, 410 when deleted. */
export function issueFor(req: ApiRequest, repo: Repo, param = 'issue_number'): Issue {
  const n = intParam(req, param);
  const issue = repo.issues.get(n);
  if (!issue) throw notFound(req.docs);
  if (issue.deletedAt !== null) throw new ApiError(410, 'This issue was deleted', req.docs);
  return issue;
}

function requireIssuesEnabled(req: ApiRequest, repo: Repo): void {
  if (!repo.hasIssues) throw new ApiError(410, 'Issues are disabled for this repo', req.docs);
}

/** Label names (or {name} objects) from a request; missing labels are created, as GitHub does for writers. */
export function resolveLabels(req: ApiRequest, state: GithubState, repo: Repo, raw: unknown, fieldName = 'labels'): number[] {
  if (!Array.isArray(raw)) throw invalidRequest(req.docs, `For 'properties/${fieldName}', ${JSON.stringify(raw)} is not an array.`);
  const ids: number[] = [];
  for (const item of raw) {
    let name: string | undefined;
    if (typeof item === 'string') name = item;
    else if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') name = (item as { name: string }).name;
    if (name === undefined || name.trim() === '') {
      throw invalidRequest(req.docs, `For 'items', ${JSON.stringify(item)} is not a string or an object with a name.`);
    }
    const l = state.labelByName(repo, name.trim()) ?? state.addLabel(repo, name.trim());
    if (!ids.includes(l.id)) ids.push(l.id);
  }
  return ids;
}

function resolveAssignees(req: ApiRequest, state: GithubState, repo: Repo, logins: string[], resource: string): string[] {
  const out: string[] = [];
  for (const login of logins) {
    const u = state.user(login);
    const assignable = u && (state.isOrgMember(repo.owner, u.login) || u.login.toLowerCase() === repo.owner.toLowerCase());
    if (!u || !assignable) throw validationFailed(req.docs, [{ resource, field: 'assignees', code: 'invalid', value: login }]);
    if (!out.includes(u.login)) out.push(u.login);
  }
  return out;
}

function resolveMilestone(req: ApiRequest, repo: Repo, raw: unknown, resource: string): number | null {
  if (raw === null) return null;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !repo.milestones.has(n)) {
    throw validationFailed(req.docs, [{ resource, field: 'milestone', code: 'invalid', value: typeof raw === 'number' || typeof raw === 'string' ? raw : null }]);
  }
  return n;
}

function labelEvents(state: GithubState, repo: Repo, issue: Issue, before: number[], after: number[], who: string, at: number): void {
  for (const id of after) {
    if (before.includes(id)) continue;
    const l = repo.labels.get(id);
    if (l) state.addEvent(repo, issue, who, 'labeled', { label: { name: l.name, color: l.color } }, at);
  }
  for (const id of before) {
    if (after.includes(id)) continue;
    const l = repo.labels.get(id);
    if (l) state.addEvent(repo, issue, who, 'unlabeled', { label: { name: l.name, color: l.color } }, at);
  }
}

function parseReactionContent(req: ApiRequest, raw: unknown, allowed: readonly ReactionContent[] = REACTION_CONTENTS): ReactionContent {
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    if (raw === undefined) throw invalidRequest(req.docs, `"content" wasn't supplied.`);
    throw invalidRequest(req.docs, `For 'properties/content', ${JSON.stringify(raw)} is not a member of ${JSON.stringify(allowed)}.`);
  }
  return raw as ReactionContent;
}

export function reactionRoutes(
  base: string,
  docs: { list: string; create: string; remove: string },
  find: (req: ApiRequest, write: boolean) => { list: Reaction[]; area: 'issues' | 'pull_requests' | 'contents' },
  allowed: readonly ReactionContent[] = REACTION_CONTENTS,
): RouteDef[] {
  return [
    {
      method: 'GET', path: base, docs: docs.list,
      handler: (req) => {
        const { list } = find(req, false);
        const content = req.query.get('content');
        if (content !== null && !(REACTION_CONTENTS as readonly string[]).includes(content)) {
          throw validationFailed(req.docs, [{ resource: 'Reaction', field: 'content', code: 'invalid', value: content }]);
        }
        const items = list.filter((r) => content === null || r.content === content);
        return listResponse(req, items, (r) => R.reaction(req.ctx, r));
      },
    },
    {
      method: 'POST', path: base, docs: docs.create, creates: true,
      handler: (req) => {
        const { list } = find(req, true);
        const content = parseReactionContent(req, bodyObject(req).content, allowed);
        const { reaction, created: isNew } = req.ctx.state.addReaction(list, actor(req), content);
        return { status: isNew ? 201 : 200, body: R.reaction(req.ctx, reaction) };
      },
    },
    {
      method: 'DELETE', path: `${base}/{reaction_id}`, docs: docs.remove,
      handler: (req) => {
        const { list } = find(req, true);
        const id = intParam(req, 'reaction_id');
        const i = list.findIndex((r) => r.id === id);
        if (i < 0) throw notFound(req.docs);
        list.splice(i, 1);
        return noContent();
      },
    },
  ];
}

export function issueRoutes(): RouteDef[] {
  const routes: RouteDef[] = [
    // ---------------- issues ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues', docs: D.listIssues,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const q = req.query;
        const state = oneOf(req, q.get('state'), ['open', 'closed', 'all'] as const, 'state', 'open');
        const sort = oneOf(req, q.get('sort'), ['created', 'updated', 'comments'] as const, 'sort', 'created');
        const direction = oneOf(req, q.get('direction'), ['asc', 'desc'] as const, 'direction', 'desc');
        const since = sinceParam(req);
        const ms = q.get('milestone');
        const assignee = q.get('assignee');
        const creator = q.get('creator');
        const mentioned = q.get('mentioned');
        const labelNames = (q.get('labels') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
        const st = req.ctx.state;
        let items = st.liveIssues(repo).filter((i) => {
          if (state !== 'all' && i.state !== state) return false;
          if (since !== null && i.updatedAt < since) return false;
          if (ms !== null && ms !== '') {
            if (ms === '*') { if (i.milestone === null) return false; }
            else if (ms === 'none') { if (i.milestone !== null) return false; }
            else if (i.milestone !== Number(ms)) return false;
          }
          if (assignee) {
            if (assignee === 'none') { if (i.assignees.length) return false; }
            else if (assignee === '*') { if (!i.assignees.length) return false; }
            else if (!i.assignees.some((a) => a.toLowerCase() === assignee.toLowerCase())) return false;
          }
          if (creator && i.user.toLowerCase() !== creator.toLowerCase()) return false;
          if (mentioned && !(i.body ?? '').toLowerCase().includes(`@${mentioned.toLowerCase()}`)) return false;
          if (labelNames.length) {
            const names = i.labels.map((id) => repo.labels.get(id)?.name.toLowerCase());
            if (!labelNames.every((n) => names.includes(n))) return false;
          }
          return true;
        });
        const key = sort === 'created' ? (i: Issue) => i.createdAt : sort === 'updated' ? (i: Issue) => i.updatedAt : (i: Issue) => st.commentCount(repo, i.number);
        items = sortBy(items, key, direction, (i) => i.number);
        return listResponse(req, items, (i) => R.issue(req.ctx, repo, i));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/issues', docs: D.createIssue, creates: true,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        requireIssuesEnabled(req, repo);
        const st = req.ctx.state;
        const b = bodyObject(req);
        const title = String(required<string | number>(req, b, 'title', ['string', 'integer']));
        const body = field<string | null>(req, b, 'body', ['string'], true) ?? null;
        const assignees: string[] = [];
        const one = field<string | null>(req, b, 'assignee', ['string'], true);
        if (one) assignees.push(one);
        assignees.push(...(field<string[] | null>(req, b, 'assignees', ['array'], true) ?? []));
        const rawMs = field<number | string | null>(req, b, 'milestone', ['integer', 'string'], true);
        const milestone = rawMs === undefined ? null : resolveMilestone(req, repo, rawMs, 'Issue');
        const who = actor(req);
        const labels = b.labels === undefined || b.labels === null ? [] : resolveLabels(req, st, repo, b.labels);
        const resolved = resolveAssignees(req, st, repo, assignees, 'Issue');
        const issue = st.createIssue(repo, { title, body, user: who, labels, assignees: resolved, milestone });
        return created(R.issue(req.ctx, repo, issue), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/issues/${issue.number}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}', docs: D.getIssue,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        return ok(R.issue(req.ctx, repo, issueFor(req, repo)));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/issues/{issue_number}', docs: D.updateIssue,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        const st = req.ctx.state;
        const b = bodyObject(req);
        const who = actor(req);
        const at = st.now();
        let changed = false;
        const title = field<string | number | null>(req, b, 'title', ['string', 'integer'], true);
        if (title !== undefined && title !== null && String(title) !== issue.title) {
          st.addEvent(repo, issue, who, 'renamed', { rename: { from: issue.title, to: String(title) } }, at);
          issue.title = String(title);
          changed = true;
        }
        const body = field<string | null>(req, b, 'body', ['string'], true);
        if (body !== undefined && body !== issue.body) {
          issue.body = body;
          changed = true;
        }
        if (b.labels !== undefined) {
          const next = b.labels === null ? [] : resolveLabels(req, st, repo, b.labels);
          if (next.join(',') !== issue.labels.join(',')) {
            labelEvents(st, repo, issue, issue.labels, next, who, at);
            issue.labels = next;
            changed = true;
          }
        }
        if (b.milestone !== undefined) {
          const next = resolveMilestone(req, repo, b.milestone, 'Issue');
          if (next !== issue.milestone) {
            const prev = issue.milestone !== null ? repo.milestones.get(issue.milestone) : undefined;
            if (prev) st.addEvent(repo, issue, who, 'demilestoned', { milestone: { title: prev.title } }, at);
            const nm = next !== null ? repo.milestones.get(next) : undefined;
            if (nm) st.addEvent(repo, issue, who, 'milestoned', { milestone: { title: nm.title } }, at);
            issue.milestone = next;
            changed = true;
          }
        }
        if (b.assignees !== undefined || b.assignee !== undefined) {
          const list: string[] = [];
          const one = field<string | null>(req, b, 'assignee', ['string'], true);
          if (one) list.push(one);
          list.push(...(field<string[] | null>(req, b, 'assignees', ['array'], true) ?? []));
          const next = resolveAssignees(req, st, repo, list, 'Issue');
          if (next.join(',') !== issue.assignees.join(',')) {
            issue.assignees = next;
            changed = true;
          }
        }
        const stateVal = field<string>(req, b, 'state', ['string']);
        const reasonRaw = field<string | null>(req, b, 'state_reason', ['string'], true);
        const reasons = ['completed', 'not_planned', 'reopened', 'duplicate'] as const;
        if (reasonRaw !== undefined && reasonRaw !== null && !(reasons as readonly string[]).includes(reasonRaw)) {
          throw validationFailed(req.docs, [{ resource: 'Issue', field: 'state_reason', code: 'invalid', value: reasonRaw }]);
        }
        const reason = (reasonRaw ?? undefined) as Issue['stateReason'] | undefined;
        if (stateVal !== undefined) {
          if (stateVal !== 'open' && stateVal !== 'closed') {
            throw validationFailed(req.docs, [{ resource: 'Issue', field: 'state', code: 'invalid', value: stateVal }]);
          }
          if (issue.pr?.merged && stateVal === 'open') {
            throw validationFailed(req.docs, [{ resource: 'Issue', field: 'state', code: 'custom', message: 'state cannot be changed. The pull request has been merged.' }]);
          }
          if (stateVal !== issue.state || (stateVal === 'closed' && reason && reason !== issue.stateReason)) {
            st.setIssueState(repo, issue, stateVal, who, stateVal === 'closed' ? (reason ?? 'completed') : undefined, at);
            changed = true;
          }
        } else if (reason && issue.state === 'closed' && reason !== issue.stateReason && reason !== 'reopened') {
          issue.stateReason = reason;
          changed = true;
        }
        if (changed) issue.updatedAt = at;
        return ok(R.issue(req.ctx, repo, issue));
      },
    },
    {
      method: 'PUT', path: '/repos/{owner}/{repo}/issues/{issue_number}/lock', docs: D.lock,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        const reason = field<string>(req, bodyObject(req), 'lock_reason', ['string']);
        if (reason !== undefined && !['off-topic', 'too heated', 'resolved', 'spam'].includes(reason)) {
          throw validationFailed(req.docs, [{ resource: 'Issue', field: 'lock_reason', code: 'invalid', value: reason }]);
        }
        issue.locked = true;
        issue.activeLockReason = reason ?? null;
        req.ctx.state.addEvent(repo, issue, actor(req), 'locked');
        return noContent();
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/issues/{issue_number}/lock', docs: D.unlock,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        issue.locked = false;
        issue.activeLockReason = null;
        req.ctx.state.addEvent(repo, issue, actor(req), 'unlocked');
        return noContent();
      },
    },
    // ---------------- issue labels ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}/labels', docs: D.issueLabels,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const issue = issueFor(req, repo);
        const labels = issue.labels.map((id) => repo.labels.get(id)).filter((l): l is Label => !!l);
        return listResponse(req, labels, (l) => R.label(req.ctx, repo, l));
      },
    },
    ...(['POST', 'PUT'] as const).map((method): RouteDef => ({
      method, path: '/repos/{owner}/{repo}/issues/{issue_number}/labels', docs: method === 'POST' ? D.addLabels : D.setLabels,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        const st = req.ctx.state;
        const raw = Array.isArray(req.body) ? req.body : bodyObject(req).labels;
        const ids = raw === undefined ? [] : resolveLabels(req, st, repo, raw);
        const next = method === 'POST' ? [...issue.labels, ...ids.filter((id) => !issue.labels.includes(id))] : ids;
        const at = st.now();
        if (next.join(',') !== issue.labels.join(',')) {
          labelEvents(st, repo, issue, issue.labels, next, actor(req), at);
          issue.labels = next;
          issue.updatedAt = at;
        }
        const labels = issue.labels.map((id) => repo.labels.get(id)).filter((l): l is Label => !!l);
        return ok(labels.map((l) => R.label(req.ctx, repo, l)));
      },
    })),
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', docs: D.removeLabel,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        const st = req.ctx.state;
        const l = st.labelByName(repo, req.params.name ?? '');
        if (!l || !issue.labels.includes(l.id)) throw new ApiError(404, 'Label does not exist', req.docs);
        const next = issue.labels.filter((id) => id !== l.id);
        const at = st.now();
        labelEvents(st, repo, issue, issue.labels, next, actor(req), at);
        issue.labels = next;
        issue.updatedAt = at;
        const labels = issue.labels.map((id) => repo.labels.get(id)).filter((x): x is Label => !!x);
        return ok(labels.map((x) => R.label(req.ctx, repo, x)));
      },
    },
    // ---------------- comments ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/comments', docs: D.listRepoComments,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const sortRaw = req.query.get('sort');
        const sort = oneOf(req, sortRaw, ['created', 'updated'] as const, 'sort', 'created');
        const direction = oneOf(req, req.query.get('direction'), ['asc', 'desc'] as const, 'direction', sortRaw ? 'desc' : 'asc');
        const since = sinceParam(req);
        const live = (n: number) => repo.issues.get(n)?.deletedAt === null;
        let items = [...repo.comments.values()].filter((c) => live(c.issueNumber) && (since === null || c.updatedAt >= since));
        items = sortBy(items, (c) => (sort === 'updated' ? c.updatedAt : c.createdAt), direction, (c) => c.id);
        return listResponse(req, items, (c) => R.issueComment(req.ctx, repo, c));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}/comments', docs: D.listComments,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const issue = issueFor(req, repo);
        const since = sinceParam(req);
        const items = [...repo.comments.values()]
          .filter((c) => c.issueNumber === issue.number && (since === null || c.updatedAt >= since))
          .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
        return listResponse(req, items, (c) => R.issueComment(req.ctx, repo, c));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/issues/{issue_number}/comments', docs: D.createComment, creates: true,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const issue = issueFor(req, repo);
        const body = required<string>(req, bodyObject(req), 'body', ['string']);
        const c = req.ctx.state.addComment(repo, issue, actor(req), body);
        return created(R.issueComment(req.ctx, repo, c), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/comments/{comment_id}', docs: D.getComment,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const c = repo.comments.get(intParam(req, 'comment_id'));
        if (!c || repo.issues.get(c.issueNumber)?.deletedAt !== null) throw notFound(req.docs);
        return ok(R.issueComment(req.ctx, repo, c));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/issues/comments/{comment_id}', docs: D.updateComment,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const c = repo.comments.get(intParam(req, 'comment_id'));
        if (!c || repo.issues.get(c.issueNumber)?.deletedAt !== null) throw notFound(req.docs);
        const body = required<string>(req, bodyObject(req), 'body', ['string']);
        if (body !== c.body) {
          c.body = body;
          c.updatedAt = req.ctx.state.now();
        }
        return ok(R.issueComment(req.ctx, repo, c));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/issues/comments/{comment_id}', docs: D.deleteComment,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const id = intParam(req, 'comment_id');
        if (!repo.comments.has(id)) throw notFound(req.docs);
        repo.comments.delete(id);
        return noContent();
      },
    },
    // ---------------- labels ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/labels', docs: D.listLabels,
      handler: (req) => {
        const repo = repoFor(req, 'metadata', false);
        const items = [...repo.labels.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id - b.id);
        return listResponse(req, items, (l) => R.label(req.ctx, repo, l));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/labels', docs: D.createLabel, creates: true,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const b = bodyObject(req);
        const name = required<string>(req, b, 'name', ['string']).trim();
        const color = (field<string>(req, b, 'color', ['string']) ?? 'ededed').replace(/^#/, '');
        const description = field<string | null>(req, b, 'description', ['string'], true) ?? null;
        if (!/^[0-9a-fA-F]{6}$/.test(color)) throw validationFailed(req.docs, [{ resource: 'Label', code: 'invalid', field: 'color' }]);
        if (description !== null && description.length > 100) throw validationFailed(req.docs, [{ resource: 'Label', code: 'invalid', field: 'description' }]);
        const st = req.ctx.state;
        if (!name) throw validationFailed(req.docs, [{ resource: 'Label', code: 'missing_field', field: 'name' }]);
        if (st.labelByName(repo, name)) throw validationFailed(req.docs, [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
        const l = st.addLabel(repo, name, color, description);
        return created(R.label(req.ctx, repo, l), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(l.name)}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/labels/{name}', docs: D.getLabel,
      handler: (req) => {
        const repo = repoFor(req, 'metadata', false);
        const l = req.ctx.state.labelByName(repo, req.params.name ?? '');
        if (!l) throw notFound(req.docs);
        return ok(R.label(req.ctx, repo, l));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/labels/{name}', docs: D.updateLabel,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const st = req.ctx.state;
        const l = st.labelByName(repo, req.params.name ?? '');
        if (!l) throw notFound(req.docs);
        const b = bodyObject(req);
        const newName = field<string>(req, b, 'new_name', ['string']) ?? field<string>(req, b, 'name', ['string']);
        const color = field<string>(req, b, 'color', ['string']);
        const description = field<string | null>(req, b, 'description', ['string'], true);
        if (color !== undefined && !/^#?[0-9a-fA-F]{6}$/.test(color)) throw validationFailed(req.docs, [{ resource: 'Label', code: 'invalid', field: 'color' }]);
        if (newName !== undefined && newName.trim() !== l.name) {
          const other = st.labelByName(repo, newName.trim());
          if (other && other.id !== l.id) throw validationFailed(req.docs, [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
          l.name = newName.trim();
        }
        if (color !== undefined) l.color = color.replace(/^#/, '').toLowerCase();
        if (description !== undefined) l.description = description;
        return ok(R.label(req.ctx, repo, l));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/labels/{name}', docs: D.deleteLabel,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const l = req.ctx.state.labelByName(repo, req.params.name ?? '');
        if (!l) throw notFound(req.docs);
        req.ctx.state.deleteLabel(repo, l);
        return noContent();
      },
    },
    // ---------------- milestones ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/milestones', docs: D.listMilestones,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const state = oneOf(req, req.query.get('state'), ['open', 'closed', 'all'] as const, 'state', 'open');
        const sort = oneOf(req, req.query.get('sort'), ['due_on', 'completeness'] as const, 'sort', 'due_on');
        const direction = oneOf(req, req.query.get('direction'), ['asc', 'desc'] as const, 'direction', 'asc');
        const st = req.ctx.state;
        const items = [...repo.milestones.values()].filter((m) => state === 'all' || m.state === state);
        const completeness = (n: number) => {
          const c = st.milestoneCounts(repo, n);
          return c.open + c.closed === 0 ? 0 : c.closed / (c.open + c.closed);
        };
        const sign = direction === 'asc' ? 1 : -1;
        items.sort((a, b) => {
          if (sort === 'due_on') {
            if (a.dueOn === null && b.dueOn !== null) return 1;
            if (b.dueOn === null && a.dueOn !== null) return -1;
            return sign * ((a.dueOn ?? 0) - (b.dueOn ?? 0) || a.number - b.number);
          }
          return sign * (completeness(a.number) - completeness(b.number) || a.number - b.number);
        });
        return listResponse(req, items, (m) => R.milestone(req.ctx, repo, m));
      },
    },
    {
      method: 'POST', path: '/repos/{owner}/{repo}/milestones', docs: D.createMilestone, creates: true,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const b = bodyObject(req);
        const title = required<string>(req, b, 'title', ['string']);
        const st = req.ctx.state;
        if ([...repo.milestones.values()].some((m) => m.title === title)) {
          throw validationFailed(req.docs, [{ resource: 'Milestone', code: 'already_exists', field: 'title' }]);
        }
        const state = oneOf(req, field<string>(req, b, 'state', ['string']), ['open', 'closed'] as const, 'state', 'open');
        const description = field<string | null>(req, b, 'description', ['string'], true) ?? null;
        const dueRaw = field<string | null>(req, b, 'due_on', ['string'], true);
        let dueOn: number | null = null;
        if (dueRaw) {
          dueOn = Date.parse(dueRaw);
          if (!Number.isFinite(dueOn)) throw validationFailed(req.docs, [{ resource: 'Milestone', code: 'invalid', field: 'due_on', value: dueRaw }]);
        }
        const m = st.addMilestone(repo, title, { description, state, dueOn, creator: actor(req) });
        return created(R.milestone(req.ctx, repo, m), { location: `${req.ctx.api}/repos/${repo.owner}/${repo.name}/milestones/${m.number}` });
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/milestones/{milestone_number}', docs: D.getMilestone,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const m = repo.milestones.get(intParam(req, 'milestone_number'));
        if (!m) throw notFound(req.docs);
        return ok(R.milestone(req.ctx, repo, m));
      },
    },
    {
      method: 'PATCH', path: '/repos/{owner}/{repo}/milestones/{milestone_number}', docs: D.updateMilestone,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const m = repo.milestones.get(intParam(req, 'milestone_number'));
        if (!m) throw notFound(req.docs);
        const b = bodyObject(req);
        const st = req.ctx.state;
        const at = st.now();
        const title = field<string>(req, b, 'title', ['string']);
        if (title !== undefined && title !== m.title) {
          if ([...repo.milestones.values()].some((x) => x.title === title && x.number !== m.number)) {
            throw validationFailed(req.docs, [{ resource: 'Milestone', code: 'already_exists', field: 'title' }]);
          }
          m.title = title;
        }
        const stateRaw = field<string>(req, b, 'state', ['string']);
        if (stateRaw !== undefined) {
          const s = oneOf(req, stateRaw, ['open', 'closed'] as const, 'state', 'open');
          if (s !== m.state) {
            m.state = s;
            m.closedAt = s === 'closed' ? at : null;
          }
        }
        const description = field<string | null>(req, b, 'description', ['string'], true);
        if (description !== undefined) m.description = description;
        const dueRaw = field<string | null>(req, b, 'due_on', ['string'], true);
        if (dueRaw !== undefined) {
          if (dueRaw === null) m.dueOn = null;
          else {
            const t = Date.parse(dueRaw);
            if (!Number.isFinite(t)) throw validationFailed(req.docs, [{ resource: 'Milestone', code: 'invalid', field: 'due_on', value: dueRaw }]);
            m.dueOn = t;
          }
        }
        m.updatedAt = at;
        return ok(R.milestone(req.ctx, repo, m));
      },
    },
    {
      method: 'DELETE', path: '/repos/{owner}/{repo}/milestones/{milestone_number}', docs: D.deleteMilestone,
      handler: (req) => {
        const repo = repoFor(req, 'issues', true);
        const n = intParam(req, 'milestone_number');
        if (!repo.milestones.has(n)) throw notFound(req.docs);
        repo.milestones.delete(n);
        for (const i of repo.issues.values()) if (i.milestone === n) i.milestone = null;
        return noContent();
      },
    },
    // ---------------- events ----------------
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/events', docs: D.repoEvents,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const items = repo.events.filter((e) => repo.issues.get(e.issueNumber)?.deletedAt === null).sort((a, b) => b.id - a.id);
        return listResponse(req, items, (e) => R.issueEvent(req.ctx, repo, e));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}/events', docs: D.issueEvents,
      handler: (req) => {
        const repo = repoFor(req, 'issues', false);
        const issue = issueFor(req, repo);
        const items = repo.events.filter((e) => e.issueNumber === issue.number).sort((a, b) => a.id - b.id);
        return listResponse(req, items, (e) => R.issueEvent(req.ctx, repo, e));
      },
    },
  ];

  routes.push(
    ...reactionRoutes(
      '/repos/{owner}/{repo}/issues/{issue_number}/reactions',
      { list: D.issueReactions, create: D.createIssueReaction, remove: D.deleteIssueReaction },
      (req, write) => {
        const repo = repoFor(req, 'issues', write);
        return { list: issueFor(req, repo).reactions, area: 'issues' };
      },
    ),
    ...reactionRoutes(
      '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
      { list: D.commentReactions, create: D.createCommentReaction, remove: D.deleteCommentReaction },
      (req, write) => {
        const repo = repoFor(req, 'issues', write);
        const c = repo.comments.get(intParam(req, 'comment_id'));
        if (!c) throw notFound(req.docs);
        return { list: c.reactions, area: 'issues' };
      },
    ),
  );
  return routes;
}
