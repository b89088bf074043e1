import type { KindSpec, Service } from '../model/kinds.js';

/** Objectives of a source or kind, in ms. A non-finite value (Infinity) means "no objective set". */
export interface Objectives {
  rpoMs: number;
  rtoMs: number;
}

/** One configured source, as the metrics need it (objectives are plain numbers: no config dependency). */
export interface MetricsSource {
  /** The configured source name, shown everywhere. */
  name: string;
  /**
   * The name the storage keys this source's runs by, when it differs from `name` (after a failover the
   * engine keys a new direction as '<name>.g<generation>'). Default: name.
   */
  key?: string;
  /** Defaults to the service of the first kind. */
  service?: Service;
  kinds: readonly KindSpec[];
  /** Objectives of the source (no kind) or of one kind (falls back to the source's in the config). */
  objectives: (kind?: string) => Objectives;
  /**
   * The scopes to account for. Default: every scope of the source with a committed run. Give the
   * connector's current scope ids to make a scope never exported count as never proven, and to leave
   * out scopes that no longer exist at the source.
   */
  scopes?: readonly string[];
  /** Scopes worked at once by the engine's pool for this source (classic RTO projection). Default 4. */
  concurrency?: number;
}

/** An objective that is not met: the CLI exits non-zero when the list is not empty. */
export interface ObjectiveMiss {
  source: string;
  /** null: the source as a whole. */
  kind: string | null;
  /** The scope that makes it miss (the worst one), when there is one. */
  scope: string | null;
  metric: 'rpo' | 'rto';
  /** Measured value; null = never proven / never measured (infinite). */
  valueMs: number | null;
  objectiveMs: number;
  /** One line for the admin: what missed and what to do. */
  message: string;
}

export function objectiveOrNull(ms: number): number | null {
  return Number.isFinite(ms) ? ms : null;
}

/** An objective is met when none is set, or when a value is known and within it. */
export function meets(valueMs: number | null, objectiveMs: number | null): boolean {
  if (objectiveMs === null) return true;
  return valueMs !== null && valueMs <= objectiveMs;
}

export function storageKey(source: MetricsSource): string {
  return source.key ?? source.name;
}

export function serviceOf(source: MetricsSource): Service | undefined {
  return source.service ?? source.kinds[0]?.service;
}

/** Compact human duration: 850ms, 12.3s, 4m 05s, 3h 12m, 2d 04h. null = never. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'never';
  if (!Number.isFinite(ms)) return '∞';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) s = `${Math.round(a)}ms`;
  else if (a < 60_000) s = `${(a / 1000).toFixed(a < 10_000 ? 2 : 1)}s`;
  else if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    s = `${m}m ${String(Math.floor((a - m * 60_000) / 1000)).padStart(2, '0')}s`;
  } else if (a < 86_400_000) {
    const h = Math.floor(a / 3_600_000);
    s = `${h}h ${String(Math.floor((a - h * 3_600_000) / 60_000)).padStart(2, '0')}m`;
  } else {
    const d = Math.floor(a / 86_400_000);
    s = `${d}d ${String(Math.floor((a - d * 86_400_000) / 3_600_000)).padStart(2, '0')}h`;
  }
  return neg ? `-${s}` : s;
}

/** Binary byte units: 512 B, 1.5 KiB, 3.2 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
