/**
 * OAuth 2 for a service account with domain-wide delegation, as Google's token endpoint does it:
 * POST {tokenUrl} grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT, the JWT
 * signed RS256 with the service account's private key (verified here against its public key), with
 * iss = client_email, aud = the token URL, scope = space-separated scopes, sub = the impersonated
 * user, iat/exp at most an hour apart. Answers { access_token, expires_in, token_type: 'Bearer' }, or
 * the OAuth error shape { error, error_description }.
 */
import { createHash, createPublicKey, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const LEGACY_TOKEN_URL = 'https://accounts.google.com/o/oauth2/token';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: 'googleapis.com';
}

export function createServiceAccount(domain: string, tokenUrl: string, privateKeyPem?: string): { key: ServiceAccountKey; publicKey: KeyObject } {
  let privateKey = privateKeyPem;
  if (!privateKey) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  const publicKey = createPublicKey(privateKey);
  const project = `norestore-${domain.replace(/[^a-z0-9]/gi, '-').toLowerCase()}`.slice(0, 30).replace(/-+$/, '');
  const clientEmail = `norestore@${project}.iam.gserviceaccount.com`;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const key: ServiceAccountKey = {
    type: 'service_account',
    project_id: project,
    private_key_id: createHash('sha1').update(der).digest('hex'),
    private_key: privateKey,
    client_email: clientEmail,
    client_id: BigInt('0x' + createHash('sha256').update(clientEmail).digest('hex').slice(0, 16)).toString().padStart(21, '1').slice(0, 21),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUrl,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  };
  return { key, publicKey };
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
  body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export interface AccessToken {
  /** The impersonated user (lower case). */
  sub: string;
  scopes: Set<string>;
  expiresAt: number;
}

export interface TokenServiceOptions {
  clientEmail: string;
  publicKey: KeyObject;
  /** The emulator's own token URL, accepted as `aud` besides Google's. */
  tokenUrl: string;
  /** Scopes granted to the client id in domain-wide delegation. */
  delegatedScopes: ReadonlySet<string>;
  /** Does this user exist (and is not suspended)? */
  userExists(email: string): boolean;
  tokenTtlSeconds: number;
  now: () => number;
}

const b64urlJson = (s: string): unknown => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

export class TokenService {
  private readonly tokens = new Map<string, AccessToken>();
  issued = 0;

  constructor(private readonly opts: TokenServiceOptions) {}

  /** Handle a token request body (application/x-www-form-urlencoded). */
  grant(form: URLSearchParams): { access_token: string; expires_in: number; token_type: 'Bearer' } {
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER) {
      throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    }
    const assertion = form.get('assertion') ?? '';
    const parts = assertion.split('.');
    if (parts.length !== 3) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; sub?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    try {
      header = b64urlJson(parts[0] as string) as typeof header;
      claims = b64urlJson(parts[1] as string) as typeof claims;
    } catch {
      throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    if (header.alg !== 'RS256') throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.iss !== this.opts.clientEmail) throw new OAuthError(400, 'invalid_grant', 'Invalid grant: account not found');
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(this.opts.publicKey, Buffer.from(parts[2] as string, 'base64url'))) throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== GOOGLE_TOKEN_URL && claims.aud !== LEGACY_TOKEN_URL && claims.aud !== this.opts.tokenUrl) {
      throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    }
    const nowS = Math.floor(this.opts.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= iat || exp - iat > 3600 || iat > nowS + 300 || exp < nowS - 300) {
      throw new OAuthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const scopes = (claims.scope ?? '').split(/\s+/).filter(Boolean);
    if (!scopes.length) throw new OAuthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    if (!claims.sub) {
      // A service account acting as itself owns no mailbox, drive or calendar in a Workspace domain.
      throw new OAuthError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    const sub = claims.sub.toLowerCase();
    if (scopes.some((s) => !this.opts.delegatedScopes.has(s))) {
      throw new OAuthError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    if (!this.opts.userExists(sub)) throw new OAuthError(400, 'invalid_grant', 'Invalid email or User ID');
    const token = `ya29.${randomBytes(48).toString('base64url')}`;
    const ttl = this.opts.tokenTtlSeconds;
    this.tokens.set(token, { sub, scopes: new Set(scopes), expiresAt: this.opts.now() + ttl * 1000 });
    this.issued++;
    return { access_token: token, expires_in: ttl, token_type: 'Bearer' };
  }

  /** The token of an Authorization header, or null when absent, unknown or expired. */
  check(authorization: string | undefined): AccessToken | null {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return null;
    const t = this.tokens.get(m[1] as string);
    if (!t) return null;
    if (t.expiresAt <= this.opts.now()) {
      this.tokens.delete(m[1] as string);
      return null;
    }
    return t;
  }

  /** Expire every issued token now (tests of token refresh). */
  expireAll(): void {
    this.tokens.clear();
  }

  /** Forget tokens of a deleted user. */
  revokeUser(email: string): void {
    for (const [k, t] of this.tokens) if (t.sub === email) this.tokens.delete(k);
  }
}
