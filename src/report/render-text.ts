import pc from 'picocolors';
import type { ReportData } from './data.js';
import { POSSESSION_LABEL, formatBytes, formatCount, formatDuration, formatRate, formatRatio, formatTime, objectiveCell, rpoCell } from './format.js';

export interface TextOptions {
  /** ANSI colors. The caller decides (TTY, NO_COLOR, --no-color); default off. */
  color?: boolean;
  /** Scopes listed in the "scopes behind" table; the rest are counted. Default 20. */
  scopeLimit?: number;
}

type Tone = 'ok' | 'bad' | 'warn' | 'dim' | 'bold';
type Cell = string | { text: string; tone?: Tone };
interface Col {
  header: string;
  align?: 'left' | 'right';
  /** Longest cell; longer text is cut with an ellipsis. */
  max?: number;
}

function painter(color: boolean): (text: string, tone?: Tone) => string {
  const c = pc.createColors(color);
  return (text, tone) => {
    if (!tone) return text;
    return { ok: c.green, bad: c.red, warn: c.yellow, dim: c.dim, bold: c.bold }[tone](text);
  };
}

/** Aligned table: widths from the plain text, color applied after padding. */
function table(cols: Col[], rows: Cell[][], paint: (t: string, tone?: Tone) => string): string[] {
  const cells = rows.map((r) => r.map((c, i) => {
    const cell = typeof c === 'string' ? { text: c } : c;
    const max = cols[i]?.max;
    const text = max && cell.text.length > max ? cell.text.slice(0, max - 1) + '…' : cell.text;
    return { text: text.replace(/[\r\n\t]+/g, ' '), tone: cell.tone };
  }));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.text.length ?? 0)));
  const pad = (t: string, i: number): string => (cols[i]?.align === 'right' ? t.padStart(widths[i]!) : t.padEnd(widths[i]!));
  // Trailing blanks are cut before painting, so colored and plain lines have the same text.
  const line = (parts: Array<{ text: string; tone?: Tone }>): string => {
    const segs = parts.map((p, i) => ({ text: pad(p.text, i), tone: p.tone }));
    while (segs.length && !segs[segs.length - 1]!.text.trim()) segs.pop();
    if (segs.length) segs[segs.length - 1]!.text = segs[segs.length - 1]!.text.trimEnd();
    return segs.map((x) => paint(x.text, x.tone)).join('  ');
  };
  const out = [line(cols.map((c) => ({ text: c.header, tone: 'bold' as const })))];
  for (const r of cells) out.push(line(r));
  return out;
}

const met = (ok: boolean, objective: number | null): Cell => (objective === null ? { text: '-', tone: 'dim' } : ok ? { text: 'met', tone: 'ok' } : { text: 'MISSED', tone: 'bad' });

export function renderText(data: ReportData, opts: TextOptions = {}): string {
  const paint = painter(opts.color ?? false);
  const scopeLimit = opts.scopeLimit ?? 20;
  const out: string[] = [];
  const h = (title: string): void => {
    out.push('', paint(title.toUpperCase(), 'bold'), paint('─'.repeat(title.length), 'dim'));
  };

  out.push(paint(data.title, 'bold'));
  out.push(`generated ${formatTime(data.generatedAt)} · repository ${data.repository.location} (${data.repository.repoId})`);
  const t = data.totals;
  out.push(
    `${t.kinds['possessed-and-restorable']} kinds restorable, ${t.kinds['possessed-but-not-restorable']} possessed but not restorable, ${t.kinds['not-possessed']} not possessed · ${t.findings} verification finding(s) · ${t.importFailures} failed import(s) · ` +
      (t.objectivesMissed ? paint(`${t.objectivesMissed} objective(s) missed`, 'bad') : paint('all objectives met', 'ok')),
  );

  h('Objectives missed');
  if (!data.missed.length) out.push(paint('None: every RPO and RTO objective is met.', 'ok'));
  for (const m of data.missed) out.push(`${paint('✗', 'bad')} [${m.metric.toUpperCase()}] ${m.message}`);

  h('Sources');
  out.push(
    ...table(
      [{ header: 'Source' }, { header: 'Service' }, { header: 'Scopes', align: 'right' }, { header: 'RPO', align: 'right' }, { header: 'objective', align: 'right' }, { header: 'No-restore RTO', align: 'right' }, { header: 'Classic RTO', align: 'right' }, { header: 'objective', align: 'right' }, { header: 'Findings', align: 'right' }, { header: 'Failed imports', align: 'right' }],
      data.sources.map((s) => {
        const rpo = data.rpo.sources.find((x) => x.source === s.name);
        const rto = data.rto.sources.find((x) => x.source === s.name);
        return [
          s.name,
          s.service,
          String(s.scopes),
          { text: s.rpoMs === null ? 'never proven' : formatDuration(s.rpoMs), tone: rpo && !rpo.met ? 'bad' : undefined },
          objectiveCell(s.rpoObjectiveMs),
          { text: s.noRestoreRtoMs === null ? 'not measured' : formatDuration(s.noRestoreRtoMs), tone: rto && !rto.noRestore.met ? 'bad' : 'ok' },
          `${s.classicRtoMs === null ? 'unknown' : formatDuration(s.classicRtoMs)}${s.classicBasis === 'projected' ? ' (projected)' : s.classicBasis === 'measured' ? ' (measured)' : ''}`,
          objectiveCell(s.rtoObjectiveMs),
          { text: String(s.findings), tone: s.findings ? 'warn' : undefined },
          { text: String(s.importFailures), tone: s.importFailures ? 'warn' : undefined },
        ];
      }),
      paint,
    ),
  );

  h('Freshness: RPO per kind');
  out.push(paint('RPO = now minus the source time up to which every change is imported into the standby and verified.', 'dim'));
  out.push(
    ...table(
      [{ header: 'Source' }, { header: 'Kind' }, { header: 'RPO', align: 'right' }, { header: 'objective', align: 'right' }, { header: '' }, { header: 'Worst scope' }, { header: 'Findings', align: 'right' }, { header: 'Owned copy age', align: 'right' }],
      data.rpo.sources.flatMap((s) =>
        s.kinds.map((k): Cell[] => [
          s.source,
          k.kind,
          { text: rpoCell(k.rpoMs, k.status), tone: k.status === 'proven' || k.status === 'never-proven' ? (k.met ? undefined : 'bad') : 'dim' },
          objectiveCell(k.objectiveMs),
          k.status === 'proven' || k.status === 'never-proven' ? met(k.met, k.objectiveMs) : { text: '-', tone: 'dim' },
          k.worstScope ?? '-',
          { text: String(k.findings), tone: k.findings ? 'warn' : undefined },
          k.exportLagMs === null ? 'never' : formatDuration(k.exportLagMs),
        ]),
      ),
      paint,
    ),
  );
  const behind = data.rpo.sources.flatMap((s) => s.scopes.filter((sc) => !sc.met || sc.findings > 0 || sc.importFailures > 0));
  if (behind.length) {
    out.push('', paint('Scopes behind their objective or with findings', 'bold'));
    out.push(
      ...table(
        [{ header: 'Source' }, { header: 'Scope' }, { header: 'RPO', align: 'right' }, { header: 'Last export' }, { header: 'Last import' }, { header: 'Last verify' }, { header: 'Findings', align: 'right' }, { header: 'Failed imports', align: 'right' }],
        behind.slice(0, scopeLimit).map((sc) => [
          sc.source,
          sc.scope,
          { text: sc.rpoMs === null ? 'never proven' : formatDuration(sc.rpoMs), tone: sc.met ? undefined : 'bad' },
          formatTime(sc.lastExport),
          formatTime(sc.lastImport),
          formatTime(sc.lastVerify),
          { text: String(sc.findings), tone: sc.findings ? 'warn' : undefined },
          { text: String(sc.importFailures), tone: sc.importFailures ? 'warn' : undefined },
        ]),
        paint,
      ),
    );
    if (behind.length > scopeLimit) out.push(paint(`… and ${behind.length - scopeLimit} more scope(s) (see --format json)`, 'dim'));
  }

  h('Freshness: RTO, no-restore beside classic');
  out.push(paint('No-restore RTO = measured drill: catch-up + verification + switch steps. Classic RTO = restore everything into an empty standby.', 'dim'));
  out.push(
    ...table(
      [{ header: 'Source' }, { header: 'No-restore RTO', align: 'right' }, { header: 'drilled' }, { header: 'Classic RTO', align: 'right' }, { header: 'basis' }, { header: 'Classic / no-restore', align: 'right' }, { header: 'objective', align: 'right' }, { header: '' }],
      data.rto.sources.map((s) => [
        s.source,
        { text: s.noRestore.ms === null ? 'not measured' : formatDuration(s.noRestore.ms), tone: s.noRestore.ms === null ? 'warn' : 'ok' },
        s.noRestore.drill ? `${formatTime(s.noRestore.drill.finishedAt)}${s.noRestore.drill.ok ? '' : ' (failed)'}` : '-',
        s.classic.ms === null ? 'unknown' : formatDuration(s.classic.ms),
        s.classic.basis === 'measured' ? `measured ${formatTime(s.classic.drill?.finishedAt ?? null)}` : s.classic.basis,
        { text: formatRatio(s.ratio), tone: 'bold' },
        objectiveCell(s.objectiveMs),
        met(s.noRestore.met, s.objectiveMs),
      ]),
      paint,
    ),
  );
  for (const s of data.rto.sources) {
    const p = s.classic.projection;
    if (!p || !p.perKind.length) continue;
    out.push('', paint(`Classic RTO projection for ${s.source}: ${p.ms === null ? 'unknown' : formatDuration(p.ms)}`, 'bold'));
    out.push(
      ...table(
        [{ header: 'Kind' }, { header: 'Items', align: 'right' }, { header: 'Bytes', align: 'right' }, { header: 'Measured rate', align: 'right' }, { header: 'rate basis' }, { header: 'At rate', align: 'right' }, { header: 'Quota floor', align: 'right' }, { header: 'Projected', align: 'right' }, { header: 'Limited by' }],
        p.perKind.map((k) => [k.kind, formatCount(k.items), formatBytes(k.bytes), formatRate(k.rate.itemsPerSec, 'items'), k.rate.basis, k.rateMs === null ? '-' : formatDuration(k.rateMs), formatDuration(k.quotaMs), k.ms === null ? 'unknown' : formatDuration(k.ms), { text: k.limitedBy, tone: k.limitedBy === 'quota' ? 'warn' : undefined }]),
        paint,
      ),
    );
    for (const a of p.assumptions) out.push(paint(`  · ${a}`, 'dim'));
  }

  h('Possession coverage');
  out.push(
    ...table(
      [{ header: 'Service' }, { header: 'Kind' }, { header: 'Title' }, { header: 'Possession' }, { header: 'Verified' }, { header: 'Items', align: 'right' }, { header: 'Reason', max: 90 }],
      data.coverage.map((c) => [
        c.service,
        c.kind,
        c.title,
        { text: POSSESSION_LABEL[c.status], tone: c.status === 'possessed-and-restorable' ? 'ok' : c.status === 'possessed-but-not-restorable' ? 'warn' : 'bad' },
        { text: c.verification, tone: c.verification === 'clean' ? 'ok' : c.verification === 'findings' ? 'warn' : 'dim' },
        formatCount(c.items),
        c.reason,
      ]),
      paint,
    ),
  );

  h('Fidelity');
  out.push(paint('Declared by each kind (preserved fields are compared on every verification) and observed in the latest proofs.', 'dim'));
  out.push(
    ...table(
      [{ header: 'Source' }, { header: 'Kind' }, { header: 'Stored', align: 'right' }, { header: 'Matched', align: 'right' }, { header: 'Mismatched', align: 'right' }, { header: 'Missing', align: 'right' }, { header: 'Extra', align: 'right' }, { header: 'Failed import', align: 'right' }, { header: 'Preserved', max: 48 }, { header: 'Lost', max: 40 }],
      data.fidelity.map((f) => [
        f.source,
        f.kind,
        f.restorable ? formatCount(f.observed.stored) : '-',
        f.restorable ? formatCount(f.observed.matched) : '-',
        ...(f.restorable
          ? [
              { text: formatCount(f.observed.mismatched), tone: f.observed.mismatched ? ('bad' as const) : undefined },
              { text: formatCount(f.observed.missing), tone: f.observed.missing ? ('bad' as const) : undefined },
              { text: formatCount(f.observed.extra), tone: f.observed.extra ? ('warn' as const) : undefined },
              { text: formatCount(f.importFailuresTotal), tone: f.importFailuresTotal ? ('bad' as const) : undefined },
            ]
          : ['-', '-', '-', '-']),
        f.restorable ? f.preserved.join(', ') || '-' : 'not restorable',
        f.lost.map((l) => l.field).join(', ') || '-',
      ]),
      paint,
    ),
  );
  const lost = data.fidelity.filter((f) => f.lost.length);
  const seenLost = new Set<string>();
  const lostLines: string[] = [];
  for (const f of lost) {
    if (seenLost.has(f.kind)) continue;
    seenLost.add(f.kind);
    for (const l of f.lost) lostLines.push(`  ${f.kind}.${l.field}: ${l.why}`);
  }
  if (lostLines.length) out.push('', paint('Lost on import, and why', 'bold'), ...lostLines);
  const observed = data.fidelity.filter((f) => f.findings.length || f.importFailures.length);
  if (observed.length) {
    out.push('', paint('Observed by verification', 'bold'));
    for (const f of observed) {
      out.push(`  ${paint(`${f.source} ${f.kind}`, 'bold')}: ${f.findingsTotal} finding(s), ${f.importFailuresTotal} failed import(s)`);
      for (const m of f.mismatchedFields) out.push(`    field ${m.field} differs on ${m.items} item(s)`);
      for (const r of f.failureReasons) out.push(`    ${paint('import failed', 'bad')} ×${r.items}: ${oneLine(r.error)}`);
      if (f.importFailures.length) out.push(`    failed items: ${f.importFailures.map((x) => `${x.scope} ${x.id}`).join(', ')}`);
      for (const x of f.findings) out.push(`    ${paint(x.type, x.type === 'extra' ? 'warn' : 'bad')} ${x.scope} ${x.id}: ${oneLine(x.detail)}`);
      const more = f.findingsNotListed + (f.importFailuresTotal - f.importFailures.length);
      if (more > 0) out.push(paint(`    … ${more} more not listed`, 'dim'));
    }
  }
  return out.join('\n') + '\n';
}

function oneLine(s: string): string {
  const t = s.replace(/[\r\n\t]+/g, ' ');
  return t.length > 200 ? t.slice(0, 199) + '…' : t;
}
