import type { Config } from '../config/schema.js';
import { runCycle, type CycleResult } from '../engine/cycle.js';
import { connectorForSource } from '../engine/connectors.js';
import { directionOf, storageSourceKey } from '../engine/direction.js';
import { CliError, openRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { formatMs } from './progress.js';
import { cycleCallbacks, sessionIO } from './session.js';

export interface CycleCommandInput {
  config: Config;
  path: string;
  out: Output;
  sources?: string[];
  scopes?: string[];
  concurrency?: number;
  cacheDir: string;
  signal?: AbortSignal;
}

/** Select the configured sources by name; unknown names are an error that lists the known ones. */
export function selectSources(config: Config, names?: string[]): Config['sources'] {
  if (!names?.length) return config.sources;
  const known = new Set(config.sources.map((s) => s.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new CliError(`unknown source ${unknown.join(', ')}: the config has ${[...known].join(', ') || 'no sources'}`, EXIT.usage);
  return config.sources.filter((s) => names.includes(s.name));
}

export async function runCycleCommand(input: CycleCommandInput): Promise<number> {
  const { config, out } = input;
  const sources = selectSources(config, input.sources);
  const { log, progress } = sessionIO(out);
  const repo = await openRepo(config);
  const results: CycleResult[] = [];
  try {
    await Promise.all(
      sources.map(async (src) => {
        const connector = await connectorForSource(src, log.child({ source: src.name }));
        const key = storageSourceKey(src.name, await directionOf(repo, src.name));
        try {
          const result = await runCycle({
            repo,
            connector,
            source: key,
            cacheDir: input.cacheDir,
            log: log.child({ source: src.name }),
            signal: input.signal,
            only: input.scopes,
            concurrency: input.concurrency ?? src.concurrency,
            ...cycleCallbacks(progress, src.name),
          });
          results.push({ ...result, source: src.name });
        } finally {
          await connector.close();
        }
      }),
    );
  } finally {
    progress.stop();
    await repo.close();
  }
  let ok = true;
  for (const r of results) {
    const bad = r.scopes.filter((s) => !s.ok);
    ok &&= r.ok;
    const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
    out.say(`${r.source}: ${r.scopes.length - bad.length}/${r.scopes.length} scopes exported, imported and verified in ${formatMs(ms)}`);
    for (const s of bad) out.say(`  NOT VERIFIED ${s.name}: ${s.failedStep ? `${s.failedStep} failed: ` : ''}${s.error ?? ''}`);
    out.result({ event: 'cycle', source: r.source, ok: r.ok, startedAt: r.startedAt, finishedAt: r.finishedAt, scopes: r.scopes });
  }
  return ok ? EXIT.ok : EXIT.notOk;
}
