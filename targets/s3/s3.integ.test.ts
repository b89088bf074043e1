import { startFaultProxy } from '../../test/helpers/faultproxy.js';
import { startS3Server } from '../../test/helpers/s3server.js';
import { runTargetSuite } from '../../test/conformance/target.js';
import { createS3Target } from './index.js';

const MiB = 1024 * 1024;

// s3rver as it is: If-None-Match not enforced, no Object Lock -> the target must say so.
runTargetSuite(
  's3 (s3rver)',
  async () => {
    const s3 = await startS3Server();
    const target = createS3Target({ bucket: s3.bucket, prefix: 'repo', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials, partSizeBytes: 5 * MiB });
    return { target, cleanup: () => s3.stop() };
  },
  { expect: { conditionalCreate: false, objectLock: false }, secrets: ['S3RVER'] },
);

// s3rver behind a proxy that enforces If-None-Match: * — a server with conditional writes.
runTargetSuite(
  's3 (s3rver + conditional writes)',
  async () => {
    const s3 = await startS3Server();
    const proxy = await startFaultProxy(s3.endpoint, { enforceIfNoneMatch: true });
    const target = createS3Target({ bucket: s3.bucket, endpoint: proxy.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials, partSizeBytes: 5 * MiB, listPageSize: 37 });
    return { target, cleanup: async () => { await proxy.stop(); await s3.stop(); } };
  },
  // pages of 37 keys: 150 keys span 5 pages (the run above covers S3's own 1000-key pages)
  { expect: { conditionalCreate: true, objectLock: false }, secrets: ['S3RVER'], manyKeys: 150 },
);
