import type { Readable } from 'node:stream';
import type { BlobRef, ChangeRecord, ChangeRecordInput, Cursor, IdMapEntry } from './records.js';
import type { KindSpec, Service, UncoveredKind } from './kinds.js';

/** Minimal structured logger handed to connectors (never pass secrets in fields). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The unit of incremental work and of parallelism. */
export interface ScopeRef {
  /** Stable, path-safe id: [a-z0-9._-]+ segments joined by '~', e.g. 'repo~acme~widgets'. */
  id: string;
  /** Scope type: 'repo', 'mailbox', 'drive', 'shared-drive', 'calendar', 'directory', ... */
  type: string;
  /** Display name, e.g. 'acme/widgets'. */
  name: string;
}

export interface BlobStore {
  /** Store content (streamed), returns its ref; deduplicated by sha256. */
  putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef>;
  /** Stream stored content by sha256. */
  getBlob(sha256: string): Promise<Readable>;
}

export interface ExportContext extends BlobStore {
  /** Append one change to the run being built; only committed if the whole export succeeds. */
  emit(record: ChangeRecordInput): Promise<void>;
  /** Latest committed version of every live (not deleted) item of this scope, per kind: id -> version. */
  possessed(kind: string): Promise<Map<string, string>>;
  /** Latest committed upsert record of one item, or null (e.g. to diff, or reuse a prior blob). */
  lastRecord(kind: string, id: string): Promise<ChangeRecord | null>;
  /** A local directory reserved for this scope (git caches). May be empty: must be rebuildable. */
  workDir: string;
  signal: AbortSignal;
  log: Logger;
  /** Progress counters for the UI. */
  progress(delta: { items?: number; bytes?: number }): void;
}

/** source id -> standby id for one scope and standby, per kind. Mutations are committed with the import run. */
export interface IdMap {
  get(kind: string, sourceId: string): IdMapEntry | undefined;
  set(kind: string, sourceId: string, entry: IdMapEntry): void;
  delete(kind: string, sourceId: string): void;
  entries(kind: string): IterableIterator<[string, IdMapEntry]>;
}

export interface ImportFailure {
  kind: string;
  id: string;
  error: string;
}

export interface ImportContext extends Pick<BlobStore, 'getBlob'> {
  idMap: IdMap;
  /** Latest committed upsert record of one item of this scope (e.g. the parent issue of a comment). */
  lastRecord(kind: string, id: string): Promise<ChangeRecord | null>;
  workDir: string;
  signal: AbortSignal;
  log: Logger;
  /** Progress counters; `kind` names the kind of the item just finished (timed per kind by drills). */
  progress(delta: { items?: number; bytes?: number; kind?: string }): void;
}

export interface ImportResult {
  imported: number;
  unchanged: number;
  deleted: number;
  failed: ImportFailure[];
}

/** One item as the standby holds it, normalized for comparison. */
export interface StandbyItem {
  kind: string;
  /** Source id the item corresponds to (through the id map), or null if the standby has it unmapped. */
  sourceId: string | null;
  standbyId: string;
  normalized: Record<string, unknown>;
}

export interface VerifyContext {
  idMap: IdMap;
  getBlob(sha256: string): Promise<Readable>;
  workDir: string;
  signal: AbortSignal;
  log: Logger;
}

/**
 * One SaaS. Contract (test/conformance/connector.ts):
 * - exportScope emits only what changed since `cursor` (null = full export) and returns the new cursor;
 *   an expired cursor triggers a full resync of the scope that emits deletions by difference against
 *   ctx.possessed(); it never throws for expiry and never silently loses items.
 * - importChanges applies records (grouped by kind in dependency order) to the standby. It is
 *   idempotent: it skips items whose id-map version matches, and it must not duplicate items even when
 *   the id map lacks entries written by a crashed earlier run (adopt existing standby items by a
 *   natural key: issue number, iCalUID, Message-ID, appProperties ...).
 * - readStandby yields every standby item of the scope, normalized; normalize(kind, raw) gives the
 *   same shape for a stored record, so verification compares them on the kind's preserved fields.
 */
export interface Connector {
  readonly service: Service;
  readonly kinds: readonly KindSpec[];
  readonly uncovered: readonly UncoveredKind[];
  scopes(): Promise<ScopeRef[]>;
  exportScope(scope: ScopeRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor>;
  importChanges(scope: ScopeRef, records: ChangeRecord[], ctx: ImportContext): Promise<ImportResult>;
  readStandby(scope: ScopeRef, ctx: VerifyContext): AsyncIterable<StandbyItem>;
  /** Normalize a stored record (raw + blobs) to the comparison shape; may read blobs to digest them. */
  normalize(record: ChangeRecord, ctx: VerifyContext): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}
