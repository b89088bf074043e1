/**
 * File and upload bytes of the emulator: small contents in memory, large ones spilled to a temp
 * directory, so that a multi-GB Drive file does not sit in the emulator's heap.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export interface Content {
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  /** In memory ... */
  buffer?: Buffer;
  /** ... or on disk. */
  path?: string;
}

const SPILL_BYTES = 4 * 1024 * 1024;

/** Incremental writer: append chunks in order, then finish() into a Content. */
export class ContentWriter {
  private chunks: Buffer[] = [];
  private size = 0;
  private file: WriteStream | null = null;
  private path: string | null = null;
  private readonly hashes: { md5: Hash; sha1: Hash; sha256: Hash } = { md5: createHash('md5'), sha1: createHash('sha1'), sha256: createHash('sha256') };

  constructor(private readonly store: ContentStore) {}

  get received(): number {
    return this.size;
  }

  async write(chunk: Buffer): Promise<void> {
    if (!chunk.length) return;
    this.hashes.md5.update(chunk);
    this.hashes.sha1.update(chunk);
    this.hashes.sha256.update(chunk);
    this.size += chunk.length;
    if (!this.file && this.size > SPILL_BYTES) {
      this.path = await this.store.tempPath();
      this.file = createWriteStream(this.path);
      const pending = this.chunks.splice(0);
      for (const c of pending) await this.writeFile(c);
    }
    if (this.file) await this.writeFile(chunk);
    else this.chunks.push(chunk);
  }

  private writeFile(chunk: Buffer): Promise<void> {
    const f = this.file as WriteStream;
    return new Promise((resolve, reject) => {
      f.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
  }

  async finish(): Promise<Content> {
    const base = { size: this.size, md5: this.hashes.md5.digest('hex'), sha1: this.hashes.sha1.digest('hex'), sha256: this.hashes.sha256.digest('hex') };
    if (this.file) {
      const f = this.file;
      await new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())));
      return { ...base, path: this.path as string };
    }
    return { ...base, buffer: Buffer.concat(this.chunks) };
  }

  async discard(): Promise<void> {
    this.chunks = [];
    if (this.file) {
      const f = this.file;
      await new Promise<void>((resolve) => f.end(() => resolve()));
      await unlink(this.path as string).catch(() => undefined);
    }
  }
}

export class ContentStore {
  private dir: string | null = null;
  private n = 0;

  async tempPath(): Promise<string> {
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), 'norestore-google-emu-'));
    return join(this.dir, `${++this.n}-${randomBytes(4).toString('hex')}`);
  }

  writer(): ContentWriter {
    return new ContentWriter(this);
  }

  async fromBuffer(buf: Buffer): Promise<Content> {
    const w = this.writer();
    await w.write(buf);
    return w.finish();
  }

  async fromStream(stream: AsyncIterable<Buffer | string>): Promise<Content> {
    const w = this.writer();
    try {
      for await (const chunk of stream) await w.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch (err) {
      await w.discard();
      throw err;
    }
    return w.finish();
  }

  /** Stream the bytes [start, end] (inclusive) or all of them. */
  read(c: Content, range?: { start: number; end: number }): Readable {
    if (c.buffer) return Readable.from([range ? c.buffer.subarray(range.start, range.end + 1) : c.buffer]);
    return createReadStream(c.path as string, range ? { start: range.start, end: range.end } : {});
  }

  async readAll(c: Content): Promise<Buffer> {
    if (c.buffer) return c.buffer;
    const parts: Buffer[] = [];
    for await (const chunk of this.read(c)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  async release(c: Content | undefined): Promise<void> {
    if (c?.path) await unlink(c.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
