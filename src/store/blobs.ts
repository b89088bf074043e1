import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipelineCb } from 'node:stream';
import { TargetError } from '../../targets/types.js';
import type { BlobRef } from '../model/records.js';
import { writeOnce, type StoreContext } from './context.js';
import type { DecryptError } from './crypto.js';
import { BlobCorruptError, BlobMissingError } from './errors.js';
import { blobKey, STAGING_PREFIX } from './paths.js';

/**
 * Content-addressed blobs (docs/FORMAT.md, "Blobs"): the name is the sha256 of the plaintext, the
 * object is the plaintext (or its encryption). Streams larger than ctx.memoryLimit keep memory
 * bounded for any size: on a target that can move objects (fs) they are hashed (and encrypted)
 * while written once to a staging key, then moved to their blob key; elsewhere (S3) they are
 * hashed into a local spool file, then uploaded from it only if the target lacks the blob.
 */

const SPOOL_CHUNK = 1 << 20;

function toBuffer(c: unknown): Buffer {
  return typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
}

export async function hasBlob(ctx: StoreContext, sha256: string): Promise<boolean> {
  return (await ctx.target.stat(blobKey(sha256))) !== null;
}

/** Store bytes already in memory. */
export async function putBlobBuffer(ctx: StoreContext, bytes: Buffer, mediaType?: string): Promise<BlobRef> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const ref = makeRef(sha256, bytes.length, mediaType);
  const key = blobKey(sha256);
  if ((await ctx.target.stat(key)) !== null) return ref;
  const body = ctx.crypto === null ? bytes : ctx.crypto.encryptBuffer(bytes);
  await ctx.target.put(key, body, writeOnce(ctx, body.length));
  return ref;
}

function makeRef(sha256: string, size: number, mediaType: string | undefined): BlobRef {
  return mediaType === undefined ? { sha256, size } : { sha256, size, mediaType };
}

class HashTap extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/** Store a stream: small streams in memory, large ones through a spool file. */
export async function putBlob(ctx: StoreContext, body: Readable | Buffer, mediaType?: string): Promise<BlobRef> {
  if (Buffer.isBuffer(body)) return putBlobBuffer(ctx, body, mediaType);
  const it = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    for (;;) {
      if (headBytes > ctx.memoryLimit) break;
      const step = await it.next();
      if (step.done === true) return await putBlobBuffer(ctx, Buffer.concat(head, headBytes), mediaType);
      const b = toBuffer(step.value);
      head.push(b);
      headBytes += b.length;
    }
  } catch (err) {
    body.destroy();
    throw err;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head.splice(0);
    for (;;) {
      const step = await it.next();
      if (step.done === true) return;
      yield toBuffer(step.value);
    }
  }
  const source = Readable.from(rest(), { objectMode: false, highWaterMark: SPOOL_CHUNK });
  try {
    if (ctx.target.move !== undefined && ctx.retainUntil === null) return await putStaged(ctx, source, mediaType);
    return await putSpooled(ctx, source, mediaType);
  } catch (err) {
    if (!body.destroyed) body.destroy();
    throw err;
  }
}

/** One pass: hash (and encrypt) while writing a staging object, then move it to its blob key. */
async function putStaged(ctx: StoreContext, source: Readable, mediaType: string | undefined): Promise<BlobRef> {
  const staging = `${STAGING_PREFIX}${randomBytes(16).toString('hex')}`;
  const tap = new HashTap();
  const stages: Array<Readable | Transform> = [source, tap];
  if (ctx.crypto !== null) stages.push(ctx.crypto.encryptStream());
  // pipeline destroys every stage (so put sees the error) if the source fails
  const body = pipelineCb(stages as unknown as [Readable, Transform], () => undefined) as unknown as Readable;
  try {
    await ctx.target.put(staging, body);
    const sha256 = tap.hash.digest('hex');
    const key = blobKey(sha256);
    if ((await ctx.target.stat(key)) !== null) await ctx.target.delete(staging);
    else await ctx.target.move!(staging, key);
    return makeRef(sha256, tap.bytes, mediaType);
  } catch (err) {
    await ctx.target.delete(staging).catch(() => undefined);
    throw err;
  }
}

/** Hash (and encrypt) into a local spool file, then upload it if the blob is new. */
async function putSpooled(ctx: StoreContext, source: Readable, mediaType: string | undefined): Promise<BlobRef> {
  const spool = path.join(ctx.spoolDir, `norestore-spool-${process.pid}-${randomBytes(8).toString('hex')}`);
  try {
    const tap = new HashTap();
    const sink = createWriteStream(spool, { mode: 0o600, flags: 'wx', highWaterMark: SPOOL_CHUNK });
    if (ctx.crypto === null) await pipeline(source, tap, sink);
    else await pipeline(source, tap, ctx.crypto.encryptStream(), sink);
    const sha256 = tap.hash.digest('hex');
    const ref = makeRef(sha256, tap.bytes, mediaType);
    const key = blobKey(sha256);
    if ((await ctx.target.stat(key)) === null) {
      const size = ctx.crypto === null ? tap.bytes : ctx.crypto.encryptedSize(tap.bytes);
      await ctx.target.put(key, createReadStream(spool, { highWaterMark: SPOOL_CHUNK }), writeOnce(ctx, size));
    }
    return ref;
  } finally {
    await unlink(spool).catch(() => undefined);
  }
}

/** Passes bytes through, hashing them; fails at the end if they do not hash to `sha256`. */
class VerifyStream extends Transform {
  private readonly hash = createHash('sha256');
  constructor(
    private readonly sha256: string,
    private readonly location: string,
  ) {
    super({ highWaterMark: SPOOL_CHUNK });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual !== this.sha256) cb(new BlobCorruptError(this.sha256, this.location, `its content hashes to ${actual}`));
    else cb();
  }
}

/**
 * Stream a blob's plaintext. The hash is verified while streaming: a corrupt blob makes the stream
 * fail at its end with BlobCorruptError (read it to the end before trusting it).
 */
export async function getBlob(ctx: StoreContext, sha256: string): Promise<Readable> {
  const key = blobKey(sha256);
  let src: Readable;
  try {
    src = await ctx.target.get(key);
  } catch (err) {
    if (err instanceof TargetError && err.code === 'NotFound') throw new BlobMissingError(sha256, ctx.location, { cause: err });
    throw err;
  }
  const verify = new VerifyStream(sha256, ctx.location);
  const stages: Array<Readable | Transform> = [src];
  if (ctx.crypto !== null) stages.push(decryptAsCorrupt(ctx, sha256));
  stages.push(verify);
  pipelineCb(stages as unknown as [Readable, Transform], () => undefined);
  return verify;
}

/** Decryption whose failures read as a corrupt blob naming its sha. */
function decryptAsCorrupt(ctx: StoreContext, sha256: string): Transform {
  return ctx.crypto!.decryptStream(`blob ${sha256}`, (err: DecryptError) => new BlobCorruptError(sha256, ctx.location, err.message, { cause: err }));
}
