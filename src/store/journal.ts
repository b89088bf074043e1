import type { BlobRef, ChangeRecord } from '../model/records.js';
import { getBlob, putBlobBuffer } from './blobs.js';
import type { StoreContext } from './context.js';
import { CorruptObjectError } from './errors.js';
import { readAll } from './objects.js';

/**
 * Journal segments (docs/FORMAT.md, "Journal"): blobs of JSON lines, one ChangeRecord per line, in
 * seq order, written before the manifest that lists them.
 */

export const SEGMENT_MEDIA_TYPE = 'application/x-ndjson';
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;

export interface SegmentEntry {
  blob: BlobRef;
  seqFrom: number;
  seqTo: number;
  records: number;
}

/** Buffers records of one run and writes them as segments of about `maxBytes`. */
export class SegmentWriter {
  private lines: string[] = [];
  private bytes = 0;
  private first = 0;
  private last = 0;
  readonly written: SegmentEntry[] = [];

  constructor(
    private readonly ctx: StoreContext,
    private readonly maxBytes: number,
  ) {}

  /** Add one record; writes a segment when the buffer reaches the bound. */
  async add(record: ChangeRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    if (this.lines.length === 0) this.first = record.seq;
    this.last = record.seq;
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line);
    if (this.bytes >= this.maxBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const body = Buffer.from(this.lines.join(''), 'utf8');
    const entry = { seqFrom: this.first, seqTo: this.last, records: this.lines.length };
    this.lines = [];
    this.bytes = 0;
    const blob = await putBlobBuffer(this.ctx, body, SEGMENT_MEDIA_TYPE);
    this.written.push({ blob, ...entry });
  }
}

/**
 * The records of one segment. The segment (bounded by the segment size) is read whole and its hash
 * verified before any record is handed out, so a corrupt segment yields nothing but the error.
 */
export async function* readSegment(ctx: StoreContext, segment: SegmentEntry): AsyncGenerator<ChangeRecord> {
  const bytes = await readAll(await getBlob(ctx, segment.blob.sha256), Number.MAX_SAFE_INTEGER);
  const text = bytes.toString('utf8');
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    line++;
    const raw = text.slice(start, nl);
    start = nl + 1;
    if (raw.length === 0) continue;
    let record: ChangeRecord;
    try {
      record = JSON.parse(raw) as ChangeRecord;
    } catch (err) {
      throw new CorruptObjectError(`journal segment ${segment.blob.sha256}`, ctx.location, `line ${line} is not valid JSON`, { cause: err });
    }
    yield record;
  }
}

/** A segment read whole (and its hash verified), with its lines located, for records by seq. */
export class DecodedSegment {
  constructor(
    readonly segment: SegmentEntry,
    readonly bytes: Buffer,
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    private readonly location: string,
  ) {}

  get lines(): number {
    return this.starts.length;
  }

  private parse(i: number): ChangeRecord {
    try {
      return JSON.parse(this.bytes.toString('utf8', this.starts[i], this.ends[i])) as ChangeRecord;
    } catch (err) {
      throw new CorruptObjectError(`journal segment ${this.segment.blob.sha256}`, this.location, `line ${i + 1} is not valid JSON`, { cause: err });
    }
  }

  /** The record with this seq (a segment holds consecutive seqs from its seqFrom). */
  record(seq: number): ChangeRecord {
    const i = seq - this.segment.seqFrom;
    if (i >= 0 && i < this.starts.length) {
      const r = this.parse(i);
      if (r.seq === seq) return r;
    }
    // not where the format says: look through the whole segment before calling it corrupt
    for (let k = 0; k < this.starts.length; k++) {
      const r = this.parse(k);
      if (r.seq === seq) return r;
    }
    throw new CorruptObjectError(`journal segment ${this.segment.blob.sha256}`, this.location, `it does not hold seq ${seq} (its manifest says ${this.segment.seqFrom}..${this.segment.seqTo}); run norestore check`);
  }
}

/** Read a segment whole, verify its hash, and locate its lines (empty lines are skipped, as readSegment does). */
export async function decodeSegment(ctx: StoreContext, segment: SegmentEntry): Promise<DecodedSegment> {
  const bytes = await readAll(await getBlob(ctx, segment.blob.sha256), Number.MAX_SAFE_INTEGER);
  const starts: number[] = [];
  const ends: number[] = [];
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    if (nl < 0) nl = bytes.length;
    if (nl > start) {
      starts.push(start);
      ends.push(nl);
    }
    start = nl + 1;
  }
  return new DecodedSegment(segment, bytes, Float64Array.from(starts), Float64Array.from(ends), ctx.location);
}
