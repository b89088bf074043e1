import { z } from 'zod';

/** Reference to a content-addressed blob in the owned storage (sha256 of the plaintext). */
export const BlobRef = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  /** Media type of the bytes (message/rfc822, application/x-git-bundle, ...). */
  mediaType: z.string().optional(),
});
export type BlobRef = z.infer<typeof BlobRef>;

/**
 * One change of one item of one kind, as exported from the source. Journal entries are these,
 * plus the sequence number the store assigns on append.
 */
export const ChangeRecordInput = z.object({
  kind: z.string().min(1),
  /** Stable source id of the item within its scope (issue number, message id, file id, ...). */
  id: z.string().min(1),
  op: z.enum(['upsert', 'delete']),
  /** Source version marker (updated_at, etag, changeKey, historyId): unchanged version = unchanged item. */
  version: z.string(),
  /** Source time of the change (ISO 8601); RPO is measured against it. */
  sourceTime: z.string(),
  /** Parent item id where the kind nests (issue number of a comment, folder id of a message). */
  parent: z.string().optional(),
  /** The item as received from the source API (secrets never included). */
  raw: z.unknown().optional(),
  /** Named content blobs: { mime }, { content }, { bundle }, { asset }. */
  blobs: z.record(z.string(), BlobRef).optional(),
});
export type ChangeRecordInput = z.infer<typeof ChangeRecordInput>;

export const ChangeRecord = ChangeRecordInput.extend({
  /** Per source/scope sequence number, strictly increasing, assigned on commit. */
  seq: z.number().int().positive(),
  /** When norestore observed the change (ISO 8601). */
  observedAt: z.string(),
});
export type ChangeRecord = z.infer<typeof ChangeRecord>;

/** Opaque incremental position of a connector in one scope; JSON only. */
export const Cursor = z.record(z.string(), z.unknown());
export type Cursor = z.infer<typeof Cursor>;

/** source id -> standby id (+ imported version), per kind, for one scope and one standby. */
export const IdMapEntry = z.object({ standbyId: z.string(), version: z.string() });
export type IdMapEntry = z.infer<typeof IdMapEntry>;
export const IdMapSnapshot = z.record(z.string(), z.record(z.string(), IdMapEntry));
export type IdMapSnapshot = z.infer<typeof IdMapSnapshot>;
