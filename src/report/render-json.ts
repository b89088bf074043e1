import type { ReportData } from './data.js';

/** The report as JSON (stable key order as built; durations in ms, null = never / unknown / none). */
export function renderJson(data: ReportData): string {
  return JSON.stringify(data, null, 2) + '\n';
}
