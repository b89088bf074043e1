// Runs s3rver in its own Node process (started by test/helpers/s3server.ts).
// Why a child process: s3rver 3.7.1 signs ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 only offers under --openssl-legacy-provider; running it apart keeps that flag out of
// the test process, lets a test kill the server mid-transfer, and gives the benchmark a second core.
// Protocol: argv[2] is a JSON config; prints one JSON line {"port":N} when listening; exits when
// stdin closes (so it never outlives its parent) or on SIGTERM.
//
// Two fixes are applied to s3rver before it loads, for what S3 guarantees and every real S3 server
// honours (the gaps that are capabilities — If-None-Match not enforced, no Object Lock — are
// deliberately left as they are: targets must detect them):
// 1. Listings in UTF-8 binary key order. s3rver walks its directory tree in file-name order, where
//    directory `a` (keys `a/...`) sorts before `a-c._S3rver_object` (key `a-c`), and then loses
//    keys across pages (`key <= startAfter` skips them). The patched walk visits entries in key
//    order (a directory `d` as `d/`, an object file by its key).
// 2. Atomic PUT. s3rver writes the object file in place: concurrent PUTs of one key interleave,
//    a reader can see a half-written object, and the response can precede the last write. The
//    patched putObject writes a temp file, renames it over the object, then writes the metadata
//    the same way, one PUT per key at a time. (A reader racing an overwrite may still pair the new
//    bytes with the old size for a moment; the tests do not read while overwriting.)
import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
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

const FilesystemStore = require('s3rver/lib/stores/filesystem.js');
const S3Object = require('s3rver/lib/models/object.js');
const keyLocks = new Map();
async function withKeyLock(id, fn) {
  const previous = keyLocks.get(id) ?? Promise.resolve();
  let release;
  const mine = new Promise((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  keyLocks.set(id, chained);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (keyLocks.get(id) === chained) keyLocks.delete(id);
  }
}
async function writeAtomic(file, data) {
  const tmp = `${file}.tmp-${crypto.randomBytes(6).toString('hex')}`;
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const json = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
  }
  if (md5) await writeAtomic(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeAtomic(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(json, null, 2));
};
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  return withKeyLock(objectPath, async () => {
    await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
    const tmp = `${objectPath}.tmp-${crypto.randomBytes(6).toString('hex')}`;
    try {
      const md5Context = crypto.createHash('md5');
      let size = 0;
      await new Promise((resolve, reject) => {
        const out = fs.createWriteStream(tmp);
        out.on('error', reject);
        out.on('finish', resolve);
        if (Buffer.isBuffer(object.content)) {
          md5Context.update(object.content);
          size = object.content.length;
          out.end(object.content);
          return;
        }
        object.content.on('error', (err) => {
          out.destroy();
          reject(err);
        });
        object.content.on('data', (chunk) => {
          md5Context.update(chunk);
          size += chunk.length;
        });
        object.content.pipe(out);
      });
      const md5 = md5Context.digest('hex');
      await fs.promises.rename(tmp, objectPath);
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      return { size, md5 };
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
  });
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
