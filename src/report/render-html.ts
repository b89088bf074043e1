import type { ReportData } from './data.js';
import { POSSESSION_LABEL, formatBytes, formatCount, formatDuration, formatRate, formatRatio, formatTime, objectiveCell, rpoCell } from './format.js';
import { chartDefs, esc, rpoChart, rtoChart } from './svg.js';

/**
 * The report as ONE self-contained HTML file: inline CSS, inline SVG charts generated here, no script,
 * no external URL (no fonts, images or stylesheets fetched). Every text from data is escaped.
 */

const CSS = `
:root{--ok:#2f855a;--bad:#c53030;--warn:#b7791f;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif;color:#1f2937;background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:36px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:22px 0 8px}
p.lead,.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:170px}
.card .v{font-size:22px;font-weight:650}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.bad{border-color:#feb2b2;background:#fff5f5}.card.bad .v{color:var(--bad)}
.card.ok .v{color:var(--ok)}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:6px;margin:6px 0 14px;font-size:13px}
th,td{padding:6px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#fcfcfd}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.b-ok{background:#c6f6d5;color:#22543d}.b-warn{background:#fefcbf;color:#744210}.b-bad{background:#fed7d7;color:#822727}.b-none{background:#e2e8f0;color:#4a5568}
.bad{color:var(--bad);font-weight:600}.ok{color:var(--ok)}.warn{color:var(--warn)}
ul.missed{background:#fff5f5;border:1px solid #feb2b2;border-radius:8px;padding:10px 14px 10px 34px;margin:8px 0}
ul.missed li{margin:4px 0}
.allmet{background:#f0fff4;border:1px solid #9ae6b4;border-radius:8px;padding:10px 14px;color:#22543d}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 10px 6px}
figcaption{font-weight:600;margin:0 0 4px 4px}
figcaption .muted{font-weight:400}
svg.chart{display:block;max-width:100%;height:auto}
svg .tick{font-size:11px;fill:#6b7280}
svg .muted{font-size:12px;fill:#6b7280}
svg .src-label{font-size:13px;font-weight:600;fill:#1f2937}
svg .bar-label{font-size:12px;fill:#1f2937;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg .objective-label{font-size:11px;fill:#c53030}
.legend{display:flex;gap:18px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:4px 0 10px}
.legend i{display:inline-block;width:18px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
ul.assumptions{color:#4b5563;font-size:13px;margin:4px 0 14px}
details{margin:6px 0}
summary{cursor:pointer}
footer{margin-top:40px;color:var(--muted);font-size:12px}
`;

function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'none'): string {
  return `<span class="badge b-${tone}">${esc(text)}</span>`;
}

function metBadge(ok: boolean, objective: number | null): string {
  if (objective === null) return badge('no objective', 'none');
  return ok ? badge('met', 'ok') : badge('missed', 'bad');
}

interface Col {
  h: string;
  num?: boolean;
}

/** A table: cells are HTML already escaped by the caller (use esc()). */
function table(cols: Col[], rows: string[][], cls = ''): string {
  const head = cols.map((c) => `<th${c.num ? ' class="num"' : ''}>${esc(c.h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cols[i]?.num ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderHtml(data: ReportData): string {
  const now = new Date(data.generatedAt);
  const t = data.totals;
  const o: string[] = [];
  o.push('<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">');
  // No network at all: nothing in this page may be fetched.
  o.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  o.push(`<title>${esc(data.title)}</title>`, `<style>${CSS}</style>`, '</head><body>', chartDefs(), '<main>');
  o.push(`<h1>${esc(data.title)}</h1>`);
  o.push(`<p class="lead">Generated ${esc(formatTime(data.generatedAt))} from repository <code>${esc(data.repository.location)}</code> (${esc(data.repository.repoId)}). All times UTC.</p>`);

  o.push('<div class="cards">');
  const card = (k: string, v: string, cls = ''): void => {
    o.push(`<div class="card ${cls}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`);
  };
  card('Objectives missed', String(t.objectivesMissed), t.objectivesMissed ? 'bad' : 'ok');
  card('Kinds restorable', String(t.kinds['possessed-and-restorable']), 'ok');
  card('Possessed, not restorable', String(t.kinds['possessed-but-not-restorable']));
  card('Not possessed', String(t.kinds['not-possessed']), t.kinds['not-possessed'] ? 'bad' : '');
  card('Verification findings', String(t.findings), t.findings ? 'bad' : 'ok');
  card('Failed imports', String(t.importFailures), t.importFailures ? 'bad' : 'ok');
  o.push('</div>');

  o.push('<section id="objectives"><h2>Objectives missed</h2>');
  if (!data.missed.length) o.push('<div class="allmet">Every RPO and RTO objective is met.</div>');
  else o.push(`<ul class="missed">${data.missed.map((m) => `<li><strong>${esc(m.metric.toUpperCase())}</strong> ${esc(m.message)}</li>`).join('')}</ul>`);
  o.push('</section>');

  o.push('<section id="sources"><h2>Sources</h2>');
  o.push(
    table(
      [{ h: 'Source' }, { h: 'Service' }, { h: 'Scopes', num: true }, { h: 'RPO', num: true }, { h: 'RPO objective', num: true }, { h: 'No-restore RTO', num: true }, { h: 'Classic RTO', num: true }, { h: 'RTO objective', num: true }, { h: 'Findings', num: true }, { h: 'Failed imports', num: true }],
      data.sources.map((s) => {
        const rpo = data.rpo.sources.find((x) => x.source === s.name);
        const rto = data.rto.sources.find((x) => x.source === s.name);
        return [
          `<strong>${esc(s.name)}</strong>`,
          esc(s.service),
          String(s.scopes),
          `<span class="${rpo && !rpo.met ? 'bad' : ''}">${esc(s.rpoMs === null ? 'never proven' : formatDuration(s.rpoMs))}</span>`,
          esc(objectiveCell(s.rpoObjectiveMs)),
          `<span class="${rto && !rto.noRestore.met ? 'bad' : 'ok'}">${esc(s.noRestoreRtoMs === null ? 'not measured' : formatDuration(s.noRestoreRtoMs))}</span>`,
          `${esc(s.classicRtoMs === null ? 'unknown' : formatDuration(s.classicRtoMs))} <span class="muted">${esc(s.classicBasis)}</span>`,
          esc(objectiveCell(s.rtoObjectiveMs)),
          s.findings ? `<span class="bad">${s.findings}</span>` : '0',
          s.importFailures ? `<span class="bad">${s.importFailures}</span>` : '0',
        ];
      }),
    ),
  );
  o.push('</section>');

  // Freshness: RTO first (the contrast), then RPO.
  o.push('<section id="freshness"><h2>Freshness</h2>');
  o.push('<h3>RTO: no-restore measured beside classic restore</h3>');
  o.push('<p class="muted">No-restore RTO is measured by <code>norestore drill</code>: catch-up of pending changes, verification and the switch steps. Classic RTO is the time to restore everything into an empty standby: measured by <code>norestore drill --fresh</code>, else projected from measured import rates under the standby\'s quota.</p>');
  o.push('<div class="legend"><span><i style="background:#2f855a"></i>no-restore, measured</span><span><i style="background:#dd6b20"></i>classic, measured</span><span><i style="background:repeating-linear-gradient(45deg,#dd6b20 0 3px,#fbd5b5 3px 7px)"></i>classic, projected</span><span><i style="border-top:2px dashed #dc2626;height:0;border-radius:0"></i>objective</span></div>');
  o.push(`<figure>${rtoChart(data.rto)}</figure>`);
  o.push(
    table(
      [{ h: 'Source' }, { h: 'No-restore RTO', num: true }, { h: 'Drilled' }, { h: 'Classic RTO', num: true }, { h: 'Basis' }, { h: 'Classic / no-restore', num: true }, { h: 'Objective', num: true }, { h: 'Status' }],
      data.rto.sources.map((s) => [
        `<strong>${esc(s.source)}</strong>`,
        esc(s.noRestore.ms === null ? 'not measured' : formatDuration(s.noRestore.ms)),
        s.noRestore.drill ? `${esc(formatTime(s.noRestore.drill.finishedAt))}${s.noRestore.drill.ok ? '' : ` ${badge('failed', 'bad')}`}` : '<span class="muted">never</span>',
        esc(s.classic.ms === null ? 'unknown' : formatDuration(s.classic.ms)),
        esc(s.classic.basis === 'measured' ? `measured ${formatTime(s.classic.drill?.finishedAt ?? null)}` : s.classic.basis),
        `<strong>${esc(formatRatio(s.ratio))}</strong>`,
        esc(objectiveCell(s.objectiveMs)),
        metBadge(s.noRestore.met, s.objectiveMs),
      ]),
    ),
  );
  for (const s of data.rto.sources) {
    const d = s.noRestore.drill;
    if (d && d.steps.length) {
      o.push(`<details><summary>Drill steps of ${esc(s.source)} (${esc(formatDuration(d.totalMs))})</summary>`);
      o.push(table([{ h: 'Step' }, { h: 'Time', num: true }, { h: 'Detail' }], d.steps.map((x) => [esc(x.name), esc(formatDuration(x.ms)), esc(x.detail ?? '')])));
      o.push('</details>');
    }
  }
  for (const s of data.rto.sources) {
    const p = s.classic.projection;
    if (!p || !p.perKind.length) continue;
    o.push(`<h3>Classic RTO projection: ${esc(s.source)} <span class="muted">${esc(p.ms === null ? 'unknown' : formatDuration(p.ms))}</span></h3>`);
    o.push(
      table(
        [{ h: 'Kind' }, { h: 'Items', num: true }, { h: 'Bytes', num: true }, { h: 'Measured rate', num: true }, { h: 'Rate basis' }, { h: 'At rate', num: true }, { h: 'Quota floor', num: true }, { h: 'Projected', num: true }, { h: 'Limited by' }],
        p.perKind.map((k) => [
          `<code>${esc(k.kind)}</code>`,
          esc(formatCount(k.items)),
          esc(formatBytes(k.bytes)),
          esc(formatRate(k.rate.itemsPerSec, 'items')),
          esc(k.rate.basis),
          esc(k.rateMs === null ? '-' : formatDuration(k.rateMs)),
          esc(formatDuration(k.quotaMs)),
          `<strong>${esc(k.ms === null ? 'unknown' : formatDuration(k.ms))}</strong>`,
          k.limitedBy === 'quota' ? badge('quota', 'warn') : k.limitedBy === 'rate' ? badge('rate', 'none') : badge('unknown', 'bad'),
        ]),
      ),
    );
    o.push(`<ul class="assumptions">${p.assumptions.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`);
  }

  o.push('<h3>RPO per kind</h3>');
  o.push('<p class="muted">RPO = now minus the source time up to which every change is imported into the standby and verified, from committed runs and proofs. Worst scope per kind.</p>');
  o.push(
    table(
      [{ h: 'Source' }, { h: 'Kind' }, { h: 'RPO', num: true }, { h: 'Objective', num: true }, { h: 'Status' }, { h: 'Worst scope' }, { h: 'Findings', num: true }, { h: 'Owned copy age', num: true }],
      data.rpo.sources.flatMap((s) =>
        s.kinds.map((k) => [
          esc(s.source),
          `<code>${esc(k.kind)}</code> <span class="muted">${esc(k.title)}</span>`,
          `<span class="${k.met ? '' : 'bad'}">${esc(rpoCell(k.rpoMs, k.status))}</span>`,
          esc(objectiveCell(k.objectiveMs)),
          k.status === 'proven' || k.status === 'never-proven' ? metBadge(k.met, k.objectiveMs) : badge(k.status === 'no-data' ? 'no items' : 'n/a', 'none'),
          k.worstScope ? `<code>${esc(k.worstScope)}</code>` : '-',
          k.findings ? `<span class="bad">${k.findings}</span>` : '0',
          esc(k.exportLagMs === null ? 'never' : formatDuration(k.exportLagMs)),
        ]),
      ),
    ),
  );
  const behind = data.rpo.sources.flatMap((s) => s.scopes.filter((sc) => !sc.met || sc.findings > 0 || sc.importFailures > 0));
  if (behind.length) {
    o.push('<h3>Scopes behind their objective or with findings</h3>');
    o.push(
      table(
        [{ h: 'Source' }, { h: 'Scope' }, { h: 'RPO', num: true }, { h: 'Last export' }, { h: 'Last import' }, { h: 'Last verify' }, { h: 'Findings', num: true }, { h: 'Failed imports', num: true }],
        behind.slice(0, 200).map((sc) => [
          esc(sc.source),
          `<code>${esc(sc.scope)}</code>`,
          `<span class="${sc.met ? '' : 'bad'}">${esc(sc.rpoMs === null ? 'never proven' : formatDuration(sc.rpoMs))}</span>`,
          esc(formatTime(sc.lastExport)),
          esc(formatTime(sc.lastImport)),
          esc(formatTime(sc.lastVerify)),
          String(sc.findings),
          String(sc.importFailures),
        ]),
      ),
    );
    if (behind.length > 200) o.push(`<p class="muted">… and ${behind.length - 200} more scope(s) (see the JSON report).</p>`);
  }

  o.push('<h3>RPO over time per kind</h3>');
  o.push('<div class="legend"><span><i style="background:#2563eb"></i>RPO (grows with time, drops at each verification)</span><span><i style="background:#dc2626"></i>above objective</span><span><i style="border-top:2px dashed #dc2626;height:0;border-radius:0"></i>objective</span><span><i style="background:repeating-linear-gradient(45deg,#c9ccd1 0 2px,#f1f2f4 2px 6px)"></i>not proven</span></div>');
  o.push('<div class="charts">');
  data.rpo.history.forEach((h, i) => {
    const k = data.rpo.sources.find((s) => s.source === h.source)?.kinds.find((x) => x.kind === h.kind);
    const current = k ? `now ${rpoCell(k.rpoMs, k.status)}, objective ${objectiveCell(k.objectiveMs)}` : '';
    o.push(`<figure><figcaption><code>${esc(h.kind)}</code> <span class="muted">${esc(h.source)} · ${esc(current)}</span></figcaption>${rpoChart(h, { id: `rpo${i}`, now })}</figure>`);
  });
  if (!data.rpo.history.length) o.push('<p class="muted">No verification has been committed yet.</p>');
  o.push('</div></section>');

  o.push('<section id="coverage"><h2>Possession coverage</h2>');
  o.push('<p class="muted">Every data kind of each configured service: possessed and restorable, possessed but not restorable, or not possessed at all (no export API, or not handled yet), with the reason from the kinds\' declarations.</p>');
  o.push(
    table(
      [{ h: 'Service' }, { h: 'Kind' }, { h: 'Title' }, { h: 'Possession' }, { h: 'Verified' }, { h: 'Items', num: true }, { h: 'Reason' }],
      data.coverage.map((c) => [
        esc(c.service),
        `<code>${esc(c.kind)}</code>`,
        esc(c.title),
        badge(POSSESSION_LABEL[c.status], c.status === 'possessed-and-restorable' ? 'ok' : c.status === 'possessed-but-not-restorable' ? 'warn' : 'bad'),
        c.verification === 'clean' ? badge('clean', 'ok') : c.verification === 'findings' ? badge('findings', 'bad') : c.verification === 'not-verified' ? badge('not verified', 'warn') : '<span class="muted">n/a</span>',
        esc(formatCount(c.items)),
        esc(c.reason),
      ]),
      'coverage',
    ),
  );
  o.push('</section>');

  o.push('<section id="fidelity"><h2>Fidelity</h2>');
  o.push('<p class="muted">Preserved fields are compared on every verification; lost fields are declared by each kind with the reason. Counts are from the latest proof of every scope.</p>');
  for (const source of data.sources) {
    const rows = data.fidelity.filter((f) => f.source === source.name);
    if (!rows.length) continue;
    o.push(`<h3>${esc(source.name)} <span class="muted">${esc(source.service)}</span></h3>`);
    o.push(
      table(
        [{ h: 'Kind' }, { h: 'Stored', num: true }, { h: 'Matched', num: true }, { h: 'Mismatched', num: true }, { h: 'Missing', num: true }, { h: 'Extra', num: true }, { h: 'Failed import', num: true }, { h: 'Preserved' }, { h: 'Lost on import (why)' }],
        rows.map((f) => {
          const n = (v: number, tone: string): string => (!f.restorable ? '-' : v ? `<span class="${tone}">${esc(formatCount(v))}</span>` : '0');
          return [
            `<code>${esc(f.kind)}</code>`,
            f.restorable ? esc(formatCount(f.observed.stored)) : '-',
            f.restorable ? esc(formatCount(f.observed.matched)) : '-',
            n(f.observed.mismatched, 'bad'),
            n(f.observed.missing, 'bad'),
            n(f.observed.extra, 'warn'),
            n(f.importFailuresTotal, 'bad'),
            f.restorable ? f.preserved.map((x) => `<code>${esc(x)}</code>`).join(', ') || '-' : badge('not restorable', 'warn'),
            f.lost.map((l) => `<code>${esc(l.field)}</code> <span class="muted">${esc(l.why)}</span>`).join('<br>') || '-',
          ];
        }),
        'fidelity',
      ),
    );
    const observed = rows.filter((f) => f.findings.length || f.importFailures.length);
    for (const f of observed) {
      o.push(`<h4><code>${esc(f.kind)}</code>: ${f.findingsTotal} finding(s), ${f.importFailuresTotal} failed import(s)</h4>`);
      if (f.mismatchedFields.length) o.push(`<p>Fields that differ: ${f.mismatchedFields.map((m) => `<code>${esc(m.field)}</code> (${m.items})`).join(', ')}</p>`);
      const list: string[][] = [];
      for (const x of f.importFailures) list.push([badge('import failed', 'bad'), `<code>${esc(x.scope)}</code>`, `<code>${esc(x.id)}</code>`, esc(x.error)]);
      for (const x of f.findings) list.push([badge(x.type, x.type === 'extra' ? 'warn' : 'bad'), `<code>${esc(x.scope)}</code>`, `<code>${esc(x.id)}</code>`, esc(x.detail)]);
      o.push(table([{ h: 'Type' }, { h: 'Scope' }, { h: 'Item' }, { h: 'Detail' }], list, 'findings'));
      const more = f.findingsNotListed + (f.importFailuresTotal - f.importFailures.length);
      if (more > 0) o.push(`<p class="muted">… ${more} more not listed.</p>`);
    }
  }
  o.push('</section>');
  o.push(`<footer>norestore report format ${data.formatVersion} · ${esc(now.toISOString())}</footer>`);
  o.push('</main></body></html>');
  return o.join('\n') + '\n';
}
