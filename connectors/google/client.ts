/**
 * The one Google client of a tenant: google-auth-library's JWT client per impersonated user
 * (service account with domain-wide delegation), googleapis clients on top, and one call path
 * every request goes through:
 *
 * - pacing: a sliding window per user and API (Gmail in quota units per second, Drive, Calendar
 *   in requests per minute, Directory per project), kept at a share of the ceiling so the run stays
 *   close to the quota without 429 storms;
 * - one retry path (rclone's shouldRetry): 403 userRateLimitExceeded / rateLimitExceeded and 429
 *   wait for Retry-After (or Gmail's "Retry after <time>", or exponential back-off) and block the
 *   pacer meanwhile; 5xx, backendError and dropped connections are retried with back-off, writes
 *   only after the caller checked (by natural key) that the write did not already happen; 401
 *   forces a new token once; anything else is fatal and named.
 *
 * gaxios' own retry is off, so no request is retried behind the pacer's back. Keys and tokens live
 * only inside the JWT clients; they never reach logs or errors.
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { JWT } from 'google-auth-library';
import { admin_directory_v1 } from 'googleapis/build/src/apis/admin/directory_v1.js';
import { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { drive_v3 } from 'googleapis/build/src/apis/drive/v3.js';
import { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import type { Logger } from '../../src/model/connector.js';
import { GOOGLE_DEFAULT_ROOT, GOOGLE_DEFAULT_TOKEN_URL, type ClientStats, type GoogleTenant } from './types.js';

export type Api = 'gmail' | 'drive' | 'calendar' | 'directory';

export const READ_SCOPES = [
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/drive.readonly',
  'https://www.googleapis.com/auth/calendar.readonly',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
];

export const WRITE_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/calendar',
  'https://www.googleapis.com/auth/admin.directory.user',
  'https://www.googleapis.com/auth/admin.directory.group',
];

export interface Apis {
  auth: JWT;
  gmail: gmail_v1.Gmail;
  drive: drive_v3.Drive;
  calendar: calendar_v3.Calendar;
  admin: admin_directory_v1.Admin;
}

/** A failed call, with what it was, on which tenant, and Google's status and reason. */
export class GoogleApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly reason: string | null,
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }
}

/**
 * Sleep `ms`, checking `signal` every 250 ms (no abort listener per sleeper: many parallel waits on
 * one run's signal would otherwise pile up listeners).
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  let left = ms;
  while (left > 0) {
    signal?.throwIfAborted();
    const step = Math.min(left, 250);
    await sleep(step);
    left -= step;
  }
  signal?.throwIfAborted();
}

/**
 * Sliding-window pacer in units, with a block-until time. A call occupies the window from when it is
 * sent until a window after its answer arrived (in flight it never leaves): Google counts it when it
 * arrives, somewhere in between, so the units Google sees in any window never exceed `max`.
 */
export class Pacer {
  private blockedUntil = 0;
  private entries: Array<{ t: number; units: number; inFlight: boolean }> = [];

  constructor(
    readonly windowMs: number,
    readonly max: number,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = pause,
  ) {}

  block(untilMs: number): void {
    if (untilMs > this.blockedUntil) this.blockedUntil = untilMs;
  }

  /** Wait until `cost` fits into the window; returns the milliseconds waited and a `done` to call with the answer. */
  async take(cost: number, signal?: AbortSignal): Promise<{ waited: number; done: () => void }> {
    const started = this.now();
    const c = Math.min(cost, this.max);
    for (;;) {
      signal?.throwIfAborted();
      const t = this.now();
      this.entries = this.entries.filter((e) => e.inFlight || e.t > t - this.windowMs);
      let wait = Math.max(0, this.blockedUntil - t);
      const sum = this.entries.reduce((n, e) => n + e.units, 0);
      if (sum + c > this.max) {
        // Wait for the earliest finished calls to leave the window until `c` fits (or for answers).
        const done = this.entries.filter((e) => !e.inFlight).sort((a, b) => a.t - b.t);
        let free = this.max - sum;
        let until = t + 10;
        for (const e of done) {
          free += e.units;
          until = e.t + this.windowMs + 1;
          if (free >= c) break;
        }
        wait = Math.max(wait, until - t, 1);
      }
      if (wait <= 0) break;
      await this.wait(wait, signal);
    }
    const entry = { t: this.now(), units: c, inFlight: true };
    this.entries.push(entry);
    return {
      waited: this.now() - started,
      done: () => {
        entry.inFlight = false;
        entry.t = this.now();
      },
    };
  }
}

interface Classified {
  type: 'rate' | 'retry' | 'auth' | 'fatal';
  status: number | null;
  reason: string | null;
  message: string;
  waitMs?: number;
}

interface ErrorLike {
  status?: number;
  code?: string | number;
  message?: string;
  response?: { status?: number; data?: unknown; headers?: { get?(name: string): string | null } | Record<string, string> };
  name?: string;
}

function header(res: ErrorLike['response'], name: string): string | null {
  const h = res?.headers;
  if (!h) return null;
  if (typeof (h as { get?: unknown }).get === 'function') return (h as { get(n: string): string | null }).get(name);
  const rec = h as Record<string, string>;
  return rec[name] ?? rec[name.toLowerCase()] ?? null;
}

function parseBody(data: unknown): { message?: string; reason?: string } {
  let d = data;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch {
      return {};
    }
  }
  const e = (d as { error?: unknown } | undefined)?.error;
  if (e && typeof e === 'object') {
    const x = e as { message?: string; errors?: Array<{ reason?: string }> };
    return { message: x.message, reason: x.errors?.[0]?.reason };
  }
  if (typeof e === 'string') return { message: `${e}: ${(d as { error_description?: string }).error_description ?? ''}`, reason: e };
  return {};
}

const RATE_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded', 'concurrentLimitExceeded']);
const RETRY_REASONS = new Set(['backendError', 'internalError']);
const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|premature close|Premature close|terminated|other side closed|network|fetch failed|aborted/i;

export function classify(err: unknown): Classified {
  const e = err as ErrorLike;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : null);
  const body = parseBody(e.response?.data);
  const reason = body.reason ?? null;
  const message = body.message ?? e.message ?? String(err);
  if (status === null) {
    if (e.name === 'AbortError' && !NETWORK.test(message)) return { type: 'fatal', status, reason, message };
    return { type: NETWORK.test(`${e.code ?? ''} ${message}`) || !e.response ? 'retry' : 'fatal', status, reason, message };
  }
  if (status === 429 || (status === 403 && reason !== null && RATE_REASONS.has(reason))) {
    let waitMs: number | undefined;
    const ra = header(e.response, 'retry-after');
    if (ra) waitMs = /^\d+(\.\d+)?$/.test(ra) ? Number(ra) * 1000 : Math.max(0, Date.parse(ra) - Date.now());
    const m = /Retry after (\d{4}-\d\d-\d\dT[0-9:.]+Z)/.exec(message);
    if (waitMs === undefined && m) waitMs = Math.max(0, Date.parse(m[1] as string) - Date.now());
    return { type: 'rate', status, reason, message, ...(waitMs !== undefined && Number.isFinite(waitMs) ? { waitMs } : {}) };
  }
  if (status === 401) return { type: 'auth', status, reason, message };
  if (status >= 500 || (status === 403 && reason !== null && RETRY_REASONS.has(reason)) || status === 408) return { type: 'retry', status, reason, message };
  return { type: 'fatal', status, reason, message };
}

export interface CallOptions {
  /** What the call is, for errors and logs (e.g. 'messages.import'). */
  what: string;
  /** A write that may have taken effect when its answer was lost. */
  write?: boolean;
  /**
   * For writes: after an ambiguous failure (5xx, dropped connection), look the item up by its
   * natural key; a found item is returned instead of writing again.
   */
  lookup?: () => Promise<unknown | null>;
  /** Statuses that are answers, not errors: the call resolves to { status } for them. */
  accept?: number[];
  signal?: AbortSignal;
}

export interface GoogleClientOptions {
  tenant: GoogleTenant;
  role: 'source' | 'standby';
  log: Logger;
  scopes: string[];
  gmailUnitsPerSecond?: number;
  quotaShare?: number;
  retryBaseMs?: number;
  maxAttempts?: number;
}

/** Google's per-user / per-project limits (API-FACTS.md), as [windowMs, max]. */
function limitOf(api: Api, gmailUnitsPerSecond: number): [number, number] {
  switch (api) {
    case 'gmail':
      return [1000, gmailUnitsPerSecond];
    case 'drive':
      return [60_000, 12_000];
    case 'calendar':
      return [60_000, 600];
    case 'directory':
      return [60_000, 2_400];
  }
}

export class GoogleClient {
  readonly stats: ClientStats = { requests: 0, units: 0, throttled: 0, retried: 0, pacedMs: 0 };
  readonly rootUrl: string;
  private readonly tokenUrl: string;
  private readonly apis = new Map<string, Apis>();
  private readonly pacers = new Map<string, Pacer>();
  private readonly share: number;
  private readonly gmailUps: number;
  private readonly retryBaseMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly opts: GoogleClientOptions) {
    this.rootUrl = (opts.tenant.rootUrl ?? GOOGLE_DEFAULT_ROOT).replace(/\/*$/, '/');
    this.tokenUrl = opts.tenant.tokenUrl ?? GOOGLE_DEFAULT_TOKEN_URL;
    this.share = opts.quotaShare ?? 0.95;
    this.gmailUps = opts.gmailUnitsPerSecond ?? 250;
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 8;
  }

  get tenant(): GoogleTenant {
    return this.opts.tenant;
  }

  /** googleapis clients acting as `user` (cached). */
  as(user: string): Apis {
    const key = user.toLowerCase();
    let a = this.apis.get(key);
    if (a) return a;
    const sa = this.opts.tenant.serviceAccount;
    const auth = new JWT({ email: sa.clientEmail, key: sa.privateKey, subject: key, scopes: this.opts.scopes });
    if (this.tokenUrl !== GOOGLE_DEFAULT_TOKEN_URL) {
      // google-auth-library signs the assertion for Google's token URL and posts it there; a
      // private endpoint (or an emulator) receives the same request at tokenUrl.
      const target = this.tokenUrl;
      auth.transporter.interceptors.request.add({
        resolved: async (cfg) => {
          if (String(cfg.url) === GOOGLE_DEFAULT_TOKEN_URL) cfg.url = new URL(target);
          return cfg;
        },
      });
    }
    const options = { auth, rootUrl: this.rootUrl, retry: false };
    a = { auth, gmail: new gmail_v1.Gmail(options), drive: new drive_v3.Drive(options), calendar: new calendar_v3.Calendar(options), admin: new admin_directory_v1.Admin(options) };
    this.apis.set(key, a);
    return a;
  }

  private pacer(api: Api, user: string): Pacer {
    const key = api === 'directory' ? 'directory' : `${api}:${user.toLowerCase()}`;
    let p = this.pacers.get(key);
    if (!p) {
      const [windowMs, max] = limitOf(api, this.gmailUps);
      this.pacers.set(key, (p = new Pacer(windowMs, Math.max(1, Math.floor(max * this.share)))));
    }
    return p;
  }

  private describe(c: Classified, what: string, user: string): string {
    const who = `${this.opts.role} ${this.opts.tenant.domain} as ${user}`;
    const base = `${what} (${who}): ${c.status ?? 'no answer'}${c.reason ? ` ${c.reason}` : ''}: ${c.message}`;
    if (/unauthorized_client/.test(c.message)) return `${base} (grant the service account's client id these scopes under Admin console > Security > API controls > Domain-wide delegation: ${this.opts.scopes.join(', ')})`;
    if (/invalid_grant/.test(c.message)) return `${base} (check that ${user} exists in ${this.opts.tenant.domain}, the service account key is current, and the clock is right)`;
    if (c.status === 403 && c.reason === 'insufficientPermissions') return `${base} (the token lacks a scope; grant ${this.opts.scopes.join(', ')})`;
    return base;
  }

  /**
   * Make one API call as `user` through the pacer and the retry path. `cost` is in quota units
   * (Gmail) or requests. Resolves to the response data.
   */
  async call<T>(user: string, api: Api, cost: number, fn: (a: Apis) => Promise<{ data: T; status?: number; headers?: unknown }>, o: CallOptions): Promise<T> {
    const res = await this.callRaw(user, api, cost, fn, o);
    return res.data as T;
  }

  async callRaw<T>(user: string, api: Api, cost: number, fn: (a: Apis) => Promise<{ data: T; status?: number; headers?: unknown }>, o: CallOptions): Promise<{ data: T | undefined; status: number; headers?: unknown }> {
    const pacer = this.pacer(api, user);
    const apis = this.as(user);
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const slot = await pacer.take(cost, o.signal);
      this.stats.pacedMs += slot.waited;
      this.stats.requests++;
      this.stats.units += cost;
      try {
        const res = await fn(apis).finally(slot.done);
        return { data: res.data, status: res.status ?? 200, headers: res.headers };
      } catch (err) {
        const c = classify(err);
        if (c.status !== null && o.accept?.includes(c.status)) return { data: undefined, status: c.status };
        if (o.signal?.aborted) throw err;
        if (c.type === 'auth' && !refreshed) {
          refreshed = true;
          apis.auth.credentials = { ...apis.auth.credentials, expiry_date: 1 };
          continue;
        }
        if (c.type === 'fatal' || c.type === 'auth' || attempt >= this.maxAttempts) {
          throw new GoogleApiError(this.describe(c, o.what, user) + (attempt > 1 ? ` (after ${attempt} attempts)` : ''), c.status, c.reason);
        }
        const backoff = Math.min(32_000, this.retryBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
        if (c.type === 'rate') {
          this.stats.throttled++;
          const wait = c.waitMs ?? backoff;
          pacer.block(Date.now() + wait);
          this.opts.log.debug('rate limited, waiting', { api, what: o.what, ms: Math.round(wait), reason: c.reason });
        } else {
          this.stats.retried++;
          this.opts.log.debug('retrying', { api, what: o.what, status: c.status, reason: c.reason, attempt });
          await pause(backoff, o.signal);
          if (o.write && o.lookup) {
            const found = await o.lookup();
            if (found !== null && found !== undefined) return { data: found as T, status: 200 };
          }
        }
      }
    }
  }

  /**
   * A download as a stream that survives dropped connections: on a failure mid-body it asks again
   * from the byte it got to (Range), through the same pacer and retry path.
   */
  download(user: string, api: Api, what: string, open: (a: Apis, range: string | undefined) => Promise<{ data: unknown }>, size: number | null, signal?: AbortSignal): Readable {
    const out = new PassThrough();
    let offset = 0;
    const run = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const range = offset > 0 ? `bytes=${offset}-` : undefined;
          const body = await this.call<unknown>(user, api, 1, (a) => open(a, range), { what, signal });
          const src = toNodeStream(body);
          for await (const chunk of src) {
            const b = chunk as Buffer;
            offset += b.length;
            if (!out.write(b)) await once(out, 'drain');
          }
          if (size !== null && offset < size) throw new Error(`premature close: ${offset} of ${size} bytes`);
          out.end();
          return;
        } catch (err) {
          const c = classify(err);
          if (err instanceof GoogleApiError || c.type === 'fatal' || attempt >= this.maxAttempts || signal?.aborted) {
            out.destroy(err as Error);
            return;
          }
          this.stats.retried++;
          await pause(Math.min(32_000, this.retryBaseMs * 2 ** (attempt - 1)), signal);
        }
      }
    };
    void run();
    return out;
  }
}

export function toNodeStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body && typeof (body as { getReader?: unknown }).getReader === 'function') return Readable.fromWeb(body as WebReadableStream);
  if (body && typeof (body as { pipe?: unknown }).pipe === 'function') return body as Readable;
  if (body instanceof ArrayBuffer) return Readable.from([Buffer.from(body)]);
  if (Buffer.isBuffer(body)) return Readable.from([body]);
  if (typeof body === 'string') return Readable.from([Buffer.from(body)]);
  throw new Error('unexpected response body type for a download');
}

export async function readAllBytes(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** Follow nextPageToken until the last page. */
export async function* pages<P extends { nextPageToken?: string | null }>(fetchPage: (pageToken: string | undefined) => Promise<P>): AsyncGenerator<P> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield page;
    token = page.nextPageToken ?? undefined;
  } while (token);
}
