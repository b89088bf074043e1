import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { assertKey, assertPrefix, keyProblem } from '../keys.js';
import { TargetError, type ObjectInfo, type PutOptions, type Target, type TargetCapabilities, type TargetErrorCode } from '../types.js';

/**
 * The S3 target: any S3-compatible endpoint (AWS, MinIO, Ceph, R2, s3rver ...).
 *
 * - put streams through @aws-sdk/lib-storage `Upload`: one PUT for small bodies, multipart above
 *   `partSizeBytes`, at most `queueSize` parts in memory. On any error the multipart upload is
 *   aborted, so nothing partial becomes visible.
 * - Capabilities are probed, not assumed (DESIGN.md: some servers accept `If-None-Match: *` without
 *   enforcing it, and some have no Object Lock). `init()` (run before the first put, or explicitly
 *   through openS3Target/probeS3Capabilities) writes `<prefix>/.probe/conditional-create` twice with
 *   `If-None-Match: *` and reports conditionalCreate only if the server refused one of them; it
 *   reads the bucket's Object Lock configuration when objectLock is configured and fails with
 *   TargetError('Unsupported') when the bucket/server does not support it.
 * - Keys under `.probe/` are reserved and never listed.
 */
export interface S3TargetOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' or 'a/b'; no leading or trailing '/'). */
  prefix?: string;
  /** Custom endpoint URL for S3-compatible servers, e.g. 'http://127.0.0.1:9000'. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (needed by most self-hosted servers and by IP endpoints). */
  forcePathStyle?: boolean;
  /** Static credentials; omitted = the AWS SDK default provider chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Apply Object Lock retention (when put() passes retainUntil) in this mode; days is the retention the store should ask for. */
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
  /**
   * Multipart part size (>= 5 MiB). Default 8 MiB. Memory per put is about 2 x partSizeBytes x queueSize.
   * Raised automatically when put() is given a size that would need more than 9,000 parts; a body of
   * unknown size is limited to 10,000 parts (80 GB at 8 MiB).
   */
  partSizeBytes?: number;
  /** Parts uploaded in parallel per put. Default 4. */
  queueSize?: number;
  /** 'auto' (default) probes the server; true trusts it without probing; false never uses If-None-Match. */
  conditionalCreate?: 'auto' | boolean;
  /** SDK attempts per request (retries on 5xx/throttling/network). Default 3. */
  maxAttempts?: number;
  /** ListObjectsV2 page size (1..1000). Default 1000. */
  listPageSize?: number;
  /** Request checksums: the SDK default 'WHEN_SUPPORTED', or 'WHEN_REQUIRED' for servers that reject CRC32 headers. */
  requestChecksums?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

export interface S3Target extends Target {
  /** Probe the server (memoized once it succeeds) and return the honest capabilities. */
  init(): Promise<TargetCapabilities>;
  /** The configured retention, if any (the store turns `days` into put's retainUntil). */
  readonly objectLockSettings: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number } | null;
}

const MIN_PART = 5 * 1024 * 1024;
const DEFAULT_PART = 8 * 1024 * 1024;
/** S3 allows 10,000 parts; stay below it when the size is known. */
const MAX_PARTS = 9_000;
const PROBE_DIR = '.probe';
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function awsCode(err: unknown): { name: string; status: number | undefined; sysCode: string | undefined; message: string } {
  const e = (err ?? {}) as AwsLikeError;
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Error';
  return {
    name,
    status: e.$metadata?.httpStatusCode,
    sysCode: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

class S3TargetImpl implements S3Target {
  readonly kind = 's3';
  readonly location: string;
  readonly objectLockSettings: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number } | null;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly base: string;
  private readonly endpointLabel: string;
  private readonly secrets: string[];
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;
  private readonly conditionalMode: 'auto' | boolean;
  private caps: TargetCapabilities;
  private ready: Promise<TargetCapabilities> | null = null;
  private closed = false;

  constructor(opts: S3TargetOptions) {
    const where = 's3 target';
    if (typeof opts?.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(opts.bucket)) {
      throw new TargetError('Io', `${where}: storage.s3.bucket ${JSON.stringify(opts?.bucket)} is not a valid bucket name (3-63 of a-z 0-9 . -)`);
    }
    if (typeof opts.region !== 'string' || opts.region.length === 0) {
      throw new TargetError('Io', `${where}: storage.s3.region is required (e.g. 'us-east-1'; any value for most self-hosted servers)`);
    }
    const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix !== '') {
      const problem = keyProblem(prefix);
      if (problem !== null) throw new TargetError('Io', `${where}: storage.s3.prefix ${JSON.stringify(opts.prefix)} is invalid: ${problem}`);
    }
    const partSize = opts.partSizeBytes ?? DEFAULT_PART;
    if (!Number.isInteger(partSize) || partSize < MIN_PART) {
      throw new TargetError('Io', `${where}: partSizeBytes must be an integer >= ${MIN_PART} (5 MiB, the S3 minimum part size), got ${partSize}`);
    }
    const queueSize = opts.queueSize ?? 4;
    if (!Number.isInteger(queueSize) || queueSize < 1) throw new TargetError('Io', `${where}: queueSize must be an integer >= 1, got ${queueSize}`);
    const listPageSize = opts.listPageSize ?? 1000;
    if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
      throw new TargetError('Io', `${where}: listPageSize must be an integer in 1..1000, got ${listPageSize}`);
    }
    if (opts.objectLock !== undefined) {
      const { mode, days } = opts.objectLock;
      if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new TargetError('Io', `${where}: storage.s3.objectLock.mode must be GOVERNANCE or COMPLIANCE, got ${JSON.stringify(mode)}`);
      if (!Number.isInteger(days) || days < 1) throw new TargetError('Io', `${where}: storage.s3.objectLock.days must be an integer >= 1, got ${days}`);
    }
    this.bucket = opts.bucket;
    this.base = prefix === '' ? '' : `${prefix}/`;
    this.partSize = partSize;
    this.queueSize = queueSize;
    this.listPageSize = listPageSize;
    this.conditionalMode = opts.conditionalCreate ?? 'auto';
    this.objectLockSettings = opts.objectLock ? { ...opts.objectLock } : null;
    this.endpointLabel = opts.endpoint !== undefined ? sanitizeEndpoint(opts.endpoint) : `AWS ${opts.region}`;
    this.location = `s3://${opts.bucket}/${prefix}${opts.endpoint !== undefined ? ` at ${this.endpointLabel}` : ''}`;
    this.secrets = opts.credentials ? [opts.credentials.secretAccessKey, opts.credentials.accessKeyId].filter((s) => typeof s === 'string' && s.length >= 4) : [];
    this.caps = { conditionalCreate: this.conditionalMode === true, objectLock: false };
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle ?? false,
      ...(opts.credentials ? { credentials: { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey } } : {}),
      maxAttempts: opts.maxAttempts ?? 3,
      requestChecksumCalculation: opts.requestChecksums ?? 'WHEN_SUPPORTED',
      responseChecksumValidation: opts.requestChecksums ?? 'WHEN_SUPPORTED',
      requestHandler: { connectionTimeout: 15_000, socketTimeout: 300_000 },
    });
  }

  get capabilities(): TargetCapabilities {
    return { ...this.caps };
  }

  private full(key: string): string {
    return this.base + key;
  }

  private checkKey(key: string, op: string): void {
    assertKey(key, `${this.location}: ${op}`);
    if (key === PROBE_DIR || key.startsWith(`${PROBE_DIR}/`)) {
      throw new TargetError('Io', `${this.location}: ${op}: key ${JSON.stringify(key)} is reserved ('${PROBE_DIR}/' holds capability probes); choose another key`);
    }
  }

  private redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /** Map an SDK/network error to a TargetError naming the operation, key and bucket; never any credential. */
  private fail(err: unknown, op: string, key: string | null): TargetError {
    if (err instanceof TargetError) return err;
    const { name, status, sysCode, message } = awsCode(err);
    const what = key === null ? `${this.location}: ${op}` : `${this.location}: ${op} ${JSON.stringify(key)}`;
    const detail = this.redact(`${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${message}`);
    const make = (code: TargetErrorCode, text: string): TargetError => new TargetError(code, this.redact(`${what}: ${text}`), { cause: err });
    const kept = op === 'put' ? ' — nothing partial was kept' : '';
    if (name === 'NoSuchBucket') {
      return make('Io', `bucket "${this.bucket}" does not exist at ${this.endpointLabel}; create it (with Object Lock enabled if you configure retention) or fix storage.s3.bucket`);
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchUpload')) {
      return make('NotFound', `no such object in bucket "${this.bucket}"`);
    }
    if (name === 'PreconditionFailed' || status === 412) {
      return make('AlreadyExists', `the object already exists in bucket "${this.bucket}" and ifAbsent was requested`);
    }
    if (name === 'ObjectLocked' || (op === 'delete' && /retention|object lock|locked/i.test(message))) {
      return make('Locked', `the object is under Object Lock retention in bucket "${this.bucket}"; it can be deleted once its retain-until date has passed`);
    }
    if (name === 'InvalidAccessKeyId') {
      return make('AccessDenied', `the server does not know the access key id; check storage.s3.credentials (${detail})`);
    }
    if (name === 'SignatureDoesNotMatch') {
      return make('AccessDenied', `the request signature was refused, so the secret access key is probably wrong; check storage.s3.credentials`);
    }
    if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
      const hint = op === 'delete' && this.objectLockSettings !== null ? ' or the object is under Object Lock retention' : '';
      return make('AccessDenied', `access denied on bucket "${this.bucket}"${hint}; check the credentials and that the bucket policy allows this operation (${detail})`);
    }
    if (name === 'EntityTooLarge' || (name === 'Error' && /Exceeded \d+ parts/.test(message))) {
      return make('Io', `the object is too large for the server at the configured part size; raise storage.s3.partSizeBytes (${detail})`);
    }
    if (name === 'InsufficientStorage' || name === 'XMinioStorageFull' || status === 507) {
      return make('NoSpace', `the server has no space left; free space on the S3 server, then retry${kept} (${detail})`);
    }
    if ((sysCode !== undefined && NETWORK_CODES.has(sysCode)) || name === 'TimeoutError' || name === 'RequestTimeout' || name === 'AbortError') {
      return make('Io', `cannot complete the request to ${this.endpointLabel} (${sysCode ?? name}); check storage.s3.endpoint and the network, then retry${kept} (${detail})`);
    }
    return make('Io', `S3 request failed${kept}: ${detail}`);
  }

  init(): Promise<TargetCapabilities> {
    if (this.ready === null) {
      this.ready = this.probe().then(
        (caps) => {
          this.caps = caps;
          return { ...caps };
        },
        (err: unknown) => {
          // a definitive answer (object lock unsupported) stays; transient failures are retried next call
          if (!(err instanceof TargetError && err.code === 'Unsupported')) this.ready = null;
          throw err;
        },
      );
    }
    return this.ready;
  }

  private async probe(): Promise<TargetCapabilities> {
    let objectLock = false;
    if (this.objectLockSettings !== null) {
      const unsupported = (why: string, cause?: unknown): TargetError =>
        new TargetError('Unsupported', `${this.location}: object lock is configured but the bucket/server does not support it: ${why}; enable Object Lock on the bucket (it must be created with it) or remove storage.s3.objectLock`, { cause });
      try {
        const res = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
        if (res.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') throw unsupported(`bucket "${this.bucket}" reports Object Lock as not enabled`);
        objectLock = true;
      } catch (err) {
        if (err instanceof TargetError) throw err;
        const { name, status } = awsCode(err);
        if (name === 'ObjectLockConfigurationNotFoundError') throw unsupported(`bucket "${this.bucket}" has no Object Lock configuration`, err);
        if (name === 'NotImplemented' || name === 'MethodNotAllowed' || status === 405 || status === 501) {
          throw unsupported(`the server at ${this.endpointLabel} does not implement Object Lock (answered ${name}${status !== undefined ? `, HTTP ${status}` : ''})`, err);
        }
        throw this.fail(err, 'reading the Object Lock configuration of', null);
      }
    }
    let conditionalCreate = this.conditionalMode === true;
    if (this.conditionalMode === 'auto') conditionalCreate = await this.probeConditionalCreate();
    return { conditionalCreate, objectLock };
  }

  /** True only if the server refused one of two `If-None-Match: *` writes of the same key. */
  private async probeConditionalCreate(): Promise<boolean> {
    const key = `${this.base}${PROBE_DIR}/conditional-create`;
    const attempt = async (): Promise<'written' | 'refused' | 'unsupported'> => {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.from('norestore capability probe\n'), IfNoneMatch: '*' }));
        return 'written';
      } catch (err) {
        const { name, status } = awsCode(err);
        if (name === 'PreconditionFailed' || status === 412) return 'refused';
        if (name === 'NotImplemented' || status === 501 || (status === 400 && /If-None-Match|conditional/i.test(awsCode(err).message))) return 'unsupported';
        throw this.fail(err, 'probing conditional writes with', `${PROBE_DIR}/conditional-create`);
      }
    };
    try {
      const first = await attempt();
      if (first === 'refused') return true;
      if (first === 'unsupported') return false;
      return (await attempt()) === 'refused';
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined);
    }
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<void> {
    // Errors thrown while reading the caller's stream are the caller's, and are given back as they are;
    // everything else (SDK, network, server) becomes a TargetError.
    const bodyFailure: { failed: boolean; err?: unknown } = { failed: false };
    try {
      this.checkKey(key, 'put');
      this.checkOpen('put');
      await this.init();
      const source = Buffer.isBuffer(body) ? body : Readable.from(guardBody(body, bodyFailure), { objectMode: false, highWaterMark: 1 << 20 });
      const params: PutObjectCommandInput = { Bucket: this.bucket, Key: this.full(key), Body: source };
      if (opts.retainUntil !== undefined) {
        if (!this.caps.objectLock || this.objectLockSettings === null) {
          throw new TargetError('Unsupported', `${this.location}: put ${JSON.stringify(key)}: object lock retention was requested but is not configured for this target; set storage.s3.objectLock on a bucket created with Object Lock`);
        }
        params.ObjectLockMode = this.objectLockSettings.mode;
        params.ObjectLockRetainUntilDate = opts.retainUntil;
      }
      if (opts.ifAbsent === true) {
        if (this.caps.conditionalCreate) {
          params.IfNoneMatch = '*';
        } else if ((await this.statRaw(key, 'put')) !== null) {
          // best effort only (not atomic): the server does not enforce conditional writes
          throw new TargetError('AlreadyExists', `${this.location}: put ${JSON.stringify(key)}: the object already exists in bucket "${this.bucket}" and ifAbsent was requested`);
        }
      }
      const partSize = opts.size !== undefined && opts.size > 0 ? Math.max(this.partSize, Math.ceil(opts.size / MAX_PARTS)) : this.partSize;
      const upload = new Upload({ client: this.client, params, partSize, queueSize: this.queueSize, leavePartsOnError: false });
      await upload.done();
    } catch (err) {
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      if (bodyFailure.failed) throw bodyFailure.err;
      throw this.fail(err, 'put', key);
    }
  }

  async get(key: string): Promise<Readable> {
    this.checkKey(key, 'get');
    this.checkOpen('get');
    let body: Readable;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      if (!(res.Body instanceof Readable)) throw new TargetError('Io', `${this.location}: get ${JSON.stringify(key)}: the SDK returned no readable body`);
      body = res.Body;
    } catch (err) {
      throw this.fail(err, 'get', key);
    }
    // hand out a stream whose errors are TargetErrors naming the key
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    body.on('error', (err) => out.destroy(this.fail(err, 'get (while reading)', key)));
    out.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    body.pipe(out);
    return out;
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    this.checkKey(key, 'stat');
    this.checkOpen('stat');
    return this.statRaw(key, 'stat');
  }

  private async statRaw(key: string, op: string): Promise<ObjectInfo | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return { key, size: res.ContentLength ?? 0, modified: res.LastModified ?? new Date(0) };
    } catch (err) {
      const mapped = this.fail(err, op, key);
      if (mapped.code !== 'NotFound') throw mapped;
      // HEAD has no error body: tell a missing bucket from a missing key
      await this.assertBucket(op, key);
      return null;
    }
  }

  private async assertBucket(op: string, key: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const { name, status } = awsCode(err);
      if (name === 'NotFound' || name === 'NoSuchBucket' || status === 404) throw this.fail({ name: 'NoSuchBucket', message: 'bucket not found' }, op, key);
      // other answers (403 without s3:ListBucket ...) do not prove the bucket missing
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix, `${this.location}: list`);
    this.checkOpen('list');
    let token: string | undefined;
    let previous: string | null = null;
    const probePrefix = `${this.base}${PROBE_DIR}/`;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.full(prefix), MaxKeys: this.listPageSize, ...(token !== undefined ? { ContinuationToken: token } : {}) }),
        );
      } catch (err) {
        throw this.fail(err, 'list', prefix === '' ? '(all keys)' : `${prefix}*`);
      }
      for (const obj of page.Contents ?? []) {
        const full = obj.Key;
        if (full === undefined || !full.startsWith(this.base)) continue;
        if (previous !== null && full <= previous) {
          throw new TargetError('Io', `${this.location}: list ${JSON.stringify(prefix)}: the server returned ${JSON.stringify(full)} after ${JSON.stringify(previous)}, out of key order; this server does not follow S3 listing order, so listings cannot be trusted`);
        }
        previous = full;
        if (full.startsWith(probePrefix)) continue;
        const key = full.slice(this.base.length);
        if (keyProblem(key) !== null) continue; // not an object name this tool writes
        yield { key, size: obj.Size ?? 0, modified: obj.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      if (page.IsTruncated === true && token === undefined) {
        throw new TargetError('Io', `${this.location}: list ${JSON.stringify(prefix)}: the server said the listing is truncated but gave no continuation token`);
      }
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key, 'delete');
    this.checkOpen('delete');
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
    } catch (err) {
      const mapped = this.fail(err, 'delete', key);
      if (mapped.code === 'NotFound') return;
      throw mapped;
    }
  }

  private checkOpen(op: string): void {
    if (this.closed) throw new TargetError('Io', `${this.location}: ${op}: the target is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }
}

/**
 * Re-yield the caller's chunks, recording an error thrown while reading them. An error thrown into
 * the generator at `yield` (the consumer giving up, e.g. lib-storage after a failed part, which
 * destroys the stream with an AbortError) is not the caller's and is not recorded.
 */
async function* guardBody(body: Readable, failure: { failed: boolean; err?: unknown }): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await it.next();
      } catch (err) {
        failure.failed = true;
        failure.err = err;
        throw err;
      }
      if (step.done === true) return;
      yield typeof step.value === 'string' ? Buffer.from(step.value) : (step.value as Buffer);
    }
  } finally {
    await it.return?.();
  }
}

function sanitizeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint URL)';
  }
}

/** An S3 target; capabilities are probed lazily before the first put (or by init()). */
export function createS3Target(opts: S3TargetOptions): S3Target {
  return new S3TargetImpl(opts);
}

/** Create an S3 target and probe it now, so `capabilities` is honest from the start. */
export async function openS3Target(opts: S3TargetOptions): Promise<S3Target> {
  const target = new S3TargetImpl(opts);
  try {
    await target.init();
  } catch (err) {
    await target.close();
    throw err;
  }
  return target;
}

/** Probe any target's capabilities: S3 targets run their probe; others are returned as declared. */
export async function probeS3Capabilities(target: Target): Promise<TargetCapabilities> {
  const maybe = target as Partial<S3Target>;
  if (typeof maybe.init === 'function') return maybe.init();
  return { ...target.capabilities };
}
