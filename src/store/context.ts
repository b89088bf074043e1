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
}
