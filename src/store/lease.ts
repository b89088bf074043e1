import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { TargetError } from '../../targets/types.js';
import type { StoreContext } from './context.js';
import { LeaseHeldError, LeaseLostError } from './errors.js';
import { readAll } from './objects.js';
import { LOCKS_PREFIX, scopeDir } from './paths.js';
import type { Lease } from './types.js';

/**
 * Scope leases (docs/FORMAT.md, "Locks"). Each holder writes its own lock object
 * locks/<source>/<scope>/<token> (plain JSON), then lists the scope's locks: if any other live lock
 * is there, it withdraws. Two contenders can both withdraw, never both win (the list follows the
 * write). A lock is stale when it expired (plus the clock-skew allowance) or when its holder ran on
 * this host (same boot) and its pid is gone.
 */

export const DEFAULT_TTL_MS = 60_000;
export const DEFAULT_CLOCK_SKEW_MS = 5_000;
const ATTEMPTS = 4;

export interface LockRecord {
  formatVersion: 1;
  token: string;
  holder: string;
  host: string;
  /** Kernel boot id where available: a pid is only meaningful within one boot. */
  bootId: string;
  pid: number;
  acquiredAt: string;
  expiresAt: string;
  ttlMs: number;
}

export interface LockInfo {
  key: string;
  record: LockRecord | null;
  stale: boolean;
  /** Why it is stale, or why it could not be read. */
  reason: string;
}

let bootIdCache: string | null = null;
export function bootId(): string {
  if (bootIdCache === null) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLock(bytes: Buffer): LockRecord | null {
  try {
    const r = JSON.parse(bytes.toString('utf8')) as Partial<LockRecord>;
    if (typeof r.token !== 'string' || typeof r.host !== 'string' || typeof r.pid !== 'number' || typeof r.expiresAt !== 'string' || Number.isNaN(Date.parse(r.expiresAt))) return null;
    return { formatVersion: 1, holder: String(r.holder ?? 'unknown'), bootId: String(r.bootId ?? ''), acquiredAt: String(r.acquiredAt ?? ''), ttlMs: Number(r.ttlMs ?? 0), ...r } as LockRecord;
  } catch {
    return null;
  }
}

export class LeaseImpl implements Lease {
  expiresAt: number;
  lost: string | null = null;
  released = false;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;

  constructor(
    private readonly manager: LeaseManager,
    readonly source: string,
    readonly scope: string,
    readonly key: string,
    readonly record: LockRecord,
  ) {
    this.expiresAt = Date.parse(record.expiresAt);
  }

  valid(): boolean {
    if (this.released || this.lost !== null) return false;
    if (Date.now() >= this.expiresAt) {
      // once expired, another process may have taken the scope: the lease never comes back
      this.markLost(`it expired at ${new Date(this.expiresAt).toISOString()}`);
      return false;
    }
    return true;
  }

  remainingMs(): number {
    return this.expiresAt - Date.now();
  }

  startRenewing(): void {
    const every = Math.max(10, Math.floor(this.record.ttlMs / 3));
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  markLost(why: string): void {
    if (this.lost === null) this.lost = why;
    this.stop();
  }

  /** Extend the lease by its ttl; marks it lost if it expired or its lock object is gone. */
  renew(): Promise<void> {
    this.renewing ??= this.doRenew().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<void> {
    if (this.released || this.lost !== null) return;
    if (!this.valid()) return;
    try {
      const current = await this.manager.readLock(this.key);
      if (current === null || current.token !== this.record.token) {
        this.markLost('its lock object was removed by another process');
        return;
      }
      const next = Date.now() + this.record.ttlMs;
      const record: LockRecord = { ...this.record, expiresAt: new Date(next).toISOString() };
      await this.manager.writeLock(this.key, record);
      if (Date.now() >= this.expiresAt) {
        // the renewal landed after expiry: another process may already have taken the scope over
        this.markLost(`its renewal completed after it expired at ${new Date(this.expiresAt).toISOString()}`);
        await this.manager.ctx.target.delete(this.key).catch(() => undefined);
        return;
      }
      this.expiresAt = next;
    } catch {
      // transient storage error: the next tick tries again; valid() turns false at expiry
    }
  }

  /**
   * Before a commit: the lease must be ours (its lock object still there with our token) and have
   * at least a third of its ttl left. Throws LeaseLostError otherwise.
   */
  async confirmForCommit(): Promise<void> {
    if (this.released) throw new LeaseLostError(this.source, this.scope, 'it was released');
    if (this.valid() && this.remainingMs() < this.record.ttlMs / 2) await this.renew();
    if (!this.valid()) throw new LeaseLostError(this.source, this.scope, this.lost ?? 'it expired');
    const current = await this.manager.readLock(this.key);
    if (current === null || current.token !== this.record.token) {
      this.markLost('its lock object was removed by another process');
      throw new LeaseLostError(this.source, this.scope, this.lost ?? 'it expired');
    }
    if (!this.valid()) throw new LeaseLostError(this.source, this.scope, this.lost ?? 'it expired');
    if (this.remainingMs() < this.record.ttlMs / 3) {
      throw new LeaseLostError(this.source, this.scope, `it expires at ${new Date(this.expiresAt).toISOString()}, too soon to commit safely`);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stop();
    await this.renewing;
    this.manager.forget(this);
    if (this.lost === null) await this.manager.ctx.target.delete(this.key);
  }
}

export class LeaseManager {
  private readonly active = new Set<LeaseImpl>();
  readonly host = os.hostname();

  constructor(
    readonly ctx: StoreContext,
    private readonly opts: { holder: string; clockSkewMs: number },
  ) {}

  owns(lease: Lease): lease is LeaseImpl {
    return lease instanceof LeaseImpl && this.active.has(lease);
  }

  forget(lease: LeaseImpl): void {
    this.active.delete(lease);
  }

  /** Scopes whose lease this process holds now. */
  heldScopes(): Array<{ source: string; scope: string }> {
    const out: Array<{ source: string; scope: string }> = [];
    for (const l of this.active) if (l.valid()) out.push({ source: l.source, scope: l.scope });
    return out;
  }

  private prefix(source: string, scope: string): string {
    return `${scopeDir(LOCKS_PREFIX, this.ctx.names.encode(source), this.ctx.names.encode(scope))}/`;
  }

  async readLock(key: string): Promise<LockRecord | null> {
    try {
      return parseLock(await readAll(await this.ctx.target.get(key), 1 << 20, key));
    } catch (err) {
      if (err instanceof TargetError && err.code === 'NotFound') return null;
      throw err;
    }
  }

  async writeLock(key: string, record: LockRecord): Promise<void> {
    const body = Buffer.from(JSON.stringify(record), 'utf8');
    await this.ctx.target.put(key, body, { size: body.length });
  }

  /** Why a lock is stale, or null if it is live. */
  staleReason(rec: LockRecord, now = Date.now()): string | null {
    const expires = Date.parse(rec.expiresAt);
    if (now > expires + this.opts.clockSkewMs) return `it expired at ${rec.expiresAt}`;
    const sameBoot = rec.host === this.host && (rec.bootId === '' || bootId() === '' || rec.bootId === bootId());
    if (sameBoot && !pidAlive(rec.pid)) return `its holder (pid ${rec.pid} on ${rec.host}) is no longer running`;
    return null;
  }

  /** Every lock object under `prefix`, with its staleness. */
  async locks(prefix: string): Promise<LockInfo[]> {
    const out: LockInfo[] = [];
    for await (const o of this.ctx.target.list(prefix)) {
      const record = await this.readLock(o.key);
      if (record === null) {
        out.push({ key: o.key, record: null, stale: true, reason: 'it is not a readable lock object' });
        continue;
      }
      const reason = this.staleReason(record);
      out.push({ key: o.key, record, stale: reason !== null, reason: reason ?? 'held' });
    }
    return out;
  }

  async acquire(source: string, scope: string, ttlMs: number): Promise<LeaseImpl> {
    if (!Number.isFinite(ttlMs) || ttlMs < 30) throw new Error(`lease ttlMs must be at least 30 ms (got ${ttlMs})`);
    const prefix = this.prefix(source, scope);
    const held = (info: LockInfo): LeaseHeldError => {
      const r = info.record!;
      return new LeaseHeldError(source, scope, r.holder, r.host, r.pid, r.expiresAt);
    };
    for (let attempt = 1; ; attempt++) {
      const before = await this.locks(prefix);
      const live = before.find((l) => !l.stale);
      if (live !== undefined) throw held(live);
      // reclaim stale locks (dead holder or expired)
      for (const l of before) await this.ctx.target.delete(l.key);
      const token = randomBytes(16).toString('hex');
      const now = Date.now();
      const record: LockRecord = {
        formatVersion: 1,
        token,
        holder: this.opts.holder,
        host: this.host,
        bootId: bootId(),
        pid: process.pid,
        acquiredAt: new Date(now).toISOString(),
        expiresAt: new Date(now + ttlMs).toISOString(),
        ttlMs,
      };
      const key = `${prefix}${token}`;
      const body = Buffer.from(JSON.stringify(record), 'utf8');
      await this.ctx.target.put(key, body, { size: body.length, ...(this.ctx.target.capabilities.conditionalCreate ? { ifAbsent: true } : {}) });
      // read back our token, then look for any other live holder that wrote meanwhile
      const mine = await this.readLock(key);
      const after = await this.locks(prefix);
      const rival = after.find((l) => l.key !== key && !l.stale);
      if (mine?.token === token && rival === undefined) {
        const lease = new LeaseImpl(this, source, scope, key, record);
        this.active.add(lease);
        lease.startRenewing();
        return lease;
      }
      await this.ctx.target.delete(key);
      if (attempt >= ATTEMPTS || rival === undefined) {
        if (rival !== undefined) throw held(rival);
        throw new Error(`could not take the lease on scope ${JSON.stringify(scope)} of source ${JSON.stringify(source)}: the lock object written to ${this.ctx.location} did not read back; check the storage`);
      }
      // both contenders withdrew: back off a random while and try again
      await delay(20 + Math.floor(Math.random() * 80 * attempt));
    }
  }

  async releaseAll(): Promise<void> {
    for (const l of [...this.active]) await l.release().catch(() => undefined);
  }
}
