import { loadConfig, type LoadedConfig } from '../config/load.js';
import { scheduleFor } from '../config/schema.js';
import { runSchedule } from '../engine/scheduler.js';
import { EXIT, type Output } from './output.js';
import { runCycleCommand, selectSources } from './cycle.js';
import { sessionIO } from './session.js';

/**
 * `norestore run`: the daemon. Each source cycles on its schedule. SIGTERM/SIGINT: running steps
 * finish or abandon cleanly (a step without its manifest never happened), then exit 0; a second
 * signal exits at once (still safe: the commit rule holds at any instant).
 */
export async function runDaemonCommand(input: { loaded: LoadedConfig; out: Output; sources?: string[] }): Promise<number> {
  const { out } = input;
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) process.exit(130);
    out.error(`norestore run: ${sig} received, finishing the running steps (send again to exit at once)`);
    ac.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const names = selectSources(input.loaded.config, input.sources).map((s) => s.name);
    await runSchedule(
      names.map((name) => {
        const sched = scheduleFor(input.loaded.config, name);
        return {
          name,
          everyMs: sched.everyMs,
          jitterMs: sched.jitterMs,
          // Re-read the config each cycle: a failover swaps source and standby in it.
          cycle: async (signal: AbortSignal) => {
            const fresh = await loadConfig(input.loaded.path).catch(() => input.loaded);
            return runCycleCommand({ config: fresh.config, path: fresh.path, out, sources: [name], cacheDir: fresh.config.cacheDir, signal });
          },
        };
      }),
      ac.signal,
      sessionIO(out).log,
    );
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return EXIT.ok;
}
