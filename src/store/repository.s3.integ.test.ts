import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3ServerHandle } from '../../test/helpers/s3server.js';
import { createS3Target } from '../../targets/s3/index.js';
import type { Target } from '../../targets/types.js';
import { LeaseHeldError } from './errors.js';
import { readAll } from './objects.js';
import { initRepository, openRepository } from './repository.js';

/**
 * The repository over the real s3 target against s3rver, which does not enforce conditional
 * writes: the lease alone carries the commit rule here, and blobs above the multipart threshold
 * stream through a spool file and a multipart upload.
 */
let s3: S3ServerHandle;
const targets: Target[] = [];

function target(prefix: string): Target {
  const t = createS3Target({ bucket: s3.bucket, prefix, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials, partSizeBytes: 5 * 1024 * 1024 });
  targets.push(t);
  return t;
}

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  for (const t of targets) await t.close();
  await s3?.stop();
});

describe('repository on s3 (s3rver)', () => {
  it('commits runs, refuses a second leaseholder, reads back a multipart blob, and checks clean', async () => {
    const a = await initRepository(target('plain'), { memoryLimit: 1024 * 1024 });
    const b = await openRepository(target('plain'), { holder: 'other' });
    expect(a.location).toMatch(/^s3:\/\/.*plain/);
    const lease = await a.acquireLease('drive', 'shared/finance');
    await expect(b.acquireLease('drive', 'shared/finance')).rejects.toThrow(LeaseHeldError);
    const w = await a.beginRun(lease, 'export');
    const big = randomBytes(12 * 1024 * 1024 + 5);
    const file = await w.putBlob(Readable.from([big.subarray(0, 7_000_000), big.subarray(7_000_000)]), 'application/pdf');
    await w.append([{ kind: 'drive.file', id: 'f1', op: 'upsert', version: '3', sourceTime: '2026-01-01T00:00:00Z', blobs: { content: file } }]);
    const m = await w.commit({ cursor: { pageToken: '42' } });
    expect(m.number).toBe(1);
    await lease.release();

    expect((await b.scopeState('drive', 'shared/finance')).cursor).toEqual({ pageToken: '42' });
    expect((await readAll(await b.getBlob(file.sha256))).equals(big)).toBe(true);
    const report = await b.check({ readData: true });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    await a.close();
    await b.close();
  });

  it('works encrypted, and a wrong key changes nothing', async () => {
    const key = randomBytes(32);
    const repo = await initRepository(target('enc'), { encryptionKey: key });
    const lease = await repo.acquireLease('gmail', 'ceo@acme.com');
    const w = await repo.beginRun(lease, 'export');
    const mime = await w.putBlob(Buffer.from('Subject: secret plans\r\n\r\nbody'), 'message/rfc822');
    await w.append([{ kind: 'gmail.message', id: 'm1', op: 'upsert', version: '1', sourceTime: 't', blobs: { mime } }]);
    await w.commit({ cursor: { historyId: '9' } });
    await repo.close();
    await expect(openRepository(target('enc'), { encryptionKey: randomBytes(32) })).rejects.toThrow(/the encryption key does not match this repository/);
    const again = await openRepository(target('enc'), { encryptionKey: key });
    expect((await readAll(await again.getBlob(mime.sha256))).toString()).toContain('secret plans');
    expect((await again.check({ readData: true })).ok).toBe(true);
    await again.close();
  });
});
