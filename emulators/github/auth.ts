/**
 * Authentication as GitHub does it: personal access tokens (`Authorization: token X` or
 * `Bearer X`, or basic auth with the token as password), GitHub App JWTs (RS256, verified with the
 * app's public key; iat/exp rules and error messages as GitHub's), and installation access tokens
 * that expire.
 */
import { createPublicKey, generateKeyPair, randomBytes, verify } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsa = promisify(generateKeyPair);
import type { App, GithubState, Identity } from './state.js';

export type AuthResult = { ok: true; identity: Identity } | { ok: false; status: 401; message: string };

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A token in GitHub's format: prefix + 36 base62 characters. */
export function newToken(prefix: 'ghp' | 'ghs'): string {
  const bytes = randomBytes(36);
  let s = '';
  for (const b of bytes) s += BASE62[b % 62];
  return `${prefix}_${s}`;
}

/** Pull the credential out of an Authorization header (token, bearer or basic). */
export function credentialOf(header: string | undefined): { scheme: 'token' | 'bearer' | 'basic'; value: string; user?: string } | null {
  if (!header) return null;
  const m = /^(\w+)\s+(.+)$/.exec(header.trim());
  if (!m) return null;
  const scheme = (m[1] ?? '').toLowerCase();
  const value = (m[2] ?? '').trim();
  if (scheme === 'token') return { scheme: 'token', value };
  if (scheme === 'bearer') return { scheme: 'bearer', value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return { scheme: 'basic', value: decoded };
    return { scheme: 'basic', value: decoded.slice(i + 1), user: decoded.slice(0, i) };
  }
  return null;
}

/** Register a GitHub App (its RSA key pair generated off the main thread) with one installation. */
export async function createApp(state: GithubState, opts: { id: number; slug: string; owner: string; installationId: number; permissions?: Record<string, string> }): Promise<{ app: App; privateKeyPem: string }> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const app: App = {
    id: opts.id,
    slug: opts.slug,
    name: opts.slug,
    owner: opts.owner,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    installations: new Map(),
  };
  const permissions = opts.permissions ?? {
    metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write', administration: 'write', members: 'read',
  };
  app.installations.set(opts.installationId, { id: opts.installationId, account: opts.owner, permissions });
  state.apps.set(app.id, app);
  state.addUser(`${opts.slug}[bot]`, { type: 'Bot' });
  return { app, privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
}

function b64json(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Verify a GitHub App JWT; messages follow GitHub's. */
export function verifyAppJwt(state: GithubState, jwt: string): AuthResult {
  const fail = (message: string): AuthResult => ({ ok: false, status: 401, message });
  const parts = jwt.split('.');
  if (parts.length !== 3) return fail('A JSON web token could not be decoded');
  const [h, p, s] = parts as [string, string, string];
  const header = b64json(h);
  const payload = b64json(p);
  if (!header || !payload) return fail('A JSON web token could not be decoded');
  if (header.alg !== 'RS256') return fail('A JSON web token could not be decoded');
  const iss = typeof payload.iss === 'number' ? payload.iss : typeof payload.iss === 'string' && /^\d+$/.test(payload.iss) ? Number(payload.iss) : NaN;
  const app = state.apps.get(iss);
  if (!app) return fail('Integration not found');
  const valid = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey(app.publicKeyPem), Buffer.from(s, 'base64url'));
  if (!valid) return fail('A JSON web token could not be decoded');
  const now = Math.floor(state.now() / 1000);
  if (typeof payload.iat !== 'number' || !Number.isInteger(payload.iat) || payload.iat > now + 60) {
    return fail("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  }
  if (typeof payload.exp !== 'number' || payload.exp <= now) {
    return fail("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
  }
  if (payload.exp > now + 600 + 60 || payload.exp - payload.iat > 600 + 60) {
    return fail("'Expiration time' claim ('exp') is too far in the future");
  }
  return { ok: true, identity: { kind: 'app', appId: app.id, rateKey: `app:${app.id}` } };
}

/** Resolve an Authorization header to an identity. */
export function authenticate(state: GithubState, header: string | undefined, remoteAddress: string): AuthResult {
  const cred = credentialOf(header);
  if (!cred) {
    if (header) return { ok: false, status: 401, message: 'Bad credentials' };
    return { ok: true, identity: { kind: 'anonymous', rateKey: `ip:${remoteAddress}` } };
  }
  const token = cred.value;
  const login = state.tokens.get(token);
  if (login) {
    const user = state.user(login);
    if (user) return { ok: true, identity: { kind: 'user', user, token, rateKey: `user:${user.id}` } };
  }
  const inst = state.installationTokens.get(token);
  if (inst) {
    if (inst.expiresAt <= state.now()) return { ok: false, status: 401, message: 'Bad credentials' };
    const app = [...state.apps.values()].find((a) => a.installations.has(inst.installationId));
    const bot = app ? state.user(`${app.slug}[bot]`) : undefined;
    if (app && bot) {
      return {
        ok: true,
        identity: { kind: 'installation', installationId: inst.installationId, bot, token, rateKey: `inst:${inst.installationId}`, permissions: inst.permissions, repositoryIds: inst.repositoryIds },
      };
    }
  }
  if (cred.scheme === 'bearer' && token.split('.').length === 3) return verifyAppJwt(state, token);
  return { ok: false, status: 401, message: 'Bad credentials' };
}
