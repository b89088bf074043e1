import type { Readable } from 'node:stream';
import type { BlobRef, ChangeRecord, ChangeRecordInput, Cursor, IdMapSnapshot } from '../model/records.js';

/**
 * The owned-storage repository API used by the engine (the format is in docs/FORMAT.md).
 * Implemented by src/store/repository.ts over any Target.
 */

export type RunType = 'export' | 'import' | 'verify' | 'drill';

/** Committed state of one scope, derived from its committed run manifests only. */
export interface ScopeState {
  source: string;
  scope: string;
  /** Cursor of the last committed export run (null = never exported). */
  cursor: Cursor | null;
  /** Highest journal seq committed by an export run (0 = none). */
  exportedSeq: number;
  /** Highest journal seq applied to the standby by a committed import run (0 = none). */
  importedSeq: number;
  /** Highest journal seq covered by a committed verification with no findings... or with findings (see lastVerify). */
  verifiedSeq: number;
  /** Id map as of the last committed import run. */
  idMap: IdMapSnapshot;
  lastRuns: Partial<Record<RunType, RunManifest>>;
}

export interface RunStats {
  items: number;
  bytes: number;
  [k: string]: number;
}

/** A committed run (the manifest is the commit). */
export interface RunManifest {
  formatVersion: number;
  runId: string;
  type: RunType;
  source: string;
  scope: string;
  /** Per-scope run number, 1, 2, 3 ... (manifest key is derived from it; never reused). */
  number: number;
  startedAt: string;
  finishedAt: string;
  /** Journal seq range appended by this run (export), or the range applied/verified (import/verify). */
  seqFrom: number;
  seqTo: number;
  cursor?: Cursor;
  /** Id map after this run (import runs), as a blob reference. */
  idMap?: BlobRef;
  /** Proof / drill document (verify and drill runs), as a blob reference. */
  document?: BlobRef;
  /** Journal segments written by this run (export), each a blob of JSON lines. */
  segments: Array<{ blob: BlobRef; seqFrom: number; seqTo: number; records: number }>;
  /** Every blob referenced by this run's records or documents (for check and retention). */
  blobs: string[];
  stats: RunStats;
  /** Free-form, JSON, small: summary for status (findings count, failures ...). */
  summary?: Record<string, unknown>;
}

export interface RunWriter {
  readonly runId: string;
  readonly type: RunType;
  /** Stream content in, returns its ref (deduplicated). Counted as referenced by this run. */
  putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef>;
  /** Append change records (export runs); seq is assigned here, continuing the scope's journal. */
  append(records: ChangeRecordInput[]): Promise<ChangeRecord[]>;
  /**
   * Commit: flush segments, then write the manifest last. After this resolves the run is durable;
   * if the process dies before, the run never happened. Throws if the lease was lost.
   */
  commit(opts: {
    cursor?: Cursor;
    idMap?: IdMapSnapshot;
    document?: unknown;
    seqFrom?: number;
    seqTo?: number;
    stats?: Partial<RunStats>;
    summary?: Record<string, unknown>;
  }): Promise<RunManifest>;
  /** Give up; nothing of the run becomes visible (written blobs become orphans for prune). */
  abort(): Promise<void>;
}

export interface Lease {
  readonly source: string;
  readonly scope: string;
  /** Renew before expiry; the store renews automatically while held. */
  release(): Promise<void>;
  /** True while the lease is ours and unexpired. */
  valid(): boolean;
}

export interface CheckFinding {
  severity: 'error' | 'warning';
  code: 'missing-blob' | 'corrupt-blob' | 'orphan-blob' | 'bad-manifest' | 'missing-segment' | 'seq-gap' | 'orphan-object' | 'stale-lock' | string;
  key: string;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  manifests: number;
  blobsReferenced: number;
  blobsRead: number;
  findings: CheckFinding[];
}

/** Where the latest committed record of one live item is, without its payload. */
export interface LiveEntry {
  /** The record's version (source version marker). */
  readonly version: string;
  /** The record's journal seq. */
  readonly seq: number;
  /** Bytes of content the record references (each blob once). */
  readonly bytes: number;
}

/**
 * The live state of a scope, lean: per kind and id the latest committed record's version and seq
 * (items whose latest record is a delete are absent). Records are read on demand. A view reflects
 * the committed exports folded when it was taken (and later folds of the same scope by this
 * process: take a new view after committing an export).
 */
export interface LiveView {
  readonly source: string;
  readonly scope: string;
  /** Journal seq through which committed exports are folded. */
  readonly seqTo: number;
  /** Live items in all kinds. */
  readonly size: number;
  /** Kinds with at least one live item. */
  kinds(): string[];
  /** Live items of a kind: id -> entry (empty map for an unknown kind). Do not modify. */
  items(kind: string): ReadonlyMap<string, LiveEntry>;
  /** The latest committed record of one live item, read from its segment (null if absent or deleted). */
  record(kind: string, id: string): Promise<ChangeRecord | null>;
  /** The live records (of some kinds, default all), streamed segment by segment in seq order. */
  records(opts?: { kinds?: Iterable<string> }): AsyncIterable<ChangeRecord>;
}

export interface Repository {
  readonly location: string;
  readonly formatVersion: number;
  readonly repoId: string;

  putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef>;
  getBlob(sha256: string): Promise<Readable>;
  hasBlob(sha256: string): Promise<boolean>;

  /** Take the scope's lease (throws LeaseHeldError naming the holder if held and not stale). */
  acquireLease(source: string, scope: string, opts?: { ttlMs?: number }): Promise<Lease>;
  /** Start a run on a scope whose lease we hold. */
  beginRun(lease: Lease, type: RunType): Promise<RunWriter>;

  /** Committed state of a scope (cursor, seqs, id map, last runs). `idMap: false` leaves the id map out (empty). */
  scopeState(source: string, scope: string, opts?: { idMap?: boolean }): Promise<ScopeState>;
  /** Scopes with at least one committed run, per source. */
  listScopes(source?: string): Promise<Array<{ source: string; scope: string }>>;
  /** Committed run manifests of a scope (or all scopes of a source), oldest first. */
  listRuns(source: string, scope?: string): AsyncIterable<RunManifest>;
  /** Committed journal records of a scope with seq in (afterSeq, uptoSeq], in seq order (streamed). */
  readJournal(source: string, scope: string, opts?: { afterSeq?: number; uptoSeq?: number }): AsyncIterable<ChangeRecord>;
  /**
   * Latest committed record of every live item of a scope: kind -> id -> record (items whose latest
   * record is a delete are absent). Reflects committed export runs only. Holds every record in
   * memory: for small scopes and tests; the engine uses live().
   */
  liveRecords(source: string, scope: string): Promise<Map<string, Map<string, ChangeRecord>>>;
  /** The lean live state of a scope (versions and seqs; records on demand). Reflects committed export runs only. */
  live(source: string, scope: string): Promise<LiveView>;
  /** Read a JSON document blob (proofs, drills, id maps) referenced by a manifest. */
  readDocument<T = unknown>(ref: BlobRef): Promise<T>;

  /** Write a repository-wide small JSON document (e.g. failover state) atomically under meta/. */
  putMeta(name: string, doc: unknown): Promise<void>;
  getMeta<T = unknown>(name: string): Promise<T | null>;

  check(opts?: { readData?: boolean }): Promise<CheckReport>;
  close(): Promise<void>;
}
