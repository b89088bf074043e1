import type { Config } from '../config/schema.js';
import { connectorForSource } from '../engine/connectors.js';
import { directionOf, storageSourceKey } from '../engine/direction.js';
import { runFreshDrill, runNoRestoreDrill } from '../engine/drill.js';
import { renderRunbook } from '../engine/runbook.js';
import { openRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { formatMs } from './progress.js';
import { cycleCallbacks, sessionIO } from './session.js';
import { selectSources } from './cycle.js';

/**
 * `norestore drill [--fresh]`: measure the no-restore RTO (catch-up, verify, switch steps in
 * dry-run) or the classic RTO (full restore into an empty tenant), record it, switch nothing.
 */
export async function runDrillCommand(input: { config: Config; out: Output; sources?: string[]; fresh: boolean }): Promise<number> {
  const { config, out } = input;
  const sources = selectSources(config, input.sources);
  const { log, progress } = sessionIO(out);
  const repo = await openRepo(config);
  let ok = true;
  try {
    for (const src of sources) {
      const key = storageSourceKey(src.name, await directionOf(repo, src.name));
      const connector = await connectorForSource(src, log.child({ source: src.name }), { fresh: input.fresh });
      try {
        const common = { repo, src, key, connector, cacheDir: config.cacheDir, log: log.child({ source: src.name }), concurrency: src.concurrency, ...cycleCallbacks(progress, src.name) };
        const r = input.fresh ? await runFreshDrill(common) : await runNoRestoreDrill(common);
        progress.stop();
        const d = r.document;
        ok &&= d.ok;
        out.say(`${src.name}: ${d.mode === 'fresh' ? 'classic RTO (full restore into an empty tenant)' : 'no-restore RTO'} measured ${formatMs(d.totalMs)}${d.ok ? '' : `  NOT OK: ${d.findings} findings`}`);
        for (const s of d.steps) out.say(`  ${formatMs(s.ms).padStart(8)}  ${s.name}${s.detail ? `  (${s.detail})` : ''}`);
        if (r.runbook.length) out.say(`\nSwitch steps (dry-run, nothing switched):\n${renderRunbook(r.runbook)}`);
        out.result({ event: 'drill', ...d, runbook: r.runbook });
      } finally {
        await connector.close();
      }
    }
  } finally {
    progress.stop();
    await repo.close();
  }
  return ok ? EXIT.ok : EXIT.notOk;
}
