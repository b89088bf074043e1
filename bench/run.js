#!/usr/bin/env node
// Runs every benchmark (dist/bench/*.js after `npm run build`) one after the other, or only those
// named on the command line: `npm run bench -- blob github`. Each prints its figures beside its limit.
// Benchmarks run on Node 20 on purpose: silence the AWS SDK's end-of-support notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist', 'bench');
const wanted = process.argv.slice(2);
const all = readdirSync(dist).filter((f) => f.endsWith('.js') && !f.includes('.test.') && !f.startsWith('_'));
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
if (!chosen.length) {
  console.error(`no benchmark matches ${wanted.join(', ')} (have: ${all.map((f) => f.replace(/\.js$/, '')).join(', ')})`);
  process.exit(2);
}
let failed = 0;
for (const f of chosen) {
  console.log(`\n=== bench ${f.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dist, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
