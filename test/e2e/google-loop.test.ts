/**
 * The no-restore loop with Google Workspace through the built CLI, as test/e2e/loop.test.ts and
 * failover.test.ts show it for GitHub: source, standby and fresh (empty) emulated domains, then
 * init, cycle, status (exit codes against objectives), drill, drill --fresh, the gap report,
 * failover (config swapped, identity reversed), changes on the new primary replicated back into
 * the old primary exactly once (the originals adopted, not duplicated), failback, and a change at
 * the original primary carried forward again. What each domain holds is read from the emulators'
 * state (not through the connector), per kind, so a duplicate shows as a count that grew.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE, startGoogleEmulator, type GoogleEmulator } from '../../emulators/google/index.js';
import { jsonLines, runCli, type CliResult } from '../helpers/cli.js';

const NAME = 'acme-google';
const SOURCE_DOMAIN = 'acme.test';
const STANDBY_DOMAIN = 'acme-dr.test';
/** Small: one user besides the admin, a few of every kind (a shared drive, a recurring event, a group). */
const SEED = { users: 1, messagesPerUser: 5, filesPerUser: 4, sharedDrives: 1, eventsPerUser: 3, groups: 1, maxBinaryBytes: 6000 };
const RESTORABLE = ['google.user', 'google.group', 'gmail.label', 'gmail.message', 'drive.shared-drive', 'drive.file', 'calendar.calendar', 'calendar.event'];

interface CycleLine {
  ok: boolean;
  scopes: Array<{ scope: string; ok: boolean; imported?: number; findings?: number; importFailures?: number }>;
}
interface KindRow {
  kind: string;
  rpoMs: number | null;
  status: string;
}
interface Status {
  ok: boolean;
  rpo: { sources: Array<{ service: string; status: string; kinds: KindRow[] }> };
  rto: { sources: Array<{ noRestore: { ms: number | null }; classic: { basis: string; ms: number | null } }> };
  missed: Array<{ kind: string | null; metric: 'rpo' | 'rto'; valueMs: number | null; objectiveMs: number }>;
}
interface Drill {
  mode: 'no-restore' | 'fresh';
  ok: boolean;
  totalMs: number;
  findings: number;
  steps: Array<{ name: string; ms: number }>;
}
interface FailoverLine {
  direction: string;
  switched: boolean;
  configBackup?: string;
  after: { generation: number; active: string };
  catchUp?: CycleLine;
}
interface Endpoint {
  domain: string;
  adminUser: string;
  serviceAccount: { keyFile: string };
  rootUrl: string;
  tokenUrl: string;
}

let dir: string;
let source: GoogleEmulator;
let standby: GoogleEmulator;
let fresh: GoogleEmulator;
let drillMs: number | null = null;
let freshMs: number | null = null;
const config = (): string => join(dir, 'norestore.yaml');
const cli = (args: string[], file = config()): Promise<CliResult> => runCli([...args, '--config', file]);

function expectCode(r: CliResult, code: number): void {
  expect(r.code, `exit code; stdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`).toBe(code);
}

function one<T>(r: CliResult, event: string): T {
  const line = jsonLines(r.stdout).find((l) => l.event === event);
  expect(line, `a ${event} line in: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`).toBeDefined();
  return line as T;
}

/** A cycle with every scope ok: no import failure, no finding. */
function expectCleanCycle(r: CliResult): CycleLine {
  expectCode(r, 0);
  const c = one<CycleLine>(r, 'cycle');
  expect(c.scopes.map((s) => [s.scope, s.ok, s.findings ?? 0, s.importFailures ?? 0])).toEqual(c.scopes.map((s) => [s.scope, true, 0, 0]));
  expect(c.ok).toBe(true);
  return c;
}

const importedBy = (c: CycleLine): number => c.scopes.reduce((n, s) => n + (s.imported ?? 0), 0);

async function status(file = config()): Promise<{ code: number | null; s: Status }> {
  const r = await cli(['status', '--json'], file);
  return { code: r.code, s: one<Status>(r, 'status') };
}

function endpoint(e: GoogleEmulator, key: string): Endpoint {
  return { domain: e.domain, adminUser: e.credentials.adminUser, serviceAccount: { keyFile: `file:${key}` }, rootUrl: e.rootUrl, tokenUrl: e.tokenUrl };
}

async function writeConfig(file: string, extra: Record<string, unknown> = {}): Promise<void> {
  const doc = {
    version: 1,
    storage: { type: 'fs', path: './repo' },
    cacheDir: './cache',
    objectives: { rpo: '1h', rto: '1h' },
    sources: [
      {
        name: NAME,
        service: 'google',
        source: endpoint(source, 'source.json'),
        standby: endpoint(standby, 'standby.json'),
        freshStandby: endpoint(fresh, 'fresh.json'),
        identity: { domains: { [SOURCE_DOMAIN]: STANDBY_DOMAIN } },
        ...extra,
      },
    ],
  };
  await writeFile(file, YAML.stringify(doc));
}

async function configured(): Promise<{ source: Endpoint; standby: Endpoint; identity: unknown }> {
  const doc = YAML.parse(await readFile(config(), 'utf8')) as { sources: Array<{ source: Endpoint; standby: Endpoint; identity: unknown }> };
  return doc.sources[0]!;
}

/**
 * What a domain holds, per kind, keyed by natural key with a count (a duplicate shows as 2):
 * users and groups by local part, labels by user and name, messages by user and Message-ID, Drive
 * items by owner (or shared drive name) and path, events by calendar owner, summary and start.
 */
type Holdings = Record<'users' | 'groups' | 'members' | 'labels' | 'messages' | 'sharedDrives' | 'files' | 'calendars' | 'events', Record<string, number>>;

function holdings(e: GoogleEmulator): Holdings {
  const s = e.state;
  const local = (a: string) => a.split('@')[0] as string;
  const tally = (keys: string[]) => {
    const out: Record<string, number> = {};
    for (const k of keys) out[k] = (out[k] ?? 0) + 1;
    return out;
  };
  const roots = new Set(s.drive.roots.values());
  const path = (id: string): string => {
    const f = s.drive.files.get(id);
    if (!f) return '?';
    if (roots.has(f.id)) return '';
    if (s.drive.drives.has(f.id)) return `[${s.drive.drives.get(f.id)?.name ?? ''}]`;
    return `${path(f.parents[0] ?? '')}/${f.name}`;
  };
  const files = [...s.drive.files.values()].filter((f) => !f.trashed && !roots.has(f.id) && !s.drive.drives.has(f.id));
  return {
    users: tally([...s.users.keys()].map(local)),
    groups: tally([...s.groups.keys()].map(local)),
    members: tally([...s.groups.values()].flatMap((g) => [...g.members.values()].map((m) => `${local(g.group.email ?? '')}:${local(m.email ?? '')}:${m.role ?? ''}`))),
    labels: tally([...s.mailboxes.values()].flatMap((mb) => [...mb.labels.values()].filter((l) => l.type === 'user').map((l) => `${local(mb.email)}:${l.name ?? ''}`))),
    messages: tally([...s.mailboxes.values()].flatMap((mb) => [...mb.messages.values()].map((m) => `${local(mb.email)}:${m.rfcId ?? m.id}:${[...m.labelIds].filter((l) => !l.startsWith('Label_')).sort().join(',')}`))),
    sharedDrives: tally([...s.drive.drives.values()].map((d) => d.name)),
    files: tally(files.map((f) => `${f.owner ? local(f.owner) : ''}${path(f.id)}${f.mimeType === NATIVE.folder ? '/' : `:${f.content?.sha256.slice(0, 12) ?? (f.text ?? '').trim()}`}`)),
    calendars: tally([...s.calendar.calendars.values()].filter((c) => !c.primary).map((c) => `${local(c.owner)}:${c.summary}`)),
    events: tally([...s.calendar.calendars.values()].flatMap((c) => [...c.events.values()].filter((ev) => ev.r.status !== 'cancelled').map((ev) => `${local(c.owner)}:${ev.r.summary ?? ''}:${ev.r.start?.dateTime ?? ev.r.start?.date ?? ''}`))),
  };
}

const total = (h: Record<string, number>): number => Object.values(h).reduce((n, x) => n + x, 0);

/** Two domains hold the same, and nothing twice. */
function expectSameHoldings(a: GoogleEmulator, b: GoogleEmulator): Holdings {
  const ha = holdings(a);
  const hb = holdings(b);
  expect(hb).toEqual(ha);
  for (const [kind, m] of Object.entries(ha)) expect(Object.entries(m).filter(([, n]) => n > 1), `${kind} held twice`).toEqual([]);
  return ha;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-e2e-google-'));
  [source, standby, fresh] = await Promise.all([
    startGoogleEmulator({ domain: SOURCE_DOMAIN, profile: SEED, seed: 11 }),
    startGoogleEmulator({ domain: STANDBY_DOMAIN, profile: 'empty' }),
    startGoogleEmulator({ domain: STANDBY_DOMAIN, profile: 'empty' }),
  ]);
  for (const [e, name] of [
    [source, 'source.json'],
    [standby, 'standby.json'],
    [fresh, 'fresh.json'],
  ] as const) {
    await writeFile(join(dir, name), JSON.stringify(e.credentials.serviceAccount), { mode: 0o600 });
  }
  await writeConfig(config());
  expectCode(await cli(['init']), 0);
}, 60_000);

afterAll(async () => {
  await Promise.all([source?.stop(), standby?.stop(), fresh?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the no-restore loop with Google Workspace through the CLI (emulated domains)', () => {
  it('cycle replicates every scope; status is within the RPO objective and misses only the never-measured RTO', async () => {
    const c = expectCleanCycle(await cli(['cycle', '--json']));
    expect(c.scopes.map((s) => s.scope)).toEqual(expect.arrayContaining(['directory', `gmail~${SOURCE_DOMAIN}~admin`, `drive~${SOURCE_DOMAIN}~admin`, `calendar~${SOURCE_DOMAIN}~admin`, expect.stringMatching(/^shared-drive~/)]));
    const held = expectSameHoldings(source, standby);
    expect(total(held.messages)).toBeGreaterThan(5);
    expect(total(held.sharedDrives)).toBe(1);
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.s.missed.map((m) => [m.metric, m.valueMs])).toEqual([['rto', null]]);
    expect(s.s.rpo.sources[0]!.service).toBe('google');
    expect(s.s.rpo.sources[0]!.status).toBe('proven');
    // A cycle with nothing changed writes nothing.
    expect(importedBy(expectCleanCycle(await cli(['cycle', '--json'])))).toBe(0);
  }, 60_000);

  it('drill measures the no-restore RTO (catch-up of a pending change, verify, switch steps); status then exits 0', async () => {
    const user = source.users[1] as string;
    source.mutate.deliver(user, { from: 'pending@example.org', subject: 'Ausstehend beim Drill', text: 'pending when the drill starts' });
    const r = await cli(['drill', '--json']);
    expectCode(r, 0);
    const d = one<Drill>(r, 'drill');
    expect(d).toMatchObject({ mode: 'no-restore', ok: true, findings: 0 });
    expect(d.steps.map((x) => x.name)).toEqual(['catch-up export of pending source changes', 'catch-up import into the standby', 'verify the standby', 'switch steps (dry-run)']);
    expect(d.totalMs).toBeGreaterThan(0);
    expectSameHoldings(source, standby);
    const s = await status();
    expect(s.code, JSON.stringify(s.s.missed)).toBe(0);
    expect(s.s.ok).toBe(true);
    expect(s.s.rto.sources[0]!.noRestore.ms).toBe(d.totalMs);
    expect(s.s.rto.sources[0]!.classic.basis).toBe('projected');
    drillMs = d.totalMs;
  }, 60_000);

  it('drill --fresh restores everything into the empty third domain, verified and timed (the classic RTO, measured)', async () => {
    const standbyBefore = holdings(standby);
    expect(total(holdings(fresh).messages)).toBe(0);
    const r = await cli(['drill', '--fresh', '--json']);
    expectCode(r, 0);
    const d = one<Drill>(r, 'drill');
    expect(d).toMatchObject({ mode: 'fresh', ok: true, findings: 0 });
    expect(d.totalMs).toBeGreaterThan(0);
    expectSameHoldings(source, fresh);
    expect(holdings(standby)).toEqual(standbyBefore);
    expect(fresh.stats().notificationEmails).toBe(0);
    freshMs = d.totalMs;
    const s = await status();
    expect(s.s.rto.sources[0]!.classic).toMatchObject({ basis: 'measured', ms: freshMs });
  }, 60_000);

  it('a missed objective exits 1 (a 1 ms RPO for Gmail messages); the report names every Google kind with its coverage', async () => {
    const strict = join(dir, 'strict.yaml');
    await writeConfig(strict, { objectives: { kinds: { 'gmail.message': { rpo: '1ms' } } } });
    const [within, missed, report] = await Promise.all([status(), status(strict), cli(['report', '--format', 'json'])]);
    expect(within.code, JSON.stringify(within.s.missed)).toBe(0);
    expect(missed.code).toBe(1);
    expect(missed.s.missed.map((m) => [m.kind, m.metric, m.objectiveMs])).toEqual([['gmail.message', 'rpo', 1]]);
    expectCode(report, 0);
    const data = JSON.parse(report.stdout) as {
      sources: Array<{ name: string; service: string; noRestoreRtoMs: number | null; classicRtoMs: number | null; findings: number }>;
      coverage: Array<{ kind: string; status: string; verification: string; items: number | null }>;
      fidelity: Array<{ kind: string; preserved: string[]; observed: { matched: number; stored: number; mismatched: number } }>;
    };
    expect(data.sources).toEqual([expect.objectContaining({ name: NAME, service: 'google', noRestoreRtoMs: drillMs, classicRtoMs: freshMs, findings: 0 })]);
    const cov = new Map(data.coverage.map((c) => [c.kind, c]));
    for (const k of RESTORABLE) {
      expect(cov.get(k), k).toMatchObject({ status: 'possessed-and-restorable', verification: 'clean' });
      expect(cov.get(k)!.items, k).toBeGreaterThan(0);
      const f = data.fidelity.find((x) => x.kind === k);
      expect(f?.preserved.length, k).toBeGreaterThan(0);
      expect(f?.observed.mismatched, k).toBe(0);
      expect(f?.observed.matched, k).toBe(f?.observed.stored);
    }
    expect(cov.get('chat.message')).toMatchObject({ status: 'not-possessed' });
  }, 60_000);

  it('failover switches; changes on the new primary reach the old primary exactly once, the originals adopted', async () => {
    const original = await configured();
    const r = await cli(['failover', '--source', NAME, '--json']);
    expectCode(r, 0);
    const res = one<FailoverLine>(r, 'failover');
    expect(res).toMatchObject({ direction: 'failover', switched: true, after: { generation: 1, active: 'standby' } });
    expect(res.catchUp?.ok).toBe(true);
    const now = await configured();
    expect(now.source).toEqual(original.standby);
    expect(now.standby).toEqual(original.source);
    expect(now.identity).toEqual({ domains: { [STANDBY_DOMAIN]: SOURCE_DOMAIN } });

    // Production now runs on the old standby: a new message, file and event, and a renamed document.
    const before = expectSameHoldings(standby, source);
    const user = (source.users[1] as string).replace(SOURCE_DOMAIN, STANDBY_DOMAIN);
    standby.mutate.deliver(user, { from: 'kunde@example.de', subject: 'Nach dem Failover', text: 'on the new primary' });
    await standby.mutate.createFile(user, { name: 'after-failover.txt', mimeType: 'text/plain', content: Buffer.from('written on the new primary\n') });
    standby.mutate.createEvent(user, { summary: 'Failback planning', start: { dateTime: '2024-06-03T09:00:00.000Z' }, end: { dateTime: '2024-06-03T10:00:00.000Z' } });
    const doc = standby.mutate.listFiles({ owner: user }).find((f) => f.mimeType === NATIVE.document);
    standby.mutate.renameFile(doc!.id, 'Renamed on the new primary');

    const c = expectCleanCycle(await cli(['cycle', '--json']));
    expect(c.scopes.map((s) => s.scope)).toEqual(expect.arrayContaining([`gmail~${STANDBY_DOMAIN}~admin`, `drive~${STANDBY_DOMAIN}~admin`]));
    const after = expectSameHoldings(standby, source);
    expect(total(after.messages)).toBe(total(before.messages) + 1);
    expect(total(after.files)).toBe(total(before.files) + 1);
    expect(total(after.events)).toBe(total(before.events) + 1);
    for (const k of ['users', 'groups', 'members', 'labels', 'sharedDrives', 'calendars'] as const) expect(after[k], k).toEqual(before[k]);
    expect(Object.keys(after.files).some((p) => p.includes('/Renamed on the new primary:'))).toBe(true);
    // Nothing more to write on the next cycle; nobody was notified.
    expect(importedBy(expectCleanCycle(await cli(['cycle', '--json'])))).toBe(0);
    expect(source.stats().notificationEmails + standby.stats().notificationEmails).toBe(0);
  }, 90_000);

  it('failback returns production to the original primary; replication runs forward again without duplicates', async () => {
    const user = (source.users[1] as string).replace(SOURCE_DOMAIN, STANDBY_DOMAIN);
    standby.mutate.deliver(user, { from: 'kunde@example.de', subject: 'Vor dem Failback', text: 'last on the new primary' });
    const r = await cli(['failback', '--source', NAME, '--json']);
    expectCode(r, 0);
    const res = one<FailoverLine>(r, 'failback');
    expect(res).toMatchObject({ direction: 'failback', switched: true, after: { generation: 2, active: 'primary' } });
    expect(res.catchUp?.ok).toBe(true);
    const now = await configured();
    expect(now.source).toEqual(endpoint(source, 'source.json'));
    expect(now.standby).toEqual(endpoint(standby, 'standby.json'));
    expect(now.identity).toEqual({ domains: { [SOURCE_DOMAIN]: STANDBY_DOMAIN } });

    const before = expectSameHoldings(source, standby);
    source.mutate.deliver(source.users[1] as string, { from: 'partner@example.org', subject: 'Nach dem Failback', text: 'back on the original primary' });
    expectCleanCycle(await cli(['cycle', '--json']));
    const after = expectSameHoldings(source, standby);
    expect(total(after.messages)).toBe(total(before.messages) + 1);
    expect(total(after.files)).toBe(total(before.files));
    expect(importedBy(expectCleanCycle(await cli(['cycle', '--json'])))).toBe(0);
    expect(source.stats().notificationEmails + standby.stats().notificationEmails).toBe(0);
  }, 90_000);
});
