/**
 * For tests of the emulator and of anything checked against it: a real @microsoft/microsoft-graph-client
 * Client and a real @azure/msal-node ConfidentialClientApplication pointed at an emulator, trusting
 * its self-signed certificate through an https.Agent (no process-wide NODE_EXTRA_CA_CERTS needed).
 * Deliberately minimal (no retries, no pacing): it shows the emulator as the SDKs see it.
 */
import { request as httpsRequest, Agent } from 'node:https';
import { Readable } from 'node:stream';
import { createSecureContext, rootCertificates } from 'node:tls';
import { ConfidentialClientApplication, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { Client, type Context, type Middleware } from '@microsoft/microsoft-graph-client';

export interface TestTenant {
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  credentials: { clientId: string; clientSecret: string };
  caCertificate: string;
}

export type Transport = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | Uint8Array | null }) => Promise<Response>;

/** A fetch-like function over node:https with an extra trusted CA. */
export function httpsTransport(ca: string): Transport {
  const agent = new Agent({ keepAlive: true, secureContext: createSecureContext({ ca: [...rootCertificates, ca] }) });
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304 || init.method === 'HEAD';
        if (noBody) res.resume();
        resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage, headers }));
      });
      req.on('error', reject);
      req.end(init.body ?? undefined);
    });
}

class MsalNetwork implements INetworkModule {
  constructor(private readonly transport: Transport) {}
  private async send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const r = await this.transport(url, { method, headers: options?.headers, body: options?.body });
    const text = await r.text();
    const headers: Record<string, string> = {};
    r.headers.forEach((v, k) => (headers[k] = v));
    return { status: r.status, headers, body: (text ? JSON.parse(text) : {}) as T };
  }
  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }
  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }
}

export function msalFor(t: TestTenant, transport = httpsTransport(t.caCertificate)): ConfidentialClientApplication {
  const host = new URL(t.authorityHost).host;
  return new ConfidentialClientApplication({
    auth: { clientId: t.credentials.clientId, clientSecret: t.credentials.clientSecret, authority: `${t.authorityHost}/${t.tenantId}`, knownAuthorities: [host] },
    system: { networkClient: new MsalNetwork(transport) },
  });
}

export async function tokenFor(t: TestTenant, transport = httpsTransport(t.caCertificate)): Promise<string> {
  const r = await msalFor(t, transport).acquireTokenByClientCredential({ scopes: [`${t.graphBaseUrl}/.default`] });
  if (!r?.accessToken) throw new Error('no access token');
  return r.accessToken;
}

class TransportHandler implements Middleware {
  constructor(
    private readonly transport: Transport,
    private readonly token: () => Promise<string>,
  ) {}
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const opts = (context.options ?? {}) as { method?: string; headers?: Record<string, string> | Headers; body?: string | Buffer };
    const headers: Record<string, string> = {};
    if (opts.headers instanceof Headers) opts.headers.forEach((v, k) => (headers[k] = v));
    else Object.assign(headers, opts.headers ?? {});
    headers.Authorization = `Bearer ${await this.token()}`;
    let res = await this.transport(url, { method: opts.method, headers, body: opts.body ?? null });
    for (let i = 0; i < 5 && (res.status === 301 || res.status === 302 || res.status === 307) && res.headers.get('location'); i++) {
      const loc = new URL(res.headers.get('location') as string, url).toString();
      await res.arrayBuffer().catch(() => undefined);
      res = await this.transport(loc, { method: 'GET', headers: {} });
    }
    context.response = res;
  }
}

/** A Graph SDK client for an emulator tenant. */
export function graphClientFor(t: TestTenant): Client {
  const transport = httpsTransport(t.caCertificate);
  let cached: Promise<string> | null = null;
  const token = () => (cached ??= tokenFor(t, transport));
  return Client.initWithMiddleware({
    middleware: new TransportHandler(transport, token),
    baseUrl: `${t.graphBaseUrl}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(t.graphBaseUrl).hostname]),
  });
}
