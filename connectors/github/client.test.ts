import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from '../../test/helpers/memory-contexts.js';
import { createGithubClient, deriveGitBaseUrl, EtagCache, getConditional, listAll, Pacer, type GithubClient } from './client.js';

const TOKEN = 'ghp_unit_test_secret_0123456789';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server | null = null;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }> = [];

async function serve(handler: Handler): Promise<string> {
  seen.length = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
}

function json(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600), ...headers });
  res.end(status === 304 ? undefined : JSON.stringify(data));
}

function client(baseUrl: string, log = recordingLogger()): GithubClient {
  return createGithubClient({ tenant: { baseUrl, org: 'acme', auth: { type: 'token', token: TOKEN } }, role: 'test', log, retryBaseMs: 10 });
}

afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
});

describe('Pacer', () => {
  it('never lets more than max requests into any window, and honours block()', async () => {
    let now = 0;
    const pacer = new Pacer([{ ms: 1000, max: 3 }], true, () => now, async (ms) => void (now += ms));
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const slot = await pacer.acquire();
      times.push(now);
      slot.release();
    }
    expect(times).toEqual([0, 0, 0, 1001, 1001, 1001, 2002]);
    for (const t of times) expect(times.filter((x) => x > t - 1000 && x <= t).length).toBeLessThanOrEqual(3);
    pacer.block(10_000);
    await pacer.acquire().then((s) => s.release());
    expect(now).toBe(10_000);
  });

  it('counts a serial request when it completes, so slow answers cannot squeeze arrivals into one window', async () => {
    let now = 0;
    const pacer = new Pacer([{ ms: 1000, max: 2 }], true, () => now, async (ms) => void (now += ms));
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const slot = await pacer.acquire();
      starts.push(now);
      now += 300; // the request takes 300 ms
      slot.release();
    }
    // The third starts a full window after the first one completed (300 + 1000 + 1).
    expect(starts).toEqual([0, 300, 1301]);
  });

  it('serializes holders: the second waits for the first to release', async () => {
    const pacer = new Pacer([], true);
    const first = await pacer.acquire();
    let second = false;
    const p = pacer.acquire().then((s) => {
      second = true;
      s.release();
    });
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    first.release();
    await p;
    expect(second).toBe(true);
  });

  it('stops waiting when aborted', async () => {
    const pacer = new Pacer([{ ms: 60_000, max: 1 }], false);
    (await pacer.acquire()).release();
    const ac = new AbortController();
    const p = pacer.acquire(ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow();
  });
});

describe('EtagCache', () => {
  it('evicts the least recently used entries beyond its size', () => {
    const c = new EtagCache(4000);
    const big = 'x'.repeat(700);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, { etag: `e${i}`, response: { status: 200, url: '', headers: {}, data: big } });
    expect(c.get('k0')).toBeUndefined();
    expect(c.get('k9')?.etag).toBe('e9');
  });
});

describe('GitHub client', () => {
  it('derives the git base URL', () => {
    expect(deriveGitBaseUrl({ baseUrl: 'https://api.github.com' })).toBe('https://github.com');
    expect(deriveGitBaseUrl({ baseUrl: 'https://ghe.example.com/api/v3' })).toBe('https://ghe.example.com');
    expect(deriveGitBaseUrl({ baseUrl: 'http://127.0.0.1:9/api/v3', gitBaseUrl: 'http://127.0.0.1:9/git/' })).toBe('http://127.0.0.1:9/git');
  });

  it('answers a repeated GET from its ETag cache through a 304', async () => {
    const base = await serve((req, res) => (req.headers['if-none-match'] === '"v1"' ? json(res, 304, null, { etag: '"v1"' }) : json(res, 200, { a: 1 }, { etag: '"v1"' })));
    const c = client(base);
    const first = await c.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'x' });
    const second = await c.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'x' });
    expect(first.data).toEqual({ a: 1 });
    expect(second.data).toEqual({ a: 1 });
    expect(seen[1]!.headers['if-none-match']).toBe('"v1"');
    expect(c.stats.notModified).toBe(1);
    expect(seen[0]!.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('reports 304 to callers that send their own ETag', async () => {
    const base = await serve((req, res) => (req.headers['if-none-match'] === '"v2"' ? json(res, 304, null) : json(res, 200, [1, 2], { etag: '"v2"' })));
    const c = client(base);
    const a = await getConditional<number[]>(c, 'GET /x', {}, undefined);
    expect(a).toMatchObject({ notModified: false, data: [1, 2], etag: '"v2"' });
    expect(await getConditional(c, 'GET /x', {}, '"v2"')).toEqual({ notModified: true });
  });

  it('follows Link rel="next" and keeps the ETag of single-page lists only', async () => {
    const base = await serve((req, res) => {
      const page = Number(new URL(req.url!, 'http://h').searchParams.get('page') ?? '1');
      const next: Record<string, string> = page < 3 ? { link: `<${`http://127.0.0.1:${(server!.address() as AddressInfo).port}/api/v3/items?page=${page + 1}`}>; rel="next"` } : {};
      json(res, 200, [page], { etag: `"p${page}"`, ...next });
    });
    const c = client(base);
    const all = await listAll<number>(c, 'GET /items', {});
    expect(all).toEqual({ notModified: false, data: [1, 2, 3], etag: undefined });
  });

  it('waits out Retry-After before trying again', async () => {
    let n = 0;
    const base = await serve((_req, res) => (n++ === 0 ? json(res, 429, { message: 'Too many requests' }, { 'retry-after': '1' }) : json(res, 200, { ok: true })));
    const c = client(base);
    const t = Date.now();
    const r = await c.octokit.request('GET /thing');
    expect(r.data).toEqual({ ok: true });
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000);
    expect(c.stats.throttled).toBe(1);
  });

  it('retries a POST refused by the secondary limit, but never replays one that failed with a 5xx', async () => {
    let posts = 0;
    const base = await serve((req, res) => {
      if (req.url!.includes('/limited')) {
        posts++;
        if (posts === 1) return json(res, 403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '1' });
        return json(res, 201, { id: 7 });
      }
      json(res, 502, { message: 'Bad Gateway' });
    });
    const c = client(base);
    const t = Date.now();
    expect((await c.octokit.request('POST /limited', { x: 1 })).data).toEqual({ id: 7 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000);
    await expect(c.octokit.request('POST /broken', { x: 1 })).rejects.toMatchObject({ status: 502 });
    expect(seen.filter((s) => s.url.includes('/broken'))).toHaveLength(1);
  });

  it('retries GETs on 5xx and on a connection dropped in the middle of the body', async () => {
    let n = 0;
    const base = await serve((_req, res) => {
      n++;
      if (n === 1) return json(res, 503, { message: 'unavailable' });
      if (n === 2) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('[{"id": 1, "na');
        res.socket?.destroy();
        return;
      }
      json(res, 200, [{ id: 1, name: 'ok' }]);
    });
    const c = client(base);
    const r = await c.octokit.request('GET /list');
    expect(r.data).toEqual([{ id: 1, name: 'ok' }]);
    expect(n).toBe(3);
  });

  it('pauses every request when the primary limit is nearly used, until its reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 2;
    const base = await serve((_req, res) => json(res, 200, {}, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }));
    const log = recordingLogger();
    const c = client(base, log);
    await c.octokit.request('GET /a');
    await c.octokit.request('GET /b');
    expect(Date.now()).toBeGreaterThanOrEqual(reset * 1000);
    expect(log.lines.some((l) => l.includes('primary rate limit nearly used'))).toBe(true);
  });

  it('keeps the token out of errors and logs', async () => {
    const base = await serve((_req, res) => json(res, 401, { message: 'Bad credentials' }));
    const log = recordingLogger();
    const c = client(base, log);
    const err = await c.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'x' }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(401);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain(TOKEN);
    expect(String(err)).not.toContain(TOKEN);
    expect(log.lines.join('\n')).not.toContain(TOKEN);
    const env = await c.gitEnv();
    expect(Object.entries(env).filter(([k]) => !k.startsWith('GIT_CONFIG_VALUE')).some(([, v]) => String(v).includes(TOKEN))).toBe(false);
  });

  it('GitHub App auth finds the installation of the org when no installation id is given', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const base = await serve((req, res) => {
      if (req.url === '/api/v3/orgs/acme/installation') return json(res, 200, { id: 42, account: { login: 'acme' } });
      if (req.url === '/api/v3/app/installations/42/access_tokens') return json(res, 201, { token: 'ghs_minted_installation_token', expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {}, repository_selection: 'all' });
      json(res, 200, { ok: true });
    });
    const c = createGithubClient({ tenant: { baseUrl: base, org: 'acme', auth: { type: 'app', appId: 1, privateKey } }, role: 'test', log: recordingLogger(), retryBaseMs: 10 });
    await c.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'x' });
    expect(seen.map((s) => s.url)).toEqual(['/api/v3/orgs/acme/installation', '/api/v3/app/installations/42/access_tokens', '/api/v3/repos/acme/x']);
    expect(seen[0]!.headers.authorization).toMatch(/^bearer /);
    expect(seen[2]!.headers.authorization).toBe('token ghs_minted_installation_token');
    const env = await c.gitEnv();
    const header = Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_VALUE_')).map((k) => env[k]).find((v) => v?.startsWith('Authorization'));
    expect(header).toBe(`Authorization: Basic ${Buffer.from('x-access-token:ghs_minted_installation_token').toString('base64')}`);
  });
});

