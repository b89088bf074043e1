import type { Target } from '../../targets/types.js';
import type { ObjectCrypto } from './crypto.js';
import type { NameCodec } from './paths.js';

/** What the store's modules share about one open repository. */
export interface StoreContext {
  readonly target: Target;
  readonly location: string;
  /** null = plain repository. */
  readonly crypto: ObjectCrypto | null;
  readonly names: NameCodec;
  /** Directory for spool files of streamed blobs (bounded memory). */
  readonly spoolDir: string;
  /** Streams up to this size are hashed in memory; larger ones are spooled to a file. */
  readonly memoryLimit: number;
  /** Object Lock retain-until for write-once objects (blobs, manifests), when retention is configured. */
  readonly retainUntil: (() => Date) | null;
}

/** Put options for a write-once object (blob or manifest). */
export function writeOnce(ctx: StoreContext, size: number): { size: number; retainUntil?: Date } {
  return ctx.retainUntil === null ? { size } : { size, retainUntil: ctx.retainUntil() };
}
