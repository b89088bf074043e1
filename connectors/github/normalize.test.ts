import { describe, expect, it } from 'vitest';
import { quietLogger } from '../../test/helpers/memory-contexts.js';
import { readCursor } from './export.js';
import { globMatcher, repoScopeId } from './index.js';
import { GITHUB_UNCOVERED, githubKinds } from './kinds.js';
import { attribution, normGitRefs, normIssue, normalizeStored, parseHeader, withHeader } from './normalize.js';
import { standbyRefs } from './git.js';
import { K } from './types.js';

const issue = {
  number: 7,
  title: 'T',
  body: 'Hello\n\nworld',
  state: 'closed' as const,
  labels: [{ name: 'b' }, 'a'],
  milestone: { number: 1, title: 'v1' },
  created_at: '2024-01-02T03:04:05Z',
  updated_at: '2024-01-03T03:04:05Z',
  user: { login: 'alice' },
};

describe('norestore header', () => {
  it('round-trips: marker, flags and notes come off, the body stays byte for byte', () => {
    for (const body of ['', 'x', 'line\r\nline', '<!-- norestore:source-id=github.issue/1 -->\nnested\n<!-- /norestore -->\ninner', null]) {
      const text = withHeader(body, { kind: K.issue, id: '7', deleted: true }, [attribution('alice', '2024-01-02T03:04:05Z'), 'second note']);
      const parsed = parseHeader(text);
      expect(parsed.meta).toEqual({ kind: K.issue, id: '7', deleted: true });
      expect(parsed.body).toBe(body ?? '');
    }
    expect(parseHeader(withHeader('', { placeholder: 12 }, [])).meta).toEqual({ placeholder: 12 });
    expect(parseHeader('plain body').meta).toBeNull();
  });

  it('says where the source id lives and gives back the visible notes', () => {
    const text = withHeader('text', { kind: K.issueComment, id: '42', source: 'acme/alpha' }, ['_Originally by `@bob`._', 'more']);
    expect(text).toBe('<!-- norestore:source-id=github.issue_comment/42 -->\n<!-- norestore:source=acme/alpha -->\n_Originally by `@bob`._\nmore\n<!-- /norestore -->\ntext');
    expect(parseHeader(text)).toEqual({ meta: { kind: K.issueComment, id: '42', source: 'acme/alpha' }, notes: ['_Originally by `@bob`._', 'more'], body: 'text' });
    // Headers written before the source line existed still parse.
    expect(parseHeader('<!-- norestore:source-id=github.issue/3 -->\n_a_\n<!-- /norestore -->\nx')).toEqual({ meta: { kind: K.issue, id: '3' }, notes: ['_a_'], body: 'x' });
  });

  it("a copy norestore made (the source after a failover) compares by its author's text", () => {
    const copy = { ...issue, body: withHeader(issue.body, { kind: K.issue, id: '7', source: 'acme/alpha' }, [attribution('alice', issue.created_at)]) };
    expect(normIssue(copy)).toEqual(normIssue(issue));
  });

  it('pull request heads a former standby holds as refs/norestore/pull/N/head count as heads, after its own', () => {
    const source = { 'refs/heads/main': 'a', 'refs/pull/3/head': 'b', 'refs/norestore/pull/3/head': 'old', 'refs/norestore/pull/9/head': 'c' };
    expect(normGitRefs(source, 'source')).toEqual({ refs: { 'refs/heads/main': 'a' }, pulls: { '3': 'b', '9': 'c' } });
    const pushed = standbyRefs(source);
    expect(pushed).toEqual({ 'refs/heads/main': 'a', 'refs/norestore/pull/3/head': 'b', 'refs/norestore/pull/9/head': 'c' });
    expect(normGitRefs(pushed, 'standby')).toEqual(normGitRefs(source, 'source'));
  });

  it('attribution names the login in a code span so nobody is notified', () => {
    expect(attribution('bob', '2024-01-01T00:00:00Z', 'review: approved')).toBe('_Originally by `@bob` on 2024-01-01T00:00:00Z, review: approved._');
    expect(attribution(null, null)).toBe('_Originally by a deleted user._');
  });

  it('bodies are compared without our header on both sides', () => {
    const standby = { ...issue, body: withHeader(issue.body, { kind: K.issue, id: '7' }, [attribution('alice', issue.created_at)]) };
    expect(normIssue(standby)).toEqual(normIssue(issue));
    expect(normIssue(issue)).toMatchObject({ labels: ['a', 'b'], milestone: 'v1', body: 'Hello\n\nworld' });
  });

  it('git refs: refs/pull/N/head on the source and refs/norestore/pull/N/head on the standby are the same PR heads', () => {
    const src = normGitRefs({ 'refs/heads/main': 'a', 'refs/pull/3/head': 'b', 'refs/pull/3/merge': 'c', 'refs/tags/v1': 'd' }, 'source');
    const sby = normGitRefs({ 'refs/heads/main': 'a', 'refs/norestore/pull/3/head': 'b', 'refs/pull/1/head': 'z', 'refs/tags/v1': 'd' }, 'standby');
    expect(src).toEqual(sby);
    expect(src).toEqual({ refs: { 'refs/heads/main': 'a', 'refs/tags/v1': 'd' }, pulls: { '3': 'b' } });
  });

  it('normalizes every kind of stored record to fields its spec declares', () => {
    const base = { op: 'upsert' as const, version: 'v', sourceTime: '2024-01-01T00:00:00Z', seq: 1, observedAt: '2024-01-01T00:00:00Z' };
    const samples = [
      { kind: K.repo, id: 'repo', raw: { name: 'r', private: true, description: null, homepage: null, has_issues: true, has_wiki: false, default_branch: 'main' } },
      { kind: K.git, id: 'git', raw: { refs: { 'refs/heads/main': 'a' }, chain: [], bundle: null, prerequisites: [] } },
      { kind: K.wiki, id: 'wiki', raw: { refs: { 'refs/heads/master': 'a' }, chain: [], bundle: null, prerequisites: [] } },
      { kind: K.label, id: '1', raw: { id: 1, name: 'bug', color: 'FF0000', description: null } },
      { kind: K.milestone, id: '1', raw: { number: 1, title: 'm', state: 'open', description: null, due_on: '2024-05-01T07:00:00Z', created_at: 'x', updated_at: 'y' } },
      { kind: K.issue, id: '7', raw: issue },
      { kind: K.pull, id: '8', raw: { issue: { ...issue, number: 8, pull_request: {} }, pull: { number: 8, state: 'open', head: { ref: 'f', sha: 'a' }, base: { ref: 'main', sha: 'b' } } } },
      { kind: K.issueComment, id: '5', parent: '7', raw: { id: 5, body: 'c', created_at: 'x', updated_at: 'y', issue_url: 'u/7' } },
      { kind: K.review, id: '6', parent: '8', raw: { id: 6, body: null, state: 'APPROVED' } },
      { kind: K.reviewComment, id: '9', parent: '8', raw: { id: 9, body: 'rc', path: 'p', created_at: 'x', updated_at: 'y', pull_request_url: 'u/8' } },
      { kind: K.release, id: '10', raw: { id: 10, tag_name: 'v1', name: null, body: null, draft: false, prerelease: false, created_at: 'x', assets: [] } },
      { kind: K.asset, id: '11', parent: '10', raw: { id: 11, name: 'a.bin', label: null, content_type: 'application/octet-stream', size: 3, created_at: 'x', updated_at: 'y' }, blobs: { asset: { sha256: 'f'.repeat(64), size: 3 } } },
    ];
    const specs = githubKinds({ importEndpoint: true });
    expect(specs.map((s) => s.kind).sort()).toEqual(Object.values(K).sort());
    for (const sample of samples) {
      const n = normalizeStored({ ...base, ...sample });
      const spec = specs.find((s) => s.kind === sample.kind)!;
      for (const field of spec.fidelity.preserved) expect(Object.keys(n), `${sample.kind}.${field}`).toContain(field);
    }
    expect(normalizeStored({ ...base, ...samples[11]! })).toMatchObject({ release: '10', sha256: 'f'.repeat(64), label: '' });
    expect(() => normalizeStored({ ...base, kind: K.issue, id: '1', raw: { nope: true } })).toThrow(/github.issue 1 does not have the expected shape/);
  });

  it('declares created_at lost when the import endpoint is not used, and lists uncovered kinds with reasons', () => {
    const plain = githubKinds({ importEndpoint: false }).find((k) => k.kind === K.issue)!;
    expect(plain.fidelity.preserved).not.toContain('created_at');
    expect(plain.fidelity.lost.map((l) => l.field)).toContain('created_at');
    expect(GITHUB_UNCOVERED.map((u) => u.title)).toEqual(expect.arrayContaining(['Discussions', 'Projects (v2)', 'Actions secrets', 'Webhooks', 'Branch protection rules and rulesets']));
    for (const u of GITHUB_UNCOVERED) expect(u.reason.length).toBeGreaterThan(10);
  });
});

describe('scopes and cursors', () => {
  it('globs match names, or org/name when they contain a slash, never across a slash', () => {
    const m = globMatcher(['a*', 'other/*', 'acme/g?mma'])!;
    expect(m('acme', 'alpha')).toBe(true);
    expect(m('acme', 'beta')).toBe(false);
    expect(m('acme', 'gamma')).toBe(true);
    expect(m('other', 'x')).toBe(true);
    expect(globMatcher([])).toBeNull();
    expect(repoScopeId('Acme', 'My.Repo_1')).toBe('repo~acme~my.repo_1');
  });

  it('treats unreadable cursors and cursors ahead of the server clock as absent', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const good = {
      v: 1,
      issues: { since: '2024-12-31T00:00:00Z' },
      issueComments: { since: null },
      reviewComments: { since: null },
      lastFullAt: '2024-12-31T00:00:00Z',
      exportedAt: '2024-12-31T00:00:00Z',
    };
    expect(readCursor(good, now, quietLogger, 's')).not.toBeNull();
    expect(readCursor({ ...good, issues: { since: '2031-01-01T00:00:00Z' } }, now, quietLogger, 's')).toBeNull();
    expect(readCursor({ ...good, v: 99 }, now, quietLogger, 's')).toBeNull();
    expect(readCursor(null, now, quietLogger, 's')).toBeNull();
  });
});
