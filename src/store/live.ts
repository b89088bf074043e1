import type { ChangeRecord } from '../model/records.js';
import type { StoreContext } from './context.js';
import { CorruptObjectError, RepositoryError } from './errors.js';
import { decodeSegment, readSegment, type DecodedSegment, type SegmentEntry } from './journal.js';
import type { LiveEntry, LiveView, RunManifest } from './types.js';

/**
 * The live state of a scope (docs/FORMAT.md, "Journal": the fold of its committed journal), kept
 * lean: per kind and id only the latest record's version, seq and content size, never its payload.
 * Records are read on demand from their segment (found by seq: a segment holds consecutive seqs),
 * through a small LRU of decoded segments, or streamed segment by segment.
 */

class Entry implements LiveEntry {
  constructor(
    readonly version: string,
    readonly seq: number,
    readonly bytes: number,
  ) {}
}

/** Bytes of content a record references, each blob counted once. */
export function contentBytes(r: Pick<ChangeRecord, 'blobs'>): number {
  const blobs = Object.values(r.blobs ?? {});
  if (blobs.length === 1) return blobs[0]!.size;
  const seen = new Set<string>();
  let n = 0;
  for (const b of blobs) {
    if (seen.has(b.sha256)) continue;
    seen.add(b.sha256);
    n += b.size;
  }
  return n;
}

/** The lean live state of one scope, folded incrementally as export runs commit. */
export class LiveState {
  /** Highest export seq folded. */
  seqTo = 0;
  readonly kinds = new Map<string, Map<string, Entry>>();
  /** Segments of the folded export runs, in seq order (for finding a record by its seq). */
  readonly segments: SegmentEntry[] = [];
  /** A fold failed half way: this state must not be used again. */
  broken = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly source: string,
    readonly scope: string,
  ) {}

  /** Fold the committed export runs up to exportedSeq (one fold at a time). */
  catchUp(ctx: StoreContext, manifests: readonly RunManifest[], exportedSeq: number): Promise<void> {
    const run = this.chain.then(() => this.fold(ctx, manifests, exportedSeq));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async fold(ctx: StoreContext, manifests: readonly RunManifest[], exportedSeq: number): Promise<void> {
    if (this.broken) throw new RepositoryError(`the live state of ${this.source}/${this.scope} could not be read`);
    const from = this.seqTo;
    if (from >= exportedSeq) return;
    try {
      for (const m of manifests) {
        if (m.type !== 'export' || m.seqTo <= from) continue;
        for (const seg of m.segments) {
          if (seg.seqTo <= from || seg.seqFrom > exportedSeq) continue;
          for await (const r of readSegment(ctx, seg)) if (r.seq > from && r.seq <= exportedSeq) this.apply(r);
          if (seg.seqFrom > from) this.segments.push(seg);
        }
      }
      this.seqTo = exportedSeq;
    } catch (err) {
      this.broken = true;
      throw err;
    }
  }

  private apply(r: ChangeRecord): void {
    let items = this.kinds.get(r.kind);
    if (r.op === 'delete') {
      items?.delete(r.id);
      return;
    }
    if (items === undefined) this.kinds.set(r.kind, (items = new Map()));
    items.set(r.id, new Entry(r.version, r.seq, contentBytes(r)));
  }

  /** The segment holding seq, or undefined. */
  segmentOf(seq: number): SegmentEntry | undefined {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (seq < s.seqFrom) hi = mid - 1;
      else if (seq > s.seqTo) lo = mid + 1;
      else return s;
    }
    return undefined;
  }
}

const EMPTY: ReadonlyMap<string, LiveEntry> = new Map();

/** Decoded segments, least recently used first, bounded by their total bytes. */
export class SegmentCache {
  private readonly entries = new Map<string, DecodedSegment>();
  private readonly loading = new Map<string, Promise<DecodedSegment>>();
  private bytes = 0;

  constructor(
    private readonly ctx: StoreContext,
    private readonly maxBytes: number,
  ) {}

  async get(seg: SegmentEntry): Promise<DecodedSegment> {
    const sha = seg.blob.sha256;
    const hit = this.entries.get(sha);
    if (hit !== undefined) {
      this.entries.delete(sha);
      this.entries.set(sha, hit);
      return hit;
    }
    let pending = this.loading.get(sha);
    if (pending === undefined) {
      pending = decodeSegment(this.ctx, seg).finally(() => this.loading.delete(sha));
      this.loading.set(sha, pending);
      const decoded = await pending;
      this.entries.set(sha, decoded);
      this.bytes += decoded.bytes.length;
      for (const [k, v] of this.entries) {
        if (this.bytes <= this.maxBytes || this.entries.size <= 1) break;
        this.entries.delete(k);
        this.bytes -= v.bytes.length;
      }
      return decoded;
    }
    return pending;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** The view handed to callers: lean reads from the state, records on demand. */
export class LiveViewImpl implements LiveView {
  constructor(
    private readonly ctx: StoreContext,
    private readonly state: LiveState,
    private readonly cache: SegmentCache,
  ) {}

  get source(): string {
    return this.state.source;
  }
  get scope(): string {
    return this.state.scope;
  }
  get seqTo(): number {
    return this.state.seqTo;
  }

  kinds(): string[] {
    const out: string[] = [];
    for (const [kind, items] of this.state.kinds) if (items.size > 0) out.push(kind);
    return out;
  }

  items(kind: string): ReadonlyMap<string, LiveEntry> {
    return this.state.kinds.get(kind) ?? EMPTY;
  }

  get size(): number {
    let n = 0;
    for (const items of this.state.kinds.values()) n += items.size;
    return n;
  }

  async record(kind: string, id: string): Promise<ChangeRecord | null> {
    const entry = this.state.kinds.get(kind)?.get(id);
    if (entry === undefined) return null;
    const seg = this.state.segmentOf(entry.seq);
    if (seg === undefined) throw new CorruptObjectError(`journal of ${this.state.source}/${this.state.scope}`, this.ctx.location, `no committed segment holds seq ${entry.seq} (${kind} ${id}); run norestore check`);
    return (await this.cache.get(seg)).record(entry.seq);
  }

  async *records(opts: { kinds?: Iterable<string> } = {}): AsyncGenerator<ChangeRecord> {
    const seqs = liveSeqs(this, opts.kinds);
    if (seqs.length === 0) return;
    const segments = this.state.segments.slice();
    let i = 0;
    for (const seg of segments) {
      if (i >= seqs.length) break;
      if (seqs[i]! > seg.seqTo) continue;
      // Read straight from the target (not through the cache: a walk would only evict it).
      const decoded = await decodeSegment(this.ctx, seg);
      for (; i < seqs.length && seqs[i]! <= seg.seqTo; i++) {
        if (seqs[i]! < seg.seqFrom) throw new CorruptObjectError(`journal of ${this.state.source}/${this.state.scope}`, this.ctx.location, `no committed segment holds seq ${seqs[i]}; run norestore check`);
        yield decoded.record(seqs[i]!);
      }
    }
    if (i < seqs.length) throw new CorruptObjectError(`journal of ${this.state.source}/${this.state.scope}`, this.ctx.location, `no committed segment holds seq ${seqs[i]}; run norestore check`);
  }
}

/** The seqs of the live items of some kinds (all kinds if none given), ascending. */
function liveSeqs(view: Pick<LiveView, 'kinds' | 'items'>, kinds?: Iterable<string>): Float64Array {
  const names = kinds === undefined ? view.kinds() : [...new Set(kinds)];
  let n = 0;
  for (const k of names) n += view.items(k).size;
  const seqs = new Float64Array(n);
  let i = 0;
  for (const k of names) for (const e of view.items(k).values()) seqs[i++] = e.seq;
  return seqs.sort();
}

/**
 * Lean live states of the scopes whose lease this process holds (pinned: their steps come one after
 * another), and of a few recently used others; older ones are dropped, and folded again if asked
 * for again.
 */
export class LiveStates {
  private readonly states = new Map<string, LiveState>();

  constructor(
    private readonly maxUnpinned: number,
    private readonly pinned: () => Array<{ source: string; scope: string }>,
  ) {}

  /** The state of a scope folded up to exportedSeq. */
  async get(ctx: StoreContext, source: string, scope: string, manifests: readonly RunManifest[], exportedSeq: number): Promise<LiveState> {
    const key = JSON.stringify([source, scope]);
    let state = this.states.get(key);
    if (state !== undefined) this.states.delete(key);
    if (state === undefined || state.broken || state.seqTo > exportedSeq) state = new LiveState(source, scope);
    this.states.set(key, state);
    this.evict();
    try {
      await state.catchUp(ctx, manifests, exportedSeq);
    } catch (err) {
      if (this.states.get(key) === state) this.states.delete(key);
      throw err;
    }
    return state;
  }

  private evict(): void {
    if (this.states.size <= this.maxUnpinned) return;
    const pinned = new Set(this.pinned().map((p) => JSON.stringify([p.source, p.scope])));
    let unpinned = 0;
    for (const k of this.states.keys()) if (!pinned.has(k)) unpinned++;
    for (const k of this.states.keys()) {
      if (unpinned <= this.maxUnpinned) break;
      if (pinned.has(k)) continue;
      this.states.delete(k);
      unpinned--;
    }
  }

  /** Scopes whose state is kept (for tests). */
  cached(): Array<{ source: string; scope: string }> {
    return [...this.states.values()].map((s) => ({ source: s.source, scope: s.scope }));
  }

  clear(): void {
    this.states.clear();
  }
}
