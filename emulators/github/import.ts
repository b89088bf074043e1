/**
 * The issue import API (preview `application/vnd.github.golden-comet-preview+json`):
 *
 *   POST /repos/{owner}/{repo}/import/issues  {issue:{title, body, created_at, closed_at, updated_at,
 *        assignee, milestone, closed, labels}, comments:[{body, created_at}]}
 *        -> 202 {id, status: "pending", url, import_issues_url, repository_url, created_at, updated_at}
 *   GET  /repos/{owner}/{repo}/import/issues/{id}  -> status "imported" with issue_url, or "failed" with errors
 *   GET  /repos/{owner}/{repo}/import/issues?since=  -> the import jobs
 *
 * The body is checked synchronously (422 with a Validation Failed body); references (milestone,
 * assignee) and timestamps are checked when the job runs, which fails the job instead. Imported
 * issues keep their timestamps; the author is the importing identity.
 */
import { ApiError, actor, bodyObject, intParam, listResponse, notFound, ok, repoFor, sinceParam, validationFailed, type ErrorItem, type RouteDef } from './http.js';
import { iso, type RenderCtx } from './render.js';
import type { GithubState, ImportJob, Repo } from './state.js';

export const IMPORT_PREVIEW = 'golden-comet-preview';
const DOCS = 'https://gist.github.com/jonmagic/5282384165e0f86ef105';

export function renderImportJob(ctx: RenderCtx, repo: Repo, job: ImportJob): Record<string, unknown> {
  const base = `${ctx.api}/repos/${repo.owner}/${repo.name}`;
  const out: Record<string, unknown> = {
    id: job.id,
    status: job.status,
    url: `${base}/import/issues/${job.id}`,
    import_issues_url: `${base}/import/issues`,
    repository_url: base,
    created_at: iso(job.createdAt),
    updated_at: iso(job.updatedAt),
  };
  if (job.status === 'imported' && job.issueNumber !== null) out.issue_url = `${base}/issues/${job.issueNumber}`;
  if (job.status === 'failed') out.errors = job.errors;
  return out;
}

function isTimestamp(v: unknown): v is string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(v) && Number.isFinite(Date.parse(v));
}

/** Synchronous checks: shape and required fields. Throws a 422 ApiError. */
export function validateImportBody(docs: string, b: Record<string, unknown>): void {
  const errors: ErrorItem[] = [];
  const issue = b.issue;
  if (!issue || typeof issue !== 'object' || Array.isArray(issue)) {
    errors.push({ resource: 'Issue', field: 'issue', code: 'missing_field' });
    throw validationFailed(docs, errors);
  }
  const i = issue as Record<string, unknown>;
  if (typeof i.title !== 'string' || i.title === '') errors.push({ resource: 'Issue', field: 'title', code: 'missing_field' });
  if (typeof i.body !== 'string') errors.push({ resource: 'Issue', field: 'body', code: 'missing_field' });
  for (const f of ['created_at', 'updated_at', 'closed_at'] as const) {
    if (i[f] !== undefined && i[f] !== null && typeof i[f] !== 'string') errors.push({ resource: 'Issue', field: f, code: 'invalid' });
  }
  if (i.closed !== undefined && typeof i.closed !== 'boolean') errors.push({ resource: 'Issue', field: 'closed', code: 'invalid' });
  if (i.labels !== undefined && !(Array.isArray(i.labels) && i.labels.every((l) => typeof l === 'string'))) {
    errors.push({ resource: 'Issue', field: 'labels', code: 'invalid' });
  }
  if (i.assignee !== undefined && i.assignee !== null && typeof i.assignee !== 'string') errors.push({ resource: 'Issue', field: 'assignee', code: 'invalid' });
  if (i.milestone !== undefined && i.milestone !== null && typeof i.milestone !== 'number') errors.push({ resource: 'Issue', field: 'milestone', code: 'invalid' });
  if (b.comments !== undefined) {
    if (!Array.isArray(b.comments)) errors.push({ resource: 'Comment', field: 'comments', code: 'invalid' });
    else
      b.comments.forEach((c, idx) => {
        if (!c || typeof c !== 'object' || typeof (c as { body?: unknown }).body !== 'string') {
          errors.push({ resource: 'Comment', field: 'body', code: 'missing_field', index: idx });
        }
      });
  }
  if (errors.length) throw validationFailed(docs, errors);
}

/** Run one job: create the issue and its comments with their timestamps, or fail with errors. */
export function runImportJob(state: GithubState, repo: Repo, job: ImportJob, who: string, b: Record<string, unknown>): void {
  const i = b.issue as Record<string, unknown>;
  const comments = (Array.isArray(b.comments) ? b.comments : []) as Record<string, unknown>[];
  const errors: ImportJob['errors'] = [];
  for (const f of ['created_at', 'updated_at', 'closed_at'] as const) {
    if (i[f] !== undefined && i[f] !== null && !isTimestamp(i[f])) errors.push({ location: '/issue', resource: 'Issue', field: f, value: i[f], code: 'invalid' });
  }
  comments.forEach((c, idx) => {
    if (c.created_at !== undefined && c.created_at !== null && !isTimestamp(c.created_at)) {
      errors.push({ location: `/comments[${idx}]`, resource: 'Comment', field: 'created_at', value: c.created_at, code: 'invalid' });
    }
  });
  if (typeof i.milestone === 'number' && !repo.milestones.has(i.milestone)) {
    errors.push({ location: '/issue', resource: 'Issue', field: 'milestone', value: i.milestone, code: 'invalid' });
  }
  if (typeof i.assignee === 'string') {
    const u = state.user(i.assignee);
    if (!u || !(state.isOrgMember(repo.owner, u.login) || u.login.toLowerCase() === repo.owner.toLowerCase())) {
      errors.push({ location: '/issue', resource: 'Issue', field: 'assignee', value: i.assignee, code: 'invalid' });
    }
  }
  const now = state.now();
  job.updatedAt = now;
  if (errors.length || !repo.hasIssues) {
    job.status = 'failed';
    job.errors = errors.length ? errors : [{ location: '/issue', resource: 'Issue', field: null, value: null, code: 'custom' }];
    return;
  }
  const createdAt = typeof i.created_at === 'string' ? Date.parse(i.created_at) : now;
  const closed = i.closed === true;
  const closedAt = closed ? (typeof i.closed_at === 'string' ? Date.parse(i.closed_at) : typeof i.updated_at === 'string' ? Date.parse(i.updated_at) : now) : null;
  const labels = ((i.labels as string[] | undefined) ?? []).map((n) => (state.labelByName(repo, n) ?? state.addLabel(repo, n)).id);
  const assignee = typeof i.assignee === 'string' ? state.user(i.assignee)?.login : undefined;
  const issue = state.createIssue(repo, {
    title: i.title as string,
    body: i.body as string,
    user: who,
    labels,
    assignees: assignee ? [assignee] : [],
    milestone: typeof i.milestone === 'number' ? i.milestone : null,
    at: createdAt,
    closedAt,
  });
  let latest = Math.max(createdAt, closedAt ?? 0);
  for (const c of comments) {
    const at = typeof c.created_at === 'string' ? Date.parse(c.created_at) : now;
    state.addComment(repo, issue, who, c.body as string, at, false);
    latest = Math.max(latest, at);
  }
  issue.updatedAt = typeof i.updated_at === 'string' ? Date.parse(i.updated_at) : latest;
  job.status = 'imported';
  job.issueNumber = issue.number;
}

export function importRoutes(): RouteDef[] {
  const previewCheck = (accept: string | string[] | undefined, docs: string) => {
    if (!String(accept ?? '').includes(IMPORT_PREVIEW)) {
      throw new ApiError(
        415,
        "If you would like to help us test the Issue Import API during its preview period, you must specify a custom media type in the 'Accept' header. Please see the docs for full details.",
        docs,
      );
    }
  };
  return [
    {
      method: 'POST', path: '/repos/{owner}/{repo}/import/issues', docs: DOCS, creates: true,
      handler: (req) => {
        if (!req.svc.importEnabled) throw notFound(req.docs);
        previewCheck(req.headers.accept, req.docs);
        const repo = repoFor(req, 'issues', true);
        const b = bodyObject(req);
        validateImportBody(req.docs, b);
        const job = req.svc.importIssue(repo, actor(req), b);
        return { status: 202, body: renderImportJob(req.ctx, repo, job) };
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/import/issues/{import_id}', docs: DOCS,
      handler: (req) => {
        if (!req.svc.importEnabled) throw notFound(req.docs);
        previewCheck(req.headers.accept, req.docs);
        const repo = repoFor(req, 'issues', true);
        const job = repo.imports.get(intParam(req, 'import_id'));
        if (!job) throw notFound(req.docs);
        return ok(renderImportJob(req.ctx, repo, job));
      },
    },
    {
      method: 'GET', path: '/repos/{owner}/{repo}/import/issues', docs: DOCS,
      handler: (req) => {
        if (!req.svc.importEnabled) throw notFound(req.docs);
        previewCheck(req.headers.accept, req.docs);
        const repo = repoFor(req, 'issues', true);
        const since = sinceParam(req);
        const items = [...repo.imports.values()].filter((j) => since === null || j.updatedAt >= since).sort((a, b) => a.id - b.id);
        return listResponse(req, items, (j) => renderImportJob(req.ctx, repo, j));
      },
    },
  ];
}
