import type { Config, SourceConfig } from '../config/schema.js';
import { createLogger } from '../engine/log.js';
import type { Logger } from '../model/connector.js';
import { EXIT, type Output } from './output.js';
import { CliError } from './context.js';
import { logProgress, ttyProgress, type Progress } from './progress.js';

/** Logger and progress display for a command, by output mode (terminal, JSON lines, quiet). */
export function sessionIO(out: Output): { log: Logger & { child(f: Record<string, unknown>): Logger }; progress: Progress } {
  const log = createLogger({ sink: out.stderr, json: out.json || !out.tty, level: out.quiet ? 'warn' : 'info' });
  const progress: Progress =
    out.tty && !out.json && !out.quiet
      ? ttyProgress(out.stderr as NodeJS.WriteStream, out.color)
      : out.quiet
        ? logProgress(createLogger({ sink: out.stderr, json: true, level: 'warn' }))
        : logProgress(createLogger({ sink: out.stdout, json: true }));
  return { log: log as Logger & { child(f: Record<string, unknown>): Logger }, progress };
}

/** Cycle callbacks that feed a progress display for one source. */
export function cycleCallbacks(progress: Progress, name: string) {
  return {
    onPlan: (scopes: unknown[]) => progress.setTotal(name, scopes.length),
    onScope: (e: Parameters<Progress['scope']>[0]) => progress.scope(e, name),
    progress: (e: Parameters<Progress['step']>[0]) => progress.step({ ...e, source: name }),
  };
}

export function findSource(config: Config, name: string | undefined): SourceConfig {
  if (!name) {
    if (config.sources.length === 1 && config.sources[0]) return config.sources[0];
    throw new CliError(`--source NAME is required (the config has ${config.sources.map((s) => s.name).join(', ') || 'no sources'})`, EXIT.usage);
  }
  const src = config.sources.find((s) => s.name === name);
  if (!src) throw new CliError(`unknown source ${name}: the config has ${config.sources.map((s) => s.name).join(', ') || 'no sources'}`, EXIT.usage);
  return src;
}
