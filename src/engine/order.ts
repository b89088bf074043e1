import type { KindSpec } from '../model/kinds.js';
import type { ChangeRecord } from '../model/records.js';

/** Kinds in dependency order (dependencies first); declaration order breaks ties. Throws on a cycle. */
export function kindOrder(kinds: readonly KindSpec[]): string[] {
  const byName = new Map(kinds.map((k) => [k.kind, k]));
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`kind dependency cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.dependsOn ?? []) if (byName.has(dep)) visit(dep, [...path, name]);
    state.set(name, 'done');
    out.push(name);
  };
  for (const k of kinds) visit(k.kind, []);
  return out;
}

/**
 * The records an import must apply: the latest record per item (older ones are superseded),
 * grouped by kind in dependency order, seq order within a kind. Unknown kinds go last.
 */
export function importBatch(records: Iterable<ChangeRecord>, kinds: readonly KindSpec[]): ChangeRecord[] {
  const latest = new Map<string, ChangeRecord>();
  for (const r of records) {
    const key = `${r.kind}\u0000${r.id}`;
    const prev = latest.get(key);
    if (!prev || prev.seq < r.seq) latest.set(key, r);
  }
  const order = kindOrder(kinds);
  const rank = new Map(order.map((k, i) => [k, i]));
  return [...latest.values()].sort((a, b) => (rank.get(a.kind) ?? order.length) - (rank.get(b.kind) ?? order.length) || a.seq - b.seq);
}
