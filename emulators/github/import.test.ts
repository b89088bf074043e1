import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApi } from '../../test/helpers/openapi.js';
import { startEmulator, type RunningEmulator } from '../index.js';

const spec = loadOpenApi();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const PREVIEW = 'application/vnd.github.golden-comet-preview+json';
let emu: RunningEmulator;
let gh: Octokit;
let owner: string;

interface ImportStatus {
  id: number;
  status: 'pending' | 'imported' | 'failed';
  url: string;
  issue_url?: string;
  errors?: { location: string; resource: string; field: string | null; code: string }[];
}

async function post(body: unknown): Promise<ImportStatus> {
  const r = await gh.request('POST /repos/{owner}/{repo}/import/issues', { owner, repo: 'standby', ...(body as object), headers: { accept: PREVIEW } });
  expect(r.status).toBe(202);
  return r.data as ImportStatus;
}

/** Poll as a client would, waiting for the job's status to change (no fixed sleeps). */
async function settle(job: ImportStatus): Promise<ImportStatus> {
  for (;;) {
    const r = await gh.request('GET /repos/{owner}/{repo}/import/issues/{id}', { owner, repo: 'standby', id: job.id, headers: { accept: PREVIEW } });
    const s = r.data as ImportStatus;
    if (s.status !== 'pending') return s;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  emu = await startEmulator('github', { role: 'standby', importDelayMs: 20 });
  owner = emu.orgs[0] as string;
  gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
  await gh.rest.repos.createInOrg({ org: owner, name: 'standby', private: true });
  await gh.rest.issues.createMilestone({ owner, repo: 'standby', title: 'v1' });
});
afterAll(async () => {
  await emu?.stop();
});

describe('GitHub emulator issue import (golden-comet preview)', () => {
  it('imports asynchronously (pending -> imported) and keeps created_at, closed_at, updated_at and comment dates', async () => {
    const job = await post({
      issue: {
        title: 'Imported issue', body: 'Original body', created_at: '2019-03-01T10:00:00Z', closed_at: '2019-03-05T12:00:00Z',
        updated_at: '2019-03-06T08:00:00Z', closed: true, labels: ['bug', 'from-import'], milestone: 1,
      },
      comments: [
        { body: 'first', created_at: '2019-03-02T09:00:00Z' },
        { body: 'second', created_at: '2019-03-03T09:30:00Z' },
      ],
    });
    expect(job.status).toBe('pending');
    expect(job.url).toBe(`${emu.baseUrl}/repos/${owner}/standby/import/issues/${job.id}`);
    const done = await settle(job);
    expect(done.status).toBe('imported');
    expect(done.issue_url).toBe(`${emu.baseUrl}/repos/${owner}/standby/issues/1`);
    const issue = await gh.rest.issues.get({ owner, repo: 'standby', issue_number: 1 });
    spec.assertResponse('get', '/repos/{owner}/{repo}/issues/{issue_number}', 200, issue.data);
    expect(issue.data).toMatchObject({
      title: 'Imported issue', body: 'Original body', state: 'closed', created_at: '2019-03-01T10:00:00Z', closed_at: '2019-03-05T12:00:00Z',
      updated_at: '2019-03-06T08:00:00Z', comments: 2, milestone: { number: 1 },
    });
    expect(issue.data.user?.login).toBe(emu.credentials.login);
    expect(issue.data.labels.map((l) => (typeof l === 'string' ? l : l.name)).sort()).toEqual(['bug', 'from-import']);
    const comments = await gh.rest.issues.listComments({ owner, repo: 'standby', issue_number: 1 });
    expect(comments.data.map((c) => [c.body, c.created_at])).toEqual([
      ['first', '2019-03-02T09:00:00Z'],
      ['second', '2019-03-03T09:30:00Z'],
    ]);
  });

  it('keeps numbers in submission order and shares them with issues created over the plain API', async () => {
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await post({ issue: { title: `batch ${i}`, body: '' } }));
    const done = [];
    for (const j of jobs) done.push(await settle(j));
    expect(done.map((d) => d.issue_url?.split('/').pop())).toEqual(['2', '3', '4']);
    const plain = await gh.rest.issues.create({ owner, repo: 'standby', title: 'plain' });
    expect(plain.data.number).toBe(5);
    const list = await gh.request('GET /repos/{owner}/{repo}/import/issues', { owner, repo: 'standby', headers: { accept: PREVIEW } });
    expect((list.data as ImportStatus[]).length).toBe(4);
  });

  it('fails a job whose references are invalid, and rejects malformed bodies with 422', async () => {
    const bad = await settle(await post({ issue: { title: 'x', body: 'y', milestone: 42 }, comments: [{ body: 'c', created_at: 'yesterday' }] }));
    expect(bad.status).toBe('failed');
    expect(bad.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: '/issue', resource: 'Issue', field: 'milestone', code: 'invalid' }),
        expect.objectContaining({ location: '/comments[0]', resource: 'Comment', field: 'created_at', code: 'invalid' }),
      ]),
    );
    const e = await gh.request('POST /repos/{owner}/{repo}/import/issues', { owner, repo: 'standby', issue: { body: 'no title' }, headers: { accept: PREVIEW } }).catch((x: RequestError) => x);
    expect(e).toBeInstanceOf(RequestError);
    expect((e as RequestError).status).toBe(422);
    expect((e as RequestError).response?.data).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] });
    const noPreview = await gh.request('POST /repos/{owner}/{repo}/import/issues', { owner, repo: 'standby', issue: { title: 't', body: 'b' } }).catch((x: RequestError) => x);
    expect((noPreview as RequestError).status).toBe(415);
  });
});
