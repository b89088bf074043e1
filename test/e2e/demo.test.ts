/**
 * `norestore demo` as a user runs it (the built CLI): emulated GitHub, Google Workspace and
 * Microsoft 365 tenants, two cycles with changes between them, both drills, status and the gap
 * report; then `norestore status --json` on the config the demo left behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, type CliResult } from '../helpers/cli.js';

const SOURCES = { github: 'acme-github', google: 'acme-google', microsoft: 'acme-m365' } as const;
const NAMES = Object.values(SOURCES);

let tmp: string;
let dir: string;
let demo: CliResult;

/** The human text of the demo, by section ("== title" lines), JSON log lines left out. */
function sections(stdout: string): Map<string, string> {
  const map = new Map<string, string>();
  let title = '(start)';
  for (const line of stdout.split('\n')) {
    if (line.startsWith('{')) continue;
    if (line.startsWith('== ')) {
      title = line.slice(3);
      map.set(title, '');
      continue;
    }
    map.set(title, `${map.get(title) ?? ''}${line}\n`);
  }
  return map;
}

function section(all: Map<string, string>, prefix: string): string {
  const hits = [...all.keys()].filter((k) => k.startsWith(prefix));
  expect(hits, `one "== ${prefix}..." section in the demo output (have: ${[...all.keys()].join(' | ')})`).toHaveLength(1);
  return all.get(hits[0] as string) as string;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'norestore-demo-e2e-'));
  dir = join(tmp, 'demo');
  demo = await runCli(['demo', '--dir', dir]);
}, 240_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('norestore demo (all three connectors)', () => {
  it('exits 0 and every phase names the three sources', () => {
    expect(demo.code, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    const s = sections(demo.stdout);
    for (const title of ['cycle 1', 'cycle 2']) {
      const text = section(s, title);
      for (const name of NAMES) {
        const m = new RegExp(`^${name}: (\\d+)/(\\d+) scopes exported, imported and verified`, 'm').exec(text);
        expect(m, `${title}: ${name}'s result line`).not.toBeNull();
        expect(Number(m?.[2]), `${title}: ${name} has scopes`).toBeGreaterThan(0);
        expect(m?.[1], `${title}: every scope of ${name} verified`).toBe(m?.[2]);
      }
      expect(text).not.toMatch(/NOT VERIFIED/);
    }
    const mutations = section(s, 'mutating the sources');
    for (const service of Object.keys(SOURCES)) expect(mutations, `${service} mutated`).toMatch(new RegExp(`^  ${service}: \\d+ `, 'm'));
    const drill = section(s, 'drill: ');
    const fresh = section(s, 'drill --fresh');
    for (const name of NAMES) {
      expect(drill, `drill of ${name}`).toMatch(new RegExp(`^${name}: no-restore RTO measured [0-9.]+m?s$`, 'm'));
      expect(fresh, `drill --fresh of ${name}`).toMatch(new RegExp(`^${name}: classic RTO \\(full restore into an empty tenant\\) measured [0-9.]+m?s$`, 'm'));
    }
    const status = section(s, 'status');
    for (const [service, name] of Object.entries(SOURCES)) expect(status, `status of ${name}`).toMatch(new RegExp(`^${name} \\(${service}\\): RPO .* ok$`, 'm'));
    const report = section(s, 'restorability-gap report');
    for (const name of NAMES) expect(report, `report names ${name}`).toContain(name);
    for (const kind of ['github.issue', 'gmail.message', 'drive.file', 'calendar.event', 'microsoft.message', 'microsoft.driveFile', 'microsoft.event']) expect(report, `report covers ${kind}`).toContain(kind);
    expect(demo.stdout).toMatch(/^demo finished in [0-9.]+ s \(start emulators [0-9.]+ s, cycle 1 [0-9.]+ s, .*report [0-9.]+ s\)$/m);
  });

  it('leaves the HTML report on disk, covering the three services', async () => {
    const file = join(dir, 'report.html');
    expect(demo.stdout).toContain(`HTML report: ${file}`);
    const html = await readFile(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    for (const name of NAMES) expect(html, name).toContain(name);
    for (const kind of ['github.issue', 'gmail.message', 'microsoft.message']) expect(html, kind).toContain(kind);
  });

  it('writes a config with the three sources, secrets as file: references and the Microsoft CA as a file', async () => {
    const config = YAML.parse(await readFile(join(dir, 'config.yaml'), 'utf8')) as { sources: Array<Record<string, Record<string, unknown>> & { name: string; service: string }> };
    expect(config.sources.map((s) => `${s.service}:${s.name}`).sort()).toEqual(Object.entries(SOURCES).map(([k, v]) => `${k}:${v}`).sort());
    const by = Object.fromEntries(config.sources.map((s) => [s.service, s]));
    for (const side of ['source', 'standby', 'freshStandby']) {
      expect((by.github?.[side]?.auth as { token?: string }).token).toMatch(/^file:secrets\//);
      expect((by.google?.[side]?.serviceAccount as { keyFile?: string }).keyFile).toMatch(/^file:secrets\/.*\.json$/);
      expect(by.microsoft?.[side]?.clientSecret).toMatch(/^file:secrets\//);
      const ca = by.microsoft?.[side]?.caFile as string;
      expect(await readFile(join(dir, ca), 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
      expect(String(by.microsoft?.[side]?.authorityHost)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    }
    // No secret the demo wrote shows up in what it printed.
    const secrets = await readdir(join(dir, 'secrets'));
    expect(secrets.length).toBe(9);
    for (const f of secrets) {
      const text = (await readFile(join(dir, 'secrets', f), 'utf8')).trim();
      const needle = f.endsWith('.json') ? (JSON.parse(text) as { private_key: string }).private_key.split('\n')[1] as string : text;
      expect(needle.length).toBeGreaterThan(8);
      expect(demo.stdout.includes(needle) || demo.stderr.includes(needle), `secret ${f} printed`).toBe(false);
    }
  });

  it('`norestore status --json` on the demo config lists the scopes of all three services', async () => {
    expect(existsSync(join(dir, 'config.yaml'))).toBe(true);
    const r = await runCli(['status', '--config', join(dir, 'config.yaml'), '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const status = jsonLines(r.stdout).find((l) => l.event === 'status') as { ok: boolean; rpo: { sources: Array<{ source: string; service: string; met: boolean; scopes: Array<{ scope: string }> }> } } | undefined;
    expect(status?.ok).toBe(true);
    const scopes = Object.fromEntries((status?.rpo.sources ?? []).map((s) => [s.service, s.scopes.map((x) => x.scope)]));
    expect(Object.keys(scopes).sort()).toEqual(['github', 'google', 'microsoft']);
    expect(scopes.github).toEqual(expect.arrayContaining(['repo~acme~alpha', 'repo~acme~beta', 'repo~acme~gamma']));
    expect(scopes.google).toEqual(expect.arrayContaining(['directory', 'gmail~acme.test~zoe.angstrom', 'drive~acme.test~zoe.angstrom', 'calendar~acme.test~zoe.angstrom']));
    expect(scopes.microsoft?.some((s) => /^mail~adele/.test(s))).toBe(true);
    expect(scopes.microsoft?.some((s) => /^drive~adele/.test(s))).toBe(true);
    expect(scopes.microsoft?.some((s) => /^calendar~adele/.test(s))).toBe(true);
  });
});
