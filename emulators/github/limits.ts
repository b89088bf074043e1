/**
 * GitHub's REST rate limits as the emulator enforces them.
 *
 * Primary: a fixed hourly window per identity (a user's tokens share one budget, an app
 * installation's tokens share one), answered with x-ratelimit-limit/-remaining/-used/-reset/-resource
 * on every response; a 304 to a conditional request is not counted; when the budget is spent,
 * 403 (or 429) with x-ratelimit-remaining: 0.
 *
 * Secondary: content-creating requests per identity, 80 per minute and 500 per hour by default,
 * answered with 403 (or 429) and Retry-After and the documented "secondary rate limit" message.
 *
 * `timeScale` shortens every window (60 makes a minute last one second) so tests can cross them.
 */

export interface LimitOptions {
  /** requests per hour per user (personal access tokens); GitHub: 5,000 */
  primaryLimit: number;
  /** requests per hour per app installation; GitHub: 5,000 rising to 12,500 (15,000 on Enterprise Cloud) */
  installationLimit: number;
  /** requests per hour for unauthenticated callers; GitHub: 60 */
  anonymousLimit: number;
  /** status for an exhausted primary limit: GitHub answers 403 or 429 */
  primaryStatus: 403 | 429;
  /** content-creating requests per minute; GitHub: 80 */
  secondaryPerMinute: number;
  /** content-creating requests per hour; GitHub: 500 */
  secondaryPerHour: number;
  /** status for a secondary limit: GitHub answers 403 or 429 */
  secondaryStatus: 403 | 429;
  /** lifetime of installation access tokens in seconds; GitHub: 3600 (not scaled) */
  installationTokenTtlSeconds: number;
}

export const DEFAULT_LIMITS: LimitOptions = {
  primaryLimit: 5000,
  installationLimit: 5000,
  anonymousLimit: 60,
  primaryStatus: 403,
  secondaryPerMinute: 80,
  secondaryPerHour: 500,
  secondaryStatus: 403,
  installationTokenTtlSeconds: 3600,
};

export interface PrimaryState {
  limit: number;
  remaining: number;
  used: number;
  /** epoch seconds */
  reset: number;
  resource: 'core';
}

interface Window {
  start: number;
  used: number;
}

export class RateLimiter {
  readonly opts: LimitOptions;
  private readonly timeScale: number;
  private readonly now: () => number;
  private readonly primary = new Map<string, Window>();
  private readonly creations = new Map<string, number[]>();

  constructor(opts: Partial<LimitOptions>, timeScale: number, now: () => number) {
    this.opts = { ...DEFAULT_LIMITS, ...opts };
    if (!(timeScale > 0)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
    this.timeScale = timeScale;
    this.now = now;
  }

  get hourMs(): number {
    return 3_600_000 / this.timeScale;
  }

  get minuteMs(): number {
    return 60_000 / this.timeScale;
  }

  private window(key: string): Window {
    const now = this.now();
    let w = this.primary.get(key);
    if (!w || now >= w.start + this.hourMs) {
      w = { start: now, used: 0 };
      this.primary.set(key, w);
    }
    return w;
  }

  /** Current primary-limit figures for an identity (without counting). */
  peek(key: string, limit: number): PrimaryState {
    const w = this.window(key);
    return {
      limit,
      used: w.used,
      remaining: Math.max(0, limit - w.used),
      reset: Math.ceil((w.start + this.hourMs) / 1000),
      resource: 'core',
    };
  }

  /** Count one request. */
  consume(key: string): void {
    this.window(key).used++;
  }

  /** Seconds until the primary window resets. */
  secondsToReset(key: string): number {
    const w = this.window(key);
    return Math.max(1, Math.ceil((w.start + this.hourMs - this.now()) / 1000));
  }

  /**
   * Check the secondary (content-creation) limit. Returns null and records the creation when
   * allowed, or the seconds to wait when over the limit.
   */
  checkCreation(key: string): null | { retryAfter: number; window: 'minute' | 'hour' } {
    const now = this.now();
    const list = (this.creations.get(key) ?? []).filter((t) => t > now - this.hourMs);
    this.creations.set(key, list);
    const inMinute = list.filter((t) => t > now - this.minuteMs);
    if (inMinute.length >= this.opts.secondaryPerMinute) {
      const oldest = inMinute[inMinute.length - this.opts.secondaryPerMinute] ?? now;
      return { retryAfter: Math.max(1, Math.ceil((oldest + this.minuteMs - now) / 1000)), window: 'minute' };
    }
    if (list.length >= this.opts.secondaryPerHour) {
      const oldest = list[list.length - this.opts.secondaryPerHour] ?? now;
      return { retryAfter: Math.max(1, Math.ceil((oldest + this.hourMs - now) / 1000)), window: 'hour' };
    }
    list.push(now);
    return null;
  }

  /** Content-creating requests seen in the last (scaled) minute, for diagnostics. */
  creationsInLastMinute(key: string): number {
    const now = this.now();
    return (this.creations.get(key) ?? []).filter((t) => t > now - this.minuteMs).length;
  }
}
