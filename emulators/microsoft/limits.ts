/**
 * Outlook's throttling of an app per mailbox, as Microsoft Graph documents it:
 *   - at most 4 concurrent requests per app per mailbox (`MailboxConcurrency`);
 *   - at most 10,000 requests per app per mailbox in a 10-minute window;
 * answered with 429, `Retry-After` (seconds) and code `ApplicationThrottled`. Mail, calendar and
 * contacts requests of one mailbox share the limits; OneDrive and directory requests do not count.
 *
 * `timeScale` shortens the window (100 makes 10 minutes last 6 seconds) so tests and benchmarks can
 * cross it; the budget per window stays the same.
 */

export interface MailboxLimitOptions {
  /** Concurrent requests per app per mailbox; Graph: 4. 0 = unlimited. */
  concurrency: number;
  /** Requests per app per mailbox per window; Graph: 10,000. 0 = unlimited. */
  requestsPerWindow: number;
  /** Window length in ms before scaling; Graph: 10 minutes. */
  windowMs: number;
  /** Divides the window length. */
  timeScale: number;
}

export const GRAPH_MAILBOX_LIMITS: MailboxLimitOptions = { concurrency: 4, requestsPerWindow: 10_000, windowMs: 600_000, timeScale: 1 };

export interface MailboxCounters {
  requests: number;
  throttledConcurrency: number;
  throttledBudget: number;
  peakConcurrency: number;
}

interface Slot {
  inFlight: number;
  windowStart: number;
  used: number;
  counters: MailboxCounters;
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: 'concurrency' | 'budget'; retryAfter: number; message: string };

export class MailboxLimiter {
  private slots = new Map<string, Slot>();

  constructor(
    public opts: MailboxLimitOptions = GRAPH_MAILBOX_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get windowLengthMs(): number {
    return this.opts.windowMs / Math.max(this.opts.timeScale, 1e-9);
  }

  private slot(key: string): Slot {
    let s = this.slots.get(key);
    if (!s) {
      s = { inFlight: 0, windowStart: this.now(), used: 0, counters: { requests: 0, throttledConcurrency: 0, throttledBudget: 0, peakConcurrency: 0 } };
      this.slots.set(key, s);
    }
    return s;
  }

  /** Admit one request of an app to a mailbox, or say why not and when to come back. */
  enter(key: string): Admission {
    const s = this.slot(key);
    const now = this.now();
    if (now - s.windowStart >= this.windowLengthMs) {
      s.windowStart = now;
      s.used = 0;
    }
    if (this.opts.concurrency > 0 && s.inFlight >= this.opts.concurrency) {
      s.counters.throttledConcurrency++;
      return { ok: false, reason: 'concurrency', retryAfter: 1, message: 'Application is over its MailboxConcurrency limit.' };
    }
    if (this.opts.requestsPerWindow > 0 && s.used >= this.opts.requestsPerWindow) {
      s.counters.throttledBudget++;
      const retryAfter = Math.max(1, Math.ceil((s.windowStart + this.windowLengthMs - now) / 1000));
      return { ok: false, reason: 'budget', retryAfter, message: 'Application is over its request limit for this mailbox (10,000 requests per 10 minutes).' };
    }
    s.used++;
    s.inFlight++;
    s.counters.requests++;
    if (s.inFlight > s.counters.peakConcurrency) s.counters.peakConcurrency = s.inFlight;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        s.inFlight--;
      },
    };
  }

  counters(): Record<string, MailboxCounters> {
    return Object.fromEntries([...this.slots].map(([k, s]) => [k, { ...s.counters }]));
  }

  reset(): void {
    this.slots.clear();
  }
}
