/**
 * The comparison shape of every kind, computed the same way from a stored record (the source as
 * exported) and from what the standby returns, plus the header norestore writes at the top of the
 * bodies it creates: a hidden source-id marker (natural key for adoption after a crash) and the
 * attribution line. The header is removed before comparison, so `body` means the author's text.
 */
import type { ChangeRecord } from '../../src/model/records.js';
import type { RefsMap } from './git.js';
import { GitRecordRaw, Issue, IssueComment, Label, Milestone, PullRecordRaw, Release, Repo, Review, ReviewComment, Asset } from './schema.js';
import { K } from './types.js';

const OPEN = '<!-- norestore:';
const CLOSE = '<!-- /norestore -->';

export interface HeaderMeta {
  /** kind/id of the source item this standby item holds. */
  kind?: string;
  id?: string;
  /** The source item was deleted; the standby item is kept closed and marked. */
  deleted?: boolean;
  /** A placeholder filling number N of the sequence. */
  placeholder?: number;
}

/** Header + body as written to the standby. `notes` are visible markdown lines (attribution ...). */
export function withHeader(body: string | null | undefined, meta: HeaderMeta, notes: string[]): string {
  const lines: string[] = [];
  if (meta.kind && meta.id) lines.push(`${OPEN}source-id=${meta.kind}/${meta.id} -->`);
  if (meta.placeholder !== undefined) lines.push(`${OPEN}placeholder=${meta.placeholder} -->`);
  if (meta.deleted) lines.push(`${OPEN}deleted -->`);
  lines.push(...notes, CLOSE);
  return `${lines.join('\n')}\n${body ?? ''}`;
}

/** Split a standby body into norestore's header (null when absent) and the original body. */
export function parseHeader(body: string | null | undefined): { meta: HeaderMeta | null; body: string } {
  const text = body ?? '';
  if (!text.startsWith(OPEN)) return { meta: null, body: text };
  const end = text.indexOf(CLOSE);
  if (end < 0) return { meta: null, body: text };
  const head = text.slice(0, end);
  let rest = text.slice(end + CLOSE.length);
  if (rest.startsWith('\r\n')) rest = rest.slice(2);
  else if (rest.startsWith('\n')) rest = rest.slice(1);
  const meta: HeaderMeta = {};
  const src = /<!-- norestore:source-id=([a-z_.]+)\/(\S+?) -->/.exec(head);
  if (src) {
    meta.kind = src[1];
    meta.id = src[2];
  }
  const ph = /<!-- norestore:placeholder=(\d+) -->/.exec(head);
  if (ph) meta.placeholder = Number(ph[1]);
  if (head.includes(`${OPEN}deleted -->`)) meta.deleted = true;
  return { meta, body: rest };
}

/** "_Originally by `@alice` on 2024-01-02T03:04:05Z._" — the login in a code span, so nobody is notified. */
export function attribution(login: string | null | undefined, at: string | null | undefined, extra?: string): string {
  const who = login ? `\`@${login}\`` : 'a deleted user';
  return `_Originally by ${who}${at ? ` on ${at}` : ''}${extra ? `, ${extra}` : ''}._`;
}

export function labelNames(labels: Array<string | { name?: string | null }> | undefined | null): string[] {
  return (labels ?? [])
    .map((l) => (typeof l === 'string' ? l : (l.name ?? '')))
    .filter((n) => n !== '')
    .sort();
}

/** Date part of a due date: GitHub stores due_on at a fixed hour that varies between API versions. */
export function dueDate(due: string | null | undefined): string | null {
  return due ? due.slice(0, 10) : null;
}

/** Which side a normalized item comes from: only standby bodies carry norestore's header. */
export type Side = 'stored' | 'standby';

/**
 * The author's text: stored bodies are compared as exported (after a failover the source may itself
 * carry an older header, which then is content); standby bodies lose exactly the one header we wrote.
 */
export function bodyOf(body: string | null | undefined, side: Side): string {
  return side === 'standby' ? parseHeader(body).body : (body ?? '');
}

export function numberFromUrl(url: string): number {
  const m = /\/(\d+)$/.exec(url);
  if (!m) throw new Error(`cannot read an item number from ${url}`);
  return Number(m[1]);
}

// Normalized shapes, one per kind. Stored and standby sides use the same functions.

export function normRepo(r: Repo): Record<string, unknown> {
  return {
    name: r.name,
    description: r.description ?? '',
    homepage: r.homepage ?? '',
    private: r.private,
    has_issues: r.has_issues ?? true,
    has_wiki: r.has_wiki ?? true,
    default_branch: r.default_branch ?? null,
    archived: r.archived ?? false,
  };
}

/** Refs map without refs/pull/* and refs/norestore/*; pull request heads as { n: sha }. */
export function normGitRefs(refs: RefsMap, side: 'source' | 'standby'): { refs: RefsMap; pulls: Record<string, string> } {
  const out: RefsMap = {};
  const pulls: Record<string, string> = {};
  for (const name of Object.keys(refs).sort()) {
    const sha = refs[name]!;
    const src = /^refs\/pull\/(\d+)\/head$/.exec(name);
    const sb = /^refs\/norestore\/pull\/(\d+)\/head$/.exec(name);
    if (side === 'source' && src) pulls[src[1]!] = sha;
    else if (side === 'standby' && sb) pulls[sb[1]!] = sha;
    else if (!name.startsWith('refs/pull/') && !name.startsWith('refs/norestore/')) out[name] = sha;
  }
  return { refs: out, pulls };
}

export function normLabel(l: Label): Record<string, unknown> {
  return { name: l.name, color: (l.color ?? '').toLowerCase(), description: l.description ?? '' };
}

export function normMilestone(m: Milestone): Record<string, unknown> {
  return { number: m.number, title: m.title, description: m.description ?? '', state: m.state, due_on: dueDate(m.due_on) };
}

export function normIssue(i: Issue, side: Side): Record<string, unknown> {
  return {
    number: i.number,
    title: i.title,
    body: bodyOf(i.body, side),
    state: i.state,
    labels: labelNames(i.labels),
    milestone: i.milestone?.title ?? null,
    created_at: i.created_at,
  };
}

export function normComment(c: { body?: string | null }, parent: number, parentField: 'issue' | 'pull', side: Side): Record<string, unknown> {
  return { [parentField]: parent, body: bodyOf(c.body, side) };
}

export function normRelease(r: Release, side: Side): Record<string, unknown> {
  return { tag_name: r.tag_name, name: r.name ?? '', body: bodyOf(r.body, side), draft: r.draft, prerelease: r.prerelease };
}

export function normAsset(a: Asset, release: string, sha256: string | null): Record<string, unknown> {
  return { release, name: a.name, label: a.label ?? '', content_type: a.content_type, size: a.size, sha256 };
}

/** Normalize a stored record (its raw as exported) to the comparison shape of its kind. */
export function normalizeStored(record: ChangeRecord): Record<string, unknown> {
  const where = `${record.kind} ${record.id}`;
  const parse = <T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, v: unknown): T => {
    const r = schema.safeParse(v);
    if (!r.success) throw new Error(`stored ${where} does not have the expected shape (${r.error.message.slice(0, 200)}); re-export the scope with a null cursor`);
    return r.data;
  };
  switch (record.kind) {
    case K.repo:
      return normRepo(parse(Repo, record.raw));
    case K.git:
      return normGitRefs(parse(GitRecordRaw, record.raw).refs, 'source');
    case K.wiki:
      return { refs: normGitRefs(parse(GitRecordRaw, record.raw).refs, 'source').refs };
    case K.label:
      return normLabel(parse(Label, record.raw));
    case K.milestone:
      return normMilestone(parse(Milestone, record.raw));
    case K.issue:
      return normIssue(parse(Issue, record.raw), 'stored');
    case K.pull:
      return normIssue(parse(PullRecordRaw, record.raw).issue, 'stored');
    case K.issueComment:
      return normComment(parse(IssueComment, record.raw), Number(record.parent), 'issue', 'stored');
    case K.review:
      return normComment(parse(Review, record.raw), Number(record.parent), 'pull', 'stored');
    case K.reviewComment:
      return normComment(parse(ReviewComment, record.raw), Number(record.parent), 'pull', 'stored');
    case K.release:
      return normRelease(parse(Release, record.raw), 'stored');
    case K.asset:
      return normAsset(parse(Asset, record.raw), String(record.parent), record.blobs?.asset?.sha256 ?? null);
    default:
      throw new Error(`unknown kind ${record.kind} for the github connector`);
  }
}
