/**
 * Fault injection with a seeded random generator, so a failing run can be replayed.
 *
 * Spec string: comma-separated key=value pairs, e.g. `latency=20,error5xx=0.1,rate429=0.05,drop=0.02`.
 *   latency=MS or MIN-MAX   added delay before every request is handled
 *   error5xx=P              answer 500/502/503/504 before the request has any effect
 *   rate429=P               answer 429 + Retry-After (a throttling burst of `storm` ms for that mailbox/app)
 *   storm=MS                length of a 429 burst (default 1000; Retry-After is its length in whole seconds, at least 1)
 *   drop=P                  send the status line and part of the body, then destroy the socket
 *   dropWrites=0|1          let `drop` hit non-GET requests too, after they took effect (default 0)
 *   seed=N                  random seed (default 1)
 * The token endpoint and the pre-authenticated upload/download URLs are subject to faults too.
 */
import { FaultInjector as CoreInjector, parseFaultSpec as parseCore, type FaultConfig as CoreConfig, type FaultDecision as CoreDecision, type FaultOptions } from '../common/faults.js';

export { seededRandom, type FaultCounters } from '../common/faults.js';

type Status = 500 | 502 | 503 | 504;
export type FaultDecision = CoreDecision<Status>;

type Flag = never;
const OPTIONS: FaultOptions<Flag, Status> = { flags: [], storm: true, stormMs: 1000, statuses: [500, 502, 503, 504] };

export type FaultConfig = CoreConfig<Flag>;

export function parseFaultSpec(spec: string | null | undefined): FaultConfig {
  return parseCore(spec, OPTIONS);
}

export class FaultInjector extends CoreInjector<Flag, Status> {
  constructor(spec: string | null | undefined, now: () => number = Date.now) {
    super(spec, OPTIONS, now);
  }

  /** Decide what happens to one request; `key` groups throttling bursts (a mailbox, or the app). */
  decide(method: string, key: string): FaultDecision {
    return this.decideFor(method, key, true);
  }
}
