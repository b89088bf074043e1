import type { RpoHistory } from '../metrics/rpo.js';
import type { RtoReport } from '../metrics/rto.js';
import { formatDuration } from './format.js';

/** Server-side inline SVG charts for the HTML report: no script, no external resource. */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const DURATION_STEPS = [S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H, 3 * H, 6 * H, 12 * H, D, 2 * D, 7 * D, 14 * D, 30 * D, 90 * D, 365 * D];

/** A step from the list giving at most `max` ticks over [0, span]. */
function niceStep(span: number, max: number): number {
  for (const s of DURATION_STEPS) if (span / s <= max) return s;
  return Math.ceil(span / max / (365 * D)) * 365 * D;
}

/** Short axis label for a duration: 30s, 15m, 2h, 3d. */
function shortDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % D === 0) return `${ms / D}d`;
  if (ms % H === 0) return `${ms / H}h`;
  if (ms % M === 0) return `${ms / M}m`;
  if (ms % S === 0) return `${ms / S}s`;
  return formatDuration(ms);
}

const f1 = (n: number): string => (Math.round(n * 10) / 10).toString();

/**
 * Keeps a polyline small: per pixel column, the first, lowest, highest and last vertex (in order).
 * Enough to draw the same picture at this width.
 */
function decimate(pts: Array<[number, number]>): Array<[number, number]> {
  if (pts.length < 600) return pts;
  const out: Array<[number, number]> = [];
  let col: Array<[number, number]> = [];
  const flush = (): void => {
    if (!col.length) return;
    const first = col[0]!;
    const last = col[col.length - 1]!;
    let lo = first;
    let hi = first;
    for (const p of col) {
      if (p[1] < lo[1]) lo = p;
      if (p[1] > hi[1]) hi = p;
    }
    const keep = [first, lo, hi, last].filter((p, i, a) => a.indexOf(p) === i).sort((a, b) => col.indexOf(a) - col.indexOf(b));
    out.push(...keep);
    col = [];
  };
  let x = Math.floor(pts[0]![0]);
  for (const p of pts) {
    if (Math.floor(p[0]) !== x) {
      flush();
      x = Math.floor(p[0]);
    }
    col.push(p);
  }
  flush();
  return out;
}

export interface RpoChartOptions {
  id: string;
  now: Date;
  width?: number;
  height?: number;
}

/**
 * RPO over time of one kind: a sawtooth (the RPO grows 1:1 with time and drops at each verification
 * that proves a newer source time), the objective as a dashed line, stretches where the RPO was not
 * proven shaded, the part above the objective in red.
 */
export function rpoChart(h: RpoHistory, opts: RpoChartOptions): string {
  const W = opts.width ?? 560;
  const Ht = opts.height ?? 190;
  const ml = 52;
  const mr = 14;
  const mt = 14;
  const mb = 26;
  const pw = W - ml - mr;
  const ph = Ht - mt - mb;
  const nowMs = opts.now.getTime();
  const pts = h.points.map((p) => ({ at: Date.parse(p.at), thr: p.sourceTimeThrough === null ? null : Date.parse(p.sourceTimeThrough) }));
  const label = `RPO over time of ${h.kind} in ${h.source}`;
  if (!pts.length) {
    return `<svg class="chart" role="img" aria-label="${esc(label)}: no verification yet" viewBox="0 0 ${W} ${Ht}" width="${W}" height="${Ht}"><rect x="0.5" y="0.5" width="${W - 1}" height="${Ht - 1}" fill="#fafafa" stroke="#ddd"/><text x="${W / 2}" y="${Ht / 2}" text-anchor="middle" class="muted">no verification committed yet</text></svg>`;
  }
  const x0 = Math.min(pts[0]!.at, nowMs - H);
  const x1 = Math.max(nowMs, pts[pts.length - 1]!.at);
  // Vertices of the sawtooth (time, rpo) per proven stretch, and unproven stretches.
  const stretches: Array<Array<[number, number]>> = [];
  const unproven: Array<[number, number]> = [];
  let cur: Array<[number, number]> = [];
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const next = pts[i + 1];
    if (p.thr === null) {
      if (cur.length) stretches.push(cur);
      cur = [];
      if (next) unproven.push([p.at, next.at]);
      continue;
    }
    cur.push([p.at, p.at - p.thr]);
    if (next) cur.push([next.at, next.at - p.thr]);
  }
  if (cur.length) stretches.push(cur);
  if (pts[0]!.at > x0) unproven.unshift([x0, pts[0]!.at]);
  let ymax = h.objectiveMs ?? 0;
  for (const s of stretches) for (const [, v] of s) ymax = Math.max(ymax, v);
  ymax = Math.max(ymax * 1.12, M);
  const yStep = niceStep(ymax, 5);
  ymax = Math.ceil(ymax / yStep) * yStep;
  const X = (t: number): number => ml + ((t - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v: number): number => mt + ph - (v / ymax) * ph;
  const parts: string[] = [];
  parts.push(`<svg class="chart rpo-chart" role="img" aria-label="${esc(label)}" viewBox="0 0 ${W} ${Ht}" width="${W}" height="${Ht}">`);
  parts.push(`<title>${esc(label)}</title>`);
  parts.push(`<defs><clipPath id="${opts.id}-above"><rect x="${ml}" y="${mt}" width="${pw}" height="${f1(h.objectiveMs === null ? 0 : Math.max(0, Y(h.objectiveMs) - mt))}"/></clipPath><clipPath id="${opts.id}-plot"><rect x="${ml}" y="${mt}" width="${pw}" height="${ph}"/></clipPath></defs>`);
  parts.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="#fcfcfd" stroke="#e2e4e8"/>`);
  // Grid and y axis.
  for (let v = 0; v <= ymax + 1; v += yStep) {
    const y = f1(Y(v));
    parts.push(`<line x1="${ml}" x2="${ml + pw}" y1="${y}" y2="${y}" stroke="#eceef1"/><text x="${ml - 6}" y="${y}" dy="0.32em" text-anchor="end" class="tick">${esc(shortDuration(v))}</text>`);
  }
  // x axis: time of day (or dates for long spans), UTC.
  const span = x1 - x0;
  const xStep = niceStep(span, 6);
  for (let t = Math.ceil(x0 / xStep) * xStep; t <= x1; t += xStep) {
    const x = f1(X(t));
    const d = new Date(t).toISOString();
    const text = span > 2 * D ? d.slice(5, 10) : d.slice(11, 16);
    const anchor = X(t) > ml + pw - 16 ? 'end' : X(t) < ml + 16 ? 'start' : 'middle';
    parts.push(`<line x1="${x}" x2="${x}" y1="${mt + ph}" y2="${mt + ph + 4}" stroke="#9aa1ab"/><text x="${x}" y="${mt + ph + 16}" text-anchor="${anchor}" class="tick">${esc(text)}</text>`);
  }
  for (const [a, b] of unproven) {
    parts.push(`<rect class="unproven" x="${f1(X(a))}" y="${mt}" width="${f1(Math.max(1, X(b) - X(a)))}" height="${ph}" fill="url(#hatch-grey)"><title>not proven</title></rect>`);
  }
  for (const s of stretches) {
    const px = decimate(s.map(([t, v]) => [X(t), Y(v)]));
    const line = px.map(([x, y], i) => `${i ? 'L' : 'M'}${f1(x)} ${f1(y)}`).join('');
    const area = `${line}L${f1(px[px.length - 1]![0])} ${f1(Y(0))}L${f1(px[0]![0])} ${f1(Y(0))}Z`;
    parts.push(`<path d="${area}" fill="#3b82f6" fill-opacity="0.12" clip-path="url(#${opts.id}-plot)"/>`);
    parts.push(`<path class="rpo-line" d="${line}" fill="none" stroke="#2563eb" stroke-width="1.6" stroke-linejoin="round" clip-path="url(#${opts.id}-plot)"/>`);
    if (h.objectiveMs !== null) parts.push(`<path d="${line}" fill="none" stroke="#dc2626" stroke-width="1.8" stroke-linejoin="round" clip-path="url(#${opts.id}-above)"/>`);
  }
  if (h.objectiveMs !== null) {
    const y = f1(Y(h.objectiveMs));
    parts.push(`<line class="objective" x1="${ml}" x2="${ml + pw}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-width="1.2" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${ml + pw - 4}" y="${y}" dy="-4" text-anchor="end" class="objective-label">objective ${esc(formatDuration(h.objectiveMs))}</text>`);
  }
  parts.push(`<line x1="${ml}" x2="${ml}" y1="${mt}" y2="${mt + ph}" stroke="#9aa1ab"/><line x1="${ml}" x2="${ml + pw}" y1="${mt + ph}" y2="${mt + ph}" stroke="#9aa1ab"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Shared <defs> for all charts (patterns), placed once in the page. */
export function chartDefs(): string {
  return (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>' +
    '<pattern id="hatch-grey" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f2f4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9ccd1" stroke-width="2"/></pattern>' +
    '<pattern id="hatch-classic" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="7" height="7" fill="#fbd5b5"/><line x1="0" y1="0" x2="0" y2="7" stroke="#dd6b20" stroke-width="3"/></pattern>' +
    '</defs></svg>'
  );
}

/**
 * RTO side by side: per source, the measured no-restore RTO and the classic RTO (measured or
 * projected, hatched when projected) on one shared scale, logarithmic when the ratio is large.
 */
export function rtoChart(rto: RtoReport, opts: { width?: number } = {}): string {
  const W = opts.width ?? 900;
  const ml = 150;
  const mr = 230;
  const mt = 10;
  const bar = 20;
  const gap = 6;
  const group = bar * 2 + gap + 26;
  const rows = rto.sources;
  const Ht = mt + Math.max(1, rows.length) * group + 30;
  const pw = W - ml - mr;
  const values = rows.flatMap((s) => [s.noRestore.ms, s.classic.ms, s.objectiveMs]).filter((v): v is number => v !== null && v > 0);
  const lo = values.length ? Math.min(...values) : S;
  const hi = values.length ? Math.max(...values) : M;
  const log = hi / lo > 20;
  let scale: (v: number) => number;
  const ticks: number[] = [];
  if (log) {
    const TICKS = [S, 10 * S, M, 10 * M, H, 10 * H, D, 10 * D, 100 * D];
    let a = TICKS.filter((t) => t <= lo).at(-1) ?? 100;
    if (a > lo) a = lo;
    const b = TICKS.find((t) => t >= hi) ?? hi;
    const la = Math.log10(a);
    const lb = Math.log10(b);
    scale = (v) => ml + ((Math.log10(Math.max(v, a)) - la) / (lb - la || 1)) * pw;
    for (const t of TICKS) if (t >= a && t <= b) ticks.push(t);
  } else {
    const step = niceStep(hi * 1.05, 6);
    const top = Math.ceil((hi * 1.05) / step) * step;
    scale = (v) => ml + (v / top) * pw;
    for (let t = 0; t <= top; t += step) ticks.push(t);
  }
  const p: string[] = [];
  p.push(`<svg class="chart rto-chart" role="img" aria-label="RTO: no-restore measured beside classic restore${log ? ' (logarithmic scale)' : ''}" viewBox="0 0 ${W} ${Ht}" width="${W}" height="${Ht}">`);
  p.push(`<title>RTO: no-restore measured beside classic restore</title>`);
  const axisY = mt + rows.length * group;
  for (const t of ticks) {
    const x = f1(scale(t));
    p.push(`<line x1="${x}" x2="${x}" y1="${mt}" y2="${axisY}" stroke="#eceef1"/><text x="${x}" y="${axisY + 14}" text-anchor="middle" class="tick">${esc(shortDuration(t))}</text>`);
  }
  p.push(`<text x="${ml + pw}" y="${axisY + 28}" text-anchor="end" class="tick">${log ? 'logarithmic scale' : 'linear scale'}</text>`);
  rows.forEach((s, i) => {
    const y = mt + i * group + 4;
    p.push(`<text x="${ml - 10}" y="${y + bar + gap / 2}" dy="0.32em" text-anchor="end" class="src-label">${esc(s.source)}</text>`);
    const barRow = (yy: number, v: number | null, cls: string, fill: string, caption: string): void => {
      if (v === null) {
        p.push(`<text x="${ml + 4}" y="${yy + bar / 2}" dy="0.32em" class="muted">${esc(caption)}</text>`);
        return;
      }
      const w = Math.max(2, scale(v) - ml);
      p.push(`<rect class="${cls}" x="${ml}" y="${yy}" width="${f1(w)}" height="${bar}" rx="2" fill="${fill}"><title>${esc(`${caption}: ${formatDuration(v)}`)}</title></rect>`);
      p.push(`<text x="${f1(ml + w + 6)}" y="${yy + bar / 2}" dy="0.32em" class="bar-label">${esc(`${formatDuration(v)} · ${caption}`)}</text>`);
    };
    if (s.objectiveMs !== null) {
      const x = f1(scale(s.objectiveMs));
      p.push(`<line class="objective" x1="${x}" x2="${x}" y1="${y - 3}" y2="${y + 2 * bar + gap + 3}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="4 3"><title>${esc(`objective ${formatDuration(s.objectiveMs)}`)}</title></line>`);
    }
    barRow(y, s.noRestore.ms, 'bar-norestore', '#2f855a', s.noRestore.ms === null ? 'no-restore: not measured yet' : `no-restore, measured${s.noRestore.drill && !s.noRestore.drill.ok ? ' (drill failed)' : ''}`);
    barRow(y + bar + gap, s.classic.ms, 'bar-classic', s.classic.basis === 'measured' ? '#dd6b20' : 'url(#hatch-classic)', s.classic.ms === null ? 'classic: unknown (no import measured yet)' : `classic, ${s.classic.basis}`);
  });
  p.push(`<line x1="${ml}" x2="${ml}" y1="${mt}" y2="${axisY}" stroke="#9aa1ab"/>`);
  p.push('</svg>');
  return p.join('');
}
