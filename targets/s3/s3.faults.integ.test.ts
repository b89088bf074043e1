import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, generatedStream } from '../../test/conformance/target.js';
import { s3Match, startFaultProxy, type FaultProxy } from '../../test/helpers/faultproxy.js';
import { startS3Server, type S3ServerHandle } from '../../test/helpers/s3server.js';
import { TargetError } from '../types.js';
import { createS3Target, openS3Target, probeS3Capabilities, type S3Target, type S3TargetOptions } from './index.js';

const MiB = 1024 * 1024;

async function caught(p: Promise<unknown>): Promise<TargetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetError);
  return err as TargetError;
}

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const c of stream) out += (c as Buffer).toString();
  return out;
}

describe('s3 target: capabilities are probed honestly', () => {
  let s3: S3ServerHandle;
  let proxy: FaultProxy;
  const targets: S3Target[] = [];
  const make = (o: Partial<S3TargetOptions> = {}, endpoint?: string): S3Target => {
    const t = createS3Target({ bucket: s3.bucket, endpoint: endpoint ?? s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials, ...o });
    targets.push(t);
    return t;
  };
  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultProxy(s3.endpoint, { enforceIfNoneMatch: true });
  });
  afterAll(async () => {
    for (const t of targets) await t.close();
    await proxy.stop();
    await s3.stop();
  });

  it('s3rver really accepts a second If-None-Match: * write, so the target reports conditionalCreate false', async () => {
    const raw = new S3Client({ endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true });
    try {
      await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/k', Body: 'one', IfNoneMatch: '*' }));
      // the server does not enforce the condition: this must be why the capability is false
      await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw/k', Body: 'two', IfNoneMatch: '*' }));
    } finally {
      raw.destroy();
    }
    const t = make();
    expect(t.capabilities.conditionalCreate).toBe(false);
    expect(await probeS3Capabilities(t)).toEqual({ conditionalCreate: false, objectLock: false });
    // the probe leaves nothing behind and is not listed
    const listed: string[] = [];
    for await (const o of t.list('')) listed.push(o.key);
    expect(listed).toEqual(['raw/k']);
  });

  it('a server that enforces If-None-Match is detected as conditionalCreate true', async () => {
    const t = make({ prefix: 'enforced' }, proxy.endpoint);
    expect((await t.init()).conditionalCreate).toBe(true);
    expect(proxy.requests.some((r) => r.fault === 'if-none-match')).toBe(true);
  });

  it('conditionalCreate true/false options are taken as given, without probe writes', async () => {
    const before = proxy.requests.length;
    const trusted = make({ conditionalCreate: true }, proxy.endpoint);
    const off = make({ conditionalCreate: false }, proxy.endpoint);
    expect(await trusted.init()).toEqual({ conditionalCreate: true, objectLock: false });
    expect(await off.init()).toEqual({ conditionalCreate: false, objectLock: false });
    expect(proxy.requests.length).toBe(before);
  });

  it('configured object lock on a server without it fails clearly instead of pretending', async () => {
    const err = await caught(openS3Target({ bucket: s3.bucket, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials, objectLock: { mode: 'COMPLIANCE', days: 30 } }));
    expect(err.code).toBe('Unsupported');
    expect(err.message).toContain('object lock is configured but the bucket/server does not support it');
    expect(err.message).toContain(s3.bucket);
    // a lazily probed target refuses every put, and writes nothing
    const t = make({ prefix: 'locked', objectLock: { mode: 'GOVERNANCE', days: 1 } });
    expect((await caught(t.put('blob', Buffer.from('x')))).code).toBe('Unsupported');
    expect((await caught(t.put('blob', Buffer.from('x'), { retainUntil: new Date(Date.now() + 86_400_000) }))).code).toBe('Unsupported');
    expect(await t.stat('blob')).toBeNull();
  });
});

describe('s3 target: errors mid-upload lose nothing', () => {
  let s3: S3ServerHandle;
  let proxy: FaultProxy;
  let direct: S3Target; // straight to s3rver, to see what is really stored
  let viaProxy: S3Target;
  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultProxy(s3.endpoint);
    const base = { bucket: s3.bucket, prefix: 'repo', region: s3.region, forcePathStyle: true, credentials: s3.credentials, partSizeBytes: 5 * MiB, queueSize: 2 };
    direct = createS3Target({ ...base, endpoint: s3.endpoint });
    viaProxy = createS3Target({ ...base, endpoint: proxy.endpoint, maxAttempts: 2 });
    await direct.put('committed/run-1', Buffer.from('committed data'));
    await direct.put('blobs/overwritten', Buffer.from('old version'));
  });
  afterEach(() => proxy.clearRules());
  afterAll(async () => {
    await direct.close();
    await viaProxy.close();
    await proxy.stop();
    await s3.stop();
  });

  async function assertNothingPartial(key: string, previous: string | null): Promise<void> {
    if (previous === null) expect(await direct.stat(key)).toBeNull();
    else expect(await text(await direct.get(key))).toBe(previous);
    expect(await text(await direct.get('committed/run-1'))).toBe('committed data');
  }

  it('a part failing with 500 on every attempt: TargetError naming key and bucket, multipart aborted, nothing visible', async () => {
    proxy.addRule({ match: s3Match.uploadPart(2), action: { kind: 'status', status: 500, code: 'InternalError' } });
    const err = await caught(viaProxy.put('blobs/new-500', generatedStream(12 * MiB, 1)));
    expect(err.code).toBe('Io');
    expect(err.message).toContain('"blobs/new-500"');
    expect(err.message).toContain(s3.bucket);
    expect(err.message).not.toContain('S3RVER');
    expect(proxy.requests.some((r) => s3Match.abortMultipart()(r))).toBe(true);
    // retried before giving up (maxAttempts 2)
    expect(proxy.requests.filter((r) => r.fault === 'status' && r.url.includes('partNumber=2')).length).toBe(2);
    await assertNothingPartial('repo/blobs/new-500'.slice('repo/'.length), null);
  });

  it('the connection cut mid-body of a part: TargetError, old version of the key intact', async () => {
    proxy.addRule({ match: s3Match.uploadPart(2), action: { kind: 'reset', afterBodyBytes: MiB } });
    const err = await caught(viaProxy.put('blobs/overwritten', generatedStream(12 * MiB, 2)));
    expect(err.code).toBe('Io');
    expect(err.message).toContain('"blobs/overwritten"');
    await assertNothingPartial('blobs/overwritten', 'old version');
  });

  it('a single-request put answered 507 maps to NoSpace; 403 to AccessDenied', async () => {
    proxy.addRule({ match: s3Match.putObject(), action: { kind: 'status', status: 507, code: 'InsufficientStorage' } });
    const full = await caught(viaProxy.put('blobs/small', Buffer.from('x')));
    expect(full.code).toBe('NoSpace');
    expect(full.message).toContain('"blobs/small"');
    proxy.clearRules();
    proxy.addRule({ match: s3Match.putObject(), action: { kind: 'status', status: 403, code: 'AccessDenied', message: 'Access Denied' } });
    const denied = await caught(viaProxy.put('blobs/small', Buffer.from('x')));
    expect(denied.code).toBe('AccessDenied');
    expect(denied.message).toContain('credentials');
    await assertNothingPartial('blobs/small', null);
  });

  it('CompleteMultipartUpload failing leaves nothing visible', async () => {
    proxy.addRule({ match: s3Match.completeMultipart(), action: { kind: 'status', status: 400, code: 'InvalidPart', message: 'One or more of the specified parts could not be found' } });
    const err = await caught(viaProxy.put('blobs/complete-fails', generatedStream(11 * MiB, 3)));
    expect(err.code).toBe('Io');
    expect(err.message).toContain('InvalidPart');
    await assertNothingPartial('blobs/complete-fails', null);
  });

  it('a get whose connection is cut mid-body errors the stream with a TargetError naming the key', async () => {
    await direct.put('blobs/to-read', generatedStream(4 * MiB, 4));
    proxy.addRule({ match: s3Match.getObject(), action: { kind: 'cut-response', afterBytes: MiB }, times: 1 });
    const stream = await viaProxy.get('blobs/to-read');
    const err = await digestOf(stream).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe('Io');
    expect((err as TargetError).message).toContain('"blobs/to-read"');
    // the next read is whole
    expect(await digestOf(await viaProxy.get('blobs/to-read'))).toEqual(await digestOf(generatedStream(4 * MiB, 4)));
  });
});

describe('s3 target: the server dies mid-upload', () => {
  it('the put fails with a clear error; after a restart nothing partial is visible and earlier objects are intact', async () => {
    const first = await startS3Server();
    let second: S3ServerHandle | null = null;
    const opts = { bucket: first.bucket, region: first.region, forcePathStyle: true, credentials: first.credentials, partSizeBytes: 5 * MiB, queueSize: 1, maxAttempts: 1 };
    const t = createS3Target({ ...opts, endpoint: first.endpoint });
    try {
      await t.put('committed', Buffer.from('safe'));
      // a body that kills the server once the first part is on its way
      let killed = false;
      async function* killing(): AsyncGenerator<Buffer> {
        let sent = 0;
        for await (const chunk of generatedStream(16 * MiB, 7)) {
          if (sent >= 6 * MiB && !killed) {
            killed = true;
            await first.kill();
          }
          sent += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
      const body = Readable.from(killing(), { objectMode: false });
      const err = await caught(t.put('blobs/interrupted', body));
      expect(err.code).toBe('Io');
      expect(err.message).toContain('"blobs/interrupted"');
      expect(err.message).toMatch(/ECONNREFUSED|ECONNRESET|EPIPE|socket/);
      expect(killed).toBe(true);
      second = await startS3Server({ dir: first.dir, buckets: [first.bucket] });
      const after = createS3Target({ ...opts, endpoint: second.endpoint });
      try {
        expect(await after.stat('blobs/interrupted')).toBeNull();
        expect(await text(await after.get('committed'))).toBe('safe');
        const keys: string[] = [];
        for await (const o of after.list('')) keys.push(o.key);
        expect(keys).toEqual(['committed']);
      } finally {
        await after.close();
      }
    } finally {
      await t.close();
      await second?.stop();
      await first.stop();
    }
  });
});
