import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { QuotaKeeper } from './quota.js';

describe('quota', () => {
  it('admits Gmail units up to the per-user ceiling per second, then refuses with userRateLimitExceeded', () => {
    let now = 1_000_000;
    const q = new QuotaKeeper({ gmailUnitsPerSecond: 50 }, () => now);
    q.charge('gmail.users.messages.import', 'a@x'); // 25
    q.charge('gmail.users.messages.import', 'a@x'); // 50
    let err: unknown;
    try {
      q.charge('gmail.users.messages.get', 'a@x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(403);
    expect((err as ApiError).errors[0]?.reason).toBe('userRateLimitExceeded');
    expect((err as ApiError).message).toMatch(/Retry after 1970-01-01T00:16:41/);
    q.charge('gmail.users.messages.get', 'b@x'); // other users have their own budget
    now += 1000;
    q.charge('gmail.users.messages.get', 'a@x');
    expect(q.use.used['gmail:a@x']).toBe(55);
    expect(q.use.throttled['gmail:a@x']).toBe(1);
  });
  it('answers 429 rateLimitExceeded when configured, and scales windows', () => {
    let now = 0;
    const q = new QuotaKeeper({ calendarRequestsPerMinute: 2, status: 429, timeScale: 60 }, () => now);
    q.charge('calendar.events.list', 'u');
    q.charge('calendar.events.list', 'u');
    expect(() => q.charge('calendar.events.list', 'u')).toThrow(/User-rate limit exceeded/);
    now += 1001; // a minute at timeScale 60
    q.charge('calendar.events.list', 'u');
  });
});
