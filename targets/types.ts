import type { Readable } from 'node:stream';

/**
 * The owned-storage back-end contract (see docs/FORMAT.md and test/conformance/target.ts).
 * Keys are '/'-separated relative paths of [A-Za-z0-9._=-] segments; a target never interprets them.
 * Every method streams: no method may buffer a whole object in memory.
 */
export interface TargetCapabilities {
  /** put(..., { ifAbsent: true }) is enforced atomically by the server/filesystem. */
  conditionalCreate: boolean;
  /** Object Lock retention (WORM) can be applied per object. */
  objectLock: boolean;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

export interface PutOptions {
  /** Fail with TargetError('AlreadyExists') if the key exists (enforced only when capabilities.conditionalCreate). */
  ifAbsent?: boolean;
  /** Object Lock retain-until date (only when capabilities.objectLock; otherwise TargetError('Unsupported')). */
  retainUntil?: Date;
  /** Size if known in advance (lets S3 pick single PUT vs multipart). */
  size?: number;
}

export interface Target {
  /** 'fs' | 's3' — for messages. */
  readonly kind: string;
  /** Human-readable location without secrets, e.g. 'fs:/var/backups/repo' or 's3://bucket/prefix'. */
  readonly location: string;
  readonly capabilities: TargetCapabilities;
  /** Write an object atomically: readers see either nothing or the complete object. */
  put(key: string, body: Readable | Buffer, opts?: PutOptions): Promise<void>;
  /** Stream an object. Throws TargetError('NotFound'). */
  get(key: string): Promise<Readable>;
  /** Size and time of an object, or null if absent. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with prefix, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Remove an object; absent is not an error. Throws TargetError('Locked') under retention. */
  delete(key: string): Promise<void>;
  /**
   * Optional: give the object `from` the key `to` atomically (replacing any object at `to`) and
   * durably, without copying its bytes (fs: rename(2) within the root, then fsync of both
   * directories). Offered only where it is that cheap; S3 has no rename, so the s3 target leaves it
   * out. The store stages large blobs under a temporary key and moves them into place when a target
   * offers this, and spools them locally otherwise. Throws TargetError('NotFound') if `from` is absent.
   */
  move?(from: string, to: string): Promise<void>;
  close(): Promise<void>;
}

export type TargetErrorCode = 'NotFound' | 'AlreadyExists' | 'NoSpace' | 'Locked' | 'Unsupported' | 'AccessDenied' | 'Io';

export class TargetError extends Error {
  constructor(
    readonly code: TargetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TargetError';
  }
}
