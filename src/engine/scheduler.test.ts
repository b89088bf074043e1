import { describe, expect, it } from 'vitest';
import { silentLogger } from './log.js';
import { runSchedule } from './scheduler.js';

describe('runSchedule', () => {
  it('cycles each source on its interval, never overlapping, and stops on abort after the running cycle', async () => {
    const ac = new AbortController();
    const events: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const cycle = (name: string) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`${name}:end`);
      running--;
      if (events.filter((e) => e === 'a:end').length === 3) ac.abort();
    };
    await runSchedule([{ name: 'a', everyMs: 10, jitterMs: 0, cycle: cycle('a') }], ac.signal, silentLogger);
    expect(events).toEqual(['a:start', 'a:end', 'a:start', 'a:end', 'a:start', 'a:end']);
    expect(maxRunning).toBe(1);
  });

  it('keeps going after a failed cycle', async () => {
    const ac = new AbortController();
    let n = 0;
    await runSchedule([{ name: 'b', everyMs: 1, jitterMs: 0, cycle: async () => { n++; if (n === 2) ac.abort(); throw new Error('boom'); } }], ac.signal, silentLogger);
    expect(n).toBe(2);
  });
});
