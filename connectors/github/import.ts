/**
 * Import of one repository scope into the standby org, idempotent through the id map.
 *
 * Every item is looked up in the id map first (same version: skipped). When the id map lacks it
 * (a crashed earlier run created it but never committed the map) the standby item is adopted by its
 * natural key: issue and pull request numbers plus the hidden source-id marker, label names,
 * milestone titles, release tags, asset names, and the marker for comments and reviews.
 *
 * Issues and pull requests are created in number order, so numbers match in a fresh standby; gaps
 * are filled with closed placeholder issues. Content creation is paced by the client (client.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { ImportContext, ImportFailure, ImportResult, ScopeRef } from '../../src/model/connector.js';
import type { ChangeRecord } from '../../src/model/records.js';
import { isStatus, listAll, type GithubClient } from './client.js';
import { GitError, pushAll, restoreFromBundles, standbyRefs, type GitState } from './git.js';
import { attribution, dueDate, labelNames, parseHeader, withHeader, numberFromUrl } from './normalize.js';
import { Asset, GitRecordRaw, Issue, IssueComment, Label, Milestone, PullRecordRaw, Release, Repo, Review, ReviewComment } from './schema.js';
import { repoNameOf } from './export.js';
import { K, SINGLETON_ID } from './types.js';

export const IMPORT_ACCEPT = 'application/vnd.github.golden-comet-preview+json';

/** Shared across scopes of one connector: whether the standby has the issue import endpoint. */
export interface ImportEndpointState {
  enabled: boolean;
  /** null = not tried yet. */
  available: boolean | null;
}

export interface ImportDeps {
  client: GithubClient;
  /** Source org (to tell same-repository pull request heads from forks). */
  sourceOrg: string;
  users: Record<string, string>;
  endpoint: ImportEndpointState;
  /** Longest wait for one issue import to finish. */
  importTimeoutMs?: number;
}

type Json = Record<string, unknown>;

/** A standby comment or review found by its marker: its id and current body. */
interface Found {
  id: number;
  body: string;
}

/**
 * Where an item lives on the standby; `body` is known when it was found by its marker (adoption),
 * `original` when it is an original a stored copy names (replication reversed after a failover).
 */
interface Located {
  standbyId: string;
  body?: string;
  original?: boolean;
}

/** Where each comment-like kind lives on a standby: issue comment, review, review comment. */
const WHERE: Record<string, 'c' | 'r' | 'rc'> = { [K.issueComment]: 'c', [K.review]: 'r', [K.reviewComment]: 'rc' };

interface ImportJob {
  id: number;
  status: string;
  created_at?: string;
  issue_url?: string;
  errors?: unknown;
}

class ItemError extends Error {}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { status?: number }).status;
    return status ? `${err.message} (HTTP ${status})` : err.message;
  }
  return String(err);
}

/** The request may have reached the server and taken effect (5xx, connection lost). */
function ambiguous(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  return status === undefined || status >= 500;
}

/** The request was refused by a rate limit: it had no effect, try again. */
function rateLimited(err: unknown): boolean {
  return isStatus(err, 429) || (isStatus(err, 403) && /rate limit/i.test(errText(err)));
}

/** standbyId of a pull request that could not be re-created and lives on the standby as an issue. */
const AS_ISSUE = ':issue';
const REVIEW_PREFIX = 'r:';
const REVIEW_COMMENT_PREFIX = 'rc:';
const COMMENT_PREFIX = 'c:';

export async function importRepo(deps: ImportDeps, scope: ScopeRef, records: ChangeRecord[], ctx: ImportContext): Promise<ImportResult> {
  const imp = new RepoImport(deps, scope, ctx);
  return imp.run(records);
}

class RepoImport {
  private readonly client: GithubClient;
  private readonly owner: string;
  private readonly repo: string;
  private readonly sourceRepo: string;
  /** `org/repo` of the source as GitHub spells it: written into headers (HeaderMeta.source). */
  private readonly sourceName: string;
  private readonly result: ImportResult = { imported: 0, unchanged: 0, deleted: 0, failed: [] };
  private readonly failedKeys = new Set<string>();
  private gitFailed = false;
  // Lazily loaded standby indexes (one listing per run at most).
  private issueIndex: Map<string, { number: number; body: string | null | undefined; title: string }> | null = null;
  private standbyMax: number | null = null;
  private commentIndex: Map<string, Found> | null = null;
  private reviewCommentIndex: Map<string, Found> | null = null;
  private readonly reviewIndexes = new Map<number, Map<string, Found>>();
  private labelIndex: Map<string, Label> | null = null;
  private milestoneIndex: Map<string, Milestone> | null = null;
  private releaseIndex: Map<string, Release> | null = null;
  private readonly standbyReleases = new Map<string, Release>();
  private warnedNumbers = false;
  /** Issue import jobs started by this run. */
  private readonly knownJobs = new Set<number>();
  /** Comments created together with their issue through the import endpoint in this run. */
  private readonly withIssue = new Set<string>();

  constructor(
    private readonly deps: ImportDeps,
    private readonly scope: ScopeRef,
    private readonly ctx: ImportContext,
  ) {
    this.client = deps.client;
    this.owner = deps.client.tenant.org;
    this.repo = repoNameOf(scope);
    this.sourceName = `${deps.sourceOrg}/${this.repo}`;
    this.sourceRepo = this.sourceName.toLowerCase();
  }

  /** Set when an issue import may be pending after a failed request: no further numbers this run. */
  private creationBlocked: string | null = null;

  /**
   * Create an item exactly once: a POST that failed in a way that may have taken effect is not
   * replayed before `find` (natural key / marker lookup) says the item is not there.
   */
  private async createOnce<T>(post: () => Promise<T>, find: () => Promise<T | null>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await post();
      } catch (err) {
        if (this.ctx.signal.aborted || attempt >= 5) throw err;
        if (!rateLimited(err)) {
          if (!ambiguous(err)) throw err;
          const found = await find();
          if (found !== null) return found;
        }
        await sleep(100 * attempt * attempt, undefined, { signal: this.ctx.signal });
      }
    }
  }

  /** Newest standby issues/PRs (a fresh read), to find one just created by its marker. */
  private async newestByMarker(marker: (meta: ReturnType<typeof parseHeader>['meta']) => boolean): Promise<{ number: number } | null> {
    const list = await this.api<Array<{ number: number; body?: string | null }>>('GET /repos/{owner}/{repo}/issues', { state: 'all', sort: 'created', direction: 'desc', per_page: 20 });
    for (const i of list) if (marker(parseHeader(i.body).meta)) return { number: i.number };
    return null;
  }

  private static markerFind<T extends { id: number; body?: string | null }>(list: T[], kind: string, id: string): T | null {
    return list.find((x) => {
      const { meta } = parseHeader(x.body);
      return meta?.kind === kind && meta.id === id;
    }) ?? null;
  }

  /**
   * The body norestore writes: its header and the author's text. A stored body that is itself a copy
   * norestore made (replication reversed after a failover) gives its text and its original notes
   * (attribution), so headers never nest. `notes[0]` is the attribution, the rest extra lines.
   */
  private compose(stored: string | null | undefined, r: { kind: string; id: string }, notes: string[]): string {
    const p = parseHeader(stored);
    const kept = p.meta?.kind ? p.notes : [];
    return withHeader(p.body, { kind: r.kind, id: r.id, source: this.sourceName }, kept.length ? [...kept, ...notes.slice(1)] : notes);
  }

  /**
   * The original on this standby that a stored copy names in its header: after a failover the old
   * primary is the standby, and the new source's items are the copies norestore made of its
   * originals. Only when the header says the id belongs to this repository (older headers say
   * nothing: the caller then also requires the standby item to carry no header of its own).
   */
  private originOf(stored: string | null | undefined): { kind: string; id: string } | null {
    const { meta } = parseHeader(stored);
    if (!meta?.kind || !meta.id || meta.deleted) return null;
    if (meta.source !== undefined && meta.source.toLowerCase() !== `${this.owner}/${this.repo}`.toLowerCase()) return null;
    return { kind: meta.kind, id: meta.id };
  }

  /** The standby item already holds what the stored record says: written by us, or an original with the same text. */
  private static same(at: Located, body: string, stored: string | null | undefined, ...alternatives: string[]): boolean {
    if (at.body === undefined) return false;
    if (at.body === body || alternatives.includes(at.body)) return true;
    return !!at.original && at.body === parseHeader(stored).body;
  }

  private get base() {
    return { owner: this.owner, repo: this.repo };
  }

  private async api<T = unknown>(route: string, params: Json = {}): Promise<T> {
    this.ctx.signal.throwIfAborted();
    const res = await this.client.octokit.request(route, { ...this.base, ...params, request: { signal: this.ctx.signal } });
    return res.data as T;
  }

  private fail(kind: string, id: string, err: unknown): void {
    if (this.ctx.signal.aborted) throw err;
    const failure: ImportFailure = { kind, id, error: `${kind} ${id} in ${this.owner}/${this.repo}: ${errText(err)}` };
    this.result.failed.push(failure);
    this.failedKeys.add(`${kind}\u0000${id}`);
    this.ctx.log.warn('github import of an item failed (retried next cycle)', { scope: this.scope.id, kind, id, error: failure.error });
  }

  private done(kind: 'imported' | 'unchanged' | 'deleted'): void {
    this.result[kind]++;
    if (kind !== 'unchanged') this.ctx.progress({ items: 1 });
  }

  async run(records: ChangeRecord[]): Promise<ImportResult> {
    const latest = new Map<string, ChangeRecord>();
    for (const r of records) {
      const key = `${r.kind}\u0000${r.id}`;
      const prev = latest.get(key);
      if (!prev || prev.seq < r.seq) latest.set(key, r);
    }
    const byKind = new Map<string, ChangeRecord[]>();
    for (const r of [...latest.values()].sort((a, b) => a.seq - b.seq)) {
      let list = byKind.get(r.kind);
      if (!list) byKind.set(r.kind, (list = []));
      list.push(r);
    }
    const of = (kind: string): ChangeRecord[] => byKind.get(kind) ?? [];

    await this.ensureRepo(of(K.repo)[0] ?? null);
    for (const r of of(K.git)) await this.importGit(r, false);
    for (const r of of(K.wiki)) await this.importGit(r, true);
    for (const r of of(K.label)) await this.guard(r, () => this.importLabel(r));
    for (const r of [...of(K.milestone)].sort((a, b) => Number(a.id) - Number(b.id))) await this.guard(r, () => this.importMilestone(r));
    await this.importIssuesAndPulls([...of(K.issue), ...of(K.pull)], of(K.issueComment));
    for (const r of of(K.issueComment)) await this.guard(r, () => this.importIssueComment(r));
    for (const r of of(K.review)) await this.guard(r, () => this.importReview(r));
    const rc = [...of(K.reviewComment)].sort((a, b) => Number(a.id) - Number(b.id)); // parents of replies first
    for (const r of rc) await this.guard(r, () => this.importReviewComment(r));
    for (const r of of(K.release)) await this.guard(r, () => this.importRelease(r));
    for (const r of of(K.asset)) await this.guard(r, () => this.importAsset(r));
    return this.result;
  }

  private async guard(r: ChangeRecord, fn: () => Promise<'imported' | 'unchanged' | 'deleted'>): Promise<void> {
    try {
      this.done(await fn());
    } catch (err) {
      this.fail(r.kind, r.id, err);
    }
  }

  private parseRaw<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, r: ChangeRecord): T {
    const p = schema.safeParse(r.raw);
    if (!p.success) throw new ItemError(`stored record does not have the expected shape (${p.error.message.slice(0, 200)})`);
    return p.data;
  }

  // ---------------------------------------------------------------- repository, git, wiki

  private async ensureRepo(rec: ChangeRecord | null): Promise<void> {
    const source = rec?.op === 'upsert' ? rec : await this.ctx.lastRecord(K.repo, SINGLETON_ID.repo);
    const want = source ? this.parseRaw(Repo, source) : null;
    let standby: Repo | null = null;
    try {
      standby = Repo.parse(await this.api('GET /repos/{owner}/{repo}'));
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (!standby) {
      try {
        const created = await this.createOnce<unknown>(
          async () =>
            (
              await this.client.octokit.request('POST /orgs/{org}/repos', {
                org: this.owner,
                name: this.repo,
                description: want?.description ?? undefined,
                homepage: want?.homepage ?? undefined,
                private: want?.private ?? true,
                has_issues: want?.has_issues ?? true,
                has_wiki: want?.has_wiki ?? true,
                has_projects: want?.has_projects ?? undefined,
                auto_init: false,
                request: { signal: this.ctx.signal },
              })
            ).data,
          () => this.api('GET /repos/{owner}/{repo}').catch((e: unknown) => (isStatus(e, 404) ? null : Promise.reject(e))),
        );
        standby = Repo.parse(created);
      } catch (err) {
        throw new Error(`cannot create repository ${this.owner}/${this.repo} on the standby: ${errText(err)}; check that the standby token may create repositories in ${this.owner}`);
      }
      this.ctx.log.info('github standby repository created', { scope: this.scope.id, repo: `${this.owner}/${this.repo}` });
      // GitHub adds default labels to new repositories; the source's label set replaces them.
      const defaults = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/labels', this.base, { signal: this.ctx.signal });
      if (!defaults.notModified) for (const l of defaults.data as Label[]) await this.api('DELETE /repos/{owner}/{repo}/labels/{name}', { name: l.name }).catch(() => undefined);
    }
    if (!rec || rec.op !== 'upsert' || !want) return;
    const entry = this.ctx.idMap.get(K.repo, rec.id);
    if (entry?.version === rec.version) return this.done('unchanged');
    try {
      const patch: Json = {};
      if ((standby.description ?? '') !== (want.description ?? '')) patch.description = want.description ?? '';
      if ((standby.homepage ?? '') !== (want.homepage ?? '')) patch.homepage = want.homepage ?? '';
      if (standby.private !== want.private) patch.private = want.private;
      if (want.has_issues !== undefined && standby.has_issues !== want.has_issues) patch.has_issues = want.has_issues;
      if (want.has_wiki !== undefined && standby.has_wiki !== want.has_wiki) patch.has_wiki = want.has_wiki;
      if (Object.keys(patch).length) await this.api('PATCH /repos/{owner}/{repo}', patch);
      if (want.default_branch && standby.default_branch !== want.default_branch) await this.setDefaultBranch(want.default_branch, false);
      this.ctx.idMap.set(K.repo, rec.id, { standbyId: `${this.owner}/${this.repo}`, version: rec.version });
      this.done('imported');
    } catch (err) {
      this.fail(rec.kind, rec.id, err);
    }
  }

  /** Set the default branch; before the branch exists (first import) this is left to the git step. */
  private async setDefaultBranch(branch: string, mustExist: boolean): Promise<void> {
    try {
      await this.api('PATCH /repos/{owner}/{repo}', { default_branch: branch });
    } catch (err) {
      if (mustExist || !isStatus(err, 422)) throw err;
    }
  }

  private async importGit(r: ChangeRecord, wiki: boolean): Promise<void> {
    try {
      if (r.op !== 'upsert') return this.done('unchanged'); // git is never tombstoned
      const entry = this.ctx.idMap.get(r.kind, r.id);
      if (entry?.version === r.version) return this.done('unchanged');
      const state = this.parseRaw(GitRecordRaw, r) as GitState;
      const dir = join(this.ctx.workDir, 'github', wiki ? 'import-wiki.git' : 'import.git');
      await restoreFromBundles(dir, state, this.ctx, join(this.ctx.workDir, 'github', 'tmp'), { setRefs: standbyRefs(state.refs) });
      const url = this.client.gitUrl(this.repo, wiki);
      const env = await this.client.gitEnv();
      try {
        await pushAll(dir, url, env, this.ctx.signal);
      } catch (err) {
        if (wiki && err instanceof GitError && /not found|does not appear|404/i.test(err.stderr)) {
          throw new ItemError(`the standby wiki of ${this.owner}/${this.repo} does not accept pushes yet: enable the wiki and create its first page once in the web UI, then the next cycle pushes it`);
        }
        if (!wiki && err instanceof GitError && /current branch|default branch/i.test(err.stderr)) {
          // The source renamed or deleted the branch that is the standby's default: switch first, push again.
          const want = await this.wantedDefaultBranch(state);
          if (!want) throw err;
          await this.setDefaultBranch(want, true);
          await pushAll(dir, url, env, this.ctx.signal);
        } else throw err;
      }
      if (!wiki) {
        const want = await this.wantedDefaultBranch(state);
        if (want) {
          const standby = Repo.parse(await this.api('GET /repos/{owner}/{repo}'));
          if (standby.default_branch !== want) await this.setDefaultBranch(want, true);
        }
      }
      this.ctx.idMap.set(r.kind, r.id, { standbyId: wiki ? `${this.owner}/${this.repo}.wiki` : `${this.owner}/${this.repo}`, version: r.version });
      this.done('imported');
    } catch (err) {
      if (!wiki) this.gitFailed = true;
      this.fail(r.kind, r.id, err);
    }
  }

  private async wantedDefaultBranch(state: GitState): Promise<string | null> {
    const rec = await this.ctx.lastRecord(K.repo, SINGLETON_ID.repo);
    const b = rec ? Repo.safeParse(rec.raw).data?.default_branch : undefined;
    return b && state.refs[`refs/heads/${b}`] ? b : null;
  }

  // ---------------------------------------------------------------- labels, milestones

  private async labels(): Promise<Map<string, Label>> {
    if (!this.labelIndex) {
      const res = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/labels', this.base, { signal: this.ctx.signal });
      this.labelIndex = new Map();
      if (!res.notModified) for (const l of res.data) this.labelIndex.set(Label.parse(l).name.toLowerCase(), Label.parse(l));
    }
    return this.labelIndex;
  }

  private async importLabel(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'delete') {
      let name = entry?.standbyId;
      if (!name) {
        const last = await this.ctx.lastRecord(r.kind, r.id);
        name = last ? Label.safeParse(last.raw).data?.name : undefined;
        if (!name || !(await this.labels()).has(name.toLowerCase())) return 'unchanged';
      }
      await this.api('DELETE /repos/{owner}/{repo}/labels/{name}', { name }).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
      this.ctx.idMap.delete(r.kind, r.id);
      this.labelIndex?.delete(name.toLowerCase());
      return 'deleted';
    }
    if (entry?.version === r.version) return 'unchanged';
    const l = this.parseRaw(Label, r);
    const body = { color: (l.color ?? 'ededed').toLowerCase(), description: l.description ?? '' };
    let current = entry?.standbyId ?? null;
    let saved: Label | null = null;
    if (!current && (await this.labels()).has(l.name.toLowerCase())) {
      const found = (await this.labels()).get(l.name.toLowerCase())!;
      current = found.name;
      if (found.name === l.name && (found.color ?? '').toLowerCase() === body.color && (found.description ?? '') === body.description) saved = found; // adopted as it is
    }
    if (current && !saved) {
      try {
        saved = Label.parse(await this.api('PATCH /repos/{owner}/{repo}/labels/{name}', { name: current, new_name: l.name, ...body }));
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        // Renamed already (a retried request) or gone: continue with the label of the new name, if any.
        const existing = await this.api('GET /repos/{owner}/{repo}/labels/{name}', { name: l.name }).catch((e: unknown) => (isStatus(e, 404) ? null : Promise.reject(e)));
        if (existing) saved = Label.parse(await this.api('PATCH /repos/{owner}/{repo}/labels/{name}', { name: l.name, ...body }));
      }
    }
    saved ??= Label.parse(
      await this.createOnce<unknown>(
        () => this.api('POST /repos/{owner}/{repo}/labels', { name: l.name, ...body }),
        () => this.api('GET /repos/{owner}/{repo}/labels/{name}', { name: l.name }).catch((e: unknown) => (isStatus(e, 404) ? null : Promise.reject(e))),
      ),
    );
    this.labelIndex?.set(saved.name.toLowerCase(), saved);
    this.ctx.idMap.set(r.kind, r.id, { standbyId: saved.name, version: r.version });
    return 'imported';
  }

  private async milestones(): Promise<Map<string, Milestone>> {
    if (!this.milestoneIndex) {
      const res = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/milestones', { ...this.base, state: 'all' }, { signal: this.ctx.signal });
      this.milestoneIndex = new Map();
      if (!res.notModified) for (const m of res.data) this.milestoneIndex.set(Milestone.parse(m).title, Milestone.parse(m));
    }
    return this.milestoneIndex;
  }

  private async importMilestone(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'delete') {
      let num = entry?.standbyId;
      if (!num) {
        const last = await this.ctx.lastRecord(r.kind, r.id);
        const title = last ? Milestone.safeParse(last.raw).data?.title : undefined;
        const found = title ? (await this.milestones()).get(title) : undefined;
        if (!found) return 'unchanged';
        num = String(found.number);
      }
      await this.api('DELETE /repos/{owner}/{repo}/milestones/{milestone_number}', { milestone_number: Number(num) }).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    if (entry?.version === r.version) return 'unchanged';
    const m = this.parseRaw(Milestone, r);
    const body: Json = { title: m.title, state: m.state, description: m.description ?? '', due_on: m.due_on ?? null };
    const adopt = entry ? undefined : (await this.milestones()).get(m.title);
    let num = entry ? Number(entry.standbyId) : (adopt?.number ?? null);
    let saved: Milestone | null = null;
    if (adopt && adopt.state === m.state && (adopt.description ?? '') === (m.description ?? '') && dueDate(adopt.due_on) === dueDate(m.due_on)) saved = adopt; // adopted as it is
    if (num !== null && !saved) {
      try {
        saved = Milestone.parse(await this.api('PATCH /repos/{owner}/{repo}/milestones/{milestone_number}', { milestone_number: num, ...body }));
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        num = null;
      }
    }
    saved ??= Milestone.parse(
      await this.createOnce<unknown>(
        () => this.api('POST /repos/{owner}/{repo}/milestones', body),
        async () => {
          const all = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/milestones', { ...this.base, state: 'all' }, { signal: this.ctx.signal });
          return all.notModified ? null : (all.data.map((x) => Milestone.parse(x)).find((x) => x.title === m.title) ?? null);
        },
      ),
    );
    this.milestoneIndex?.set(saved.title, saved);
    this.ctx.idMap.set(r.kind, r.id, { standbyId: String(saved.number), version: r.version });
    return 'imported';
  }

  // ---------------------------------------------------------------- issues and pull requests

  /**
   * Highest issue/PR number on the standby. Lists cannot sort by number (imported issues keep old
   * creation times), so it is found by probing GET /issues/{n}: every number up to the highest is
   * taken (deleted issues answer 410), none above. Starts from what the id map knows: usually two
   * requests. Then tracked locally.
   */
  private async maxNumber(refresh = false): Promise<number> {
    if (this.standbyMax !== null && !refresh) return this.standbyMax;
    let hint = this.standbyMax ?? 0;
    if (this.standbyMax === null) {
      for (const kind of [K.issue, K.pull]) for (const [, e] of this.ctx.idMap.entries(kind)) hint = Math.max(hint, parseInt(e.standbyId, 10) || 0);
    }
    const taken = async (n: number): Promise<boolean> => {
      if (n <= 0) return true;
      try {
        await this.api('GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: n });
        return true;
      } catch (err) {
        if (isStatus(err, 404)) return false;
        if (isStatus(err, 410, 301)) return true;
        throw err;
      }
    };
    let lo: number; // taken
    let hi: number; // free
    if (await taken(hint)) {
      lo = hint;
      let step = 1;
      while (await taken(lo + step)) {
        lo += step;
        step *= 2;
      }
      hi = lo + step;
    } else {
      lo = 0;
      hi = hint;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await taken(mid)) lo = mid;
      else hi = mid;
    }
    this.standbyMax = Math.max(lo, this.standbyMax ?? 0);
    return this.standbyMax;
  }

  private bump(n: number): void {
    this.standbyMax = Math.max(this.standbyMax ?? 0, n);
  }

  /** Every standby issue and PR by its source marker (loaded once, only when adoption needs it). */
  private async issues(): Promise<Map<string, { number: number; body: string | null | undefined; title: string }>> {
    if (!this.issueIndex) {
      this.issueIndex = new Map();
      const res = await listAll<{ number: number; body?: string | null; title: string }>(this.client, 'GET /repos/{owner}/{repo}/issues', { ...this.base, state: 'all' }, { signal: this.ctx.signal });
      if (!res.notModified) {
        for (const i of res.data) {
          const { meta } = parseHeader(i.body);
          this.bump(i.number);
          if (meta?.kind && meta.id) this.issueIndex.set(`${meta.kind}/${meta.id}`, { number: i.number, body: i.body, title: i.title });
        }
      }
    }
    return this.issueIndex;
  }

  private milestoneNumber(m: { number: number } | null | undefined): number | null {
    if (!m) return null;
    const e = this.ctx.idMap.get(K.milestone, String(m.number));
    return e ? Number(e.standbyId) : null;
  }

  private assignees(i: Issue): string[] {
    return (i.assignees ?? []).map((a) => this.deps.users[a.login]).filter((x): x is string => !!x);
  }

  private async importIssuesAndPulls(records: ChangeRecord[], comments: ChangeRecord[]): Promise<void> {
    const sorted = [...records].sort((a, b) => Number(a.id) - Number(b.id));
    const commentsByParent = new Map<string, ChangeRecord[]>();
    for (const c of comments) {
      if (c.op !== 'upsert' || !c.parent || this.ctx.idMap.get(c.kind, c.id)) continue;
      let list = commentsByParent.get(c.parent);
      if (!list) commentsByParent.set(c.parent, (list = []));
      list.push(c);
    }
    for (const r of sorted) {
      try {
        this.done(await this.importIssueOrPull(r, commentsByParent.get(r.id) ?? []));
      } catch (err) {
        this.fail(r.kind, r.id, err);
      }
    }
  }

  private issueOf(r: ChangeRecord): { issue: Issue; pull: PullRecordRaw['pull'] | null } {
    if (r.kind === K.pull) {
      const p = this.parseRaw(PullRecordRaw, r);
      return { issue: p.issue, pull: p.pull };
    }
    return { issue: this.parseRaw(Issue, r), pull: null };
  }

  private notesFor(r: ChangeRecord, issue: Issue, pull: PullRecordRaw['pull'] | null, asIssue: boolean): string[] {
    const notes = [attribution(issue.user?.login, issue.created_at)];
    if (pull && asIssue) {
      const head = pull.head.repo && pull.head.repo.full_name.toLowerCase() !== this.sourceRepo ? `${pull.head.repo.full_name}:${pull.head.ref}` : pull.head.ref;
      const how = pull.merged || pull.merged_at ? 'merged' : pull.state;
      notes.push(`_This was pull request #${issue.number} from \`${head}\` into \`${pull.base.ref}\` (${how}); its commits are kept at \`refs/norestore/pull/${issue.number}/head\`._`);
    }
    return notes;
  }

  private async importIssueOrPull(r: ChangeRecord, comments: ChangeRecord[]): Promise<'imported' | 'unchanged' | 'deleted'> {
    let entry = this.ctx.idMap.get(r.kind, r.id);
    const n = Number(r.id);
    if (!entry) {
      // Adoption: the item may exist from a run whose id map was never committed.
      if ((await this.maxNumber()) >= n || r.op === 'delete') {
        const found = (await this.issues()).get(`${r.kind}/${r.id}`);
        if (found) {
          const real = r.kind === K.pull && !(await this.isIssueOnStandby(found.number));
          entry = { standbyId: real || r.kind === K.issue ? String(found.number) : `${found.number}${AS_ISSUE}`, version: '' };
          this.ctx.idMap.set(r.kind, r.id, entry);
        }
      }
    }
    if (!entry && r.op === 'upsert') {
      const adopted = await this.adoptOriginalIssue(r);
      if (adopted) return adopted;
    }
    if (r.op === 'delete') {
      if (!entry) return 'unchanged';
      await this.markDeleted(r, parseInt(entry.standbyId, 10));
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    if (entry?.version === r.version) return 'unchanged';
    const { issue, pull } = this.issueOf(r);
    if (entry) {
      const num = parseInt(entry.standbyId, 10);
      const asIssue = r.kind === K.pull && entry.standbyId.endsWith(AS_ISSUE);
      const target = Issue.parse(await this.api('GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: num }));
      const changed = await this.syncIssue(target, r, issue, pull, asIssue);
      this.ctx.idMap.set(r.kind, r.id, { standbyId: entry.standbyId, version: r.version });
      return changed ? 'imported' : 'unchanged';
    }
    if (r.kind === K.pull && this.gitFailed) throw new ItemError('the git import of this repository failed in this run; the pull request is created after it succeeds');
    if (this.creationBlocked) throw new ItemError(this.creationBlocked);

    // Create, keeping the number: fill the gap before it with placeholders.
    let max = await this.maxNumber();
    if (max >= n) {
      if (!this.warnedNumbers) this.ctx.log.warn('github standby already uses the number of a new item: numbers cannot match the source for it (standby not fresh?)', { scope: this.scope.id, number: n, standbyMax: max });
      this.warnedNumbers = true;
    } else {
      while (max + 1 < n) {
        await this.createPlaceholder(max + 1);
        max = await this.maxNumber();
      }
    }
    let standbyId: string;
    if (pull && (await this.canCreatePull(pull))) {
      const created = await this.createPull(r, issue, pull);
      if (created !== null) standbyId = String(created);
      else standbyId = `${await this.createIssue(r, issue, pull, comments)}${AS_ISSUE}`;
    } else {
      const num = await this.createIssue(r, issue, pull, comments);
      standbyId = pull ? `${num}${AS_ISSUE}` : String(num);
    }
    const created = parseInt(standbyId, 10);
    if (created !== n) this.ctx.log.warn('github item created with another number on the standby', { scope: this.scope.id, kind: r.kind, source: n, standby: created });
    this.ctx.idMap.set(r.kind, r.id, { standbyId, version: r.version });
    return 'imported';
  }

  /**
   * Replication reversed after a failover: the stored issue or pull request is a copy norestore made
   * of an original on this standby (the old primary). The original is adopted, and only what changed
   * on the new primary since is written, so originals stay as their authors left them.
   */
  private async adoptOriginalIssue(r: ChangeRecord): Promise<'imported' | 'unchanged' | null> {
    const { issue, pull } = this.issueOf(r);
    const origin = this.originOf(issue.body);
    if (!origin || (origin.kind !== K.issue && origin.kind !== K.pull)) return null;
    const num = Number(origin.id);
    if (!Number.isInteger(num) || num <= 0) return null;
    let target: Issue;
    try {
      target = Issue.parse(await this.api('GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: num }));
    } catch (err) {
      if (isStatus(err, 404, 410)) return null;
      throw err;
    }
    if (parseHeader(target.body).meta) return null; // a copy itself, not the original the header names
    const asIssue = r.kind === K.pull && !target.pull_request;
    const changed = await this.syncIssue(target, r, issue, pull, asIssue);
    this.bump(num);
    this.ctx.idMap.set(r.kind, r.id, { standbyId: asIssue ? `${num}${AS_ISSUE}` : String(num), version: r.version });
    this.ctx.log.debug('github original adopted (replication reversed)', { scope: this.scope.id, kind: r.kind, id: r.id, standby: num, changed });
    return changed ? 'imported' : 'unchanged';
  }

  /**
   * Bring a standby issue or pull request to the stored version, writing only the fields that
   * differ: an original adopted after a failover keeps its author's body unless it was edited, and
   * an unchanged item costs no content-creating request.
   */
  private async syncIssue(target: Issue, r: ChangeRecord, issue: Issue, pull: PullRecordRaw['pull'] | null, asIssue: boolean): Promise<boolean> {
    const patch: Json = {};
    if (target.title !== issue.title) patch.title = issue.title;
    const body = this.compose(issue.body, r, this.notesFor(r, issue, pull, r.kind === K.pull ? asIssue : true));
    const current = target.body ?? '';
    // Our own copy must say exactly what we write; an original only the author's text.
    if (parseHeader(current).meta ? current !== body : current !== parseHeader(issue.body).body) patch.body = body;
    if (target.state !== issue.state) patch.state = issue.state;
    const labels = labelNames(issue.labels);
    if (labelNames(target.labels).join('\u0000') !== labels.join('\u0000')) patch.labels = labels;
    if ((target.milestone?.title ?? null) !== (issue.milestone?.title ?? null)) patch.milestone = this.milestoneNumber(issue.milestone);
    const assignees = this.assignees(issue);
    if (assignees.length && [...assignees].sort().join(',') !== (target.assignees ?? []).map((a) => a.login).sort().join(',')) patch.assignees = assignees;
    if (!Object.keys(patch).length) return false;
    await this.api('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: target.number, ...patch });
    return true;
  }

  private async isIssueOnStandby(num: number): Promise<boolean> {
    const i = await this.api<{ pull_request?: unknown }>('GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: num });
    return i.pull_request === undefined;
  }

  private async markDeleted(r: ChangeRecord, num: number): Promise<void> {
    const cur = Issue.parse(await this.api('GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: num }));
    const { meta, body } = parseHeader(cur.body);
    if (meta?.deleted) return;
    const title = cur.title.startsWith('[deleted on source] ') ? cur.title : `[deleted on source] ${cur.title}`;
    await this.api('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
      issue_number: num,
      title,
      state: 'closed',
      body: withHeader(body, { kind: r.kind, id: r.id, source: this.sourceName, deleted: true }, [`_Deleted on the source (${r.sourceTime}); kept closed here because issues cannot be deleted through the API._`]),
    });
  }

  private async canCreatePull(pull: PullRecordRaw['pull']): Promise<boolean> {
    if (pull.head.repo && pull.head.repo.full_name.toLowerCase() !== this.sourceRepo) return false; // fork
    if (pull.head.ref === pull.base.ref) return false;
    const git = await this.ctx.lastRecord(K.git, SINGLETON_ID.git);
    const refs = git ? (GitRecordRaw.safeParse(git.raw).data?.refs ?? {}) : {};
    const entry = this.ctx.idMap.get(K.git, SINGLETON_ID.git);
    if (!entry) return false; // nothing pushed yet
    return `refs/heads/${pull.head.ref}` in refs && `refs/heads/${pull.base.ref}` in refs;
  }

  /** POST /pulls; null when GitHub refuses it (no commits between, branches gone ...). */
  private async createPull(r: ChangeRecord, issue: Issue, pull: PullRecordRaw['pull']): Promise<number | null> {
    let created: { number: number };
    try {
      created = await this.createOnce(
        () =>
          this.api<{ number: number }>('POST /repos/{owner}/{repo}/pulls', {
            title: issue.title,
            body: this.compose(issue.body, r, this.notesFor(r, issue, pull, false)),
            head: pull.head.ref,
            base: pull.base.ref,
            draft: pull.draft ?? false,
            maintainer_can_modify: false,
          }),
        () => this.newestByMarker((m) => m?.kind === r.kind && m.id === r.id),
      );
    } catch (err) {
      if (!isStatus(err, 422, 404)) throw err;
      this.ctx.log.info('github pull request not re-creatable as a pull request: imported as an issue', { scope: this.scope.id, number: issue.number, reason: errText(err) });
      await this.maxNumber(true);
      return null;
    }
    this.bump(created.number);
    const labels = labelNames(issue.labels);
    const milestone = this.milestoneNumber(issue.milestone);
    const assignees = this.assignees(issue);
    if (labels.length || milestone !== null || issue.state === 'closed' || assignees.length) {
      await this.api('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
        issue_number: created.number,
        state: issue.state,
        labels,
        milestone,
        ...(assignees.length ? { assignees } : {}),
      });
    }
    return created.number;
  }

  /** Create an issue (through the import endpoint when available); returns its standby number. */
  private async createIssue(r: ChangeRecord, issue: Issue, pull: PullRecordRaw['pull'] | null, comments: ChangeRecord[]): Promise<number> {
    const body = this.compose(issue.body, r, this.notesFor(r, issue, pull, true));
    const labels = labelNames(issue.labels);
    const milestone = this.milestoneNumber(issue.milestone);
    const assignees = this.assignees(issue);
    const commentBodies: Array<{ rec: ChangeRecord; body: string; created_at: string }> = [];
    for (const c of comments) {
      const p = IssueComment.safeParse(c.raw);
      if (!p.success) continue;
      commentBodies.push({ rec: c, body: this.commentBody(c, p.data), created_at: p.data.created_at });
    }
    const viaImport = await this.importEndpoint({
      issue: {
        title: issue.title,
        body,
        created_at: issue.created_at,
        updated_at: issue.updated_at,
        ...(issue.closed_at ? { closed_at: issue.closed_at } : {}),
        closed: issue.state === 'closed',
        labels,
        ...(milestone !== null ? { milestone } : {}),
        ...(assignees[0] ? { assignee: assignees[0] } : {}),
      },
      comments: commentBodies.map((c) => ({ body: c.body, created_at: c.created_at })),
    });
    if (viaImport !== null) {
      this.bump(viaImport);
      if (commentBodies.length) {
        // Map the comments that came with the issue by their markers.
        const list = await listAll<{ id: number; body?: string | null }>(this.client, 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.base, issue_number: viaImport }, { signal: this.ctx.signal });
        const byMarker = new Map<string, number>();
        if (!list.notModified) for (const c of list.data) {
          const { meta } = parseHeader(c.body);
          if (meta?.kind && meta.id) byMarker.set(`${meta.kind}/${meta.id}`, c.id);
        }
        for (const c of commentBodies) {
          const id = byMarker.get(`${c.rec.kind}/${c.rec.id}`);
          if (id === undefined) continue;
          this.ctx.idMap.set(c.rec.kind, c.rec.id, { standbyId: String(id), version: c.rec.version });
          this.withIssue.add(`${c.rec.kind}\u0000${c.rec.id}`);
        }
      }
      return viaImport;
    }
    const created = await this.createOnce(
      () =>
        this.api<{ number: number }>('POST /repos/{owner}/{repo}/issues', {
          title: issue.title,
          body,
          labels,
          ...(milestone !== null ? { milestone } : {}),
          ...(assignees.length ? { assignees } : {}),
        }),
      () => this.newestByMarker((m) => m?.kind === r.kind && m.id === r.id),
    );
    this.bump(created.number);
    if (issue.state === 'closed') await this.api('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: created.number, state: 'closed' });
    return created.number;
  }

  private async createPlaceholder(num: number): Promise<void> {
    const title = `Placeholder for #${num}`;
    const body = withHeader('', { placeholder: num }, [`_#${num} does not exist on the source (deleted, or a number not re-created here); this closed placeholder keeps the standby's numbers aligned with the source._`]);
    const viaImport = await this.importEndpoint({ issue: { title, body, closed: true, created_at: this.client.serverNow().toISOString().replace(/\.\d{3}Z$/, 'Z') }, comments: [] });
    if (viaImport !== null) {
      this.bump(viaImport);
      return;
    }
    const created = await this.createOnce(
      () => this.api<{ number: number }>('POST /repos/{owner}/{repo}/issues', { title, body }),
      () => this.newestByMarker((m) => m?.placeholder === num),
    );
    this.bump(created.number);
    await this.api('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: created.number, state: 'closed', state_reason: 'not_planned' });
  }

  /**
   * POST /import/issues and wait until GitHub imported it. Returns the issue number, or null when
   * the endpoint is off or the standby does not have it (404/415: the plain API is used from then on).
   */
  private async importEndpoint(payload: Json): Promise<number | null> {
    const ep = this.deps.endpoint;
    if (!ep.enabled || ep.available === false) return null;
    let job: ImportJob | null = null;
    for (let attempt = 1; !job; attempt++) {
      const before = this.client.serverNow().getTime();
      try {
        job = await this.api<ImportJob>('POST /repos/{owner}/{repo}/import/issues', { ...payload, headers: { accept: IMPORT_ACCEPT } });
      } catch (err) {
        if (isStatus(err, 404, 415)) {
          ep.available = false;
          this.ctx.log.warn('github standby has no issue import endpoint: issues are created through the plain API (timestamps only in the attribution line)', { scope: this.scope.id });
          return null;
        }
        if (rateLimited(err) && attempt < 5) continue; // refused, nothing queued; the pacer waits
        if (!ambiguous(err) || attempt >= 5) throw err;
        // The job may be queued although the answer was lost: look for a job we did not start.
        const queued = await this.findQueuedImport(before);
        if (queued === undefined) {
          // Cannot tell: stop numbering for this run; the next run adopts the issue by its marker.
          this.creationBlocked = `an issue import request failed in a way that may have queued it (${errText(err)}); new issues wait for the next cycle`;
          throw err;
        }
        job = queued;
      }
    }
    this.knownJobs.add(job.id);
    ep.available = true;
    const deadline = Date.now() + (this.deps.importTimeoutMs ?? 10 * 60_000);
    let delay = 50;
    for (;;) {
      if (job.status === 'imported') {
        const url = job.issue_url;
        if (!url) throw new ItemError('the issue import finished without an issue_url');
        return numberFromUrl(url);
      }
      if (job.status === 'failed') {
        throw new ItemError(`the issue import failed: ${JSON.stringify(job.errors ?? []).slice(0, 300)}`);
      }
      if (Date.now() > deadline) throw new ItemError(`the issue import ${job.id} did not finish in time; it is adopted by its marker next cycle if it completes`);
      await sleep(delay, undefined, { signal: this.ctx.signal });
      delay = Math.min(delay + 50, 1000);
      job = await this.api<ImportJob>('GET /repos/{owner}/{repo}/import/issues/{id}', { id: job.id, headers: { accept: IMPORT_ACCEPT } });
    }
  }

  /**
   * An import job created at or after `sinceMs` that this run did not start (null: none; undefined:
   * the standby cannot list import jobs).
   */
  private async findQueuedImport(sinceMs: number): Promise<ImportJob | null | undefined> {
    let jobs: ImportJob[];
    try {
      jobs = await this.api<ImportJob[]>('GET /repos/{owner}/{repo}/import/issues', { since: new Date(sinceMs - 60_000).toISOString(), headers: { accept: IMPORT_ACCEPT } });
    } catch (err) {
      if (isStatus(err, 404, 415)) return undefined;
      throw err;
    }
    const mine = jobs.filter((j) => !this.knownJobs.has(j.id) && (!j.created_at || Date.parse(j.created_at) >= sinceMs - 5_000)).sort((a, b) => b.id - a.id);
    return mine[0] ?? null;
  }

  // ---------------------------------------------------------------- comments, reviews, review comments

  private parentOf(r: ChangeRecord, kinds: string[]): { num: number; asIssue: boolean } {
    if (!r.parent) throw new ItemError('the stored record has no parent number');
    for (const k of kinds) {
      const e = this.ctx.idMap.get(k, r.parent);
      if (e) return { num: parseInt(e.standbyId, 10), asIssue: k === K.issue || e.standbyId.endsWith(AS_ISSUE) };
    }
    throw new ItemError(`its issue or pull request #${r.parent} is not on the standby yet${this.failedKeys.has(`${K.issue}\u0000${r.parent}`) || this.failedKeys.has(`${K.pull}\u0000${r.parent}`) ? ' (its import failed)' : ''}; retried next cycle`);
  }

  private commentBody(r: ChangeRecord, c: IssueComment): string {
    return this.compose(c.body, r, [attribution(c.user?.login, c.created_at)]);
  }

  /** Standby items of one list by their source markers (read once per run). */
  private async markerIndex(route: string, params: Json): Promise<Map<string, Found>> {
    const idx = new Map<string, Found>();
    const res = await listAll<{ id: number; body?: string | null }>(this.client, route, { ...this.base, ...params }, { signal: this.ctx.signal });
    if (!res.notModified) {
      for (const c of res.data) {
        const { meta } = parseHeader(c.body);
        const found = { id: c.id, body: c.body ?? '' };
        if (meta?.kind && meta.id) idx.set(`${meta.kind}/${meta.id}`, found);
        idx.set(`#${c.id}`, found); // by standby id: originals named by a stored copy's header
      }
    }
    return idx;
  }

  private async comments(): Promise<Map<string, Found>> {
    return (this.commentIndex ??= await this.markerIndex('GET /repos/{owner}/{repo}/issues/comments', {}));
  }

  private async reviewComments(): Promise<Map<string, Found>> {
    return (this.reviewCommentIndex ??= await this.markerIndex('GET /repos/{owner}/{repo}/pulls/comments', {}));
  }

  private async reviews(num: number): Promise<Map<string, Found>> {
    let idx = this.reviewIndexes.get(num);
    if (!idx) this.reviewIndexes.set(num, (idx = await this.markerIndex('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { pull_number: num })));
    return idx;
  }

  /**
   * Where an item is on the standby: from the id map, else by its marker ('c:ID' issue comment,
   * 'r:ID' review, 'rc:ID' review comment), with the body found there.
   */
  private async locate(r: ChangeRecord, where: Array<'c' | 'r' | 'rc'>, pullNum: number | null): Promise<Located | null> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (entry) return { standbyId: entry.standbyId };
    const lookup = async (w: 'c' | 'r' | 'rc', key: string): Promise<Found | undefined> =>
      w === 'c' ? (await this.comments()).get(key) : w === 'rc' ? (await this.reviewComments()).get(key) : pullNum !== null ? (await this.reviews(pullNum)).get(key) : undefined;
    for (const w of where) {
      const found = await lookup(w, `${r.kind}/${r.id}`);
      if (found !== undefined) return { standbyId: `${w}:${found.id}`, body: found.body };
    }
    // Replication reversed after a failover: the stored copy names its original on this standby.
    // The original may be of another kind: a review or review comment of a pull request that the
    // other side holds as an issue is an issue comment there.
    const origin = r.op === 'upsert' ? this.originOf((r.raw as { body?: string | null } | null)?.body) : null;
    const w = origin ? WHERE[origin.kind] : undefined;
    if (origin && w) {
      const found = await lookup(w, `#${origin.id}`);
      if (found !== undefined && !parseHeader(found.body).meta) return { standbyId: `${w}:${found.id}`, body: found.body, original: true };
    }
    return null;
  }

  private static split(standbyId: string): { type: 'c' | 'r' | 'rc'; id: number } {
    const m = /^(c|r|rc):(\d+)$/.exec(standbyId);
    if (m) return { type: m[1] as 'c' | 'r' | 'rc', id: Number(m[2]) };
    return { type: 'c', id: Number(standbyId) }; // issue comments are stored as the bare id
  }

  private async deleteOrIgnore(route: string, params: Json): Promise<void> {
    await this.api(route, params).catch((err: unknown) => {
      if (!isStatus(err, 404)) throw err;
    });
  }

  /** POST an issue comment once (found by its marker after an ambiguous failure). */
  private postIssueComment(num: number, body: string, r: ChangeRecord): Promise<{ id: number }> {
    return this.createOnce(
      () => this.api<{ id: number }>('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { issue_number: num, body }),
      async () => {
        const all = await listAll<{ id: number; body?: string | null }>(this.client, 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.base, issue_number: num }, { signal: this.ctx.signal });
        return all.notModified ? null : RepoImport.markerFind(all.data, r.kind, r.id);
      },
    );
  }

  private async importIssueComment(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    if (this.withIssue.has(`${r.kind}\u0000${r.id}`)) return 'imported';
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'upsert' && entry?.version === r.version) return 'unchanged';
    if (r.op === 'delete') {
      const at = await this.locate(r, ['c'], null);
      if (!at) return 'unchanged';
      const s = RepoImport.split(at.standbyId);
      if (s.type === 'rc') await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}', { comment_id: s.id });
      else if (s.type === 'c') await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id });
      // An adopted original review ('r'): submitted reviews cannot be deleted; verification shows it.
      else this.ctx.log.warn('github review kept on the standby: its copy was deleted on the source, and submitted reviews cannot be deleted', { scope: this.scope.id, id: r.id, review: s.id });
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    const c = this.parseRaw(IssueComment, r);
    const parent = this.parentOf(r, [K.issue, K.pull]);
    const body = this.commentBody(r, c);
    const at = await this.locate(r, ['c'], parent.num);
    let standbyId: string | null = null;
    if (at && RepoImport.same(at, body, c.body)) standbyId = at.standbyId; // adopted as it is
    else if (at) {
      try {
        await this.rewrite(RepoImport.split(at.standbyId), parent.num, body);
        standbyId = at.standbyId;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
    standbyId ??= String((await this.postIssueComment(parent.num, body, r)).id);
    // Issue comments are mapped by their bare id; adopted originals of other kinds keep their prefix.
    const s = RepoImport.split(standbyId);
    this.ctx.idMap.set(r.kind, r.id, { standbyId: s.type === 'c' ? String(s.id) : `${s.type}:${s.id}`, version: r.version });
    return 'imported';
  }

  /** Write a new body into a standby comment, review or review comment. */
  private async rewrite(s: { type: 'c' | 'r' | 'rc'; id: number }, pullNum: number, body: string): Promise<void> {
    if (s.type === 'r') await this.api('PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', { pull_number: pullNum, review_id: s.id, body });
    else if (s.type === 'rc') await this.api('PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}', { comment_id: s.id, body });
    else await this.api('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id, body });
  }

  private async importReview(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'upsert' && entry?.version === r.version) return 'unchanged';
    const parent = this.parentOf(r, [K.pull, K.issue]);
    if (r.op === 'delete') {
      const at = await this.locate(r, parent.asIssue ? ['c'] : ['r', 'c'], parent.asIssue ? null : parent.num);
      if (at) {
        const s = RepoImport.split(at.standbyId);
        if (s.type === 'c') await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id });
        else {
          // Submitted reviews cannot be deleted: keep it, marked deleted (verification skips it).
          const last = await this.ctx.lastRecord(r.kind, r.id);
          const prevBody = last ? (Review.safeParse(last.raw).data?.body ?? '') : '';
          await this.api('PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', {
            pull_number: parent.num,
            review_id: s.id,
            body: withHeader(parseHeader(prevBody).body, { kind: r.kind, id: r.id, source: this.sourceName, deleted: true }, ['_Deleted on the source._']),
          }).catch(async (err: unknown) => {
            if (!isStatus(err, 404)) throw err;
            await this.refuseIfReviewExists(parent.num, s.id);
          });
        }
      }
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    const rv = this.parseRaw(Review, r);
    const body = this.compose(rv.body, r, [attribution(rv.user?.login, rv.submitted_at, `review: ${rv.state.toLowerCase().replace(/_/g, ' ')}`)]);
    const at = await this.locate(r, parent.asIssue ? ['c'] : ['r', 'c'], parent.asIssue ? null : parent.num);
    let standbyId: string | null = null;
    if (at && RepoImport.same(at, body, rv.body)) standbyId = at.standbyId; // adopted as it is
    else if (at) {
      const s = RepoImport.split(at.standbyId);
      try {
        if (s.type === 'r') await this.api('PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}', { pull_number: parent.num, review_id: s.id, body });
        else await this.api('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id, body });
        standbyId = `${s.type}:${s.id}`;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        if (s.type === 'r') await this.refuseIfReviewExists(parent.num, s.id);
      }
    }
    if (!standbyId) {
      if (!parent.asIssue) {
        const created = await this.createOnce(
          () => this.api<{ id: number }>('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { pull_number: parent.num, body, event: 'COMMENT' }),
          async () => {
            const all = await listAll<{ id: number; body?: string | null }>(this.client, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { ...this.base, pull_number: parent.num }, { signal: this.ctx.signal });
            return all.notModified ? null : RepoImport.markerFind(all.data, r.kind, r.id);
          },
        );
        standbyId = `${REVIEW_PREFIX}${created.id}`;
      } else {
        standbyId = `${COMMENT_PREFIX}${(await this.postIssueComment(parent.num, body, r)).id}`;
      }
    }
    this.ctx.idMap.set(r.kind, r.id, { standbyId, version: r.version });
    return 'imported';
  }

  /** A 404 on updating a review that still exists means the standby cannot update reviews: never duplicate it. */
  private async refuseIfReviewExists(pullNum: number, reviewId: number): Promise<void> {
    const all = await listAll<{ id: number }>(this.client, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { ...this.base, pull_number: pullNum }, { signal: this.ctx.signal });
    if (!all.notModified && all.data.some((x) => x.id === reviewId)) {
      throw new ItemError(`the standby answered 404 to updating review ${reviewId} of #${pullNum} although it exists (PUT /pulls/{n}/reviews/{id} unsupported?); the review body was not updated`);
    }
  }

  private async importReviewComment(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'upsert' && entry?.version === r.version) return 'unchanged';
    if (r.op === 'delete') {
      const at = await this.locate(r, ['rc', 'c'], null);
      if (at) {
        const s = RepoImport.split(at.standbyId);
        if (s.type === 'rc') await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}', { comment_id: s.id });
        else await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id });
      }
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    const c = this.parseRaw(ReviewComment, r);
    const parent = this.parentOf(r, [K.pull, K.issue]);
    const notes = [attribution(c.user?.login, c.created_at)];
    const body = this.compose(c.body, r, notes);
    const fallbackBody = this.compose(c.body, r, [
      attribution(c.user?.login, c.created_at, `review comment on \`${c.path}\`${c.original_line ?? c.line ? ` line ${c.original_line ?? c.line}` : ''}`),
      ...(c.diff_hunk ? ['```diff', c.diff_hunk.replace(/```/g, '` ` `'), '```'] : []),
    ]);
    const at = await this.locate(r, ['rc', 'c'], null);
    let standbyId: string | null = null;
    if (at && RepoImport.same(at, body, c.body, fallbackBody)) standbyId = at.standbyId; // adopted as it is
    else if (at) {
      const s = RepoImport.split(at.standbyId);
      try {
        if (s.type === 'rc') await this.api('PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}', { comment_id: s.id, body });
        else await this.api('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { comment_id: s.id, body: fallbackBody });
        standbyId = `${s.type}:${s.id}`;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
    if (!standbyId && !parent.asIssue) {
      const reply = c.in_reply_to_id ? this.ctx.idMap.get(r.kind, String(c.in_reply_to_id)) : undefined;
      const replyTo = reply ? RepoImport.split(reply.standbyId) : null;
      const params: Json =
        replyTo?.type === 'rc'
          ? { body, in_reply_to: replyTo.id }
          : c.line
            ? { body, commit_id: c.commit_id, path: c.path, line: c.line, side: c.side ?? 'RIGHT', ...(c.start_line ? { start_line: c.start_line, start_side: c.start_side ?? c.side ?? 'RIGHT' } : {}) }
            : c.original_line
              ? { body, commit_id: c.original_commit_id, path: c.path, line: c.original_line, side: c.side ?? 'RIGHT', ...(c.original_start_line ? { start_line: c.original_start_line, start_side: c.start_side ?? c.side ?? 'RIGHT' } : {}) }
              : { body, commit_id: c.original_commit_id ?? c.commit_id, path: c.path, subject_type: 'file' };
      try {
        const created = await this.createOnce(
          () => this.api<{ id: number }>('POST /repos/{owner}/{repo}/pulls/{pull_number}/comments', { pull_number: parent.num, ...params }),
          async () => {
            const all = await listAll<{ id: number; body?: string | null }>(this.client, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/comments', { ...this.base, pull_number: parent.num }, { signal: this.ctx.signal });
            return all.notModified ? null : RepoImport.markerFind(all.data, r.kind, r.id);
          },
        );
        standbyId = `${REVIEW_COMMENT_PREFIX}${created.id}`;
      } catch (err) {
        if (!isStatus(err, 422, 404)) throw err;
        this.ctx.log.debug('github review comment position not re-creatable: imported as an issue comment', { scope: this.scope.id, id: r.id, reason: errText(err) });
      }
    }
    if (!standbyId) {
      standbyId = `${COMMENT_PREFIX}${(await this.postIssueComment(parent.num, fallbackBody, r)).id}`;
    }
    this.ctx.idMap.set(r.kind, r.id, { standbyId, version: r.version });
    return 'imported';
  }

  // ---------------------------------------------------------------- releases and assets

  private async releases(): Promise<Map<string, Release>> {
    if (!this.releaseIndex) {
      this.releaseIndex = new Map();
      const res = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/releases', this.base, { signal: this.ctx.signal });
      if (!res.notModified) for (const raw of res.data) {
        const rel = Release.parse(raw);
        const { meta } = parseHeader(rel.body);
        this.releaseIndex.set(meta?.kind === K.release && meta.id ? `id:${meta.id}` : `tag:${rel.tag_name}`, rel);
        this.releaseIndex.set(`tag:${rel.tag_name}`, rel);
      }
    }
    return this.releaseIndex;
  }

  private async importRelease(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'upsert' && entry?.version === r.version) return 'unchanged';
    if (r.op === 'delete') {
      let id = entry ? Number(entry.standbyId) : (await this.releases()).get(`id:${r.id}`)?.id;
      if (id === undefined) {
        const last = await this.ctx.lastRecord(r.kind, r.id);
        const tag = last ? Release.safeParse(last.raw).data?.tag_name : undefined;
        id = tag ? (await this.releases()).get(`tag:${tag}`)?.id : undefined;
      }
      if (id !== undefined) await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/releases/{release_id}', { release_id: id });
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    const rel = this.parseRaw(Release, r);
    const body: Json = {
      tag_name: rel.tag_name,
      name: rel.name ?? '',
      body: this.compose(rel.body, r, [attribution(rel.author?.login, rel.published_at ?? rel.created_at)]),
      draft: rel.draft,
      prerelease: rel.prerelease,
    };
    const adopt = entry ? undefined : ((await this.releases()).get(`id:${r.id}`) ?? (await this.releases()).get(`tag:${rel.tag_name}`));
    let id = entry ? Number(entry.standbyId) : adopt?.id;
    let saved: Release | null = null;
    // Adopted as it is when it already says the same (an original after a failover stays untouched).
    if (adopt && (adopt.name ?? '') === (rel.name ?? '') && parseHeader(adopt.body).body === parseHeader(rel.body).body && adopt.draft === rel.draft && adopt.prerelease === rel.prerelease) saved = adopt;
    if (id !== undefined && !saved) {
      try {
        saved = Release.parse(await this.api('PATCH /repos/{owner}/{repo}/releases/{release_id}', { release_id: id, ...body }));
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        id = undefined;
      }
    }
    if (!saved) {
      const find = async (): Promise<unknown> => {
        const all = await listAll<unknown>(this.client, 'GET /repos/{owner}/{repo}/releases', this.base, { signal: this.ctx.signal });
        return all.notModified ? null : (all.data.map((x) => Release.parse(x)).find((x) => x.tag_name === rel.tag_name) ?? null);
      };
      try {
        saved = Release.parse(await this.createOnce<unknown>(() => this.api('POST /repos/{owner}/{repo}/releases', { ...body, ...(rel.target_commitish ? { target_commitish: rel.target_commitish } : {}) }), find));
      } catch (err) {
        if (!isStatus(err, 422) || !rel.target_commitish) throw err;
        saved = Release.parse(await this.createOnce<unknown>(() => this.api('POST /repos/{owner}/{repo}/releases', body), find));
      }
    }
    this.standbyReleases.set(String(saved.id), saved);
    this.ctx.idMap.set(r.kind, r.id, { standbyId: String(saved.id), version: r.version });
    return 'imported';
  }

  private async standbyRelease(id: string, refresh = false): Promise<Release> {
    let rel = this.standbyReleases.get(id);
    if (!rel || refresh) {
      rel = Release.parse(await this.api('GET /repos/{owner}/{repo}/releases/{release_id}', { release_id: Number(id) }));
      this.standbyReleases.set(id, rel);
    }
    return rel;
  }

  private async importAsset(r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> {
    const entry = this.ctx.idMap.get(r.kind, r.id);
    if (r.op === 'upsert' && entry?.version === r.version) return 'unchanged';
    if (r.op === 'delete') {
      if (entry) await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}', { asset_id: Number(entry.standbyId) });
      this.ctx.idMap.delete(r.kind, r.id);
      return 'deleted';
    }
    const a = this.parseRaw(Asset, r);
    const blob = r.blobs?.asset;
    if (!blob) throw new ItemError('the stored record has no asset blob');
    const relEntry = r.parent ? this.ctx.idMap.get(K.release, r.parent) : undefined;
    if (!relEntry) throw new ItemError(`its release ${r.parent ?? '?'} is not on the standby yet; retried next cycle`);
    const rel = await this.standbyRelease(relEntry.standbyId, true);
    const existing = rel.assets.find((x) => (entry ? String(x.id) === entry.standbyId : false)) ?? rel.assets.find((x) => x.name === a.name);
    if (existing) {
      const sameContent = existing.size === blob.size && (!existing.digest || existing.digest === `sha256:${blob.sha256}`);
      if (sameContent) {
        if (existing.name !== a.name || (existing.label ?? '') !== (a.label ?? '')) {
          await this.api('PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}', { asset_id: existing.id, name: a.name, label: a.label ?? '' });
        }
        this.ctx.idMap.set(r.kind, r.id, { standbyId: String(existing.id), version: r.version });
        return 'imported';
      }
      await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}', { asset_id: existing.id });
    }
    const uploaded = await this.upload(rel, a, blob.sha256, blob.size);
    this.ctx.progress({ bytes: blob.size });
    this.ctx.idMap.set(r.kind, r.id, { standbyId: String(uploaded), version: r.version });
    return 'imported';
  }

  /**
   * Stream a stored blob to the release's upload URL, each attempt with a fresh stream (the plugins
   * never replay it); after an ambiguous failure the release is checked for the asset first.
   */
  private async upload(rel: Release, a: Asset, sha256: string, size: number): Promise<number> {
    if (!rel.upload_url) throw new ItemError(`standby release ${rel.id} has no upload_url`);
    const uploadUrl = rel.upload_url;
    const created = await this.createOnce<{ id: number }>(
      async () => {
        const body = await this.ctx.getBlob(sha256);
        try {
          const res = await this.client.octokit.request({
            method: 'POST',
            url: uploadUrl,
            name: a.name,
            ...(a.label ? { label: a.label } : {}),
            data: body,
            headers: { 'content-type': a.content_type || 'application/octet-stream', 'content-length': size },
            request: { signal: this.ctx.signal, retries: 0, norestoreNoReplay: true },
          });
          return res.data as { id: number };
        } finally {
          body.destroy();
        }
      },
      async () => {
        const fresh = await this.standbyRelease(String(rel.id), true);
        const found = fresh.assets.find((x) => x.name === a.name);
        if (!found) return null;
        if (found.size === size && (found.state ?? 'uploaded') === 'uploaded') return { id: found.id };
        // A broken upload left a partial asset under the name: remove it before trying again.
        await this.deleteOrIgnore('DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}', { asset_id: found.id });
        return null;
      },
    );
    return created.id;
  }
}
