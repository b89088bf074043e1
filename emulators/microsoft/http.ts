/**
 * Request/response plumbing shared by the Graph handlers: Graph-shaped errors (with innerError
 * date, request-id, client-request-id), OData query helpers ($select, $top/$skip paging,
 * extended-property $expand/$filter), and delta paging (@odata.nextLink, then @odata.deltaLink on
 * the last page, never both).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { TenantState, UserState } from './state.js';

export class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'BadRequest'): GraphApiError => new GraphApiError(400, code, message);
export const notFound = (message = 'The specified object was not found in the store.', code = 'ErrorItemNotFound'): GraphApiError => new GraphApiError(404, code, message);

export interface ApiRequest {
  method: string;
  /** Path after /v1.0, e.g. /users/abc/mailFolders/inbox/messages/delta */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  raw: IncomingMessage;
  tenant: TenantState;
  /** https://host:port/v1.0 */
  base: string;
  /** https://host:port */
  origin: string;
  /** Prefer header preferences, lower-cased names. */
  prefer: Map<string, string>;
  /** The user a /users/{id}/... path addresses (resolved by the router). */
  user?: UserState;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: { data: Buffer | Readable; contentType: string; length?: number };
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface RouteDef {
  method: string;
  /** Template with {name} segments, relative to /v1.0, e.g. /users/{user}/mailFolders/{folder}/messages */
  path: string;
  handler: Handler;
  /** Counts against the per-mailbox Outlook limits (mail, calendar, contacts). */
  mailbox?: boolean;
  /** Do not parse the body (uploads, MIME). */
  rawBody?: boolean;
}

export const ok = (body: unknown, headers?: Record<string, string>): ApiResponse => ({ status: 200, body, headers });
export const created = (body: unknown, headers?: Record<string, string>): ApiResponse => ({ status: 201, body, headers });
export const noContent = (): ApiResponse => ({ status: 204 });

export function parsePrefer(h: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const all = Array.isArray(h) ? h.join(',') : (h ?? '');
  for (const part of all.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else out.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, ''));
  }
  return out;
}

/** Keep only $select'ed properties (plus id and @odata annotations). */
export function applySelect(obj: Record<string, unknown>, select: string | null | undefined): Record<string, unknown> {
  if (!select) return obj;
  const keep = new Set(select.split(',').map((s) => s.trim()).filter(Boolean));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k === 'id' || k.startsWith('@') || keep.has(k)) out[k] = v;
  return out;
}

/**
 * `$expand=singleValueExtendedProperties($filter=id eq '...')` -> the property ids asked for
 * (null when not expanded, '*' alone when expanded without a filter).
 */
export function expandedExtendedIds(query: URLSearchParams): string[] | null {
  const expand = query.get('$expand');
  if (!expand) return null;
  const m = /singleValueExtendedProperties(?:\(\$filter=(.*)\))?/i.exec(expand);
  if (!m) return null;
  if (!m[1]) return ['*'];
  const ids: string[] = [];
  for (const x of m[1].matchAll(/id\s+eq\s+'((?:[^']|'')*)'/gi)) ids.push((x[1] as string).replace(/''/g, "'"));
  return ids;
}

export function renderExtended(ext: Map<string, string>, ids: string[] | null): Record<string, unknown> {
  if (!ids) return {};
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');
  const wanted = new Set(ids.map(norm));
  const props = [...ext].filter(([id]) => wanted.has('*') || wanted.has(norm(id))).map(([id, value]) => ({ id, value }));
  return props.length ? { singleValueExtendedProperties: props } : {};
}

/** A supported $filter: extended property equality, or `prop eq 'value'`. Returns a predicate or throws. */
export function parseFilter(filter: string | null): ((item: { ext?: Map<string, string>; props: Record<string, unknown> }) => boolean) | null {
  if (!filter) return null;
  const any = /^singleValueExtendedProperties\/any\((\w+):\s*\1\/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+\1\/value\s+eq\s+'((?:[^']|'')*)'\)$/i.exec(filter.trim());
  if (any) {
    const id = (any[2] as string).replace(/''/g, "'").toLowerCase().replace(/\s+/g, ' ');
    const value = (any[3] as string).replace(/''/g, "'");
    return (item) => {
      for (const [k, v] of item.ext ?? []) if (k.toLowerCase().replace(/\s+/g, ' ') === id && v === value) return true;
      return false;
    };
  }
  const eq = /^(\w+)\s+eq\s+'((?:[^']|'')*)'$/i.exec(filter.trim());
  if (eq) {
    const prop = eq[1] as string;
    const value = (eq[2] as string).replace(/''/g, "'");
    return (item) => item.props[prop] === value;
  }
  throw badRequest(`Invalid filter clause: the emulator supports singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...') and "prop eq 'value'", got ${filter}`, 'ErrorInvalidUrlQueryFilter');
}

/** $top/$skip paging of a plain collection with @odata.nextLink. */
export function listPage<T>(req: ApiRequest, items: T[], render: (t: T) => unknown, defaultTop = 10, maxTop = 1000): ApiResponse {
  const prefSize = Number(req.prefer.get('odata.maxpagesize') ?? NaN);
  let top = Number(req.query.get('$top') ?? NaN);
  if (!Number.isFinite(top) || top < 1) top = Number.isFinite(prefSize) && prefSize > 0 ? prefSize : defaultTop;
  top = Math.min(top, maxTop);
  const skip = Math.max(0, Number(req.query.get('$skip') ?? 0) || 0);
  const page = items.slice(skip, skip + top);
  const body: Record<string, unknown> = { '@odata.context': `${req.base}/$metadata#collection`, value: page.map(render) };
  if (skip + top < items.length) {
    const u = new URL(req.base + req.path);
    for (const [k, v] of req.query) if (k !== '$skip') u.searchParams.set(k, v);
    u.searchParams.set('$top', String(top));
    u.searchParams.set('$skip', String(skip + top));
    body['@odata.nextLink'] = u.toString();
  }
  return ok(body);
}

// ---- delta ------------------------------------------------------------------------------------

export interface DeltaToken {
  /** collection key: the token is only valid for the collection that issued it */
  c: string;
  /** tenant generation: bumping it expires every token */
  g: number;
  /** changes after this sequence number */
  s: number;
  /** upper bound of this round (skip tokens only) */
  u?: number;
  /** last (seq, id) served in this round (skip tokens only) */
  a?: [number, string];
  /** extra state (calendar window, $select) */
  x?: Record<string, string>;
}

export function encodeToken(t: DeltaToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeToken(s: string): DeltaToken | null {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as DeltaToken;
    if (typeof t !== 'object' || t === null || typeof t.c !== 'string' || typeof t.g !== 'number' || typeof t.s !== 'number') return null;
    return t;
  } catch {
    return null;
  }
}

export interface DeltaEntry {
  seq: number;
  id: string;
  render: () => Record<string, unknown>;
}

export interface DeltaOptions {
  /** Identifies the collection (e.g. 'messages:user:folder'). */
  collection: string;
  /** Changes in (since, upto]; with full=true only live items (no removals). */
  entries: (since: number, upto: number, full: boolean, x: Record<string, string>) => DeltaEntry[];
  defaultPageSize: number;
  maxPageSize?: number;
  /** Query parameter carrying the delta token in the deltaLink: '$deltatoken' (Outlook, directory) or 'token' (OneDrive). */
  tokenParam: '$deltatoken' | 'token';
  /** The error for an expired or foreign token. */
  expired: () => GraphApiError;
  /** Extra state for a new round (taken from the initial request, e.g. the calendar window). */
  initialExtra?: () => Record<string, string>;
  /** OneDrive's token=latest: no enumeration, just a deltaLink at the current position. */
  allowLatest?: boolean;
}

export function deltaPage(req: ApiRequest, opts: DeltaOptions): ApiResponse {
  const t = req.tenant;
  const skip = req.query.get('$skiptoken');
  const delta = req.query.get(opts.tokenParam) ?? req.query.get('$deltatoken');
  let since = 0;
  let upto = t.seq;
  let after: [number, string] | null = null;
  let full = true;
  let x: Record<string, string> = opts.initialExtra?.() ?? {};
  const select = req.query.get('$select');
  if (select) x = { ...x, select };
  if (skip) {
    const tok = decodeToken(skip);
    if (!tok || tok.c !== opts.collection || tok.g !== t.generation || tok.u === undefined) throw opts.expired();
    since = tok.s;
    upto = tok.u;
    after = tok.a ?? null;
    full = since === 0;
    x = tok.x ?? {};
  } else if (delta === 'latest' && opts.allowLatest) {
    const link = `${req.base}${req.path}?${opts.tokenParam}=${encodeToken({ c: opts.collection, g: t.generation, s: t.seq, x })}`;
    return ok({ '@odata.context': `${req.base}/$metadata#Collection(driveItem)`, value: [], '@odata.deltaLink': link });
  } else if (delta) {
    const tok = decodeToken(delta);
    if (!tok || tok.c !== opts.collection || tok.g !== t.generation) throw opts.expired();
    if (tok.s > t.seq) throw opts.expired();
    since = tok.s;
    full = false;
    x = tok.x ?? {};
  }
  const prefSize = Number(req.prefer.get('odata.maxpagesize') ?? NaN);
  const size = Math.min(Number.isFinite(prefSize) && prefSize > 0 ? prefSize : opts.defaultPageSize, opts.maxPageSize ?? 1000);
  const all = opts.entries(since, upto, full, x).sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = after ? all.filter((e) => e.seq > (after as [number, string])[0] || (e.seq === (after as [number, string])[0] && e.id > (after as [number, string])[1])) : all;
  const page = rest.slice(0, size);
  const sel = x.select;
  const body: Record<string, unknown> = { '@odata.context': `${req.base}/$metadata#Collection`, value: page.map((e) => applySelect(e.render(), sel)) };
  const headers: Record<string, string> = {};
  if (Number.isFinite(prefSize) && prefSize > 0) headers['preference-applied'] = `odata.maxpagesize=${size}`;
  if (rest.length > size) {
    const last = page[page.length - 1] as DeltaEntry;
    body['@odata.nextLink'] = `${req.base}${req.path}?$skiptoken=${encodeToken({ c: opts.collection, g: t.generation, s: since, u: upto, a: [last.seq, last.id], x })}`;
  } else {
    body['@odata.deltaLink'] = `${req.base}${req.path}?${opts.tokenParam}=${encodeToken({ c: opts.collection, g: t.generation, s: upto, x })}`;
  }
  return ok(body, headers);
}

export function syncStateNotFound(): GraphApiError {
  return new GraphApiError(410, 'SyncStateNotFound', 'The sync state generation is not valid or has expired. Perform a full synchronization without a delta token.');
}

/** Parse a JSON request body into an object, with Graph's error for anything else. */
export function jsonBody(req: ApiRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) throw badRequest('Empty Payload. JSON content expected.', 'BadRequest');
  return b as Record<string, unknown>;
}

export function str(v: unknown, field: string, opts: { optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw badRequest(`Property ${field} is required.`, 'ErrorInvalidProperty');
  }
  if (typeof v !== 'string') throw badRequest(`Cannot convert the literal '${JSON.stringify(v)}' to the expected type 'Edm.String' for property ${field}.`, 'RequestBodyRead');
  return v;
}
