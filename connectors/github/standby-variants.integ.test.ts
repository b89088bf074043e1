/**
 * The GitHub connector against standbys that differ from github.com's defaults: one without the
 * issue import endpoint (plain API, attribution lines), and GitHub App auth under a tight secondary
 * limit (pacing keeps every content-creating request under it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningGithubEmulator } from '../../emulators/index.js';
import { MemoryScopeStore, recordingLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { createGithubConnector, type GithubConnector } from './index.js';
import { K } from './types.js';

const TIME_SCALE = 60;
let source: RunningGithubEmulator;
let work: string;

function connectorFor(src: RunningGithubEmulator, standby: RunningGithubEmulator, log = recordingLogger(), extra: Partial<Parameters<typeof createGithubConnector>[0]> = {}): GithubConnector {
  return createGithubConnector({
    source: { baseUrl: src.baseUrl, org: src.orgs[0]!, auth: { type: 'token', token: src.credentials.token } },
    standby: { baseUrl: standby.baseUrl, org: standby.orgs[0]!, auth: { type: 'token', token: standby.credentials.token } },
    limitWindowScale: TIME_SCALE,
    retryBaseMs: 20,
    log,
    ...extra,
  });
}

async function allPages<T>(octokit: Octokit, route: string, params: Record<string, unknown>): Promise<T[]> {
  return (await octokit.paginate(route, { per_page: 100, ...params })) as T[];
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'norestore-gh-variants-'));
  source = await startEmulator('github', { seed: 'small', timeScale: TIME_SCALE });
});

afterAll(async () => {
  await source?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('github connector with a standby that has no issue import endpoint', () => {
  it('falls back to the plain API with attribution lines; verification matches without created_at', async () => {
    const standby = await startEmulator('github', { role: 'standby', timeScale: TIME_SCALE, importApi: false, importDelayMs: 10 });
    try {
      const log = recordingLogger();
      const conn = connectorFor(source, standby, log, { useImportEndpoint: false });
      expect(conn.kinds.find((k) => k.kind === K.issue)!.fidelity.preserved).not.toContain('created_at');
      const beta = (await conn.scopes()).find((s) => s.name === 'acme/beta')!;
      const st = new MemoryScopeStore();
      await runExport(conn, beta, st, join(work, 'b-export'));
      expect((await runImport(conn, beta, st, join(work, 'b-import'))).failed).toEqual([]);
      expect((await runVerify(conn, beta, st, join(work, 'b-verify'))).findings).toEqual([]);
      const kit = new Octokit({ baseUrl: standby.baseUrl, auth: standby.credentials.token });
      const issues = await allPages<{ body: string | null }>(kit, 'GET /repos/{owner}/{repo}/issues', { owner: standby.orgs[0], repo: 'beta', state: 'all' });
      expect(issues.length).toBeGreaterThan(0);
      for (const i of issues) expect(i.body).toMatch(/_Originally by `@[^`]+` on \d{4}-/);

      // With the endpoint asked for, the missing endpoint is noticed and the plain API used.
      const conn2 = connectorFor(source, standby, log);
      const st2 = new MemoryScopeStore();
      const gamma = (await conn2.scopes()).find((s) => s.name === 'acme/gamma')!;
      await runExport(conn2, gamma, st2, join(work, 'g-export'));
      expect((await runImport(conn2, gamma, st2, join(work, 'g-import'))).failed).toEqual([]);
    } finally {
      await standby.stop();
    }
  });
});

describe('github connector as a GitHub App, under a tight secondary limit', () => {
  it('authenticates as the app installation for API and git, and paces content creation so nothing is refused', async () => {
    const PER_MINUTE = 6;
    const standby = await startEmulator('github', { role: 'standby', timeScale: TIME_SCALE, importDelayMs: 10, limits: { secondaryPerMinute: PER_MINUTE } });
    try {
      const app = (e: RunningGithubEmulator) => ({ type: 'app' as const, appId: e.credentials.app.appId, installationId: e.credentials.app.installationId, privateKey: e.credentials.app.privateKeyPem });
      const log = recordingLogger();
      const conn = createGithubConnector({
        source: { baseUrl: source.baseUrl, org: 'acme', auth: app(source) },
        standby: { baseUrl: standby.baseUrl, org: standby.orgs[0]!, auth: app(standby) },
        contentCreationPerMinute: PER_MINUTE,
        limitWindowScale: TIME_SCALE,
        retryBaseMs: 20,
        log,
      });
      const beta = (await conn.scopes()).find((s) => s.name === 'acme/beta')!;
      const st = new MemoryScopeStore();
      await runExport(conn, beta, st, join(work, 'app-export'));
      expect((await runImport(conn, beta, st, join(work, 'app-import'))).failed).toEqual([]);
      expect((await runVerify(conn, beta, st, join(work, 'app-verify'))).findings).toEqual([]);
      const stats = standby.stats();
      expect(stats.contentCreated).toBeGreaterThan(2 * PER_MINUTE); // crossed at least two windows of the limit
      expect(stats.throttledSecondary).toBe(0);
      expect(conn.stats().standby.throttled).toBe(0);
    } finally {
      await standby.stop();
    }
  });
});

