import { writeFile, rename } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { buildReport } from '../report/data.js';
import { render, REPORT_FORMATS, type ReportFormat } from '../report/render.js';
import { CliError, openRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { reportSources } from './report-input.js';

/** `norestore report [--format text|json|md|html] [--out FILE]`; exits 1 when an objective is missed. */
export async function runReportCommand(input: { config: Config; out: Output; format: string; outFile?: string; sources?: string[] }): Promise<number> {
  const { config, out } = input;
  if (!(REPORT_FORMATS as readonly string[]).includes(input.format)) throw new CliError(`--format: expected one of ${REPORT_FORMATS.join(', ')}, got "${input.format}"`, EXIT.usage);
  const format = input.format as ReportFormat;
  const repo = await openRepo(config);
  try {
    const data = await buildReport({ repo, sources: await reportSources(config, repo, input.sources), now: new Date() });
    const text = render(data, format, { color: out.color && !input.outFile });
    if (input.outFile) {
      const tmp = `${input.outFile}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, input.outFile);
      out.say(`report written to ${input.outFile}`);
    } else if (format === 'json' || !out.json) {
      out.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
    return data.missed.length ? EXIT.notOk : EXIT.ok;
  } finally {
    await repo.close();
  }
}
