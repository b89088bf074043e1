import { Readable } from 'node:stream';
import { assertKey, assertPrefix } from '../../targets/keys.js';
import { TargetError, type ObjectInfo, type PutOptions, type Target, type TargetCapabilities } from '../../targets/types.js';

/**
 * A Target that keeps objects in process memory: for unit tests and for trying the store without
 * a disk. It honours the Target contract (key rules, atomic put, ordered list, NotFound/AlreadyExists)
 * except that it holds whole objects in memory, which is its point.
 */
export interface MemoryTargetOptions {
  /** Enforce put({ ifAbsent }) (default true). false behaves like a server that ignores it. */
  conditionalCreate?: boolean;
  /** Location for messages (default 'memory:<n>'). */
  location?: string;
  /** Accept put({ retainUntil }) and refuse deleting a retained object (default false). */
  objectLock?: boolean;
  /** Offer move() (default true), like the fs target; false behaves like S3. */
  move?: boolean;
  /** Test hook: called before each put commits; throw to make the put fail (nothing is stored). */
  beforePut?: (key: string) => void | Promise<void>;
}

interface Stored {
  bytes: Buffer;
  modified: Date;
  retainUntil?: Date;
}

let counter = 0;

export class MemoryTarget implements Target {
  readonly kind = 'memory';
  readonly location: string;
  readonly capabilities: TargetCapabilities;
  /** The objects, exposed for tests that inspect or tamper with stored bytes. */
  readonly objects = new Map<string, Stored>();
  beforePut: ((key: string) => void | Promise<void>) | undefined;

  constructor(opts: MemoryTargetOptions = {}) {
    this.location = opts.location ?? `memory:${++counter}`;
    this.capabilities = { conditionalCreate: opts.conditionalCreate ?? true, objectLock: opts.objectLock ?? false };
    this.beforePut = opts.beforePut;
    if (opts.move === false) this.move = undefined;
  }

  move: ((from: string, to: string) => Promise<void>) | undefined = async (from: string, to: string): Promise<void> => {
    assertKey(from, `${this.location}: move`);
    assertKey(to, `${this.location}: move`);
    const o = this.objects.get(from);
    if (o === undefined) throw new TargetError('NotFound', `${this.location}: move ${JSON.stringify(from)}: no such object`);
    this.objects.set(to, { bytes: o.bytes, modified: new Date() });
    this.objects.delete(from);
  };

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<void> {
    try {
      assertKey(key, `${this.location}: put`);
      if (opts.retainUntil !== undefined && !this.capabilities.objectLock) throw new TargetError('Unsupported', `${this.location}: put ${JSON.stringify(key)}: object lock is not supported by the memory target`);
    } catch (err) {
      if (!Buffer.isBuffer(body)) body.destroy();
      throw err;
    }
    let bytes: Buffer;
    if (Buffer.isBuffer(body)) {
      bytes = Buffer.from(body);
    } else {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
      bytes = Buffer.concat(parts);
    }
    await this.beforePut?.(key);
    if (opts.ifAbsent === true && this.capabilities.conditionalCreate && this.objects.has(key)) {
      throw new TargetError('AlreadyExists', `${this.location}: put ${JSON.stringify(key)}: the object already exists and ifAbsent was requested`);
    }
    this.objects.set(key, { bytes, modified: new Date(), ...(opts.retainUntil !== undefined ? { retainUntil: opts.retainUntil } : {}) });
  }

  async get(key: string): Promise<Readable> {
    assertKey(key, `${this.location}: get`);
    const o = this.objects.get(key);
    if (o === undefined) throw new TargetError('NotFound', `${this.location}: get ${JSON.stringify(key)}: no such object`);
    // hand out pieces, like a real stream would
    const pieces: Buffer[] = [];
    for (let off = 0; off < o.bytes.length; off += 65536) pieces.push(o.bytes.subarray(off, off + 65536));
    return Readable.from(pieces, { objectMode: false });
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    assertKey(key, `${this.location}: stat`);
    const o = this.objects.get(key);
    return o === undefined ? null : { key, size: o.bytes.length, modified: o.modified };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix, `${this.location}: list`);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) {
      const o = this.objects.get(key);
      if (o !== undefined) yield { key, size: o.bytes.length, modified: o.modified };
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key, `${this.location}: delete`);
    const until = this.objects.get(key)?.retainUntil;
    if (until !== undefined && until.getTime() > Date.now()) throw new TargetError('Locked', `${this.location}: delete ${JSON.stringify(key)}: the object is retained until ${until.toISOString()}`);
    this.objects.delete(key);
  }

  async close(): Promise<void> {
    // nothing to release
  }
}

export function createMemoryTarget(opts: MemoryTargetOptions = {}): MemoryTarget {
  return new MemoryTarget(opts);
}
