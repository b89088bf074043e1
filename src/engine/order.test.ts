import { describe, expect, it } from 'vitest';
import type { KindSpec } from '../model/kinds.js';
import type { ChangeRecord } from '../model/records.js';
import { importBatch, kindOrder } from './order.js';

const kind = (name: string, dependsOn: string[] = []): KindSpec => ({
  kind: name, service: 'github', title: name, dependsOn, possession: 'restorable', exportVia: 'x', fidelity: { preserved: [], lost: [] },
});
const rec = (kindName: string, id: string, seq: number, op: 'upsert' | 'delete' = 'upsert'): ChangeRecord => ({
  kind: kindName, id, seq, op, version: String(seq), sourceTime: '2026-01-01T00:00:00Z', observedAt: '2026-01-01T00:00:00Z',
});

describe('kindOrder', () => {
  it('puts dependencies first', () => {
    expect(kindOrder([kind('issue', ['label', 'milestone']), kind('comment', ['issue']), kind('label'), kind('milestone')])).toEqual(['label', 'milestone', 'issue', 'comment']);
  });
  it('rejects cycles with the path', () => {
    expect(() => kindOrder([kind('a', ['b']), kind('b', ['a'])])).toThrow(/a -> b -> a/);
  });
});

describe('importBatch', () => {
  it('keeps the latest record per item and orders by kind then seq', () => {
    const out = importBatch([rec('comment', '1', 1), rec('issue', '7', 2), rec('issue', '7', 5, 'delete'), rec('label', 'bug', 3)], [kind('label'), kind('issue', ['label']), kind('comment', ['issue'])]);
    expect(out.map((r) => `${r.kind}:${r.id}:${r.seq}:${r.op}`)).toEqual(['label:bug:3:upsert', 'issue:7:5:delete', 'comment:1:1:upsert']);
  });
});
