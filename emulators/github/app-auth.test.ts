import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApi } from '../../test/helpers/openapi.js';
import { startEmulator, type RunningEmulator } from '../index.js';

const spec = loadOpenApi();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let emu: RunningEmulator;
let owner: string;

function jwt(privateKey: string | ReturnType<typeof generateKeyPairSync>['privateKey'], payload: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${data}.${sign('RSA-SHA256', Buffer.from(data), privateKey).toString('base64url')}`;
}

async function failure(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RequestError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  emu = await startEmulator('github', { seed: 'empty', role: 'standby', limits: { installationTokenTtlSeconds: 600 } });
  owner = emu.orgs[0] as string;
  await emu.mutate.createRepo('one');
  await emu.mutate.createRepo('two');
});
afterAll(async () => {
  await emu?.stop();
});

describe('GitHub emulator app authentication', () => {
  it('mints installation tokens through @octokit/auth-app and acts as the app bot', async () => {
    const { appId, installationId, privateKeyPem } = emu.credentials.app;
    const gh = new Octokit({ baseUrl: emu.baseUrl, log, authStrategy: createAppAuth, auth: { appId, privateKey: privateKeyPem, installationId } });
    const repos = await gh.rest.repos.listForOrg({ org: owner });
    expect(repos.data.map((r) => r.name).sort()).toEqual(['one', 'two']);
    const issue = await gh.rest.issues.create({ owner, repo: 'one', title: 'by the app' });
    expect(issue.data.user?.login).toBe('norestore[bot]');
    expect(issue.data.user?.type).toBe('Bot');
    const me = await failure(gh.rest.users.getAuthenticated());
    expect(me.status).toBe(403);
    expect(me.message).toMatch(/Resource not accessible by integration/);
    const auth = (await gh.auth({ type: 'installation' })) as { token: string; expiresAt: string };
    expect(auth.token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(Date.parse(auth.expiresAt) - emu.state.now()).toBeGreaterThan(590_000);
    const asApp = new Octokit({ baseUrl: emu.baseUrl, log, authStrategy: createAppAuth, auth: { appId, privateKey: privateKeyPem } });
    const app = await asApp.request('GET /app');
    expect(app.data).toMatchObject({ id: appId, slug: 'norestore' });
    const found = await asApp.rest.apps.getOrgInstallation({ org: owner });
    expect(found.data).toMatchObject({ id: installationId, app_id: appId, target_type: 'Organization', account: { login: owner } });
    const all = await asApp.rest.apps.listInstallations();
    expect(all.data.map((i) => i.id)).toEqual([installationId]);
  });

  it('accepts an installation token for git over HTTP as x-access-token', async () => {
    const { appId, installationId, privateKeyPem } = emu.credentials.app;
    const auth = createAppAuth({ appId, privateKey: privateKeyPem, installationId, request: new Octokit({ baseUrl: emu.baseUrl, log }).request });
    const { token } = await auth({ type: 'installation' });
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'git',
        ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`, 'ls-remote', `${emu.gitUrl}/${owner}/one.git`],
        { env: { PATH: process.env.PATH, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' } },
        (err, stdout) => resolve({ code: err ? 1 : 0, stdout: String(stdout) }),
      );
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/refs\/heads\/main/);
  });
  it('answers POST /app/installations/{id}/access_tokens in the documented shape; tokens can be narrowed and expire', async () => {
    const { appId, installationId, privateKeyPem } = emu.credentials.app;
    const now = Math.floor(emu.state.now() / 1000);
    const bearer = jwt(privateKeyPem, { iat: now - 30, exp: now + 540, iss: appId });
    const raw = new Octokit({ baseUrl: emu.baseUrl, log, auth: bearer });
    const minted = await raw.rest.apps.createInstallationAccessToken({ installation_id: installationId, repositories: ['one'], permissions: { issues: 'read', metadata: 'read' } });
    expect(minted.status).toBe(201);
    spec.assertResponse('post', '/app/installations/{installation_id}/access_tokens', 201, minted.data);
    expect(minted.data.repository_selection).toBe('selected');
    const narrow = new Octokit({ baseUrl: emu.baseUrl, log, auth: minted.data.token });
    expect((await narrow.rest.issues.listForRepo({ owner, repo: 'one' })).status).toBe(200);
    expect((await failure(narrow.rest.repos.get({ owner, repo: 'two' }))).status).toBe(404);
    expect((await failure(narrow.rest.issues.create({ owner, repo: 'one', title: 'no write' }))).status).toBe(403);
    emu.mutate.advanceClock(601_000);
    const expired = await failure(narrow.rest.issues.listForRepo({ owner, repo: 'one' }));
    expect(expired.status).toBe(401);
    expect(expired.response?.data).toMatchObject({ message: 'Bad credentials' });
  });

  it('rejects JWTs that are expired, too long-lived, or signed with another key', async () => {
    const { appId, installationId, privateKeyPem } = emu.credentials.app;
    const now = Math.floor(emu.state.now() / 1000);
    const tryJwt = async (token: string) =>
      failure(new Octokit({ baseUrl: emu.baseUrl, log, auth: token }).rest.apps.createInstallationAccessToken({ installation_id: installationId }));
    const expired = await tryJwt(jwt(privateKeyPem, { iat: now - 700, exp: now - 100, iss: appId }));
    expect(expired.status).toBe(401);
    expect(expired.message).toMatch(/'Expiration time' claim \('exp'\) must be a numeric value representing the future time/);
    const tooLong = await tryJwt(jwt(privateKeyPem, { iat: now, exp: now + 3600, iss: appId }));
    expect(tooLong.message).toMatch(/'Expiration time' claim \('exp'\) is too far in the future/);
    const { privateKey: other } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await tryJwt(jwt(other, { iat: now - 30, exp: now + 500, iss: appId }));
    expect(forged.status).toBe(401);
    expect(forged.message).toMatch(/A JSON web token could not be decoded/);
    const unknownApp = await tryJwt(jwt(privateKeyPem, { iat: now - 30, exp: now + 500, iss: 999999 }));
    expect(unknownApp.message).toMatch(/Integration not found/);
    const patOnAppRoute = await failure(new Octokit({ baseUrl: emu.baseUrl, log, auth: emu.credentials.token }).rest.apps.createInstallationAccessToken({ installation_id: installationId }));
    expect(patOnAppRoute.status).toBe(401);
  });

});
