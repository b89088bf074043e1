import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaultSpec } from './faults.js';

describe('faults', () => {
  it('parses the spec string and names bad keys', () => {
    expect(parseFaultSpec('latency=20,error5xx=0.1,rate429=0.05,drop=0.02')).toMatchObject({ latencyMin: 20, latencyMax: 20, error5xx: 0.1, rate429: 0.05, drop: 0.02 });
    expect(parseFaultSpec('latency=5-10').latencyMax).toBe(10);
    expect(() => parseFaultSpec('bogus=1')).toThrow(/unknown key "bogus"/);
    expect(() => parseFaultSpec('error5xx=2')).toThrow(/probability/);
  });
  it('is deterministic for a seed and spares writes from drops by default', () => {
    const a = new FaultInjector('error5xx=0.3,drop=0.3,seed=7');
    const b = new FaultInjector('error5xx=0.3,drop=0.3,seed=7');
    const seq = (f: FaultInjector) => Array.from({ length: 50 }, () => f.decide('api', 'GET').action);
    expect(seq(a)).toEqual(seq(b));
    const w = new FaultInjector('drop=1');
    expect(w.decide('api', 'POST').action).toBe('none');
    expect(w.decide('api', 'GET').action).toBe('drop');
  });
});
