export * from './types.js';
export { assertKey, assertPrefix, keyProblem, MAX_KEY_LENGTH } from './keys.js';
export { createFsTarget, type FsTargetOptions } from './fs/index.js';
