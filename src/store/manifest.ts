import { z } from 'zod';
import { BlobRef, Cursor } from '../model/records.js';
import type { RunManifest } from './types.js';

/** The storage format version this code writes and the newest it reads (docs/FORMAT.md, "Versions"). */
export const FORMAT_VERSION = 1;

export const RunTypeSchema = z.enum(['export', 'import', 'verify', 'drill']);

const SeqNumber = z.number().int().nonnegative();

export const SegmentEntrySchema = z.object({
  blob: BlobRef,
  seqFrom: z.number().int().positive(),
  seqTo: z.number().int().positive(),
  records: z.number().int().positive(),
});

/** Schema of a run manifest (the object under runs/<source>/<scope>/<number>). */
export const RunManifestSchema = z.object({
  formatVersion: z.number().int().positive(),
  runId: z.string().min(1),
  type: RunTypeSchema,
  source: z.string().min(1),
  scope: z.string().min(1),
  number: z.number().int().positive(),
  startedAt: z.string(),
  finishedAt: z.string(),
  seqFrom: SeqNumber,
  seqTo: SeqNumber,
  cursor: Cursor.optional(),
  idMap: BlobRef.optional(),
  document: BlobRef.optional(),
  segments: z.array(SegmentEntrySchema),
  blobs: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  stats: z.object({ items: z.number(), bytes: z.number() }).catchall(z.number()),
  summary: z.record(z.string(), z.unknown()).optional(),
});

/** Parse manifest JSON; throws an Error whose message names the first problem. */
export function parseManifest(bytes: Buffer): RunManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    throw new Error(`manifest format ${version} is newer than this norestore understands (${FORMAT_VERSION}): upgrade norestore`);
  }
  const r = RunManifestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data as RunManifest;
}
