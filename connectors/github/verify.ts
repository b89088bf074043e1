/**
 * Verification: read every item of a standby repository and normalize it to the shape of
 * normalize.ts, with the source id it holds (from the hidden marker or the id map). Placeholders
 * and items marked deleted are norestore's own bookkeeping and are not yielded.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ChangeRecord } from '../../src/model/records.js';
import type { ScopeRef, StandbyItem, VerifyContext } from '../../src/model/connector.js';
import { isStatus, listAll, type GithubClient } from './client.js';
import { lsRemote } from './git.js';
import { normAsset, normComment, normGitRefs, normIssue, normLabel, normMilestone, normRelease, normRepo, normalizeStored, numberFromUrl, parseHeader } from './normalize.js';
import { Issue, IssueComment, Label, Milestone, Release, Repo, Review, ReviewComment } from './schema.js';
import type { Asset } from './schema.js';
import { repoNameOf } from './export.js';
import { K, SINGLETON_ID } from './types.js';

export interface VerifyDeps {
  client: GithubClient;
}

/** standby id -> source id, per kind, from the id map (prefixes like 'c:' and ':issue' removed). */
function reverseMap(ctx: VerifyContext, kind: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [sourceId, entry] of ctx.idMap.entries(kind)) out.set(entry.standbyId.replace(/^(c|r|rc):/, '').replace(/:issue$/, ''), sourceId);
  return out;
}

/**
 * Standby item -> the stored item the id map says it holds, across kinds: '#N' issues and pull
 * requests, 'c:ID' issue comments (mapped by their bare id), 'r:ID' reviews, 'rc:ID' review
 * comments. Items norestore created carry their marker; originals adopted after a failover do not,
 * and may hold a stored item of another kind (a pull request the other side holds as an issue).
 */
function standbyIndex(ctx: VerifyContext): Map<string, { kind: string; sourceId: string }> {
  const out = new Map<string, { kind: string; sourceId: string }>();
  for (const kind of [K.issue, K.pull]) for (const [sourceId, e] of ctx.idMap.entries(kind)) out.set(`#${parseInt(e.standbyId, 10)}`, { kind, sourceId });
  for (const kind of [K.issueComment, K.review, K.reviewComment]) {
    for (const [sourceId, e] of ctx.idMap.entries(kind)) out.set(/^(c|r|rc):/.test(e.standbyId) ? e.standbyId : `c:${e.standbyId}`, { kind, sourceId });
  }
  return out;
}

/**
 * Every item of the standby repository. The ETags of what it read are kept in the scope's work dir,
 * so that a one-shot `cycle` (cron) reads an unchanged standby with 304s, which GitHub does not
 * count against the primary limit, as the daemon does from memory.
 */
export async function* readStandby(deps: VerifyDeps, scope: ScopeRef, ctx: VerifyContext): AsyncIterable<StandbyItem> {
  const { etags, tenant } = deps.client;
  const file = join(ctx.workDir, 'github', 'standby-etags.json');
  const mine = new RegExp(`/repos/${escapeRe(encodeURIComponent(tenant.org))}/${escapeRe(encodeURIComponent(repoNameOf(scope)))}(?:[/?\u0000]|$)`, 'i');
  try {
    etags.load(JSON.parse(await readFile(file, 'utf8')) as Parameters<typeof etags.load>[0]);
  } catch {
    // none yet, or unreadable: read everything once
  }
  yield* readItems(deps, scope, ctx);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(etags.entries((k) => mine.test(k))));
  await rename(tmp, file);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function* readItems(deps: VerifyDeps, scope: ScopeRef, ctx: VerifyContext): AsyncIterable<StandbyItem> {
  const { client } = deps;
  const owner = client.tenant.org;
  const repo = repoNameOf(scope);
  const base = { owner, repo };
  const signal = ctx.signal;
  const list = async <T>(route: string, params: Record<string, unknown>, schema: { parse(v: unknown): T }): Promise<T[]> => {
    const res = await listAll<unknown>(client, route, { ...base, ...params }, { signal });
    return res.notModified ? [] : res.data.map((x) => schema.parse(x));
  };

  let repoData: Repo;
  try {
    repoData = Repo.parse((await client.octokit.request('GET /repos/{owner}/{repo}', { ...base, request: { signal } })).data);
  } catch (err) {
    if (isStatus(err, 404)) return; // nothing on the standby: every stored item is missing
    throw err;
  }
  yield { kind: K.repo, sourceId: SINGLETON_ID.repo, standbyId: `${owner}/${repo}`, normalized: normRepo(repoData) };

  const env = await client.gitEnv();
  const refs = await lsRemote(client.gitUrl(repo), env, signal);
  if (refs) yield { kind: K.git, sourceId: SINGLETON_ID.git, standbyId: `${owner}/${repo}`, normalized: normGitRefs(refs, 'standby') };
  const wikiRefs = await lsRemote(client.gitUrl(repo, true), env, signal);
  if (wikiRefs && (Object.keys(wikiRefs).length || ctx.idMap.get(K.wiki, SINGLETON_ID.wiki))) {
    yield { kind: K.wiki, sourceId: SINGLETON_ID.wiki, standbyId: `${owner}/${repo}.wiki`, normalized: { refs: normGitRefs(wikiRefs, 'standby').refs } };
  }

  const labelIds = reverseMap(ctx, K.label);
  for (const l of await list('GET /repos/{owner}/{repo}/labels', {}, Label)) {
    yield { kind: K.label, sourceId: labelIds.get(l.name) ?? null, standbyId: l.name, normalized: normLabel(l) };
  }
  const milestoneIds = reverseMap(ctx, K.milestone);
  for (const m of await list('GET /repos/{owner}/{repo}/milestones', { state: 'all' }, Milestone)) {
    yield { kind: K.milestone, sourceId: milestoneIds.get(String(m.number)) ?? null, standbyId: String(m.number), normalized: normMilestone(m) };
  }

  // Issues and pull requests; standby number -> source number for the comments' parents.
  const mapped = standbyIndex(ctx);
  const sourceNumber = new Map<number, number>();
  const realPulls: number[] = [];
  for (const i of await list('GET /repos/{owner}/{repo}/issues', { state: 'all' }, Issue)) {
    const { meta } = parseHeader(i.body);
    if (meta?.placeholder !== undefined || meta?.deleted) continue;
    const isPullOnStandby = i.pull_request !== undefined;
    if (isPullOnStandby) realPulls.push(i.number);
    let kind: string;
    let sourceId: string | null;
    if (meta?.kind === K.issue || meta?.kind === K.pull) {
      kind = meta.kind;
      sourceId = meta.id ?? null;
    } else {
      const m = mapped.get(`#${i.number}`);
      kind = m?.kind ?? (isPullOnStandby ? K.pull : K.issue);
      sourceId = m?.sourceId ?? null;
    }
    if (sourceId) sourceNumber.set(i.number, Number(sourceId));
    yield { kind, sourceId, standbyId: String(i.number), normalized: normIssue(i) };
  }
  const parentOf = (standbyNumber: number): number => sourceNumber.get(standbyNumber) ?? standbyNumber;

  /** Kind and source id of a comment-like standby item: from its marker, else from the id map. */
  const held = (meta: ReturnType<typeof parseHeader>['meta'], key: string, fallback: string): { kind: string; sourceId: string | null } => {
    if (meta?.kind && meta.id && ([K.issueComment, K.review, K.reviewComment] as string[]).includes(meta.kind)) return { kind: meta.kind, sourceId: meta.id };
    return mapped.get(key) ?? { kind: fallback, sourceId: null };
  };
  const field = (kind: string): 'issue' | 'pull' => (kind === K.issueComment ? 'issue' : 'pull');
  for (const c of await list('GET /repos/{owner}/{repo}/issues/comments', {}, IssueComment)) {
    const { meta } = parseHeader(c.body);
    if (meta?.deleted) continue;
    const { kind, sourceId } = held(meta, `c:${c.id}`, K.issueComment);
    yield { kind, sourceId, standbyId: `c:${c.id}`, normalized: normComment(c, parentOf(numberFromUrl(c.issue_url)), field(kind)) };
  }
  for (const num of realPulls) {
    for (const rv of await list('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { pull_number: num }, Review)) {
      const { meta } = parseHeader(rv.body);
      if (meta?.deleted || rv.state === 'PENDING') continue;
      // GitHub wraps every review comment created on its own in an empty COMMENTED review: not an item.
      if (!meta && !mapped.has(`r:${rv.id}`) && !(rv.body ?? '').trim() && rv.state === 'COMMENTED') continue;
      // Reviews GitHub adds on its own (none) or people left on the standby are extra.
      const { kind, sourceId } = held(meta, `r:${rv.id}`, K.review);
      yield { kind, sourceId, standbyId: `r:${rv.id}`, normalized: normComment(rv, parentOf(num), field(kind)) };
    }
  }
  for (const c of await list('GET /repos/{owner}/{repo}/pulls/comments', {}, ReviewComment)) {
    const { meta } = parseHeader(c.body);
    if (meta?.deleted) continue;
    const { kind, sourceId } = held(meta, `rc:${c.id}`, K.reviewComment);
    yield { kind, sourceId, standbyId: `rc:${c.id}`, normalized: normComment(c, parentOf(numberFromUrl(c.pull_request_url)), field(kind)) };
  }

  const releaseIds = reverseMap(ctx, K.release);
  const assetIds = reverseMap(ctx, K.asset);
  for (const rel of await list('GET /repos/{owner}/{repo}/releases', {}, Release)) {
    const { meta } = parseHeader(rel.body);
    const relSource = meta?.kind === K.release ? (meta.id ?? null) : (releaseIds.get(String(rel.id)) ?? null);
    yield { kind: K.release, sourceId: relSource, standbyId: String(rel.id), normalized: normRelease(rel) };
    for (const a of rel.assets) {
      if (a.state && a.state !== 'uploaded') continue;
      const sha = await assetSha256(client, owner, repo, a, signal);
      yield { kind: K.asset, sourceId: assetIds.get(String(a.id)) ?? null, standbyId: String(a.id), normalized: normAsset(a, relSource ?? `standby:${rel.id}`, sha) };
    }
  }
}

/** sha256 of a standby asset: GitHub's digest when it gives one, else the downloaded content, hashed while streaming. */
async function assetSha256(client: GithubClient, owner: string, repo: string, a: Asset, signal: AbortSignal): Promise<string> {
  if (a.digest?.startsWith('sha256:')) return a.digest.slice('sha256:'.length);
  const res = await client.octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
    owner,
    repo,
    asset_id: a.id,
    headers: { accept: 'application/octet-stream' },
    request: { parseSuccessResponseBody: false, signal },
  });
  const hash = createHash('sha256');
  const body = res.data as unknown as ReadableStream<Uint8Array> | null;
  if (body) for await (const chunk of Readable.fromWeb(body as never)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function normalizeRecord(record: ChangeRecord): Promise<Record<string, unknown>> {
  return normalizeStored(record);
}
