import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from './data.js';
import { sampleReportInput } from './fixtures/sample.js';
import { render } from './render.js';

const CHROMIUM = '/usr/bin/chromium';

function chromium(args: string[], userDataDir: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // No DNS lookups at all: the page is a local file and must need nothing else.
        '--dns-prefetch-disable',
        '--no-pings',
        '--host-resolver-rules=MAP * ~NOTFOUND',
        `--user-data-dir=${userDataDir}`,
        ...args,
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 90_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`)) : resolve({ stdout, stderr })),
    );
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe('HTML report in headless Chromium', () => {
  let dir: string;
  let htmlPath: string;
  let html: string;
  let dom: string;
  let png: Buffer;

  beforeAll(async () => {
    // Fail, never skip: the CI machine installs chromium through scripts/setup.sh.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup.sh (installs Debian's chromium) to run the HTML report render test`);
    dir = await mkdtemp(join(tmpdir(), 'norestore-html-'));
    const data = await buildReport(sampleReportInput());
    html = render(data, 'html');
    htmlPath = join(dir, 'report.html');
    await writeFile(htmlPath, html);
    const url = pathToFileURL(htmlPath).href;
    const shot = join(dir, 'report.png');
    // Two independent browser runs, in parallel (each with its own fresh profile).
    const [d] = await Promise.all([chromium(['--dump-dom', url], join(dir, 'profile-dom')), chromium([`--screenshot=${shot}`, '--window-size=1280,2400', '--hide-scrollbars', url], join(dir, 'profile-shot'))]);
    dom = d.stdout;
    png = await readFile(shot);
    if (process.env.NORESTORE_KEEP_REPORT) await writeFile(process.env.NORESTORE_KEEP_REPORT, png);
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is one self-contained file: no script, no external resource', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|<link\b/i);
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it('escapes text from the data (titles, messages, error details)', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('Fix &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;quotes&#39;');
    // Chromium parsed it as text: no injected element in the DOM.
    expect(dom).not.toMatch(/<script>alert/);
    expect(dom).toContain('alert(1)');
  });

  it('renders the SVG charts and the tables in the DOM', () => {
    const svgs = dom.match(/<svg\b[^>]*class="chart[^"]*"/g) ?? [];
    // One RTO chart plus one RPO chart per restorable kind with history (6 GitHub + 4 Google + 3 Microsoft).
    expect(dom.match(/class="chart rto-chart"/g)).toHaveLength(1);
    expect(dom.match(/class="chart rpo-chart"/g)).toHaveLength(13);
    expect(svgs).toHaveLength(14);
    expect(dom.match(/<path class="rpo-line" d="M[^"]{20,}"/g)?.length).toBeGreaterThanOrEqual(13);
    expect(dom.match(/class="bar-norestore"/g)).toHaveLength(2);
    expect(dom.match(/class="bar-classic"/g)).toHaveLength(3);
    expect(dom).toContain('logarithmic scale');
    expect(dom.match(/<line class="objective"/g)?.length).toBeGreaterThanOrEqual(16);
    for (const id of ['objectives', 'sources', 'freshness', 'coverage', 'fidelity']) expect(dom).toContain(`<section id="${id}">`);
    expect(dom).toContain('<table class="coverage">');
    expect(dom.match(/<table class="fidelity">/g)).toHaveLength(3);
    expect(dom).toContain('Teams channel messages');
    expect(dom).toContain('not possessed');
    expect(dom).toContain('possessed, not restorable');
    expect(dom).toContain('never measured: run norestore drill');
  });

  it('produces a non-trivial screenshot', async () => {
    const { width, height } = pngSize(png);
    expect(width).toBe(1280);
    expect(height).toBe(2400);
    // A blank page of this size compresses to a few KiB; a rendered report is far larger.
    expect(png.length).toBeGreaterThan(150_000);
    expect((await stat(htmlPath)).size).toBeGreaterThan(50_000);
  });
});
