import { createHash } from 'node:crypto';
import type { BlobRef, ChangeRecordInput } from '../../src/model/records.js';

/**
 * The deterministic workload of the crash test: run k of scope 'crash/scope' exports
 * RECORDS_PER_RUN records: new items, updates and deletions of earlier ones, every BLOB_EVERY-th
 * with a content blob of 1..16 KiB. Child (writer) and parent (checker) both derive it from k.
 */
export const SOURCE = 'crash';
export const SCOPE = 'team/scope-1';
export const RECORDS_PER_RUN = 300;
export const BLOB_EVERY = 10;

export function blobBytes(k: number, i: number): Buffer {
  const size = 1024 + ((k * 7919 + i * 104729) % (15 * 1024));
  const seed = createHash('sha256').update(`${k}/${i}`).digest();
  const out = Buffer.alloc(size);
  for (let off = 0; off < size; off += seed.length) seed.copy(out, off);
  out.writeUInt32BE(k, 0);
  out.writeUInt32BE(i, 4);
  return out;
}

export function blobRef(bytes: Buffer): BlobRef {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, mediaType: 'application/octet-stream' };
}

/** Record i of run k, and the blob it carries (if any). */
export function record(k: number, i: number): { input: ChangeRecordInput; blob: Buffer | null } {
  const blob = i % BLOB_EVERY === 0 ? blobBytes(k, i) : null;
  // a third of each run updates items of the previous run, a few delete them, the rest are new
  const id = k > 1 && i % 3 === 1 ? `item-${k - 1}-${i}` : `item-${k}-${i}`;
  const op = k > 1 && i % 30 === 1 ? 'delete' : 'upsert';
  return {
    input: {
      kind: i % 2 === 0 ? 'issue' : 'comment',
      id,
      op,
      version: `v${k}`,
      sourceTime: new Date(Date.UTC(2026, 0, 1) + k * 60_000 + i).toISOString(),
      raw: { title: `run ${k} record ${i}`, body: 'x'.repeat(100 + (i % 50)) },
      ...(blob !== null ? { blobs: { content: blobRef(blob) } } : {}),
    },
    blob,
  };
}
