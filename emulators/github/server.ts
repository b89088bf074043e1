/**
 * The GitHub emulator's HTTP server: REST under /api/v3 (as GitHub Enterprise Server lays it out,
 * so @octokit/rest works with `baseUrl`), the uploads host under /api/uploads, git smart HTTP at
 * /{owner}/{repo}.git and /{owner}/{repo}.wiki.git, release downloads, and signed asset URLs.
 *
 * Every REST response carries GitHub's headers (x-ratelimit-*, x-github-request-id, ETag on GETs);
 * If-None-Match answers 304 without counting; errors are GitHub-shaped
 * `{ message, documentation_url, status }` bodies.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueRoutes } from './api-issues.js';
import { pullRoutes } from './api-pulls.js';
import { releaseRoutes } from './api-releases.js';
import { repoRoutes } from './api-repos.js';
import { authenticate, credentialOf, newToken } from './auth.js';
import { FaultInjector, type FaultCounters } from './faults.js';
import { GitHost } from './git.js';
import { ApiError, DOCS, permissionsFor, type ApiRequest, type ApiResponse, type RouteDef, type Services } from './http.js';
import { importRoutes, runImportJob } from './import.js';
import { RateLimiter, type LimitOptions } from './limits.js';
import { RepoOps } from './ops.js';
import type { RenderCtx } from './render.js';
import { GithubState, type Identity, type ImportJob, type Repo } from './state.js';

export interface GithubServerOptions {
  host?: string;
  port?: number;
  limits?: Partial<LimitOptions>;
  /** speeds up every rate-limit window (60: a minute lasts a second) */
  timeScale?: number;
  faults?: string;
  /** offer the issue import preview endpoint (default true) */
  importApi?: boolean;
  /** delay before an import job runs, ms (default 100) */
  importDelayMs?: number;
  /** keep the git/asset directory after stop (for debugging) */
  keepDir?: boolean;
}

export interface EmulatorStats {
  requests: number;
  /** REST requests answered with a primary or secondary rate limit */
  throttled: number;
  throttledPrimary: number;
  throttledSecondary: number;
  notModified: number;
  /** content-creating REST requests that were allowed */
  contentCreated: number;
  /** "METHOD /route/template" -> count; git as "GIT upload-pack" / "GIT receive-pack" */
  byRoute: Record<string, number>;
  faults: FaultCounters;
  /** last unexpected handler error (for debugging emulator bugs) */
  lastError: string | null;
}

interface CompiledRoute {
  def: RouteDef;
  segments: { literal?: string; param?: string; rest?: boolean }[];
  literals: number;
}

const API_PREFIX = '/api/v3';
const UPLOADS_PREFIX = '/api/uploads';
const OBJECTS_PREFIX = '/_objects/release-assets/';
const RATE_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

function compile(def: RouteDef): CompiledRoute {
  const segments = def.path.split('/').filter(Boolean).map((s) => {
    const m = /^\{(\w+)(\+)?\}$/.exec(s);
    if (m) return { param: m[1], rest: m[2] === '+' };
    return { literal: s };
  });
  return { def, segments, literals: segments.filter((s) => s.literal !== undefined).length };
}

function match(route: CompiledRoute, parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  const segs = route.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as CompiledRoute['segments'][number];
    if (s.rest) {
      if (i >= parts.length) return null;
      params[s.param as string] = parts.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    const p = parts[i];
    if (p === undefined) return null;
    if (s.literal !== undefined) {
      if (s.literal !== p) return null;
    } else {
      try {
        params[s.param as string] = decodeURIComponent(p);
      } catch {
        return null;
      }
    }
  }
  return parts.length === segs.length ? params : null;
}

function bodyFormats(accept: string): RenderCtx['bodyFormats'] {
  const m = /application\/vnd\.github(?:\.[\w-]+)?\.(raw|text|html|full)\+json/.exec(accept);
  if (!m) return { raw: true, text: false, html: false };
  const f = m[1];
  return { raw: f === 'raw' || f === 'full', text: f === 'text' || f === 'full', html: f === 'html' || f === 'full' };
}

const readAll = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

export class GithubServer {
  readonly state: GithubState;
  readonly limiter: RateLimiter;
  readonly faults: FaultInjector;
  git!: GitHost;
  ops!: RepoOps;
  root = '';
  baseUrl = '';
  webUrl = '';
  uploadsUrl = '';
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly routes: CompiledRoute[];
  private readonly ctx: RenderCtx;
  private readonly signingKey = randomBytes(32);
  private requestSeq = 0;
  private readonly importQueue: (() => void)[] = [];
  private importTimer: NodeJS.Timeout | null = null;
  private readonly importDelayMs: number;
  readonly importEnabled: boolean;
  readonly stats: EmulatorStats = {
    requests: 0, throttled: 0, throttledPrimary: 0, throttledSecondary: 0, notModified: 0, contentCreated: 0, byRoute: {},
    faults: { errors5xx: 0, rate429: 0, drops: 0, delayed: 0 }, lastError: null,
  };

  constructor(private readonly opts: GithubServerOptions = {}, state = new GithubState()) {
    this.state = state;
    this.limiter = new RateLimiter(opts.limits ?? {}, opts.timeScale ?? 1, () => this.state.now());
    this.faults = new FaultInjector(opts.faults, () => Date.now());
    this.stats.faults = this.faults.counters;
    this.importEnabled = opts.importApi ?? true;
    this.importDelayMs = opts.importDelayMs ?? 100;
    this.routes = [...repoRoutes(), ...issueRoutes(), ...pullRoutes(), ...releaseRoutes(), ...importRoutes()].map(compile);
    this.ctx = { state: this.state, api: '', web: '', uploads: '' };
  }

  /** Create the on-disk root (before seeding) */
  async prepare(): Promise<void> {
    if (this.root) return;
    this.root = await mkdtemp(join(tmpdir(), 'norestore-gh-emu-'));
    this.git = new GitHost(this.root);
    await this.git.setup();
    this.ops = new RepoOps(this.state, this.git);
  }

  async listen(): Promise<void> {
    await this.prepare();
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
    this.webUrl = `http://${host}:${addr.port}`;
    this.baseUrl = `${this.webUrl}${API_PREFIX}`;
    this.uploadsUrl = `${this.webUrl}${UPLOADS_PREFIX}`;
    this.ctx.api = this.baseUrl;
    this.ctx.web = this.webUrl;
    this.ctx.uploads = this.uploadsUrl;
  }

  /** Render context for tests and mutation helpers. */
  get renderCtx(): RenderCtx {
    return this.ctx;
  }

  async stop(): Promise<void> {
    if (this.importTimer) clearTimeout(this.importTimer);
    this.importTimer = null;
    this.importQueue.length = 0;
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of this.sockets) s.destroy();
      });
    }
    if (this.root && !this.opts.keepDir) await rm(this.root, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- services

  private services(): Services {
    return {
      ops: this.ops,
      limiter: this.limiter,
      rate: (identity) => this.rateOf(identity),
      signedAssetUrl: (id) => this.signedAssetUrl(id),
      mintInstallationToken: (installationId, o) => {
        const app = [...this.state.apps.values()].find((a) => a.installations.has(installationId));
        const inst = app?.installations.get(installationId);
        const permissions = o.permissions ?? { ...(inst?.permissions ?? {}) };
        const token = newToken('ghs');
        const expiresAt = this.state.now() + this.limiter.opts.installationTokenTtlSeconds * 1000;
        this.state.installationTokens.set(token, { token, installationId, expiresAt, permissions, repositoryIds: o.repositoryIds });
        return { token, expiresAt, permissions, repositoryIds: o.repositoryIds };
      },
      importIssue: (repo, who, payload) => this.enqueueImport(repo, who, payload),
      importEnabled: this.importEnabled,
    };
  }

  private enqueueImport(repo: Repo, who: string, payload: Record<string, unknown>): ImportJob {
    const now = this.state.now();
    const job: ImportJob = { id: this.state.nextId('import'), status: 'pending', createdAt: now, updatedAt: now, issueNumber: null, errors: [] };
    repo.imports.set(job.id, job);
    this.importQueue.push(() => runImportJob(this.state, repo, job, who, payload));
    this.scheduleImports();
    return job;
  }

  private scheduleImports(): void {
    if (this.importTimer || this.importQueue.length === 0) return;
    this.importTimer = setTimeout(() => {
      this.importTimer = null;
      const next = this.importQueue.shift();
      if (next) next();
      this.scheduleImports();
    }, this.importDelayMs);
  }

  /** Run every pending import job now (tests). */
  flushImports(): void {
    if (this.importTimer) clearTimeout(this.importTimer);
    this.importTimer = null;
    while (this.importQueue.length) this.importQueue.shift()?.();
  }

  private limitFor(identity: Identity): number {
    const o = this.limiter.opts;
    if (identity.kind === 'installation') return o.installationLimit;
    if (identity.kind === 'anonymous') return o.anonymousLimit;
    return o.primaryLimit;
  }

  private rateOf(identity: Identity) {
    const p = this.limiter.peek(identity.rateKey, this.limitFor(identity));
    return { limit: p.limit, remaining: p.remaining, used: p.used, reset: p.reset };
  }

  private signedAssetUrl(assetId: number): string {
    const exp = Math.floor(this.state.now() / 1000) + 300;
    const sig = createHmac('sha256', this.signingKey).update(`${assetId}:${exp}`).digest('hex');
    return `${this.webUrl}${OBJECTS_PREFIX}${assetId}?exp=${exp}&sig=${sig}`;
  }

  private count(route: string): void {
    this.stats.byRoute[route] = (this.stats.byRoute[route] ?? 0) + 1;
  }

  private requestId(): string {
    const n = ++this.requestSeq;
    const h = createHash('sha1').update(`${this.webUrl}:${n}`).digest('hex').toUpperCase();
    return `${h.slice(0, 4)}:${h.slice(4, 9)}:${h.slice(9, 16)}:${h.slice(16, 23)}:${h.slice(23, 31)}`;
  }

  // ---------------------------------------------------------------- dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const url = new URL(req.url ?? '/', this.webUrl || 'http://127.0.0.1');
    const path = url.pathname;
    const gitMatch = /^\/([^/]+)\/([^/]+)\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(path);
    const kind: 'rest' | 'git' = gitMatch ? 'git' : 'rest';
    const decision = this.faults.decide(kind, req.method ?? 'GET');
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    if (decision.action === 'error5xx') {
      req.resume();
      const msg = decision.status === 503 ? 'Service Unavailable' : decision.status === 502 ? 'Bad Gateway' : 'Server Error';
      this.sendJson(res, decision.status, { message: msg, documentation_url: DOCS, status: String(decision.status) }, { 'x-github-request-id': this.requestId() });
      return;
    }
    if (decision.action === 'rate429') {
      req.resume();
      this.sendJson(res, 429, { message: 'Too Many Requests', documentation_url: RATE_DOCS, status: '429' }, { 'retry-after': String(decision.retryAfter), 'x-github-request-id': this.requestId() });
      return;
    }
    if (decision.action === 'drop' && kind === 'git') {
      req.socket.destroy();
      return;
    }
    const drop = decision.action === 'drop';
    try {
      if (gitMatch) {
        await this.handleGit(req, res, url, gitMatch[1] ?? '', gitMatch[2] ?? '', gitMatch[3] ?? '');
      } else if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
        await this.handleApi(req, res, url, path.slice(API_PREFIX.length) || '/', false, drop);
      } else if (path.startsWith(`${UPLOADS_PREFIX}/`)) {
        await this.handleApi(req, res, url, path.slice(UPLOADS_PREFIX.length), true, drop);
      } else if (path.startsWith(OBJECTS_PREFIX)) {
        this.handleSignedAsset(res, url, drop);
      } else {
        const dl = /^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(path);
        if (dl && (req.method === 'GET' || req.method === 'HEAD')) this.handleDownload(req, res, dl.slice(1).map((s) => decodeURIComponent(s)) as [string, string, string, string]);
        else {
          req.resume();
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('Not Found\n');
        }
      }
    } catch (e) {
      this.stats.lastError = e instanceof Error ? (e.stack ?? e.message) : String(e);
      if (!res.headersSent) this.sendJson(res, 500, { message: 'Server Error', documentation_url: DOCS, status: '500' }, {});
      else res.destroy();
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>, drop = false): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(data.length), ...headers });
    if (drop && data.length > 1) {
      res.write(data.subarray(0, Math.floor(data.length / 2)), () => res.destroy());
      return;
    }
    res.end(data);
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, url: URL, path: string, uploads: boolean, drop: boolean): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const parts = path.split('/').filter(Boolean);
    let best: { route: CompiledRoute; params: Record<string, string> } | null = null;
    for (const r of this.routes) {
      if (r.def.method !== method || Boolean(r.def.uploads) !== uploads) continue;
      const params = match(r, parts);
      if (params && (!best || r.literals > best.route.literals)) best = { route: r, params };
    }
    const requestId = this.requestId();
    const baseHeaders: Record<string, string> = {
      'x-github-request-id': requestId,
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'access-control-expose-headers':
        'ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset',
      vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
      server: 'GitHub.com',
      // the emulator's clock (clients such as @octokit/auth-app correct JWT time skew from it)
      date: new Date(this.state.now()).toUTCString(),
    };
    const auth = authenticate(this.state, req.headers.authorization, req.socket.remoteAddress ?? '127.0.0.1');
    const rateHeaders = (identity: Identity): Record<string, string> => {
      const p = this.rateOf(identity);
      return {
        'x-ratelimit-limit': String(p.limit),
        'x-ratelimit-remaining': String(p.remaining),
        'x-ratelimit-used': String(p.used),
        'x-ratelimit-reset': String(p.reset),
        'x-ratelimit-resource': 'core',
      };
    };
    if (!best) {
      req.resume();
      this.count(`${method} (unknown)`);
      const id = auth.ok ? auth.identity : ({ kind: 'anonymous', rateKey: `ip:${req.socket.remoteAddress ?? ''}` } as Identity);
      this.sendJson(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' }, { ...baseHeaders, ...rateHeaders(id) });
      return;
    }
    const def = best.route.def;
    this.count(`${method} ${def.path}`);
    if (!auth.ok) {
      req.resume();
      this.sendJson(res, 401, { message: auth.message, documentation_url: DOCS, status: '401' }, baseHeaders);
      return;
    }
    const identity = auth.identity;
    if (def.auth === 'jwt' && identity.kind !== 'app') {
      req.resume();
      this.sendJson(res, 401, { message: 'A JSON web token could not be decoded', documentation_url: def.docs, status: '401' }, baseHeaders);
      return;
    }
    if (def.auth !== 'jwt' && identity.kind === 'app') {
      req.resume();
      this.sendJson(res, 403, { message: 'Resource not accessible by integration', documentation_url: def.docs, status: '403' }, baseHeaders);
      return;
    }
    if (identity.kind === 'user' || identity.kind === 'installation') {
      baseHeaders['x-oauth-scopes'] = identity.kind === 'user' ? 'admin:org, repo, workflow' : '';
      baseHeaders['x-accepted-oauth-scopes'] = 'repo';
    }
    // primary limit
    const limit = this.limitFor(identity);
    if (!def.free && this.limiter.peek(identity.rateKey, limit).remaining <= 0) {
      req.resume();
      this.stats.throttled++;
      this.stats.throttledPrimary++;
      const who =
        identity.kind === 'user' ? `user ID ${identity.user.id}` : identity.kind === 'installation' ? `installation ID ${identity.installationId}` : identity.kind === 'app' ? `app ID ${identity.appId}` : (req.socket.remoteAddress ?? 'this IP');
      const status = this.limiter.opts.primaryStatus;
      this.sendJson(res, status, { message: `API rate limit exceeded for ${who}. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`, documentation_url: RATE_DOCS, status: String(status) }, {
        ...baseHeaders,
        ...rateHeaders(identity),
      });
      return;
    }
    // secondary limit on content creation
    if (def.creates && identity.kind !== 'anonymous') {
      const s = this.limiter.checkCreation(identity.rateKey);
      if (s) {
        req.resume();
        this.stats.throttled++;
        this.stats.throttledSecondary++;
        this.limiter.consume(identity.rateKey);
        const status = this.limiter.opts.secondaryStatus;
        this.sendJson(
          res,
          status,
          {
            message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
            documentation_url: `${RATE_DOCS}#about-secondary-rate-limits`,
            status: String(status),
          },
          { ...baseHeaders, ...rateHeaders(identity), 'retry-after': String(s.retryAfter) },
        );
        return;
      }
      this.stats.contentCreated++;
    }
    // body
    let body: unknown;
    if (!def.rawBody) {
      const raw = await readAll(req);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          if (!def.free) this.limiter.consume(identity.rateKey);
          this.sendJson(res, 400, { message: 'Problems parsing JSON', documentation_url: def.docs, status: '400' }, { ...baseHeaders, ...rateHeaders(identity) });
          return;
        }
      }
    }
    const ctx: RenderCtx = { ...this.ctx, bodyFormats: bodyFormats(String(req.headers.accept ?? '')) };
    const apiReq: ApiRequest = {
      method,
      route: def.path,
      params: best.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      raw: req,
      identity,
      docs: def.docs,
      url: new URL(`${uploads ? this.uploadsUrl : this.baseUrl}${path}${url.search}`),
      ctx,
      svc: this.services(),
    };
    let out: ApiResponse;
    try {
      out = await def.handler(apiReq);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      out = { status: e.status, body: e.body(), headers: e.extra.headers };
    }
    // conditional requests
    let payload: Buffer | null = out.body === undefined ? null : Buffer.from(JSON.stringify(out.body));
    const headers: Record<string, string> = { ...baseHeaders, ...(out.headers ?? {}) };
    if (method === 'GET' && out.status === 200 && payload) {
      const etag = `W/"${createHash('sha256').update(String(req.headers.accept ?? '')).update(payload).digest('hex').slice(0, 64)}"`;
      headers.etag = etag;
      headers['cache-control'] = 'private, max-age=60, s-maxage=60';
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag.replace(/^W\//, '') || t.trim() === '*')) {
        this.stats.notModified++;
        res.writeHead(304, { ...headers, ...rateHeaders(identity) });
        res.end();
        return;
      }
    }
    if (!def.free) this.limiter.consume(identity.rateKey);
    Object.assign(headers, rateHeaders(identity));
    if (out.status === 204 || out.status === 304 || payload === null) {
      if (out.status === 302 || out.status === 301) payload = null;
      res.writeHead(out.status, headers);
      res.end();
      return;
    }
    this.sendJson(res, out.status, out.body, headers, drop);
  }

  // ---------------------------------------------------------------- downloads

  private handleSignedAsset(res: ServerResponse, url: URL, drop: boolean): void {
    const id = Number(url.pathname.slice(OBJECTS_PREFIX.length));
    const exp = Number(url.searchParams.get('exp'));
    const sig = url.searchParams.get('sig') ?? '';
    const want = createHmac('sha256', this.signingKey).update(`${id}:${exp}`).digest('hex');
    this.count('GET (release asset object)');
    if (sig !== want || !Number.isFinite(exp)) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Signature does not match\n');
      return;
    }
    if (exp * 1000 < this.state.now()) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Request has expired\n');
      return;
    }
    const found = this.state.assetById(id);
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found\n');
      return;
    }
    const { asset } = found;
    asset.downloadCount++;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(asset.size),
      'content-disposition': `attachment; filename=${asset.name}`,
      etag: `"${asset.digest.slice(7, 39)}"`,
      'last-modified': new Date(asset.updatedAt).toUTCString(),
    });
    const stream = createReadStream(asset.file);
    if (drop) {
      let sent = 0;
      stream.on('data', (chunk) => {
        const buf = chunk as Buffer;
        const half = Math.floor(asset.size / 2);
        if (sent + buf.length >= half) {
          res.write(buf.subarray(0, Math.max(0, half - sent)), () => res.destroy());
          stream.destroy();
          return;
        }
        sent += buf.length;
        res.write(buf);
      });
      stream.on('end', () => res.end());
      return;
    }
    stream.pipe(res);
  }

  private handleDownload(req: IncomingMessage, res: ServerResponse, [owner, name, tag, file]: [string, string, string, string]): void {
    this.count('GET /{owner}/{repo}/releases/download/{tag}/{name}');
    const repo = this.state.repo(owner, name);
    const auth = authenticate(this.state, req.headers.authorization, req.socket.remoteAddress ?? '');
    const identity = auth.ok ? auth.identity : null;
    const visible = repo && identity && this.canAccess(identity, repo, false);
    const rel = visible ? [...repo.releases.values()].find((r) => !r.draft && r.tagName === tag) : undefined;
    const asset = rel && repo ? rel.assets.map((id) => repo.assets.get(id)).find((a) => a?.name === file) : undefined;
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not Found\n');
      return;
    }
    res.writeHead(302, { location: this.signedAssetUrl(asset.id) });
    res.end();
  }

  private canAccess(identity: Identity, repo: Repo, write: boolean): boolean {
    const fake = { identity, ctx: this.ctx } as ApiRequest;
    const p = permissionsFor(fake, repo);
    if (identity.kind === 'installation' && write) return p.push;
    return write ? p.push : p.pull;
  }

  // ---------------------------------------------------------------- git smart HTTP

  private async handleGit(req: IncomingMessage, res: ServerResponse, url: URL, owner: string, repoPart: string, action: string): Promise<void> {
    let name = repoPart.replace(/\.git$/, '');
    let wiki = false;
    if (name.endsWith('.wiki')) {
      wiki = true;
      name = name.slice(0, -5);
    }
    const service = action === 'info/refs' ? (url.searchParams.get('service') ?? '') : action;
    const write = service === 'git-receive-pack';
    this.count(`GIT ${write ? 'receive-pack' : 'upload-pack'}${wiki ? ' (wiki)' : ''}`);
    const challenge = () => {
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="GitHub"' });
      res.end('Authentication failed\n');
    };
    const cred = credentialOf(req.headers.authorization);
    let identity: Identity | null = null;
    if (cred) {
      const auth = authenticate(this.state, req.headers.authorization, req.socket.remoteAddress ?? '');
      if (!auth.ok || auth.identity.kind === 'app') return challenge();
      identity = auth.identity;
    }
    const repo = this.state.repo(owner, name);
    if (!identity) {
      // Anonymous: public repositories can be read; anything else asks for credentials.
      if (!repo || repo.private || write) return challenge();
      identity = { kind: 'anonymous', rateKey: `ip:${req.socket.remoteAddress ?? ''}` };
    }
    const notFound = () => {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Repository not found.\n');
    };
    if (!repo || !this.canAccess(identity, repo, false)) return notFound();
    if (wiki && (!repo.hasWiki || !repo.wikiExists)) return notFound();
    if (write) {
      if (!this.canAccess(identity, repo, true) || (identity.kind === 'installation' && identity.permissions.contents !== 'write')) {
        req.resume();
        const who = identity.kind === 'user' ? identity.user.login : identity.kind === 'installation' ? identity.bot.login : 'anonymous';
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(`Permission to ${repo.owner}/${repo.name}.git denied to ${who}.\n`);
        return;
      }
      if (repo.archived) {
        req.resume();
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('This repository was archived so it is read-only.\n');
        return;
      }
    }
    const remoteUser = identity.kind === 'user' ? identity.user.login : identity.kind === 'installation' ? identity.bot.login : null;
    await this.git.serveHttp(req, res, {
      pathInfo: `${this.git.pathInfo(repo.id, wiki)}/${action}`,
      query: url.search.replace(/^\?/, ''),
      remoteUser,
      afterReceive: async () => {
        if (wiki) await this.ops.refreshWiki(repo);
        else await this.ops.refresh(repo, { pushed: true });
      },
    });
  }
}
