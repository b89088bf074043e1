/**
 * The Microsoft identity platform (v2.0) endpoints the client-credentials flow needs, as
 * @azure/msal-node calls them: instance discovery, the tenant's OpenID configuration and the token
 * endpoint. Access tokens are JWT-shaped (tid, appid, roles, exp) and checked by the Graph side.
 * Errors follow AAD: `{ error, error_description: "AADSTS...: ...", error_codes, timestamp, trace_id, correlation_id }`.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export interface AppRegistration {
  clientId: string;
  clientSecret: string;
}

export interface IssuedToken {
  clientId: string;
  tenantId: string;
  expiresAt: number;
}

export class AuthService {
  private readonly key = randomBytes(32);
  private readonly tokens = new Map<string, IssuedToken>();
  issued = 0;

  constructor(
    readonly tenantId: string,
    readonly domain: string,
    readonly apps: AppRegistration[],
    public tokenTtlSeconds = 3599,
    private readonly now: () => number = Date.now,
  ) {}

  /** Is this path segment our tenant (its GUID or its domain)? 'common'/'organizations' are not valid for client credentials. */
  isTenant(segment: string): boolean {
    const s = segment.toLowerCase();
    return s === this.tenantId || s === this.domain.toLowerCase();
  }

  openIdConfiguration(host: string): Record<string, unknown> {
    const t = `${host}/${this.tenantId}`;
    return {
      token_endpoint: `${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${host}/oidc/userinfo`,
      authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${t}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${t}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(host).host,
      rbac_url: 'https://pas.windows.net',
    };
  }

  instanceDiscovery(host: string, tenant = 'common'): Record<string, unknown> {
    const h = new URL(host).host;
    return {
      tenant_discovery_endpoint: `${host}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: h, preferred_cache: h, aliases: [h] }],
    };
  }

  private aadError(status: number, error: string, code: number, description: string): { status: number; body: Record<string, unknown> } {
    const trace = randomUUID();
    const correlation = randomUUID();
    const timestamp = new Date(this.now()).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
    return {
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: trace,
        correlation_id: correlation,
        error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      },
    };
  }

  /** POST /{tenant}/oauth2/v2.0/token with a form body. */
  token(tenantSegment: string, form: URLSearchParams, authorization: string | undefined): { status: number; body: Record<string, unknown> } {
    if (!this.isTenant(tenantSegment)) {
      return this.aadError(400, 'invalid_request', 90002, `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') return this.aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'.`);
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    if (authorization?.startsWith('Basic ')) {
      const [id, s] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(s ?? '');
    }
    const app = this.apps.find((a) => a.clientId === clientId);
    if (!app) return this.aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${this.domain}'.`);
    if (!secret) return this.aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    if (secret !== app.clientSecret) return this.aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    const scope = form.get('scope') ?? '';
    if (!scope.split(' ').some((s) => s.endsWith('/.default'))) {
      return this.aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.tokenTtlSeconds;
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'norestore-emulator' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ aud: scope.replace(/\/\.default$/, ''), iss: `https://sts.windows.net/${this.tenantId}/`, iat, nbf: iat, exp, appid: clientId, idtyp: 'app', roles: ['Mail.ReadWrite', 'Calendars.ReadWrite', 'Contacts.ReadWrite', 'Files.ReadWrite.All', 'User.Read.All'], tid: this.tenantId, ver: '1.0', uti: randomBytes(8).toString('base64url') }),
    ).toString('base64url');
    const sig = createHmac('sha256', this.key).update(`${header}.${payload}`).digest('base64url');
    const token = `${header}.${payload}.${sig}`;
    this.tokens.set(token, { clientId, tenantId: this.tenantId, expiresAt: exp * 1000 });
    this.issued++;
    return { status: 200, body: { token_type: 'Bearer', expires_in: this.tokenTtlSeconds, ext_expires_in: this.tokenTtlSeconds, access_token: token } };
  }

  /** Check a Bearer token for Graph; returns the token or an error (code, message) for a 401. */
  check(authorization: string | undefined): IssuedToken | { code: string; message: string } {
    if (!authorization) return { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' };
    const m = /^Bearer\s+(.+)$/i.exec(authorization);
    if (!m) return { code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' };
    const tok = this.tokens.get((m[1] as string).trim());
    if (!tok) return { code: 'InvalidAuthenticationToken', message: 'IDX14100: JWT is not well formed, there are no dots (.) or the token was not issued for this tenant.' };
    if (tok.expiresAt <= this.now()) return { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' };
    return tok;
  }

  /** Expire every issued token (to test re-authentication). */
  revokeAll(): void {
    this.tokens.clear();
  }
}
