import { describe, expect, it } from 'vitest';
import { Pacer, classify } from './client.js';

const gaxiosError = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ message: 'Request failed', response: { status, data: body, headers: new Headers(headers) } });

describe('classify (the one retry decision)', () => {
  it('sorts rate limits, retryable, auth and fatal answers', () => {
    const retryAt = new Date(Date.now() + 3000).toISOString();
    const quota = classify(gaxiosError(403, { error: { code: 403, message: `User-rate limit exceeded.  Retry after ${retryAt}`, errors: [{ reason: 'userRateLimitExceeded' }] } }));
    expect(quota.type).toBe('rate');
    expect(quota.waitMs).toBeGreaterThan(2000);
    expect(quota.waitMs).toBeLessThanOrEqual(3000);
    expect(classify(gaxiosError(429, { error: { errors: [{ reason: 'rateLimitExceeded' }] } }, { 'Retry-After': '2' })).waitMs).toBe(2000);
    expect(classify(gaxiosError(503, { error: { errors: [{ reason: 'backendError' }] } })).type).toBe('retry');
    expect(classify(gaxiosError(403, { error: { errors: [{ reason: 'insufficientPermissions' }] } })).type).toBe('fatal');
    expect(classify(gaxiosError(404, { error: { errors: [{ reason: 'notFound' }] } })).type).toBe('fatal');
    expect(classify(gaxiosError(401, { error: { errors: [{ reason: 'authError' }] } })).type).toBe('auth');
    expect(classify(Object.assign(new Error('request to http://x failed, reason: socket hang up'), { code: 'ECONNRESET' })).type).toBe('retry');
    expect(classify(gaxiosError(400, { error: 'invalid_grant', error_description: 'Invalid email or User ID' })).message).toMatch(/invalid_grant: Invalid email/);
  });
});

describe('pacer', () => {
  it('counts a call from its sending until a window after its answer, so the server never sees more than the ceiling', async () => {
    let now = 0;
    const slept: number[] = [];
    const p = new Pacer(1000, 50, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    const a = await p.take(25);
    expect(a.waited).toBe(0);
    now += 100;
    a.done(); // answered at t=100: counts until 1100
    const b = await p.take(25);
    expect(b.waited).toBe(0);
    now += 50;
    b.done(); // answered at t=150
    // The third call waits until the first left the window (t = 1101).
    const c = await p.take(25);
    expect(c.waited).toBe(951);
    c.done();
    expect(now).toBe(1101);
    p.block(now + 300);
    expect((await p.take(1)).waited).toBe(300);
    expect(slept).toEqual([951, 300]);
  });

  it('never lets a call in flight leave the window', async () => {
    let now = 0;
    const p = new Pacer(1000, 10, () => now, async (ms) => {
      now += ms;
      await new Promise((r) => setImmediate(r));
    });
    await p.take(10); // never answered
    const ac = new AbortController();
    const pending = p.take(1, ac.signal);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(now).toBeGreaterThan(0);
    ac.abort();
    await expect(pending).rejects.toThrow();
  });
});
