/**
 * Child process of crash.test.ts: commits export runs of the deterministic workload into the fs
 * repository at argv[2], continuing from the committed cursor, until run argv[3] is committed.
 * Prints 'ready' once it holds the lease, then one line per step ('blob', 'append', 'commit <k>'
 * before the commit, 'committed <k>' after it), so the parent can SIGKILL it at chosen points.
 */
import { createFsTarget } from '../../targets/fs/index.js';
import { openRepository } from '../../src/store/repository.js';
import { record, RECORDS_PER_RUN, SCOPE, SOURCE } from './workload.js';

const [dir, lastArg] = process.argv.slice(2);
if (dir === undefined || lastArg === undefined) {
  process.stderr.write('usage: commit-workload.ts REPO_DIR LAST_RUN\n');
  process.exit(2);
}
const last = Number(lastArg);
const repo = await openRepository(createFsTarget({ path: dir }), { holder: 'crash-workload', segmentBytes: 32 * 1024, spoolDir: dir });
const lease = await repo.acquireLease(SOURCE, SCOPE, { ttlMs: 60_000 });
process.stdout.write('ready\n');
for (;;) {
  const state = await repo.scopeState(SOURCE, SCOPE);
  const k = (((state.cursor?.run as number | undefined) ?? 0) + 1);
  if (k > last) break;
  const w = await repo.beginRun(lease, 'export');
  const batch = [];
  for (let i = 0; i < RECORDS_PER_RUN; i++) {
    const { input, blob } = record(k, i);
    if (blob !== null) {
      await w.putBlob(blob, 'application/octet-stream');
      process.stdout.write('blob\n');
    }
    batch.push(input);
    if (batch.length === 100) {
      await w.append(batch.splice(0));
      process.stdout.write('append\n');
    }
  }
  await w.append(batch.splice(0));
  process.stdout.write(`commit ${k}\n`);
  await w.commit({ cursor: { run: k } });
  process.stdout.write(`committed ${k}\n`);
}
await lease.release();
await repo.close();
