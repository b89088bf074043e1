import { formatBytes, formatDuration } from '../metrics/types.js';
import type { Possession } from './data.js';

export { formatBytes, formatDuration };

/** 2026-03-08 11:40Z (minutes; UTC, so the report reads the same everywhere). null -> 'never'. */
export function formatTime(iso: string | null): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)}Z`;
}

export const POSSESSION_LABEL: Record<Possession, string> = {
  'possessed-and-restorable': 'possessed, restorable',
  'possessed-but-not-restorable': 'possessed, not restorable',
  'not-possessed': 'not possessed',
};

export function formatCount(n: number | null): string {
  if (n === null) return '-';
  return n.toLocaleString('en-US');
}

export function formatRatio(r: number | null): string {
  if (r === null) return '-';
  return r >= 10 ? `${Math.round(r).toLocaleString('en-US')}x` : `${r.toFixed(1)}x`;
}

export function formatRate(perSec: number | null, unit: string): string {
  if (perSec === null) return '-';
  const v = perSec >= 100 ? perSec.toFixed(0) : perSec >= 1 ? perSec.toFixed(1) : perSec.toPrecision(2);
  return `${v} ${unit}/s`;
}

/** The RPO cell: value or 'never', or why there is none. */
export function rpoCell(rpoMs: number | null, status: string): string {
  if (status === 'not-restorable') return 'n/a (not restorable)';
  if (status === 'no-data') return 'no items';
  return rpoMs === null ? 'never proven' : formatDuration(rpoMs);
}

export function objectiveCell(ms: number | null): string {
  return ms === null ? 'none' : formatDuration(ms);
}
