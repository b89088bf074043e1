import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connector, ExportContext, ImportContext, ImportFailure, ImportResult, Logger, ScopeRef, VerifyContext } from '../model/connector.js';
import type { ChangeRecord, ChangeRecordInput } from '../model/records.js';
import type { Finding, KindCounts, VerifyProof } from '../model/proof.js';
import type { Lease, LiveView, Repository, RunManifest, ScopeState } from '../store/types.js';
import { getPath, pickFields, stableStringify } from '../verify/compare.js';
import { MemoryIdMap } from './idmap.js';
import { importBatch } from './order.js';

/** What a step hands to the progress display. */
export interface StepProgress {
  (event: { source: string; scope: string; step: 'export' | 'import' | 'verify'; items?: number; bytes?: number }): void;
}

export interface StepEnv {
  repo: Repository;
  connector: Connector;
  source: string;
  scope: ScopeRef;
  lease: Lease;
  cacheDir: string;
  signal: AbortSignal;
  log: Logger;
  progress?: StepProgress;
}

const APPEND_BATCH = 500;
const MAX_LISTED_FINDINGS = 1000;

async function scopeWorkDir(env: StepEnv): Promise<string> {
  const dir = join(env.cacheDir, env.source, env.scope.id);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Export one scope from its committed cursor and commit the run (even an empty one: it proves freshness). */
export async function exportStep(env: StepEnv): Promise<RunManifest> {
  const { repo, connector, source, scope } = env;
  const state = await repo.scopeState(source, scope.id, { idMap: false });
  const live = await repo.live(source, scope.id);
  const writer = await repo.beginRun(env.lease, 'export');
  const pending: ChangeRecordInput[] = [];
  let items = 0;
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length) await writer.append(pending.splice(0));
  };
  try {
    const ctx: ExportContext = {
      putBlob: (body, mediaType) => writer.putBlob(body, mediaType),
      getBlob: (sha) => repo.getBlob(sha),
      emit: async (record) => {
        pending.push(record);
        items++;
        for (const b of Object.values(record.blobs ?? {})) bytes += b.size;
        if (pending.length >= APPEND_BATCH) await flush();
      },
      possessed: async (kind) => {
        const out = new Map<string, string>();
        for (const [id, e] of live.items(kind)) out.set(id, e.version);
        return out;
      },
      lastRecord: (kind, id) => live.record(kind, id),
      workDir: await scopeWorkDir(env),
      signal: env.signal,
      log: env.log,
      progress: (d) => env.progress?.({ source, scope: scope.id, step: 'export', ...d }),
    };
    const cursor = await connector.exportScope(scope, state.cursor, ctx);
    await flush();
    return await writer.commit({ cursor, stats: { items, bytes } });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Import every committed change not yet applied to the standby (plus items that failed last time),
 * then commit the id map with the import run.
 */
export async function importStep(env: StepEnv): Promise<RunManifest> {
  const { repo, source, scope } = env;
  const { state, idMap } = await stateAndIdMap(repo, source, scope.id);
  const live = await repo.live(source, scope.id);
  if (live.seqTo !== state.exportedSeq) {
    throw new Error(`the journal of scope ${scope.id} changed while its import began (exported seq ${state.exportedSeq}, then ${live.seqTo}): run the cycle again`);
  }
  const writer = await repo.beginRun(env.lease, 'import');
  const started = Date.now();
  try {
    // the batch is gone (out of scope) before the id map is serialized for the commit
    const { result, perKind, bytes } = await importPending(env, live, idMap, state);
    return await writer.commit({
      idMap: idMap.snapshot(),
      seqFrom: state.importedSeq,
      seqTo: state.exportedSeq,
      stats: { items: result.imported + result.deleted, bytes, unchanged: result.unchanged, failed: result.failed.length, ms: Date.now() - started },
      summary: { failed: result.failed, perKind },
    });
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/** A scope's committed state, its id map loaded (the snapshot it came from is not kept). */
async function stateAndIdMap(repo: Repository, source: string, scope: string): Promise<{ state: Omit<ScopeState, 'idMap'>; idMap: MemoryIdMap }> {
  const { idMap, ...state } = await repo.scopeState(source, scope);
  return { state, idMap: new MemoryIdMap(idMap) };
}

/** Apply the pending changes (one batch: the connector's contract) to the standby. */
async function importPending(env: StepEnv, live: LiveView, idMap: MemoryIdMap, state: Omit<ScopeState, 'idMap'>): Promise<{ result: ImportResult; perKind: Record<string, number>; bytes: number }> {
  const { repo, connector, source, scope } = env;
  const batch = importBatch(await pendingRecords(env, live, state.importedSeq, state.exportedSeq, state.lastRuns.import), connector.kinds);
  const inBatch = upsertsByKind(batch);
  let bytes = 0;
  const ctx: ImportContext = {
    getBlob: (sha) => repo.getBlob(sha),
    idMap,
    // the batch holds the latest record of the items it imports; older parents are read on demand
    lastRecord: async (kind, id) => inBatch.get(kind)?.get(id) ?? (await live.record(kind, id)),
    workDir: await scopeWorkDir(env),
    signal: env.signal,
    log: env.log,
    progress: (d) => {
      bytes += d.bytes ?? 0;
      env.progress?.({ source, scope: scope.id, step: 'import', ...d });
    },
  };
  const result = batch.length ? await connector.importChanges(scope, batch, ctx) : { imported: 0, unchanged: 0, deleted: 0, failed: [] };
  const perKind: Record<string, number> = {};
  for (const r of batch) perKind[r.kind] = (perKind[r.kind] ?? 0) + 1;
  return { result, perKind, bytes };
}

/**
 * The records an import must consider: of the journal after importedSeq, only the latest record of
 * each item (superseded ones are never held), plus the live records of the items that failed in the
 * previous import (their records are behind importedSeq).
 */
async function pendingRecords(env: StepEnv, live: LiveView, importedSeq: number, exportedSeq: number, lastImport: RunManifest | undefined): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  const deletes = new Map<string, ChangeRecord>();
  for await (const r of env.repo.readJournal(env.source, env.scope.id, { afterSeq: importedSeq, uptoSeq: exportedSeq })) {
    const entry = live.items(r.kind).get(r.id);
    if (r.op === 'delete') {
      // the latest delete of an item that is not live again
      if (entry === undefined) deletes.set(`${r.kind}\u0000${r.id}`, r);
    } else if (entry?.seq === r.seq) out.push(r);
  }
  out.push(...deletes.values());
  for (const f of (lastImport?.summary?.failed as ImportFailure[] | undefined) ?? []) {
    const r = await live.record(f.kind, f.id);
    if (r) out.push(r);
  }
  return out;
}

/** kind -> id -> record of the upserts among some records. */
export function upsertsByKind(records: readonly ChangeRecord[]): Map<string, Map<string, ChangeRecord>> {
  const out = new Map<string, Map<string, ChangeRecord>>();
  for (const r of records) {
    if (r.op !== 'upsert') continue;
    let m = out.get(r.kind);
    if (m === undefined) out.set(r.kind, (m = new Map()));
    m.set(r.id, r);
  }
  return out;
}

/**
 * Compare every live stored item with the standby on its kind's preserved fields and commit a proof.
 * Findings are part of the proof, not log lines.
 */
export async function verifyStep(env: StepEnv): Promise<{ manifest: RunManifest; proof: VerifyProof }> {
  const { repo, connector, source, scope } = env;
  const { state, idMap } = await stateAndIdMap(repo, source, scope.id);
  const live = await repo.live(source, scope.id);
  const failed = (state.lastRuns.import?.summary?.failed as ImportFailure[] | undefined) ?? [];
  const result = await compareWithStandby({ connector, scope, live, idMap, failed, getBlob: (sha) => repo.getBlob(sha), workDir: await scopeWorkDir(env), signal: env.signal, log: env.log });
  const through = await newestExportCovering(repo, source, scope.id, state.importedSeq);
  const proof: VerifyProof = { source, scope: scope.id, seqTo: state.importedSeq, sourceTimeThrough: through, verifiedAt: new Date().toISOString(), ...result };
  const writer = await repo.beginRun(env.lease, 'verify');
  try {
    const total = Object.values(result.counts).reduce((n, c) => n + c.stored, 0);
    const findings = result.findings.length + result.findingsTruncated;
    const manifest = await writer.commit({
      document: proof,
      seqFrom: 0,
      seqTo: state.importedSeq,
      stats: { items: total, bytes: 0, findings },
      summary: { findings, sourceTimeThrough: through },
    });
    return { manifest, proof };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

/**
 * Compare the live stored items of a scope with what the standby holds, on each kind's preserved
 * fields. Used by verify (against the standby) and by drill --fresh (against the restored tenant).
 *
 * Memory stays flat as items grow: per standby item only a digest of its preserved fields is kept
 * (what a mismatch finding shows of it is spooled to a scratch file in workDir); the stored side is
 * streamed segment by segment (read, normalize, compare, drop), its digest lines and findings
 * spooled, then taken back in id order for the proof's digests and findings.
 */
export async function compareWithStandby(input: {
  connector: Connector;
  scope: ScopeRef;
  live: Pick<LiveView, 'kinds' | 'items' | 'records'>;
  idMap: MemoryIdMap;
  failed: ImportFailure[];
  getBlob: VerifyContext['getBlob'];
  workDir: string;
  signal: AbortSignal;
  log: Logger;
}): Promise<Pick<VerifyProof, 'counts' | 'digests' | 'findings' | 'findingsTruncated'>> {
  const { connector, scope, live } = input;
  const ctx: VerifyContext = { idMap: input.idMap, getBlob: input.getBlob, workDir: input.workDir, signal: input.signal, log: input.log };
  const specs = new Map(connector.kinds.map((k) => [k.kind, k]));
  const counts: Record<string, KindCounts> = {};
  const count = (kind: string): KindCounts => (counts[kind] ??= { stored: 0, standby: 0, matched: 0, mismatched: 0, missing: 0, extra: 0 });
  const findings: Finding[] = [];
  let truncated = 0;
  const find = (f: Finding): void => {
    if (findings.length < MAX_LISTED_FINDINGS) findings.push(f);
    else truncated++;
  };

  await mkdir(input.workDir, { recursive: true });
  const standbySpool = new Spool(input.workDir, 'verify-standby');
  let storedSpool: Spool | undefined;
  try {
    // Standby side, keyed by source id: a slot per item (digest of its preserved fields, spooled explanation).
    const standby = new Map<string, Map<string, number>>();
    const slots = new SlotTable();
    for await (const item of connector.readStandby(scope, ctx)) {
      const spec = specs.get(item.kind);
      if (spec?.possession !== 'restorable') continue;
      count(item.kind).standby++;
      if (item.sourceId === null) {
        count(item.kind).extra++;
        find({ kind: item.kind, id: item.standbyId, type: 'extra', detail: `standby holds ${item.kind} ${item.standbyId} that is not in the owned storage` });
        continue;
      }
      let m = standby.get(item.kind);
      if (!m) standby.set(item.kind, (m = new Map()));
      if (m.has(item.sourceId)) {
        count(item.kind).extra++;
        find({ kind: item.kind, id: item.sourceId, type: 'extra', detail: `standby holds ${item.kind} ${item.sourceId} twice (also as ${item.standbyId})` });
        continue;
      }
      const preserved = spec.fidelity.preserved;
      const values = preservedValues(item.normalized, preserved);
      const explanation = JSON.stringify(values.map((v, i) => [fieldKey(v), short(getPath(item.normalized, preserved[i]!) ?? null)]));
      const pos = standbySpool.length;
      m.set(item.sourceId, slots.add(digestOf(values), pos, standbySpool.append(explanation)));
    }
    standbySpool.flush();

    // Stored side, streamed in journal order; kinds in name order, as the proof lists them.
    const failedImports = new Map(input.failed.map((f) => [`${f.kind}\u0000${f.id}`, f.error]));
    const kinds = live
      .kinds()
      .filter((k) => specs.get(k)?.possession === 'restorable')
      .sort((a, b) => a.localeCompare(b));
    for (const kind of kinds) count(kind);
    const seqs = sortedSeqs(live, kinds);
    const at = new Float64Array(seqs.length);
    const lineBytes = new Uint32Array(seqs.length);
    const findingBytes = new Uint32Array(seqs.length);
    storedSpool = new Spool(input.workDir, 'verify-stored');
    let k = 0;
    for await (const record of live.records({ kinds })) {
      if (record.seq !== seqs[k]) throw new Error(`verify of scope ${scope.id}: the journal walk returned seq ${record.seq} where ${seqs[k]} was expected; run it again`);
      const { kind, id } = record;
      const preserved = specs.get(kind)!.fidelity.preserved;
      const c = count(kind);
      c.stored++;
      const stored = await connector.normalize(record, ctx);
      let finding: Finding | null = null;
      const side = standby.get(kind);
      const slot = side?.get(id);
      side?.delete(id);
      if (slot === undefined) {
        c.missing++;
        const failed = failedImports.get(`${kind}\u0000${id}`);
        finding = failed ? { kind, id, type: 'import-failed', detail: failed } : { kind, id, type: 'missing', detail: `${kind} ${id} is possessed but not on the standby` };
      } else {
        const values = preservedValues(stored, preserved);
        if (slots.matches(slot, digestOf(values))) c.matched++;
        else {
          const theirs = JSON.parse(standbySpool.read(slots.pos(slot), slots.len(slot)).toString('utf8')) as Array<[string, string]>;
          const diff: string[] = [];
          const detail: string[] = [];
          values.forEach((v, i) => {
            if (fieldKey(v) === theirs[i]![0]) return;
            const f = preserved[i]!;
            diff.push(f);
            detail.push(`${f}: stored ${short(getPath(stored, f) ?? null)} standby ${theirs[i]![1]}`);
          });
          if (diff.length) {
            c.mismatched++;
            finding = { kind, id, type: 'mismatch', fields: diff, detail: detail.join('; ') };
          } else c.matched++;
        }
      }
      at[k] = storedSpool.length;
      lineBytes[k] = storedSpool.append(`${id}\u0000${stableStringify(pickFields(stored, preserved))}\n`);
      if (finding) findingBytes[k] = storedSpool.append(JSON.stringify(finding));
      k++;
    }
    if (k !== seqs.length) throw new Error(`verify of scope ${scope.id}: the journal walk returned ${k} of ${seqs.length} live records; run it again`);
    storedSpool.flush();

    // Digests and findings in id order, as before streaming.
    const digests: Record<string, string> = {};
    let n = 0;
    for (const kind of kinds) {
      const items = live.items(kind);
      const hash = createHash('sha256');
      for (const id of [...items.keys()].sort(compareIds)) {
        const i = indexOf(seqs, items.get(id)!.seq);
        hash.update(storedSpool.read(at[i]!, lineBytes[i]!));
        if (findingBytes[i]) find(JSON.parse(storedSpool.read(at[i]! + lineBytes[i]!, findingBytes[i]!).toString('utf8')) as Finding);
        if (++n % 4096 === 0) await new Promise((r) => setImmediate(r));
      }
      digests[kind] = hash.digest('hex');
    }
    // Standby items mapped to a source id that is not live (deleted at the source, or never possessed).
    for (const [kind, side] of standby) {
      for (const id of side.keys()) {
        count(kind).extra++;
        find({ kind, id, type: 'extra', detail: `standby still holds ${kind} ${id}, which is deleted at the source` });
      }
    }
    return { counts, digests, findings, findingsTruncated: truncated };
  } finally {
    standbySpool.close();
    storedSpool?.close();
  }
}

/** The same order as String.prototype.localeCompare without arguments, faster. */
const compareIds = new Intl.Collator().compare;

/** Per preserved field, its value as compared (stable JSON; undefined and null are equal). */
function preservedValues(obj: Record<string, unknown>, preserved: readonly string[]): string[] {
  return preserved.map((f) => String(stableStringify(getPath(obj, f) ?? null)));
}

/** 16 bytes of sha256 over the compared values: equal digests, equal preserved fields. */
function digestOf(values: readonly string[]): Buffer {
  const h = createHash('sha256');
  for (const v of values) h.update(v).update('\u0000');
  return h.digest().subarray(0, 16);
}

/** A compared value, or its hash when long (JSON text never starts with '#'). */
function fieldKey(value: string): string {
  return value.length <= 44 ? value : '#' + createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

/** Live seqs of some kinds, ascending. */
function sortedSeqs(live: Pick<LiveView, 'items'>, kinds: readonly string[]): Float64Array {
  let n = 0;
  for (const k of kinds) n += live.items(k).size;
  const seqs = new Float64Array(n);
  let i = 0;
  for (const k of kinds) for (const e of live.items(k).values()) seqs[i++] = e.seq;
  return seqs.sort();
}

function indexOf(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else if (sorted[mid]! > v) hi = mid - 1;
    else return mid;
  }
  throw new Error(`seq ${v} is not among the live seqs`);
}

/** Per standby item: a 16-byte digest and where its explanation is spooled, in growable typed arrays. */
class SlotTable {
  private digests = Buffer.alloc(16 * 1024);
  private at = new Float64Array(1024);
  private bytes = new Uint32Array(1024);
  private n = 0;

  add(digest: Buffer, pos: number, len: number): number {
    if (this.n === this.at.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.at = grow(this.at, (n) => new Float64Array(n));
      this.bytes = grow(this.bytes, (n) => new Uint32Array(n));
      const d = Buffer.alloc(this.digests.length * 2);
      this.digests.copy(d);
      this.digests = d;
    }
    digest.copy(this.digests, this.n * 16);
    this.at[this.n] = pos;
    this.bytes[this.n] = len;
    return this.n++;
  }
  matches(slot: number, digest: Buffer): boolean {
    return digest.compare(this.digests, slot * 16, slot * 16 + 16) === 0;
  }
  pos(slot: number): number {
    return this.at[slot]!;
  }
  len(slot: number): number {
    return this.bytes[slot]!;
  }
}

const SPOOL_BUFFER = 1 << 20;

/**
 * A scratch file in a directory of ours: written once (buffered), then read back by position. Its
 * name is removed as soon as it is open where the system allows (so a killed process leaves
 * nothing behind), else on close.
 */
class Spool {
  private readonly fd: number;
  private readonly file: string;
  private readonly buf = Buffer.allocUnsafe(SPOOL_BUFFER);
  private used = 0;
  private written = 0;
  private named = true;

  constructor(dir: string, name: string) {
    this.file = join(dir, `.norestore-${name}-${randomBytes(6).toString('hex')}`);
    this.fd = openSync(this.file, 'wx+', 0o600);
    try {
      unlinkSync(this.file);
      this.named = false;
    } catch {
      // an open file cannot be unlinked here (Windows): removed on close
    }
  }

  /** Bytes appended so far (the position of the next append). */
  get length(): number {
    return this.written + this.used;
  }

  /** Append text; returns its length in bytes. */
  append(text: string): number {
    const len = Buffer.byteLength(text);
    if (len > SPOOL_BUFFER - this.used) this.flush();
    if (len > SPOOL_BUFFER) this.writeAll(Buffer.from(text, 'utf8'));
    else this.used += this.buf.write(text, this.used, 'utf8');
    return len;
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(b: Buffer): void {
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off, this.written + off);
    this.written += b.length;
  }

  read(pos: number, len: number): Buffer {
    if (pos + len > this.written) this.flush();
    const out = Buffer.allocUnsafe(len);
    for (let off = 0; off < len; ) {
      const n = readSync(this.fd, out, off, len - off, pos + off);
      if (n === 0) throw new Error(`scratch file ${this.file} ended early`);
      off += n;
    }
    return out;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } finally {
      if (this.named) {
        try {
          unlinkSync(this.file);
        } catch {
          // already gone
        }
      }
    }
  }
}

/** startedAt of the newest committed export run whose records are all at or below seq. */
async function newestExportCovering(repo: Repository, source: string, scope: string, seq: number): Promise<string | null> {
  let best: string | null = null;
  for await (const m of repo.listRuns(source, scope)) {
    if (m.type === 'export' && m.seqTo <= seq && (best === null || m.startedAt > best)) best = m.startedAt;
  }
  return best;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
