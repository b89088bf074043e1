import type { Config } from '../config/schema.js';
import { computeRpo } from '../metrics/rpo.js';
import { computeRto } from '../metrics/rto.js';
import { formatDuration } from '../config/duration.js';
import { openRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { reportSources } from './report-input.js';

const dur = (ms: number | null): string => (ms === null ? 'never' : formatDuration(Math.max(0, Math.round(ms / 1000) * 1000)) || '0s');

/**
 * `norestore status`: each scope's measured RPO, last cycle, last verification and findings; exits 1
 * when any objective (rpo, rto) is missed, so schedulers and monitoring can alert.
 */
export async function runStatusCommand(input: { config: Config; out: Output; sources?: string[]; now?: Date }): Promise<number> {
  const { config, out } = input;
  const repo = await openRepo(config);
  try {
    const sources = await reportSources(config, repo, input.sources);
    const now = input.now ?? new Date();
    const [rpo, rto] = await Promise.all([computeRpo(repo, { sources, now }), computeRto(repo, { sources, now })]);
    const missed = [...rpo.missed, ...rto.missed];
    for (const s of rpo.sources) {
      const r = rto.sources.find((x) => x.source === s.source);
      out.say(`${s.source} (${s.service ?? '?'}): RPO ${dur(s.rpoMs)}${s.objectiveMs !== null ? ` (objective ${dur(s.objectiveMs)})` : ''} ${s.met ? 'ok' : 'MISSED'}`);
      if (r) {
        const classic = r.classic.drill ? `${dur(r.classic.drill.totalMs)} measured` : r.classic.projection ? `${dur(r.classic.projection.ms)} projected` : 'unknown';
        out.say(`  RTO no-restore ${r.noRestore.drill ? `${dur(r.noRestore.drill.totalMs)} measured` : 'never drilled'}; classic restore ${classic}`);
      }
      for (const sc of s.scopes) {
        out.say(
          `  ${sc.scope.padEnd(32)} RPO ${dur(sc.rpoMs).padStart(7)}  exported ${sc.lastExport ?? 'never'}  verified ${sc.lastVerify ?? 'never'}` +
            `${sc.findings ? `  ${sc.findings} findings` : ''}${sc.importFailures ? `  ${sc.importFailures} import failures` : ''}`,
        );
      }
    }
    for (const m of missed) out.say(`MISSED ${m.message}`);
    if (!missed.length) out.say('every objective is met');
    out.result({ event: 'status', now: now.toISOString(), ok: missed.length === 0, rpo, rto, missed });
    return missed.length ? EXIT.notOk : EXIT.ok;
  } finally {
    await repo.close();
  }
}
