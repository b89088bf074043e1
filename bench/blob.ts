import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createFsTarget } from '../targets/fs/index.js';
import { createS3Target } from '../targets/s3/index.js';
import type { Target } from '../targets/types.js';
import { initRepository } from '../src/store/repository.js';

/**
 * Blob throughput benchmark (issue 2): write and read back one generated blob (2 GiB by default)
 * through the repository on the fs target and on the s3 target (s3rver on loopback), and print
 * MB/s beside `sha256sum` on the same bytes, as a ratio, and peak RSS.
 * Aim: >= 0.5x sha256sum, peak RSS < 200 MB.
 *
 *   npm run build && node dist/bench/blob.js
 *   BENCH_BLOB_BYTES=268435456 BENCH_BLOB_TARGETS=fs BENCH_BLOB_ENCRYPT=1 node dist/bench/blob.js
 */

export type BenchTargetKind = 'fs' | 's3';

export interface BenchBlobOptions {
  /** Blob size (default env BENCH_BLOB_BYTES or 2 GiB). */
  bytes?: number;
  /** Targets to run (default env BENCH_BLOB_TARGETS, comma-separated, or fs,s3). */
  targets?: BenchTargetKind[];
  /** Encrypt the repository (default env BENCH_BLOB_ENCRYPT=1). */
  encrypt?: boolean;
  /** Where the source file and the fs repository go (default os.tmpdir()). */
  tmpDir?: string;
  /** Output (default console.log). */
  log?: (line: string) => void;
}

export interface BenchBlobRow {
  target: BenchTargetKind;
  writeMBps: number;
  readMBps: number;
  writeRatio: number;
  readRatio: number;
  /** Highest RSS sampled during this target's write and read, MB. */
  peakRssMB: number;
}

export interface BenchBlobResult {
  bytes: number;
  encrypted: boolean;
  sha256sumMBps: number;
  rows: BenchBlobRow[];
  /** process.resourceUsage().maxRSS at the end, MB (the whole process, every phase). */
  maxRssMB: number;
  /** The aims: every ratio >= 0.5 and every peak < 200 MB. */
  ok: boolean;
}

const MB = 1e6;
const GEN_CHUNK = 4 * 1024 * 1024;
const RSS_LIMIT_MB = 200;
const RATIO_AIM = 0.5;

function envTargets(): BenchTargetKind[] {
  const raw = process.env.BENCH_BLOB_TARGETS;
  if (raw === undefined || raw.trim() === '') return ['fs', 's3'];
  const list = raw.split(',').map((s) => s.trim());
  for (const t of list) if (t !== 'fs' && t !== 's3') throw new Error(`BENCH_BLOB_TARGETS: unknown target ${JSON.stringify(t)} (use fs, s3 or fs,s3)`);
  return list as BenchTargetKind[];
}

function envBytes(): number {
  const raw = process.env.BENCH_BLOB_BYTES;
  if (raw === undefined || raw === '') return 2 * 1024 ** 3;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_BLOB_BYTES must be a positive integer byte count, got ${JSON.stringify(raw)}`);
  return n;
}

/** Write `bytes` of random data to `file` in bounded memory. */
async function generate(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const buf = Buffer.allocUnsafe(GEN_CHUNK);
    for (let left = bytes; left > 0; ) {
      const n = Math.min(left, GEN_CHUNK);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n);
      left -= n;
    }
  } finally {
    await fh.close();
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${err.trim()}`))));
  });
}

/** Samples RSS while a phase runs; maxRSS of the process cannot be reset between phases. */
function rssSampler(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / MB;
    },
  };
}

/** s3rver through the repository's own launcher (test/helpers/s3rver-main.mjs), on loopback. */
async function startS3rver(dir: string): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/bench/blob.js or bench/blob.ts: walk up to the checkout
  const candidates = [1, 2, 3, 4].map((up) => path.resolve(here, '../'.repeat(up), 'test/helpers/s3rver-main.mjs'));
  const main = candidates.find((p) => existsSync(p));
  if (main === undefined) throw new Error(`s3 benchmark: test/helpers/s3rver-main.mjs not found (looked in ${candidates.join(', ')}); run from a checkout of norestore`);
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', main, JSON.stringify({ directory: dir, buckets: ['bench'], silent: true })], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr.trim()}`)));
  });
  child.removeAllListeners('exit');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    },
  };
}

async function benchTarget(kind: BenchTargetKind, target: Target, source: string, bytes: number, key: Buffer | undefined, spoolDir: string): Promise<{ writeS: number; readS: number; peakMB: number }> {
  const repo = await initRepository(target, { ...(key !== undefined ? { encryptionKey: key } : {}), spoolDir });
  const rss = rssSampler();
  try {
    const t0 = process.hrtime.bigint();
    const ref = await repo.putBlob(createReadStream(source, { highWaterMark: 1024 * 1024 }));
    const t1 = process.hrtime.bigint();
    if (ref.size !== bytes) throw new Error(`${kind}: stored ${ref.size} bytes, expected ${bytes}`);
    let read = 0;
    for await (const c of await repo.getBlob(ref.sha256)) read += (c as Buffer).length;
    const t2 = process.hrtime.bigint();
    if (read !== bytes) throw new Error(`${kind}: read back ${read} bytes, expected ${bytes}`);
    return { writeS: Number(t1 - t0) / 1e9, readS: Number(t2 - t1) / 1e9, peakMB: rss.stop() };
  } finally {
    rss.stop();
    await repo.close();
  }
}

export async function benchBlob(opts: BenchBlobOptions = {}): Promise<BenchBlobResult> {
  const bytes = opts.bytes ?? envBytes();
  const targets = opts.targets ?? envTargets();
  const encrypt = opts.encrypt ?? process.env.BENCH_BLOB_ENCRYPT === '1';
  const log = opts.log ?? ((line: string) => console.log(line));
  const work = await mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'norestore-bench-blob-'));
  const key = encrypt ? randomBytes(32) : undefined;
  try {
    const source = path.join(work, 'source.bin');
    log(`blob benchmark: ${(bytes / 2 ** 20).toFixed(0)} MiB of random bytes${encrypt ? ', encrypted repository' : ''}; aims: >= ${RATIO_AIM}x sha256sum, peak RSS < ${RSS_LIMIT_MB} MB`);
    await generate(source, bytes);
    await run('sha256sum', [source]); // warm the page cache the same way for every reader
    const s0 = process.hrtime.bigint();
    await run('sha256sum', [source]);
    const shaS = Number(process.hrtime.bigint() - s0) / 1e9;
    const shaMBps = bytes / MB / shaS;
    log(`sha256sum          ${shaMBps.toFixed(0).padStart(6)} MB/s  (${shaS.toFixed(2)} s)`);

    const rows: BenchBlobRow[] = [];
    for (const kind of targets) {
      let target: Target;
      let stop: () => Promise<void>;
      if (kind === 'fs') {
        target = createFsTarget({ path: path.join(work, 'fs-repo') });
        stop = () => rm(path.join(work, 'fs-repo'), { recursive: true, force: true });
      } else {
        const server = await startS3rver(path.join(work, 's3rver'));
        target = createS3Target({ bucket: 'bench', prefix: 'repo', endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
        stop = async () => {
          await target.close();
          await server.stop();
          await rm(path.join(work, 's3rver'), { recursive: true, force: true });
        };
      }
      try {
        const r = await benchTarget(kind, target, source, bytes, key, work);
        const row: BenchBlobRow = {
          target: kind,
          writeMBps: bytes / MB / r.writeS,
          readMBps: bytes / MB / r.readS,
          writeRatio: bytes / MB / r.writeS / shaMBps,
          readRatio: bytes / MB / r.readS / shaMBps,
          peakRssMB: r.peakMB,
        };
        rows.push(row);
        log(`${kind.padEnd(3)} write path     ${target.move !== undefined ? 'staged in the target, then moved into place' : 'hashed into a local spool file, then uploaded'}`);
        log(
          `${kind.padEnd(3)} write          ${row.writeMBps.toFixed(0).padStart(6)} MB/s  ${row.writeRatio.toFixed(2)}x sha256sum  (${r.writeS.toFixed(2)} s)\n` +
            `${kind.padEnd(3)} read+verify    ${row.readMBps.toFixed(0).padStart(6)} MB/s  ${row.readRatio.toFixed(2)}x sha256sum  (${r.readS.toFixed(2)} s)\n` +
            `${kind.padEnd(3)} peak RSS       ${row.peakRssMB.toFixed(0).padStart(6)} MB`,
        );
      } finally {
        await stop();
      }
    }
    const maxRssMB = (process.resourceUsage().maxRSS * 1024) / MB;
    const ok = rows.every((r) => r.writeRatio >= RATIO_AIM && r.readRatio >= RATIO_AIM && r.peakRssMB < RSS_LIMIT_MB) && maxRssMB < RSS_LIMIT_MB;
    log(`process maxRSS     ${maxRssMB.toFixed(0).padStart(6)} MB`);
    log(ok ? 'aims met' : 'AIMS MISSED (see above)');
    return { bytes, encrypted: encrypt, sha256sumMBps: shaMBps, rows, maxRssMB, ok };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchBlob().then(
    (r) => process.exit(r.ok ? 0 : 1),
    (err: unknown) => {
      console.error(`blob benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}
