import { describe, expect, it } from 'vitest';
import { differingFields, getPath, pickFields, stableStringify } from './compare.js';

describe('compare', () => {
  it('reads dotted paths', () => {
    expect(getPath({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
  });
  it('serializes key order independently', () => {
    expect(stableStringify({ b: 1, a: [{ y: 1, x: 2 }] })).toBe(stableStringify({ a: [{ x: 2, y: 1 }], b: 1 }));
  });
  it('lists only preserved fields that differ, null equals missing', () => {
    const stored = { title: 'x', body: 'b', author: 'alice', milestone: null, labels: ['a', 'b'] };
    const standby = { title: 'x', body: 'changed', author: 'bot', labels: ['a', 'b'] };
    expect(differingFields(stored, standby, ['title', 'body', 'milestone', 'labels'])).toEqual(['body']);
    expect(pickFields(stored, ['title', 'nope'])).toEqual({ title: 'x', nope: null });
  });
});
