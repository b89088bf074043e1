/**
 * Full GitHub REST response objects from the state, with every field the OpenAPI description marks
 * `required` (checked at compile time against @octokit/openapi-types and in the tests with ajv).
 */
import type { components } from '@octokit/openapi-types';
import type {
  Asset, GithubState, Issue, IssueComment, IssueEvent, Label, Milestone, Org, Reaction, Release, Repo, Review, ReviewComment, User,
} from './state.js';
import { REACTION_CONTENTS } from './state.js';

type S = components['schemas'];

export interface RenderCtx {
  state: GithubState;
  /** REST base, e.g. http://127.0.0.1:PORT/api/v3 */
  api: string;
  /** web base (html_url, git, downloads), e.g. http://127.0.0.1:PORT */
  web: string;
  /** uploads base, e.g. http://127.0.0.1:PORT/api/uploads */
  uploads: string;
  /** which body representations the Accept header asked for */
  bodyFormats?: { raw: boolean; text: boolean; html: boolean };
}

/** ISO 8601 in whole seconds, as GitHub writes timestamps. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

const enc = encodeURIComponent;

export function simpleUser(ctx: RenderCtx, u: User): S['simple-user'] {
  const api = `${ctx.api}/users/${u.login}`;
  return {
    login: u.login,
    id: u.id,
    node_id: u.nodeId,
    avatar_url: `${ctx.web}/avatars/u/${u.id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `${ctx.web}/${u.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: u.type,
    user_view_type: 'public',
    site_admin: u.siteAdmin,
  };
}

/** Users that were referenced but never registered render as ghosts, as GitHub does for deleted accounts. */
export function userByLogin(ctx: RenderCtx, login: string): S['simple-user'] {
  const u = ctx.state.user(login) ?? ctx.state.user('ghost') ?? ctx.state.addUser('ghost');
  return simpleUser(ctx, u);
}

function bodyFields(ctx: RenderCtx, body: string | null): { body?: string | null; body_text?: string; body_html?: string } {
  const f = ctx.bodyFormats ?? { raw: true, text: false, html: false };
  const out: { body?: string | null; body_text?: string; body_html?: string } = {};
  if (f.raw) out.body = body;
  if (f.text) out.body_text = body ?? '';
  if (f.html) out.body_html = body === null ? '' : renderHtml(body);
  return out;
}

function renderHtml(md: string): string {
  const esc = md.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc
    .split(/\n{2,}/)
    .map((p) => `<p dir="auto">${p.replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');
}

export function reactionRollup(url: string, list: Reaction[]): S['reaction-rollup'] {
  const counts: Record<string, number> = {};
  for (const c of REACTION_CONTENTS) counts[c] = 0;
  for (const r of list) counts[r.content] = (counts[r.content] ?? 0) + 1;
  return {
    url,
    total_count: list.length,
    '+1': counts['+1'] ?? 0,
    '-1': counts['-1'] ?? 0,
    laugh: counts.laugh ?? 0,
    confused: counts.confused ?? 0,
    heart: counts.heart ?? 0,
    hooray: counts.hooray ?? 0,
    eyes: counts.eyes ?? 0,
    rocket: counts.rocket ?? 0,
  };
}

export function reaction(ctx: RenderCtx, r: Reaction): S['reaction'] {
  return { id: r.id, node_id: r.nodeId, user: userByLogin(ctx, r.user), content: r.content, created_at: iso(r.createdAt) };
}

const repoApi = (ctx: RenderCtx, repo: Repo): string => `${ctx.api}/repos/${repo.owner}/${repo.name}`;
const repoWeb = (ctx: RenderCtx, repo: Repo): string => `${ctx.web}/${repo.owner}/${repo.name}`;

function ownerUser(ctx: RenderCtx, repo: Repo): S['simple-user'] {
  const org = ctx.state.org(repo.owner);
  if (org) return orgAsUser(ctx, org);
  return userByLogin(ctx, repo.owner);
}

export function orgAsUser(ctx: RenderCtx, org: Org): S['simple-user'] {
  const api = `${ctx.api}/users/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: org.nodeId,
    avatar_url: `${ctx.web}/avatars/u/${org.id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `${ctx.web}/${org.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: 'Organization',
    user_view_type: 'public',
    site_admin: false,
  };
}

function repoUrls(ctx: RenderCtx, repo: Repo) {
  const a = repoApi(ctx, repo);
  return {
    url: a,
    archive_url: `${a}/{archive_format}{/ref}`,
    assignees_url: `${a}/assignees{/user}`,
    blobs_url: `${a}/git/blobs{/sha}`,
    branches_url: `${a}/branches{/branch}`,
    collaborators_url: `${a}/collaborators{/collaborator}`,
    comments_url: `${a}/comments{/number}`,
    commits_url: `${a}/commits{/sha}`,
    compare_url: `${a}/compare/{base}...{head}`,
    contents_url: `${a}/contents/{+path}`,
    contributors_url: `${a}/contributors`,
    deployments_url: `${a}/deployments`,
    downloads_url: `${a}/downloads`,
    events_url: `${a}/events`,
    forks_url: `${a}/forks`,
    git_commits_url: `${a}/git/commits{/sha}`,
    git_refs_url: `${a}/git/refs{/sha}`,
    git_tags_url: `${a}/git/tags{/sha}`,
    issue_comment_url: `${a}/issues/comments{/number}`,
    issue_events_url: `${a}/issues/events{/number}`,
    issues_url: `${a}/issues{/number}`,
    keys_url: `${a}/keys{/key_id}`,
    labels_url: `${a}/labels{/name}`,
    languages_url: `${a}/languages`,
    merges_url: `${a}/merges`,
    milestones_url: `${a}/milestones{/number}`,
    notifications_url: `${a}/notifications{?since,all,participating}`,
    pulls_url: `${a}/pulls{/number}`,
    releases_url: `${a}/releases{/id}`,
    stargazers_url: `${a}/stargazers`,
    statuses_url: `${a}/statuses/{sha}`,
    subscribers_url: `${a}/subscribers`,
    subscription_url: `${a}/subscription`,
    tags_url: `${a}/tags`,
    teams_url: `${a}/teams`,
    trees_url: `${a}/git/trees{/sha}`,
    hooks_url: `${a}/hooks`,
  };
}

export function openIssueCount(ctx: RenderCtx, repo: Repo): number {
  let n = 0;
  for (const i of repo.issues.values()) if (i.deletedAt === null && i.state === 'open') n++;
  return n;
}

/** The "Repository" shape (used inside pull request head/base and installation tokens). */
export function repository(ctx: RenderCtx, repo: Repo, permissions?: { admin: boolean; push: boolean; pull: boolean }): S['repository'] {
  const web = repoWeb(ctx, repo);
  const host = new URL(ctx.web).host;
  const open = openIssueCount(ctx, repo);
  return {
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    license: null,
    forks: 0,
    ...(permissions ? { permissions: { ...permissions, maintain: permissions.admin, triage: permissions.push } } : {}),
    owner: ownerUser(ctx, repo),
    private: repo.private,
    html_url: web,
    description: repo.description,
    fork: false,
    ...repoUrls(ctx, repo),
    git_url: `git://${host}/${repo.owner}/${repo.name}.git`,
    ssh_url: `git@${host}:${repo.owner}/${repo.name}.git`,
    clone_url: `${web}.git`,
    mirror_url: null,
    svn_url: web,
    homepage: repo.homepage,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: repo.sizeKb,
    default_branch: repo.git.head,
    open_issues_count: open,
    is_template: repo.isTemplate,
    topics: [],
    has_issues: repo.hasIssues,
    has_projects: repo.hasProjects,
    has_wiki: repo.hasWiki,
    has_pages: false,
    has_downloads: true,
    has_discussions: repo.hasDiscussions,
    archived: repo.archived,
    disabled: false,
    visibility: repo.visibility,
    pushed_at: iso(repo.pushedAt),
    created_at: iso(repo.createdAt),
    updated_at: iso(repo.updatedAt),
    allow_rebase_merge: true,
    allow_squash_merge: true,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
    allow_merge_commit: true,
    allow_forking: true,
    web_commit_signoff_required: false,
    open_issues: open,
    watchers: 0,
  };
}

export function minimalRepository(ctx: RenderCtx, repo: Repo, permissions?: { admin: boolean; push: boolean; pull: boolean }): S['minimal-repository'] {
  const r = repository(ctx, repo, permissions);
  return { ...r, license: null };
}

export function fullRepository(ctx: RenderCtx, repo: Repo, permissions?: { admin: boolean; push: boolean; pull: boolean }): S['full-repository'] {
  const r = repository(ctx, repo, permissions);
  const org = ctx.state.org(repo.owner);
  return {
    ...r,
    pushed_at: iso(repo.pushedAt),
    created_at: iso(repo.createdAt),
    updated_at: iso(repo.updatedAt),
    subscribers_count: 0,
    network_count: 0,
    license: null,
    ...(org ? { organization: orgAsUser(ctx, org) } : {}),
    temp_clone_token: '',
    security_and_analysis: null,
  } as S['full-repository'];
}

export function label(ctx: RenderCtx, repo: Repo, l: Label): S['label'] {
  return {
    id: l.id,
    node_id: l.nodeId,
    url: `${repoApi(ctx, repo)}/labels/${enc(l.name)}`,
    name: l.name,
    color: l.color,
    default: l.isDefault,
    description: l.description,
  };
}

export function milestone(ctx: RenderCtx, repo: Repo, m: Milestone): S['milestone'] {
  const a = `${repoApi(ctx, repo)}/milestones/${m.number}`;
  const counts = ctx.state.milestoneCounts(repo, m.number);
  return {
    url: a,
    html_url: `${repoWeb(ctx, repo)}/milestone/${m.number}`,
    labels_url: `${a}/labels`,
    id: m.id,
    node_id: m.nodeId,
    number: m.number,
    title: m.title,
    description: m.description,
    creator: userByLogin(ctx, m.creator),
    open_issues: counts.open,
    closed_issues: counts.closed,
    state: m.state,
    created_at: iso(m.createdAt),
    updated_at: iso(m.updatedAt),
    due_on: isoOrNull(m.dueOn),
    closed_at: isoOrNull(m.closedAt),
  };
}

function issueLabels(ctx: RenderCtx, repo: Repo, issue: Issue): S['label'][] {
  const out: S['label'][] = [];
  for (const id of issue.labels) {
    const l = repo.labels.get(id);
    if (l) out.push(label(ctx, repo, l));
  }
  return out;
}

export function issue(ctx: RenderCtx, repo: Repo, i: Issue): S['issue'] {
  const a = `${repoApi(ctx, repo)}/issues/${i.number}`;
  const web = `${repoWeb(ctx, repo)}/${i.pr ? 'pull' : 'issues'}/${i.number}`;
  const ms = i.milestone !== null ? repo.milestones.get(i.milestone) : undefined;
  const assignees = i.assignees.map((l) => userByLogin(ctx, l));
  const out: S['issue'] = {
    url: a,
    repository_url: repoApi(ctx, repo),
    labels_url: `${a}/labels{/name}`,
    comments_url: `${a}/comments`,
    events_url: `${a}/events`,
    html_url: web,
    id: i.id,
    node_id: i.nodeId,
    number: i.number,
    title: i.title,
    user: userByLogin(ctx, i.user),
    labels: issueLabels(ctx, repo, i),
    state: i.state,
    locked: i.locked,
    assignee: assignees[0] ?? null,
    assignees,
    milestone: ms ? milestone(ctx, repo, ms) : null,
    comments: ctx.state.commentCount(repo, i.number),
    created_at: iso(i.createdAt),
    updated_at: iso(i.updatedAt),
    closed_at: isoOrNull(i.closedAt),
    author_association: ctx.state.authorAssociation(repo, i.user),
    type: null,
    active_lock_reason: i.activeLockReason,
    sub_issues_summary: { total: 0, completed: 0, percent_completed: 0 },
    ...bodyFields(ctx, i.body),
    closed_by: i.closedBy ? userByLogin(ctx, i.closedBy) : null,
    reactions: reactionRollup(`${a}/reactions`, i.reactions),
    timeline_url: `${a}/timeline`,
    performed_via_github_app: null,
    state_reason: i.stateReason,
  };
  if (i.pr) {
    const p = `${repoApi(ctx, repo)}/pulls/${i.number}`;
    out.draft = i.pr.draft;
    out.pull_request = {
      url: p,
      html_url: `${repoWeb(ctx, repo)}/pull/${i.number}`,
      diff_url: `${repoWeb(ctx, repo)}/pull/${i.number}.diff`,
      patch_url: `${repoWeb(ctx, repo)}/pull/${i.number}.patch`,
      merged_at: isoOrNull(i.pr.mergedAt),
    };
  }
  return out;
}

export function issueComment(ctx: RenderCtx, repo: Repo, c: IssueComment): S['issue-comment'] {
  const a = `${repoApi(ctx, repo)}/issues/comments/${c.id}`;
  const issueRec = repo.issues.get(c.issueNumber);
  const kind = issueRec?.pr ? 'pull' : 'issues';
  return {
    url: a,
    html_url: `${repoWeb(ctx, repo)}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${repoApi(ctx, repo)}/issues/${c.issueNumber}`,
    id: c.id,
    node_id: c.nodeId,
    user: userByLogin(ctx, c.user),
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    author_association: ctx.state.authorAssociation(repo, c.user),
    ...(bodyFields(ctx, c.body) as { body?: string; body_text?: string; body_html?: string }),
    reactions: reactionRollup(`${a}/reactions`, c.reactions),
    performed_via_github_app: null,
  };
}

function link(href: string): { href: string } {
  return { href };
}

function branchPart(ctx: RenderCtx, repo: Repo, ref: string, sha: string) {
  return {
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: ownerUser(ctx, repo),
    repo: repository(ctx, repo),
  };
}

export function pullSimple(ctx: RenderCtx, repo: Repo, i: Issue): S['pull-request-simple'] {
  const pr = i.pr;
  if (!pr) throw new Error(`#${i.number} is not a pull request`);
  const a = `${repoApi(ctx, repo)}/pulls/${i.number}`;
  const web = `${repoWeb(ctx, repo)}/pull/${i.number}`;
  const issueApi = `${repoApi(ctx, repo)}/issues/${i.number}`;
  const ms = i.milestone !== null ? repo.milestones.get(i.milestone) : undefined;
  const assignees = i.assignees.map((l) => userByLogin(ctx, l));
  const statuses = `${repoApi(ctx, repo)}/statuses/${pr.head.sha}`;
  return {
    url: a,
    id: pr.id,
    node_id: pr.nodeId,
    html_url: web,
    diff_url: `${web}.diff`,
    patch_url: `${web}.patch`,
    issue_url: issueApi,
    commits_url: `${a}/commits`,
    review_comments_url: `${a}/comments`,
    review_comment_url: `${repoApi(ctx, repo)}/pulls/comments{/number}`,
    comments_url: `${issueApi}/comments`,
    statuses_url: statuses,
    number: i.number,
    state: i.state,
    locked: i.locked,
    title: i.title,
    user: userByLogin(ctx, i.user),
    body: i.body,
    labels: issueLabels(ctx, repo, i).map((l) => ({ ...l, description: l.description ?? '' })) as S['pull-request-simple']['labels'],
    milestone: ms ? milestone(ctx, repo, ms) : null,
    active_lock_reason: i.activeLockReason,
    created_at: iso(i.createdAt),
    updated_at: iso(i.updatedAt),
    closed_at: isoOrNull(i.closedAt),
    merged_at: isoOrNull(pr.mergedAt),
    merge_commit_sha: pr.mergeCommitSha,
    assignee: assignees[0] ?? null,
    assignees,
    requested_reviewers: [],
    requested_teams: [],
    head: branchPart(ctx, repo, pr.head.ref, pr.head.sha),
    base: branchPart(ctx, repo, pr.base.ref, pr.base.sha),
    _links: {
      self: link(a),
      html: link(web),
      issue: link(issueApi),
      comments: link(`${issueApi}/comments`),
      review_comments: link(`${a}/comments`),
      review_comment: link(`${repoApi(ctx, repo)}/pulls/comments{/number}`),
      commits: link(`${a}/commits`),
      statuses: link(statuses),
    },
    author_association: ctx.state.authorAssociation(repo, i.user),
    auto_merge: null,
    draft: pr.draft,
  };
}

export function pull(ctx: RenderCtx, repo: Repo, i: Issue): S['pull-request'] {
  const simple = pullSimple(ctx, repo, i);
  const pr = i.pr;
  if (!pr) throw new Error(`#${i.number} is not a pull request`);
  const open = i.state === 'open';
  return {
    ...simple,
    state: i.state,
    user: userByLogin(ctx, i.user),
    head: branchPart(ctx, repo, pr.head.ref, pr.head.sha),
    base: branchPart(ctx, repo, pr.base.ref, pr.base.sha),
    labels: simple.labels as unknown as S['pull-request']['labels'],
    merged: pr.merged,
    mergeable: open ? true : null,
    rebaseable: open ? true : null,
    mergeable_state: open ? 'clean' : 'unknown',
    merged_by: pr.mergedBy ? userByLogin(ctx, pr.mergedBy) : null,
    comments: ctx.state.commentCount(repo, i.number),
    review_comments: ctx.state.reviewCommentCount(repo, i.number),
    maintainer_can_modify: pr.maintainerCanModify,
    commits: pr.commits,
    additions: pr.additions,
    deletions: pr.deletions,
    changed_files: pr.changedFiles,
  };
}

export function review(ctx: RenderCtx, repo: Repo, r: Review): S['pull-request-review'] {
  const pr = `${repoApi(ctx, repo)}/pulls/${r.prNumber}`;
  const html = `${repoWeb(ctx, repo)}/pull/${r.prNumber}#pullrequestreview-${r.id}`;
  return {
    id: r.id,
    node_id: r.nodeId,
    user: userByLogin(ctx, r.user),
    body: r.body,
    state: r.state,
    html_url: html,
    pull_request_url: pr,
    _links: { html: link(html), pull_request: link(pr) },
    ...(r.submittedAt !== null ? { submitted_at: iso(r.submittedAt) } : {}),
    commit_id: r.commitId,
    author_association: ctx.state.authorAssociation(repo, r.user),
  };
}

export function reviewComment(ctx: RenderCtx, repo: Repo, c: ReviewComment): S['pull-request-review-comment'] {
  const a = `${repoApi(ctx, repo)}/pulls/comments/${c.id}`;
  const pr = `${repoApi(ctx, repo)}/pulls/${c.prNumber}`;
  const html = `${repoWeb(ctx, repo)}/pull/${c.prNumber}#discussion_r${c.id}`;
  const out: S['pull-request-review-comment'] = {
    url: a,
    pull_request_review_id: c.reviewId,
    id: c.id,
    node_id: c.nodeId,
    diff_hunk: c.diffHunk,
    path: c.path,
    commit_id: c.commitId,
    original_commit_id: c.originalCommitId,
    user: userByLogin(ctx, c.user),
    body: c.body,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    html_url: html,
    pull_request_url: pr,
    author_association: ctx.state.authorAssociation(repo, c.user),
    _links: { self: link(a), html: link(html), pull_request: link(pr) },
    start_line: c.startLine,
    original_start_line: c.startLine,
    start_side: c.startSide,
    side: c.side,
    subject_type: c.subjectType,
    reactions: reactionRollup(`${a}/reactions`, c.reactions),
  };
  if (c.position !== null) out.position = c.position;
  if (c.originalPosition !== null) out.original_position = c.originalPosition;
  if (c.line !== null) out.line = c.line;
  if (c.originalLine !== null) out.original_line = c.originalLine;
  if (c.inReplyToId !== null) out.in_reply_to_id = c.inReplyToId;
  return out;
}

export function releaseAsset(ctx: RenderCtx, repo: Repo, rel: Release | undefined, a: Asset): S['release-asset'] {
  const tag = rel?.tagName ?? 'untagged';
  return {
    url: `${repoApi(ctx, repo)}/releases/assets/${a.id}`,
    browser_download_url: `${repoWeb(ctx, repo)}/releases/download/${enc(tag)}/${enc(a.name)}`,
    id: a.id,
    node_id: a.nodeId,
    name: a.name,
    label: a.label,
    state: 'uploaded',
    content_type: a.contentType,
    size: a.size,
    digest: a.digest,
    download_count: a.downloadCount,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
    uploader: userByLogin(ctx, a.uploader),
  };
}

export function release(ctx: RenderCtx, repo: Repo, r: Release): S['release'] {
  const a = `${repoApi(ctx, repo)}/releases/${r.id}`;
  const web = repoWeb(ctx, repo);
  const assets: S['release-asset'][] = [];
  for (const id of r.assets) {
    const asset = repo.assets.get(id);
    if (asset) assets.push(releaseAsset(ctx, repo, r, asset));
  }
  return {
    url: a,
    assets_url: `${a}/assets`,
    upload_url: `${ctx.uploads}/repos/${repo.owner}/${repo.name}/releases/${r.id}/assets{?name,label}`,
    html_url: r.draft ? `${web}/releases/tag/untagged-${r.id}` : `${web}/releases/tag/${enc(r.tagName)}`,
    id: r.id,
    author: userByLogin(ctx, r.author),
    node_id: r.nodeId,
    tag_name: r.tagName,
    target_commitish: r.targetCommitish,
    name: r.name,
    draft: r.draft,
    immutable: false,
    prerelease: r.prerelease,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    published_at: isoOrNull(r.publishedAt),
    assets,
    tarball_url: r.draft ? null : `${repoApi(ctx, repo)}/tarball/${enc(r.tagName)}`,
    zipball_url: r.draft ? null : `${repoApi(ctx, repo)}/zipball/${enc(r.tagName)}`,
    ...bodyFields(ctx, r.body),
    reactions: reactionRollup(`${a}/reactions`, r.reactions),
  };
}

export function issueEvent(ctx: RenderCtx, repo: Repo, e: IssueEvent): S['issue-event'] {
  const issueRec = repo.issues.get(e.issueNumber);
  const out: S['issue-event'] = {
    id: e.id,
    node_id: e.nodeId,
    url: `${repoApi(ctx, repo)}/issues/events/${e.id}`,
    actor: userByLogin(ctx, e.actor),
    event: e.event,
    commit_id: e.commitId,
    commit_url: e.commitId ? `${repoApi(ctx, repo)}/commits/${e.commitId}` : null,
    created_at: iso(e.createdAt),
    performed_via_github_app: null,
  };
  if (issueRec && issueRec.deletedAt === null) out.issue = issue(ctx, repo, issueRec);
  if (e.label) out.label = e.label;
  if (e.milestone) out.milestone = e.milestone;
  if (e.rename) out.rename = e.rename;
  if (e.assignee) out.assignee = userByLogin(ctx, e.assignee);
  return out;
}

export function organizationFull(ctx: RenderCtx, org: Org): S['organization-full'] {
  const api = `${ctx.api}/orgs/${org.login}`;
  const repos = ctx.state.reposOf(org.login);
  return {
    login: org.login,
    id: org.id,
    node_id: org.nodeId,
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${ctx.web}/avatars/u/${org.id}?v=4`,
    description: org.description,
    name: org.name ?? org.login,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: repos.filter((r) => !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    html_url: `${ctx.web}/${org.login}`,
    type: 'Organization',
    total_private_repos: repos.filter((r) => r.private).length,
    owned_private_repos: repos.filter((r) => r.private).length,
    created_at: iso(org.createdAt),
    updated_at: iso(org.updatedAt),
    archived_at: null,
  };
}

export function privateUser(ctx: RenderCtx, u: User): S['private-user'] {
  const base = simpleUser(ctx, u);
  const repos = [...ctx.state.repos.values()].filter((r) => r.owner.toLowerCase() === u.login.toLowerCase());
  return {
    ...base,
    name: u.name,
    company: null,
    blog: null,
    location: null,
    email: u.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: repos.filter((r) => !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: iso(u.createdAt),
    updated_at: iso(u.createdAt),
    private_gists: 0,
    total_private_repos: repos.filter((r) => r.private).length,
    owned_private_repos: repos.filter((r) => r.private).length,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

export function shortBranch(ctx: RenderCtx, repo: Repo, name: string, sha: string): S['short-branch'] {
  return { name, commit: { sha, url: `${repoApi(ctx, repo)}/commits/${sha}` }, protected: false };
}

export function gitRef(ctx: RenderCtx, repo: Repo, ref: string, sha: string, type: 'commit' | 'tag' = 'commit'): S['git-ref'] {
  return {
    ref,
    node_id: `REF_kwDO${Buffer.from(`${repo.id}:${ref}`).toString('base64url')}`,
    url: `${repoApi(ctx, repo)}/git/${ref}`,
    object: { type, sha, url: `${repoApi(ctx, repo)}/git/${type === 'tag' ? 'tags' : 'commits'}/${sha}` },
  };
}
