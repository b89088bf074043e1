/** Request/reply types shared by the handlers, and small request helpers. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Content } from './content.js';
import { badRequest, invalidParam } from './errors.js';
import type { MethodSpec } from './methods.js';
import type { DomainState } from './state.js';

export interface Upload {
  /** JSON metadata part (multipart, resumable), or {} for uploadType=media. */
  metadata: Record<string, unknown>;
  content: Content;
  /** Media type of the uploaded bytes. */
  mediaType: string;
}

export interface Req {
  spec: MethodSpec;
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The impersonated user making the call (token `sub`), lower case. */
  user: string;
  /** JSON body (non-upload requests), {} when empty. */
  body: Record<string, unknown>;
  /** Present for media/multipart/resumable uploads. */
  upload?: Upload;
  /** Incoming message (for special cases such as Range headers). */
  raw: IncomingMessage;
}

export interface Reply {
  status: number;
  json?: unknown;
  /** A field mask applied when the request has no `fields` (Drive's default partial responses). */
  defaultFields?: string;
  body?: Buffer | Readable;
  headers?: Record<string, string>;
}

export interface EmulatorEnv {
  state: DomainState;
  rootUrl: string;
  /** Drive's export size limit (10 MB). */
  exportLimitBytes: number;
}

export type Handler = (req: Req, env: EmulatorEnv) => Promise<Reply> | Reply;

export function boolParam(q: URLSearchParams, name: string, def = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidParam(name, v, 'expected true or false');
}

export function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number, clamp = false): number {
  const v = q.get(name);
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidParam(name, v, 'expected an integer');
  if (n < min || n > max) {
    if (clamp) return Math.min(max, Math.max(min, n));
    throw invalidParam(name, v, `expected ${min}..${max}`);
  }
  return n;
}

export function requireParam(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw badRequest(`Required parameter: ${name}`, 'required', name);
  return v;
}

/** Opaque page tokens: an offset, plus a fingerprint of the query so a token is not reused across queries. */
export function pageToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint })).toString('base64url');
}

export function readPageToken(token: string | null, fingerprint: string): number {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; f?: unknown };
    if (typeof v.o === 'number' && v.o >= 0 && v.f === fingerprint) return v.o;
  } catch {
    // fall through
  }
  throw invalidParam('pageToken', token);
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, json: body, headers } : { status, json: body };
}

export const noContent = (): Reply => ({ status: 204 });
