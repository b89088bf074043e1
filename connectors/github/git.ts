/**
 * Git for the GitHub connector: a local bare cache per repository (mirror of the source, or the image
 * to push to the standby), incremental `git bundle`s of only the new objects, rebuilding a cache from
 * the stored bundles, and pushing heads and tags to the standby.
 *
 * Credentials never reach a command line or a file: they travel in GIT_CONFIG_* environment
 * variables (`http.<base>.extraHeader`), so remote URLs and git's own messages stay clean.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobRef } from '../../src/model/records.js';

export class GitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitRunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  signal?: AbortSignal;
}

/** Variables that would redirect git to another repository or prompt a human. */
const STRIP_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_NAMESPACE', 'GIT_CONFIG_PARAMETERS'];

/** A clean environment for git, plus extra config entries passed as GIT_CONFIG_* (never in argv or files). */
export function gitEnv(config: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of STRIP_ENV) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('GIT_CONFIG_KEY_') || k.startsWith('GIT_CONFIG_VALUE_')) delete env[k];
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  });
  // No credential helper may see (or store) anything; auth is an explicit header.
  const entries: Array<[string, string]> = [['credential.helper', ''], ['core.askPass', ''], ...Object.entries(config)];
  env.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

/** Config entries that authenticate git smart HTTP against one base URL with a token. */
export function gitAuthConfig(gitBaseUrl: string, token: string): Record<string, string> {
  const base = gitBaseUrl.endsWith('/') ? gitBaseUrl : gitBaseUrl + '/';
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return { [`http.${base}.extraHeader`]: `Authorization: Basic ${basic}` };
}

/** Run git; resolves with its output, rejects with a GitError carrying the last lines of stderr. */
export function runGit(args: string[], opts: GitRunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env ?? gitEnv(), stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new GitError(`git ${args[0]} could not run: ${e.message}`, null, '')));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-4).join(' | ');
        reject(new GitError(`git ${args[0]} failed (exit ${code}): ${tail}`, code, stderr));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

const TRANSIENT = /returned error: (5\d\d|429)|RPC failed|early EOF|unexpected disconnect|Connection reset|Connection refused|timed out|transfer closed|remote end hung up|Empty reply|expected flush/i;

/** True when a failed git network command is worth repeating (5xx, 429, connection trouble). */
export function isTransientGitError(err: unknown): boolean {
  return err instanceof GitError && !ABSENT.test(err.stderr) && TRANSIENT.test(err.stderr);
}

/** Network git commands (fetch, ls-remote, push): idempotent, retried on transient failures. */
export async function runGitNet(args: string[], opts: GitRunOptions & { attempts?: number; baseMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await runGit(args, opts);
    } catch (err) {
      if (attempt >= attempts || opts.signal?.aborted || !isTransientGitError(err)) throw err;
      await sleep((opts.baseMs ?? 200) * attempt * attempt, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}

/** Refs map: full ref name -> object id. */
export type RefsMap = Record<string, string>;

/** Create (or repair) a bare cache repository at dir. */
export async function ensureBareRepo(dir: string): Promise<void> {
  const exists = async (p: string) =>
    stat(join(dir, p)).then(
      () => true,
      () => false,
    );
  if ((await exists('HEAD')) && (await exists('objects')) && (await exists('refs')) && (await exists('config'))) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runGit(['init', '--bare', '--quiet', dir]);
  // Keep every object ever fetched: old tips are the exclusion points of the next incremental bundle.
  await appendFile(join(dir, 'config'), '[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n[core]\n\tlogAllRefUpdates = false\n[fetch]\n\twriteCommitGraph = false\n');
}

export async function listRefs(dir: string): Promise<RefsMap> {
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir });
  return parseRefLines(stdout);
}

function parseRefLines(text: string): RefsMap {
  const refs: RefsMap = {};
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64})\s+(\S+)$/.exec(line.trim());
    if (!m || m[2] === 'HEAD' || m[2]!.endsWith('^{}')) continue;
    refs[m[2]!] = m[1]!;
  }
  return refs;
}

/** True when every object id is present in the repository. */
export async function hasObjects(dir: string, ids: Iterable<string>): Promise<boolean> {
  const list = [...new Set(ids)];
  if (!list.length) return true;
  const { stdout } = await runGit(['cat-file', '--batch-check'], { cwd: dir, input: list.join('\n') + '\n' });
  return !stdout.includes(' missing');
}

/** Set the repository's refs to exactly `refs` (others deleted). */
export async function setRefs(dir: string, refs: RefsMap): Promise<void> {
  const current = await listRefs(dir);
  const lines: string[] = [];
  for (const [name, sha] of Object.entries(refs)) if (current[name] !== sha) lines.push(`update ${name} ${sha}`);
  for (const name of Object.keys(current)) if (!(name in refs)) lines.push(`delete ${name}`);
  if (lines.length) await runGit(['update-ref', '--stdin'], { cwd: dir, input: lines.join('\n') + '\n' });
}

const ABSENT = /repository not found|not found|does not appear to be a git repository|HTTP 404|returned error: 404|does not exist/i;

/** True when a git error says the remote repository does not exist (e.g. a wiki never created). */
export function isAbsentRemote(err: unknown): boolean {
  return err instanceof GitError && ABSENT.test(err.stderr);
}

/** Fetch every ref of `url` into the bare cache as a mirror (refs/pull/* included), pruning deleted refs. */
export async function fetchMirror(dir: string, url: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  await runGitNet(['fetch', '--quiet', '--prune', '--no-tags', '--no-write-fetch-head', url, '+refs/*:refs/*'], { cwd: dir, env, signal });
}

/** The refs of a remote (null when the remote repository does not exist). */
export async function lsRemote(url: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<RefsMap | null> {
  try {
    const { stdout } = await runGitNet(['ls-remote', url], { env, signal });
    return parseRefLines(stdout);
  } catch (err) {
    if (isAbsentRemote(err)) return null;
    throw err;
  }
}

/**
 * Write a bundle of the objects reachable from `include` but not from `exclude` to `file`.
 * Returns false (and writes nothing) when there are no new objects.
 */
export async function createBundle(dir: string, file: string, include: string[], exclude: string[]): Promise<boolean> {
  if (!include.length) return false;
  const input = [...include, ...exclude.map((x) => `^${x}`)].join('\n') + '\n';
  try {
    await runGit(['bundle', 'create', '--quiet', file, '--stdin'], { cwd: dir, input });
    return true;
  } catch (err) {
    if (err instanceof GitError && /empty bundle/i.test(err.stderr)) {
      await rm(file, { force: true });
      return false;
    }
    throw err;
  }
}

/** Stored form of a git (or wiki) record: its refs and the chain of bundles that holds their objects. */
export interface GitState {
  refs: RefsMap;
  /** sha256 of every stored bundle, oldest first; unbundled in order they rebuild the repository. */
  chain: string[];
  /** The bundle added by this record (null when no new objects were needed). */
  bundle: string | null;
  /** Object ids the new bundle requires (the previous tips). */
  prerequisites: string[];
}

export interface BlobIO {
  putBlob(body: Readable | Buffer, mediaType?: string): Promise<BlobRef>;
  getBlob(sha256: string): Promise<Readable>;
}

export const BUNDLE_MEDIA_TYPE = 'application/x-git-bundle';

/** Record blob names of a chain: chain-0000, chain-0001, ... */
export function chainBlobName(i: number): string {
  return `chain-${String(i).padStart(4, '0')}`;
}

function tmpFile(dir: string, ext: string): string {
  return join(dir, `tmp-${randomBytes(6).toString('hex')}${ext}`);
}

async function fetchBlobToFile(io: Pick<BlobIO, 'getBlob'>, sha: string, file: string): Promise<void> {
  await pipeline(await io.getBlob(sha), createWriteStream(file));
}

/**
 * Make sure the cache holds every object of `state` (unbundling the stored chain when it does not),
 * then optionally set its refs. `appliedFile` records which bundles were unbundled already.
 */
export async function restoreFromBundles(dir: string, state: GitState, io: Pick<BlobIO, 'getBlob'>, tmpDir: string, opts: { setRefs?: RefsMap } = {}): Promise<{ unbundled: number }> {
  await ensureBareRepo(dir);
  const appliedFile = join(dir, 'norestore-bundles.json');
  const applied = new Set<string>(
    await readFile(appliedFile, 'utf8').then(
      (t) => JSON.parse(t) as string[],
      () => [],
    ),
  );
  let unbundled = 0;
  if (!(await hasObjects(dir, Object.values(state.refs)))) {
    await mkdir(tmpDir, { recursive: true });
    for (const sha of state.chain) {
      if (applied.has(sha)) continue;
      const file = tmpFile(tmpDir, '.bundle');
      try {
        await fetchBlobToFile(io, sha, file);
        await runGit(['bundle', 'unbundle', file], { cwd: dir });
        unbundled++;
      } finally {
        await rm(file, { force: true });
      }
      applied.add(sha);
    }
    if (!(await hasObjects(dir, Object.values(state.refs)))) {
      throw new Error(`the stored git bundles (${state.chain.length}) do not contain every object of the recorded refs: run \`norestore check\` on the storage`);
    }
  }
  for (const sha of state.chain) applied.add(sha);
  await writeFile(appliedFile, JSON.stringify([...applied]));
  if (opts.setRefs) await setRefs(dir, opts.setRefs);
  return { unbundled };
}

export interface SnapshotResult {
  /** 'absent': the remote does not exist; 'unchanged': same refs as `last`; 'changed': a new state. */
  status: 'absent' | 'unchanged' | 'changed';
  state?: GitState;
  /** Blob refs for the record: `bundle` (new one, if any) and `chain-NNNN` for every chain entry. */
  blobs?: Record<string, BlobRef>;
  bundleBytes?: number;
}

/**
 * Fetch the remote into the cache and, when its refs changed since `last`, store a bundle of only the
 * new objects. A missing or stale cache is rebuilt from the stored bundles first, so the fetch and
 * the bundle stay incremental. Every `maxChain` bundles the chain is consolidated into one full bundle.
 */
export async function snapshotGit(p: {
  dir: string;
  url: string;
  env: NodeJS.ProcessEnv;
  last: { state: GitState; blobs: Record<string, BlobRef> } | null;
  io: BlobIO;
  tmpDir: string;
  allowAbsent: boolean;
  maxChain?: number;
  signal?: AbortSignal;
}): Promise<SnapshotResult> {
  const maxChain = p.maxChain ?? 50;
  await ensureBareRepo(p.dir);
  if (p.last && p.last.state.chain.length && !(await hasObjects(p.dir, Object.values(p.last.state.refs)))) {
    await restoreFromBundles(p.dir, p.last.state, p.io, p.tmpDir, { setRefs: p.last.state.refs });
  }
  try {
    await fetchMirror(p.dir, p.url, p.env, p.signal);
  } catch (err) {
    if (p.allowAbsent && isAbsentRemote(err)) return { status: 'absent' };
    throw err;
  }
  const refs = await listRefs(p.dir);
  const prev = p.last?.state;
  if (prev && sameRefs(prev.refs, refs)) return { status: 'unchanged' };

  const prevTips = prev ? [...new Set(Object.values(prev.refs))] : [];
  const changed = Object.keys(refs).filter((name) => prev?.refs[name] !== refs[name]);
  const consolidate = !prev || prev.chain.length >= maxChain;
  await mkdir(p.tmpDir, { recursive: true });
  const file = tmpFile(p.tmpDir, '.bundle');
  let chain = prev ? [...prev.chain] : [];
  const blobs: Record<string, BlobRef> = {};
  let prerequisites: string[] = [];
  let added: BlobRef | null = null;
  try {
    let made: boolean;
    if (consolidate) {
      made = await createBundle(p.dir, file, Object.keys(refs), []);
      chain = [];
    } else {
      prerequisites = prevTips;
      made = await createBundle(p.dir, file, changed, prevTips);
    }
    if (made) {
      added = await p.io.putBlob(createReadStream(file), BUNDLE_MEDIA_TYPE);
      chain.push(added.sha256);
    }
  } finally {
    await rm(file, { force: true });
  }
  const known = new Map<string, BlobRef>();
  for (const [name, ref] of Object.entries(p.last?.blobs ?? {})) if (name.startsWith('chain-') || name === 'bundle') known.set(ref.sha256, ref);
  if (added) known.set(added.sha256, added);
  chain.forEach((sha, i) => {
    const ref = known.get(sha);
    if (!ref) throw new Error(`git bundle ${sha} of the chain has no stored reference`);
    blobs[chainBlobName(i)] = ref;
  });
  if (added) blobs.bundle = added;
  return { status: 'changed', state: { refs, chain, bundle: added?.sha256 ?? null, prerequisites: added ? prerequisites : [] }, blobs, bundleBytes: added?.size ?? 0 };
}

export function sameRefs(a: RefsMap, b: RefsMap): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Source refs -> refs to hold on the standby: refs/pull/N/head kept as refs/norestore/pull/N/head, other refs/pull/* dropped. */
export function standbyRefs(source: RefsMap): RefsMap {
  const out: RefsMap = {};
  for (const [name, sha] of Object.entries(source)) {
    const pull = /^refs\/pull\/(\d+)\/head$/.exec(name);
    if (pull) out[`refs/norestore/pull/${pull[1]}/head`] = sha;
    // A source that was a standby before a failover holds refs/norestore/pull/N/head itself: kept,
    // unless the source's own pull request N says otherwise.
    else if (/^refs\/norestore\/pull\/(\d+)\/head$/.test(name)) {
      if (!(name.replace('refs/norestore/', 'refs/') in source)) out[name] = sha;
    } else if (!name.startsWith('refs/pull/')) out[name] = sha;
  }
  return out;
}

/**
 * Push the cache's refs to the standby remote: every ref except refs/pull/* (GitHub rejects them),
 * pruning standby refs the source no longer has. Returns the refs the push reported as rejected.
 */
export async function pushAll(dir: string, url: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  // Nothing to push from an empty repository (git would refuse: "No refs in common").
  if (!Object.keys(await listRefs(dir)).length) return;
  await runGitNet(['push', '--porcelain', '--quiet', '--prune', url, '+refs/*:refs/*', '^refs/pull/*'], { cwd: dir, env, signal });
}
