/**
 * Per-user quotas as Google enforces them (API-FACTS.md):
 * - Gmail: quota units per method (messages.list 5, get 5, history.list 2, import/insert 25, ...)
 *   against a per-user ceiling in units per second (historically 250; 6,000 per minute for newer
 *   projects): exceeded -> 403 userRateLimitExceeded, or 429 rateLimitExceeded.
 * - Drive: queries per 60 s per user (12,000); Calendar: requests per minute per user (600);
 *   Directory: requests per minute per project (2,400).
 * A sliding window per user and API; the window can be shortened by `timeScale` so tests can cross it.
 * Throttled requests do not count. The error message says when to retry, as Gmail's does.
 */
import { ApiError } from './errors.js';

/** Gmail quota units per method (Google's published table). */
export const GMAIL_UNITS: Record<string, number> = {
  'gmail.users.getProfile': 1,
  'gmail.users.labels.list': 1,
  'gmail.users.labels.get': 1,
  'gmail.users.labels.create': 5,
  'gmail.users.labels.patch': 5,
  'gmail.users.labels.delete': 5,
  'gmail.users.messages.list': 5,
  'gmail.users.messages.get': 5,
  'gmail.users.messages.attachments.get': 5,
  'gmail.users.messages.import': 25,
  'gmail.users.messages.insert': 25,
  'gmail.users.messages.modify': 5,
  'gmail.users.messages.trash': 5,
  'gmail.users.messages.untrash': 5,
  'gmail.users.messages.delete': 10,
  'gmail.users.history.list': 2,
};

export interface QuotaOptions {
  /** Enforce at all (default true). */
  enforce: boolean;
  /** Gmail units per user per second (default 250). */
  gmailUnitsPerSecond: number;
  /** Drive queries per user per 60 s (default 12,000). */
  driveQueriesPerMinute: number;
  /** Calendar requests per user per minute (default 600). */
  calendarRequestsPerMinute: number;
  /** Directory requests per minute for the project (default 2,400). */
  directoryRequestsPerMinute: number;
  /** Status of an exceeded per-user limit: 403 userRateLimitExceeded (default) or 429 rateLimitExceeded. */
  status: 403 | 429;
  /** Divides every window (60 makes a minute last a second). Default 1. */
  timeScale: number;
}

export const DEFAULT_QUOTA: QuotaOptions = {
  enforce: true,
  gmailUnitsPerSecond: 250,
  driveQueriesPerMinute: 12_000,
  calendarRequestsPerMinute: 600,
  directoryRequestsPerMinute: 2_400,
  status: 403,
  timeScale: 1,
};

interface Window {
  times: number[];
  units: number[];
  head: number;
  sum: number;
}

export interface QuotaUse {
  /** Units (or requests) admitted, per API and user. */
  used: Record<string, number>;
  /** Requests refused, per API and user. */
  throttled: Record<string, number>;
}

export class QuotaKeeper {
  opts: QuotaOptions;
  private readonly windows = new Map<string, Window>();
  readonly use: QuotaUse = { used: {}, throttled: {} };

  constructor(
    opts: Partial<QuotaOptions>,
    private readonly now: () => number,
  ) {
    this.opts = { ...DEFAULT_QUOTA, ...opts };
    if (!(this.opts.timeScale > 0)) throw new Error(`quota timeScale must be a positive number, got ${this.opts.timeScale}`);
  }

  configure(opts: Partial<QuotaOptions>): void {
    this.opts = { ...this.opts, ...opts };
    this.windows.clear();
  }

  private limitFor(methodId: string): { api: string; cost: number; ceiling: number; windowMs: number } {
    const api = methodId.split('.')[0] as string;
    const s = this.opts.timeScale;
    switch (api) {
      case 'gmail':
        return { api, cost: GMAIL_UNITS[methodId] ?? 5, ceiling: this.opts.gmailUnitsPerSecond, windowMs: 1000 / s };
      case 'drive':
        return { api, cost: 1, ceiling: this.opts.driveQueriesPerMinute, windowMs: 60_000 / s };
      case 'calendar':
        return { api, cost: 1, ceiling: this.opts.calendarRequestsPerMinute, windowMs: 60_000 / s };
      default:
        return { api, cost: 1, ceiling: this.opts.directoryRequestsPerMinute, windowMs: 60_000 / s };
    }
  }

  /** Admit one call or throw Google's rate-limit error. Directory limits are per project, the rest per user. */
  charge(methodId: string, user: string): void {
    const { api, cost, ceiling, windowMs } = this.limitFor(methodId);
    const key = api === 'directory' ? 'directory' : `${api}:${user}`;
    const now = this.now();
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = { times: [], units: [], head: 0, sum: 0 }));
    while (w.head < w.times.length && (w.times[w.head] as number) <= now - windowMs) {
      w.sum -= w.units[w.head] as number;
      w.head++;
    }
    if (w.head > 4096) {
      w.times = w.times.slice(w.head);
      w.units = w.units.slice(w.head);
      w.head = 0;
    }
    if (this.opts.enforce && w.sum + cost > ceiling) {
      this.use.throttled[key] = (this.use.throttled[key] ?? 0) + 1;
      // When enough units leave the window for this call to fit.
      let free = ceiling - w.sum;
      let at = now;
      for (let i = w.head; i < w.times.length && free < cost; i++) {
        free += w.units[i] as number;
        at = (w.times[i] as number) + windowMs;
      }
      const retryAt = new Date(Math.max(at, now + 1)).toISOString();
      if (this.opts.status === 429) {
        throw new ApiError(429, `User-rate limit exceeded.  Retry after ${retryAt}`, 'rateLimitExceeded', { domain: 'usageLimits' });
      }
      throw new ApiError(403, `User-rate limit exceeded.  Retry after ${retryAt}`, 'userRateLimitExceeded', { domain: 'usageLimits', itemMessage: 'User Rate Limit Exceeded' });
    }
    w.times.push(now);
    w.units.push(cost);
    w.sum += cost;
    this.use.used[key] = (this.use.used[key] ?? 0) + cost;
  }
}
