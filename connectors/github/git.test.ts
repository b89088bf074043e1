import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryScopeStore } from '../../test/helpers/memory-contexts.js';
import type { BlobRef } from '../../src/model/records.js';
import { createBundle, ensureBareRepo, gitAuthConfig, gitEnv, listRefs, lsRemote, pushAll, restoreFromBundles, runGit, setRefs, snapshotGit, standbyRefs, type GitState } from './git.js';

let dir: string;
let origin: string; // the "source" bare repository
let store: MemoryScopeStore;

const IDENT = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** A commit on `branch` of the origin, made in place (no working clone: fewer git processes). */
async function commit(msg: string, branch = 'main'): Promise<string> {
  const parent = await runGit(['rev-parse', '--verify', '-q', `refs/heads/${branch}`], { cwd: origin }).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  const { stdout } = await runGit(['commit-tree', EMPTY_TREE, '-m', msg, ...(parent ? ['-p', parent] : [])], { cwd: origin, env: { ...gitEnv(), ...IDENT } });
  const sha = stdout.trim();
  await runGit(['update-ref', `refs/heads/${branch}`, sha], { cwd: origin });
  return sha;
}

/** Set refs of the origin directly (ref -> sha, or null to delete). */
async function setOrigin(refs: Record<string, string | null>): Promise<void> {
  const lines = Object.entries(refs).map(([r, sha]) => (sha ? `update ${r} ${sha}` : `delete ${r}`));
  await runGit(['update-ref', '--stdin'], { cwd: origin, input: lines.join('\n') + '\n' });
}

async function snap(last: { state: GitState; blobs: Record<string, BlobRef> } | null, cache = join(dir, 'cache.git'), maxChain?: number) {
  return snapshotGit({ dir: cache, url: origin, env: gitEnv(), last, io: store, tmpDir: join(dir, 'tmp'), allowAbsent: false, maxChain });
}

async function bundleHeads(sha: string): Promise<string[]> {
  const file = join(dir, 'inspect.bundle');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, store.blobs.get(sha)!.data);
  const { stdout } = await runGit(['bundle', 'list-heads', file], { cwd: dir });
  return stdout.trim().split('\n').map((l) => l.split(' ')[1]!).sort();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-git-'));
  origin = join(dir, 'origin.git');
  await runGit(['init', '-q', '--bare', origin]);
  store = new MemoryScopeStore();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('git bundles', () => {
  it('first snapshot stores one full bundle; unchanged refs store nothing', async () => {
    const a = await commit('a');
    await commit('f1', 'feature');
    await setOrigin({ 'refs/pull/1/head': a });
    const s1 = await snap(null);
    expect(s1.status).toBe('changed');
    expect(s1.state!.refs).toMatchObject({ 'refs/heads/main': a, 'refs/pull/1/head': a });
    expect(s1.state!.chain).toHaveLength(1);
    expect(s1.blobs!.bundle!.mediaType).toBe('application/x-git-bundle');
    expect(await bundleHeads(s1.state!.bundle!)).toEqual(['refs/heads/feature', 'refs/heads/main', 'refs/pull/1/head']);
    const s2 = await snap({ state: s1.state!, blobs: s1.blobs! });
    expect(s2.status).toBe('unchanged');
  });

  it('later snapshots bundle only the new objects, with the old tips as prerequisites', async () => {
    const a = await commit('a');
    const s1 = await snap(null);
    const b = await commit('b');
    await setOrigin({ 'refs/tags/v1': b });
    const s2 = await snap({ state: s1.state!, blobs: s1.blobs! });
    expect(s2.status).toBe('changed');
    expect(s2.state!.chain).toEqual([s1.state!.bundle, s2.state!.bundle]);
    expect(s2.state!.prerequisites).toEqual([a]);
    expect(await bundleHeads(s2.state!.bundle!)).toEqual(['refs/heads/main', 'refs/tags/v1']);
    // Only commit b is in it: the bundle cannot be applied without a.
    const empty = join(dir, 'empty.git');
    await ensureBareRepo(empty);
    const file = join(dir, 'b2.bundle');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, store.blobs.get(s2.state!.bundle!)!.data);
    await expect(runGit(['bundle', 'verify', file], { cwd: empty })).rejects.toThrow(/lacks these prerequisite/);
    expect(s2.blobs!['chain-0000']!.sha256).toBe(s1.state!.bundle);
    expect(s2.blobs!['chain-0001']!.sha256).toBe(s2.state!.bundle);
  });

  it('ref deletions and moves to known commits need no new bundle', async () => {
    const a = await commit('a');
    await commit('f', 'feature');
    const s1 = await snap(null);
    await setOrigin({ 'refs/heads/feature': null, 'refs/heads/other': a });
    const s2 = await snap({ state: s1.state!, blobs: s1.blobs! });
    expect(s2.status).toBe('changed');
    expect(s2.state!.bundle).toBeNull();
    expect(s2.state!.chain).toEqual(s1.state!.chain);
    expect(s2.state!.refs).toEqual({ 'refs/heads/main': a, 'refs/heads/other': a });
  });

  it('rebuilds a lost cache from the stored chain, then stays incremental', async () => {
    await commit('a');
    const s1 = await snap(null);
    await commit('b');
    const s2 = await snap({ state: s1.state!, blobs: s1.blobs! });
    // The work dir is gone (new machine): the next snapshot rebuilds from the bundles first.
    await rm(join(dir, 'cache.git'), { recursive: true });
    const c = await commit('c');
    const s3 = await snap({ state: s2.state!, blobs: s2.blobs! });
    expect(s3.status).toBe('changed');
    expect(s3.state!.prerequisites).toEqual([s2.state!.refs['refs/heads/main']]);
    expect(s3.state!.chain).toHaveLength(3);
    // And a fresh repository rebuilt from the three bundles equals the source exactly.
    const rebuilt = join(dir, 'rebuilt.git');
    const r = await restoreFromBundles(rebuilt, s3.state!, store, join(dir, 'tmp'), { setRefs: s3.state!.refs });
    expect(r.unbundled).toBe(3);
    expect(await listRefs(rebuilt)).toEqual(await listRefs(origin));
    expect((await runGit(['rev-parse', 'refs/heads/main'], { cwd: rebuilt })).stdout.trim()).toBe(c);
    await runGit(['fsck', '--no-progress', '--connectivity-only'], { cwd: rebuilt });
    // Applying again is a no-op (objects present).
    expect((await restoreFromBundles(rebuilt, s3.state!, store, join(dir, 'tmp'))).unbundled).toBe(0);
  });

  it('consolidates a long chain into one full bundle', async () => {
    await commit('a');
    let s = await snap(null, undefined, 2);
    await commit('b');
    s = await snap({ state: s.state!, blobs: s.blobs! }, undefined, 2);
    expect(s.state!.chain).toHaveLength(2);
    await commit('c');
    s = await snap({ state: s.state!, blobs: s.blobs! }, undefined, 2);
    expect(s.state!.chain).toHaveLength(1);
    expect(Object.keys(s.blobs!).sort()).toEqual(['bundle', 'chain-0000']);
    const rebuilt = join(dir, 'rebuilt.git');
    await restoreFromBundles(rebuilt, s.state!, store, join(dir, 'tmp'), { setRefs: s.state!.refs });
    expect(await listRefs(rebuilt)).toEqual(await listRefs(origin));
  });

  it('an empty repository is a state with no refs and no bundle', async () => {
    const s = await snap(null);
    expect(s.status).toBe('changed');
    expect(s.state).toEqual({ refs: {}, chain: [], bundle: null, prerequisites: [] });
    const a = await commit('a');
    const s2 = await snap({ state: s.state!, blobs: s.blobs! });
    expect(s2.state!.refs).toEqual({ 'refs/heads/main': a });
    expect(s2.state!.chain).toHaveLength(1);
  });

  it('reports an absent remote when allowed', async () => {
    const r = await snapshotGit({ dir: join(dir, 'w.git'), url: join(dir, 'nope.wiki.git'), env: gitEnv(), last: null, io: store, tmpDir: join(dir, 'tmp'), allowAbsent: true });
    expect(r.status).toBe('absent');
    await expect(snapshotGit({ dir: join(dir, 'w2.git'), url: join(dir, 'nope.git'), env: gitEnv(), last: null, io: store, tmpDir: join(dir, 'tmp'), allowAbsent: false })).rejects.toThrow(/git fetch failed/);
    expect(await lsRemote(join(dir, 'nope.git'), gitEnv())).toBeNull();
  });

  it('createBundle refuses nothing-new quietly', async () => {
    const a = await commit('a');
    const cache = join(dir, 'cache.git');
    await snap(null, cache);
    expect(await createBundle(cache, join(dir, 'x.bundle'), ['refs/heads/main'], [a])).toBe(false);
  });
});

describe('push to the standby', () => {
  it('pushes heads, tags and PR heads (as refs/norestore/pull/*), prunes removed refs, leaves the standby refs/pull alone', async () => {
    const a = await commit('a');
    const f = await commit('f', 'feature');
    await runGit(['tag', '-a', '-m', 'x', 'v1', a], { cwd: origin, env: { ...gitEnv(), ...IDENT } });
    await setOrigin({ 'refs/pull/3/head': f, 'refs/pull/3/merge': a });
    const s = await snap(null);
    const standby = join(dir, 'standby.git');
    await ensureBareRepo(standby);
    const img = join(dir, 'import.git');
    await restoreFromBundles(img, s.state!, store, join(dir, 'tmp'), { setRefs: standbyRefs(s.state!.refs) });
    await pushAll(img, standby, gitEnv());
    const got = await listRefs(standby);
    expect(got['refs/norestore/pull/3/head']).toBe(f);
    expect(got['refs/pull/3/merge']).toBeUndefined();
    expect(got['refs/tags/v1']).toBe(s.state!.refs['refs/tags/v1']);
    // A ref GitHub made on the standby survives; a branch deleted at the source is pruned.
    await runGit(['update-ref', 'refs/pull/9/head', a], { cwd: standby });
    const refs2 = { ...s.state!.refs };
    delete refs2['refs/heads/feature'];
    await setRefs(img, standbyRefs(refs2));
    await pushAll(img, standby, gitEnv());
    const got2 = await listRefs(standby);
    expect(got2['refs/heads/feature']).toBeUndefined();
    expect(got2['refs/pull/9/head']).toBe(a);
    expect(got2['refs/heads/main']).toBe(s.state!.refs['refs/heads/main']);
  });
});

describe('credentials', () => {
  it('travel as an http.<base>.extraHeader config entry in the environment, never in argv or URLs', () => {
    const env = gitEnv(gitAuthConfig('https://git.example.com', 'ghp_secret123'));
    const keys = Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_KEY_'));
    const entries = keys.map((k) => [env[k], env[k.replace('KEY', 'VALUE')]]);
    const header = entries.find(([k]) => k === 'http.https://git.example.com/.extraHeader');
    expect(header?.[1]).toBe(`Authorization: Basic ${Buffer.from('x-access-token:ghp_secret123').toString('base64')}`);
    expect(entries.find(([k]) => k === 'credential.helper')?.[1]).toBe('');
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(env.GIT_CONFIG_COUNT).toBe(String(keys.length));
  });
});
