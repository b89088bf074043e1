import type { Readable } from 'node:stream';
import { TargetError } from '../../targets/types.js';
import { writeOnce, type StoreContext } from './context.js';
import { CorruptObjectError } from './errors.js';

/** Small objects (manifests, meta documents) are read whole; anything above this is refused as corrupt. */
const SMALL_OBJECT_LIMIT = 256 * 1024 * 1024;

export async function readAll(stream: Readable, limit = SMALL_OBJECT_LIMIT, what = 'object'): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    n += b.length;
    if (n > limit) {
      stream.destroy();
      throw new Error(`${what} is larger than ${limit} bytes`);
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Write a small object (JSON), encrypted when the repository is. */
export async function putSmall(ctx: StoreContext, key: string, plain: Buffer, opts: { ifAbsent?: boolean; writeOnce?: boolean } = {}): Promise<void> {
  const body = ctx.crypto === null ? plain : ctx.crypto.encryptBuffer(plain);
  const put = opts.writeOnce === true ? writeOnce(ctx, body.length) : { size: body.length };
  await ctx.target.put(key, body, { ...put, ...(opts.ifAbsent === true ? { ifAbsent: true } : {}) });
}

/** Read a small object whole and decrypt it; null if absent. Throws CorruptObjectError if it cannot be decrypted. */
export async function getSmall(ctx: StoreContext, key: string): Promise<Buffer | null> {
  let stream: Readable;
  try {
    stream = await ctx.target.get(key);
  } catch (err) {
    if (err instanceof TargetError && err.code === 'NotFound') return null;
    throw err;
  }
  const data = await readAll(stream, SMALL_OBJECT_LIMIT, key);
  if (ctx.crypto === null) return data;
  try {
    return ctx.crypto.decryptBuffer(data, key);
  } catch (err) {
    throw new CorruptObjectError(key, ctx.location, (err as Error).message, { cause: err });
  }
}

export async function putJson(ctx: StoreContext, key: string, doc: unknown, opts: { ifAbsent?: boolean } = {}): Promise<void> {
  await putSmall(ctx, key, Buffer.from(JSON.stringify(doc), 'utf8'), opts);
}

export async function getJson<T>(ctx: StoreContext, key: string): Promise<T | null> {
  const bytes = await getSmall(ctx, key);
  if (bytes === null) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new CorruptObjectError(key, ctx.location, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
}
