import { z } from 'zod';

/** What verification observed for one item that does not match. A finding, never just a log line. */
export const Finding = z.object({
  kind: z.string(),
  id: z.string(),
  type: z.enum(['missing', 'mismatch', 'extra', 'import-failed']),
  /** Preserved fields that differ (mismatch). */
  fields: z.array(z.string()).optional(),
  detail: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const KindCounts = z.object({
  stored: z.number().int(),
  standby: z.number().int(),
  matched: z.number().int(),
  mismatched: z.number().int(),
  missing: z.number().int(),
  extra: z.number().int(),
});
export type KindCounts = z.infer<typeof KindCounts>;

/** The proof document of one verify run (stored as a JSON blob referenced by its manifest). */
export const VerifyProof = z.object({
  source: z.string(),
  scope: z.string(),
  /** Journal seq through which the standby was compared. */
  seqTo: z.number().int(),
  /** startedAt of the newest export run covered: every source change before it is proven on the standby. */
  sourceTimeThrough: z.string().nullable(),
  verifiedAt: z.string(),
  counts: z.record(z.string(), KindCounts),
  /** sha256 over the sorted normalized preserved fields of the stored items, per kind. */
  digests: z.record(z.string(), z.string()),
  findings: z.array(Finding),
  /** Findings beyond the first N are counted, not listed. */
  findingsTruncated: z.number().int().default(0),
});
export type VerifyProof = z.infer<typeof VerifyProof>;

/** Timed steps of a drill (no-restore RTO) or of a fresh restore (classic RTO). */
export const DrillDocument = z.object({
  source: z.string(),
  mode: z.enum(['no-restore', 'fresh']),
  startedAt: z.string(),
  finishedAt: z.string(),
  steps: z.array(z.object({ name: z.string(), ms: z.number(), detail: z.string().optional() })),
  totalMs: z.number(),
  /** Items and bytes imported during the drill, per kind (for rates). */
  imported: z.record(z.string(), z.object({ items: z.number(), bytes: z.number(), ms: z.number() })),
  ok: z.boolean(),
  findings: z.number().int(),
});
export type DrillDocument = z.infer<typeof DrillDocument>;
