import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { TargetError } from '../../targets/types.js';
import { ChangeRecordInput, type BlobRef, type ChangeRecord, type Cursor, type IdMapSnapshot } from '../model/records.js';
import { putBlob, putBlobBuffer } from './blobs.js';
import type { StoreContext } from './context.js';
import { CorruptObjectError, RepositoryError } from './errors.js';
import { SegmentWriter } from './journal.js';
import type { LeaseImpl } from './lease.js';
import { FORMAT_VERSION, parseManifest } from './manifest.js';
import { getSmall, putSmall } from './objects.js';
import { parseRunKey, RUNS_PREFIX, runKey, scopeDir } from './paths.js';
import type { RunManifest, RunStats, RunType, RunWriter, ScopeState } from './types.js';

/**
 * Run manifests (docs/FORMAT.md, "Runs"): reading them, deriving a scope's committed state, and the
 * RunWriter that writes blobs and segments first and the manifest last.
 */

export const DOCUMENT_MEDIA_TYPE = 'application/json';

/**
 * Manifests are immutable once written: parsed ones are kept per process, for the most recently
 * used scopes only (a long-running process works through many scopes; their history is re-read
 * when one comes back).
 */
export class ManifestReader {
  /** scope prefix -> key -> manifest, least recently used scope first. */
  private readonly cache = new Map<string, Map<string, RunManifest>>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly maxScopes = 16,
    /** Scopes whose lease this process holds: kept beyond maxScopes. */
    private readonly pinned: () => Array<{ source: string; scope: string }> = () => [],
  ) {}

  scopePrefix(source: string, scope: string): string {
    return `${scopeDir(RUNS_PREFIX, this.ctx.names.encode(source), this.ctx.names.encode(scope))}/`;
  }

  private scopeCache(key: string, create: boolean): Map<string, RunManifest> | undefined {
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    let m = this.cache.get(prefix);
    if (m !== undefined) {
      this.cache.delete(prefix);
      this.cache.set(prefix, m);
      return m;
    }
    if (!create) return undefined;
    this.cache.set(prefix, (m = new Map()));
    if (this.cache.size > this.maxScopes) {
      const pinned = new Set(this.pinned().map((p) => this.scopePrefix(p.source, p.scope)));
      let unpinned = 0;
      for (const k of this.cache.keys()) if (!pinned.has(k)) unpinned++;
      for (const k of this.cache.keys()) {
        if (unpinned <= this.maxScopes) break;
        if (pinned.has(k) || k === prefix) continue;
        this.cache.delete(k);
        unpinned--;
      }
    }
    return m;
  }

  /**
   * Read and validate one manifest object; throws CorruptObjectError. `fresh` bypasses the cache
   * (check); `keep: false` does not add the manifest's scope to the cache (one-off reads).
   */
  async read(key: string, opts: { fresh?: boolean; keep?: boolean } = {}): Promise<RunManifest> {
    const scoped = this.scopeCache(key, opts.keep !== false);
    const hit = opts.fresh === true ? undefined : scoped?.get(key);
    if (hit !== undefined) return hit;
    const bytes = await getSmall(this.ctx, key);
    if (bytes === null) throw new CorruptObjectError(key, this.ctx.location, 'it disappeared while being read');
    let m: RunManifest;
    try {
      m = parseManifest(bytes);
    } catch (err) {
      throw new CorruptObjectError(key, this.ctx.location, (err as Error).message, { cause: err });
    }
    const parts = parseRunKey(key);
    if (parts === null || parts.number !== m.number) throw new CorruptObjectError(key, this.ctx.location, `its number ${m.number} does not match its name`);
    scoped?.set(key, m);
    return m;
  }

  /** Committed manifests of one scope, by number (objects under runs/ that are not manifests are ignored). */
  async scopeManifests(source: string, scope: string): Promise<RunManifest[]> {
    const out: RunManifest[] = [];
    for await (const o of this.ctx.target.list(this.scopePrefix(source, scope))) {
      if (parseRunKey(o.key) === null) continue;
      const m = await this.read(o.key);
      if (m.source !== source || m.scope !== scope) continue; // a hashed-name collision cannot be ours
      out.push(m);
    }
    return out.sort((a, b) => a.number - b.number);
  }

  /** One manifest key per scope (its first) under runs/ or runs/<source>/. */
  async *scopeKeys(source?: string): AsyncGenerator<string> {
    const prefix = source === undefined ? RUNS_PREFIX : `${RUNS_PREFIX}${this.ctx.names.encode(source)}/`;
    let lastDir = '';
    for await (const o of this.ctx.target.list(prefix)) {
      const p = parseRunKey(o.key);
      if (p === null) continue;
      const dir = `${p.sourceName}/${p.scopeName}`;
      if (dir === lastDir) continue;
      lastDir = dir;
      yield o.key;
    }
  }
}

/** Committed state of a scope from its manifests (idMap loaded by the caller from lastRuns.import). */
export function deriveState(source: string, scope: string, manifests: RunManifest[]): Omit<ScopeState, 'idMap'> & { lastNumber: number } {
  const lastRuns: Partial<Record<RunType, RunManifest>> = {};
  let lastNumber = 0;
  let exportedSeq = 0;
  for (const m of manifests) {
    lastRuns[m.type] = m;
    lastNumber = Math.max(lastNumber, m.number);
    if (m.type === 'export') exportedSeq = Math.max(exportedSeq, m.seqTo);
  }
  return {
    source,
    scope,
    cursor: lastRuns.export?.cursor ?? null,
    exportedSeq,
    importedSeq: lastRuns.import?.seqTo ?? 0,
    verifiedSeq: lastRuns.verify?.seqTo ?? 0,
    lastRuns,
    lastNumber,
  };
}

export interface CommitOptions {
  cursor?: Cursor;
  idMap?: IdMapSnapshot;
  document?: unknown;
  seqFrom?: number;
  seqTo?: number;
  stats?: Partial<RunStats>;
  summary?: Record<string, unknown>;
}

export class RunWriterImpl implements RunWriter {
  readonly runId = randomBytes(16).toString('hex');
  private readonly startedAt = new Date().toISOString();
  private readonly blobs = new Set<string>();
  private readonly segments: SegmentWriter;
  private nextSeq: number;
  private bytes = 0;
  private records = 0;
  private state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  private appending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: StoreContext,
    private readonly lease: LeaseImpl,
    readonly type: RunType,
    private readonly base: ReturnType<typeof deriveState>,
    segmentBytes: number,
    private readonly onCommit: (m: RunManifest) => void,
  ) {
    this.nextSeq = base.exportedSeq + 1;
    this.segments = new SegmentWriter(ctx, segmentBytes);
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') throw new RepositoryError(`cannot ${what}: run ${this.runId} is already ${this.state}`);
  }

  async putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef> {
    this.assertOpen('store a blob');
    const ref = await putBlob(this.ctx, body, mediaType);
    this.blobs.add(ref.sha256);
    this.bytes += ref.size;
    return ref;
  }

  append(records: ChangeRecordInput[]): Promise<ChangeRecord[]> {
    try {
      this.assertOpen('append records');
      if (this.type !== 'export') throw new RepositoryError(`cannot append records to a ${this.type} run: only export runs write the journal`);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // appends are serialized so seqs follow call order even if the caller does not await
    const next = this.appending.then(() => this.doAppend(records));
    this.appending = next.catch(() => undefined);
    return next;
  }

  private async doAppend(records: ChangeRecordInput[]): Promise<ChangeRecord[]> {
    const observedAt = new Date().toISOString();
    const out: ChangeRecord[] = [];
    for (const [i, input] of records.entries()) {
      const parsed = ChangeRecordInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new RepositoryError(`change record ${i} (${String((input as { kind?: unknown })?.kind)} ${String((input as { id?: unknown })?.id)}): field ${issue.path.join('.')}: ${issue.message}`);
      }
      const record: ChangeRecord = { ...parsed.data, seq: this.nextSeq, observedAt };
      this.nextSeq++;
      for (const b of Object.values(record.blobs ?? {})) this.blobs.add(b.sha256);
      await this.segments.add(record);
      this.records++;
      out.push(record);
    }
    return out;
  }

  async commit(opts: CommitOptions = {}): Promise<RunManifest> {
    this.assertOpen('commit');
    this.state = 'committing';
    try {
      await this.appending;
      const { source, scope } = this.lease;
      const exported = this.base.exportedSeq;
      let seqFrom: number;
      let seqTo: number;
      if (this.type === 'export') {
        seqFrom = exported + 1;
        seqTo = this.nextSeq - 1;
        if ((opts.seqFrom !== undefined && opts.seqFrom !== seqFrom) || (opts.seqTo !== undefined && opts.seqTo !== seqTo)) {
          throw new RepositoryError(`export run of ${source}/${scope}: seqFrom/seqTo are assigned by append (${seqFrom}..${seqTo}); do not pass others`);
        }
      } else {
        const prev = this.type === 'import' ? this.base.importedSeq : this.type === 'verify' ? this.base.verifiedSeq : (this.base.lastRuns.drill?.seqTo ?? 0);
        seqTo = opts.seqTo ?? prev;
        seqFrom = opts.seqFrom ?? Math.min(prev, seqTo);
        if (!Number.isInteger(seqFrom) || !Number.isInteger(seqTo) || seqFrom < 0 || seqTo < 0 || seqFrom > seqTo + 1 || seqTo > exported) {
          throw new RepositoryError(`${this.type} run of ${source}/${scope}: seq range ${seqFrom}..${seqTo} is invalid: it must satisfy 0 <= seqFrom <= seqTo + 1 and seqTo <= ${exported} (the committed journal)`);
        }
      }
      // 1. the last journal segment (blobs were written by putBlob as they came)
      await this.segments.flush();
      // 2. documents
      let document: BlobRef | undefined;
      if (opts.document !== undefined) {
        document = await putBlobBuffer(this.ctx, Buffer.from(JSON.stringify(opts.document), 'utf8'), DOCUMENT_MEDIA_TYPE);
        this.blobs.add(document.sha256);
      }
      let idMap: BlobRef | undefined = this.type === 'import' ? this.base.lastRuns.import?.idMap : undefined;
      if (opts.idMap !== undefined) idMap = await putBlobBuffer(this.ctx, Buffer.from(JSON.stringify(opts.idMap), 'utf8'), DOCUMENT_MEDIA_TYPE);
      if (idMap !== undefined) this.blobs.add(idMap.sha256);
      // 3. the manifest, last: it is the commit
      const number = this.base.lastNumber + 1;
      const manifest: RunManifest = {
        formatVersion: FORMAT_VERSION,
        runId: this.runId,
        type: this.type,
        source,
        scope,
        number,
        startedAt: this.startedAt,
        finishedAt: new Date().toISOString(),
        seqFrom,
        seqTo,
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
        ...(idMap !== undefined ? { idMap } : {}),
        ...(document !== undefined ? { document } : {}),
        segments: this.segments.written.map((s) => ({ blob: s.blob, seqFrom: s.seqFrom, seqTo: s.seqTo, records: s.records })),
        blobs: [...this.blobs].sort(),
        stats: { items: this.records, bytes: this.bytes, ...stripUndefined(opts.stats) },
        ...(opts.summary !== undefined ? { summary: opts.summary } : {}),
      };
      const key = runKey(scopeDir(RUNS_PREFIX, this.ctx.names.encode(source), this.ctx.names.encode(scope)), number);
      await this.lease.confirmForCommit();
      try {
        await putSmall(this.ctx, key, Buffer.from(JSON.stringify(manifest), 'utf8'), { ifAbsent: this.ctx.target.capabilities.conditionalCreate, writeOnce: true });
      } catch (err) {
        if (err instanceof TargetError && err.code === 'AlreadyExists') {
          throw new RepositoryError(`run ${number} of scope ${JSON.stringify(scope)} of source ${JSON.stringify(source)} was committed by another process meanwhile: this run was not committed; run it again`, { cause: err });
        }
        throw err;
      }
      this.state = 'committed';
      this.onCommit(manifest);
      return manifest;
    } catch (err) {
      if (this.state === 'committing') this.state = 'aborted';
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return;
    this.state = 'aborted';
    await this.appending;
  }
}

function stripUndefined(stats: Partial<RunStats> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats ?? {})) if (typeof v === 'number') out[k] = v;
  return out;
}
