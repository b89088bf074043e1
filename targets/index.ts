export * from './types.js';
export { assertKey, assertPrefix, keyProblem, MAX_KEY_LENGTH } from './keys.js';
export { createFsTarget, type FsTargetOptions } from './fs/index.js';
export { createS3Target, openS3Target, probeS3Capabilities, type S3Target, type S3TargetOptions } from './s3/index.js';
