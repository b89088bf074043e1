/**
 * The one GitHub client factory: octokit with @octokit/plugin-throttling and @octokit/plugin-retry,
 * and one pacing path under both of them (a fetch wrapper every HTTP attempt goes through):
 *
 * - reads and content creation have separate budgets; content-creating requests (POST, PATCH, PUT,
 *   DELETE) are serialized and kept under the secondary limit by a sliding-window pacer (default
 *   80/min and 500/h), so an import does not run into 403s;
 * - Retry-After (403/429) blocks the budget it hit until it has passed; x-ratelimit-remaining near 0
 *   blocks every budget until x-ratelimit-reset; the throttling plugin retries rate-limited requests
 *   and the retry plugin retries 5xx and dropped connections;
 * - an ETag cache answers repeated GETs from conditional requests (304s do not count against the
 *   primary limit); callers that keep ETags themselves (cursors) pass If-None-Match and get the 304.
 *
 * Tokens and keys live only in octokit's auth and in the git environment built here; they never
 * reach logs, errors or URLs.
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../src/model/connector.js';
import { gitAuthConfig, gitEnv } from './git.js';
import type { ClientStats, GithubTenant } from './types.js';

export const GithubOctokit = Octokit.plugin(throttling, retry);
export type GithubOctokit = InstanceType<typeof GithubOctokit>;

export interface GithubClientOptions {
  tenant: GithubTenant;
  /** 'source' or 'standby' (for logs and the limiter id). */
  role: string;
  log: Logger;
  contentCreationPerMinute?: number;
  contentCreationPerHour?: number;
  /** Divides the pacer's minute and hour windows (an emulator with a time scale). Default 1. */
  limitWindowScale?: number;
  /** Keep this many primary-limit requests unused: below it, wait for the reset. Default 10. */
  primaryReserve?: number;
  /** Retries of 5xx / dropped connections (retry plugin) and of rate-limited requests. Default 5. */
  maxRetries?: number;
  /** Base of the retry plugin's quadratic back-off in ms (1, 4, 9 ... times this). Default 1000. */
  retryBaseMs?: number;
  /** Longest wait for a primary-limit reset before giving up on a request. Default 1 h. */
  maxRateLimitWaitS?: number;
}

export interface GithubClient {
  readonly octokit: GithubOctokit;
  readonly stats: ClientStats;
  readonly tenant: GithubTenant;
  /** Git smart-HTTP URL of a repository (or its wiki) of the tenant's org. */
  gitUrl(repo: string, wiki?: boolean): string;
  /** Environment for git with the credentials as an extra header (never in URLs or files). */
  gitEnv(): Promise<NodeJS.ProcessEnv>;
  /** The server's clock, from the Date header of the latest response (falls back to local time). */
  serverNow(): Date;
  /** The ETag cache of GET responses (verification keeps a repository's share on disk between processes). */
  readonly etags: EtagCache;
}

/** git base URL rule: https://api.github.com -> https://github.com; otherwise the origin of the API URL. */
export function deriveGitBaseUrl(tenant: Pick<GithubTenant, 'baseUrl' | 'gitBaseUrl'>): string {
  if (tenant.gitBaseUrl) return tenant.gitBaseUrl.replace(/\/+$/, '');
  const u = new URL(tenant.baseUrl);
  if (u.hostname === 'api.github.com') return 'https://github.com';
  return u.origin;
}

/** Sliding-window pacer with a block-until time; `serial` makes holders wait for each other. */
export class Pacer {
  private blockedUntil = 0;
  private readonly sent: number[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly windows: Array<{ ms: number; max: number }>,
    private readonly serial: boolean,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
  ) {}

  /** No request of this budget before `untilMs`. */
  block(untilMs: number): void {
    if (untilMs > this.blockedUntil) this.blockedUntil = untilMs;
  }

  /**
   * Wait for a slot; resolves with a release function (call it when the request completed) and the
   * milliseconds waited.
   */
  async acquire(signal?: AbortSignal): Promise<{ release: () => void; waited: number }> {
    const started = this.now();
    let release: () => void = () => undefined;
    if (this.serial) {
      const prev = this.tail;
      let done!: () => void;
      this.tail = new Promise<void>((r) => (done = r));
      release = done;
      await prev;
    }
    try {
      for (;;) {
        signal?.throwIfAborted();
        const t = this.now();
        const horizon = t - this.longest();
        while (this.sent.length && this.sent[0]! <= horizon) this.sent.shift();
        let wait = Math.max(0, this.blockedUntil - t);
        for (const w of this.windows) {
          const inWindow = this.sent.filter((s) => s > t - w.ms);
          if (inWindow.length >= w.max) wait = Math.max(wait, inWindow[inWindow.length - w.max]! + w.ms - t + 1);
        }
        if (wait <= 0) break;
        await this.wait(wait, signal);
      }
      // Serial holders are counted when they complete: the server saw the request at some moment
      // before its answer, so spacing completions by the window keeps arrivals inside the limit too.
      if (this.windows.length && !this.serial) this.sent.push(this.now());
    } catch (err) {
      release();
      throw err;
    }
    if (this.windows.length && this.serial) {
      const done = release;
      release = () => {
        this.sent.push(this.now());
        done();
      };
    }
    return { release, waited: this.now() - started };
  }

  private longest(): number {
    return this.windows.reduce((m, w) => Math.max(m, w.ms), 0);
  }
}

interface CacheEntry {
  etag: string;
  response: { status: number; url: string; headers: Record<string, string>; data: unknown };
  size: number;
}

/** LRU of GET responses with an ETag, bounded by an estimate of their size. */
export class EtagCache {
  private readonly map = new Map<string, CacheEntry>();
  private bytes = 0;
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(key: string): CacheEntry | undefined {
    const e = this.map.get(key);
    if (e) {
      this.map.delete(key);
      this.map.set(key, e);
    }
    return e;
  }

  set(key: string, entry: Omit<CacheEntry, 'size'>): void {
    const size = JSON.stringify(entry.response.data ?? null).length + 256;
    if (size > this.maxBytes / 4) return;
    this.delete(key);
    this.map.set(key, { ...entry, size });
    this.bytes += size;
    for (const [k] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e) {
      this.bytes -= e.size;
      this.map.delete(key);
    }
  }

  /** Entries whose key (request URL, accept header) passes `keep` (to keep one repository's share between processes). */
  entries(keep: (key: string) => boolean): Array<[string, Omit<CacheEntry, 'size'>]> {
    const out: Array<[string, Omit<CacheEntry, 'size'>]> = [];
    for (const [k, e] of this.map) if (keep(k)) out.push([k, { etag: e.etag, response: e.response }]);
    return out;
  }

  /** Entries kept by `entries`; what is cached already is newer and stays. */
  load(entries: Array<[string, Omit<CacheEntry, 'size'>]>): void {
    for (const [k, e] of entries) if (!this.map.has(k)) this.set(k, e);
  }
}

/** Routes authenticated as the app itself (JWT), not as an installation. */
const APP_ROUTE = /^\/(?:app(?:\/.*)?|orgs\/[^/]+\/installation|repos\/[^/]+\/[^/]+\/installation|users\/[^/]+\/installation)$/i;

type AuthHook = (request: unknown, route: unknown, params?: unknown) => Promise<unknown>;
type AppAuth = ((o: { type: string }) => Promise<unknown>) & { hook: AuthHook };

/**
 * GitHub App auth for one org: createAppAuth with the installation id given, or looked up once as
 * the app's installation on the org (GET /orgs/{org}/installation, JWT-authenticated).
 */
function orgAppAuth(options: { request: ((route: string, params: object) => Promise<{ data: unknown }>) & { endpoint: unknown }; log?: unknown; appId: number | string; privateKey: string; installationId?: number | string; org: string }): AppAuth {
  const base = { appId: options.appId, privateKey: options.privateKey, request: options.request as never, log: options.log as never };
  const jwt = createAppAuth(base) as unknown as AppAuth;
  let inner: Promise<AppAuth> | null = null;
  const getInner = (): Promise<AppAuth> =>
    (inner ??= (async () => {
      let id = options.installationId;
      if (id === undefined) {
        const res = await options.request('GET /orgs/{org}/installation', { org: options.org });
        id = (res.data as { id: number }).id;
      }
      return createAppAuth({ ...base, installationId: id }) as unknown as AppAuth;
    })().catch((err: unknown) => {
      inner = null;
      throw err;
    }));
  const auth = (async (o: { type: string }) => (await getInner())(o)) as AppAuth;
  auth.hook = async (request, route, params) => {
    const r = request as { endpoint: { merge(a: unknown, b: unknown): { url: string }; DEFAULTS: { baseUrl: string } } };
    const url = r.endpoint.merge(route, params).url.replace(r.endpoint.DEFAULTS.baseUrl, '').split('?')[0]!;
    if (APP_ROUTE.test(url)) return jwt.hook(request, route, params);
    return (await getInner()).hook(request, route, params);
  };
  return auth;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

function header(headers: Headers, name: string): string | null {
  return headers.get(name);
}

export function createGithubClient(o: GithubClientOptions): GithubClient {
  const { tenant, log } = o;
  const stats: ClientStats = { requests: 0, notModified: 0, writes: 0, throttled: 0, pacedMs: 0 };
  const maxRetries = o.maxRetries ?? 5;
  const reserve = o.primaryReserve ?? 10;
  const maxWait = o.maxRateLimitWaitS ?? 3600;
  const reads = new Pacer([], false);
  const writes = new Pacer(
    [
      { ms: 60_000 / (o.limitWindowScale ?? 1), max: Math.max(1, o.contentCreationPerMinute ?? 80) },
      { ms: 3_600_000 / (o.limitWindowScale ?? 1), max: Math.max(1, o.contentCreationPerHour ?? 500) },
    ],
    true,
  );
  let lastDate: { server: number; local: number } | null = null;

  /** Every HTTP attempt (first try and retries) passes here: the one pacing path. */
  const pacedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const isAuth = /\/app\/installations\/[^/]+\/access_tokens$/.test(url.pathname);
    const isWrite = WRITE_METHODS.has(method) && !isAuth;
    const pacer = isWrite ? writes : reads;
    const signal = init?.signal ?? undefined;
    const slot = await pacer.acquire(signal);
    stats.pacedMs += slot.waited;
    try {
      stats.requests++;
      if (isWrite) stats.writes++;
      let res = await fetch(input, init);
      // Read non-streamed bodies here, so a connection dropped mid-body is a failed request (retried)
      // instead of an empty answer. Asset downloads (asked for as octet-stream) stay streamed,
      // whatever type the storage host they are redirected to declares.
      const type = res.headers.get('content-type') ?? '';
      const streamed = /application\/octet-stream/i.test(new Headers(init?.headers).get('accept') ?? '') || type.startsWith('application/octet-stream');
      if (res.body && !streamed && ![204, 205, 304].includes(res.status)) {
        const buf = await res.arrayBuffer();
        const headers = new Headers(res.headers);
        headers.delete('content-encoding');
        headers.delete('content-length');
        res = new Response(buf, { status: res.status, statusText: res.statusText, headers });
      }
      const date = header(res.headers, 'date');
      if (date) {
        const server = Date.parse(date);
        if (!Number.isNaN(server)) lastDate = { server, local: Date.now() };
      }
      if (res.status === 304) stats.notModified++;
      const remaining = header(res.headers, 'x-ratelimit-remaining');
      const reset = Number(header(res.headers, 'x-ratelimit-reset'));
      if (remaining !== null && Number(remaining) <= reserve && reset > 0) {
        const until = reset * 1000 + 1000;
        if (until > Date.now()) {
          log.warn('github primary rate limit nearly used: pausing until reset', { tenant: o.role, remaining: Number(remaining), resetAt: new Date(until).toISOString() });
          reads.block(until);
          writes.block(until);
        }
      }
      if (res.status === 429 || (res.status === 403 && (header(res.headers, 'retry-after') !== null || remaining === '0'))) {
        stats.throttled++;
        const ra = Number(header(res.headers, 'retry-after'));
        if (ra > 0) pacer.block(Date.now() + ra * 1000);
        log.info('github request refused by a rate limit; waiting before retrying', { tenant: o.role, method, path: url.pathname, status: res.status, retryAfterS: ra > 0 ? ra : null, remaining });
      }
      return res;
    } finally {
      slot.release();
    }
  };

  const passthroughGroup = { key: () => ({ schedule: (_opts: unknown, fn: (...a: unknown[]) => unknown, ...args: unknown[]) => fn(...args) }) };
  const onLimit = (kind: string) => (retryAfter: number, options: { method?: string; url?: string; request?: object }, _octokit: unknown, retryCount: number) => {
    // Streamed bodies cannot be replayed by the plugin: their caller retries with a fresh stream.
    const noReplay = (options.request as { norestoreNoReplay?: boolean } | undefined)?.norestoreNoReplay === true;
    const want = retryCount < maxRetries && retryAfter <= maxWait && !noReplay;
    log.warn(`github ${kind} rate limit hit`, { tenant: o.role, method: options.method, route: options.url, retryAfterS: retryAfter, retry: want ? retryCount + 1 : 'giving up' });
    return want;
  };

  const authOptions =
    tenant.auth.type === 'token'
      ? { auth: tenant.auth.token }
      : {
          authStrategy: orgAppAuth,
          auth: { appId: tenant.auth.appId, privateKey: tenant.auth.privateKey, installationId: tenant.auth.installationId, org: tenant.org },
        };

  const octokit = new GithubOctokit({
    ...authOptions,
    baseUrl: tenant.baseUrl.replace(/\/+$/, ''),
    userAgent: 'norestore',
    // Octokit logs every failed request (404s and 304s included) at error level; the callers judge those.
    log: { debug: () => undefined, info: () => undefined, warn: (m: string) => log.warn(m, { tenant: o.role }), error: (m: string) => log.debug(m, { tenant: o.role }) },
    request: { fetch: pacedFetch },
    throttle: {
      id: `${o.role}:${tenant.baseUrl}:${tenant.org}`,
      // Content-creation pacing is ours (above); the plugin's fixed write/notification spacing is off.
      write: passthroughGroup as never,
      notifications: passthroughGroup as never,
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
    },
    retry: { retries: maxRetries, retryAfterBaseValue: o.retryBaseMs ?? 1000, doNotRetry: [400, 401, 403, 404, 409, 410, 415, 422, 451] },
  });

  const etags = new EtagCache();
  const cache = etags;
  octokit.hook.wrap('request', async (request, options) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    const reqOpts = (options.request ?? {}) as { parseSuccessResponseBody?: boolean };
    const headers = (options.headers ?? {}) as Record<string, string>;
    const cacheable = method === 'GET' && reqOpts.parseSuccessResponseBody !== false && !Object.keys(headers).some((h) => h.toLowerCase() === 'if-none-match');
    if (method === 'POST' && (reqOpts as { retries?: number }).retries === undefined) {
      // A POST that failed after reaching the server may have created its item: never replay it
      // blindly. Callers look for the item by its natural key before trying again (import.ts).
      options.request = { ...(options.request ?? {}), retries: 0 } as typeof options.request;
    }
    if (!cacheable) return request(options);
    // Conditional requests are validated by the server, so the cache never serves stale data.
    const ep = octokit.request.endpoint(options as never);
    const key = `${ep.url}\u0000${String((ep.headers as Record<string, unknown>).accept ?? '')}`;
    const hit = cache.get(key);
    if (hit) options.headers = { ...options.headers, 'if-none-match': hit.etag } as typeof options.headers;
    try {
      const res = await request(options);
      const etag = (res.headers as Record<string, string | undefined>).etag;
      if (etag) cache.set(key, { etag, response: { status: res.status, url: res.url, headers: res.headers as Record<string, string>, data: res.data } });
      else cache.delete(key);
      return res;
    } catch (err) {
      if (hit && (err as { status?: number }).status === 304) return structuredClone(hit.response) as never;
      throw err;
    }
  });

  const gitBase = deriveGitBaseUrl(tenant);
  return {
    octokit,
    stats,
    tenant,
    gitUrl: (repo, wiki = false) => `${gitBase}/${encodeURIComponent(tenant.org)}/${encodeURIComponent(repo)}${wiki ? '.wiki' : ''}.git`,
    gitEnv: async () => {
      let token: string;
      if (tenant.auth.type === 'token') token = tenant.auth.token;
      else token = ((await octokit.auth({ type: 'installation' })) as { token: string }).token;
      return gitEnv(gitAuthConfig(gitBase, token));
    },
    serverNow: () => (lastDate ? new Date(lastDate.server + (Date.now() - lastDate.local)) : new Date()),
    etags,
  };
}

/** Answer of a conditional read: 304 (unchanged since the ETag) or the data with its new ETag. */
export type Conditional<T> = { notModified: true } | { notModified: false; data: T; etag?: string; link?: string };

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : undefined;
}

export function isStatus(err: unknown, ...codes: number[]): boolean {
  const s = statusOf(err);
  return s !== undefined && codes.includes(s);
}

/** GET one resource, conditionally when an ETag is given. */
export async function getConditional<T>(client: GithubClient, route: string, params: Record<string, unknown>, etag: string | undefined, signal?: AbortSignal): Promise<Conditional<T>> {
  try {
    const res = await client.octokit.request(route, { ...params, headers: { ...(params.headers as object | undefined), ...(etag ? { 'if-none-match': etag } : {}) }, request: { signal } });
    const h = res.headers as Record<string, string | undefined>;
    return { notModified: false, data: res.data as T, etag: h.etag, link: h.link };
  } catch (err) {
    if (etag && isStatus(err, 304)) return { notModified: true };
    throw err;
  }
}

function nextLink(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (m) return m[1]!;
  }
  return null;
}

/**
 * Every page of a list (per_page=100, following Link rel="next"). With an ETag, the first page is
 * requested conditionally and a 304 answers "unchanged". The returned ETag is only kept for
 * single-page lists (a 304 on page one says nothing about later pages). With `onPage`, pages are
 * handed over one by one and not kept (long lists in flat memory).
 */
export async function listAll<T>(
  client: GithubClient,
  route: string,
  params: Record<string, unknown>,
  opts: { etag?: string; signal?: AbortSignal; onPage?: (items: T[]) => Promise<void> } = {},
): Promise<Conditional<T[]>> {
  const first = await getConditional<unknown>(client, route, { per_page: 100, ...params }, opts.etag, opts.signal);
  if (first.notModified) return first;
  const items: T[] = [];
  const take = async (page: unknown): Promise<void> => {
    if (!Array.isArray(page)) throw new Error(`GitHub answered ${route} with something that is not a list`);
    if (opts.onPage) await opts.onPage(page as T[]);
    else items.push(...(page as T[]));
  };
  await take(first.data);
  let next = nextLink(first.link);
  let pages = 1;
  while (next) {
    const res = await client.octokit.request({ method: 'GET', url: next, request: { signal: opts.signal } });
    await take(res.data);
    next = nextLink((res.headers as Record<string, string | undefined>).link);
    pages++;
  }
  return { notModified: false, data: items, etag: pages === 1 ? first.etag : undefined };
}
