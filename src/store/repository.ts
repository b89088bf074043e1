import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { TargetError, type Target } from '../../targets/types.js';
import type { BlobRef, ChangeRecord, IdMapSnapshot } from '../model/records.js';
import { getBlob, hasBlob, putBlob } from './blobs.js';
import { runCheck } from './check.js';
import type { StoreContext } from './context.js';
import { DecryptError, ObjectCrypto } from './crypto.js';
import { CorruptObjectError, EncryptionKeyError, FormatVersionError, RepositoryError } from './errors.js';
import { DEFAULT_SEGMENT_BYTES, readSegment } from './journal.js';
import { LiveStates, LiveViewImpl, SegmentCache } from './live.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TTL_MS, LeaseManager } from './lease.js';
import { FORMAT_VERSION } from './manifest.js';
import { getJson, putJson, readAll } from './objects.js';
import { CONFIG_KEY, hashedNames, KEYCHECK_KEY, metaKey, plainNames } from './paths.js';
import { deriveState, ManifestReader, RunWriterImpl } from './runs.js';
import type { CheckReport, Lease, LiveView, Repository, RunManifest, RunType, RunWriter, ScopeState } from './types.js';

export { LeaseHeldError, LeaseLostError, FormatVersionError, EncryptionKeyError, BlobCorruptError, BlobMissingError, RepositoryError } from './errors.js';

/** The repository config object (plain JSON at key 'config'; docs/FORMAT.md, "Config"). */
export interface RepoConfig {
  formatVersion: number;
  repoId: string;
  createdAt: string;
  encryption: null | { algorithm: 'aes-256-gcm'; kdf: 'hkdf-sha256'; chunkSize: number; names: 'hmac-sha256' };
}

export interface OpenOptions {
  /** 32-byte AES-256 key; required for encrypted repositories, refused for plain ones. */
  encryptionKey?: Buffer;
  /** Name of this process in lease objects (default user@host:pid). */
  holder?: string;
  /** Tuning and test hooks. */
  segmentBytes?: number;
  spoolDir?: string;
  memoryLimit?: number;
  defaultTtlMs?: number;
  clockSkewMs?: number;
  /**
   * Object Lock retention in days for write-once objects (blobs, segments, documents, manifests).
   * Refused with a clear error when the target does not support object lock.
   */
  retentionDays?: number;
  /**
   * Scopes, besides those whose lease this process holds, whose lean live state stays cached
   * between calls (default 2); parsed manifests are kept for at least 16 such scopes.
   */
  cachedScopes?: number;
  /** Bytes of decoded journal segments kept for reading records on demand (default 16 MiB). */
  segmentCacheBytes?: number;
}

const DEFAULT_MEMORY_LIMIT = 8 * 1024 * 1024;
const DEFAULT_CACHED_SCOPES = 2;
const MANIFEST_CACHE_SCOPES = 16;
const DEFAULT_SEGMENT_CACHE_BYTES = 16 * 1024 * 1024;

function defaultHolder(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `norestore ${user}@${os.hostname()} pid ${process.pid}`;
}

function keyCheckDoc(repoId: string): Buffer {
  return Buffer.from(JSON.stringify({ purpose: 'norestore key check', repoId }), 'utf8');
}

class Repo implements Repository {
  readonly formatVersion: number;
  readonly repoId: string;
  readonly location: string;
  private readonly manifests: ManifestReader;
  private readonly leases: LeaseManager;
  private readonly liveStates: LiveStates;
  private readonly segmentCache: SegmentCache;
  private readonly segmentBytes: number;
  private readonly defaultTtlMs: number;
  private closed = false;

  constructor(
    private readonly ctx: StoreContext,
    config: RepoConfig,
    opts: OpenOptions,
  ) {
    this.formatVersion = config.formatVersion;
    this.repoId = config.repoId;
    this.location = ctx.location;
    this.leases = new LeaseManager(ctx, { holder: opts.holder ?? defaultHolder(), clockSkewMs: opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS });
    const cachedScopes = Math.max(0, Math.floor(opts.cachedScopes ?? DEFAULT_CACHED_SCOPES));
    const held = (): Array<{ source: string; scope: string }> => this.leases.heldScopes();
    this.manifests = new ManifestReader(ctx, Math.max(MANIFEST_CACHE_SCOPES, cachedScopes), held);
    this.liveStates = new LiveStates(cachedScopes, held);
    this.segmentCache = new SegmentCache(ctx, opts.segmentCacheBytes ?? DEFAULT_SEGMENT_CACHE_BYTES);
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.defaultTtlMs = opts.defaultTtlMs ?? DEFAULT_TTL_MS;
  }

  private open(): void {
    if (this.closed) throw new RepositoryError(`the repository at ${this.location} was closed`);
  }

  putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef> {
    this.open();
    return putBlob(this.ctx, body, mediaType);
  }

  getBlob(sha256: string): Promise<Readable> {
    this.open();
    return getBlob(this.ctx, sha256);
  }

  hasBlob(sha256: string): Promise<boolean> {
    return hasBlob(this.ctx, sha256);
  }

  acquireLease(source: string, scope: string, opts: { ttlMs?: number } = {}): Promise<Lease> {
    this.open();
    return this.leases.acquire(source, scope, opts.ttlMs ?? this.defaultTtlMs);
  }

  async beginRun(lease: Lease, type: RunType): Promise<RunWriter> {
    this.open();
    if (!this.leases.owns(lease)) throw new RepositoryError(`beginRun: the lease on ${lease.source}/${lease.scope} was not taken from this repository object (or was released)`);
    if (!lease.valid()) throw new RepositoryError(`beginRun: the lease on ${lease.source}/${lease.scope} is no longer valid (${lease.lost ?? 'expired'}): take it again`);
    const manifests = await this.manifests.scopeManifests(lease.source, lease.scope);
    const base = deriveState(lease.source, lease.scope, manifests);
    return new RunWriterImpl(this.ctx, lease, type, base, this.segmentBytes, () => undefined);
  }

  async scopeState(source: string, scope: string, opts: { idMap?: boolean } = {}): Promise<ScopeState> {
    const manifests = await this.manifests.scopeManifests(source, scope);
    const { lastNumber: _n, ...state } = deriveState(source, scope, manifests);
    const ref = opts.idMap === false ? undefined : state.lastRuns.import?.idMap;
    const idMap = ref === undefined ? {} : await this.readDocument<IdMapSnapshot>(ref);
    return { ...state, idMap };
  }

  async listScopes(source?: string): Promise<Array<{ source: string; scope: string }>> {
    const out: Array<{ source: string; scope: string }> = [];
    for await (const key of this.manifests.scopeKeys(source)) {
      const m = await this.manifests.read(key, { keep: false });
      if (source !== undefined && m.source !== source) continue;
      out.push({ source: m.source, scope: m.scope });
    }
    return out;
  }

  async *listRuns(source: string, scope?: string): AsyncIterable<RunManifest> {
    if (scope !== undefined) {
      yield* await this.manifests.scopeManifests(source, scope);
      return;
    }
    const all: RunManifest[] = [];
    for (const s of await this.listScopes(source)) all.push(...(await this.manifests.scopeManifests(s.source, s.scope)));
    all.sort((a, b) => (a.finishedAt < b.finishedAt ? -1 : a.finishedAt > b.finishedAt ? 1 : a.number - b.number));
    yield* all;
  }

  async *readJournal(source: string, scope: string, opts: { afterSeq?: number; uptoSeq?: number } = {}): AsyncIterable<ChangeRecord> {
    const after = opts.afterSeq ?? 0;
    const upto = opts.uptoSeq ?? Number.POSITIVE_INFINITY;
    for (const m of await this.manifests.scopeManifests(source, scope)) {
      if (m.type !== 'export' || m.seqTo <= after || m.seqFrom > upto) continue;
      for (const seg of m.segments) {
        if (seg.seqTo <= after || seg.seqFrom > upto) continue;
        for await (const r of readSegment(this.ctx, seg)) {
          if (r.seq > after && r.seq <= upto) yield r;
        }
      }
    }
  }

  async live(source: string, scope: string): Promise<LiveView> {
    const manifests = await this.manifests.scopeManifests(source, scope);
    const { exportedSeq } = deriveState(source, scope, manifests);
    const state = await this.liveStates.get(this.ctx, source, scope, manifests, exportedSeq);
    return new LiveViewImpl(this.ctx, state, this.segmentCache);
  }

  async liveRecords(source: string, scope: string): Promise<Map<string, Map<string, ChangeRecord>>> {
    const view = await this.live(source, scope);
    const out = new Map<string, Map<string, ChangeRecord>>();
    for (const kind of view.kinds()) out.set(kind, new Map());
    // insertion order per kind follows the lean state (first appearance of the item)
    const byKind = new Map<string, Map<string, ChangeRecord>>();
    for await (const r of view.records()) {
      let m = byKind.get(r.kind);
      if (m === undefined) byKind.set(r.kind, (m = new Map()));
      m.set(r.id, r);
    }
    for (const kind of view.kinds()) {
      const got = byKind.get(kind);
      const items = out.get(kind)!;
      for (const id of view.items(kind).keys()) {
        const r = got?.get(id);
        if (r !== undefined) items.set(id, r);
      }
    }
    return out;
  }

  async readDocument<T = unknown>(ref: BlobRef): Promise<T> {
    const bytes = await readAll(await getBlob(this.ctx, ref.sha256), Number.MAX_SAFE_INTEGER);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw new CorruptObjectError(`document blob ${ref.sha256}`, this.location, 'not valid JSON', { cause: err });
    }
  }

  async putMeta(name: string, doc: unknown): Promise<void> {
    this.open();
    await putJson(this.ctx, metaKey(name), doc);
  }

  getMeta<T = unknown>(name: string): Promise<T | null> {
    return getJson<T>(this.ctx, metaKey(name));
  }

  check(opts: { readData?: boolean } = {}): Promise<CheckReport> {
    return runCheck(this.ctx, { manifests: this.manifests, leases: this.leases, readData: opts.readData === true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.liveStates.clear();
    this.segmentCache.clear();
    await this.leases.releaseAll();
  }
}

async function readConfig(target: Target): Promise<RepoConfig | null> {
  let bytes: Buffer;
  try {
    bytes = await readAll(await target.get(CONFIG_KEY), 1 << 20, CONFIG_KEY);
  } catch (err) {
    if (err instanceof TargetError && err.code === 'NotFound') return null;
    throw err;
  }
  let json: Partial<RepoConfig>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Partial<RepoConfig>;
  } catch (err) {
    throw new CorruptObjectError(CONFIG_KEY, target.location, 'it is not valid JSON, so this is not a readable norestore repository', { cause: err });
  }
  // the version is checked before anything else, so an older tool refuses a newer format cleanly
  if (typeof json.formatVersion !== 'number' || !Number.isInteger(json.formatVersion) || json.formatVersion < 1) {
    throw new CorruptObjectError(CONFIG_KEY, target.location, 'formatVersion is missing or not a positive integer');
  }
  if (json.formatVersion > FORMAT_VERSION) throw new FormatVersionError(json.formatVersion, FORMAT_VERSION);
  if (typeof json.repoId !== 'string' || !/^[0-9a-f]{32}$/.test(json.repoId)) throw new CorruptObjectError(CONFIG_KEY, target.location, 'repoId is missing or not 32 hex digits');
  const enc = json.encryption;
  if (enc !== null && (typeof enc !== 'object' || enc?.algorithm !== 'aes-256-gcm')) {
    throw new CorruptObjectError(CONFIG_KEY, target.location, `encryption ${JSON.stringify(enc)} is not understood (expected null or aes-256-gcm)`);
  }
  return json as RepoConfig;
}

/**
 * Targets that probe their capabilities (the s3 target's init()) are probed before use, so that
 * conditional create and object lock are known honestly; a target's own retention setting
 * (the s3 target's objectLockSettings.days) applies unless retentionDays is given.
 */
async function prepareTarget(target: Target, opts: OpenOptions): Promise<OpenOptions> {
  const t = target as Target & { init?: () => Promise<unknown>; objectLockSettings?: { days: number } | null };
  if (typeof t.init === 'function') await t.init();
  const days = opts.retentionDays ?? t.objectLockSettings?.days;
  return days === undefined ? opts : { ...opts, retentionDays: days };
}

function makeContext(target: Target, crypto: ObjectCrypto | null, repoId: string, opts: OpenOptions): StoreContext {
  const days = opts.retentionDays;
  if (days !== undefined) {
    if (!Number.isFinite(days) || days <= 0) throw new RepositoryError(`retention days must be a positive number (got ${days})`);
    if (!target.capabilities.objectLock) {
      throw new RepositoryError(`object lock retention is configured, but ${target.location} does not support object lock: use a bucket with Object Lock enabled on a server that implements it, or remove the retention setting`);
    }
  }
  return {
    retainUntil: days === undefined ? null : () => new Date(Date.now() + days * 86_400_000),
    target,
    location: target.location,
    crypto,
    names: crypto === null ? plainNames : hashedNames(crypto.nameKey(repoId)),
    spoolDir: opts.spoolDir ?? os.tmpdir(),
    memoryLimit: opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
  };
}

/**
 * Create a repository on an empty target: writes the key check (encrypted only), then the config,
 * which is the commit of init. Refuses a location that already holds a repository or other objects.
 */
export async function initRepository(target: Target, options: OpenOptions = {}): Promise<Repository> {
  const opts = await prepareTarget(target, options);
  const existing = await readConfig(target).catch((err: unknown) => {
    if (err instanceof FormatVersionError || err instanceof CorruptObjectError) return { repoId: '(unreadable config)' } as RepoConfig;
    throw err;
  });
  if (existing !== null) {
    throw new RepositoryError(`a norestore repository already exists at ${target.location} (id ${existing.repoId}): use it as it is, or choose an empty location for a new one`);
  }
  for await (const o of target.list('')) {
    if (o.key === KEYCHECK_KEY) continue; // left by an interrupted init
    throw new RepositoryError(`cannot create a repository at ${target.location}: the location is not empty (it holds ${JSON.stringify(o.key)}); choose an empty directory or bucket prefix`);
  }
  const crypto = opts.encryptionKey === undefined ? null : new ObjectCrypto(opts.encryptionKey);
  const config: RepoConfig = {
    formatVersion: FORMAT_VERSION,
    repoId: randomBytes(16).toString('hex'),
    createdAt: new Date().toISOString(),
    encryption: crypto === null ? null : { algorithm: 'aes-256-gcm', kdf: 'hkdf-sha256', chunkSize: crypto.chunkSize, names: 'hmac-sha256' },
  };
  const ctx = makeContext(target, crypto, config.repoId, opts);
  if (crypto !== null) {
    const sealed = crypto.encryptBuffer(keyCheckDoc(config.repoId));
    await target.put(KEYCHECK_KEY, sealed, { size: sealed.length });
  }
  const body = Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8');
  try {
    await target.put(CONFIG_KEY, body, { size: body.length, ...(target.capabilities.conditionalCreate ? { ifAbsent: true } : {}) });
  } catch (err) {
    if (err instanceof TargetError && err.code === 'AlreadyExists') {
      throw new RepositoryError(`a norestore repository was created at ${target.location} by another process meanwhile: use it`, { cause: err });
    }
    throw err;
  }
  return new Repo(ctx, config, opts);
}

/** Open an existing repository. Reads only; a wrong or missing key changes nothing. */
export async function openRepository(target: Target, options: OpenOptions = {}): Promise<Repository> {
  const opts = await prepareTarget(target, options);
  const config = await readConfig(target);
  if (config === null) throw new RepositoryError(`no norestore repository at ${target.location}: run norestore init`);
  let crypto: ObjectCrypto | null = null;
  if (config.encryption === null) {
    if (opts.encryptionKey !== undefined) {
      throw new EncryptionKeyError(`the repository at ${target.location} is not encrypted, but an encryption key was given: remove the key from the configuration (a repository's encryption is fixed at init)`);
    }
  } else {
    if (opts.encryptionKey === undefined) {
      throw new EncryptionKeyError(`the repository at ${target.location} is encrypted and no encryption key was given: provide the key it was created with`);
    }
    crypto = new ObjectCrypto(opts.encryptionKey);
    let sealed: Buffer;
    try {
      sealed = await readAll(await target.get(KEYCHECK_KEY), 1 << 20, KEYCHECK_KEY);
    } catch (err) {
      if (err instanceof TargetError && err.code === 'NotFound') throw new CorruptObjectError(KEYCHECK_KEY, target.location, 'the key check object of this encrypted repository is missing');
      throw err;
    }
    let doc: { repoId?: string };
    try {
      doc = JSON.parse(crypto.decryptBuffer(sealed, KEYCHECK_KEY).toString('utf8')) as { repoId?: string };
    } catch (err) {
      if (err instanceof DecryptError && /authentication/.test(err.message)) {
        throw new EncryptionKeyError(`the encryption key does not match this repository (${target.location}): use the key it was created with`, { cause: err });
      }
      throw new CorruptObjectError(KEYCHECK_KEY, target.location, (err as Error).message, { cause: err });
    }
    if (doc.repoId !== config.repoId) throw new EncryptionKeyError(`the encryption key does not match this repository (${target.location}): its key check belongs to repository ${String(doc.repoId)}`);
  }
  return new Repo(makeContext(target, crypto, config.repoId, opts), config, opts);
}
