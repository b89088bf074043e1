import { createHash, createHmac } from 'node:crypto';

/**
 * Object names of the repository (docs/FORMAT.md, "Layout"). Every key the store writes is built here.
 */

export const CONFIG_KEY = 'config';
export const KEYCHECK_KEY = 'keycheck';
export const BLOBS_PREFIX = 'blobs/';
export const RUNS_PREFIX = 'runs/';
export const LOCKS_PREFIX = 'locks/';
export const META_PREFIX = 'meta/';
/** Staging objects of blobs being written (targets that can move); never referenced. */
export const STAGING_PREFIX = 'tmp/';

const SHA256 = /^[0-9a-f]{64}$/;
const RUN_NUMBER_DIGITS = 10;
const MAX_RUN_NUMBER = 10 ** RUN_NUMBER_DIGITS - 1;
/** Longest escaped name kept as is; longer ones are shortened with a hash suffix. */
const MAX_ESCAPED = 160;

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

export function blobKey(sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`invalid blob id ${JSON.stringify(sha256)}: expected 64 lowercase hex digits (a sha256)`);
  return `${BLOBS_PREFIX}${sha256.slice(0, 2)}/${sha256}`;
}

/** The sha256 of a blob key, or null if the key is not a well-formed blob name. */
export function parseBlobKey(key: string): string | null {
  const m = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key);
  if (m === null || !m[2]!.startsWith(m[1]!)) return null;
  return m[2]!;
}

export function runNumberName(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RUN_NUMBER) throw new Error(`run number ${n} is out of range 1..${MAX_RUN_NUMBER}`);
  return String(n).padStart(RUN_NUMBER_DIGITS, '0');
}

export function runKey(scopeDir: string, n: number): string {
  return `${scopeDir}/${runNumberName(n)}`;
}

/** 'runs/<source>/<scope>/<number>' -> parts, or null for any other key. */
export function parseRunKey(key: string): { sourceName: string; scopeName: string; number: number } | null {
  const m = /^runs\/([^/]+)\/([^/]+)\/(\d{10})$/.exec(key);
  if (m === null) return null;
  const n = Number(m[3]);
  if (n < 1) return null;
  return { sourceName: m[1]!, scopeName: m[2]!, number: n };
}

/** '<prefix>/<source>/<scope>' directory of a scope under runs/ or locks/. */
export function scopeDir(prefix: typeof RUNS_PREFIX | typeof LOCKS_PREFIX, sourceName: string, scopeName: string): string {
  return `${prefix}${sourceName}/${scopeName}`;
}

export function metaKey(name: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(name) || name.length > 200) {
    throw new Error(`invalid meta document name ${JSON.stringify(name)}: use '/'-separated segments of [A-Za-z0-9._-] not starting with '.'`);
  }
  return `${META_PREFIX}${name}`;
}

/**
 * Reversible escape of a source or scope name into one key segment: bytes outside [A-Za-z0-9._-]
 * (and '=' itself, and a leading '.') become '=XX' (UTF-8, upper-case hex). Escapes longer than
 * 160 characters are cut and suffixed with '==' + 32 hex digits of the name's sha256 ('==' never
 * occurs in an escape). 'alice@acme.com' -> 'alice=40acme.com', 'acme/api' -> 'acme=2Fapi'.
 */
export function escapeName(name: string): string {
  if (name.length === 0) throw new Error('a source or scope name must not be empty');
  let out = '';
  const bytes = Buffer.from(name, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    const plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || c === '_' || c === '-' || (c === '.' && i > 0);
    out += plain ? c : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > MAX_ESCAPED) {
    out = `${out.slice(0, MAX_ESCAPED - 34).replace(/=[0-9A-F]?$/, '')}==${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
  }
  return out;
}

/** How source and scope names become key segments: escaped (plain repository) or keyed hashes (encrypted). */
export interface NameCodec {
  encode(name: string): string;
}

export const plainNames: NameCodec = { encode: escapeName };

/** Encrypted repositories hide names: HMAC-SHA256(nameKey, name), 32 hex digits. */
export function hashedNames(nameKey: Buffer): NameCodec {
  return {
    encode(name: string): string {
      if (name.length === 0) throw new Error('a source or scope name must not be empty');
      return createHmac('sha256', nameKey).update(name, 'utf8').digest('hex').slice(0, 32);
    },
  };
}
