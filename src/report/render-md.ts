import type { ReportData } from './data.js';
import { POSSESSION_LABEL, formatBytes, formatCount, formatDuration, formatRate, formatRatio, formatTime, objectiveCell, rpoCell } from './format.js';

/** Escape text for a Markdown table cell or line: no HTML, no table breaks, no emphasis surprises. */
export function mdEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/([`*_[\]])/g, '\\$1')
    .replace(/[\r\n]+/g, ' ');
}

function tableMd(headers: string[], rows: string[][], right: number[] = []): string[] {
  const align = headers.map((_, i) => (right.includes(i) ? '---:' : '---'));
  return [`| ${headers.map(mdEscape).join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)];
}

const metMd = (ok: boolean, objective: number | null): string => (objective === null ? '-' : ok ? '✅ met' : '❌ missed');

export function renderMarkdown(data: ReportData): string {
  const out: string[] = [];
  const t = data.totals;
  out.push(`# ${mdEscape(data.title)}`, '');
  out.push(`Generated ${formatTime(data.generatedAt)} from repository \`${data.repository.location.replace(/`/g, "'")}\` (${mdEscape(data.repository.repoId)}).`, '');
  out.push(`- Kinds: ${t.kinds['possessed-and-restorable']} possessed and restorable, ${t.kinds['possessed-but-not-restorable']} possessed but not restorable, ${t.kinds['not-possessed']} not possessed`);
  out.push(`- Verification: ${t.findings} finding(s), ${t.importFailures} failed import(s)`);
  out.push(`- Objectives: ${t.objectivesMissed ? `**${t.objectivesMissed} missed**` : 'all met'}`, '');

  out.push('## Objectives missed', '');
  if (!data.missed.length) out.push('None: every RPO and RTO objective is met.');
  for (const m of data.missed) out.push(`- **${m.metric.toUpperCase()}** ${mdEscape(m.message)}`);
  out.push('');

  out.push('## Sources', '');
  out.push(
    ...tableMd(
      ['Source', 'Service', 'Scopes', 'RPO', 'RPO objective', 'No-restore RTO', 'Classic RTO', 'RTO objective', 'Findings', 'Failed imports'],
      data.sources.map((s) => [
        s.name,
        s.service,
        String(s.scopes),
        s.rpoMs === null ? 'never proven' : formatDuration(s.rpoMs),
        objectiveCell(s.rpoObjectiveMs),
        s.noRestoreRtoMs === null ? 'not measured' : formatDuration(s.noRestoreRtoMs),
        `${s.classicRtoMs === null ? 'unknown' : formatDuration(s.classicRtoMs)} (${s.classicBasis})`,
        objectiveCell(s.rtoObjectiveMs),
        String(s.findings),
        String(s.importFailures),
      ]),
      [2, 3, 4, 5, 6, 7, 8, 9],
    ),
    '',
  );

  out.push('## Freshness', '', '### RPO per kind', '');
  out.push('RPO = now minus the source time up to which every change is imported into the standby and verified.', '');
  out.push(
    ...tableMd(
      ['Source', 'Kind', 'RPO', 'Objective', 'Status', 'Worst scope', 'Findings'],
      data.rpo.sources.flatMap((s) => s.kinds.map((k) => [s.source, k.kind, rpoCell(k.rpoMs, k.status), objectiveCell(k.objectiveMs), k.status === 'proven' || k.status === 'never-proven' ? metMd(k.met, k.objectiveMs) : '-', k.worstScope ?? '-', String(k.findings)])),
      [2, 3, 6],
    ),
    '',
  );
  out.push('### RTO: no-restore beside classic', '');
  out.push(
    ...tableMd(
      ['Source', 'No-restore RTO (measured)', 'Classic RTO', 'Basis', 'Classic / no-restore', 'Objective', 'Status'],
      data.rto.sources.map((s) => [
        s.source,
        s.noRestore.ms === null ? 'not measured' : `${formatDuration(s.noRestore.ms)} (${formatTime(s.noRestore.drill?.finishedAt ?? null)}${s.noRestore.drill?.ok === false ? ', failed' : ''})`,
        s.classic.ms === null ? 'unknown' : formatDuration(s.classic.ms),
        s.classic.basis,
        formatRatio(s.ratio),
        objectiveCell(s.objectiveMs),
        metMd(s.noRestore.met, s.objectiveMs),
      ]),
      [1, 2, 4, 5],
    ),
    '',
  );
  for (const s of data.rto.sources) {
    const p = s.classic.projection;
    if (!p || !p.perKind.length) continue;
    out.push(`#### Classic RTO projection: ${mdEscape(s.source)} (${p.ms === null ? 'unknown' : formatDuration(p.ms)})`, '');
    out.push(
      ...tableMd(
        ['Kind', 'Items', 'Bytes', 'Measured rate', 'Rate basis', 'At rate', 'Quota floor', 'Projected', 'Limited by'],
        p.perKind.map((k) => [k.kind, formatCount(k.items), formatBytes(k.bytes), formatRate(k.rate.itemsPerSec, 'items'), k.rate.basis, k.rateMs === null ? '-' : formatDuration(k.rateMs), formatDuration(k.quotaMs), k.ms === null ? 'unknown' : formatDuration(k.ms), k.limitedBy]),
        [1, 2, 3, 5, 6, 7],
      ),
      '',
    );
    for (const a of p.assumptions) out.push(`- ${mdEscape(a)}`);
    out.push('');
  }

  out.push('## Possession coverage', '');
  out.push(
    ...tableMd(
      ['Service', 'Kind', 'Title', 'Possession', 'Verified', 'Items', 'Reason'],
      data.coverage.map((c) => [c.service, c.kind, c.title, POSSESSION_LABEL[c.status], c.verification, formatCount(c.items), c.reason]),
      [5],
    ),
    '',
  );

  out.push('## Fidelity', '');
  out.push('Declared by each kind (preserved fields are compared on every verification) and observed in the latest proofs.', '');
  out.push(
    ...tableMd(
      ['Source', 'Kind', 'Stored', 'Matched', 'Mismatched', 'Missing', 'Extra', 'Failed import', 'Preserved', 'Lost (why)'],
      data.fidelity.map((f) => [
        f.source,
        f.kind,
        f.restorable ? formatCount(f.observed.stored) : '-',
        f.restorable ? formatCount(f.observed.matched) : '-',
        f.restorable ? formatCount(f.observed.mismatched) : '-',
        f.restorable ? formatCount(f.observed.missing) : '-',
        f.restorable ? formatCount(f.observed.extra) : '-',
        f.restorable ? formatCount(f.importFailuresTotal) : '-',
        f.restorable ? f.preserved.join(', ') || '-' : 'not restorable',
        f.lost.map((l) => `${l.field} (${l.why})`).join('; ') || '-',
      ]),
      [2, 3, 4, 5, 6, 7],
    ),
    '',
  );
  const observed = data.fidelity.filter((f) => f.findings.length || f.importFailures.length);
  if (observed.length) {
    out.push('### Observed by verification', '');
    for (const f of observed) {
      out.push(`- **${mdEscape(`${f.source} ${f.kind}`)}**: ${f.findingsTotal} finding(s), ${f.importFailuresTotal} failed import(s)`);
      for (const m of f.mismatchedFields) out.push(`  - field \`${m.field.replace(/`/g, "'")}\` differs on ${m.items} item(s)`);
      for (const r of f.failureReasons) out.push(`  - import failed ×${r.items}: ${mdEscape(r.error)}`);
      if (f.importFailures.length) out.push(`  - failed items: ${mdEscape(f.importFailures.map((x) => `${x.scope} ${x.id}`).join(', '))}`);
      for (const x of f.findings) out.push(`  - ${x.type} ${mdEscape(`${x.scope} ${x.id}`)}: ${mdEscape(x.detail)}`);
      const more = f.findingsNotListed + (f.importFailuresTotal - f.importFailures.length);
      if (more > 0) out.push(`  - … ${more} more not listed`);
    }
    out.push('');
  }
  return out.join('\n');
}
