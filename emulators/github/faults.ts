/**
 * Fault injection with a seeded random generator, so a failing run can be replayed.
 *
 * Spec string: comma-separated key=value pairs, e.g. `latency=20,error5xx=0.1,rate429=0.05,drop=0.02`.
 *   latency=MS or MIN-MAX   added delay before every request is handled
 *   error5xx=P              answer 500/502/503 before the request has any effect
 *   rate429=P               start a 429 storm: this and every request for `storm` ms answer 429 + Retry-After
 *   storm=MS                length of a 429 storm (default 1000)
 *   drop=P                  send the status line and part of the body, then destroy the socket
 *   dropWrites=0|1          let `drop` hit non-GET requests too, after they took effect (default 0)
 *   git=0|1                 apply faults to git smart HTTP as well (default 0)
 *   seed=N                  random seed (default 1)
 */
import { FaultInjector as CoreInjector, parseFaultSpec as parseCore, type FaultConfig as CoreConfig, type FaultDecision as CoreDecision, type FaultOptions } from '../common/faults.js';

export { seededRandom, type FaultCounters } from '../common/faults.js';

type Status = 500 | 502 | 503;
export type FaultDecision = CoreDecision<Status>;

type Flag = 'git';
const OPTIONS: FaultOptions<Flag, Status> = { flags: ['git'], storm: true, stormMs: 1000, statuses: [500, 502, 503] };

export type FaultConfig = CoreConfig<Flag>;

export function parseFaultSpec(spec: string | null | undefined): FaultConfig {
  return parseCore(spec, OPTIONS);
}

export class FaultInjector extends CoreInjector<Flag, Status> {
  constructor(spec: string | null | undefined, now: () => number = Date.now) {
    super(spec, OPTIONS, now);
  }

  /** Decide what happens to one request. `kind` tells REST from git (faulted only with git=1). */
  decide(kind: 'rest' | 'git', method: string): FaultDecision {
    return this.decideFor(method, 'org', kind === 'rest' || this.config.git);
  }
}
