/**
 * Fault injection shared by the emulators, with a seeded random generator so a failing run can be
 * replayed. Each emulator's faults.ts documents its spec keys and where its faults apply; this is
 * the parsing and the decision.
 *
 * Spec string: comma-separated key=value pairs, e.g. `latency=20,error5xx=0.1,rate429=0.05,drop=0.02`.
 * Common keys: latency=MS or MIN-MAX, error5xx=P, rate429=P, drop=P, dropWrites=0|1, seed=N; with
 * `storm` enabled also storm=MS (a 429 starts a burst: every request of the same key answers 429
 * until it ends); plus each emulator's own on/off flags.
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

export interface FaultOptions<F extends string, S extends number = number> {
  /** The emulator's own on/off keys (default off). */
  flags: readonly F[];
  /** Whether `storm=MS` is a key, and its default (0: a 429 is a single answer). */
  storm: boolean;
  stormMs: number;
  /** The 5xx statuses drawn from, with equal chance. */
  statuses: readonly S[];
}

export type FaultConfig<F extends string> = {
  latencyMin: number;
  latencyMax: number;
  error5xx: number;
  rate429: number;
  stormMs: number;
  drop: number;
  dropWrites: boolean;
  seed: number;
} & Record<F, boolean>;

export function parseFaultSpec<F extends string>(spec: string | null | undefined, opts: FaultOptions<F, number>): FaultConfig<F> {
  const cfg = { latencyMin: 0, latencyMax: 0, error5xx: 0, rate429: 0, stormMs: opts.stormMs, drop: 0, dropWrites: false, seed: 1 } as FaultConfig<F>;
  const flags = cfg as Record<string, unknown>;
  for (const f of opts.flags) flags[f] = false;
  if (!spec || !spec.trim()) return cfg;
  const known = ['latency', 'error5xx', 'rate429', ...(opts.storm ? ['storm'] : []), 'drop', 'dropWrites', ...opts.flags, 'seed'];
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw new Error(`fault spec: "${p}" needs the form key=value (e.g. error5xx=0.1)`);
    const key = p.slice(0, eq).trim();
    const raw = p.slice(eq + 1).trim();
    const num = (): number => {
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n) || n < 0) throw new Error(`fault spec: ${key}=${raw} is not a non-negative number`);
      return n;
    };
    const prob = (): number => {
      const n = num();
      if (n > 1) throw new Error(`fault spec: ${key}=${raw} must be a probability between 0 and 1`);
      return n;
    };
    const flag = (): boolean => {
      if (!['0', '1', 'true', 'false'].includes(raw)) throw new Error(`fault spec: ${key}=${raw} must be 0 or 1`);
      return raw === '1' || raw === 'true';
    };
    if (!known.includes(key)) throw new Error(`fault spec: unknown key "${key}" (known: ${known.join(', ')})`);
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
      case 'dropWrites': cfg.dropWrites = flag(); break;
      case 'seed': cfg.seed = Math.floor(num()); break;
      default: flags[key] = flag();
    }
  }
  return cfg;
}

export type FaultDecision<S extends number = number> =
  | { action: 'none'; latencyMs: number }
  | { action: 'error5xx'; latencyMs: number; status: S }
  | { action: 'rate429'; latencyMs: number; retryAfter: number }
  | { action: 'drop'; latencyMs: number };

export interface FaultCounters {
  errors5xx: number;
  rate429: number;
  drops: number;
  delayed: number;
}

export class FaultInjector<F extends string, S extends number = number> {
  private cfg: FaultConfig<F>;
  private rand: () => number;
  /** 429 bursts per key (a mailbox, an app, the org): until when every request of the key answers 429. */
  private readonly stormUntil = new Map<string, number>();
  readonly counters: FaultCounters = { errors5xx: 0, rate429: 0, drops: 0, delayed: 0 };

  constructor(
    spec: string | null | undefined,
    private readonly opts: FaultOptions<F, S>,
    private readonly now: () => number = Date.now,
  ) {
    this.cfg = parseFaultSpec(spec, opts);
    this.rand = seededRandom(this.cfg.seed);
  }

  /** Replace the configuration (and restart the random sequence from its seed). Throws on a bad spec. */
  set(spec: string | null | undefined): void {
    this.cfg = parseFaultSpec(spec, this.opts);
    this.rand = seededRandom(this.cfg.seed);
    this.stormUntil.clear();
  }

  get config(): Readonly<FaultConfig<F>> {
    return this.cfg;
  }

  /**
   * What happens to one request. `key` groups 429 bursts; `applies` false (a path the spec leaves
   * alone) answers 'none' without drawing, so the sequence depends only on the requests it covers.
   */
  protected decideFor(method: string, key: string, applies: boolean): FaultDecision<S> {
    if (!applies) return { action: 'none', latencyMs: 0 };
    const c = this.cfg;
    // Draw every number on every request so the sequence depends only on the request count.
    const rLatency = this.rand();
    const r5xx = this.rand();
    const r429 = this.rand();
    const rDrop = this.rand();
    const rCode = this.rand();
    const latencyMs = c.latencyMax > 0 ? Math.round(c.latencyMin + rLatency * (c.latencyMax - c.latencyMin)) : 0;
    if (latencyMs > 0) this.counters.delayed++;
    const now = this.now();
    const until = this.stormUntil.get(key) ?? 0;
    if (now < until) {
      this.counters.rate429++;
      return { action: 'rate429', latencyMs, retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
    }
    if (c.rate429 > 0 && r429 < c.rate429) {
      if (c.stormMs > 0) this.stormUntil.set(key, now + c.stormMs);
      this.counters.rate429++;
      return { action: 'rate429', latencyMs, retryAfter: Math.max(1, Math.ceil(c.stormMs / 1000)) };
    }
    if (c.error5xx > 0 && r5xx < c.error5xx) {
      this.counters.errors5xx++;
      const n = this.opts.statuses.length;
      return { action: 'error5xx', latencyMs, status: this.opts.statuses[Math.min(n - 1, Math.floor(rCode * n))]! };
    }
    const isRead = method === 'GET' || method === 'HEAD';
    if (c.drop > 0 && rDrop < c.drop && (isRead || c.dropWrites)) {
      this.counters.drops++;
      return { action: 'drop', latencyMs };
    }
    return { action: 'none', latencyMs };
  }
}
