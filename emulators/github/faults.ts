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

/** mulberry32: small, fast, deterministic. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultConfig {
  latencyMin: number;
  latencyMax: number;
  error5xx: number;
  rate429: number;
  stormMs: number;
  drop: number;
  dropWrites: boolean;
  git: boolean;
  seed: number;
}

export const NO_FAULTS: FaultConfig = {
  latencyMin: 0, latencyMax: 0, error5xx: 0, rate429: 0, stormMs: 1000, drop: 0, dropWrites: false, git: false, seed: 1,
};

export function parseFaultSpec(spec: string | null | undefined): FaultConfig {
  const cfg: FaultConfig = { ...NO_FAULTS };
  if (!spec || !spec.trim()) return cfg;
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw new Error(`fault spec: "${p}" needs the form key=value (e.g. error5xx=0.1)`);
    const key = p.slice(0, eq).trim();
    const raw = p.slice(eq + 1).trim();
    const num = (): number => {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new Error(`fault spec: ${key}=${raw} is not a non-negative number`);
      return n;
    };
    const prob = (): number => {
      const n = num();
      if (n > 1) throw new Error(`fault spec: ${key}=${raw} must be a probability between 0 and 1`);
      return n;
    };
    switch (key) {
      case 'latency': {
        const m = /^(\d+)(?:-(\d+))?$/.exec(raw);
        if (!m) throw new Error(`fault spec: latency=${raw} must be MS or MIN-MAX`);
        cfg.latencyMin = Number(m[1]);
        cfg.latencyMax = m[2] !== undefined ? Number(m[2]) : cfg.latencyMin;
        if (cfg.latencyMax < cfg.latencyMin) throw new Error(`fault spec: latency=${raw}: MAX below MIN`);
        break;
      }
      case 'error5xx': cfg.error5xx = prob(); break;
      case 'rate429': cfg.rate429 = prob(); break;
      case 'storm': cfg.stormMs = num(); break;
      case 'drop': cfg.drop = prob(); break;
      case 'dropWrites': cfg.dropWrites = raw === '1' || raw === 'true'; break;
      case 'git': cfg.git = raw === '1' || raw === 'true'; break;
      case 'seed': cfg.seed = Math.floor(num()); break;
      default:
        throw new Error(`fault spec: unknown key "${key}" (known: latency, error5xx, rate429, storm, drop, dropWrites, git, seed)`);
    }
  }
  return cfg;
}

export type FaultDecision =
  | { action: 'none'; latencyMs: number }
  | { action: 'error5xx'; latencyMs: number; status: 500 | 502 | 503 }
  | { action: 'rate429'; latencyMs: number; retryAfter: number }
  | { action: 'drop'; latencyMs: number };

export interface FaultCounters {
  errors5xx: number;
  rate429: number;
  drops: number;
  delayed: number;
}

export class FaultInjector {
  private cfg: FaultConfig;
  private rand: () => number;
  private stormUntil = 0;
  readonly counters: FaultCounters = { errors5xx: 0, rate429: 0, drops: 0, delayed: 0 };

  constructor(spec: string | null | undefined, private readonly now: () => number = Date.now) {
    this.cfg = parseFaultSpec(spec);
    this.rand = seededRandom(this.cfg.seed);
  }

  /** Replace the configuration (and restart the random sequence from its seed). */
  set(spec: string | null | undefined): void {
    this.cfg = parseFaultSpec(spec);
    this.rand = seededRandom(this.cfg.seed);
    this.stormUntil = 0;
  }

  get config(): Readonly<FaultConfig> {
    return this.cfg;
  }

  /** Decide what happens to one request. `kind` tells REST from git. */
  decide(kind: 'rest' | 'git', method: string): FaultDecision {
    const c = this.cfg;
    if (kind === 'git' && !c.git) return { action: 'none', latencyMs: 0 };
    // Draw every number on every request so the sequence depends only on the request count.
    const rLatency = this.rand();
    const r5xx = this.rand();
    const r429 = this.rand();
    const rDrop = this.rand();
    const rCode = this.rand();
    const latencyMs = c.latencyMax > 0 ? Math.round(c.latencyMin + rLatency * (c.latencyMax - c.latencyMin)) : 0;
    if (latencyMs > 0) this.counters.delayed++;
    const now = this.now();
    if (now < this.stormUntil) {
      this.counters.rate429++;
      return { action: 'rate429', latencyMs, retryAfter: Math.max(1, Math.ceil((this.stormUntil - now) / 1000)) };
    }
    if (c.rate429 > 0 && r429 < c.rate429) {
      this.stormUntil = now + c.stormMs;
      this.counters.rate429++;
      return { action: 'rate429', latencyMs, retryAfter: Math.max(1, Math.ceil(c.stormMs / 1000)) };
    }
    if (c.error5xx > 0 && r5xx < c.error5xx) {
      this.counters.errors5xx++;
      const status = rCode < 0.34 ? 500 : rCode < 0.67 ? 502 : 503;
      return { action: 'error5xx', latencyMs, status };
    }
    const isRead = method === 'GET' || method === 'HEAD';
    if (c.drop > 0 && rDrop < c.drop && (isRead || c.dropWrites)) {
      this.counters.drops++;
      return { action: 'drop', latencyMs };
    }
    return { action: 'none', latencyMs };
  }
}
