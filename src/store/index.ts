/** The owned-storage repository (docs/FORMAT.md). */
export { initRepository, openRepository, type OpenOptions, type RepoConfig } from './repository.js';
export { BlobCorruptError, BlobMissingError, CorruptObjectError, EncryptionKeyError, FormatVersionError, LeaseHeldError, LeaseLostError, RepositoryError } from './errors.js';
export { FORMAT_VERSION } from './manifest.js';
export { createMemoryTarget, MemoryTarget, type MemoryTargetOptions } from './memory-target.js';
export type * from './types.js';
