import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real S3-protocol server (s3rver 3.7.1) on loopback, for tests and benchmarks.
 * It runs in a child process (see s3rver-main.mjs for why). Known limits (DESIGN.md): it accepts
 * `If-None-Match: *` over an existing key without enforcing it, and answers Object Lock calls with
 * an error (501), so targets against it honestly report neither capability. Like any filesystem
 * store, it cannot hold both `a/b` and `a/b/c`.
 */
export interface S3ServerHandle {
  /** e.g. 'http://127.0.0.1:41234' (use with forcePathStyle: true). */
  endpoint: string;
  region: string;
  /** s3rver's fixed development credentials (not secrets). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The first bucket created. */
  bucket: string;
  buckets: string[];
  /** Where s3rver keeps the objects (removed by stop() unless passed in). */
  dir: string;
  port: number;
  /** Child process id of the server. */
  pid: number;
  /** Stop gracefully and remove the data directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL the server at once (to fail in-flight requests). The data directory stays until stop(). */
  kill(): Promise<void>;
}

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-main.mjs');
const START_TIMEOUT_MS = 20_000;

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface StartS3ServerOptions {
  /** Buckets to create (default ['norestore-test']); existing ones in `dir` are kept. */
  buckets?: string[];
  /** Log every request to stderr (also: S3RVER_LOG=1). */
  silent?: boolean;
  /** Reuse a data directory, e.g. of a killed server, to inspect what it left; stop() then leaves it in place. */
  dir?: string;
}

export async function startS3Server(opts: StartS3ServerOptions = {}): Promise<S3ServerHandle> {
  const buckets = opts.buckets !== undefined && opts.buckets.length > 0 ? opts.buckets : ['norestore-test'];
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'norestore-s3rver-')));
  const silent = opts.silent ?? process.env.S3RVER_LOG !== '1';
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, JSON.stringify({ directory: dir, buckets, silent })], {
    stdio: ['pipe', 'pipe', silent ? 'pipe' : 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        try {
          resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      child.stdout?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited before listening (code ${code}, signal ${signal}): ${stderr.trim()}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await waitExit(child);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start s3rver on 127.0.0.1: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  child.removeAllListeners('exit');
  child.stdout?.resume();
  // the child must not keep the test process alive, nor die with it unnoticed: it exits when stdin closes
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  let stopped: Promise<void> | null = null;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    bucket: buckets[0] as string,
    buckets,
    dir,
    port,
    pid: child.pid ?? -1,
    async kill(): Promise<void> {
      child.kill('SIGKILL');
      await waitExit(child);
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        const exited = waitExit(child);
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
