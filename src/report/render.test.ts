import { beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type ReportData } from './data.js';
import { sampleReportInput } from './fixtures/sample.js';
import { mdEscape } from './render-md.js';
import { render, type ReportFormat } from './render.js';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`);
const ANSI_ALL = new RegExp(ANSI.source, 'g');

describe('report renderers', () => {
  let data: ReportData;
  beforeAll(async () => {
    data = await buildReport(sampleReportInput());
  });

  it('text: every section, aligned columns, color only when asked', () => {
    const text = render(data, 'text');
    expect(text).not.toMatch(ANSI);
    for (const h of ['OBJECTIVES MISSED', 'SOURCES', 'FRESHNESS: RPO PER KIND', 'FRESHNESS: RTO, NO-RESTORE BESIDE CLASSIC', 'POSSESSION COVERAGE', 'FIDELITY']) expect(text).toContain(`\n${h}\n`);
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('Source ') && l.includes('Scopes'))!;
    const row = lines.find((l) => l.startsWith('acme-workspace ') && l.includes('google'))!;
    expect(row.indexOf('google')).toBe(header.indexOf('Service'));
    // Right-aligned numbers end under their header.
    expect(row.indexOf(' 4 ') + 2).toBe(header.indexOf('Scopes') + 'Scopes'.length);
    expect(text).toContain('RPO of github.issue in source acme-github is 35m 00s');
    expect(text).toMatch(/acme-github\s+3m 20s\s+2026-03-08 11:13Z\s+5h 00m\s+projected\s+90x/);
    expect(text).toContain('possessed, not restorable');
    expect(text).toContain('not possessed');
    expect(text).toContain('import failed ×1: asset gadgets-linux.tar.gz');
    const colored = render(data, 'text', { color: true });
    expect(colored).toMatch(ANSI);
    expect(colored.replace(ANSI_ALL, '')).toBe(text);
  });

  it('json: the data itself, round-trips', () => {
    const json = render(data, 'json');
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(data)));
    expect(json).not.toContain('Infinity');
  });

  it('md: tables, escaped text', () => {
    const md = render(data, 'md');
    expect(md).toContain('## Possession coverage');
    expect(md).toContain('| Source | Kind | RPO | Objective | Status | Worst scope | Findings |');
    expect(md).not.toContain('<script>');
    expect(md).toContain('Fix &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).toContain('❌ missed');
    expect(mdEscape('a|b\nc <d> *e*')).toBe('a\\|b c &lt;d&gt; \\*e\\*');
    // Every table row has the header's number of cells.
    for (const block of md.split('\n\n')) {
      const rows = block.split('\n').filter((l) => l.startsWith('| '));
      if (!rows.length) continue;
      const cells = (l: string): number => l.replace(/\\\|/g, '').split('|').length;
      for (const r of rows) expect(cells(r)).toBe(cells(rows[0]!));
    }
  });

  it('refuses an unknown format by name', () => {
    expect(() => render(data, 'pdf' as ReportFormat)).toThrow(/unknown report format "pdf": use one of text, json, md, html/);
  });
});
