import { createHash } from 'node:crypto';
import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApi } from '../../test/helpers/openapi.js';
import { startEmulator, type RunningEmulator } from '../index.js';

const spec = loadOpenApi();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let emu: RunningEmulator;
let gh: Octokit;
let owner: string;
const repo = 'rel';

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
  emu = await startEmulator('github', { seed: 'empty', role: 'standby' });
  owner = emu.orgs[0] as string;
  gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
  await emu.mutate.createRepo(repo, { private: true });
});
afterAll(async () => {
  await emu?.stop();
});

describe('GitHub emulator releases and assets', () => {
  it('creates a release (and its tag), uploads to the uploads host, downloads with Accept: application/octet-stream', async () => {
    const rel = await gh.rest.repos.createRelease({ owner, repo, tag_name: 'v1.0.0', name: 'One', body: 'notes' });
    spec.assertResponse('post', '/repos/{owner}/{repo}/releases', 201, rel.data);
    expect(rel.data.upload_url).toBe(`${emu.uploadsUrl}/repos/${owner}/${repo}/releases/${rel.data.id}/assets{?name,label}`);
    expect(emu.mutate.repo(repo).git.tags.has('v1.0.0')).toBe(true);

    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const up = await gh.rest.repos.uploadReleaseAsset({
      owner, repo, release_id: rel.data.id, url: rel.data.upload_url, name: 'my tool.tar.gz', label: 'The tool',
      data: bytes as unknown as string, headers: { 'content-type': 'application/gzip', 'content-length': bytes.length },
    });
    expect(up.status).toBe(201);
    spec.assertResponse('post', '/repos/{owner}/{repo}/releases/{release_id}/assets', 201, up.data);
    expect(up.data).toMatchObject({ name: 'my.tool.tar.gz', label: 'The tool', size: bytes.length, content_type: 'application/gzip', state: 'uploaded' });
    expect(up.data.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

    const meta = await gh.rest.repos.getReleaseAsset({ owner, repo, asset_id: up.data.id });
    spec.assertResponse('get', '/repos/{owner}/{repo}/releases/assets/{asset_id}', 200, meta.data);
    const dl = await gh.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', { owner, repo, asset_id: up.data.id, headers: { accept: 'application/octet-stream' } });
    expect(dl.status).toBe(200);
    expect(Buffer.from(dl.data as unknown as ArrayBuffer).equals(bytes)).toBe(true);
    // the API answers 302 to a signed URL that needs no Authorization header
    const raw = await fetch(`${emu.baseUrl}/repos/${owner}/${repo}/releases/assets/${up.data.id}`, {
      headers: { authorization: `token ${emu.credentials.token}`, accept: 'application/octet-stream' },
      redirect: 'manual',
    });
    expect(raw.status).toBe(302);
    const signed = await fetch(String(raw.headers.get('location')));
    expect(Buffer.from(await signed.arrayBuffer()).equals(bytes)).toBe(true);
    const tampered = await fetch(String(raw.headers.get('location')).replace(/sig=./, 'sig=0'));
    expect(tampered.status).toBe(403);
    // browser_download_url works with credentials for a private repository, not without
    const browser = await fetch(meta.data.browser_download_url, { headers: { authorization: `token ${emu.credentials.token}` } });
    expect(Buffer.from(await browser.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(meta.data.browser_download_url)).status).toBe(404);
    const listed = await gh.rest.repos.listReleaseAssets({ owner, repo, release_id: rel.data.id });
    expect(listed.data[0]?.download_count).toBe(3);
  });

  it('refuses a second asset with the same name and a release for a tag that already has one', async () => {
    const rel = await gh.rest.repos.getReleaseByTag({ owner, repo, tag: 'v1.0.0' });
    const dup = await failure(
      gh.rest.repos.uploadReleaseAsset({ owner, repo, release_id: rel.data.id, url: rel.data.upload_url, name: 'my.tool.tar.gz', data: 'x', headers: { 'content-type': 'text/plain' } }),
    );
    expect(dup.status).toBe(422);
    expect(dup.response?.data).toMatchObject({ errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
    const again = await failure(gh.rest.repos.createRelease({ owner, repo, tag_name: 'v1.0.0' }));
    expect(again.status).toBe(422);
    spec.assertResponse('post', '/repos/{owner}/{repo}/releases', 422, again.response?.data);
  });

  it('publishes drafts (tag created then), updates and deletes releases and assets', async () => {
    const draft = await gh.rest.repos.createRelease({ owner, repo, tag_name: 'v2.0.0', draft: true, prerelease: true });
    expect(draft.data).toMatchObject({ draft: true, published_at: null, tarball_url: null });
    expect(emu.mutate.repo(repo).git.tags.has('v2.0.0')).toBe(false);
    const pub = await gh.rest.repos.updateRelease({ owner, repo, release_id: draft.data.id, draft: false, name: 'Two' });
    spec.assertResponse('patch', '/repos/{owner}/{repo}/releases/{release_id}', 200, pub.data);
    expect(pub.data.draft).toBe(false);
    expect(pub.data.published_at).not.toBeNull();
    expect(emu.mutate.repo(repo).git.tags.has('v2.0.0')).toBe(true);
    const a = await gh.rest.repos.uploadReleaseAsset({ owner, repo, release_id: pub.data.id, url: pub.data.upload_url, name: '.env', data: 'A=1\n', headers: { 'content-type': 'text/plain' } });
    expect(a.data.name).toBe('default.env');
    const one = await gh.rest.repos.getRelease({ owner, repo, release_id: pub.data.id });
    spec.assertResponse('get', '/repos/{owner}/{repo}/releases/{release_id}', 200, one.data);
    expect(one.data.assets.map((x) => x.name)).toEqual(['default.env']);
    await gh.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: a.data.id });
    expect((await failure(gh.rest.repos.getReleaseAsset({ owner, repo, asset_id: a.data.id }))).status).toBe(404);
    await gh.rest.repos.deleteRelease({ owner, repo, release_id: pub.data.id });
    expect((await failure(gh.rest.repos.getRelease({ owner, repo, release_id: pub.data.id }))).status).toBe(404);
    // the tag stays, as on GitHub
    expect(emu.mutate.repo(repo).git.tags.has('v2.0.0')).toBe(true);
    const latest = await gh.rest.repos.getLatestRelease({ owner, repo });
    expect(latest.data.tag_name).toBe('v1.0.0');
  });
});
