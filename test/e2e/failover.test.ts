/**
 * Issue 4, must show: failover and failback through the built CLI against GitHub emulators.
 * --dry-run changes nothing (config bytes, storage files); a failing hook leaves replication as it
 * was; a failover does the final catch-up, prints the runbook with concrete values, runs the hooks
 * with their environment, swaps source and standby in the config (with a backup), and the next
 * `cycle` replicates the new primary (the old standby org) into the old primary; failback returns.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Octokit } from '@octokit/rest';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubPair, type GithubPair } from '../helpers/github-pair.js';
import { jsonLines, runCli, type CliResult } from '../helpers/cli.js';

const SEED = { profile: 'large' as const, repos: 1, issuesPerRepo: 3, commentsPerIssue: 1, prsPerRepo: 1 };
const REPO = 'repo-0001';
const NAME = 'acme-github';
const NOTIFY = {
  name: 'notify the team',
  run: 'printf "%s|%s|%s|%s|%s|%s>%s|%s>%s\\n" "$NORESTORE_SOURCE" "$NORESTORE_SERVICE" "$NORESTORE_DIRECTION" "$NORESTORE_FROM" "$NORESTORE_TO" "$NORESTORE_FROM_ID" "$NORESTORE_TO_ID" "$NORESTORE_FROM_URL" "$NORESTORE_TO_URL" >> hook.log',
};
/** The line NOTIFY writes: display text, then machine values (ids, API URLs). */
const hookLine = (direction: string, from: 'source' | 'standby', to: 'source' | 'standby'): string => {
  const org = { source: 'acme', standby: 'acme-dr' };
  return `${NAME}|github|${direction}|github org ${org[from]}|github org ${org[to]}|${org[from]}>${org[to]}|${pair[from].baseUrl}>${pair[to].baseUrl}`;
};
const FAILING = { name: 'switch dns', run: 'echo "dns provider said no" >&2; exit 7' };
/** Identity maps go source -> standby: a failover must reverse them with the direction. */
const IDENTITY = { users: { zed: 'zed-dr' } };

let pair: GithubPair;
const config = (): string => pair.configFile;
const hookLog = (): string => join(pair.dir, 'hook.log');

interface Endpoint {
  baseUrl: string;
  org: string;
  auth: { token: string };
}
async function configured(): Promise<{ source: Endpoint; standby: Endpoint; identity: unknown }> {
  const doc = YAML.parse(await readFile(config(), 'utf8')) as { sources: Array<{ source: Endpoint; standby: Endpoint; identity: unknown }> };
  return doc.sources[0]!;
}

async function issues(side: 'source' | 'standby'): Promise<Record<number, string>> {
  const emu = pair[side];
  const o = new Octokit({ baseUrl: emu.baseUrl, auth: emu.credentials.token });
  const list = await o.paginate(o.rest.issues.listForRepo, { owner: side === 'source' ? 'acme' : 'acme-dr', repo: REPO, state: 'all', per_page: 100 });
  return Object.fromEntries(list.map((i) => [i.number, i.title]));
}

/** Issue and comment bodies of one side, keyed by issue number (comments: by their issue and order). */
async function bodies(side: 'source' | 'standby'): Promise<Record<string, string>> {
  const emu = pair[side];
  const o = new Octokit({ baseUrl: emu.baseUrl, auth: emu.credentials.token });
  const owner = side === 'source' ? 'acme' : 'acme-dr';
  const out: Record<string, string> = {};
  for (const i of await o.paginate(o.rest.issues.listForRepo, { owner, repo: REPO, state: 'all', per_page: 100 })) out[`#${i.number}`] = i.body ?? '';
  const comments = await o.paginate(o.rest.issues.listCommentsForRepo, { owner, repo: REPO, per_page: 100 });
  for (const c of comments) {
    const num = /\/(\d+)$/.exec(c.issue_url)![1];
    let key = `comment on #${num}`;
    for (let n = 2; key in out; n++) key = `comment ${n} on #${num}`;
    out[key] = c.body ?? '';
  }
  return out;
}

/** Every file of the storage and the config directory's .bak files, by content hash. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(pair.dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(join(pair.dir, 'repo'));
  for (const f of await readdir(pair.dir)) if (f.endsWith('.bak')) out[f] = 'backup';
  return out;
}

function expectCode(r: CliResult, code: number): void {
  expect(r.code, `exit code; stdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`).toBe(code);
}

function result<T>(r: CliResult, event: string): T {
  const line = jsonLines(r.stdout).find((l) => l.event === event);
  expect(line, `a ${event} line in ${r.stdout.slice(-2000)}`).toBeDefined();
  return line as T;
}

interface FailoverResult {
  direction: string;
  switched: boolean;
  refused?: string;
  configBackup?: string;
  after: { generation: number; active: string };
  hooks: Array<{ name: string; ok: boolean; output: string }>;
  catchUp?: { ok: boolean };
}

beforeAll(async () => {
  pair = await githubPair({ seed: SEED, sourceName: NAME });
  await pair.writeConfig({}, { identity: IDENTITY, failover: { hooks: [NOTIFY] } });
  expectCode(await runCli(['init', '--config', config()]), 0);
  expectCode(await runCli(['cycle', '--config', config(), '--json']), 0);
}, 120_000);
afterAll(async () => {
  await pair?.close();
});

describe('failover and failback through the CLI (GitHub emulators)', () => {
  it('failover --dry-run shows the runbook and changes nothing: config bytes, storage, standby, no hook run', async () => {
    const pending = pair.source.mutate.createIssue(REPO, { title: 'pending at the dry run' });
    const configBefore = await readFile(config());
    const storageBefore = await snapshot();
    const r = await runCli(['failover', '--config', config(), '--source', NAME, '--dry-run']);
    expectCode(r, 0);
    const web = (url: string): string => new URL(url).origin;
    expect(r.stdout).toContain(`failover (dry-run: nothing is changed): ${NAME} from github org acme to github org acme-dr`);
    expect(r.stdout).toContain(`git remote set-url origin ${web(pair.standby.baseUrl)}/acme-dr/${REPO}.git   # was ${web(pair.source.baseUrl)}/acme/${REPO}.git`);
    expect(r.stdout).toContain(`${NOTIFY.name}   [automated by hook]`);
    expect(r.stdout).toMatch(/Then replication would be reversed: github org acme-dr becomes the source and github org acme the standby \(generation 1\)/);
    expect(await readFile(config())).toEqual(configBefore);
    expect(await snapshot()).toEqual(storageBefore);
    await expect(readFile(hookLog())).rejects.toThrow(/ENOENT/);
    expect(await issues('standby')).not.toHaveProperty(String(pending.number));
  }, 240_000);

  it('a failing hook: earlier hooks ran, replication is not reversed, the config is untouched', async () => {
    await pair.writeConfig({}, { identity: IDENTITY, failover: { hooks: [NOTIFY, FAILING] } });
    const configBefore = await readFile(config());
    const r = await runCli(['failover', '--config', config(), '--source', NAME, '--json']);
    expectCode(r, 1);
    expect(r.stderr).toContain(`hook "${FAILING.name}" failed; replication is NOT reversed`);
    const res = result<FailoverResult>(r, 'failover');
    expect(res.switched).toBe(false);
    expect(res.hooks.map((h) => [h.name, h.ok])).toEqual([
      [NOTIFY.name, true],
      [FAILING.name, false],
    ]);
    expect(res.hooks[1]!.output).toContain('dns provider said no');
    expect(await readFile(config())).toEqual(configBefore);
    expect((await snapshot().then(Object.keys)).filter((k) => k.endsWith('.bak'))).toEqual([]);
    // The hook saw the switch it automates, in its environment.
    expect((await readFile(hookLog(), 'utf8')).trim()).toBe(hookLine('failover', 'source', 'standby'));
    await rm(hookLog());
  }, 240_000);

  it('failover: final catch-up, runbook, hook, config swapped with a backup; a cycle then replicates the new primary into the old one', async () => {
    await pair.writeConfig({}, { identity: IDENTITY, failover: { hooks: [NOTIFY] } });
    const configBefore = await readFile(config());
    const original = await configured();
    const lastMinute = pair.source.mutate.createIssue(REPO, { title: 'made just before the failover' });
    const r = await runCli(['failover', '--config', config(), '--source', NAME]);
    expectCode(r, 0);
    expect(r.stdout).toContain('final catch-up: 1/1 scopes exported, imported and verified');
    expect(r.stdout).toMatch(/Runbook:\n1\. Point every clone at /);
    expect(r.stdout).toContain(`/acme-dr/${REPO}.git   # was `);
    expect(r.stdout).toMatch(new RegExp(`hook ${NOTIFY.name}: ok`));
    const backup = /\(backup: (.+\.bak)\)/.exec(r.stdout)?.[1];
    expect(backup, r.stdout).toBeDefined();

    // The final catch-up carried the last change to the standby before switching.
    const standbyIssues = await issues('standby');
    expect(standbyIssues[lastMinute.number]).toBe('made just before the failover');
    // The config says so: source and standby swapped, the original kept as a backup.
    expect(await readFile(backup!)).toEqual(configBefore);
    const now = await configured();
    expect(now.source).toEqual(original.standby);
    expect(now.standby).toEqual(original.source);
    expect(now.identity).toEqual({ users: { 'zed-dr': 'zed' } });
    expect(await readFile(config(), 'utf8')).toMatch(/# norestore failover at .*: source and standby swapped/);
    expect((await readFile(hookLog(), 'utf8')).trim()).toBe(hookLine('failover', 'source', 'standby'));

    // Failing over twice is refused: it says to fail back.
    const again = await runCli(['failover', '--config', config(), '--source', NAME]);
    expectCode(again, 1);
    expect(again.stderr).toMatch(/already failed over .*norestore failback/);
  }, 240_000);

  it('after a failover, a cycle replicates the new primary into the old one without duplicates', async () => {
    // Production now writes to the old standby org; the next cycle replicates it into the old primary.
    const originals = await bodies('source');
    const made = pair.standby.mutate.createIssue(REPO, { title: 'made on the new primary', body: 'after the failover' });
    pair.standby.mutate.addComment(REPO, made.number, 'a comment on the new primary');
    const c = await runCli(['cycle', '--config', config(), '--json']);
    const primary = await issues('standby');
    const oldPrimary = await issues('source');
    expect(primary[made.number]).toBe('made on the new primary');
    expect(Object.values(oldPrimary)).toContain('made on the new primary');
    // Same numbers and titles on both sides: nothing duplicated, nothing missing, and verified so.
    expect(oldPrimary).toEqual(primary);
    // The originals were adopted as their authors left them: no body rewritten, no comment added.
    const after = await bodies('source');
    for (const [key, body] of Object.entries(originals)) expect(after[key], key).toBe(body);
    expect(Object.keys(after).length).toBe(Object.keys(originals).length + 2);
    expect(after[`comment on #${made.number}`]).toMatch(/^<!-- norestore:source-id=github\.issue_comment\/\d+ -->\n<!-- norestore:source=acme-dr\/repo-0001 -->\n_Originally by `@[^`]+` on [^_]+\._\n<!-- \/norestore -->\na comment on the new primary$/);
    // A second cycle finds nothing to write.
    const again = await runCli(['cycle', '--config', config(), '--json']);
    expectCode(again, 0);
    expect(await bodies('source')).toEqual(after);
    expectCode(c, 0);
    const cycle = result<{ ok: boolean; scopes: Array<{ scope: string; findings: number }> }>(c, 'cycle');
    expect(cycle.scopes.map((s) => [s.scope, s.findings])).toEqual([[`repo~acme-dr~${REPO}`, 0]]);
  }, 240_000);

  it('failback returns production to the original primary after its own final catch-up', async () => {
    const lastOnNew = pair.standby.mutate.createIssue(REPO, { title: 'made on the new primary before the failback' });
    const r = await runCli(['failback', '--config', config(), '--source', NAME, '--json']);
    expectCode(r, 0);
    const res = result<FailoverResult>(r, 'failback');
    expect(res).toMatchObject({ direction: 'failback', switched: true, after: { generation: 2, active: 'primary' } });
    expect(res.catchUp?.ok).toBe(true);
    expect((await issues('source'))[lastOnNew.number]).toBe('made on the new primary before the failback');
    const now = await configured();
    expect([now.source.org, now.source.baseUrl, now.source.auth.token]).toEqual(['acme', pair.source.baseUrl, 'file:source.token']);
    expect([now.standby.org, now.standby.baseUrl, now.standby.auth.token]).toEqual(['acme-dr', pair.standby.baseUrl, 'file:standby.token']);
    expect(now.identity).toEqual(IDENTITY);
    expect((await readFile(hookLog(), 'utf8')).trim().split('\n').at(-1)).toBe(hookLine('failback', 'standby', 'source'));

    // Replication runs forward again: a change at the original primary reaches the standby.
    const after = pair.source.mutate.createIssue(REPO, { title: 'made after the failback' });
    const c = await runCli(['cycle', '--config', config(), '--json']);
    expectCode(c, 0);
    const standby = await issues('standby');
    expect(standby[after.number]).toBe('made after the failback');
    expect(standby).toEqual(await issues('source'));
  }, 240_000);
});
