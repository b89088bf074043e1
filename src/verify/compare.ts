/** Field-level comparison of normalized items on a kind's preserved fields. */

/** Read a dotted path ('labels', 'head.ref') from a normalized object. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** JSON with sorted keys, so equal values serialize equally. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** The preserved fields on which the two normalized forms differ (undefined and null are equal). */
export function differingFields(stored: Record<string, unknown>, standby: Record<string, unknown>, preserved: readonly string[]): string[] {
  const diff: string[] = [];
  for (const field of preserved) {
    const a = getPath(stored, field) ?? null;
    const b = getPath(standby, field) ?? null;
    if (stableStringify(a) !== stableStringify(b)) diff.push(field);
  }
  return diff;
}

/** Only the preserved fields, for digests and for showing a mismatch. */
export function pickFields(obj: Record<string, unknown>, preserved: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of preserved) out[field] = getPath(obj, field) ?? null;
  return out;
}
