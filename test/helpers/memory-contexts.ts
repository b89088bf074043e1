/**
 * In-memory stand-ins for the engine's contexts, for connector tests that run without a storage
 * repository: a blob store keyed by sha256, a journal whose emit() collects records and assigns seq
 * on commit, possessed()/lastRecord() over the committed records, and an IdMap over a Map.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Connector, ExportContext, IdMap, ImportContext, ImportFailure, ImportResult, Logger, ScopeRef, StandbyItem, VerifyContext } from '../../src/model/connector.js';
import type { BlobRef, ChangeRecord, ChangeRecordInput, Cursor, IdMapEntry } from '../../src/model/records.js';

export const quietLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Logger that keeps every line (to assert that no secret was ever logged). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') };
}

export class MapIdMap implements IdMap {
  readonly map = new Map<string, Map<string, IdMapEntry>>();
  get(kind: string, sourceId: string): IdMapEntry | undefined {
    return this.map.get(kind)?.get(sourceId);
  }
  set(kind: string, sourceId: string, entry: IdMapEntry): void {
    let m = this.map.get(kind);
    if (!m) this.map.set(kind, (m = new Map()));
    m.set(sourceId, { ...entry });
  }
  delete(kind: string, sourceId: string): void {
    this.map.get(kind)?.delete(sourceId);
  }
  entries(kind: string): IterableIterator<[string, IdMapEntry]> {
    return (this.map.get(kind) ?? new Map<string, IdMapEntry>()).entries();
  }
  size(kind?: string): number {
    if (kind) return this.map.get(kind)?.size ?? 0;
    let n = 0;
    for (const m of this.map.values()) n += m.size;
    return n;
  }
  clone(): MapIdMap {
    const c = new MapIdMap();
    for (const [k, m] of this.map) for (const [id, e] of m) c.set(k, id, e);
    return c;
  }
}

async function readAll(body: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** One scope's storage in memory: blobs, committed journal, cursor, id map. */
export class MemoryScopeStore {
  readonly blobs = new Map<string, { data: Buffer; mediaType?: string }>();
  readonly records: ChangeRecord[] = [];
  cursor: Cursor | null = null;
  idMap = new MapIdMap();
  importedSeq = 0;
  /** Failures of the last import: retried by the next one, as the engine does. */
  failed: ImportFailure[] = [];
  private seq = 0;

  async putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef> {
    const data = await readAll(body);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (!this.blobs.has(sha256)) this.blobs.set(sha256, { data, mediaType });
    return { sha256, size: data.length, ...(mediaType ? { mediaType } : {}) };
  }

  async getBlob(sha256: string): Promise<Readable> {
    const b = this.blobs.get(sha256);
    if (!b) throw new Error(`blob ${sha256} not in the memory store`);
    return Readable.from([b.data]);
  }

  /** Latest record per item; deleted items are absent. */
  live(): Map<string, Map<string, ChangeRecord>> {
    const out = new Map<string, Map<string, ChangeRecord>>();
    for (const r of this.records) {
      let m = out.get(r.kind);
      if (!m) out.set(r.kind, (m = new Map()));
      if (r.op === 'delete') m.delete(r.id);
      else m.set(r.id, r);
    }
    return out;
  }

  /** An export context; `commit()` appends what was emitted (seq assigned) and returns it. */
  exportContext(workDir: string, log: Logger = quietLogger): { ctx: ExportContext; emitted: ChangeRecordInput[]; commit(cursor: Cursor): ChangeRecord[] } {
    const emitted: ChangeRecordInput[] = [];
    const live = this.live();
    const ctx: ExportContext = {
      putBlob: (b, t) => this.putBlob(b, t),
      getBlob: (s) => this.getBlob(s),
      emit: async (r) => void emitted.push(r),
      possessed: async (kind) => new Map([...(live.get(kind) ?? new Map<string, ChangeRecord>()).entries()].map(([id, r]) => [id, r.version])),
      lastRecord: async (kind, id) => live.get(kind)?.get(id) ?? null,
      workDir,
      signal: new AbortController().signal,
      log,
      progress: () => undefined,
    };
    return {
      ctx,
      emitted,
      commit: (cursor) => {
        const now = new Date().toISOString();
        const out = emitted.map((r) => ({ ...r, seq: ++this.seq, observedAt: now }));
        this.records.push(...out);
        this.cursor = cursor;
        return out;
      },
    };
  }

  /** Records not yet imported: latest per item, in the connector's kind order, seq order within a kind. */
  pendingImport(connector: Connector): ChangeRecord[] {
    const latest = new Map<string, ChangeRecord>();
    for (const r of this.records) if (r.seq > this.importedSeq) latest.set(`${r.kind}\u0000${r.id}`, r);
    const live = this.live();
    for (const f of this.failed) {
      const r = live.get(f.kind)?.get(f.id);
      if (r && !latest.has(`${r.kind}\u0000${r.id}`)) latest.set(`${r.kind}\u0000${r.id}`, r);
    }
    const rank = new Map(connector.kinds.map((k, i) => [k.kind, i]));
    return [...latest.values()].sort((a, b) => (rank.get(a.kind) ?? 99) - (rank.get(b.kind) ?? 99) || a.seq - b.seq);
  }

  importContext(workDir: string, log: Logger = quietLogger, idMap: IdMap = this.idMap): ImportContext {
    const live = this.live();
    return {
      getBlob: (s) => this.getBlob(s),
      idMap,
      lastRecord: async (kind, id) => live.get(kind)?.get(id) ?? null,
      workDir,
      signal: new AbortController().signal,
      log,
      progress: () => undefined,
    };
  }

  verifyContext(workDir: string, log: Logger = quietLogger): VerifyContext {
    return { idMap: this.idMap, getBlob: (s) => this.getBlob(s), workDir, signal: new AbortController().signal, log };
  }
}

/** export -> commit, as the engine does (the cursor only moves with the committed records). */
export async function runExport(connector: Connector, scope: ScopeRef, store: MemoryScopeStore, workDir: string, log?: Logger): Promise<ChangeRecord[]> {
  const { ctx, commit } = store.exportContext(workDir, log);
  const cursor = await connector.exportScope(scope, store.cursor, ctx);
  return commit(cursor);
}

/** import of everything pending -> commit (importedSeq and the id map advance together). */
export async function runImport(connector: Connector, scope: ScopeRef, store: MemoryScopeStore, workDir: string, log?: Logger): Promise<ImportResult> {
  const batch = store.pendingImport(connector);
  const idMap = store.idMap.clone();
  const result = batch.length ? await connector.importChanges(scope, batch, store.importContext(workDir, log, idMap)) : { imported: 0, unchanged: 0, deleted: 0, failed: [] };
  store.idMap = idMap;
  store.failed = result.failed;
  store.importedSeq = store.records.length ? store.records[store.records.length - 1]!.seq : 0;
  return result;
}

export interface VerifyOutcome {
  matched: number;
  findings: Array<{ kind: string; id: string; type: 'missing' | 'mismatch' | 'extra'; fields?: string[]; stored?: unknown; standby?: unknown }>;
}

/** Compare every live stored item with the standby on its kind's preserved fields. */
export async function runVerify(connector: Connector, scope: ScopeRef, store: MemoryScopeStore, workDir: string): Promise<VerifyOutcome> {
  const ctx = store.verifyContext(workDir);
  const specs = new Map(connector.kinds.map((k) => [k.kind, k]));
  const standby = new Map<string, StandbyItem>();
  const findings: VerifyOutcome['findings'] = [];
  for await (const item of connector.readStandby(scope, ctx)) {
    if (!specs.has(item.kind)) continue;
    if (item.sourceId === null) findings.push({ kind: item.kind, id: item.standbyId, type: 'extra', standby: item.normalized });
    else standby.set(`${item.kind}\u0000${item.sourceId}`, item);
  }
  let matched = 0;
  for (const [kind, items] of store.live()) {
    const spec = specs.get(kind);
    if (!spec) continue;
    for (const [id, record] of items) {
      const key = `${kind}\u0000${id}`;
      const other = standby.get(key);
      standby.delete(key);
      const stored = await connector.normalize(record, ctx);
      if (!other) {
        findings.push({ kind, id, type: 'missing', stored });
        continue;
      }
      const fields = spec.fidelity.preserved.filter((f) => JSON.stringify(sortKeys(stored[f] ?? null)) !== JSON.stringify(sortKeys(other.normalized[f] ?? null)));
      if (fields.length) findings.push({ kind, id, type: 'mismatch', fields, stored, standby: other.normalized });
      else matched++;
    }
  }
  for (const item of standby.values()) findings.push({ kind: item.kind, id: item.sourceId ?? item.standbyId, type: 'extra', standby: item.normalized });
  return { matched, findings };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
