/**
 * Incremental export of one repository scope.
 *
 * Position (cursor): per list the `since` sent and the ETag of the answer to exactly that request,
 * ETags of the full lists (labels, milestones, releases), deletion probes, and the time of the last
 * full reconciliation. In a cycle without changes every request is conditional and answered 304,
 * which does not count against the primary rate limit.
 *
 * Deletions: labels, milestones, releases and assets by difference of their full lists against what
 * is possessed. Issues, pull requests, comments and review comments by a full reconciliation, run
 * when (a) there is no valid cursor (none, unreadable, or "from the future"), (b) a probe shows the
 * source holds fewer items than possessed (GET ...?per_page=1&page=<count possessed> comes back
 * empty), or (c) the last one is older than reconcileEveryMs (default 24 h). Items are only emitted
 * when their version differs from the possessed one, so a full resync emits only real changes.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ExportContext, ScopeRef } from '../../src/model/connector.js';
import type { ChangeRecordInput, Cursor } from '../../src/model/records.js';
import { getConditional, isStatus, listAll, type GithubClient } from './client.js';
import { snapshotGit, type GitState } from './git.js';
import { dueDate, labelNames, normRepo, numberFromUrl, parseHeader } from './normalize.js';
import { Asset, CURSOR_VERSION, GithubCursor, GitRecordRaw, Issue, IssueComment, Label, Milestone, Pull, Release, Repo, Review, ReviewComment } from './schema.js';
import { K, SINGLETON_ID } from './types.js';

/** `since` is moved back by this much, so changes indexed late are still seen (re-seen items are not re-emitted). */
export const SINCE_OVERLAP_MS = 60_000;
/** A cursor more than this far ahead of the server clock is "from the future": full resync. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface ExportDeps {
  client: GithubClient;
  reconcileEveryMs: number;
}

export function versionHash(value: unknown): string {
  return 'h:' + createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}

/**
 * Version of an issue or pull request: updated_at, plus its label names and milestone title, which
 * change without moving updated_at when a label or milestone is renamed or deleted.
 */
export function issueVersion(issue: Issue): string {
  const extra = createHash('sha256').update(JSON.stringify([labelNames(issue.labels), issue.milestone?.title ?? null])).digest('hex').slice(0, 10);
  return `${issue.updated_at}#${extra}`;
}

export function repoNameOf(scope: ScopeRef): string {
  const slash = scope.name.indexOf('/');
  return slash >= 0 ? scope.name.slice(slash + 1) : scope.name;
}

function parseItems<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, items: unknown[], what: string): T[] {
  return items.map((item, i) => {
    const r = schema.safeParse(item);
    if (!r.success) throw new Error(`GitHub returned a ${what} (#${i}) that does not have the expected shape: ${r.error.message.slice(0, 300)}`);
    return r.data;
  });
}

/** The cursor, or null when it is missing, unreadable or ahead of the server clock. */
export function readCursor(raw: Cursor | null, now: Date, log: ExportContext['log'], scope: string): GithubCursor | null {
  if (!raw) return null;
  const parsed = GithubCursor.safeParse(raw);
  if (!parsed.success) {
    log.warn('github cursor unreadable: full resync of the scope', { scope });
    return null;
  }
  const c = parsed.data;
  const limit = now.getTime() + FUTURE_TOLERANCE_MS;
  const times = [c.exportedAt, c.lastFullAt, c.issues.since, c.issueComments.since, c.reviewComments.since].filter((t): t is string => !!t);
  if (times.some((t) => Number.isNaN(Date.parse(t)) || Date.parse(t) > limit)) {
    log.warn('github cursor is ahead of the server clock: full resync of the scope', { scope });
    return null;
  }
  return c;
}

/** Bodies norestore wrote as bookkeeping on a standby: placeholders and items deleted on the other side. */
function bookkeeping(body: string | null | undefined): boolean {
  const { meta } = parseHeader(body);
  return !!meta && (meta.placeholder !== undefined || meta.deleted === true);
}

export async function exportRepo(deps: ExportDeps, scope: ScopeRef, cursorIn: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const { client } = deps;
  const owner = client.tenant.org;
  const repo = repoNameOf(scope);
  const base = { owner, repo };
  const signal = ctx.signal;
  const log = ctx.log;

  // Repository metadata first (conditional): it also gives the server clock for the cursor checks.
  const earlier = cursorIn ? GithubCursor.safeParse(cursorIn) : null;
  const lastRepo = await ctx.lastRecord(K.repo, SINGLETON_ID.repo);
  let repoRes;
  try {
    repoRes = await getConditional<unknown>(client, 'GET /repos/{owner}/{repo}', base, earlier?.success && lastRepo ? earlier.data.repo.etag : undefined, signal);
  } catch (err) {
    if (isStatus(err, 404)) throw new Error(`repository ${owner}/${repo} is not on the source (deleted, renamed or no access): check the include list and the token's access`);
    throw err;
  }
  const now = client.serverNow();
  const nowIso = now.toISOString();
  const prev = readCursor(cursorIn, now, log, scope.id);
  const full = !prev || now.getTime() - Date.parse(prev.lastFullAt) >= deps.reconcileEveryMs;
  if (prev && full) log.info('github periodic reconciliation (deletions by difference)', { scope: scope.id });

  let emitted = 0;
  const emit = async (r: ChangeRecordInput): Promise<void> => {
    await ctx.emit(r);
    emitted++;
    ctx.progress({ items: 1, bytes: Object.values(r.blobs ?? {}).reduce((n, b) => n + b.size, 0) });
  };
  const tombstone = (kind: string, id: string, parent?: string): ChangeRecordInput => ({ kind, id, op: 'delete', version: `deleted@${nowIso}`, sourceTime: nowIso, ...(parent ? { parent } : {}) });

  // --- repository settings ---
  const repoRaw = repoRes.notModified ? lastRepo!.raw : repoRes.data;
  const repoData = Repo.parse(repoRaw);
  const pushedAt = repoRes.notModified ? (earlier?.success ? earlier.data.repo.pushedAt : null) : (repoData.pushed_at ?? null);
  if (!repoRes.notModified) {
    const possessed = await ctx.possessed(K.repo);
    const version = versionHash(normRepo(repoData));
    if (possessed.get(SINGLETON_ID.repo) !== version) {
      await emit({ kind: K.repo, id: SINGLETON_ID.repo, op: 'upsert', version, sourceTime: repoData.updated_at ?? nowIso, raw: repoRes.data });
    }
  }

  // --- git and wiki ---
  const gitEnv = await client.gitEnv();
  for (const which of ['git', 'wiki'] as const) {
    const kind = which === 'git' ? K.git : K.wiki;
    const id = which === 'git' ? SINGLETON_ID.git : SINGLETON_ID.wiki;
    if (which === 'wiki' && repoData.has_wiki === false) continue;
    const lastRec = await ctx.lastRecord(kind, id);
    const last = lastRec ? { state: GitRecordRaw.parse(lastRec.raw) as GitState, blobs: lastRec.blobs ?? {} } : null;
    const snap = await snapshotGit({
      dir: join(ctx.workDir, 'github', which === 'git' ? 'source.git' : 'source-wiki.git'),
      url: client.gitUrl(repo, which === 'wiki'),
      env: gitEnv,
      last,
      io: ctx,
      tmpDir: join(ctx.workDir, 'github', 'tmp'),
      allowAbsent: which === 'wiki',
      signal,
    });
    if (snap.status === 'absent') {
      if (last) log.info('github wiki no longer reachable on the source: the stored wiki is kept', { scope: scope.id });
      continue;
    }
    if (snap.status === 'unchanged' || !snap.state) continue;
    await emit({
      kind,
      id,
      op: 'upsert',
      version: versionHash(snap.state.refs),
      sourceTime: which === 'git' ? (pushedAt ?? nowIso) : nowIso,
      raw: snap.state,
      blobs: snap.blobs,
    });
  }

  // --- labels, milestones: full lists, deletions by difference ---
  // Renamed or deleted labels and milestones change issues without moving their updated_at.
  const affectedLabels = new Set<string>();
  const affectedMilestones = new Set<number>();
  const labels = await listAll<unknown>(client, 'GET /repos/{owner}/{repo}/labels', base, { etag: full ? undefined : prev?.labels.etag, signal });
  if (!labels.notModified) {
    const possessed = await ctx.possessed(K.label);
    const seen = new Set<string>();
    const oldName = async (id: string) => Label.safeParse((await ctx.lastRecord(K.label, id))?.raw).data?.name;
    for (const l of parseItems(Label, labels.data, 'label')) {
      const id = String(l.id);
      seen.add(id);
      const version = versionHash([l.name, l.color ?? '', l.description ?? '']);
      if (possessed.get(id) === version) continue;
      const old = possessed.has(id) ? await oldName(id) : undefined;
      if (old !== undefined && old !== l.name) affectedLabels.add(old);
      await emit({ kind: K.label, id, op: 'upsert', version, sourceTime: nowIso, raw: l });
    }
    for (const id of possessed.keys()) {
      if (seen.has(id)) continue;
      const old = await oldName(id);
      if (old !== undefined) affectedLabels.add(old);
      await emit(tombstone(K.label, id));
    }
  }
  const milestones = await listAll<unknown>(client, 'GET /repos/{owner}/{repo}/milestones', { ...base, state: 'all' }, { etag: full ? undefined : prev?.milestones.etag, signal });
  if (!milestones.notModified) {
    const possessed = await ctx.possessed(K.milestone);
    const seen = new Set<string>();
    for (const m of parseItems(Milestone, milestones.data, 'milestone')) {
      const id = String(m.number);
      seen.add(id);
      const version = versionHash([m.updated_at, m.title, m.state, m.description ?? '', dueDate(m.due_on)]);
      if (possessed.get(id) === version) continue;
      if (possessed.has(id)) {
        const old = Milestone.safeParse((await ctx.lastRecord(K.milestone, id))?.raw).data?.title;
        if (old !== undefined && old !== m.title) affectedMilestones.add(m.number);
      }
      await emit({ kind: K.milestone, id, op: 'upsert', version, sourceTime: m.updated_at, raw: m });
    }
    for (const id of possessed.keys()) {
      if (seen.has(id)) continue;
      affectedMilestones.add(Number(id));
      await emit(tombstone(K.milestone, id));
    }
  }

  // --- issues and pull requests ---
  const possessedIssues = await ctx.possessed(K.issue);
  const possessedPulls = await ctx.possessed(K.pull);
  const possessedReviews = await ctx.possessed(K.review);
  const liveNumbers = new Set([...possessedIssues.keys(), ...possessedPulls.keys()]);
  const emittedNumbers = new Set<string>();
  const exportIssues = async (items: unknown[]): Promise<void> => {
    for (const issue of parseItems(Issue, items, 'issue')) {
      signal.throwIfAborted();
      const id = String(issue.number);
      const isPull = issue.pull_request !== undefined;
      const possessed = isPull ? possessedPulls : possessedIssues;
      if (bookkeeping(issue.body)) {
        // A placeholder or a deleted item norestore keeps here as the standby of another direction
        // (before a failover): nobody's data, never possessed. The deletion probe then counts fewer
        // possessed than listed, so it stays quiet; the daily reconciliation still runs.
        if (liveNumbers.delete(id)) await emit(tombstone(isPull ? K.pull : K.issue, id));
        continue;
      }
      liveNumbers.add(id);
      const version = issueVersion(issue);
      if (possessed.get(id) === version || emittedNumbers.has(id)) continue;
      emittedNumbers.add(id);
      if (!isPull) {
        await emit({ kind: K.issue, id, op: 'upsert', version, sourceTime: issue.updated_at, raw: issue });
        continue;
      }
      const pull = Pull.parse((await client.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...base, pull_number: issue.number, request: { signal } })).data);
      await emit({ kind: K.pull, id, op: 'upsert', version, sourceTime: issue.updated_at, raw: { issue, pull } });
      const reviews = await listAll<unknown>(client, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { ...base, pull_number: issue.number }, { signal });
      if (reviews.notModified) continue;
      for (const r of parseItems(Review, reviews.data, 'review')) {
        if (r.state === 'PENDING') continue; // visible to its author only, not submitted
        if (bookkeeping(r.body)) continue; // a review deleted on another side, kept marked here
        // GitHub wraps every review comment made on its own in an empty COMMENTED review: no content
        // of its own (the comment is exported as a review comment), and no import could avoid a second wrapper.
        if (r.state === 'COMMENTED' && !(r.body ?? '').trim()) continue;
        const rid = String(r.id);
        const version = versionHash([r.state, r.body ?? '', r.submitted_at ?? '', r.commit_id ?? '']);
        if (possessedReviews.get(rid) !== version) await emit({ kind: K.review, id: rid, op: 'upsert', version, sourceTime: r.submitted_at ?? issue.updated_at, parent: id, raw: r });
      }
    }
  };
  const issuesSince = await sinceList({
    client,
    route: 'GET /repos/{owner}/{repo}/issues',
    params: { ...base, state: 'all', sort: 'updated', direction: 'asc' },
    prev: full ? null : (prev?.issues ?? null),
    signal,
    handle: exportIssues,
    what: 'issues',
    log,
  });
  if (affectedLabels.size || affectedMilestones.size) {
    // Re-read the possessed issues that carry a renamed or deleted label or milestone.
    for (const [kind, possessed] of [
      [K.issue, possessedIssues],
      [K.pull, possessedPulls],
    ] as const) {
      for (const id of possessed.keys()) {
        if (emittedNumbers.has(id)) continue;
        const rec = await ctx.lastRecord(kind, id);
        const raw = kind === K.pull ? (rec?.raw as { issue?: unknown } | undefined)?.issue : rec?.raw;
        const stored = Issue.safeParse(raw).data;
        if (!stored) continue;
        const hit = labelNames(stored.labels).some((n) => affectedLabels.has(n)) || (stored.milestone ? affectedMilestones.has(stored.milestone.number) : false);
        if (!hit) continue;
        try {
          const fresh = (await client.octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...base, issue_number: Number(id), request: { signal } })).data;
          await exportIssues([fresh]);
        } catch (err) {
          if (!isStatus(err, 404, 410)) throw err; // gone: the deletion probe handles it
        }
      }
    }
  }
  const issueDeleted = async (seen: Set<string>): Promise<void> => {
    for (const id of [...liveNumbers]) {
      if (seen.has(id)) continue;
      liveNumbers.delete(id);
      await emit(tombstone(possessedPulls.has(id) ? K.pull : K.issue, id));
    }
  };

  // --- issue comments (repository-wide, since) ---
  const possessedComments = await ctx.possessed(K.issueComment);
  const liveComments = new Set(possessedComments.keys());
  const exportComments = async (items: unknown[]): Promise<void> => {
    for (const c of parseItems(IssueComment, items, 'issue comment')) {
      const id = String(c.id);
      liveComments.add(id);
      if (possessedComments.get(id) === c.updated_at) continue;
      await emit({ kind: K.issueComment, id, op: 'upsert', version: c.updated_at, sourceTime: c.updated_at, parent: String(numberFromUrl(c.issue_url)), raw: c });
    }
  };
  const commentsSince = await sinceList({
    client,
    route: 'GET /repos/{owner}/{repo}/issues/comments',
    params: { ...base, sort: 'updated', direction: 'asc' },
    prev: full ? null : (prev?.issueComments ?? null),
    signal,
    handle: exportComments,
    what: 'issue comments',
    log,
  });

  // --- review comments (repository-wide, since) ---
  const possessedRc = await ctx.possessed(K.reviewComment);
  const liveRc = new Set(possessedRc.keys());
  const exportReviewComments = async (items: unknown[]): Promise<void> => {
    for (const c of parseItems(ReviewComment, items, 'review comment')) {
      const id = String(c.id);
      liveRc.add(id);
      if (possessedRc.get(id) === c.updated_at) continue;
      await emit({ kind: K.reviewComment, id, op: 'upsert', version: c.updated_at, sourceTime: c.updated_at, parent: String(numberFromUrl(c.pull_request_url)), raw: c });
    }
  };
  const rcSince = await sinceList({
    client,
    route: 'GET /repos/{owner}/{repo}/pulls/comments',
    params: { ...base, sort: 'updated', direction: 'asc' },
    prev: full ? null : (prev?.reviewComments ?? null),
    signal,
    handle: exportReviewComments,
    what: 'review comments',
    log,
  });

  // --- deletions of issues and comments: full listing (reconciliation) or probe ---
  const probes: GithubCursor['probes'] = {};
  const lists = [
    {
      key: 'issues',
      route: 'GET /repos/{owner}/{repo}/issues',
      params: { ...base, state: 'all' },
      result: issuesSince,
      live: liveNumbers,
      ids: (items: unknown[]) => parseItems(Issue, items, 'issue').map((i) => String(i.number)),
      onDeleted: issueDeleted,
    },
    {
      key: 'issueComments',
      route: 'GET /repos/{owner}/{repo}/issues/comments',
      params: base,
      result: commentsSince,
      live: liveComments,
      ids: (items: unknown[]) => parseItems(IssueComment, items, 'issue comment').map((c) => String(c.id)),
      onDeleted: async (seen: Set<string>) => {
        for (const id of [...liveComments]) {
          if (seen.has(id)) continue;
          liveComments.delete(id);
          await emit(tombstone(K.issueComment, id));
        }
      },
    },
    {
      key: 'reviewComments',
      route: 'GET /repos/{owner}/{repo}/pulls/comments',
      params: base,
      result: rcSince,
      live: liveRc,
      ids: (items: unknown[]) => parseItems(ReviewComment, items, 'review comment').map((c) => String(c.id)),
      onDeleted: async (seen: Set<string>) => {
        for (const id of [...liveRc]) {
          if (seen.has(id)) continue;
          liveRc.delete(id);
          await emit(tombstone(K.reviewComment, id));
        }
      },
    },
  ] as const;
  for (const l of lists) {
    if (l.result.disabled) continue;
    if (l.result.complete) {
      // The since-list was a full listing: everything not in it is gone.
      await l.onDeleted(l.result.seen);
      continue;
    }
    const k = l.live.size;
    if (k === 0) continue;
    const old = prev?.probes[l.key];
    const probe = await getConditional<unknown[]>(client, l.route, { ...l.params, per_page: 1, page: k }, old && old.k === k ? old.etag : undefined, signal);
    if (probe.notModified || (Array.isArray(probe.data) && probe.data.length > 0)) {
      probes[l.key] = { k, etag: probe.notModified ? old?.etag : probe.etag };
      continue;
    }
    log.info(`github ${l.key}: fewer on the source than possessed, reconciling`, { scope: scope.id, possessed: k });
    const ids = new Set<string>();
    await listAll<unknown>(client, l.route, l.params, { signal, onPage: async (page) => void l.ids(page).forEach((id) => ids.add(id)) });
    await l.onDeleted(ids);
  }

  // --- releases and assets: full list, deletions by difference, assets streamed ---
  const releases = await listAll<unknown>(client, 'GET /repos/{owner}/{repo}/releases', base, { etag: full ? undefined : prev?.releases.etag, signal });
  if (!releases.notModified) {
    const possessedRel = await ctx.possessed(K.release);
    const possessedAssets = await ctx.possessed(K.asset);
    const seenRel = new Set<string>();
    const seenAssets = new Set<string>();
    for (const r of parseItems(Release, releases.data, 'release')) {
      const id = String(r.id);
      seenRel.add(id);
      const version = versionHash([r.updated_at ?? '', r.tag_name, r.target_commitish ?? '', r.name ?? '', r.body ?? '', r.draft, r.prerelease]);
      const { assets, ...rest } = r;
      if (possessedRel.get(id) !== version) await emit({ kind: K.release, id, op: 'upsert', version, sourceTime: r.updated_at ?? r.published_at ?? r.created_at, raw: { ...rest, assets } });
      for (const a of assets) {
        if (a.state && a.state !== 'uploaded') continue;
        const aid = String(a.id);
        seenAssets.add(aid);
        const aversion = versionHash([a.updated_at, a.size, a.name, a.label ?? '', a.content_type]);
        if (possessedAssets.get(aid) === aversion) continue;
        const blob = await downloadAsset(client, owner, repo, a, ctx);
        await emit({ kind: K.asset, id: aid, op: 'upsert', version: aversion, sourceTime: a.updated_at, parent: id, raw: Asset.parse(a), blobs: { asset: blob } });
      }
    }
    for (const id of possessedAssets.keys()) if (!seenAssets.has(id)) await emit(tombstone(K.asset, id));
    for (const id of possessedRel.keys()) if (!seenRel.has(id)) await emit(tombstone(K.release, id));
  }

  const cursor: GithubCursor = {
    v: CURSOR_VERSION,
    repo: { etag: repoRes.notModified ? (earlier?.success ? earlier.data.repo.etag : undefined) : repoRes.etag, pushedAt },
    labels: { etag: labels.notModified ? prev?.labels.etag : labels.etag },
    milestones: { etag: milestones.notModified ? prev?.milestones.etag : milestones.etag },
    releases: { etag: releases.notModified ? prev?.releases.etag : releases.etag },
    issues: issuesSince.next,
    issueComments: commentsSince.next,
    reviewComments: rcSince.next,
    probes,
    lastFullAt: full ? nowIso : prev!.lastFullAt,
    exportedAt: nowIso,
  };
  log.debug('github export done', { scope: scope.id, emitted, full });
  return GithubCursor.parse(cursor) as Cursor;
}

interface SinceResult {
  next: { since: string | null; etag?: string };
  /** The list was fetched without `since`: every live item was in it. */
  complete: boolean;
  seen: Set<string>;
  /** The list is not available (issues disabled: 410). */
  disabled: boolean;
}

/**
 * One since-based list: request `since=<prev.since>` (conditionally with the ETag of the previous
 * answer to that same request); on a change hand every page to `handle`, then move `since` to the
 * newest updated_at seen minus the overlap.
 */
async function sinceList(p: {
  client: GithubClient;
  route: string;
  params: Record<string, unknown>;
  prev: { since: string | null; etag?: string } | null;
  signal: AbortSignal;
  handle: (items: unknown[]) => Promise<void>;
  what: string;
  log: ExportContext['log'];
}): Promise<SinceResult> {
  const since = p.prev?.since ?? null;
  const params = since ? { ...p.params, since } : p.params;
  let newest = since ? Date.parse(since) + SINCE_OVERLAP_MS : 0;
  const seen = new Set<string>();
  const onPage = async (page: unknown[]): Promise<void> => {
    await p.handle(page);
    for (const item of page as Array<{ updated_at?: string; id?: number; number?: number }>) {
      const t = item.updated_at ? Date.parse(item.updated_at) : NaN;
      if (!Number.isNaN(t) && t > newest) newest = t;
      seen.add(String(item.number ?? item.id));
    }
  };
  let res;
  try {
    res = await listAll<unknown>(p.client, p.route, params, { etag: p.prev?.etag, signal: p.signal, onPage });
  } catch (err) {
    if (isStatus(err, 410)) {
      p.log.info(`github ${p.what} are disabled on the source repository: skipped, possessed items kept`);
      return { next: p.prev ?? { since: null }, complete: false, seen: new Set(), disabled: true };
    }
    throw err;
  }
  if (res.notModified) return { next: p.prev!, complete: false, seen: new Set(), disabled: false };
  const nextSince = newest > 0 ? new Date(newest - SINCE_OVERLAP_MS).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
  // The ETag answers exactly the request we made; keep it only if the next request is the same one.
  const etag = nextSince === since ? res.etag : undefined;
  return { next: { since: nextSince, etag }, complete: since === null, seen, disabled: false };
}

/** Stream an asset into a blob; a broken transfer is retried from the start (a few times). */
async function downloadAsset(client: GithubClient, owner: string, repo: string, a: Asset, ctx: ExportContext) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
        owner,
        repo,
        asset_id: a.id,
        headers: { accept: 'application/octet-stream' },
        request: { parseSuccessResponseBody: false, signal: ctx.signal },
      });
      const body = res.data as unknown as ReadableStream<Uint8Array> | null;
      if (!body) throw new Error('the download came back without a body');
      const ref = await ctx.putBlob(Readable.fromWeb(body as never), a.content_type || 'application/octet-stream');
      if (ref.size !== a.size) throw new Error(`got ${ref.size} bytes, GitHub lists ${a.size}`);
      return ref;
    } catch (err) {
      if (ctx.signal.aborted || attempt >= 4 || isStatus(err, 401, 403, 404, 410)) {
        throw new Error(`release asset ${a.name} (${a.id}) of ${owner}/${repo} could not be downloaded: ${err instanceof Error ? err.message : String(err)}; the next export retries it`);
      }
      ctx.log.debug('github asset download failed, retrying', { asset: a.id, attempt });
    }
  }
}
