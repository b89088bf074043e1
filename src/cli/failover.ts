import type { LoadedConfig } from '../config/load.js';
import { connectorForSource } from '../engine/connectors.js';
import { runFailover } from '../engine/failover.js';
import { renderRunbook } from '../engine/runbook.js';
import { openRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { cycleCallbacks, findSource, sessionIO } from './session.js';

/** `norestore failover|failback --source NAME [--dry-run] [--force]`. */
export async function runFailoverCommand(input: { loaded: LoadedConfig; out: Output; source?: string; direction: 'failover' | 'failback'; dryRun: boolean; force: boolean }): Promise<number> {
  const { loaded, out } = input;
  const src = findSource(loaded.config, input.source);
  const { log, progress } = sessionIO(out);
  const repo = await openRepo(loaded.config);
  const connector = await connectorForSource(src, log.child({ source: src.name }));
  try {
    const r = await runFailover({
      repo, src, configPath: loaded.path, connector, cacheDir: loaded.config.cacheDir, log: log.child({ source: src.name }),
      direction: input.direction, dryRun: input.dryRun, force: input.force, onCycle: cycleCallbacks(progress, src.name),
    });
    progress.stop();
    const title = `${input.direction}${input.dryRun ? ' (dry-run: nothing is changed)' : ''}: ${src.name} from ${r.from} to ${r.to}`;
    out.say(title);
    if (input.dryRun) {
      const pending = r.pending.reduce((n, p) => n + p.pendingRecords, 0);
      // Only what the storage knows: changes made at the source since the last export are not counted.
      out.say(`  changes exported but not yet imported into the standby: ${pending} across ${r.pending.length} scopes; a real ${input.direction} first exports what changed since, then imports it all`);
      for (const p of r.pending) out.say(`    ${p.scope}: ${p.pendingRecords} pending, last verified ${p.lastVerifiedAt ?? 'never'}${p.findings ? `, ${p.findings} findings` : ''}`);
    } else if (r.catchUp) {
      out.say(`  final catch-up: ${r.catchUp.scopes.filter((s) => s.ok).length}/${r.catchUp.scopes.length} scopes exported, imported and verified`);
    }
    if (r.refused) {
      out.error(`${input.direction} not done: ${r.refused}`);
      out.result({ event: input.direction, source: src.name, ...r });
      return EXIT.notOk;
    }
    out.say(`\nRunbook:\n${renderRunbook(r.runbook)}`);
    for (const h of r.hooks) out.say(`  hook ${h.name}: ${h.ok ? 'ok' : 'FAILED'} (${h.ms} ms)`);
    out.say(
      input.dryRun
        ? `\nThen replication would be reversed: ${r.to} becomes the source and ${r.from} the standby (generation ${r.after.generation}); the config file would say so.`
        : `\nReplication reversed: ${r.to} is now the source, ${r.from} the standby (generation ${r.after.generation}). ${loaded.path} says so (backup: ${r.configBackup}).`,
    );
    out.result({ event: input.direction, source: src.name, ...r });
    return EXIT.ok;
  } finally {
    progress.stop();
    await connector.close();
    await repo.close();
  }
}
