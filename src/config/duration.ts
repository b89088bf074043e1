/**
 * Durations in the config: '500ms', '30s', '5m', '1h', '2d', '1w', combined largest first or in
 * any order ('1h30m', '1d 12h'), decimals allowed ('1.5h'). Parsed to milliseconds.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;

export const DURATION_HINT = 'expected a duration like 15m or 1h';

/** Milliseconds, or null when the text is not a duration. */
export function tryParseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  let pos = 0;
  let total = 0;
  const seen = new Set<string>();
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return null;
    const unit = m[2] as string;
    if (seen.has(unit)) return null;
    seen.add(unit);
    total += Number(m[1]) * (UNIT_MS[unit] as number);
    pos = PART.lastIndex;
    while (s[pos] === ' ') pos++;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) return null;
  return Math.round(total);
}

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/** Milliseconds; throws DurationError('expected a duration like 15m or 1h, got "abc"'). */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === null) throw new DurationError(`${DURATION_HINT}, got ${JSON.stringify(text)}`);
  return ms;
}

/** A short human string that parseDuration reads back to the same value: 5400000 -> '1h30m', 0 -> '0s'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit] as number;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return sign + out;
}
