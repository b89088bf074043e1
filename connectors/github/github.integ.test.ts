/**
 * The GitHub connector end to end against two GitHub emulators (source and an empty standby):
 * full export, import, verification; incremental export after mutations; deletions; re-import as a
 * no-op; a crash that lost id-map entries; future and unreadable cursors; a standby without the
 * issue import endpoint; and no secret anywhere.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningGithubEmulator } from '../../emulators/index.js';
import type { ScopeRef } from '../../src/model/connector.js';
import type { ChangeRecord } from '../../src/model/records.js';
import { MemoryScopeStore, MapIdMap, recordingLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { runGit } from './git.js';
import { createGithubConnector, type GithubConnector } from './index.js';
import { K } from './types.js';

// The emulators run their rate-limit windows 60x faster; the pacer's windows are scaled the same way.
const TIME_SCALE = 60;

interface Env {
  source: RunningGithubEmulator;
  standby: RunningGithubEmulator;
  connector: GithubConnector;
  log: ReturnType<typeof recordingLogger>;
}

function connectorFor(source: RunningGithubEmulator, standby: RunningGithubEmulator, log = recordingLogger(), extra: Partial<Parameters<typeof createGithubConnector>[0]> = {}): GithubConnector {
  return createGithubConnector({
    source: { baseUrl: source.baseUrl, org: source.orgs[0]!, auth: { type: 'token', token: source.credentials.token } },
    standby: { baseUrl: standby.baseUrl, org: standby.orgs[0]!, auth: { type: 'token', token: standby.credentials.token } },
    limitWindowScale: TIME_SCALE,
    retryBaseMs: 20,
    log,
    ...extra,
  });
}

const keyOf = (r: { kind: string; id: string }) => `${r.kind}:${r.id}`;

async function allPages<T>(octokit: Octokit, route: string, params: Record<string, unknown>): Promise<T[]> {
  return (await octokit.paginate(route, { per_page: 100, ...params })) as T[];
}

let env: Env;
let work: string;
let scope: ScopeRef;
const store = new MemoryScopeStore();
let srcKit: Octokit;
let sbyKit: Octokit;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'norestore-gh-integ-'));
  const [source, standby] = await Promise.all([startEmulator('github', { seed: 'small', timeScale: TIME_SCALE }), startEmulator('github', { role: 'standby', timeScale: TIME_SCALE, importDelayMs: 10 })]);
  const log = recordingLogger();
  env = { source, standby, connector: connectorFor(source, standby, log), log };
  srcKit = new Octokit({ baseUrl: source.baseUrl, auth: source.credentials.token });
  sbyKit = new Octokit({ baseUrl: standby.baseUrl, auth: standby.credentials.token });
  const scopes = await env.connector.scopes();
  scope = scopes.find((s) => s.name === 'acme/alpha')!;
});

afterAll(async () => {
  await env?.connector.close();
  await Promise.all([env?.source.stop(), env?.standby.stop()]);
  await rm(work, { recursive: true, force: true });
});

const exportDir = () => join(work, 'export');
const importDir = () => join(work, 'import');
const verifyDir = () => join(work, 'verify');

describe('github connector against the emulators', () => {
  it('lists one scope per repository, with include/exclude globs', async () => {
    const scopes = await env.connector.scopes();
    expect(scopes.map((s) => s.id)).toEqual(['repo~acme~alpha', 'repo~acme~beta', 'repo~acme~gamma']);
    expect(scopes[0]).toEqual({ id: 'repo~acme~alpha', type: 'repo', name: 'acme/alpha' });
    const filtered = connectorFor(env.source, env.standby, undefined, { include: ['a*', 'acme/g*'], exclude: ['gam?a'] });
    expect((await filtered.scopes()).map((s) => s.name)).toEqual(['acme/alpha']);
  });

  it('full export, import into an empty standby, verify equal with numbers and timestamps', async () => {
    const records = await runExport(env.connector, scope, store, exportDir());
    const kinds = new Set(records.map((r) => r.kind));
    for (const k of Object.values(K)) expect(kinds, k).toContain(k);
    const result = await runImport(env.connector, scope, store, importDir());
    expect(result.failed).toEqual([]);
    const v = await runVerify(env.connector, scope, store, verifyDir());
    expect(v.findings).toEqual([]);
    expect(v.matched).toBe(store.live().size ? [...store.live().values()].reduce((n, m) => n + m.size, 0) : 0);

    // Checked again with plain octokit and git: every source number holds the same issue, created at the same time.
    const src = await allPages<{ number: number; title: string; created_at: string; state: string; pull_request?: unknown }>(srcKit, 'GET /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'alpha', state: 'all' });
    const sby = new Map((await allPages<{ number: number; title: string; created_at: string; state: string }>(sbyKit, 'GET /repos/{owner}/{repo}/issues', { owner: 'acme-standby', repo: 'alpha', state: 'all' })).map((i) => [i.number, i]));
    expect(src.length).toBeGreaterThan(15);
    for (const i of src) {
      const o = sby.get(i.number);
      expect(o?.title, `#${i.number}`).toBe(i.title);
      expect(o?.state, `#${i.number}`).toBe(i.state);
      if (!i.pull_request) expect(o?.created_at, `#${i.number}`).toBe(i.created_at);
    }
    const lsSrc = await runGit(['ls-remote', `${env.source.gitUrl}/acme/alpha.git`], { env: gitAuthEnv(env.source) });
    const lsSby = await runGit(['ls-remote', `${env.standby.gitUrl}/acme-standby/alpha.git`], { env: gitAuthEnv(env.standby) });
    const heads = (t: string) => t.split('\n').filter((l) => /\trefs\/(heads|tags)\//.test(l)).sort();
    expect(heads(lsSby.stdout)).toEqual(heads(lsSrc.stdout));
    expect(lsSby.stdout).toContain('refs/norestore/pull/9/head');
  });

  it('a cycle without changes emits nothing and costs only conditional requests', async () => {
    await runExport(env.connector, scope, store, exportDir()); // settles the since overlap
    const before = { ...env.connector.stats().source };
    const records = await runExport(env.connector, scope, store, exportDir());
    const after = env.connector.stats().source;
    expect(records).toEqual([]);
    const sent = after.requests - before.requests;
    const counted = sent - (after.notModified - before.notModified);
    expect(sent).toBeGreaterThan(5);
    expect(counted).toBe(0);
    expect((await runImport(env.connector, scope, store, importDir())).imported).toBe(0);
  });

  it('verification in a new process (cron) reads an unchanged standby with 304s only, from the ETags its work dir keeps', async () => {
    const fresh = connectorFor(env.source, env.standby);
    try {
      const v = await runVerify(fresh, scope, store, verifyDir());
      expect(v.findings).toEqual([]);
      const { requests, notModified } = fresh.stats().standby;
      expect(requests).toBeGreaterThan(5);
      expect(notModified).toBe(requests);
    } finally {
      await fresh.close();
    }
    // Without the kept ETags every read counts.
    const cold = connectorFor(env.source, env.standby);
    try {
      await runVerify(cold, scope, store, join(work, 'verify-cold'));
      expect(cold.stats().standby.notModified).toBe(0);
    } finally {
      await cold.close();
    }
  });

  it('after mutations exports only the changes and the standby follows them, deletions included', async () => {
    const m = env.source.mutate;
    const live = store.live();
    const comments = [...(live.get(K.issueComment) ?? new Map<string, ChangeRecord>()).values()];
    const someComment = comments[0]!;
    const otherComment = comments[1]!;
    const issueNums = [...(live.get(K.issue) ?? new Map<string, ChangeRecord>()).keys()].map(Number).sort((a, b) => a - b);
    const [i1, i2, i3, i4] = issueNums;
    const reviewComments = [...(live.get(K.reviewComment) ?? new Map<string, ChangeRecord>()).values()];
    const asset = [...(live.get(K.asset) ?? new Map<string, ChangeRecord>()).values()][0]!;

    // Labels renamed and deleted change the issues that carry them without moving their updated_at.
    const labelsOf = (r: ChangeRecord) => ((r.kind === K.pull ? (r.raw as { issue: { labels: Array<{ name: string }> } }).issue : (r.raw as { labels: Array<{ name: string }> })).labels ?? []).map((l) => l.name);
    const carriers = (name: string) => [...(live.get(K.issue)?.values() ?? []), ...(live.get(K.pull)?.values() ?? [])].filter((r) => labelsOf(r).includes(name)).map(keyOf);
    const labelRecs = [...(live.get(K.label) ?? new Map<string, ChangeRecord>()).values()].map((r) => ({ id: r.id, name: (r.raw as { name: string }).name }));
    const used = labelRecs.filter((l) => carriers(l.name).length > 0);
    const [renamed, dropped] = [used[0]!, used[1]!];
    const labelRelated = [...carriers(renamed.name), ...carriers(dropped.name)];
    expect(labelRelated.length).toBeGreaterThan(0);

    m.advanceClock(60_000);
    m.editLabel('alpha', renamed.name, { newName: 'renamed-label' });
    m.deleteLabel('alpha', dropped.name);
    m.editIssue('alpha', i1!, { title: 'Edited title', body: 'Edited body' });
    m.closeIssue('alpha', i2!);
    const added = m.addComment('alpha', i3!, 'A new comment');
    m.editComment('alpha', Number(someComment.id), 'Edited comment');
    m.deleteComment('alpha', Number(otherComment.id));
    const newLabel = m.addLabel('alpha', 'fresh', '00ff00', 'New label');
    m.relabel('alpha', i3!, ['fresh']);
    m.deleteIssue('alpha', i4!);
    const rcDeleted = reviewComments.find((c) => (c.raw as { in_reply_to_id?: number }).in_reply_to_id)!;
    m.deleteReviewComment('alpha', Number(rcDeleted.id));
    await m.pushCommit('alpha', { branch: 'main', message: 'New work', files: [{ path: 'NEW.md', content: 'new\n' }] });
    await m.createBranch('alpha', 'feature/next');
    await m.pushCommit('alpha', { branch: 'feature/next', message: 'Next feature', files: [{ path: 'next.ts', content: 'export {};\n' }] });
    const pr = await m.openPull('alpha', { head: 'feature/next', base: 'main', title: 'Next feature', body: 'Please review.' });
    const rel = await m.createRelease('alpha', { tag: 'v9.9.9', name: 'Nine', body: 'Notes', target: 'main' });
    const newAsset = await m.addAsset('alpha', rel.id, 'nine.bin', Buffer.from('nine nine nine'), 'application/octet-stream');
    await m.deleteAsset('alpha', Number(asset.id));
    await m.editWiki('alpha', 'Home', 'Rewritten home page');

    const records = await runExport(env.connector, scope, store, exportDir());
    const got = new Set(records.map(keyOf));
    const expected = [
      `${K.issue}:${i1}`,
      `${K.issue}:${i2}`,
      `${K.issue}:${i3}`,
      `${K.issue}:${i4}`,
      `${K.issueComment}:${added.id}`,
      `${K.issueComment}:${someComment.id}`,
      `${K.issueComment}:${otherComment.id}`,
      `${K.label}:${newLabel.id}`,
      `${K.label}:${renamed.id}`,
      `${K.label}:${dropped.id}`,
      `${K.reviewComment}:${rcDeleted.id}`,
      `${K.git}:git`,
      `${K.pull}:${pr.number}`,
      `${K.release}:${rel.id}`,
      `${K.asset}:${newAsset.id}`,
      `${K.asset}:${asset.id}`,
      `${K.wiki}:wiki`,
    ];
    for (const e of expected) expect(got, e).toContain(e);
    // Related changes GitHub itself makes: the parents of changed children, the repository (pushed).
    for (const k of labelRelated) expect(got, `${k} carries a changed label`).toContain(k);
    const related = new Set([...labelRelated, `${K.pull}:${rcDeleted.parent}`, `${K.issue}:${someComment.parent}`, `${K.issue}:${otherComment.parent}`, `${K.pull}:${someComment.parent}`, `${K.pull}:${otherComment.parent}`, `${K.repo}:repo`]);
    for (const r of records) if (r.kind === K.review) related.add(keyOf(r));
    // GitHub moves an open pull request's updated_at when its base branch moves (the push to main).
    for (const r of live.get(K.pull)?.values() ?? []) if ((r.raw as { pull: { state: string; base: { ref: string } } }).pull.state === 'open') related.add(keyOf(r));
    const unexpected = [...got].filter((k) => !expected.includes(k) && !related.has(k));
    expect(unexpected).toEqual([]);
    const byKey = new Map(records.map((r) => [keyOf(r), r]));
    for (const k of [`${K.issue}:${i4}`, `${K.issueComment}:${otherComment.id}`, `${K.reviewComment}:${rcDeleted.id}`, `${K.asset}:${asset.id}`, `${K.label}:${dropped.id}`]) expect(byKey.get(k)?.op, k).toBe('delete');

    const result = await runImport(env.connector, scope, store, importDir());
    expect(result.failed).toEqual([]);
    expect(result.deleted).toBeGreaterThanOrEqual(4);
    const v = await runVerify(env.connector, scope, store, verifyDir());
    expect(v.findings).toEqual([]);
    const gone = (await sbyKit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner: 'acme-standby', repo: 'alpha', issue_number: i4! })).data;
    expect(gone.state).toBe('closed');
    expect(gone.title).toMatch(/^\[deleted on source\] /);
    const newPr = (await sbyKit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'acme-standby', repo: 'alpha', pull_number: pr.number })).data;
    expect(newPr.head.ref).toBe('feature/next');
  });

  it('re-importing everything is a no-op on the standby', async () => {
    const all = store.records.slice();
    const latest = new Map<string, ChangeRecord>();
    for (const r of all) latest.set(keyOf(r), r);
    const writesBefore = env.connector.stats().standby.writes;
    const idMap = store.idMap.clone();
    const result = await env.connector.importChanges(scope, orderForImport([...latest.values()]), store.importContext(importDir(), undefined, idMap));
    expect(result.failed).toEqual([]);
    expect(result.imported).toBe(0);
    expect(env.connector.stats().standby.writes).toBe(writesBefore);
  });

  it('after a crash that lost id-map entries, re-import adopts by natural key without duplicates', async () => {
    const counts = async () => ({
      issues: (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/issues', { owner: 'acme-standby', repo: 'alpha', state: 'all' })).length,
      comments: (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/issues/comments', { owner: 'acme-standby', repo: 'alpha' })).length,
      reviewComments: (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/pulls/comments', { owner: 'acme-standby', repo: 'alpha' })).length,
      labels: (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/labels', { owner: 'acme-standby', repo: 'alpha' })).length,
      milestones: (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/milestones', { owner: 'acme-standby', repo: 'alpha', state: 'all' })).length,
      releases: (await allPages<{ assets: unknown[] }>(sbyKit, 'GET /repos/{owner}/{repo}/releases', { owner: 'acme-standby', repo: 'alpha' })).map((r) => r.assets.length),
      reviews: await Promise.all(
        (await allPages<{ number: number }>(sbyKit, 'GET /repos/{owner}/{repo}/pulls', { owner: 'acme-standby', repo: 'alpha', state: 'all' })).map(
          async (p) => (await allPages(sbyKit, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: 'acme-standby', repo: 'alpha', pull_number: p.number })).length,
        ),
      ),
    });
    const before = await counts();
    // The crashed run created everything but its id map was never committed: keep only git.
    const lost = new MapIdMap();
    for (const kind of [K.repo, K.git, K.wiki]) for (const [id, e] of store.idMap.entries(kind)) lost.set(kind, id, e);
    const latest = new Map<string, ChangeRecord>();
    for (const r of store.records) latest.set(keyOf(r), r);
    const result = await env.connector.importChanges(scope, orderForImport([...latest.values()]), store.importContext(importDir(), undefined, lost));
    expect(result.failed).toEqual([]);
    expect(await counts()).toEqual(before);
    for (const kind of [K.issue, K.pull, K.issueComment, K.label, K.milestone, K.release, K.asset, K.review, K.reviewComment]) {
      expect(lost.size(kind), kind).toBe(store.idMap.size(kind));
    }
    store.idMap = lost;
    expect((await runVerify(env.connector, scope, store, verifyDir())).findings).toEqual([]);
  });

  it('a cursor from the future or an unreadable one resyncs without losing changes', async () => {
    const m = env.source.mutate;
    const issues = [...(store.live().get(K.issue) ?? new Map<string, ChangeRecord>()).keys()];
    const victim = Number(issues[issues.length - 1]);
    m.advanceClock(60_000);
    m.deleteIssue('alpha', victim);
    const edited = m.editIssue('alpha', Number(issues[0]), { body: 'edited while the cursor was wrong' });
    const victimComments = [...(store.live().get(K.issueComment) ?? new Map<string, ChangeRecord>()).values()].filter((c) => c.parent === String(victim)).map(keyOf);
    const cursor = store.cursor!;
    const future = JSON.parse(JSON.stringify(cursor).replace(/20\d\d-/g, '2199-')) as typeof cursor;
    store.cursor = future;
    const records = await runExport(env.connector, scope, store, exportDir());
    // The deleted issue took its comments with it: tombstones for those too.
    expect(records.map(keyOf).sort()).toEqual([`${K.issue}:${edited.number}`, `${K.issue}:${victim}`, ...victimComments].sort());
    expect(records.find((r) => r.id === String(victim))?.op).toBe('delete');
    store.cursor = { v: 99, nonsense: true };
    expect(await runExport(env.connector, scope, store, exportDir())).toEqual([]);
    expect(await runExport(env.connector, scope, store, exportDir())).toEqual([]);
    expect((await runImport(env.connector, scope, store, importDir())).failed).toEqual([]);
    expect((await runVerify(env.connector, scope, store, verifyDir())).findings).toEqual([]);
  });

  it('never lets a token reach logs, records, or files of the work directory', async () => {
    const tokens = [env.source.credentials.token, env.standby.credentials.token];
    const text = env.log.lines.join('\n') + JSON.stringify(store.records) + JSON.stringify(store.cursor);
    for (const t of tokens) expect(text.includes(t)).toBe(false);
    for (const file of await filesUnder(work)) {
      if (file.includes('/objects/')) continue;
      const content = await readFile(file).catch(() => Buffer.alloc(0));
      for (const t of tokens) expect(content.includes(t), file).toBe(false);
    }
  });
});

function orderForImport(records: ChangeRecord[]): ChangeRecord[] {
  const rank = new Map(env.connector.kinds.map((k, i) => [k.kind, i]));
  return records.sort((a, b) => (rank.get(a.kind) ?? 99) - (rank.get(b.kind) ?? 99) || a.seq - b.seq);
}

function gitAuthEnv(e: RunningGithubEmulator): NodeJS.ProcessEnv {
  const basic = Buffer.from(`x-access-token:${e.credentials.token}`).toString('base64');
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}
