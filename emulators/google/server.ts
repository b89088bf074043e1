/**
 * The HTTP front of the emulator: one server for every API (googleapis clients reach it through
 * `rootUrl`), the OAuth token endpoint at /token, routing by the discovery documents' paths,
 * access-token and scope checks, per-user quotas, uploads (media, multipart/related, resumable
 * sessions with the 256 KiB chunk rule and 308 + Range), fault injection, `fields` masks, and
 * Google's error bodies.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { OAuthError, type TokenService } from './auth.js';
import type { ContentWriter } from './content.js';
import { ApiError, badRequest, forbidden, insufficientScopes, notFound, unauthenticated } from './errors.js';
import type { FaultInjector } from './faults.js';
import { applyFields, parseFields } from './fields.js';
import type { EmulatorEnv, Handler, Reply, Req, Upload } from './http.js';
import { METHODS, type MethodSpec } from './methods.js';
import type { QuotaKeeper } from './quota.js';

const CHUNK = 256 * 1024;
const MAX_JSON = 8 * 1024 * 1024;
const MAX_MULTIPART = 64 * 1024 * 1024;
const MAX_CHUNK = 256 * 1024 * 1024;

interface Route {
  spec: MethodSpec;
  re: RegExp;
  names: string[];
  literals: number;
}

function compile(spec: MethodSpec): Route {
  const names: string[] = [];
  let literals = 0;
  const re = spec.path
    .split('/')
    .map((seg) => {
      const m = /^\{\+?([A-Za-z0-9_]+)\}$/.exec(seg);
      if (m) {
        names.push(m[1] as string);
        return '([^/]+)';
      }
      literals++;
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { spec, re: new RegExp(`^${re}$`), names, literals };
}

const ROUTES: Route[] = METHODS.map(compile).sort((a, b) => b.literals - a.literals);

interface Session {
  id: string;
  route: Route;
  params: Record<string, string>;
  query: URLSearchParams;
  user: string;
  metadata: Record<string, unknown>;
  mediaType: string;
  total: number | null;
  writer: ContentWriter;
  result?: Reply;
  busy: boolean;
}

export interface ServerStats {
  requests: number;
  byMethod: Record<string, number>;
  errors: Record<string, number>;
  tokensIssued: number;
  uploadSessions: number;
}

export interface ServerDeps {
  env: EmulatorEnv;
  tokens: TokenService;
  quota: QuotaKeeper;
  faults: FaultInjector;
  handlers: Record<string, Handler>;
  /** Called once the server knows its address: sets env.rootUrl. */
}

export class GoogleServer {
  private server: Server | null = null;
  private readonly sessions = new Map<string, Session>();
  readonly stats: ServerStats = { requests: 0, byMethod: {}, errors: {}, tokensIssued: 0, uploadSessions: 0 };
  private readonly sockets = new Set<Socket>();

  constructor(private readonly deps: ServerDeps) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<{ origin: string }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, err instanceof ApiError ? err : new ApiError(500, 'Internal error encountered.', 'backendError'));
        else res.destroy();
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    return { origin: `http://${host}:${addr.port}` };
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.writer.discard().catch(() => undefined);
    this.sessions.clear();
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    this.stats.requests++;
    const path = url.pathname.replace(/^\/+/, '');

    if (path === 'token' && method === 'POST') return this.token(req, res);

    const decision = this.deps.faults.decide('api', method);
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    if (decision.action === 'error5xx') {
      await drain(req);
      const msg = decision.status === 503 ? 'The service is currently unavailable.' : decision.status === 502 ? 'Bad Gateway' : 'Backend Error';
      return this.sendError(res, new ApiError(decision.status, msg, decision.status === 503 ? 'backendError' : 'backendError'));
    }
    if (decision.action === 'rate429') {
      await drain(req);
      return this.sendError(res, new ApiError(429, 'Quota exceeded for quota metric \'Queries\' and limit \'Queries per minute\'.', 'rateLimitExceeded', { domain: 'usageLimits', headers: { 'Retry-After': String(decision.retryAfter) } }));
    }

    let reply: Reply;
    try {
      reply = await this.dispatch(req, url, method, path);
    } catch (err) {
      await drain(req).catch(() => undefined);
      if (err instanceof ApiError) {
        this.stats.errors[String(err.code)] = (this.stats.errors[String(err.code)] ?? 0) + 1;
        return this.sendError(res, err);
      }
      throw err;
    }
    if (decision.action === 'drop') return this.sendDropped(res, reply);
    return this.send(res, reply, url.searchParams);
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const decision = this.deps.faults.decide('token', 'POST');
    if (decision.latencyMs) await new Promise((r) => setTimeout(r, decision.latencyMs));
    const body = (await readBody(req, 64 * 1024)).toString('utf8');
    if (decision.action === 'error5xx') return this.sendRaw(res, decision.status, { error: 'internal_failure', error_description: 'Backend Error' });
    try {
      const grant = this.deps.tokens.grant(new URLSearchParams(body));
      this.stats.tokensIssued++;
      return this.sendRaw(res, 200, grant);
    } catch (err) {
      if (err instanceof OAuthError) return this.sendRaw(res, err.status, err.body());
      throw err;
    }
  }

  private match(path: string, method: string): { route: Route; params: Record<string, string> } | null {
    for (const route of ROUTES) {
      if (route.spec.httpMethod !== method) continue;
      const m = route.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] as string)));
      return { route, params };
    }
    return null;
  }

  private async dispatch(req: IncomingMessage, url: URL, method: string, path: string): Promise<Reply> {
    const query = url.searchParams;
    const isUploadPath = path.startsWith('upload/') || path.startsWith('resumable/upload/');
    const apiPath = isUploadPath ? path.replace(/^(resumable\/)?upload\//, '') : path;

    // Resumable session requests carry the session id, not a token.
    if (isUploadPath && query.has('upload_id') && (method === 'PUT' || method === 'POST')) return this.sessionPut(req, query.get('upload_id') as string);

    const found = this.match(apiPath, method);
    if (!found || (isUploadPath && !found.route.spec.upload)) {
      // Google answers unknown paths with a plain 404 page; clients only see the status.
      throw notFound(`Not Found: ${method} /${path}`);
    }
    const { route, params } = found;
    const spec = route.spec;
    const token = this.deps.tokens.check(req.headers.authorization);
    if (!token) throw unauthenticated();
    if (!spec.scopes.some((s) => token.scopes.has(s))) throw insufficientScopes();
    const api = spec.id.split('.')[0];
    if (api === 'gmail') {
      const uid = (params.userId ?? 'me').toLowerCase();
      if (uid !== 'me' && uid !== token.sub) throw forbidden(`Delegation denied for ${token.sub}`);
    }
    if (api === 'directory' && !this.deps.env.state.users.get(token.sub)?.isAdmin) throw forbidden('Not Authorized to access this resource/api');
    this.deps.quota.charge(spec.id, token.sub);
    this.stats.byMethod[spec.id] = (this.stats.byMethod[spec.id] ?? 0) + 1;

    const base: Omit<Req, 'body'> = { spec, method, params, query, headers: req.headers, user: token.sub, raw: req };
    const handler = this.deps.handlers[spec.id];
    if (!handler) throw notFound(`Not Found: ${method} /${path}`);

    if (isUploadPath) {
      const uploadType = query.get('uploadType') ?? (req.headers['content-type']?.startsWith('multipart/related') ? 'multipart' : 'media');
      if (uploadType === 'resumable') return this.sessionStart(req, route, params, query, token.sub);
      const upload = uploadType === 'multipart' ? await this.multipart(req, spec) : await this.media(req, spec);
      return handler({ ...base, body: upload.metadata, upload }, this.deps.env);
    }
    const body = method === 'GET' || method === 'DELETE' ? {} : await readJson(req);
    return handler({ ...base, body }, this.deps.env);
  }

  private async media(req: IncomingMessage, spec: MethodSpec): Promise<Upload> {
    const writer = this.deps.env.state.content.writer();
    await pipeInto(req, writer, spec.maxUploadBytes);
    return { metadata: {}, content: await writer.finish(), mediaType: (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() ?? 'application/octet-stream' };
  }

  private async multipart(req: IncomingMessage, spec: MethodSpec): Promise<Upload> {
    const ctype = req.headers['content-type'] ?? '';
    const bm = /boundary="?([^";]+)"?/i.exec(ctype);
    if (!/^multipart\/related/i.test(ctype) || !bm) throw badRequest('Invalid multipart request: expected Content-Type multipart/related with a boundary.');
    const raw = await readBody(req, Math.min(MAX_MULTIPART, spec.maxUploadBytes ?? MAX_MULTIPART));
    const parts = splitMultipart(raw, bm[1] as string);
    if (parts.length !== 2) throw badRequest(`Invalid multipart request with ${parts.length} mime parts.`);
    const [meta, media] = parts as [Part, Part];
    let metadata: Record<string, unknown>;
    try {
      metadata = meta.body.length ? (JSON.parse(meta.body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      throw badRequest('Invalid JSON payload received in the metadata part.', 'parseError');
    }
    let data = media.body;
    if ((media.headers['content-transfer-encoding'] ?? '').toLowerCase() === 'base64') data = Buffer.from(data.toString('latin1'), 'base64');
    return { metadata, content: await this.deps.env.state.content.fromBuffer(data), mediaType: (media.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() ?? 'application/octet-stream' };
  }

  private async sessionStart(req: IncomingMessage, route: Route, params: Record<string, string>, query: URLSearchParams, user: string): Promise<Reply> {
    const metadata = await readJson(req);
    const id = randomBytes(24).toString('base64url');
    const lenHeader = req.headers['x-upload-content-length'];
    const total = lenHeader !== undefined && lenHeader !== '' ? Number(lenHeader) : null;
    if (total !== null && (!Number.isInteger(total) || total < 0)) throw badRequest('Invalid X-Upload-Content-Length header.');
    if (total !== null && route.spec.maxUploadBytes !== null && total > route.spec.maxUploadBytes) throw new ApiError(413, `Media larger than ${route.spec.maxUploadBytes} bytes.`, 'uploadTooLarge');
    const mediaType = String(req.headers['x-upload-content-type'] ?? (metadata.mimeType as string | undefined) ?? 'application/octet-stream');
    this.sessions.set(id, { id, route, params, query, user, metadata, mediaType, total, writer: this.deps.env.state.content.writer(), busy: false });
    this.stats.uploadSessions++;
    const q = new URLSearchParams(query);
    q.set('uploadType', 'resumable');
    q.set('upload_id', id);
    const location = `${this.deps.env.rootUrl}upload/${route.spec.path}?${q.toString()}`.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(params[n] ?? ''));
    return { status: 200, headers: { Location: location, 'X-GUploader-UploadID': id }, body: Buffer.alloc(0) };
  }

  private async sessionPut(req: IncomingMessage, id: string): Promise<Reply> {
    const s = this.sessions.get(id);
    if (!s) {
      await drain(req);
      throw notFound('Upload session not found or expired.');
    }
    if (s.result) {
      await drain(req);
      return s.result;
    }
    if (s.busy) {
      await drain(req);
      throw new ApiError(503, 'Another request is writing to this upload session.', 'backendError');
    }
    s.busy = true;
    try {
      const cr = String(req.headers['content-range'] ?? '');
      let start = s.writer.received;
      let end: number | null = null;
      if (cr) {
        const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(cr.trim());
        if (!m) throw badRequest(`Invalid Content-Range header: ${cr}`);
        if (m[3] !== '*') {
          const total = Number(m[3]);
          if (s.total !== null && s.total !== total) throw badRequest(`Content-Range total ${total} differs from the session's ${s.total}.`);
          s.total = total;
        }
        if (m[1] !== undefined) {
          start = Number(m[1]);
          end = Number(m[2]);
        }
      }
      if (end === null) {
        // A status query (bytes */total, empty body), or a whole-body PUT.
        const len = Number(req.headers['content-length'] ?? 0);
        if (len === 0 && cr) {
          await drain(req);
          if (s.total !== null && s.writer.received === s.total) return this.finishSession(s);
          return incomplete(s.writer.received);
        }
        if (s.total === null) s.total = s.writer.received + len;
        end = s.writer.received + len - 1;
        start = s.writer.received;
      }
      if (start > s.writer.received) {
        await drain(req);
        throw badRequest(`Content-Range starts at ${start} but only ${s.writer.received} bytes were received; query the upload status and resume from there.`);
      }
      const length = end - start + 1;
      const final = s.total !== null && end + 1 === s.total;
      if (!final && length % CHUNK !== 0) {
        await drain(req);
        throw badRequest(`Invalid request. The number of bytes uploaded is required to be a multiple of ${CHUNK} (256 KiB), except for the final request. The received request contained ${length} bytes.`);
      }
      if (length > MAX_CHUNK) {
        await drain(req);
        throw badRequest(`Chunks are limited to ${MAX_CHUNK} bytes by the emulator; send smaller chunks.`);
      }
      // A chunk is persisted only once it arrived whole (so the persisted size stays a multiple of
      // 256 KiB until the last chunk); bytes already persisted (a resent chunk) are skipped.
      const parts: Buffer[] = [];
      let got = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        parts.push(chunk);
        got += chunk.length;
        if (got > length) throw badRequest(`The request body is longer than its Content-Range (${length} bytes).`);
      }
      if (got !== length) throw badRequest(`The request body has ${got} bytes but its Content-Range names ${length}.`);
      const body = Buffer.concat(parts).subarray(s.writer.received - start);
      if (s.route.spec.maxUploadBytes !== null && s.writer.received + body.length > s.route.spec.maxUploadBytes) throw new ApiError(413, 'Upload too large.', 'uploadTooLarge');
      await s.writer.write(body);
      if (s.total !== null && s.writer.received >= s.total) return this.finishSession(s);
      return incomplete(s.writer.received);
    } finally {
      s.busy = false;
    }
  }

  private async finishSession(s: Session): Promise<Reply> {
    const content = await s.writer.finish();
    const handler = this.deps.handlers[s.route.spec.id] as Handler;
    const upload: Upload = { metadata: s.metadata, content, mediaType: s.mediaType };
    const fake = { headers: {} } as IncomingMessage;
    const reply = await handler({ spec: s.route.spec, method: s.route.spec.httpMethod, params: s.params, query: s.query, headers: {}, user: s.user, body: s.metadata, upload, raw: fake }, this.deps.env);
    s.result = reply;
    return reply;
  }

  // Responses ----------------------------------------------------------------------------------

  private render(reply: Reply, query: URLSearchParams): { headers: Record<string, string>; body: Buffer | Readable } {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (reply.json !== undefined) {
      const fields = query.get('fields');
      const mask = fields !== null ? parseFields(fields) : reply.defaultFields ? parseFields(reply.defaultFields) : null;
      const body = Buffer.from(JSON.stringify(applyFields(reply.json, mask), null, 2));
      headers['Content-Type'] = 'application/json; charset=UTF-8';
      return { headers, body };
    }
    return { headers, body: reply.body ?? Buffer.alloc(0) };
  }

  private send(res: ServerResponse, reply: Reply, query: URLSearchParams): void {
    const { headers, body } = this.render(reply, query);
    if (Buffer.isBuffer(body)) {
      if (reply.status !== 204 && reply.status !== 308) headers['Content-Length'] = String(body.length);
      res.writeHead(reply.status, headers);
      res.end(reply.status === 204 ? undefined : body);
      return;
    }
    res.writeHead(reply.status, headers);
    body.on('error', () => res.destroy());
    body.pipe(res);
  }

  private sendDropped(res: ServerResponse, reply: Reply): void {
    const { headers, body } = this.render(reply, new URLSearchParams());
    res.writeHead(reply.status, headers);
    if (Buffer.isBuffer(body)) {
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      res.socket?.destroy();
      return;
    }
    body.once('data', (chunk: Buffer) => {
      res.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
      (body as Readable).destroy();
      res.socket?.destroy();
    });
    body.once('end', () => res.socket?.destroy());
  }

  private sendError(res: ServerResponse, err: ApiError): void {
    const body = Buffer.from(JSON.stringify(err.body(), null, 2));
    res.writeHead(err.code, { ...err.headers, 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': String(body.length) });
    res.end(body);
  }

  private sendRaw(res: ServerResponse, status: number, body: unknown): void {
    const buf = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(buf.length), 'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate' });
    res.end(buf);
  }
}

function incomplete(received: number): Reply {
  const headers: Record<string, string> = {};
  if (received > 0) headers.Range = `bytes=0-${received - 1}`;
  return { status: 308, headers, body: Buffer.alloc(0) };
}

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

export function splitMultipart(raw: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = raw.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    if (raw[start] === 0x0d) start++;
    if (raw[start] === 0x0a) start++;
    const next = raw.indexOf(Buffer.from(`\r\n--${boundary}`), start);
    const nextLf = next >= 0 ? next : raw.indexOf(Buffer.from(`\n--${boundary}`), start);
    if (nextLf < 0) break;
    const chunk = raw.subarray(start, nextLf);
    let headerEnd = chunk.indexOf('\r\n\r\n');
    let sep = 4;
    if (headerEnd < 0) {
      headerEnd = chunk.indexOf('\n\n');
      sep = 2;
    }
    const headers: Record<string, string> = {};
    const headerText = headerEnd >= 0 ? chunk.subarray(0, headerEnd).toString('latin1') : '';
    for (const line of headerText.split(/\r?\n/)) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    parts.push({ headers, body: headerEnd >= 0 ? chunk.subarray(headerEnd + sep) : chunk });
    pos = next >= 0 ? next + 2 : nextLf + 1;
  }
  return parts;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, `Request body larger than ${limit} bytes.`, 'uploadTooLarge');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_JSON);
  if (!raw.length) return {};
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw badRequest(`Invalid JSON payload received. Unexpected token.\n${raw.subarray(0, 40).toString('utf8')}\n^`, 'parseError');
  }
}

async function pipeInto(req: IncomingMessage, writer: ContentWriter, limit: number | null): Promise<void> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    await writer.write(chunk);
    if (limit !== null && writer.received > limit) {
      await writer.discard();
      throw new ApiError(413, `Media larger than ${limit} bytes.`, 'uploadTooLarge');
    }
  }
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  for await (const _ of req as AsyncIterable<Buffer>) {
    // discard
  }
}

