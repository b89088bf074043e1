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
  /**
   * `owner/repo` the source id belongs to. After a failover the old primary is the standby and its
   * originals are named by the headers of the copies the new source holds: this says where.
   */
  source?: string;
}

/** A body split into norestore's header (meta and visible note lines) and the author's text. */
export interface ParsedBody {
  meta: HeaderMeta | null;
  /** The visible lines of the header (attribution ...), empty without a header. */
  notes: string[];
  body: string;
}

/** Header + body as written to the standby. `notes` are visible markdown lines (attribution ...). */
export function withHeader(body: string | null | undefined, meta: HeaderMeta, notes: string[]): string {
  const lines: string[] = [];
  if (meta.kind && meta.id) lines.push(`${OPEN}source-id=${meta.kind}/${meta.id} -->`);
  if (meta.kind && meta.id && meta.source) lines.push(`${OPEN}source=${meta.source} -->`);
  if (meta.placeholder !== undefined) lines.push(`${OPEN}placeholder=${meta.placeholder} -->`);
  if (meta.deleted) lines.push(`${OPEN}deleted -->`);
  lines.push(...notes, CLOSE);
  return `${lines.join('\n')}\n${body ?? ''}`;
}

/** Split a standby body into norestore's header (null when absent) and the original body. */
export function parseHeader(body: string | null | undefined): ParsedBody {
  const text = body ?? '';
  if (!text.startsWith(OPEN)) return { meta: null, notes: [], body: text };
  const end = text.indexOf(CLOSE);
  if (end < 0) return { meta: null, notes: [], body: text };
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
  const source = /<!-- norestore:source=(\S+?) -->/.exec(head);
  if (source) meta.source = source[1];
  const notes = head.split('\n').filter((l) => l !== '' && !l.startsWith(OPEN));
  return { meta, notes, body: rest };
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

/**
 * The author's text, on both sides without norestore's header: the standby's carries the header we
 * wrote; after a failover the source's own items may be copies we made earlier and carry one too.
 */
export function bodyOf(body: string | null | undefined): string {
  return parseHeader(body).body;
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

/**
 * Refs map without refs/pull/* and refs/norestore/*; pull request heads as { n: sha }. A source may
 * itself hold refs/norestore/pull/N/head (it was the standby before a failover): those heads are
 * pushed on as they are, so they count as pull request heads too, after the source's own.
 */
export function normGitRefs(refs: RefsMap, side: 'source' | 'standby'): { refs: RefsMap; pulls: Record<string, string> } {
  const out: RefsMap = {};
  const pulls: Record<string, string> = {};
  for (const name of Object.keys(refs).sort()) {
    const sha = refs[name]!;
    const src = /^refs\/pull\/(\d+)\/head$/.exec(name);
    const sb = /^refs\/norestore\/pull\/(\d+)\/head$/.exec(name);
    if (side === 'source' && src) pulls[src[1]!] = sha;
    else if (sb && (side === 'standby' || !(`refs/pull/${sb[1]}/head` in refs))) pulls[sb[1]!] = sha;
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

export function normIssue(i: Issue): Record<string, unknown> {
  return {
    number: i.number,
    title: i.title,
    body: bodyOf(i.body),
    state: i.state,
    labels: labelNames(i.labels),
    milestone: i.milestone?.title ?? null,
    created_at: i.created_at,
  };
}

export function normComment(c: { body?: string | null }, parent: number, parentField: 'issue' | 'pull'): Record<string, unknown> {
  return { [parentField]: parent, body: bodyOf(c.body) };
}

export function normRelease(r: Release): Record<string, unknown> {
  return { tag_name: r.tag_name, name: r.name ?? '', body: bodyOf(r.body), draft: r.draft, prerelease: r.prerelease };
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
      return normIssue(parse(Issue, record.raw));
    case K.pull:
      return normIssue(parse(PullRecordRaw, record.raw).issue);
    case K.issueComment:
      return normComment(parse(IssueComment, record.raw), Number(record.parent), 'issue');
    case K.review:
      return normComment(parse(Review, record.raw), Number(record.parent), 'pull');
    case K.reviewComment:
      return normComment(parse(ReviewComment, record.raw), Number(record.parent), 'pull');
    case K.release:
      return normRelease(parse(Release, record.raw));
    case K.asset:
      return normAsset(parse(Asset, record.raw), String(record.parent), record.blobs?.asset?.sha256 ?? null);
    default:
      throw new Error(`unknown kind ${record.kind} for the github connector`);
  }
}
