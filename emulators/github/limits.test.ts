import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenApi } from '../../test/helpers/openapi.js';
import { startEmulator, type RunningEmulator } from '../index.js';
import { RateLimiter } from './limits.js';

const spec = loadOpenApi();
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function failure(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RequestError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('RateLimiter', () => {
  it('counts a fixed hourly window per identity and scales windows with timeScale', () => {
    let now = 1_000_000;
    const rl = new RateLimiter({ primaryLimit: 3 }, 60, () => now);
    rl.consume('a');
    rl.consume('a');
    expect(rl.peek('a', 3)).toMatchObject({ limit: 3, used: 2, remaining: 1, resource: 'core' });
    expect(rl.peek('b', 3).used).toBe(0);
    expect(rl.peek('a', 3).reset).toBe(Math.ceil((1_000_000 + 60_000) / 1000));
    now += 60_000; // one scaled hour
    expect(rl.peek('a', 3).used).toBe(0);
  });

  it('limits content creation per minute and per hour with a Retry-After', () => {
    let now = 0;
    const rl = new RateLimiter({ secondaryPerMinute: 2, secondaryPerHour: 3 }, 1, () => now);
    expect(rl.checkCreation('k')).toBeNull();
    now += 10_000;
    expect(rl.checkCreation('k')).toBeNull();
    expect(rl.checkCreation('k')).toEqual({ retryAfter: 50, window: 'minute' });
    now += 61_000;
    expect(rl.checkCreation('k')).toBeNull();
    now += 61_000;
    const h = rl.checkCreation('k');
    expect(h?.window).toBe('hour');
    expect(h?.retryAfter).toBe(3600 - 132);
  });
});

describe('GitHub emulator rate limits', () => {
  let emu: RunningEmulator;
  let emu429: RunningEmulator;
  beforeAll(async () => {
    [emu, emu429] = await Promise.all([
      startEmulator('github', { seed: 'empty', role: 'standby', timeScale: 60, limits: { secondaryPerMinute: 3, secondaryPerHour: 10, primaryLimit: 25 } }),
      startEmulator('github', { seed: 'empty', role: 'standby', limits: { secondaryPerMinute: 1, secondaryStatus: 429 } }),
    ]);
    await emu.mutate.createRepo('target');
    await emu429.mutate.createRepo('target');
  });
  afterAll(async () => {
    await Promise.all([emu?.stop(), emu429?.stop()]);
  });

  it('answers the secondary limit with 403, Retry-After and the documented message; the window is time-scaled', async () => {
    const gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
    const owner = emu.orgs[0] as string;
    for (let i = 0; i < 3; i++) await gh.rest.issues.create({ owner, repo: 'target', title: `ok ${i}` });
    const e = await failure(gh.rest.issues.create({ owner, repo: 'target', title: 'too many' }));
    expect(e.status).toBe(403);
    spec.assertResponse('post', '/repos/{owner}/{repo}/issues', 403, e.response?.data);
    expect(e.message).toMatch(/You have exceeded a secondary rate limit/);
    const retryAfter = Number(e.response?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(1); // a minute lasts one second at timeScale 60
    expect(emu.stats().throttledSecondary).toBe(1);
    // reads are not content creation
    await gh.rest.issues.listForRepo({ owner, repo: 'target' });
    emu.mutate.advanceClock(1_001);
    const again = await gh.rest.issues.create({ owner, repo: 'target', title: 'after the window' });
    expect(again.status).toBe(201);
    expect(again.data.number).toBe(4);
  });

  it('can answer 429 instead, and @octokit/plugin-throttling recognises it as a secondary limit', async () => {
    const Throttled = Octokit.plugin(throttling);
    const seen: number[] = [];
    const gh = new Throttled({
      auth: emu429.credentials.token,
      baseUrl: emu429.baseUrl,
      log,
      throttle: {
        onRateLimit: () => false,
        onSecondaryRateLimit: (retryAfter: number) => {
          seen.push(retryAfter);
          return false;
        },
      },
    });
    const owner = emu429.orgs[0] as string;
    await gh.rest.issues.create({ owner, repo: 'target', title: 'first' });
    const e = await failure(gh.rest.issues.create({ owner, repo: 'target', title: 'second' }));
    expect(e.status).toBe(429);
    const retryAfter = Number(e.response?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(seen).toEqual([retryAfter]);
  });

  it('enforces the primary limit with x-ratelimit headers; GET /rate_limit and 304s are free', async () => {
    const gh = new Octokit({ auth: emu.credentials.token, baseUrl: emu.baseUrl, log });
    const owner = emu.orgs[0] as string;
    const first = await gh.rest.repos.get({ owner, repo: 'target' });
    const etag = String(first.headers.etag);
    let remaining = Number(first.headers['x-ratelimit-remaining']);
    const reset = Number(first.headers['x-ratelimit-reset']);
    expect(reset * 1000).toBeGreaterThan(emu.state.now());
    expect(reset * 1000).toBeLessThanOrEqual(emu.state.now() + 61_000);
    const rl = await gh.rest.rateLimit.get();
    expect(rl.data.resources.core.remaining).toBe(remaining);
    expect(Number(rl.headers['x-ratelimit-remaining'])).toBe(remaining);
    const notModified = await failure(gh.rest.repos.get({ owner, repo: 'target', headers: { 'if-none-match': etag } }));
    expect(notModified.status).toBe(304);
    expect(Number(notModified.response?.headers['x-ratelimit-remaining'])).toBe(remaining);
    while (remaining > 0) {
      const r = await gh.rest.repos.get({ owner, repo: 'target' }).catch((e: RequestError) => e.response);
      remaining = Number(r?.headers['x-ratelimit-remaining']);
    }
    const e = await failure(gh.rest.repos.get({ owner, repo: 'target' }));
    expect(e.status).toBe(403);
    expect(e.response?.headers['x-ratelimit-remaining']).toBe('0');
    expect(e.response?.headers['x-ratelimit-used']).toBe('25');
    expect(e.message).toMatch(/API rate limit exceeded for user ID \d+/);
    spec.assertResponse('get', '/repos/{owner}/{repo}', 403, e.response?.data);
    emu.mutate.advanceClock(60_001); // one scaled hour
    const ok = await gh.rest.repos.get({ owner, repo: 'target' });
    expect(ok.headers['x-ratelimit-used']).toBe('1');
    expect(emu.stats().throttledPrimary).toBe(1);
  });
});
