import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration, tryParseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1d 12h', 129_600_000],
    ['1.5h', 5_400_000],
    [' 15m ', 900_000],
    ['0s', 0],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '15', 'm', '1x', '-5m', '5m5m', '1h foo', '1.h', 'h1'])('rejects %j', (text) => {
    expect(tryParseDuration(text)).toBeNull();
    expect(() => parseDuration(text)).toThrow(DurationError);
  });

  it('says what it expected and what it got', () => {
    expect(() => parseDuration('abc')).toThrow('expected a duration like 15m or 1h, got "abc"');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1s500ms'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [7_776_000_000, '90d'],
    [93_784_005, '1d2h3m4s5ms'],
    [-60_000, '-1m'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('reads back to the same value', () => {
    for (const ms of [1, 999, 1_000, 61_000, 3_599_999, 86_400_001, 123_456_789]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
