/**
 * Fault injection with a seeded random generator, so a failing run can be replayed.
 *
 * Spec string: comma-separated key=value pairs, e.g. `latency=20,error5xx=0.1,rate429=0.05,drop=0.02`.
 *   latency=MS or MIN-MAX   added delay before every request is handled
 *   error5xx=P              answer 500/502/503 (Google's backendError body) before the request has any effect
 *   rate429=P               answer 429 rateLimitExceeded with Retry-After before the request has any effect
 *   drop=P                  send the status line and part of the body, then destroy the socket
 *                           (reads only, unless dropWrites=1: then writes too, after they took effect)
 *   dropWrites=0|1          see drop (default 0)
 *   auth=0|1                apply faults to the token endpoint as well (default 0)
 *   seed=N                  random seed (default 1)
 */
import { FaultInjector as CoreInjector, parseFaultSpec as parseCore, type FaultConfig as CoreConfig, type FaultDecision as CoreDecision, type FaultOptions } from '../common/faults.js';

export { seededRandom, type FaultCounters } from '../common/faults.js';

type Status = 500 | 502 | 503;
export type FaultDecision = CoreDecision<Status>;

type Flag = 'auth';
const OPTIONS: FaultOptions<Flag, Status> = { flags: ['auth'], storm: false, stormMs: 0, statuses: [500, 502, 503] };

export type FaultConfig = CoreConfig<Flag>;

export function parseFaultSpec(spec: string | null | undefined): FaultConfig {
  return parseCore(spec, OPTIONS);
}

export class FaultInjector extends CoreInjector<Flag, Status> {
  constructor(spec: string | null | undefined, now: () => number = Date.now) {
    super(spec, OPTIONS, now);
  }

  /** Decide what happens to one request; the token endpoint only with auth=1. */
  decide(kind: 'api' | 'token', method: string): FaultDecision {
    return this.decideFor(method, 'api', kind === 'api' || this.config.auth);
  }
}
