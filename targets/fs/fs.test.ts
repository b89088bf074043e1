import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTargetSuite } from '../../test/conformance/target.js';
import { createFsTarget } from './index.js';

runTargetSuite(
  'fs',
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'norestore-fs-target-'));
    return { target: createFsTarget({ path: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { expect: { conditionalCreate: true, objectLock: false } },
);
