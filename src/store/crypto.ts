import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Client-side encryption of stored objects (docs/FORMAT.md, "Encryption").
 *
 * An encrypted object is a 40-byte header followed by framed chunks:
 *   header = 'NRE1' | version 0x01 | log2(chunk size) | 0x00 0x00 | salt (32 random bytes)
 *   chunk i = AES-256-GCM(objectKey, nonce_i, aad = header, plaintext_i) | tag (16 bytes)
 * objectKey = HKDF-SHA256(masterKey, salt, 'norestore object v1'), fresh for every object;
 * nonce_i = i as an 11-byte big-endian counter | 0x01 for the last chunk, 0x00 otherwise.
 * Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds 0..chunk size.
 * Reordered, dropped, truncated or appended chunks, and any changed byte, fail authentication.
 */

export const KEY_BYTES = 32;
const MAGIC = Buffer.from('NRE1', 'ascii');
const VERSION = 1;
const HEADER_BYTES = 40;
const TAG_BYTES = 16;
const DEFAULT_CHUNK_LOG2 = 18; // 256 KiB
const OBJECT_INFO = Buffer.from('norestore object v1');
const NAMES_INFO = Buffer.from('norestore names v1');

export class DecryptError extends Error {
  constructor(what: string, detail: string) {
    super(`cannot decrypt ${what}: ${detail}`);
    this.name = 'DecryptError';
  }
}

/** A FIFO of byte chunks that hands out exact-size pieces without copying when it can. */
class ByteQueue {
  private bufs: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length === 0) return;
    this.bufs.push(b);
    this.length += b.length;
  }
  take(n: number): Buffer {
    const first = this.bufs[0];
    if (first !== undefined && first.length >= n) {
      this.length -= n;
      if (first.length === n) this.bufs.shift();
      else this.bufs[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const b = this.bufs[0]!;
      const k = Math.min(b.length, n - off);
      b.copy(out, off, 0, k);
      off += k;
      if (k === b.length) this.bufs.shift();
      else this.bufs[0] = b.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

function nonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  // 11-byte counter; 2^53 chunks is far beyond any object
  n.writeUIntBE(Math.floor(index / 2 ** 40), 0, 5);
  n.writeUIntBE(index % 2 ** 40, 5, 5);
  n[11] = last ? 1 : 0;
  return n;
}

export class ObjectCrypto {
  readonly chunkSize: number;
  private readonly chunkLog2: number;

  constructor(
    private readonly masterKey: Buffer,
    opts: { chunkLog2?: number } = {},
  ) {
    if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
      throw new Error(`the encryption key must be ${KEY_BYTES} bytes (got ${Buffer.isBuffer(masterKey) ? masterKey.length : typeof masterKey}): generate one with \`openssl rand -base64 32\``);
    }
    this.chunkLog2 = opts.chunkLog2 ?? DEFAULT_CHUNK_LOG2;
    if (!Number.isInteger(this.chunkLog2) || this.chunkLog2 < 10 || this.chunkLog2 > 24) throw new Error(`chunk size 2^${this.chunkLog2} is out of range 2^10..2^24`);
    this.chunkSize = 2 ** this.chunkLog2;
  }

  /** Key for hashing source/scope names into object names (paths.ts hashedNames). */
  nameKey(repoId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, Buffer.from(repoId, 'utf8'), NAMES_INFO, KEY_BYTES));
  }

  /** Stored size of an object of `plainSize` plaintext bytes. */
  encryptedSize(plainSize: number): number {
    const chunks = Math.max(1, Math.ceil(plainSize / this.chunkSize));
    return HEADER_BYTES + plainSize + chunks * TAG_BYTES;
  }

  private newHeader(): { header: Buffer; key: Buffer } {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header[4] = VERSION;
    header[5] = this.chunkLog2;
    const salt = randomBytes(32);
    salt.copy(header, 8);
    return { header, key: this.objectKey(salt) };
  }

  private objectKey(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, salt, OBJECT_INFO, KEY_BYTES));
  }

  /** Parse a header; returns the object key and the chunk size it declares. */
  private openHeader(header: Buffer, what: string): { key: Buffer; chunkSize: number } {
    if (header.length < HEADER_BYTES || !header.subarray(0, 4).equals(MAGIC)) {
      throw new DecryptError(what, 'it is not an encrypted norestore object (bad header); the object is corrupt or was written without encryption');
    }
    if (header[4] !== VERSION) throw new DecryptError(what, `encryption version ${header[4]} is not understood by this norestore (1): upgrade norestore`);
    const log2 = header[5]!;
    if (log2 < 10 || log2 > 24) throw new DecryptError(what, `invalid chunk size 2^${log2} in header (corrupt object)`);
    return { key: this.objectKey(header.subarray(8, HEADER_BYTES)), chunkSize: 2 ** log2 };
  }

  private sealChunk(key: Buffer, header: Buffer, index: number, last: boolean, plain: Buffer): [Buffer, Buffer] {
    const c = createCipheriv('aes-256-gcm', key, nonce(index, last));
    c.setAAD(header);
    const body = c.update(plain);
    c.final();
    return [body, c.getAuthTag()];
  }

  private openChunk(key: Buffer, header: Buffer, index: number, last: boolean, sealed: Buffer, what: string): Buffer {
    const d = createDecipheriv('aes-256-gcm', key, nonce(index, last));
    d.setAAD(header);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = d.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      d.final();
    } catch {
      throw new DecryptError(what, `chunk ${index} failed authentication: the encryption key is wrong or the object was modified or truncated`);
    }
    return body;
  }

  encryptBuffer(plain: Buffer): Buffer {
    const { header, key } = this.newHeader();
    const parts: Buffer[] = [header];
    let index = 0;
    let off = 0;
    do {
      const end = Math.min(off + this.chunkSize, plain.length);
      const last = end >= plain.length;
      parts.push(...this.sealChunk(key, header, index++, last, plain.subarray(off, end)));
      off = end;
    } while (off < plain.length);
    return Buffer.concat(parts);
  }

  decryptBuffer(data: Buffer, what: string): Buffer {
    const { key, chunkSize } = this.openHeader(data.subarray(0, HEADER_BYTES), what);
    const header = data.subarray(0, HEADER_BYTES);
    const sealedSize = chunkSize + TAG_BYTES;
    const parts: Buffer[] = [];
    let off = HEADER_BYTES;
    let index = 0;
    for (;;) {
      const rest = data.length - off;
      if (rest < TAG_BYTES) throw new DecryptError(what, 'the object is truncated');
      const last = rest <= sealedSize;
      const n = last ? rest : sealedSize;
      parts.push(this.openChunk(key, header, index++, last, data.subarray(off, off + n), what));
      off += n;
      if (last) return Buffer.concat(parts);
    }
  }

  /** A Transform from plaintext to the encrypted object. */
  encryptStream(): Transform {
    const { header, key } = this.newHeader();
    return new SealStream((index, last, plain) => this.sealChunk(key, header, index, last, plain), header, this.chunkSize);
  }

  /** A Transform from an encrypted object to its plaintext; errors with DecryptError naming `what` (or mapped by `wrap`). */
  decryptStream(what: string, wrap: (err: DecryptError) => Error = (e) => e): Transform {
    return new OpenStream(this, what, wrap);
  }

  /** @internal used by OpenStream */
  _open(header: Buffer, what: string): { chunkSize: number; open: (index: number, last: boolean, sealed: Buffer) => Buffer } {
    const { key, chunkSize } = this.openHeader(header, what);
    const h = Buffer.from(header);
    return { chunkSize, open: (index, last, sealed) => this.openChunk(key, h, index, last, sealed, what) };
  }
}

class SealStream extends Transform {
  private readonly queue = new ByteQueue();
  private index = 0;

  constructor(
    private readonly seal: (index: number, last: boolean, plain: Buffer) => [Buffer, Buffer],
    header: Buffer,
    private readonly size: number,
  ) {
    super();
    this.push(header);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.queue.push(chunk);
      // a full chunk is sealed as non-last only once more data follows it
      while (this.queue.length > this.size) {
        const [body, tag] = this.seal(this.index++, false, this.queue.take(this.size));
        this.push(body);
        this.push(tag);
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      const [body, tag] = this.seal(this.index++, true, this.queue.take(this.queue.length));
      this.push(body);
      this.push(tag);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

class OpenStream extends Transform {
  private readonly queue = new ByteQueue();
  private index = 0;
  private opener: { chunkSize: number; open: (index: number, last: boolean, sealed: Buffer) => Buffer } | null = null;

  constructor(
    private readonly crypto: ObjectCrypto,
    private readonly what: string,
    private readonly mapError: (err: DecryptError) => Error,
  ) {
    super();
  }

  private fail(err: unknown): Error {
    return err instanceof DecryptError ? this.mapError(err) : (err as Error);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.queue.push(chunk);
      if (this.opener === null) {
        if (this.queue.length < HEADER_BYTES) {
          cb();
          return;
        }
        this.opener = this.crypto._open(this.queue.take(HEADER_BYTES), this.what);
      }
      const sealedSize = this.opener.chunkSize + TAG_BYTES;
      // a sealed chunk is known not to be the last only when more bytes follow it
      while (this.queue.length > sealedSize) this.push(this.opener.open(this.index++, false, this.queue.take(sealedSize)));
      cb();
    } catch (err) {
      cb(this.fail(err));
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.opener === null) {
        if (this.queue.length === 0) throw new DecryptError(this.what, 'the object is empty (truncated)');
        this.opener = this.crypto._open(this.queue.take(Math.min(HEADER_BYTES, this.queue.length)), this.what);
      }
      if (this.queue.length < TAG_BYTES) throw new DecryptError(this.what, 'the object is truncated');
      this.push(this.opener.open(this.index++, true, this.queue.take(this.queue.length)));
      cb();
    } catch (err) {
      cb(this.fail(err));
    }
  }
}
