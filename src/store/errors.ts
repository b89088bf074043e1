/** Errors of the repository a user can see. Each names the item and says what to do. */

export class RepositoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RepositoryError';
  }
}

/** The repository's format is newer than this tool. */
export class FormatVersionError extends RepositoryError {
  constructor(readonly found: number, readonly supported: number) {
    super(`repository format ${found} is newer than this norestore understands (${supported}): upgrade norestore`);
    this.name = 'FormatVersionError';
  }
}

/** Missing, wrong or unexpected encryption key. Nothing was changed. */
export class EncryptionKeyError extends RepositoryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EncryptionKeyError';
  }
}

export class BlobMissingError extends RepositoryError {
  constructor(readonly sha256: string, location: string, options?: { cause?: unknown }) {
    super(`blob ${sha256} is missing from ${location}: run norestore check to list what is affected`, options);
    this.name = 'BlobMissingError';
  }
}

export class BlobCorruptError extends RepositoryError {
  constructor(readonly sha256: string, location: string, detail: string, options?: { cause?: unknown }) {
    super(`blob ${sha256} in ${location} is corrupt: ${detail}; run norestore check --read-data to find every damaged blob`, options);
    this.name = 'BlobCorruptError';
  }
}

/** The scope's lease is held by another live process. */
export class LeaseHeldError extends RepositoryError {
  constructor(
    readonly source: string,
    readonly scope: string,
    readonly holder: string,
    readonly host: string,
    readonly pid: number,
    readonly expiresAt: string,
  ) {
    super(
      `scope ${JSON.stringify(scope)} of source ${JSON.stringify(source)} is leased by ${holder} (host ${host}, pid ${pid}) until ${expiresAt}: ` +
        `another norestore is working on it; wait for it to finish (if that process is gone, the lease is recoverable once it expires)`,
    );
    this.name = 'LeaseHeldError';
  }
}

/** The lease was lost (expired or taken over) before a commit: the run was not committed. */
export class LeaseLostError extends RepositoryError {
  constructor(source: string, scope: string, detail: string) {
    super(`the lease on scope ${JSON.stringify(scope)} of source ${JSON.stringify(source)} was lost (${detail}): the run was not committed; run it again`);
    this.name = 'LeaseLostError';
  }
}

/** A manifest, segment or document that cannot be read or parsed. */
export class CorruptObjectError extends RepositoryError {
  constructor(readonly key: string, location: string, detail: string, options?: { cause?: unknown }) {
    super(`${key} in ${location} cannot be read: ${detail}; run norestore check`, options);
    this.name = 'CorruptObjectError';
  }
}
