/**
 * In-memory model of a GitHub organisation: users, orgs, repositories and everything inside them.
 * Issues and pull requests share one number sequence per repository (a pull request is an issue
 * with a `pr` part), as on GitHub. Times are epoch milliseconds, rendered to whole seconds.
 * Git data lives on disk (git.ts); the refs seen by the REST view are cached here.
 */

export type AuthorAssociation = 'OWNER' | 'MEMBER' | 'COLLABORATOR' | 'CONTRIBUTOR' | 'NONE';
export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';
export const REACTION_CONTENTS: readonly ReactionContent[] = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

export class Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  /** Move the emulator's clock forward (timestamps of later changes, token expiry, windows). */
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface User {
  id: number;
  nodeId: string;
  login: string;
  type: 'User' | 'Organization' | 'Bot';
  name: string | null;
  email: string | null;
  siteAdmin: boolean;
  createdAt: number;
}

export interface Org {
  id: number;
  nodeId: string;
  login: string;
  name: string | null;
  description: string | null;
  createdAt: number;
  updatedAt: number;
  /** member login -> role */
  members: Map<string, 'admin' | 'member'>;
}

export interface Reaction {
  id: number;
  nodeId: string;
  user: string;
  content: ReactionContent;
  createdAt: number;
}

export interface Label {
  id: number;
  nodeId: string;
  name: string;
  color: string;
  description: string | null;
  isDefault: boolean;
}

export interface Milestone {
  id: number;
  nodeId: string;
  number: number;
  title: string;
  description: string | null;
  state: 'open' | 'closed';
  creator: string;
  dueOn: number | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export interface PullPart {
  id: number;
  nodeId: string;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  draft: boolean;
  merged: boolean;
  mergedAt: number | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  maintainerCanModify: boolean;
  commits: number;
  additions: number;
  deletions: number;
  changedFiles: number;
}

export interface Issue {
  id: number;
  nodeId: string;
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'reopened' | 'not_planned' | 'duplicate' | null;
  labels: number[];
  assignees: string[];
  milestone: number | null;
  locked: boolean;
  activeLockReason: string | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  closedBy: string | null;
  deletedAt: number | null;
  reactions: Reaction[];
  pr: PullPart | null;
}

export interface IssueComment {
  id: number;
  nodeId: string;
  issueNumber: number;
  user: string;
  body: string;
  createdAt: number;
  updatedAt: number;
  reactions: Reaction[];
}

export interface Review {
  id: number;
  nodeId: string;
  prNumber: number;
  user: string;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  commitId: string | null;
  submittedAt: number | null;
}

export interface ReviewComment {
  id: number;
  nodeId: string;
  prNumber: number;
  reviewId: number | null;
  user: string;
  body: string;
  path: string;
  diffHunk: string;
  position: number | null;
  originalPosition: number | null;
  line: number | null;
  originalLine: number | null;
  side: 'LEFT' | 'RIGHT';
  startLine: number | null;
  startSide: 'LEFT' | 'RIGHT' | null;
  subjectType: 'line' | 'file';
  commitId: string;
  originalCommitId: string;
  inReplyToId: number | null;
  createdAt: number;
  updatedAt: number;
  reactions: Reaction[];
}

export interface Asset {
  id: number;
  nodeId: string;
  releaseId: number;
  name: string;
  label: string | null;
  contentType: string;
  size: number;
  digest: string;
  uploader: string;
  downloadCount: number;
  createdAt: number;
  updatedAt: number;
  /** file on disk holding the bytes */
  file: string;
}

export interface Release {
  id: number;
  nodeId: string;
  tagName: string;
  targetCommitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  author: string;
  createdAt: number;
  publishedAt: number | null;
  updatedAt: number;
  assets: number[];
  reactions: Reaction[];
}

export interface IssueEvent {
  id: number;
  nodeId: string;
  issueNumber: number;
  actor: string;
  event: string;
  commitId: string | null;
  createdAt: number;
  label?: { name: string; color: string };
  milestone?: { title: string };
  rename?: { from: string; to: string };
  assignee?: string;
}

export interface ImportJob {
  id: number;
  status: 'pending' | 'imported' | 'failed';
  createdAt: number;
  updatedAt: number;
  issueNumber: number | null;
  errors: { location: string; resource: string; field: string | null; value: unknown; code: string }[];
}

export interface GitRefs {
  /** branch name -> commit sha */
  branches: Map<string, string>;
  /** tag name -> sha the ref points at (tag object or commit) */
  tags: Map<string, string>;
  /** tag name -> commit sha it peels to */
  tagCommits: Map<string, string>;
  /** HEAD's branch name (may not exist yet in an empty repository) */
  head: string;
}

export interface Repo {
  id: number;
  nodeId: string;
  owner: string;
  name: string;
  description: string | null;
  homepage: string | null;
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  hasIssues: boolean;
  hasProjects: boolean;
  hasWiki: boolean;
  hasDiscussions: boolean;
  archived: boolean;
  isTemplate: boolean;
  createdAt: number;
  updatedAt: number;
  pushedAt: number;
  /** size in KiB, from the pack files */
  sizeKb: number;
  nextNumber: number;
  nextMilestone: number;
  issues: Map<number, Issue>;
  labels: Map<number, Label>;
  milestones: Map<number, Milestone>;
  comments: Map<number, IssueComment>;
  reviews: Map<number, Review>;
  reviewComments: Map<number, ReviewComment>;
  releases: Map<number, Release>;
  assets: Map<number, Asset>;
  events: IssueEvent[];
  imports: Map<number, ImportJob>;
  git: GitRefs;
  wiki: GitRefs;
  wikiExists: boolean;
}

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: number;
  permissions: Record<string, string>;
  repositoryIds: number[] | null;
}

export interface App {
  id: number;
  slug: string;
  name: string;
  owner: string;
  publicKeyPem: string;
  installations: Map<number, { id: number; account: string; permissions: Record<string, string> }>;
}

/** Identity a request acts as. */
export type Identity =
  | { kind: 'user'; user: User; token: string; rateKey: string }
  | { kind: 'installation'; installationId: number; bot: User; token: string; rateKey: string; permissions: Record<string, string>; repositoryIds: number[] | null }
  | { kind: 'app'; appId: number; rateKey: string }
  | { kind: 'anonymous'; rateKey: string };

const ID_BASES = {
  user: 1_000,
  org: 9_000_000,
  repo: 100_000_000,
  issue: 1_000_000_000,
  pull: 2_000_000_000,
  comment: 3_000_000_000,
  label: 4_000_000_000,
  milestone: 5_000_000_000,
  release: 6_000_000_000,
  asset: 7_000_000_000,
  review: 8_000_000_000,
  reviewComment: 9_000_000_000,
  reaction: 10_000_000_000,
  event: 11_000_000_000,
  import: 0,
} as const;
export type IdKind = keyof typeof ID_BASES;

const NODE_PREFIX: Record<IdKind, string> = {
  user: 'U', org: 'O', repo: 'R', issue: 'I', pull: 'PR', comment: 'IC', label: 'LA', milestone: 'MI',
  release: 'RE', asset: 'RA', review: 'PRR', reviewComment: 'PRRC', reaction: 'REA', event: 'E', import: 'IMP',
};

export function nodeId(kind: IdKind, id: number): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(id));
  return `${NODE_PREFIX[kind]}_kwDO${buf.toString('base64url')}`;
}

export class GithubState {
  readonly clock: Clock;
  readonly users = new Map<string, User>();
  readonly orgs = new Map<string, Org>();
  readonly repos = new Map<string, Repo>();
  readonly reposById = new Map<number, Repo>();
  /** personal access token -> login */
  readonly tokens = new Map<string, string>();
  readonly installationTokens = new Map<string, InstallationToken>();
  readonly apps = new Map<number, App>();
  private readonly counters = new Map<IdKind, number>();

  constructor(clock: Clock = new Clock()) {
    this.clock = clock;
  }

  now(): number {
    return this.clock.now();
  }

  nextId(kind: IdKind): number {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return ID_BASES[kind] + n;
  }

  addUser(login: string, opts: Partial<Pick<User, 'type' | 'name' | 'email' | 'createdAt' | 'siteAdmin'>> = {}): User {
    const existing = this.users.get(login.toLowerCase());
    if (existing) return existing;
    const id = this.nextId('user');
    const user: User = {
      id,
      nodeId: nodeId('user', id),
      login,
      type: opts.type ?? 'User',
      name: opts.name ?? null,
      email: opts.email ?? null,
      siteAdmin: opts.siteAdmin ?? false,
      createdAt: opts.createdAt ?? this.now(),
    };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  user(login: string): User | undefined {
    return this.users.get(login.toLowerCase());
  }

  addOrg(login: string, opts: { name?: string; description?: string; createdAt?: number } = {}): Org {
    const existing = this.orgs.get(login.toLowerCase());
    if (existing) return existing;
    const id = this.nextId('org');
    const at = opts.createdAt ?? this.now();
    const org: Org = {
      id,
      nodeId: nodeId('org', id),
      login,
      name: opts.name ?? login,
      description: opts.description ?? null,
      createdAt: at,
      updatedAt: at,
      members: new Map(),
    };
    this.orgs.set(login.toLowerCase(), org);
    return org;
  }

  org(login: string): Org | undefined {
    return this.orgs.get(login.toLowerCase());
  }

  addToken(token: string, login: string): void {
    this.tokens.set(token, login);
  }

  createRepo(
    owner: string,
    name: string,
    opts: Partial<Pick<Repo, 'description' | 'homepage' | 'private' | 'hasIssues' | 'hasWiki' | 'hasProjects' | 'hasDiscussions' | 'isTemplate' | 'createdAt'>> & {
      visibility?: Repo['visibility'];
      defaultBranch?: string;
    } = {},
  ): Repo {
    const key = `${owner}/${name}`.toLowerCase();
    if (this.repos.has(key)) throw new Error(`repository ${owner}/${name} already exists`);
    const id = this.nextId('repo');
    const at = opts.createdAt ?? this.now();
    const priv = opts.visibility ? opts.visibility !== 'public' : (opts.private ?? false);
    const emptyRefs = (head: string): GitRefs => ({ branches: new Map(), tags: new Map(), tagCommits: new Map(), head });
    const repo: Repo = {
      id,
      nodeId: nodeId('repo', id),
      owner,
      name,
      description: opts.description ?? null,
      homepage: opts.homepage ?? null,
      private: priv,
      visibility: opts.visibility ?? (priv ? 'private' : 'public'),
      hasIssues: opts.hasIssues ?? true,
      hasProjects: opts.hasProjects ?? true,
      hasWiki: opts.hasWiki ?? true,
      hasDiscussions: opts.hasDiscussions ?? false,
      archived: false,
      isTemplate: opts.isTemplate ?? false,
      createdAt: at,
      updatedAt: at,
      pushedAt: at,
      sizeKb: 0,
      nextNumber: 1,
      nextMilestone: 1,
      issues: new Map(),
      labels: new Map(),
      milestones: new Map(),
      comments: new Map(),
      reviews: new Map(),
      reviewComments: new Map(),
      releases: new Map(),
      assets: new Map(),
      events: [],
      imports: new Map(),
      git: emptyRefs(opts.defaultBranch ?? 'main'),
      wiki: emptyRefs('master'),
      wikiExists: false,
    };
    this.repos.set(key, repo);
    this.reposById.set(id, repo);
    return repo;
  }

  repo(owner: string, name: string): Repo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** Accepts "owner/name". */
  repoByFullName(fullName: string): Repo | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  renameRepo(repo: Repo, newName: string): void {
    this.repos.delete(`${repo.owner}/${repo.name}`.toLowerCase());
    repo.name = newName;
    this.repos.set(`${repo.owner}/${repo.name}`.toLowerCase(), repo);
  }

  reposOf(owner: string): Repo[] {
    const o = owner.toLowerCase();
    return [...this.repos.values()].filter((r) => r.owner.toLowerCase() === o);
  }

  // ---- labels ----
  labelByName(repo: Repo, name: string): Label | undefined {
    const n = name.toLowerCase();
    for (const l of repo.labels.values()) if (l.name.toLowerCase() === n) return l;
    return undefined;
  }

  addLabel(repo: Repo, name: string, color = 'ededed', description: string | null = null, isDefault = false): Label {
    const existing = this.labelByName(repo, name);
    if (existing) return existing;
    const id = this.nextId('label');
    const label: Label = { id, nodeId: nodeId('label', id), name, color: color.replace(/^#/, '').toLowerCase(), description, isDefault };
    repo.labels.set(id, label);
    return label;
  }

  /** The labels GitHub creates in every new repository. */
  addDefaultLabels(repo: Repo): void {
    const defaults: [string, string, string][] = [
      ['bug', 'd73a4a', "Something isn't working"],
      ['documentation', '0075ca', 'Improvements or additions to documentation'],
      ['duplicate', 'cfd3d7', 'This issue or pull request already exists'],
      ['enhancement', 'a2eeef', 'New feature or request'],
      ['good first issue', '7057ff', 'Good for newcomers'],
      ['help wanted', '008672', 'Extra attention is needed'],
      ['invalid', 'e4e669', "This doesn't seem right"],
      ['question', 'd876e3', 'Further information is requested'],
      ['wontfix', 'ffffff', 'This will not be worked on'],
    ];
    for (const [n, c, d] of defaults) this.addLabel(repo, n, c, d, true);
  }

  deleteLabel(repo: Repo, label: Label): void {
    repo.labels.delete(label.id);
    for (const issue of repo.issues.values()) issue.labels = issue.labels.filter((id) => id !== label.id);
  }

  // ---- milestones ----
  addMilestone(repo: Repo, title: string, opts: { description?: string | null; state?: 'open' | 'closed'; dueOn?: number | null; creator: string; at?: number }): Milestone {
    const id = this.nextId('milestone');
    const at = opts.at ?? this.now();
    const ms: Milestone = {
      id,
      nodeId: nodeId('milestone', id),
      number: repo.nextMilestone++,
      title,
      description: opts.description ?? null,
      state: opts.state ?? 'open',
      creator: opts.creator,
      dueOn: opts.dueOn ?? null,
      createdAt: at,
      updatedAt: at,
      closedAt: opts.state === 'closed' ? at : null,
    };
    repo.milestones.set(ms.number, ms);
    return ms;
  }

  milestoneCounts(repo: Repo, number: number): { open: number; closed: number } {
    let open = 0;
    let closed = 0;
    for (const i of repo.issues.values()) {
      if (i.deletedAt !== null || i.milestone !== number) continue;
      if (i.state === 'open') open++;
      else closed++;
    }
    return { open, closed };
  }

  // ---- issues ----
  createIssue(
    repo: Repo,
    fields: { title: string; body?: string | null; user: string; labels?: number[]; assignees?: string[]; milestone?: number | null; at?: number; updatedAt?: number; closedAt?: number | null; stateReason?: Issue['stateReason'] },
  ): Issue {
    const id = this.nextId('issue');
    const at = fields.at ?? this.now();
    const closedAt = fields.closedAt ?? null;
    const issue: Issue = {
      id,
      nodeId: nodeId('issue', id),
      number: repo.nextNumber++,
      title: fields.title,
      body: fields.body ?? null,
      user: fields.user,
      state: closedAt !== null ? 'closed' : 'open',
      stateReason: closedAt !== null ? (fields.stateReason ?? 'completed') : null,
      labels: fields.labels ?? [],
      assignees: fields.assignees ?? [],
      milestone: fields.milestone ?? null,
      locked: false,
      activeLockReason: null,
      createdAt: at,
      updatedAt: fields.updatedAt ?? closedAt ?? at,
      closedAt,
      closedBy: closedAt !== null ? fields.user : null,
      deletedAt: null,
      reactions: [],
      pr: null,
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  /** Live issues and pull requests (deleted issues excluded). */
  liveIssues(repo: Repo): Issue[] {
    return [...repo.issues.values()].filter((i) => i.deletedAt === null);
  }

  commentCount(repo: Repo, number: number): number {
    let n = 0;
    for (const c of repo.comments.values()) if (c.issueNumber === number) n++;
    return n;
  }

  reviewCommentCount(repo: Repo, number: number): number {
    let n = 0;
    for (const c of repo.reviewComments.values()) if (c.prNumber === number) n++;
    return n;
  }

  addComment(repo: Repo, issue: Issue, user: string, body: string, at?: number, touchIssue = true): IssueComment {
    const id = this.nextId('comment');
    const t = at ?? this.now();
    const c: IssueComment = { id, nodeId: nodeId('comment', id), issueNumber: issue.number, user, body, createdAt: t, updatedAt: t, reactions: [] };
    repo.comments.set(id, c);
    if (touchIssue && t > issue.updatedAt) issue.updatedAt = t;
    return c;
  }

  addReaction(list: Reaction[], user: string, content: ReactionContent, at?: number): { reaction: Reaction; created: boolean } {
    const existing = list.find((r) => r.user.toLowerCase() === user.toLowerCase() && r.content === content);
    if (existing) return { reaction: existing, created: false };
    const id = this.nextId('reaction');
    const reaction: Reaction = { id, nodeId: nodeId('reaction', id), user, content, createdAt: at ?? this.now() };
    list.push(reaction);
    return { reaction, created: true };
  }

  addEvent(repo: Repo, issue: Issue, actor: string, event: string, extra: Partial<IssueEvent> = {}, at?: number): IssueEvent {
    const id = this.nextId('event');
    const ev: IssueEvent = { id, nodeId: nodeId('event', id), issueNumber: issue.number, actor, event, commitId: null, createdAt: at ?? this.now(), ...extra };
    repo.events.push(ev);
    return ev;
  }

  /** Close or reopen, with the timestamps and events GitHub records. */
  setIssueState(repo: Repo, issue: Issue, state: 'open' | 'closed', actor: string, reason?: Issue['stateReason'], at?: number): void {
    if (issue.state === state && (state === 'open' || reason === undefined || reason === issue.stateReason)) return;
    const t = at ?? this.now();
    if (state === 'closed') {
      const wasClosed = issue.state === 'closed';
      issue.state = 'closed';
      issue.stateReason = reason ?? 'completed';
      if (!wasClosed) {
        issue.closedAt = t;
        issue.closedBy = actor;
        this.addEvent(repo, issue, actor, 'closed', {}, t);
      }
    } else {
      issue.state = 'open';
      issue.stateReason = 'reopened';
      issue.closedAt = null;
      issue.closedBy = null;
      this.addEvent(repo, issue, actor, 'reopened', {}, t);
    }
    issue.updatedAt = t;
  }

  // ---- releases ----
  releaseByTag(repo: Repo, tag: string): Release | undefined {
    for (const r of repo.releases.values()) if (r.tagName === tag) return r;
    return undefined;
  }

  /** Find an asset anywhere (asset ids are global on GitHub). */
  assetById(id: number): { repo: Repo; asset: Asset } | undefined {
    for (const repo of this.repos.values()) {
      const asset = repo.assets.get(id);
      if (asset) return { repo, asset };
    }
    return undefined;
  }

  isOrgMember(org: string, login: string): boolean {
    return this.org(org)?.members.has(login.toLowerCase()) ?? false;
  }

  authorAssociation(repo: Repo, login: string): AuthorAssociation {
    if (login.toLowerCase() === repo.owner.toLowerCase()) return 'OWNER';
    if (this.isOrgMember(repo.owner, login)) return 'MEMBER';
    return 'NONE';
  }
}
