/**
 * Mutation helpers for incremental tests: change the emulated org the way users would, including
 * things the REST API cannot do (deleting an issue is GraphQL/web only; deleted issues vanish from
 * lists and answer 410 Gone).
 */
import { identOf, type RepoOps } from './ops.js';
import type { Asset, GithubState, Issue, IssueComment, Label, ReactionContent, Release, Repo, Review, ReviewComment } from './state.js';
import { nodeId } from './state.js';

export interface MutationApi {
  /** `name` or `owner/name` (owner defaults to the emulator's org). */
  repo(name: string): Repo;
  createRepo(name: string, opts?: { private?: boolean; description?: string; autoInit?: boolean; hasWiki?: boolean }): Promise<Repo>;
  createIssue(repo: string, f: { title: string; body?: string | null; user?: string; labels?: string[]; milestone?: number | null; assignees?: string[] }): Issue;
  editIssue(repo: string, number: number, f: { title?: string; body?: string | null; user?: string }): Issue;
  closeIssue(repo: string, number: number, reason?: 'completed' | 'not_planned' | 'duplicate', user?: string): Issue;
  reopenIssue(repo: string, number: number, user?: string): Issue;
  /** As the web UI / GraphQL deleteIssue does: gone from lists, GET answers 410. */
  deleteIssue(repo: string, number: number): void;
  lockIssue(repo: string, number: number, reason?: string): Issue;
  relabel(repo: string, number: number, labels: string[], user?: string): Issue;
  setMilestone(repo: string, number: number, milestone: number | null): Issue;
  addComment(repo: string, number: number, body: string, user?: string): IssueComment;
  editComment(repo: string, commentId: number, body: string): IssueComment;
  deleteComment(repo: string, commentId: number): void;
  addLabel(repo: string, name: string, color?: string, description?: string | null): Label;
  editLabel(repo: string, name: string, f: { newName?: string; color?: string; description?: string | null }): Label;
  deleteLabel(repo: string, name: string): void;
  addMilestone(repo: string, title: string, f?: { description?: string; dueOn?: number | null; state?: 'open' | 'closed' }): number;
  closeMilestone(repo: string, number: number): void;
  addReaction(repo: string, target: { issue: number } | { comment: number } | { reviewComment: number } | { release: number }, content: ReactionContent, user?: string): void;
  pushCommit(repo: string, c?: { branch?: string; message?: string; files?: { path: string; content: string | Buffer }[]; user?: string; from?: string }): Promise<string>;
  createBranch(repo: string, name: string, from?: string): Promise<string>;
  deleteBranch(repo: string, name: string): Promise<void>;
  createTag(repo: string, name: string, f?: { target?: string; message?: string; user?: string }): Promise<string>;
  deleteTag(repo: string, name: string): Promise<void>;
  setDefaultBranch(repo: string, branch: string): Promise<void>;
  openPull(repo: string, f: { head: string; base?: string; title: string; body?: string | null; user?: string; draft?: boolean }): Promise<Issue>;
  mergePull(repo: string, number: number, user?: string): Promise<string>;
  addReview(repo: string, number: number, f: { user?: string; state?: Review['state']; body?: string }): Review;
  addReviewComment(repo: string, number: number, f: { user?: string; body: string; path: string; line?: number; inReplyTo?: number }): ReviewComment;
  editReviewComment(repo: string, commentId: number, body: string): ReviewComment;
  deleteReviewComment(repo: string, commentId: number): void;
  createRelease(repo: string, f: { tag: string; name?: string | null; body?: string | null; draft?: boolean; prerelease?: boolean; target?: string; user?: string }): Promise<Release>;
  editRelease(repo: string, releaseId: number, f: { name?: string | null; body?: string | null; prerelease?: boolean }): Release;
  deleteRelease(repo: string, releaseId: number): Promise<void>;
  addAsset(repo: string, releaseId: number, name: string, data: Buffer, contentType?: string, user?: string): Promise<Asset>;
  deleteAsset(repo: string, assetId: number): Promise<void>;
  /** Write (or overwrite) a wiki page, creating the wiki repository when it does not exist yet. */
  editWiki(repo: string, page: string, content: string, user?: string): Promise<string>;
  /** Move the emulator clock forward (timestamps of later changes, token expiry, limit windows). */
  advanceClock(ms: number): void;
}

export function createMutationApi(ops: RepoOps, org: string, defaultUser: () => string): MutationApi {
  const st: GithubState = ops.state;
  const repoOf = (name: string): Repo => {
    const r = name.includes('/') ? st.repoByFullName(name) : st.repo(org, name);
    if (!r) throw new Error(`mutate: repository ${name} does not exist in the emulator`);
    return r;
  };
  const issueOf = (repo: Repo, n: number): Issue => {
    const i = repo.issues.get(n);
    if (!i || i.deletedAt !== null) throw new Error(`mutate: ${repo.owner}/${repo.name}#${n} does not exist`);
    return i;
  };
  const prOf = (repo: Repo, n: number): Issue => {
    const i = issueOf(repo, n);
    if (!i.pr) throw new Error(`mutate: ${repo.owner}/${repo.name}#${n} is not a pull request`);
    return i;
  };
  const who = (u?: string) => u ?? defaultUser();
  const labelIds = (repo: Repo, names: string[]) => names.map((n) => (st.labelByName(repo, n) ?? st.addLabel(repo, n)).id);

  return {
    repo: repoOf,
    async createRepo(name, o = {}) {
      return ops.createRepo(org, name, { private: o.private ?? true, description: o.description ?? null, autoInit: o.autoInit ?? true, hasWiki: o.hasWiki ?? true, creator: defaultUser() });
    },
    createIssue(repo, f) {
      const r = repoOf(repo);
      return st.createIssue(r, { title: f.title, body: f.body ?? null, user: who(f.user), labels: labelIds(r, f.labels ?? []), milestone: f.milestone ?? null, assignees: f.assignees ?? [] });
    },
    editIssue(repo, number, f) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      const now = st.now();
      if (f.title !== undefined && f.title !== i.title) {
        st.addEvent(r, i, who(f.user), 'renamed', { rename: { from: i.title, to: f.title } }, now);
        i.title = f.title;
      }
      if (f.body !== undefined) i.body = f.body;
      i.updatedAt = now;
      return i;
    },
    closeIssue(repo, number, reason = 'completed', user) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      st.setIssueState(r, i, 'closed', who(user), reason);
      return i;
    },
    reopenIssue(repo, number, user) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      st.setIssueState(r, i, 'open', who(user));
      return i;
    },
    deleteIssue(repo, number) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      if (i.pr) throw new Error(`mutate: #${number} is a pull request; GitHub cannot delete pull requests`);
      i.deletedAt = st.now();
    },
    lockIssue(repo, number, reason) {
      const i = issueOf(repoOf(repo), number);
      i.locked = true;
      i.activeLockReason = reason ?? null;
      return i;
    },
    relabel(repo, number, labels, user) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      const next = labelIds(r, labels);
      const now = st.now();
      for (const id of next) if (!i.labels.includes(id)) {
        const l = r.labels.get(id);
        if (l) st.addEvent(r, i, who(user), 'labeled', { label: { name: l.name, color: l.color } }, now);
      }
      for (const id of i.labels) if (!next.includes(id)) {
        const l = r.labels.get(id);
        if (l) st.addEvent(r, i, who(user), 'unlabeled', { label: { name: l.name, color: l.color } }, now);
      }
      i.labels = next;
      i.updatedAt = now;
      return i;
    },
    setMilestone(repo, number, milestone) {
      const r = repoOf(repo);
      const i = issueOf(r, number);
      if (milestone !== null && !r.milestones.has(milestone)) throw new Error(`mutate: milestone ${milestone} does not exist`);
      i.milestone = milestone;
      i.updatedAt = st.now();
      return i;
    },
    addComment(repo, number, body, user) {
      const r = repoOf(repo);
      return st.addComment(r, issueOf(r, number), who(user), body);
    },
    editComment(repo, commentId, body) {
      const c = repoOf(repo).comments.get(commentId);
      if (!c) throw new Error(`mutate: comment ${commentId} does not exist`);
      c.body = body;
      c.updatedAt = st.now();
      return c;
    },
    deleteComment(repo, commentId) {
      const r = repoOf(repo);
      if (!r.comments.delete(commentId)) throw new Error(`mutate: comment ${commentId} does not exist`);
    },
    addLabel(repo, name, color = 'ededed', description = null) {
      const r = repoOf(repo);
      if (st.labelByName(r, name)) throw new Error(`mutate: label ${name} already exists`);
      return st.addLabel(r, name, color, description);
    },
    editLabel(repo, name, f) {
      const r = repoOf(repo);
      const l = st.labelByName(r, name);
      if (!l) throw new Error(`mutate: label ${name} does not exist`);
      if (f.newName !== undefined) l.name = f.newName;
      if (f.color !== undefined) l.color = f.color.replace(/^#/, '');
      if (f.description !== undefined) l.description = f.description;
      return l;
    },
    deleteLabel(repo, name) {
      const r = repoOf(repo);
      const l = st.labelByName(r, name);
      if (!l) throw new Error(`mutate: label ${name} does not exist`);
      st.deleteLabel(r, l);
    },
    addMilestone(repo, title, f = {}) {
      return st.addMilestone(repoOf(repo), title, { description: f.description ?? null, dueOn: f.dueOn ?? null, state: f.state, creator: defaultUser() }).number;
    },
    closeMilestone(repo, number) {
      const m = repoOf(repo).milestones.get(number);
      if (!m) throw new Error(`mutate: milestone ${number} does not exist`);
      m.state = 'closed';
      m.closedAt = st.now();
      m.updatedAt = m.closedAt;
    },
    addReaction(repo, target, content, user) {
      const r = repoOf(repo);
      let list;
      if ('issue' in target) list = issueOf(r, target.issue).reactions;
      else if ('comment' in target) list = r.comments.get(target.comment)?.reactions;
      else if ('reviewComment' in target) list = r.reviewComments.get(target.reviewComment)?.reactions;
      else list = r.releases.get(target.release)?.reactions;
      if (!list) throw new Error('mutate: reaction target does not exist');
      st.addReaction(list, who(user), content);
    },
    async pushCommit(repo, c = {}) {
      const r = repoOf(repo);
      const branch = c.branch ?? r.git.head;
      const now = st.now();
      return ops.commit(r, {
        branch,
        message: c.message ?? `Update ${branch} at ${new Date(now).toISOString()}`,
        files: c.files ?? [{ path: `changes/${now}.txt`, content: `change at ${now}\n` }],
        author: identOf(st, who(c.user), now),
        from: c.from,
      });
    },
    async createBranch(repo, name, from) {
      const r = repoOf(repo);
      const sha = r.git.branches.get(from ?? r.git.head) ?? (from ? await ops.git.resolve(ops.dir(r), from) : null);
      if (!sha) throw new Error(`mutate: cannot branch from ${from ?? r.git.head}`);
      await ops.git.updateRef(ops.dir(r), `refs/heads/${name}`, sha);
      await ops.refresh(r, { pushed: true });
      return sha;
    },
    async deleteBranch(repo, name) {
      const r = repoOf(repo);
      if (name === r.git.head) throw new Error('mutate: refusing to delete the default branch');
      await ops.git.deleteRef(ops.dir(r), `refs/heads/${name}`);
      await ops.refresh(r, { pushed: true });
    },
    async createTag(repo, name, f = {}) {
      const r = repoOf(repo);
      const target = r.git.branches.get(f.target ?? r.git.head) ?? (f.target ? await ops.git.resolve(ops.dir(r), f.target) : null);
      if (!target) throw new Error(`mutate: tag target ${f.target ?? r.git.head} does not exist`);
      await ops.createTag(r, name, target, f.message ? { message: f.message, tagger: identOf(st, who(f.user), st.now()) } : undefined);
      return r.git.tags.get(name) as string;
    },
    async deleteTag(repo, name) {
      const r = repoOf(repo);
      await ops.git.deleteRef(ops.dir(r), `refs/tags/${name}`);
      await ops.refresh(r, { pushed: true });
    },
    async setDefaultBranch(repo, branch) {
      const r = repoOf(repo);
      if (!r.git.branches.has(branch)) throw new Error(`mutate: branch ${branch} does not exist`);
      await ops.git.setHead(ops.dir(r), branch);
      r.git.head = branch;
      r.updatedAt = st.now();
    },
    async openPull(repo, f) {
      const r = repoOf(repo);
      return ops.openPull(r, { title: f.title, body: f.body ?? null, head: f.head, base: f.base ?? r.git.head, user: who(f.user), draft: f.draft });
    },
    async mergePull(repo, number, user) {
      const r = repoOf(repo);
      return ops.mergePull(r, prOf(r, number), who(user));
    },
    addReview(repo, number, f) {
      const r = repoOf(repo);
      const i = prOf(r, number);
      const id = st.nextId('review');
      const now = st.now();
      const review: Review = { id, nodeId: nodeId('review', id), prNumber: number, user: who(f.user), body: f.body ?? '', state: f.state ?? 'COMMENTED', commitId: i.pr?.head.sha ?? null, submittedAt: now };
      r.reviews.set(id, review);
      i.updatedAt = now;
      return review;
    },
    addReviewComment(repo, number, f) {
      const r = repoOf(repo);
      const i = prOf(r, number);
      const now = st.now();
      const reviewId = st.nextId('review');
      const user = who(f.user);
      const sha = i.pr?.head.sha ?? '';
      r.reviews.set(reviewId, { id: reviewId, nodeId: nodeId('review', reviewId), prNumber: number, user, body: '', state: 'COMMENTED', commitId: sha, submittedAt: now });
      const id = st.nextId('reviewComment');
      const line = f.line ?? 1;
      const c: ReviewComment = {
        id, nodeId: nodeId('reviewComment', id), prNumber: number, reviewId, user, body: f.body, path: f.path, diffHunk: `@@ -${line},1 +${line},2 @@`,
        position: line, originalPosition: line, line, originalLine: line, side: 'RIGHT', startLine: null, startSide: null, subjectType: 'line',
        commitId: sha, originalCommitId: sha, inReplyToId: f.inReplyTo ?? null, createdAt: now, updatedAt: now, reactions: [],
      };
      r.reviewComments.set(id, c);
      i.updatedAt = now;
      return c;
    },
    editReviewComment(repo, commentId, body) {
      const c = repoOf(repo).reviewComments.get(commentId);
      if (!c) throw new Error(`mutate: review comment ${commentId} does not exist`);
      c.body = body;
      c.updatedAt = st.now();
      return c;
    },
    deleteReviewComment(repo, commentId) {
      if (!repoOf(repo).reviewComments.delete(commentId)) throw new Error(`mutate: review comment ${commentId} does not exist`);
    },
    async createRelease(repo, f) {
      const r = repoOf(repo);
      return ops.createRelease(r, { tagName: f.tag, targetCommitish: f.target, name: f.name ?? f.tag, body: f.body ?? null, draft: f.draft, prerelease: f.prerelease, author: who(f.user) });
    },
    editRelease(repo, releaseId, f) {
      const rel = repoOf(repo).releases.get(releaseId);
      if (!rel) throw new Error(`mutate: release ${releaseId} does not exist`);
      if (f.name !== undefined) rel.name = f.name;
      if (f.body !== undefined) rel.body = f.body;
      if (f.prerelease !== undefined) rel.prerelease = f.prerelease;
      rel.updatedAt = st.now();
      return rel;
    },
    async deleteRelease(repo, releaseId) {
      const r = repoOf(repo);
      const rel = r.releases.get(releaseId);
      if (!rel) throw new Error(`mutate: release ${releaseId} does not exist`);
      await ops.deleteRelease(r, rel);
    },
    async addAsset(repo, releaseId, name, data, contentType = 'application/octet-stream', user) {
      const r = repoOf(repo);
      const rel = r.releases.get(releaseId);
      if (!rel) throw new Error(`mutate: release ${releaseId} does not exist`);
      return ops.storeAsset(r, rel, { name, contentType, data, uploader: who(user) });
    },
    async deleteAsset(repo, assetId) {
      const r = repoOf(repo);
      const a = r.assets.get(assetId);
      if (!a) throw new Error(`mutate: asset ${assetId} does not exist`);
      await ops.deleteAsset(r, a);
    },
    async editWiki(repo, page, content, user) {
      const r = repoOf(repo);
      if (!r.wikiExists) {
        await ops.git.initBare(ops.dir(r, true), 'master');
        r.wikiExists = true;
        r.hasWiki = true;
      }
      const now = st.now();
      return ops.commit(r, { wiki: true, branch: r.wiki.head || 'master', message: `Updated ${page} (markdown)`, files: [{ path: `${page}.md`, content }], author: identOf(st, who(user), now) });
    },
    advanceClock(ms) {
      st.clock.advance(ms);
    },
  };
}
