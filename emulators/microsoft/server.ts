/**
 * The emulator's HTTPS listener: the identity platform endpoints (instance discovery, OpenID
 * configuration, token) and Microsoft Graph v1.0 under /v1.0, plus the pre-authenticated upload and
 * download URLs. Every request passes fault injection first, then (Graph) token checks, then the
 * per-mailbox Outlook limits for mail, calendar and contacts, then its handler. Errors are Graph's
 * `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { AuthService } from './auth.js';
import type { DriveService } from './drive.js';
import type { FaultInjector } from './faults.js';
import { type ApiRequest, type ApiResponse, type RouteDef, GraphApiError, parsePrefer } from './http.js';
import type { MailboxLimiter } from './limits.js';
import type { TenantState } from './state.js';
import type { UploadSessions } from './uploads.js';

interface CompiledRoute {
  def: RouteDef;
  segments: Array<{ literal: string } | { param: string }>;
  literals: number;
}

export interface ServerStats {
  requests: number;
  graphRequests: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  throttled: { mailboxConcurrency: number; mailboxBudget: number; injected: number };
}

export interface GraphServerOptions {
  tenant: TenantState;
  auth: AuthService;
  limiter: MailboxLimiter;
  faults: FaultInjector;
  uploads: UploadSessions;
  drive: DriveService;
  routes: RouteDef[];
  cert: { cert: string; key: string };
}

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export class GraphServer {
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  private routes: CompiledRoute[];
  origin = '';
  readonly stats: ServerStats = { requests: 0, graphRequests: 0, byRoute: {}, byStatus: {}, throttled: { mailboxConcurrency: 0, mailboxBudget: 0, injected: 0 } };

  constructor(private readonly o: GraphServerOptions) {
    this.routes = o.routes.map((def) => {
      const segments = def.path.split('/').filter(Boolean).map((s) => (/^\{(\w+)\}$/.test(s) ? { param: s.slice(1, -1) } : { literal: s.toLowerCase() }));
      return { def, segments, literals: segments.filter((s) => 'literal' in s).length };
    });
  }

  async listen(host: string, port: number): Promise<string> {
    const server = createServer({ cert: this.o.cert.cert, key: this.o.cert.key, keepAlive: true }, (req, res) => void this.handle(req, res));
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.origin = `https://${h}:${addr.port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | 'method' | null {
    const parts = path.split('/').filter(Boolean);
    let best: { route: CompiledRoute; params: Record<string, string> } | null = null;
    let methodMismatch = false;
    for (const r of this.routes) {
      if (r.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = r.segments[i] as { literal: string } | { param: string };
        const part = parts[i] as string;
        if ('literal' in seg) {
          if (seg.literal !== part.toLowerCase()) {
            ok = false;
            break;
          }
        } else {
          try {
            params[seg.param] = decodeURIComponent(part);
          } catch {
            ok = false;
            break;
          }
        }
      }
      if (!ok) continue;
      if (r.def.method !== method) {
        methodMismatch = true;
        continue;
      }
      if (!best || r.literals > best.route.literals) best = { route: r, params };
    }
    if (best) return best;
    return methodMismatch ? 'method' : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = new Date();
    const requestId = randomUUID();
    const clientRequestId = typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : requestId;
    const headers: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'EMU000001' } }),
      'strict-transport-security': 'max-age=31536000',
    };
    this.stats.requests++;
    const url = new URL(req.url ?? '/', this.origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const errorBody = (e: GraphApiError) => ({
      error: {
        code: e.code,
        message: e.message,
        innerError: { ...(e.innerCode ? { code: e.innerCode } : {}), date: started.toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId },
      },
    });
    let drop = false;
    let release: (() => void) | null = null;
    try {
      const userSeg = /^\/v1\.0\/users\/([^/?]+)\/(?:mailFolders|messages|calendar|calendarView|events|contactFolders|contacts)/i.exec(url.pathname)?.[1];
      const decision = this.o.faults.decide(method, userSeg ? `mailbox:${decodeURIComponent(userSeg).toLowerCase()}` : 'app');
      const isGraph = url.pathname.startsWith('/v1.0/');
      // Graph requests spend their latency inside the service (holding their mailbox slot); others before.
      if (decision.latencyMs > 0 && (!isGraph || decision.action !== 'none')) await new Promise((r) => setTimeout(r, decision.latencyMs));
      if (decision.action === 'error5xx') {
        const codes = { 500: ['generalException', 'An internal server error occurred.'], 502: ['UnknownError', 'Bad gateway.'], 503: ['serviceNotAvailable', 'The service is temporarily unavailable.'], 504: ['GatewayTimeout', 'The gateway timed out.'] } as const;
        const [code, msg] = codes[decision.status];
        throw new GraphApiError(decision.status, code, msg);
      }
      if (decision.action === 'rate429') {
        this.stats.throttled.injected++;
        throw new GraphApiError(429, 'TooManyRequests', 'Too many requests. Retry after the time given in Retry-After.', { 'retry-after': String(decision.retryAfter) });
      }
      drop = decision.action === 'drop';

      const p = url.pathname;
      let out: ApiResponse;
      let m: RegExpExecArray | null;
      if ((m = /^\/_upload\/(drive|outlook)\/([A-Za-z0-9_-]+)$/.exec(p))) {
        const id = m[2] as string;
        if (method === 'PUT') out = await this.o.uploads.put(id, req);
        else if (method === 'GET') out = this.o.uploads.status(id);
        else if (method === 'DELETE') out = await this.o.uploads.cancel(id);
        else throw new GraphApiError(405, 'invalidRequest', `${method} is not supported on an upload URL.`);
      } else if ((m = /^\/_download\/([A-Za-z0-9_-]+)$/.exec(p))) {
        out = this.o.drive.download(m[1] as string, typeof req.headers.range === 'string' ? req.headers.range : undefined);
      } else if (/^\/common\/discovery\/instance$/i.test(p)) {
        out = { status: 200, body: this.o.auth.instanceDiscovery(this.origin) };
      } else if ((m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/i.exec(p))) {
        if (!this.o.auth.isTenant(decodeURIComponent(m[1] as string)) && !['common', 'organizations'].includes((m[1] as string).toLowerCase())) {
          out = { status: 400, body: { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${m[1]}' not found.`, error_codes: [90002] } };
        } else out = { status: 200, body: this.o.auth.openIdConfiguration(this.origin) };
      } else if ((m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/i.exec(p)) && method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
        const r = this.o.auth.token(decodeURIComponent(m[1] as string), new URLSearchParams(Buffer.concat(chunks).toString('utf8')), req.headers.authorization);
        out = { status: r.status, body: r.body, headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' } };
      } else if (p.startsWith('/v1.0/')) {
        const r = await this.graph(req, url, method, decision.latencyMs);
        out = r.out;
        release = r.release;
      } else {
        throw new GraphApiError(404, 'BadRequest', `Invalid version or resource: ${p}. Microsoft Graph paths start with /v1.0/.`);
      }
      this.send(res, out, headers, drop, release);
    } catch (err) {
      if (err instanceof GraphApiError) {
        this.send(res, { status: err.status, body: errorBody(err), headers: err.headers }, headers, false);
      } else {
        const e = new GraphApiError(500, 'generalException', `Emulator error: ${err instanceof Error ? err.message : String(err)}`);
        this.send(res, { status: 500, body: errorBody(e) }, headers, false);
      }
    } finally {
      if (release) {
        const r = release;
        // The request stops counting once its response is handed over, as a client sees it end.
        if (res.writableFinished || res.destroyed) r();
        else {
          res.once('finish', r);
          res.once('close', r);
        }
      }
    }
  }

  private async graph(req: IncomingMessage, url: URL, method: string, latencyMs: number): Promise<{ out: ApiResponse; release: (() => void) | null }> {
    this.stats.graphRequests++;
    const tok = this.o.auth.check(req.headers.authorization);
    if ('code' in tok) throw new GraphApiError(401, tok.code, tok.message, { 'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` });
    const path = url.pathname.slice('/v1.0'.length);
    if (/^\/me(\/|$)/i.test(path)) throw new GraphApiError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    const api: ApiRequest = {
      method, path, params: {}, query: url.searchParams, headers: req.headers, body: undefined, raw: req, tenant: this.o.tenant,
      base: `${this.origin}/v1.0`, origin: this.origin, prefer: parsePrefer(req.headers.prefer),
    };
    const drive = this.o.drive.resolve(path);
    if (drive) {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      this.count(`${method} drive`);
      return { out: await this.o.drive.handle(api, drive.drive, drive.rest), release: null };
    }
    const found = this.match(method, path);
    if (found === 'method') throw new GraphApiError(405, 'Request_BadRequest', `The HTTP method ${method} is not allowed for the resource ${path}.`);
    if (!found) {
      const seg = path.split('/').filter(Boolean).pop() ?? '';
      throw new GraphApiError(400, 'BadRequest', `Resource not found for the segment '${seg}'.`);
    }
    const { route, params } = found;
    this.count(`${method} ${route.def.path}`);
    api.params = params;
    if (params.user !== undefined) {
      const u = this.o.tenant.user(params.user);
      if (!u) {
        if (route.def.mailbox) throw new GraphApiError(404, 'ErrorInvalidUser', `The requested user '${params.user}' is invalid.`);
        throw new GraphApiError(404, 'Request_ResourceNotFound', `Resource '${params.user}' does not exist or one of its queried reference-property objects are not present.`);
      }
      api.user = u;
    }
    let release: (() => void) | null = null;
    if (route.def.mailbox && api.user) {
      const adm = this.o.limiter.enter(`${tok.clientId}:${api.user.id}`);
      if (!adm.ok) {
        if (adm.reason === 'concurrency') this.stats.throttled.mailboxConcurrency++;
        else this.stats.throttled.mailboxBudget++;
        throw new GraphApiError(429, 'ApplicationThrottled', adm.message, { 'retry-after': String(adm.retryAfter) });
      }
      release = adm.release;
    }
    try {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      if (!route.def.rawBody && (method === 'POST' || method === 'PATCH' || method === 'PUT')) {
        const chunks: Buffer[] = [];
        for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim()) {
          try {
            api.body = JSON.parse(text);
          } catch {
            throw new GraphApiError(400, 'RequestBodyRead', 'Invalid JSON. The request body could not be read as JSON.');
          }
        }
      }
      return { out: await route.def.handler(api), release };
    } catch (err) {
      release?.();
      throw err;
    }
  }

  private count(key: string): void {
    this.stats.byRoute[key] = (this.stats.byRoute[key] ?? 0) + 1;
  }

  private send(res: ServerResponse, out: ApiResponse, base: Record<string, string>, drop: boolean, release?: (() => void) | null): void {
    this.stats.byStatus[out.status] = (this.stats.byStatus[out.status] ?? 0) + 1;
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { ...base, ...(out.headers ?? {}) };
    let payload: Buffer | Readable | null = null;
    if (out.raw) {
      headers['content-type'] = out.raw.contentType;
      if (out.raw.length !== undefined) headers['content-length'] = String(out.raw.length);
      payload = out.raw.data instanceof Buffer ? out.raw.data : (out.raw.data as Readable);
    } else if (out.body !== undefined) {
      const buf = Buffer.from(JSON.stringify(out.body), 'utf8');
      headers['content-type'] = JSON_TYPE;
      headers['content-length'] = String(buf.length);
      payload = buf;
    } else {
      headers['content-length'] = '0';
    }
    res.writeHead(out.status, headers);
    if (drop) {
      // Status line and part of the body, then the connection dies.
      if (payload instanceof Buffer) res.write(payload.subarray(0, Math.floor(payload.length / 2)));
      else if (payload) (payload as Readable).destroy();
      setImmediate(() => res.destroy());
      return;
    }
    // The mailbox slot is freed as the last byte is handed over: a client cannot see the end of a
    // response before the service stops counting it.
    if (payload === null) {
      release?.();
      res.end();
    } else if (payload instanceof Buffer) {
      release?.();
      res.end(payload);
    } else {
      const stream = payload as Readable;
      stream.on('error', () => res.destroy());
      stream.on('end', () => release?.());
      stream.pipe(res);
    }
  }
}

