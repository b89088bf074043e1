/**
 * Operations that touch both the state and the git repositories on disk: creating repositories,
 * refreshing the REST view after pushes, pull requests (refs/pull/N/head), merges, tags, commits.
 * Used by the REST handlers, the seeder and the mutation helpers alike.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FastImport, type GitHost, type GitIdent } from './git.js';
import { nodeId, type Asset, type GithubState, type Issue, type Release, type Repo } from './state.js';

export class PullCreateError extends Error {
  constructor(readonly kind: 'head' | 'base' | 'no-commits' | 'exists' | 'empty', message: string) {
    super(message);
  }
}

export function identOf(state: GithubState, login: string, at: number): GitIdent {
  const u = state.user(login);
  const email = u?.email ?? `${u?.id ?? 0}+${login}@users.noreply.github.invalid`;
  return { name: u?.name ?? login, email, at };
}

export class RepoOps {
  readonly assetsDir: string;

  constructor(readonly state: GithubState, readonly git: GitHost) {
    this.assetsDir = join(git.root, '_assets');
  }

  dir(repo: Repo, wiki = false): string {
    return this.git.dir(repo.id, wiki);
  }

  /** Create a repository with its bare git repositories (and wiki) on disk. */
  async createRepo(
    owner: string,
    name: string,
    opts: Parameters<GithubState['createRepo']>[2] & { autoInit?: boolean; defaultLabels?: boolean; creator?: string } = {},
  ): Promise<Repo> {
    const repo = this.state.createRepo(owner, name, opts);
    await this.git.initBare(this.dir(repo), repo.git.head);
    if (repo.hasWiki) {
      await this.git.initBare(this.dir(repo, true), 'master');
      repo.wikiExists = true;
    }
    if (opts.defaultLabels !== false) this.state.addDefaultLabels(repo);
    if (opts.autoInit) {
      const who = identOf(this.state, opts.creator ?? owner, repo.createdAt);
      await this.commit(repo, { branch: repo.git.head, message: 'Initial commit', files: [{ path: 'README.md', content: `# ${name}\n${repo.description ? `\n${repo.description}\n` : ''}` }], author: who });
    }
    return repo;
  }

  async deleteRepo(repo: Repo): Promise<void> {
    this.state.repos.delete(`${repo.owner}/${repo.name}`.toLowerCase());
    this.state.reposById.delete(repo.id);
    await this.git.removeRepo(this.dir(repo));
    await this.git.removeRepo(this.dir(repo, true));
    for (const a of repo.assets.values()) await rm(a.file, { force: true });
  }

  /**
   * Re-read refs from disk after a push or a server-side ref change: branches, tags, default
   * branch (the first pushed branch becomes the default in an empty repository: main, then
   * master, then the first by name), open pull requests following their head branch.
   */
  async refresh(repo: Repo, opts: { pushed?: boolean } = {}): Promise<void> {
    const dir = this.dir(repo);
    const refs = await this.git.readRefs(dir);
    if (!refs.branches.has(refs.head) && refs.branches.size > 0) {
      const pick = refs.branches.has('main') ? 'main' : refs.branches.has('master') ? 'master' : [...refs.branches.keys()].sort()[0];
      if (pick) {
        await this.git.setHead(dir, pick);
        refs.head = pick;
      }
    }
    repo.git = refs;
    if (opts.pushed) {
      repo.pushedAt = this.state.now();
      repo.sizeKb = await this.git.sizeKb(dir);
    }
    const now = this.state.now();
    for (const issue of repo.issues.values()) {
      const pr = issue.pr;
      if (!pr || issue.state !== 'open' || issue.deletedAt !== null) continue;
      const headSha = refs.branches.get(pr.head.ref);
      const baseSha = refs.branches.get(pr.base.ref);
      let moved = false;
      if (baseSha && baseSha !== pr.base.sha) {
        pr.base.sha = baseSha;
        moved = true;
      }
      if (headSha && headSha !== pr.head.sha) {
        pr.head.sha = headSha;
        await this.git.updateRef(dir, `refs/pull/${issue.number}/head`, headSha);
        moved = true;
      }
      if (moved) {
        const c = await this.git.compare(dir, pr.base.sha, pr.head.sha).catch(() => null);
        if (c) Object.assign(pr, { commits: c.commits, additions: c.additions, deletions: c.deletions, changedFiles: c.changedFiles });
        issue.updatedAt = now;
      }
    }
  }

  async refreshWiki(repo: Repo): Promise<void> {
    repo.wiki = await this.git.readRefs(this.dir(repo, true));
  }

  /** Commit files onto a branch (created from `from`, default the default branch, when missing). */
  async commit(
    repo: Repo,
    c: { branch: string; message: string; files: { path: string; content: string | Buffer }[]; deletes?: string[]; author: GitIdent; from?: string; wiki?: boolean },
  ): Promise<string> {
    const refs = c.wiki ? repo.wiki : repo.git;
    const parent = refs.branches.get(c.branch) ?? (c.from ? (refs.branches.get(c.from) ?? c.from) : refs.branches.get(refs.head));
    const fi = new FastImport();
    const mark = fi.commit({ ref: `refs/heads/${c.branch}`, message: c.message, author: c.author, from: parent, files: c.files, deletes: c.deletes });
    const marks = await fi.run(this.git, this.dir(repo, c.wiki));
    const sha = marks.get(mark);
    if (!sha) throw new Error('fast-import returned no commit');
    if (c.wiki) await this.refreshWiki(repo);
    else await this.refresh(repo, { pushed: true });
    return sha;
  }

  async createTag(repo: Repo, name: string, target: string, annotated?: { message: string; tagger: GitIdent }): Promise<void> {
    const dir = this.dir(repo);
    if (annotated) {
      const fi = new FastImport();
      fi.tag(name, target, annotated.message, annotated.tagger);
      await fi.run(this.git, dir);
    } else {
      await this.git.updateRef(dir, `refs/tags/${name}`, target);
    }
    await this.refresh(repo);
  }

  /** Validate and open a pull request; writes refs/pull/N/head. */
  async openPull(
    repo: Repo,
    p: { title: string; body: string | null; head: string; base: string; user: string; draft?: boolean; maintainerCanModify?: boolean; at?: number; issue?: Issue },
  ): Promise<Issue> {
    const dir = this.dir(repo);
    if (repo.git.branches.size === 0) throw new PullCreateError('empty', 'Repository is empty.');
    const headRef = p.head.includes(':') ? p.head.slice(p.head.indexOf(':') + 1) : p.head;
    const headOwner = p.head.includes(':') ? p.head.slice(0, p.head.indexOf(':')) : repo.owner;
    const baseSha = repo.git.branches.get(p.base);
    if (!baseSha) throw new PullCreateError('base', `base ${p.base} does not exist`);
    const headSha = headOwner.toLowerCase() === repo.owner.toLowerCase() ? repo.git.branches.get(headRef) : undefined;
    if (!headSha) throw new PullCreateError('head', `head ${p.head} does not exist`);
    for (const i of repo.issues.values()) {
      if (i.pr && i.state === 'open' && i.deletedAt === null && i.pr.head.ref === headRef && i.pr.base.ref === p.base) {
        throw new PullCreateError('exists', `A pull request already exists for ${repo.owner}:${headRef}.`);
      }
    }
    const cmp = await this.git.compare(dir, baseSha, headSha);
    if (cmp.commits === 0) throw new PullCreateError('no-commits', `No commits between ${p.base} and ${headRef}`);
    const at = p.at ?? this.state.now();
    const issue = p.issue ?? this.state.createIssue(repo, { title: p.title, body: p.body, user: p.user, at });
    const id = this.state.nextId('pull');
    issue.pr = {
      id,
      nodeId: nodeId('pull', id),
      head: { ref: headRef, sha: headSha },
      base: { ref: p.base, sha: baseSha },
      draft: p.draft ?? false,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      maintainerCanModify: p.maintainerCanModify ?? false,
      commits: cmp.commits,
      additions: cmp.additions,
      deletions: cmp.deletions,
      changedFiles: cmp.changedFiles,
    };
    if (p.issue) issue.updatedAt = at;
    await this.git.updateRef(dir, `refs/pull/${issue.number}/head`, headSha);
    return issue;
  }

  /** Merge a pull request with a real merge commit on the base branch. */
  async mergePull(repo: Repo, issue: Issue, who: string, at = this.state.now()): Promise<string> {
    const pr = issue.pr;
    if (!pr || pr.merged || issue.state !== 'open') throw new Error(`#${issue.number} is not an open pull request`);
    const dir = this.dir(repo);
    const baseSha = repo.git.branches.get(pr.base.ref) ?? pr.base.sha;
    const sha = await this.git.mergeCommit(dir, baseSha, pr.head.sha, `Merge pull request #${issue.number} from ${repo.owner}/${pr.head.ref}\n\n${issue.title}`, identOf(this.state, who, at));
    await this.git.updateRef(dir, `refs/heads/${pr.base.ref}`, sha);
    pr.merged = true;
    pr.mergedAt = at;
    pr.mergedBy = who;
    pr.mergeCommitSha = sha;
    issue.state = 'closed';
    issue.stateReason = null;
    issue.closedAt = at;
    issue.closedBy = who;
    issue.updatedAt = at;
    this.state.addEvent(repo, issue, who, 'merged', { commitId: sha }, at);
    this.state.addEvent(repo, issue, who, 'closed', {}, at);
    await this.refresh(repo, { pushed: true });
    return sha;
  }

  // ---- releases and assets ----

  async storeAsset(
    repo: Repo,
    release: Release,
    a: { name: string; label?: string | null; contentType: string; data: Buffer; uploader: string; at?: number },
  ): Promise<Asset> {
    await mkdir(this.assetsDir, { recursive: true });
    const id = this.state.nextId('asset');
    const file = join(this.assetsDir, String(id));
    await writeFile(file, a.data);
    const at = a.at ?? this.state.now();
    const asset: Asset = {
      id,
      nodeId: nodeId('asset', id),
      releaseId: release.id,
      name: a.name,
      label: a.label ?? null,
      contentType: a.contentType,
      size: a.data.length,
      digest: `sha256:${createHash('sha256').update(a.data).digest('hex')}`,
      uploader: a.uploader,
      downloadCount: 0,
      createdAt: at,
      updatedAt: at,
      file,
    };
    repo.assets.set(id, asset);
    release.assets.push(id);
    return asset;
  }

  async deleteAsset(repo: Repo, asset: Asset): Promise<void> {
    repo.assets.delete(asset.id);
    const rel = repo.releases.get(asset.releaseId);
    if (rel) rel.assets = rel.assets.filter((id) => id !== asset.id);
    await rm(asset.file, { force: true });
  }

  async deleteRelease(repo: Repo, release: Release): Promise<void> {
    for (const id of [...release.assets]) {
      const a = repo.assets.get(id);
      if (a) await this.deleteAsset(repo, a);
    }
    repo.releases.delete(release.id);
  }

  /** Create a release; a published release on a missing tag creates the tag at target_commitish. */
  async createRelease(
    repo: Repo,
    r: { tagName: string; targetCommitish?: string; name?: string | null; body?: string | null; draft?: boolean; prerelease?: boolean; author: string; at?: number },
  ): Promise<Release> {
    const at = r.at ?? this.state.now();
    const target = r.targetCommitish ?? repo.git.head;
    if (!r.draft && !repo.git.tags.has(r.tagName)) {
      const sha = repo.git.branches.get(target) ?? (await this.git.resolve(this.dir(repo), target));
      if (!sha) throw new Error(`target_commitish ${target} does not exist`);
      await this.createTag(repo, r.tagName, sha);
    }
    const id = this.state.nextId('release');
    const rel: Release = {
      id,
      nodeId: nodeId('release', id),
      tagName: r.tagName,
      targetCommitish: target,
      name: r.name ?? null,
      body: r.body ?? null,
      draft: r.draft ?? false,
      prerelease: r.prerelease ?? false,
      author: r.author,
      createdAt: at,
      publishedAt: r.draft ? null : at,
      updatedAt: at,
      assets: [],
      reactions: [],
    };
    repo.releases.set(id, rel);
    return rel;
  }
}

/** GitHub renames asset files with special characters; leading dots get a "default" stem. */
export function sanitizeAssetName(name: string): string {
  let n = name.replace(/[^A-Za-z0-9._+-]/g, '.');
  if (n.startsWith('.')) n = `default${n}`;
  n = n.replace(/\.+$/, '');
  return n || 'default';
}
