/**
 * The one Microsoft Graph client of a tenant: @microsoft/microsoft-graph-client with a custom
 * middleware chain, @azure/msal-node for the client-credentials token, and one pacing and retry
 * path (`send`) that every HTTP attempt goes through, Graph calls, token calls and the
 * pre-authenticated upload/download URLs alike:
 *
 * - per mailbox (the user of /users/{id}/mailFolders|messages|events|calendar|calendarView|
 *   contactFolders|contacts): at most `mailboxConcurrency` requests in flight (Graph: 4, held until
 *   a streamed body is consumed) and at most `mailboxRequestsPer10Minutes` in any 10-minute window
 *   (sliding window), so an export runs at the ceiling without 429 storms;
 * - 429 (and 503 with Retry-After) pause that key for Retry-After seconds, then retry; 5xx and
 *   dropped connections back off exponentially (Retry-After when given); a 401 refreshes the token
 *   once; anything else is returned to the caller as an error.
 *
 * Secrets (client secret, tokens) live only in msal and in the Authorization header built here;
 * they never reach logs, errors or URLs.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext, rootCertificates } from 'node:tls';
import { ConfidentialClientApplication, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { Client, GraphError, ResponseType, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { Logger } from '../../src/model/connector.js';
import type { ClientStats, MicrosoftTenant } from './types.js';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';
const PUBLIC_AUTHORITY_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net', 'login.microsoftonline.de']);
const REQUEST_TIMEOUT_MS = 120_000;
const BUFFER_BELOW = 4 * 1024 * 1024;
/** Responses whose body was read whole by the transport: nothing is in flight any more. */
const BUFFERED = new WeakSet<Response>();

/** An HTTP error from Graph (or an upload/download URL), with Graph's error code when it gave one. */
export class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphHttpError';
  }
}

export function statusOf(err: unknown): number | null {
  if (err instanceof GraphHttpError) return err.status;
  if (err instanceof GraphError) return err.statusCode;
  return null;
}

export function codeOf(err: unknown): string {
  if (err instanceof GraphHttpError) return err.code;
  if (err instanceof GraphError) return err.code ?? '';
  return '';
}

export function headerOf(err: unknown, name: string): string | null {
  if (err instanceof GraphHttpError) return err.headers[name.toLowerCase()] ?? null;
  if (err instanceof GraphError) return err.headers?.get(name) ?? null;
  return null;
}

export type RequestBody = string | Buffer | Uint8Array | null | undefined;
export type Transport = ((url: string, init: { method?: string; headers?: Record<string, string>; body?: RequestBody; signal?: AbortSignal }) => Promise<Response>) & { close(): void };

/** A fetch-like function over node:http(s) with keep-alive agents and, optionally, extra trusted CAs. */
export function createTransport(caCertificate?: string): Transport {
  // A secure context built once: an agent given `ca` recomputes its connection key from every
  // certificate on each request.
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 64, ...(caCertificate ? { secureContext: createSecureContext({ ca: [...rootCertificates, caCertificate] }) } : {}) });
  const http = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const send = (url: string, init: Parameters<Transport>[1]) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      const isHttps = u.protocol === 'https:';
      const method = init.method ?? 'GET';
      const req = (isHttps ? httpsRequest : httpRequest)(u, { method, headers: init.headers, agent: isHttps ? https : http, signal: init.signal }, (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        const noBody = status === 204 || status === 304 || method === 'HEAD' || status < 200;
        const init = { status: status < 200 ? 502 : status, statusText: res.statusMessage, headers };
        if (noBody) {
          res.resume();
          resolve(new Response(null, init));
          return;
        }
        const len = Number(res.headers['content-length'] ?? NaN);
        const type = String(res.headers['content-type'] ?? '');
        if (Number.isFinite(len) && len <= BUFFER_BELOW && type.includes('json')) {
          // Small JSON answers are read whole: much cheaper than a web stream per response.
          const parts: Buffer[] = [];
          let ended = false;
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            ended = true;
            const r = new Response(Buffer.concat(parts), init);
            BUFFERED.add(r);
            resolve(r);
          });
          res.on('error', reject);
          res.on('close', () => {
            if (!ended) reject(new Error(`connection to ${u.host} closed before the response ended`));
          });
          return;
        }
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no response from ${u.host} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(init.body ?? undefined);
    });
  return Object.assign(send, {
    close: () => {
      https.destroy();
      http.destroy();
    },
  });
}

/** Which budget a request belongs to: a mailbox (Outlook limits), a drive, a transfer URL, or the app. */
export function paceKeyOf(url: string): string {
  const m = /\/v1\.0\/users\/([^/?]+)\/(mailFolders|messages|events|calendar|calendarView|contactFolders|contacts)\b/i.exec(url);
  if (m) return `mailbox:${decodeURIComponent(m[1] as string).toLowerCase()}`;
  const d = /\/v1\.0\/(?:users\/([^/?]+)\/drive|drives\/([^/?]+))/i.exec(url);
  if (d) return `drive:${decodeURIComponent((d[1] ?? d[2]) as string).toLowerCase()}`;
  if (!/\/v1\.0\//.test(url)) return 'transfer';
  return 'app';
}

interface Slot {
  active: number;
  waiters: Array<() => void>;
  times: number[];
  head: number;
  pausedUntil: number;
}

/** Per-key concurrency and sliding-window request budget, plus pauses set by Retry-After. */
export class Pacer {
  private slots = new Map<string, Slot>();
  pacedMs = 0;

  constructor(
    private readonly limits: (key: string) => { concurrency: number; perWindow: number | null },
    private readonly windowMs = 600_000,
  ) {}

  private slot(key: string): Slot {
    let s = this.slots.get(key);
    if (!s) this.slots.set(key, (s = { active: 0, waiters: [], times: [], head: 0, pausedUntil: 0 }));
    return s;
  }

  pause(key: string, ms: number): void {
    const s = this.slot(key);
    s.pausedUntil = Math.max(s.pausedUntil, Date.now() + ms);
  }

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    const { concurrency, perWindow } = this.limits(key);
    const s = this.slot(key);
    while (s.active >= concurrency) await new Promise<void>((r) => s.waiters.push(r));
    s.active++;
    let idx = -1;
    const release = () => {
      // A request counts from when its answer came back: the service counted it on arrival, which
      // lies between sending and answering, so the window never starts too early on our side.
      if (idx >= 0) s.times[idx] = Date.now();
      s.active--;
      s.waiters.shift()?.();
    };
    try {
      for (;;) {
        signal?.throwIfAborted();
        const now = Date.now();
        let wait = s.pausedUntil - now;
        if (perWindow !== null && s.times.length >= perWindow) {
          const oldest = s.times[s.head] as number;
          wait = Math.max(wait, oldest === Infinity ? 5 : oldest + this.windowMs + Math.min(1000, this.windowMs / 100) - now);
        }
        if (wait <= 0) break;
        this.pacedMs += wait;
        await sleep(wait, undefined, signal ? { signal } : undefined);
      }
      if (perWindow !== null) {
        if (s.times.length < perWindow) idx = s.times.push(Infinity) - 1;
        else {
          idx = s.head;
          s.times[idx] = Infinity;
          s.head = (s.head + 1) % perWindow;
        }
      }
    } catch (err) {
      release();
      throw err;
    }
    let done = false;
    return () => {
      if (!done) {
        done = true;
        release();
      }
    };
  }
}

/** Hold `release` until the body has been read (or cancelled): Graph counts a streamed download as in flight. */
function releaseOnEnd(res: Response, release: () => void): Response {
  if (!res.body) {
    release();
    return res;
  }
  const reader = res.body.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await reader.read();
        if (r.done) {
          release();
          ctrl.close();
        } else ctrl.enqueue(r.value);
      } catch (err) {
        release();
        ctrl.error(err);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(stream, { status: res.status, statusText: res.statusText, headers: res.headers });
}

async function errorFrom(res: Response, what: string): Promise<GraphHttpError> {
  let code = `HTTP${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const text = await res.text();
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } | string; error_description?: string };
    if (typeof body.error === 'object' && body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    } else if (typeof body.error === 'string') {
      code = body.error;
      message = body.error_description?.split(' Trace ID:')[0] ?? message;
    }
  } catch {
    // not JSON: keep the status line
  }
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return new GraphHttpError(res.status, code, `${what}: ${res.status} ${code}: ${message}`, headers);
}

export interface GraphTenantClientOptions {
  tenant: MicrosoftTenant;
  role: 'source' | 'standby';
  log: Logger;
  mailboxConcurrency?: number;
  mailboxRequestsPer10Minutes?: number;
  retryBaseMs?: number;
  maxRetries?: number;
  /** Length of the request-budget window (default 10 minutes, as Graph counts). */
  mailboxWindowMs?: number;
}

export interface SendOptions {
  /** Attach the Graph access token (not for pre-authenticated upload/download URLs). */
  auth: boolean;
  signal?: AbortSignal;
  /** Budget key; default derived from the URL. */
  key?: string;
}

/** One tenant's Graph access: the SDK client plus the raw `send` for upload/download URLs. */
export class GraphTenantClient {
  readonly graph: Client;
  readonly graphRoot: string;
  readonly stats: ClientStats = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, networkErrors: 0, pacedMs: 0, uploadedBytes: 0, downloadedBytes: 0 };
  private readonly transport: Transport;
  private readonly msal: ConfidentialClientApplication;
  private readonly pacer: Pacer;
  private readonly scopes: string[];
  private forceRefresh = false;
  /** Errors thrown inside the middleware, by message (see PacedTransport). */
  readonly thrown = new Map<string, GraphHttpError>();

  constructor(private readonly o: GraphTenantClientOptions) {
    const t = o.tenant;
    this.transport = createTransport(t.caCertificate);
    this.graphRoot = (t.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
    const authorityHost = (t.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    const authHost = new URL(authorityHost).host;
    this.scopes = [`${new URL(this.graphRoot).origin}/.default`];
    this.msal = new ConfidentialClientApplication({
      auth: {
        clientId: t.clientId,
        clientSecret: t.clientSecret,
        authority: `${authorityHost}/${t.tenantId}`,
        // A host msal does not know (a private cloud, an emulator) is trusted as configured instead of
        // being checked by instance discovery against login.microsoftonline.com.
        ...(PUBLIC_AUTHORITY_HOSTS.has(authHost.toLowerCase()) ? {} : { knownAuthorities: [authHost] }),
      },
      system: { networkClient: new MsalNetwork(this) },
    });
    const concurrency = Math.max(1, Math.min(o.mailboxConcurrency ?? 4, 4));
    const perWindow = o.mailboxRequestsPer10Minutes ?? 10_000;
    this.pacer = new Pacer((key) => {
      if (key.startsWith('mailbox:')) return { concurrency, perWindow };
      if (key.startsWith('drive:')) return { concurrency: 8, perWindow: null };
      return { concurrency: 16, perWindow: null };
    }, o.mailboxWindowMs ?? 600_000);
    const host = new URL(this.graphRoot).hostname;
    this.graph = Client.initWithMiddleware({
      middleware: new PacedTransport(this),
      baseUrl: `${this.graphRoot}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set([host]),
    });
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  get role(): 'source' | 'standby' {
    return this.o.role;
  }

  private async token(): Promise<string> {
    const skipCache = this.forceRefresh;
    this.forceRefresh = false;
    try {
      const r = await this.msal.acquireTokenByClientCredential({ scopes: this.scopes, skipCache });
      if (!r?.accessToken) throw new Error('no access token in the response');
      return r.accessToken;
    } catch (err) {
      const detail = err instanceof Error ? err.message.split(' Trace ID:')[0] : String(err);
      throw new GraphHttpError(401, 'authenticationFailed', `${this.o.role} tenant ${this.o.tenant.tenantId}: sign-in of app ${this.o.tenant.clientId} failed (${detail}); check tenantId, clientId, clientSecret and authorityHost`);
    }
  }

  /**
   * One request through the pacing and retry path. Returns the final response (any status that is
   * not retried); streamed bodies keep their pacing slot until read.
   */
  async send(url: string, init: { method?: string; headers?: Record<string, string>; body?: RequestBody }, opts: SendOptions): Promise<Response> {
    const key = opts.key ?? paceKeyOf(url);
    const base = this.o.retryBaseMs ?? 200;
    const max = this.o.maxRetries ?? 8;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      // The token first: a request counts against its budget from when it is sent.
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (opts.auth) headers.Authorization = `Bearer ${await this.token()}`;
      const release = await this.pacer.acquire(key, opts.signal);
      this.stats.pacedMs = this.pacer.pacedMs;
      let res: Response;
      try {
        this.stats.requests++;
        res = await this.transport(url, { ...init, headers, signal: opts.signal });
        // Follow redirects (OneDrive content -> pre-authenticated download URL) without the token.
        for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(res.status) && res.headers.get('location'); hops++) {
          const loc = new URL(res.headers.get('location') as string, url).toString();
          await res.body?.cancel().catch(() => undefined);
          this.stats.requests++;
          res = await this.transport(loc, { method: 'GET', headers: {}, signal: opts.signal });
        }
      } catch (err) {
        release();
        if (opts.signal?.aborted) throw err;
        if (err instanceof GraphHttpError) throw err;
        const code = String((err as { code?: unknown }).code ?? '');
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME_MISMATCH/i.test(code)) {
          throw new GraphHttpError(0, 'tlsError', `${new URL(url).host}: the TLS certificate is not trusted (${code}); if this host uses a private CA, give its PEM file as the tenant's caFile in the config (or NODE_EXTRA_CA_CERTS)`);
        }
        this.stats.networkErrors++;
        if (attempt >= 2) this.o.log.warn('network error talking to Graph; retrying', { role: this.o.role, host: new URL(url).host, attempt, error: err instanceof Error ? err.message : String(err) });
        if (attempt >= max) throw new GraphHttpError(0, 'networkError', `${init.method ?? 'GET'} ${redact(url)}: ${err instanceof Error ? err.message : String(err)} (after ${attempt + 1} attempts)`);
        this.stats.retries++;
        await sleep(backoff(base, attempt), undefined, opts.signal ? { signal: opts.signal } : undefined);
        continue;
      }
      const status = res.status;
      const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
      if (status === 429 || (status === 503 && Number.isFinite(retryAfter))) {
        release();
        await res.body?.cancel().catch(() => undefined);
        this.stats.throttled++;
        const ms = Number.isFinite(retryAfter) ? retryAfter * 1000 : backoff(base * 5, attempt);
        this.pacer.pause(key, ms);
        if (attempt >= max * 3) return res;
        this.stats.retries++;
        this.o.log.debug('throttled by Graph; waiting Retry-After', { role: this.o.role, key, seconds: ms / 1000 });
        continue;
      }
      if (status >= 500 && status !== 501) {
        release();
        await res.body?.cancel().catch(() => undefined);
        this.stats.serverErrors++;
        if (attempt >= max) return res;
        this.stats.retries++;
        await sleep(Number.isFinite(retryAfter) ? retryAfter * 1000 : backoff(base, attempt), undefined, opts.signal ? { signal: opts.signal } : undefined);
        continue;
      }
      if (status === 401 && opts.auth && !authRetried) {
        release();
        await res.body?.cancel().catch(() => undefined);
        authRetried = true;
        this.forceRefresh = true;
        continue;
      }
      if (BUFFERED.has(res)) {
        release();
        return res;
      }
      return releaseOnEnd(res, release);
    }
  }

  /** For msal: token and discovery calls go through the same retry path (without a token). */
  async sendForMsal(url: string, method: string, options?: NetworkRequestOptions): Promise<Response> {
    return this.send(url, { method, headers: options?.headers, body: options?.body }, { auth: false, key: 'authority' });
  }

  // ---- conveniences over the SDK ---------------------------------------------------------------

  /** GET a path or absolute link (nextLink/deltaLink) as JSON. */
  async get<T = Record<string, unknown>>(pathOrUrl: string, headers: Record<string, string> = {}): Promise<T> {
    return this.wrap('GET', pathOrUrl, () => this.graph.api(pathOrUrl).headers(headers).get() as Promise<T>);
  }

  async post<T = Record<string, unknown>>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.wrap('POST', path, () => this.graph.api(path).headers(headers).post(body) as Promise<T>);
  }

  async patch<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.wrap('PATCH', path, () => this.graph.api(path).patch(body) as Promise<T>);
  }

  async put<T = Record<string, unknown>>(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<T> {
    return this.wrap('PUT', path, () => this.graph.api(path).headers(headers).put(body) as Promise<T>);
  }

  async delete(path: string): Promise<void> {
    await this.wrap('DELETE', path, () => this.graph.api(path).delete() as Promise<unknown>);
  }

  /** GET a body as a stream (MIME by $value, drive content); throws a GraphHttpError on failure. */
  async stream(path: string, signal?: AbortSignal): Promise<{ body: Readable; length: number | null; contentType: string | null }> {
    const res = (await this.wrap('GET', path, () => this.graph.api(path).responseType(ResponseType.RAW).get() as Promise<Response>)) as Response;
    if (!res.ok) throw await errorFrom(res, `GET ${redact(path)}`);
    void signal;
    const len = Number(res.headers.get('content-length') ?? NaN);
    const body = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    body.on('data', (c: Buffer) => (this.stats.downloadedBytes += c.length));
    return { body, length: Number.isFinite(len) ? len : null, contentType: res.headers.get('content-type') };
  }

  /** A raw request to a pre-authenticated URL (upload session), through the same retry path. */
  async sendRaw(url: string, init: { method: string; headers?: Record<string, string>; body?: RequestBody }, signal?: AbortSignal): Promise<Response> {
    if (init.body && typeof init.body !== 'string') this.stats.uploadedBytes += init.body.length;
    return this.send(url, init, { auth: false, signal, key: 'transfer' });
  }

  private async wrap<T>(method: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof GraphHttpError) throw err;
      if (err instanceof GraphError && err.statusCode === -1) {
        const original = this.thrown.get(err.message);
        this.thrown.delete(err.message);
        if (original) throw original;
      }
      if (err instanceof GraphError) {
        const headers: Record<string, string> = {};
        err.headers?.forEach((v, k) => (headers[k] = v));
        throw new GraphHttpError(err.statusCode, err.code ?? `HTTP${err.statusCode}`, `${method} ${redact(path)}: ${err.statusCode} ${err.code ?? ''}: ${err.message}`, headers);
      }
      throw err;
    }
  }
}

/** Remove query strings that carry opaque tokens ($skiptoken, $deltatoken, token) from messages. */
export function redact(url: string): string {
  return url.replace(/([?&](?:\$skiptoken|\$deltatoken|token)=)[^&]+/gi, '$1…');
}

function backoff(base: number, attempt: number): number {
  const ms = Math.min(30_000, base * 2 ** attempt);
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

class PacedTransport implements Middleware {
  constructor(private readonly c: GraphTenantClient) {}
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const o = (context.options ?? {}) as { method?: string; headers?: Record<string, string> | Headers | Array<[string, string]>; body?: unknown };
    const headers: Record<string, string> = {};
    if (o.headers instanceof Headers) o.headers.forEach((v, k) => (headers[k] = v));
    else if (Array.isArray(o.headers)) for (const [k, v] of o.headers) headers[k] = v;
    else Object.assign(headers, o.headers ?? {});
    let body: RequestBody = null;
    if (typeof o.body === 'string' || Buffer.isBuffer(o.body) || o.body instanceof Uint8Array) body = o.body;
    else if (o.body instanceof ArrayBuffer) body = Buffer.from(o.body);
    else if (o.body !== undefined && o.body !== null) throw new Error(`unsupported request body type for ${redact(url)}`);
    try {
      context.response = await this.c.send(url, { method: o.method ?? 'GET', headers, body }, { auth: true });
    } catch (err) {
      // The SDK rewraps errors thrown in middleware as GraphError(-1): keep the original to rethrow.
      if (err instanceof GraphHttpError) this.c.thrown.set(err.message, err);
      throw err;
    }
  }
}

class MsalNetwork implements INetworkModule {
  constructor(private readonly c: GraphTenantClient) {}
  private async call<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const r = await this.c.sendForMsal(url, method, options);
    const text = await r.text();
    const headers: Record<string, string> = {};
    r.headers.forEach((v, k) => (headers[k] = v));
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { error: 'invalid_response', error_description: `non-JSON answer (${r.status}) from the authority` };
    }
    return { status: r.status, headers, body: body as T };
  }
  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.call<T>('GET', url, options);
  }
  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.call<T>('POST', url, options);
  }
}

/** Follow @odata.nextLink pages of a collection or delta query; returns the deltaLink (if any). */
export async function* pages<T = Record<string, unknown>>(c: GraphTenantClient, first: string, headers: Record<string, string> = {}): AsyncGenerator<T[], string | null> {
  let url: string | null = first;
  while (url) {
    const page: { value?: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string } = await c.get(url, headers);
    yield page.value ?? [];
    if (page['@odata.nextLink']) url = page['@odata.nextLink'];
    else return page['@odata.deltaLink'] ?? null;
  }
  return null;
}

/** Collect every item of a (non-delta) collection. */
export async function listAll<T = Record<string, unknown>>(c: GraphTenantClient, first: string, headers: Record<string, string> = {}): Promise<T[]> {
  const out: T[] = [];
  const it = pages<T>(c, first, headers);
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    out.push(...r.value);
  }
  return out;
}

/** Run fn over items with at most `limit` in flight (results in input order). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}
