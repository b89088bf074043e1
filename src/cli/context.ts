import { ConfigError, loadConfig } from '../config/load.js';
import { encryptionKeyBytes, type Config, type StorageConfig } from '../config/schema.js';
import type { Repository } from '../store/types.js';
import { openRepository, initRepository } from '../store/repository.js';
import { createFsTarget } from '../../targets/fs/index.js';
import type { Target } from '../../targets/types.js';
import { EXIT, type Output } from './output.js';

/** An error the CLI turns into a message and an exit code (no stack trace for the user). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function loadConfigOrFail(file: string | undefined): Promise<{ config: Config; warnings: string[]; path: string }> {
  if (!file) throw new CliError('--config FILE is required (see config.example.yaml)', EXIT.usage);
  try {
    return await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export async function createTarget(storage: StorageConfig): Promise<Target> {
  if (storage.type === 'fs') return createFsTarget({ path: storage.path });
  // Loaded only when used: the AWS SDK costs every command (status, report ...) a second or more at start.
  const { openS3Target } = await import('../../targets/s3/index.js');
  // Probed before use: capabilities (conditional create, object lock) are what the server really does.
  return openS3Target({
    bucket: storage.bucket,
    prefix: storage.prefix,
    endpoint: storage.endpoint,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.accessKeyId && storage.secretAccessKey ? { accessKeyId: storage.accessKeyId.reveal(), secretAccessKey: storage.secretAccessKey.reveal() } : undefined,
    objectLock: storage.objectLock,
  });
}

/** The 32-byte key from the config's encryption.key (base64 or hex), or undefined when not configured. */
export function encryptionKey(config: Config): Buffer | undefined {
  return config.encryption ? encryptionKeyBytes(config.encryption.key) : undefined;
}

export async function openRepo(config: Config): Promise<Repository> {
  const target = await targetOrFail(config);
  try {
    return await openRepository(target, { encryptionKey: encryptionKey(config) });
  } catch (err) {
    await target.close().catch(() => undefined);
    throw new CliError(err instanceof Error ? err.message : String(err), EXIT.failure);
  }
}

export async function initRepo(config: Config): Promise<Repository> {
  const target = await targetOrFail(config);
  try {
    return await initRepository(target, { encryptionKey: encryptionKey(config) });
  } catch (err) {
    await target.close().catch(() => undefined);
    throw new CliError(err instanceof Error ? err.message : String(err), EXIT.failure);
  }
}

async function targetOrFail(config: Config): Promise<Target> {
  try {
    return await createTarget(config.storage);
  } catch (err) {
    throw new CliError(`storage: ${err instanceof Error ? err.message : String(err)}`, EXIT.failure);
  }
}

export function cacheDir(config: Config): string {
  return config.cacheDir;
}

/** Run a command body, mapping CliError and unexpected errors to messages and exit codes. */
export async function guard(out: Output, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) {
      out.error(err.message);
      return err.exitCode;
    }
    out.error(`norestore: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
}
