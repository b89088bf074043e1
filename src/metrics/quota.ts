import type { Service } from '../model/kinds.js';

/**
 * The standby's quota model for one service: the write budgets that bound how fast a classic restore
 * (everything re-imported into an empty standby) can possibly go, whatever the measured import rate.
 * Numbers from ../shared/API-FACTS.md (the services' documentation); quotas change, so every limit
 * says where it comes from, and a config may replace the defaults.
 */
export interface QuotaLimit {
  /** Human name, shown in the report's assumptions (e.g. 'GitHub content creation per minute'). */
  name: string;
  /** Budget per window, in units (or bytes when measure is 'bytes'). */
  units: number;
  windowMs: number;
  /** 'scope': each scope (mailbox, user drive) has its own budget; 'account': one budget for the whole standby. */
  per: 'scope' | 'account';
  /** What is counted: units per imported item (cost), or content bytes. */
  measure: 'items' | 'bytes';
  /**
   * Units per imported item, by kind: exact kind names or prefix patterns ending in '*' ('gmail.*'),
   * '*' for every other kind of the service; the longest matching pattern wins. A kind that matches no
   * key is not under this limit; a cost of 0 exempts it. With measure 'bytes' the cost multiplies bytes
   * (1 counts them, 0 exempts). Absent: every kind costs 1.
   */
  cost?: Record<string, number>;
  /** Where the number comes from. */
  ref: string;
}

export interface QuotaModel {
  service: Service;
  limits: QuotaLimit[];
  /** Facts the projection cannot model but the reader should know (e.g. concurrency caps). */
  notes?: string[];
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const GITHUB_QUOTA: QuotaModel = {
  service: 'github',
  limits: [
    {
      name: 'GitHub secondary limit: content-creating requests per minute',
      units: 80,
      windowMs: MIN,
      per: 'account',
      measure: 'items',
      // Git data is pushed over git, which is not a content-creating REST request.
      cost: { 'github.git': 0, 'github.wiki': 0, 'github.*': 1 },
      ref: 'GitHub REST secondary rate limits: <= 80 content-creating requests/min',
    },
    {
      name: 'GitHub secondary limit: content-creating requests per hour',
      units: 500,
      windowMs: HOUR,
      per: 'account',
      measure: 'items',
      cost: { 'github.git': 0, 'github.wiki': 0, 'github.*': 1 },
      ref: 'GitHub REST secondary rate limits: <= 500 content-creating requests/h',
    },
  ],
  notes: ['GitHub: one content-creating request per imported issue, comment, label, milestone or release assumed; git data is pushed and not counted.'],
};

const GMAIL_COST = { 'gmail.message': 25, 'gmail.label': 5, 'gmail.*': 5 };

/** Google with the historical per-user Gmail ceiling (250 units/s). */
export const GOOGLE_QUOTA: QuotaModel = {
  service: 'google',
  limits: [
    {
      name: 'Gmail quota units per user (250/s)',
      units: 250,
      windowMs: 1000,
      per: 'scope',
      measure: 'items',
      cost: GMAIL_COST,
      ref: 'Gmail API: messages.import 25 units, labels.create 5; 250 units/s per user',
    },
    {
      name: 'Drive queries per user per minute',
      units: 12_000,
      windowMs: MIN,
      per: 'scope',
      measure: 'items',
      cost: { 'drive.*': 1 },
      ref: 'Drive API: 12,000 queries per 60 s per user',
    },
    {
      name: 'Drive upload bytes per user per day',
      units: 750 * 1024 ** 3,
      windowMs: DAY,
      per: 'scope',
      measure: 'bytes',
      cost: { 'drive.*': 1 },
      ref: 'Drive: 750 GB/day upload per user',
    },
    {
      name: 'Calendar requests per user per minute',
      units: 600,
      windowMs: MIN,
      per: 'scope',
      measure: 'items',
      cost: { 'calendar.*': 1 },
      ref: 'Calendar API: 600 requests/min per user',
    },
    {
      name: 'Admin SDK Directory writes per minute',
      units: 2_400,
      windowMs: MIN,
      per: 'account',
      measure: 'items',
      cost: { 'directory.*': 1, 'admin.*': 1 },
      ref: 'Admin SDK Directory: 2,400 requests/min',
    },
  ],
};

/** Google for projects created from May 2026: Gmail 6,000 units/min per user. */
export const GOOGLE_NEW_PROJECT_QUOTA: QuotaModel = {
  ...GOOGLE_QUOTA,
  limits: GOOGLE_QUOTA.limits.map((l) =>
    l.cost === GMAIL_COST
      ? { ...l, name: 'Gmail quota units per user (6,000/min, new projects)', units: 6_000, windowMs: MIN, ref: 'Gmail API: 25 units per import; 6,000 units/min per user for new projects' }
      : l,
  ),
};

export const MICROSOFT_QUOTA: QuotaModel = {
  service: 'microsoft',
  limits: [
    {
      name: 'Outlook requests per app per mailbox (10,000 / 10 min)',
      units: 10_000,
      windowMs: 10 * MIN,
      per: 'scope',
      measure: 'items',
      // Mail, calendar and contacts live in the mailbox; OneDrive has its own (unpublished) budget.
      cost: { 'onedrive.*': 0, 'graph.*': 1, 'outlook.*': 1, 'exchange.*': 1 },
      ref: 'Microsoft Graph Outlook limits: 10,000 requests per 10 minutes per app per mailbox',
    },
    {
      name: 'Outlook upload bytes per mailbox (150 MB / 5 min)',
      units: 150 * 1024 ** 2,
      windowMs: 5 * MIN,
      per: 'scope',
      measure: 'bytes',
      cost: { 'onedrive.*': 0, 'graph.*': 1, 'outlook.*': 1, 'exchange.*': 1 },
      ref: 'Microsoft Graph Outlook limits: 150 MB upload per 5 minutes per mailbox',
    },
  ],
  notes: ['Microsoft Graph: at most 4 concurrent requests per mailbox (MailboxConcurrency); the measured import rate already reflects it.'],
};

export const DEFAULT_QUOTAS: Record<Service, QuotaModel> = {
  github: GITHUB_QUOTA,
  google: GOOGLE_QUOTA,
  microsoft: MICROSOFT_QUOTA,
};

/** Units per item of `kind` under `limit`, or null when the limit does not apply to the kind. */
export function costOf(limit: QuotaLimit, kind: string): number | null {
  const cost = limit.cost;
  if (!cost) return 1;
  if (kind in cost) return cost[kind] ?? null;
  let best: { len: number; value: number } | null = null;
  for (const [pattern, value] of Object.entries(cost)) {
    if (!pattern.endsWith('*')) continue;
    const prefix = pattern.slice(0, -1);
    if (kind.startsWith(prefix) && (best === null || prefix.length > best.len)) best = { len: prefix.length, value };
  }
  return best ? best.value : null;
}

/**
 * Shortest time to spend `units` under a fixed-window budget of `limit.units` per `limit.windowMs`:
 * the first window is full (a burst), every further window adds one budget.
 */
export function quotaTimeMs(units: number, limit: Pick<QuotaLimit, 'units' | 'windowMs'>): number {
  if (units <= 0 || limit.units <= 0) return 0;
  return (Math.ceil(units / limit.units) - 1) * limit.windowMs;
}
