import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import type { Dir, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assertKey, assertPrefix, keyProblem } from '../keys.js';
import { TargetError, type ObjectInfo, type PutOptions, type Target, type TargetCapabilities } from '../types.js';

/**
 * The local-filesystem target (the embedded default).
 *
 * Layout: object `a/b/c` is the file `<root>/a/b/c`, so the repository is usable with plain tools.
 * Writes go to `<root>/.tmp/<random>` (same filesystem), are fsync'ed, then renamed into place (or,
 * with ifAbsent, hard-linked into place, which fails atomically with EEXIST), and the directory is
 * fsync'ed. Readers therefore see nothing or the complete object. `.tmp` is reserved and never listed.
 *
 * Objects and directories share one namespace here: a key cannot be both an object and a prefix of
 * another key's directory (`a` and `a/b`); such a put fails with TargetError('Io').
 */

/** The filesystem calls the target makes; replaceable for fault-injection tests only. */
export interface FsIo {
  open(p: string, flags: string, mode?: number): Promise<FileHandle>;
  /** Write all of `bufs` at the current position. */
  write(fh: FileHandle, bufs: Buffer[]): Promise<void>;
  sync(fh: FileHandle): Promise<void>;
  mkdir(p: string): Promise<string | undefined>;
  rename(from: string, to: string): Promise<void>;
  link(from: string, to: string): Promise<void>;
  unlink(p: string): Promise<void>;
  stat(p: string): Promise<Stats>;
  opendir(p: string): Promise<Dir>;
}

export interface FsTargetOptions {
  /** Root directory of the repository; created if missing. */
  path: string;
  /** Test hook: override individual filesystem calls (e.g. to inject ENOSPC where mounting is not permitted). */
  io?: Partial<FsIo>;
}

const TMP_DIR = '.tmp';
/** Writes are batched into writev calls of about this many bytes. */
const WRITE_BATCH = 1 << 20;
/** Read stream chunk size. */
const READ_CHUNK = 1 << 20;

async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    const total = rest.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(rest);
    if (bytesWritten >= total) return;
    // short write: drop what was written and retry the remainder (the next call reports ENOSPC etc.)
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      next.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
}

export const defaultFsIo: FsIo = {
  open: (p, flags, mode) => fsp.open(p, flags, mode),
  write: writeAll,
  sync: (fh) => fh.sync(),
  mkdir: (p) => fsp.mkdir(p, { recursive: true }),
  rename: (a, b) => fsp.rename(a, b),
  link: (a, b) => fsp.link(a, b),
  unlink: (p) => fsp.unlink(p),
  stat: (p) => fsp.stat(p),
  opendir: (p) => fsp.opendir(p),
};

function errCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class FsTarget implements Target {
  readonly kind = 'fs';
  readonly location: string;
  readonly capabilities: TargetCapabilities = { conditionalCreate: true, objectLock: false };
  private readonly root: string;
  private readonly tmpRoot: string;
  private readonly io: FsIo;
  private tmpReady: Promise<void> | null = null;

  constructor(opts: FsTargetOptions) {
    if (typeof opts?.path !== 'string' || opts.path.length === 0) {
      throw new TargetError('Io', 'fs target: option "path" is required: set storage.fs.path to the repository directory');
    }
    this.root = path.resolve(opts.path);
    this.tmpRoot = path.join(this.root, TMP_DIR);
    this.location = `fs:${this.root}`;
    this.io = { ...defaultFsIo, ...opts.io };
  }

  private file(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  private checkKey(key: string, op: string): void {
    assertKey(key, `${this.location}: ${op}`);
    if (key === TMP_DIR || key.startsWith(`${TMP_DIR}/`)) {
      throw new TargetError('Io', `${this.location}: ${op}: key ${JSON.stringify(key)} is reserved ('${TMP_DIR}/' holds temporary files); choose another key`);
    }
  }

  /** Map a filesystem error to a TargetError naming the key, the path and what to do. */
  private fail(err: unknown, op: string, key: string, file: string): TargetError {
    if (err instanceof TargetError) return err;
    const code = errCode(err);
    const where = `${this.location}: ${op} ${JSON.stringify(key)} (${file})`;
    const detail = errMessage(err);
    switch (code) {
      case 'ENOSPC':
        return new TargetError('NoSpace', `${where}: no space left on the device (${code}); free space or move the repository to a larger volume, then retry — nothing partial was kept`, { cause: err });
      case 'EDQUOT':
        return new TargetError('NoSpace', `${where}: disk quota exceeded (${code}); raise the quota or free space, then retry — nothing partial was kept`, { cause: err });
      case 'ENOENT':
        return new TargetError('NotFound', `${where}: no such object`, { cause: err });
      case 'EACCES':
      case 'EPERM':
        return new TargetError('AccessDenied', `${where}: permission denied (${code}); give the user running norestore read/write access to ${this.root}`, { cause: err });
      case 'EROFS':
        return new TargetError('AccessDenied', `${where}: the filesystem is read-only (${code}); mount it read-write or choose another path`, { cause: err });
      case 'ENOTDIR':
      case 'EISDIR':
      case 'ENOTEMPTY':
      case 'EEXIST':
        return new TargetError('Io', `${where}: the key collides with an existing object or directory (${code}); an object cannot also be a prefix directory on the fs target`, { cause: err });
      default:
        return new TargetError('Io', `${where}: ${detail}`, { cause: err });
    }
  }

  private ensureTmp(): Promise<void> {
    if (this.tmpReady === null) {
      this.tmpReady = this.io.mkdir(this.tmpRoot).then(
        () => undefined,
        (err: unknown) => {
          this.tmpReady = null;
          throw err;
        },
      );
    }
    return this.tmpReady;
  }

  private async syncDir(dir: string): Promise<void> {
    const fh = await this.io.open(dir, 'r');
    try {
      await this.io.sync(fh);
    } catch (err) {
      // some filesystems refuse fsync on directories; durability of the rename is then the FS's own
      if (errCode(err) !== 'EINVAL' && errCode(err) !== 'ENOTSUP') throw err;
    } finally {
      await fh.close();
    }
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<void> {
    try {
      this.checkKey(key, 'put');
      if (opts.retainUntil !== undefined) {
        throw new TargetError('Unsupported', `${this.location}: put ${JSON.stringify(key)}: object lock retention is not supported by the fs target; remove the object-lock setting or use an S3 bucket with Object Lock`);
      }
    } catch (err) {
      release(body);
      throw err;
    }
    const final = this.file(key);
    const tmp = path.join(this.tmpRoot, `${randomBytes(12).toString('hex')}.part`);
    let fh: FileHandle | null = null;
    let tmpCreated = false;
    const bodyFailure: { failed: boolean; err?: unknown } = { failed: false };
    try {
      await this.ensureTmp();
      fh = await this.io.open(tmp, 'wx', 0o644);
      tmpCreated = true;
      if (Buffer.isBuffer(body)) {
        await this.io.write(fh, [body]);
      } else {
        let batch: Buffer[] = [];
        let batched = 0;
        const iterator = body[Symbol.asyncIterator]();
        for (;;) {
          let step: IteratorResult<unknown>;
          try {
            step = await iterator.next();
          } catch (err) {
            bodyFailure.failed = true;
            bodyFailure.err = err;
            throw err;
          }
          if (step.done === true) break;
          const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : (step.value as Buffer);
          batch.push(chunk);
          batched += chunk.length;
          if (batched >= WRITE_BATCH) {
            const out = batch;
            batch = [];
            batched = 0;
            try {
              await this.io.write(fh, out);
            } catch (err) {
              await iterator.return?.();
              throw err;
            }
          }
        }
        if (batch.length > 0) await this.io.write(fh, batch);
      }
      await this.io.sync(fh);
      await fh.close();
      fh = null;
      const dir = path.dirname(final);
      const created = await this.io.mkdir(dir);
      if (opts.ifAbsent === true) {
        try {
          await this.io.link(tmp, final);
        } catch (err) {
          if (errCode(err) === 'EEXIST') {
            throw new TargetError('AlreadyExists', `${this.location}: put ${JSON.stringify(key)} (${final}): the object already exists and ifAbsent was requested`, { cause: err });
          }
          throw err;
        }
        await this.io.unlink(tmp).catch(() => undefined);
        tmpCreated = false;
      } else {
        await this.io.rename(tmp, final);
        tmpCreated = false;
      }
      // make the new name durable: the object's directory, and every directory mkdir just created
      await this.syncDir(dir);
      if (created !== undefined) {
        for (let d = path.dirname(dir); ; d = path.dirname(d)) {
          await this.syncDir(d);
          if (d === path.dirname(created) || d === path.dirname(d)) break;
        }
      }
    } catch (err) {
      release(body);
      if (fh !== null) await fh.close().catch(() => undefined);
      if (tmpCreated) await this.io.unlink(tmp).catch(() => undefined);
      if (bodyFailure.failed) throw bodyFailure.err; // the caller's stream failed: give its own error back
      throw this.fail(err, 'put', key, final);
    }
  }

  async get(key: string): Promise<Readable> {
    this.checkKey(key, 'get');
    const file = this.file(key);
    let fh: FileHandle;
    try {
      fh = await this.io.open(file, 'r');
    } catch (err) {
      if (errCode(err) === 'ENOTDIR') throw new TargetError('NotFound', `${this.location}: get ${JSON.stringify(key)} (${file}): no such object`, { cause: err });
      throw this.fail(err, 'get', key, file);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new TargetError('NotFound', `${this.location}: get ${JSON.stringify(key)} (${file}): no such object (a directory of that name exists)`);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw this.fail(err, 'get', key, file);
    }
    return fh.createReadStream({ highWaterMark: READ_CHUNK, autoClose: true });
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    this.checkKey(key, 'stat');
    const file = this.file(key);
    try {
      const st = await this.io.stat(file);
      if (!st.isFile()) return null;
      return { key, size: st.size, modified: st.mtime };
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw this.fail(err, 'stat', key, file);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix, `${this.location}: list`);
    // Walk only the directory the prefix pins down, then filter its entries by the partial name.
    const cut = prefix.lastIndexOf('/');
    const dirKey = cut < 0 ? '' : prefix.slice(0, cut);
    const partial = cut < 0 ? prefix : prefix.slice(cut + 1);
    if (dirKey === TMP_DIR || dirKey.startsWith(`${TMP_DIR}/`)) return; // temporary files are never objects
    yield* this.walk(dirKey, partial);
  }

  /**
   * Depth-first walk in lexicographic key order. Within a directory, a subdirectory `d` sorts as
   * `d/`, so that e.g. `a-c` < `a/b` < `a0`, exactly the order of the full key strings.
   * Only one directory's entry names are held at a time per level.
   */
  private async *walk(dirKey: string, partial: string): AsyncGenerator<ObjectInfo> {
    const dir = dirKey === '' ? this.root : this.file(dirKey);
    const entries: Array<{ name: string; sortKey: string; isDir: boolean }> = [];
    let handle: Dir;
    try {
      handle = await this.io.opendir(dir);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.fail(err, 'list', dirKey === '' ? '' : `${dirKey}/`, dir);
    }
    try {
      for await (const ent of handle) {
        if (!ent.name.startsWith(partial)) continue;
        if (dirKey === '' && ent.name === TMP_DIR) continue;
        if (keyProblem(ent.name) !== null) continue; // not an object name (stray file); never produced by put
        let isDir = ent.isDirectory();
        let isFile = ent.isFile();
        if (!isDir && !isFile) {
          // symlink or unknown type: follow it
          const st = await this.io.stat(path.join(dir, ent.name)).catch(() => null);
          if (st === null) continue;
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
        if (isDir) entries.push({ name: ent.name, sortKey: `${ent.name}/`, isDir: true });
        else if (isFile) entries.push({ name: ent.name, sortKey: ent.name, isDir: false });
      }
    } catch (err) {
      throw this.fail(err, 'list', dirKey === '' ? '' : `${dirKey}/`, dir);
    }
    entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const ent of entries) {
      const key = dirKey === '' ? ent.name : `${dirKey}/${ent.name}`;
      if (ent.isDir) {
        yield* this.walk(key, '');
        continue;
      }
      const file = path.join(dir, ent.name);
      try {
        const st = await this.io.stat(file);
        if (st.isFile()) yield { key, size: st.size, modified: st.mtime };
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue; // deleted while listing
        throw this.fail(err, 'list', key, file);
      }
    }
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key, 'delete');
    const file = this.file(key);
    try {
      await this.io.unlink(file);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return; // no object under this key
      if (code === 'EPERM') {
        // Linux answers EPERM for unlink of a directory on some filesystems
        const st = await this.io.stat(file).catch(() => null);
        if (st !== null && st.isDirectory()) return;
      }
      throw this.fail(err, 'delete', key, file);
    }
    try {
      await this.syncDir(path.dirname(file));
    } catch (err) {
      throw this.fail(err, 'delete', key, file);
    }
  }

  /** rename(2) within the root (no bytes copied), then fsync of both directories. */
  async move(from: string, to: string): Promise<void> {
    this.checkKey(from, 'move');
    this.checkKey(to, 'move');
    const src = this.file(from);
    const dst = this.file(to);
    try {
      const dir = path.dirname(dst);
      const created = await this.io.mkdir(dir);
      await this.io.rename(src, dst);
      await this.syncDir(dir);
      if (path.dirname(src) !== dir) await this.syncDir(path.dirname(src));
      if (created !== undefined) {
        for (let d = path.dirname(dir); ; d = path.dirname(d)) {
          await this.syncDir(d);
          if (d === path.dirname(created) || d === path.dirname(d)) break;
        }
      }
    } catch (err) {
      throw this.fail(err, 'move', from, src);
    }
  }

  async close(): Promise<void> {
    // nothing held open between calls
  }
}

/** A failed put destroys the body stream it was given, so the caller's source is not left open or stalled. */
function release(body: Readable | Buffer): void {
  if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
}

/** A target storing objects as files under `opts.path`. capabilities: conditionalCreate, no object lock. */
export function createFsTarget(opts: FsTargetOptions): Target {
  return new FsTarget(opts);
}
