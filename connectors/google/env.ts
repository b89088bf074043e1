/** What export, import and verification share: the two tenants' clients, identity, options. */
import { createHash } from 'node:crypto';
import type { Logger } from '../../src/model/connector.js';
import type { GoogleClient } from './client.js';
import type { IdentityMap } from './types.js';

export interface GoogleEnv {
  source: GoogleClient;
  standby: GoogleClient;
  identity: IdentityMap;
  convertOfficeToNative: boolean;
  sourceAdmin: string;
  standbyAdmin: string;
  log: Logger;
  /** Standby users and groups known to exist (ensure* caches). */
  knownStandby: Set<string>;
}

/** JSON with sorted keys. */
export function stable(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value));
}

/** A short digest of a value, used as the version of items without a usable version marker. */
export function digest(value: unknown): string {
  return createHash('sha256').update(stable(value)).digest('hex').slice(0, 24);
}

/** Run fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const nowIso = (): string => new Date().toISOString();
