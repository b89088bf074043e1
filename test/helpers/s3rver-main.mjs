// Runs s3rver in its own Node process (started by test/helpers/s3server.ts).
// Why a child process: s3rver 3.7.1 signs ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 only offers under --openssl-legacy-provider; running it apart keeps that flag out of
// the test process, lets a test kill the server mid-transfer, and gives the benchmark a second core.
// Protocol: argv[2] is a JSON config; prints one JSON line {"port":N} when listening; exits when
// stdin closes (so it never outlives its parent) or on SIGTERM.
//
// One fix is applied to s3rver before it loads, because S3 guarantees it and every real S3 server
// honours it: listings in UTF-8 binary key order. s3rver walks its directory tree in file-name
// order, where directory `a` (keys `a/...`) sorts before `a-c._S3rver_object` (key `a-c`), and
// then loses keys across pages (`key <= startAfter` skips them). The patched walk visits entries in
// key order (a directory `d` as `d/`, an object file by its key). The gaps that are capabilities
// (If-None-Match not enforced, no Object Lock) are deliberately left as they are: targets must
// detect them.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';

const require = createRequire(import.meta.url);
const utils = require('s3rver/lib/utils.js');
const SUFFIX = /\._S3rver_[A-Za-z0-9_.-]+$/;
function sortKey(name, isDir) {
  return isDir ? `${name}/` : name.replace(SUFFIX, '');
}
utils.walk = function* walk(dir, recurseFilter) {
  const entries = fs.readdirSync(dir).map((name) => {
    const isDir = fs.statSync(path.posix.join(dir, name)).isDirectory();
    return { name, isDir, key: sortKey(name, isDir) };
  });
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { name, isDir } of entries) {
    const filePath = path.posix.join(dir, name);
    if (!isDir) yield filePath;
    else if (!recurseFilter || recurseFilter(filePath)) yield* walk(filePath, recurseFilter);
  }
};
const S3rver = require('s3rver');

const config = JSON.parse(process.argv[2] ?? '{}');
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: config.silent !== false,
  directory: config.directory,
  vhostBuckets: false,
  configureBuckets: (config.buckets ?? []).map((name) => ({ name, configs: [] })),
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try {
    const done = server.close();
    server.httpServer?.closeAllConnections();
    await done;
  } finally {
    process.exit(code);
  }
}

try {
  const addr = await server.run();
  process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
} catch (err) {
  process.stderr.write(`s3rver failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();
process.on('SIGTERM', () => void shutdown(0));
