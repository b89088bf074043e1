import type { Logger } from '../model/connector.js';

export interface ScheduledSource {
  name: string;
  everyMs: number;
  jitterMs: number;
  /** One cycle; resolves when it is committed (or has failed). Must honour the signal. */
  cycle(signal: AbortSignal): Promise<unknown>;
}

/**
 * The long-running loop of `norestore run`: each source cycles on its own schedule (interval plus
 * random jitter, measured from the end of the previous cycle so cycles of one source never overlap).
 * Resolves when `signal` aborts and every running cycle has finished or abandoned its step.
 */
export async function runSchedule(sources: ScheduledSource[], signal: AbortSignal, log: Logger, random: () => number = Math.random): Promise<void> {
  await Promise.all(
    sources.map(async (s) => {
      while (!signal.aborted) {
        const started = Date.now();
        try {
          await s.cycle(signal);
        } catch (err) {
          log.error('cycle failed', { source: s.name, error: err instanceof Error ? err.message : String(err) });
        }
        if (signal.aborted) break;
        const wait = Math.max(0, s.everyMs - (Date.now() - started)) + Math.floor(random() * s.jitterMs);
        log.info('next cycle scheduled', { source: s.name, inMs: wait, at: new Date(Date.now() + wait).toISOString() });
        await sleep(wait, signal);
      }
    }),
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
