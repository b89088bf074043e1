/**
 * Replication reversed after a failover: the old standby org becomes the source and the old primary
 * the standby, with fresh id maps (a new storage generation). The importer must adopt the originals
 * the old primary holds, named by the headers of the copies it made, instead of duplicating them;
 * leave them as their authors wrote them; and verification must find the two orgs equal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningGithubEmulator } from '../../emulators/index.js';
import type { ScopeRef } from '../../src/model/connector.js';
import { MemoryScopeStore, quietLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { createGithubConnector, type GithubConnector } from './index.js';

const TIME_SCALE = 60;
let a: RunningGithubEmulator;
let b: RunningGithubEmulator;
let dir: string;

function connector(from: RunningGithubEmulator, to: RunningGithubEmulator): GithubConnector {
  return createGithubConnector({
    source: { baseUrl: from.baseUrl, org: from.orgs[0]!, auth: { type: 'token', token: from.credentials.token } },
    standby: { baseUrl: to.baseUrl, org: to.orgs[0]!, auth: { type: 'token', token: to.credentials.token } },
    limitWindowScale: TIME_SCALE,
    retryBaseMs: 20,
    log: quietLogger,
  });
}

/** Everything a person sees in one repository: titles, bodies, states, labels; keyed by what they see. */
async function snapshot(emu: RunningGithubEmulator, repo: string): Promise<Record<string, unknown>> {
  const o = new Octokit({ baseUrl: emu.baseUrl, auth: emu.credentials.token });
  const base = { owner: emu.orgs[0]!, repo, per_page: 100 };
  const out: Record<string, unknown> = {};
  for (const i of await o.paginate(o.rest.issues.listForRepo, { ...base, state: 'all' })) {
    out[`#${i.number}`] = { title: i.title, body: i.body ?? '', state: i.state, labels: i.labels.map((l) => (typeof l === 'string' ? l : l.name)).sort(), milestone: i.milestone?.title ?? null };
    if (i.pull_request) for (const r of await o.paginate(o.rest.pulls.listReviews, { ...base, pull_number: i.number })) out[`review ${r.id}`] = { body: r.body, state: r.state };
  }
  for (const c of await o.paginate(o.rest.issues.listCommentsForRepo, base)) out[`comment ${c.id}`] = c.body ?? '';
  for (const c of await o.paginate(o.rest.pulls.listReviewCommentsForRepo, base)) out[`review comment ${c.id}`] = c.body;
  for (const l of await o.paginate(o.rest.issues.listLabelsForRepo, base)) out[`label ${l.name}`] = [l.color, l.description];
  for (const m of await o.paginate(o.rest.issues.listMilestones, { ...base, state: 'all' })) out[`milestone ${m.title}`] = [m.state, m.description];
  for (const r of await o.paginate(o.rest.repos.listReleases, base)) out[`release ${r.tag_name}`] = { name: r.name, body: r.body ?? '', assets: r.assets.map((x) => x.name).sort() };
  return out;
}

let scopes: { forward: ScopeRef[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-gh-failback-'));
  [a, b] = await Promise.all([startEmulator('github', { seed: 'small', timeScale: TIME_SCALE }), startEmulator('github', { role: 'standby', timeScale: TIME_SCALE, importDelayMs: 5 })]);
  const forward = connector(a, b);
  try {
    scopes = { forward: (await forward.scopes()).filter((s) => s.name.endsWith('/alpha')) };
    for (const s of scopes.forward) {
      const st = new MemoryScopeStore();
      await runExport(forward, s, st, join(dir, 'fwd'));
      expect((await runImport(forward, s, st, join(dir, 'fwd'))).failed).toEqual([]);
    }
  } finally {
    await forward.close();
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('github replication reversed after a failover', () => {
  it('adopts the originals: nothing duplicated or rewritten, both orgs verify equal, then only real changes flow back', async () => {
    const before = await snapshot(a, 'alpha');
    expect(Object.keys(before).filter((k) => k.startsWith('review ')).length).toBeGreaterThan(0);
    expect(Object.keys(before).filter((k) => k.startsWith('review comment ')).length).toBeGreaterThan(0);
    expect(Object.keys(before).filter((k) => k.startsWith('release ')).length).toBeGreaterThan(0);

    const backward = connector(b, a);
    const st = new MemoryScopeStore();
    try {
      const [scope] = (await backward.scopes()).filter((s) => s.name.endsWith('/alpha'));
      await runExport(backward, scope!, st, join(dir, 'back'));
      const first = await runImport(backward, scope!, st, join(dir, 'back'));
      expect(first.failed).toEqual([]);
      const v = await runVerify(backward, scope!, st, join(dir, 'back'));
      expect(v.findings.map((f) => `${f.type} ${f.kind} ${f.id} ${(f.fields ?? []).join(',')}`)).toEqual([]);
      // The old primary is as its authors left it: same items, same bodies, no headers written.
      expect(await snapshot(a, 'alpha')).toEqual(before);

      // Production on the new primary: an edit of an adopted item, a new issue with a comment.
      const adoptedCopy = 3;
      b.mutate.editIssue('alpha', adoptedCopy, { title: 'edited on the new primary' });
      const made = b.mutate.createIssue('alpha', { title: 'made on the new primary', body: 'new text' });
      b.mutate.addComment('alpha', made.number, 'a comment on the new primary');
      await runExport(backward, scope!, st, join(dir, 'back'));
      const second = await runImport(backward, scope!, st, join(dir, 'back'));
      expect(second.failed).toEqual([]);
      const after = await snapshot(a, 'alpha');
      expect((after[`#${adoptedCopy}`] as { title: string }).title).toBe('edited on the new primary');
      expect((after[`#${made.number}`] as { title: string }).title).toBe('made on the new primary');
      const added = Object.keys(after).filter((k) => !(k in before));
      expect(added.sort()).toEqual([`#${made.number}`, expect.stringMatching(/^comment \d+$/)].sort());
      // Only the title of the edited original changed; its body is still the author's.
      expect((after[`#${adoptedCopy}`] as { body: string }).body).toBe((before[`#${adoptedCopy}`] as { body: string }).body);
      const v2 = await runVerify(backward, scope!, st, join(dir, 'back'));
      expect(v2.findings.map((f) => `${f.type} ${f.kind} ${f.id}`)).toEqual([]);

      // Idempotent: nothing left to write.
      const third = await runImport(backward, scope!, st, join(dir, 'back'));
      expect([third.imported, third.deleted, third.failed]).toEqual([0, 0, []]);
    } finally {
      await backward.close();
    }
  }, 180_000);
});
