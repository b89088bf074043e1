import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../index.js';
import { FaultInjector, parseFaultSpec } from './faults.js';

describe('fault spec and seeded injector', () => {
  it('parses the documented keys and rejects unknown or out-of-range ones', () => {
    expect(parseFaultSpec('latency=20,error5xx=0.1,rate429=0.05,drop=0.02')).toMatchObject({ latencyMin: 20, latencyMax: 20, error5xx: 0.1, rate429: 0.05, drop: 0.02, seed: 1 });
    expect(parseFaultSpec('latency=5-50,storm=250,seed=9,git=1,dropWrites=1')).toMatchObject({ latencyMin: 5, latencyMax: 50, stormMs: 250, seed: 9, git: true, dropWrites: true });
    expect(parseFaultSpec('')).toMatchObject({ error5xx: 0, drop: 0 });
    expect(() => parseFaultSpec('error5xx=2')).toThrow(/probability/);
    expect(() => parseFaultSpec('boom=1')).toThrow(/unknown key "boom"/);
    expect(() => parseFaultSpec('drop')).toThrow(/key=value/);
  });

  it('draws the same decisions for the same seed, different ones for another seed', () => {
    const run = (spec: string) => {
      const f = new FaultInjector(spec, () => 0);
      return Array.from({ length: 200 }, () => f.decide('rest', 'GET').action);
    };
    const a = run('error5xx=0.2,drop=0.1,seed=42');
    expect(run('error5xx=0.2,drop=0.1,seed=42')).toEqual(a);
    expect(run('error5xx=0.2,drop=0.1,seed=43')).not.toEqual(a);
    expect(a.filter((x) => x === 'error5xx').length).toBeGreaterThan(20);
    expect(a.filter((x) => x === 'drop').length).toBeGreaterThan(5);
    const writes = new FaultInjector('drop=1', () => 0);
    expect(writes.decide('rest', 'POST').action).toBe('none');
    expect(new FaultInjector('drop=1', () => 0).decide('git', 'GET').action).toBe('none');
  });

  it('keeps a 429 storm going for its duration with a shrinking Retry-After', () => {
    let now = 0;
    expect(new FaultInjector('rate429=1,storm=3000', () => now).decide('rest', 'GET')).toMatchObject({ action: 'rate429', retryAfter: 3 });
    const h = new FaultInjector('rate429=0.05,storm=3000,seed=4', () => now);
    let d = h.decide('rest', 'GET');
    while (d.action !== 'rate429') d = h.decide('rest', 'GET');
    now += 1500;
    // inside the storm every request is refused, whatever the draw
    for (let i = 0; i < 5; i++) expect(h.decide('rest', 'GET')).toMatchObject({ action: 'rate429', retryAfter: 2 });
    now += 1600;
    expect(h.decide('rest', 'GET').action).not.toBe('rate429');
    h.set(null);
    expect(h.decide('rest', 'GET').action).toBe('none');
  });
});

describe('GitHub emulator fault injection', () => {
  let emu: RunningEmulator;
  let owner: string;
  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${emu.baseUrl}${path}`, { ...init, headers: { authorization: `token ${emu.credentials.token}`, ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    emu = await startEmulator('github', { seed: 'empty', role: 'standby' });
    owner = emu.orgs[0] as string;
    await emu.mutate.createRepo('f');
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('answers 5xx before a request takes effect', async () => {
    emu.setFaults('error5xx=1,seed=3');
    const r = await get(`/repos/${owner}/f/issues`, { method: 'POST', body: JSON.stringify({ title: 'lost' }) });
    expect([500, 502, 503]).toContain(r.status);
    expect(await r.json()).toMatchObject({ message: expect.any(String), documentation_url: expect.any(String) });
    emu.setFaults(null);
    expect(emu.mutate.repo('f').issues.size).toBe(0);
  });

  it('replays the same sequence of faults after setFaults with the same seed', async () => {
    const seq = async () => {
      emu.setFaults('error5xx=0.4,seed=11');
      const out: number[] = [];
      for (let i = 0; i < 15; i++) out.push((await get(`/repos/${owner}/f`)).status);
      emu.setFaults(null);
      return out;
    };
    const a = await seq();
    expect(await seq()).toEqual(a);
    expect(a.some((s) => s >= 500)).toBe(true);
    expect(a.some((s) => s === 200)).toBe(true);
  });

  it('storms 429 with Retry-After', async () => {
    emu.setFaults('rate429=1,storm=5000');
    const a = await get(`/repos/${owner}/f`);
    const b = await get(`/repos/${owner}/f`);
    emu.setFaults(null);
    expect([a.status, b.status]).toEqual([429, 429]);
    expect(Number(a.headers.get('retry-after'))).toBe(5);
    expect(Number(b.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
    expect(emu.stats().faults.rate429).toBeGreaterThanOrEqual(2);
  });

  it('drops connections mid-response; writes only with dropWrites=1, after they took effect', async () => {
    emu.setFaults('drop=1');
    await expect(get(`/repos/${owner}/f`).then((r) => r.json())).rejects.toThrow();
    const write = await get(`/repos/${owner}/f/issues`, { method: 'POST', body: JSON.stringify({ title: 'kept' }) });
    expect(write.status).toBe(201);
    emu.setFaults('drop=1,dropWrites=1');
    await expect(get(`/repos/${owner}/f/issues`, { method: 'POST', body: JSON.stringify({ title: 'created, response lost' }) }).then((r) => r.json())).rejects.toThrow();
    emu.setFaults(null);
    expect([...emu.mutate.repo('f').issues.values()].map((i) => i.title)).toEqual(['kept', 'created, response lost']);
    expect(emu.stats().faults.drops).toBe(2);
  });

  it('adds latency', async () => {
    emu.setFaults('latency=40');
    const t = Date.now();
    await get(`/repos/${owner}/f`);
    emu.setFaults(null);
    expect(Date.now() - t).toBeGreaterThanOrEqual(40);
  });
});
