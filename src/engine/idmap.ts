import type { IdMap } from '../model/connector.js';
import type { IdMapEntry, IdMapSnapshot } from '../model/records.js';

/** The mutable id map of one import run, loaded from and saved to a committed snapshot. */
export class MemoryIdMap implements IdMap {
  private readonly kinds = new Map<string, Map<string, IdMapEntry>>();
  changed = 0;

  constructor(snapshot: IdMapSnapshot = {}) {
    for (const [kind, entries] of Object.entries(snapshot)) {
      this.kinds.set(kind, new Map(Object.entries(entries)));
    }
  }

  get(kind: string, sourceId: string): IdMapEntry | undefined {
    return this.kinds.get(kind)?.get(sourceId);
  }

  set(kind: string, sourceId: string, entry: IdMapEntry): void {
    let m = this.kinds.get(kind);
    if (!m) this.kinds.set(kind, (m = new Map()));
    m.set(sourceId, { standbyId: entry.standbyId, version: entry.version });
    this.changed++;
  }

  delete(kind: string, sourceId: string): void {
    if (this.kinds.get(kind)?.delete(sourceId)) this.changed++;
  }

  entries(kind: string): IterableIterator<[string, IdMapEntry]> {
    return (this.kinds.get(kind) ?? new Map<string, IdMapEntry>()).entries();
  }

  size(): number {
    let n = 0;
    for (const m of this.kinds.values()) n += m.size;
    return n;
  }

  snapshot(): IdMapSnapshot {
    const out: IdMapSnapshot = {};
    for (const [kind, m] of [...this.kinds.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (m.size) out[kind] = Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
    }
    return out;
  }
}
