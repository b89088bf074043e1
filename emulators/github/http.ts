/**
 * Request/response plumbing shared by the REST handlers: GitHub-shaped errors, pagination with
 * Link headers, and small body validators whose messages follow GitHub's.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Identity, ImportJob, Repo } from './state.js';
import type { RenderCtx } from './render.js';
import type { RepoOps } from './ops.js';
import type { RateLimiter } from './limits.js';

/** Server-side services the handlers use. */
export interface Services {
  ops: RepoOps;
  limiter: RateLimiter;
  /** primary-limit figures for the caller */
  rate(identity: Identity): { limit: number; remaining: number; used: number; reset: number };
  /** a signed, short-lived download URL for a release asset */
  signedAssetUrl(assetId: number): string;
  /** mint an installation token (POST /app/installations/{id}/access_tokens) */
  mintInstallationToken(installationId: number, opts: { repositoryIds: number[] | null; permissions: Record<string, string> | null }): {
    token: string; expiresAt: number; permissions: Record<string, string>; repositoryIds: number[] | null;
  };
  /** schedule an issue import job */
  importIssue(repo: Repo, actor: string, payload: Record<string, unknown>): ImportJob;
  importEnabled: boolean;
}

export const DOCS = 'https://docs.github.com/rest';

export interface ErrorItem {
  resource?: string;
  field?: string;
  code: string;
  message?: string;
  value?: string | number | string[] | null;
  index?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly docs: string = DOCS,
    readonly extra: { errors?: (ErrorItem | string)[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const b: Record<string, unknown> = { message: this.message };
    if (this.extra.errors) b.errors = this.extra.errors;
    b.documentation_url = this.docs;
    b.status = String(this.status);
    return b;
  }
}

export const notFound = (docs: string): ApiError => new ApiError(404, 'Not Found', docs);
export const validationFailed = (docs: string, errors: ErrorItem[], message = 'Validation Failed'): ApiError =>
  new ApiError(422, message, docs, { errors });
export const invalidRequest = (docs: string, detail: string): ApiError => new ApiError(422, `Invalid request.\n\n${detail}`, docs);

export interface ApiRequest {
  method: string;
  /** OpenAPI-style route template, e.g. /repos/{owner}/{repo}/issues */
  route: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** parsed JSON body (undefined when none) */
  body: unknown;
  /** raw request for streaming uploads */
  raw: IncomingMessage;
  identity: Identity;
  docs: string;
  /** the full public URL of this request (for Link headers) */
  url: URL;
  ctx: RenderCtx;
  svc: Services;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** a raw payload instead of JSON */
  raw?: { data: Buffer | NodeJS.ReadableStream; contentType: string; length?: number };
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface RouteDef {
  method: string;
  path: string;
  docs: string;
  handler: Handler;
  /** content-creating request: counts against the secondary limit */
  creates?: boolean;
  /** do not read/parse the body (uploads) */
  rawBody?: boolean;
  /** who may call: default 'token' (user or installation; anonymous for public reads) */
  auth?: 'token' | 'jwt' | 'none';
  /** not counted against the primary limit (GET /rate_limit) */
  free?: boolean;
  /** served on the uploads host instead of the API host */
  uploads?: boolean;
}

export const ok = (body: unknown, headers?: Record<string, string>): ApiResponse => ({ status: 200, body, headers });
export const created = (body: unknown, headers?: Record<string, string>): ApiResponse => ({ status: 201, body, headers });
export const noContent = (): ApiResponse => ({ status: 204 });

/** Slice a list by per_page/page and build the Link header (first/prev/next/last). */
export function paginate<T>(req: ApiRequest, items: T[], defaultPerPage = 30): { items: T[]; headers: Record<string, string> } {
  let perPage = Number.parseInt(req.query.get('per_page') ?? '', 10);
  if (!Number.isFinite(perPage) || perPage < 1) perPage = defaultPerPage;
  if (perPage > 100) perPage = 100;
  let page = Number.parseInt(req.query.get('page') ?? '', 10);
  if (!Number.isFinite(page) || page < 1) page = 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const links: string[] = [];
  const at = (p: number): string => {
    const u = new URL(req.url.toString());
    u.searchParams.set('page', String(p));
    if (req.query.has('per_page')) u.searchParams.set('per_page', String(perPage));
    return u.toString();
  };
  if (page > 1) {
    links.push(`<${at(Math.min(page - 1, last))}>; rel="prev"`);
  }
  if (page < last) {
    links.push(`<${at(page + 1)}>; rel="next"`);
    links.push(`<${at(last)}>; rel="last"`);
  }
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  const headers: Record<string, string> = {};
  if (links.length) headers.link = links.join(', ');
  return { items: slice, headers };
}

export function listResponse<T>(req: ApiRequest, items: T[], render: (t: T) => unknown): ApiResponse {
  const { items: pageItems, headers } = paginate(req, items);
  return { status: 200, body: pageItems.map(render), headers };
}

// ---- body helpers ----

export function bodyObject(req: ApiRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) {
    throw new ApiError(400, 'Problems parsing JSON', req.docs);
  }
  return b as Record<string, unknown>;
}

type Kind = 'string' | 'integer' | 'boolean' | 'array' | 'object';

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function typeOk(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

/** Read an optional field with a type check; `nullable` allows null. GitHub: "For 'properties/x', 5 is not a string." */
export function field<T>(req: ApiRequest, b: Record<string, unknown>, name: string, kinds: Kind[], nullable = false): T | undefined {
  if (!(name in b) || b[name] === undefined) return undefined;
  const v = b[name];
  if (v === null && nullable) return null as T;
  if (!kinds.some((k) => typeOk(v, k))) {
    const want = kinds.map((k) => (k === 'integer' ? 'an integer' : k === 'array' ? 'an array' : k === 'object' ? 'an object' : `a ${k}`)).join(' or ');
    throw invalidRequest(req.docs, `For 'properties/${name}', ${describe(v)} is not ${want}${nullable ? ' or null' : ''}.`);
  }
  return v as T;
}

export function required<T>(req: ApiRequest, b: Record<string, unknown>, name: string, kinds: Kind[]): T {
  const v = field<T>(req, b, name, kinds);
  if (v === undefined || v === null) throw invalidRequest(req.docs, `"${name}" wasn't supplied.`);
  return v;
}

export function oneOf<T extends string>(req: ApiRequest, value: string | undefined | null, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw validationFailed(req.docs, [{ resource: resourceOf(req.route), field: name, code: 'invalid', value }]);
}

export function resourceOf(route: string): string {
  if (route.includes('/labels')) return 'Label';
  if (route.includes('/milestones')) return 'Milestone';
  if (route.includes('/releases')) return 'Release';
  if (route.includes('/pulls')) return 'PullRequest';
  if (route.includes('/comments')) return 'IssueComment';
  if (route.includes('/issues')) return 'Issue';
  return 'Repository';
}

/** Parse an ISO 8601 timestamp query parameter; GitHub answers 422 for an invalid one. */
export function sinceParam(req: ApiRequest, name = 'since'): number | null {
  const v = req.query.get(name);
  if (v === null || v === '') return null;
  const t = Date.parse(v);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) {
    throw validationFailed(req.docs, [{ resource: resourceOf(req.route), field: name, code: 'invalid', value: v }]);
  }
  return t;
}

export function sortBy<T>(items: T[], key: (t: T) => number, direction: 'asc' | 'desc', tie: (t: T) => number): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * (key(a) - key(b) || tie(a) - tie(b)));
}

/** Permissions the identity has on a repository, GitHub-style. */
export function permissionsFor(req: ApiRequest, repo: Repo): { admin: boolean; push: boolean; pull: boolean } {
  const id = req.identity;
  const state = req.ctx.state;
  if (id.kind === 'user') {
    const org = state.org(repo.owner);
    const role = org?.members.get(id.user.login.toLowerCase());
    if (repo.owner.toLowerCase() === id.user.login.toLowerCase() || role === 'admin') return { admin: true, push: true, pull: true };
    if (role === 'member') return { admin: false, push: true, pull: true };
    return { admin: false, push: false, pull: !repo.private };
  }
  if (id.kind === 'installation') {
    const inst = [...state.apps.values()].flatMap((a) => [...a.installations.values()]).find((i) => i.id === id.installationId);
    const covers = inst !== undefined && inst.account.toLowerCase() === repo.owner.toLowerCase() && (id.repositoryIds === null || id.repositoryIds.includes(repo.id));
    if (!covers) return { admin: false, push: false, pull: !repo.private };
    return { admin: id.permissions.administration === 'write', push: id.permissions.contents === 'write', pull: true };
  }
  return { admin: false, push: false, pull: !repo.private };
}

export type Area = 'metadata' | 'contents' | 'issues' | 'pull_requests' | 'administration';

/**
 * Find the repository of the route and check the caller may read (or write) the given area.
 * Invisible repositories answer 404, as GitHub does for private ones.
 */
export function repoFor(req: ApiRequest, area: Area, write: boolean): Repo {
  const owner = req.params.owner ?? '';
  const name = (req.params.repo ?? '').replace(/\.git$/, '');
  const repo = req.ctx.state.repo(owner, name);
  if (!repo) throw notFound(req.docs);
  const perms = permissionsFor(req, repo);
  if (!perms.pull) throw notFound(req.docs);
  const id = req.identity;
  if (write) {
    if (id.kind === 'anonymous') throw new ApiError(401, 'Requires authentication', req.docs);
    if (id.kind === 'installation') {
      const p = id.permissions[area];
      if (p !== 'write') throw new ApiError(403, 'Resource not accessible by integration', req.docs);
    } else if (!perms.push) {
      throw notFound(req.docs);
    }
    if (repo.archived && area !== 'administration') {
      throw new ApiError(403, 'Repository was archived so is read-only.', req.docs);
    }
  } else if (id.kind === 'installation' && area !== 'metadata') {
    const p = id.permissions[area];
    if (p !== 'read' && p !== 'write') throw new ApiError(403, 'Resource not accessible by integration', req.docs);
  }
  return repo;
}

/** The login that performs a write (bots act as `<app-slug>[bot]`). */
export function actor(req: ApiRequest): string {
  const id = req.identity;
  if (id.kind === 'user') return id.user.login;
  if (id.kind === 'installation') return id.bot.login;
  throw new ApiError(401, 'Requires authentication', req.docs);
}

export function intParam(req: ApiRequest, name: string): number {
  const v = req.params[name] ?? '';
  if (!/^\d+$/.test(v)) throw notFound(req.docs);
  return Number(v);
}
