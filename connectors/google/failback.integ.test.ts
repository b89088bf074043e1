/**
 * Replication the other way after a failover: the standby domain becomes the source and the old
 * primary the standby, with fresh id maps and the identity map reversed. Natural keys (address,
 * label name, Message-ID, name + parent folder, shared drive name, iCalUID) must adopt the
 * originals instead of duplicating them, the originals stay untouched where they already match,
 * and verification must find the two domains equal. A change made on the new primary arrives in
 * the old one exactly once; a further cycle imports nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE, startGoogleEmulator, type GoogleEmulator } from '../../emulators/google/index.js';
import type { ImportResult, ScopeRef } from '../../src/model/connector.js';
import { MemoryScopeStore, quietLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { createGoogleConnector, type GoogleConnector, type GoogleTenant } from './index.js';

const tenant = (emu: GoogleEmulator): GoogleTenant => ({
  domain: emu.domain,
  adminUser: emu.credentials.adminUser,
  serviceAccount: { clientEmail: emu.credentials.serviceAccount.client_email, privateKey: emu.credentials.serviceAccount.private_key },
  rootUrl: emu.rootUrl,
  tokenUrl: emu.tokenUrl,
});

let a: GoogleEmulator;
let b: GoogleEmulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-google-failback-'));
  a = await startGoogleEmulator({ domain: 'acme.test', profile: 'small', seed: 3 });
  b = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty' });
  // The standby domain holds the same people under its own domain (as a prepared standby does).
  for (const u of a.users.slice(1)) {
    const src = a.state.users.get(u);
    b.mutate.addUser({ local: u.split('@')[0] as string, givenName: src?.name?.givenName ?? 'x', familyName: src?.name?.familyName ?? 'x' });
  }
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Items per kind in a domain, as the service holds them (white box). */
function counts(e: GoogleEmulator) {
  const s = e.state;
  const roots = new Set(s.drive.roots.values());
  const files = [...s.drive.files.values()].filter((f) => !f.trashed && !roots.has(f.id) && !s.drive.drives.has(f.id));
  const events = [...s.calendar.calendars.values()].flatMap((c) => [...c.events.values()]).filter((ev) => ev.r.status !== 'cancelled');
  return {
    users: s.users.size,
    groups: s.groups.size,
    members: [...s.groups.values()].reduce((n, g) => n + g.members.size, 0),
    labels: [...s.mailboxes.values()].reduce((n, mb) => n + [...mb.labels.values()].filter((l) => l.type === 'user').length, 0),
    messages: [...s.mailboxes.values()].reduce((n, mb) => n + mb.messages.size, 0),
    sharedDrives: s.drive.drives.size,
    folders: files.filter((f) => f.mimeType === NATIVE.folder).length,
    files: files.filter((f) => f.mimeType !== NATIVE.folder).length,
    permissions: files.reduce((n, f) => n + f.permissions.length, 0),
    calendars: [...s.calendar.calendars.values()].filter((c) => !c.primary).length,
    events: events.length,
  };
}

/** A snapshot of the originals (content, metadata, versions, labels), but for the items named in `except`. */
function originals(e: GoogleEmulator, except: Set<string> = new Set()): string {
  const s = e.state;
  const files = [...s.drive.files.values()].filter((f) => !except.has(f.id)).map((f) => [f.id, f.name, f.version, f.modifiedTime, f.text ?? '', f.content?.sha256 ?? '', JSON.stringify(f.appProperties), f.permissions.length]);
  const events = [...s.calendar.calendars.values()].flatMap((c) => [...c.events.values()].filter((ev) => !except.has(ev.r.id as string)).map((ev) => [ev.r.id, ev.r.updated, ev.r.sequence]));
  const mail = [...s.mailboxes.values()].flatMap((mb) => [...mb.messages.values()].filter((m) => !except.has(m.id)).map((m) => [m.id, [...m.labelIds].sort().join(',')]));
  const labels = [...s.mailboxes.values()].flatMap((mb) => [...mb.labels.values()].map((l) => JSON.stringify(l)));
  const calendars = [...s.calendar.calendars.values()].map((c) => [c.id, c.summary, c.description ?? '', c.timeZone]);
  const directory = [...s.users.values()].map((u) => JSON.stringify(u)).concat([...s.groups.values()].map((g) => JSON.stringify([g.group, [...g.members.values()]])));
  return JSON.stringify({ files, events, mail, labels, calendars, directory, drives: [...s.drive.drives.values()].map((d) => JSON.stringify(d)) });
}

interface Cycle {
  connector: GoogleConnector;
  stores: Map<string, MemoryScopeStore>;
}

async function cycle(c: Cycle, tag: string): Promise<Record<string, ImportResult>> {
  const out: Record<string, ImportResult> = {};
  const scopes: ScopeRef[] = await c.connector.scopes();
  for (const s of scopes) {
    let st = c.stores.get(s.id);
    if (!st) c.stores.set(s.id, (st = new MemoryScopeStore()));
    const work = join(dir, tag, s.id);
    await runExport(c.connector, s, st, work);
    const res = await runImport(c.connector, s, st, work);
    expect(res.failed, `${tag} ${s.id}`).toEqual([]);
    out[s.id] = res;
    const v = await runVerify(c.connector, s, st, work);
    expect(v.findings.map((f) => `${f.type} ${f.kind} ${f.id} ${(f.fields ?? []).join(',')}`), `${tag} ${s.id}`).toEqual([]);
  }
  return out;
}

const imported = (r: Record<string, ImportResult>) => Object.values(r).reduce((n, x) => n + x.imported + x.deleted, 0);

describe('Google replication reversed after a failover', () => {
  it('adopts the originals by natural key: nothing duplicated or touched, both domains verify equal, a change on the new primary arrives once', async () => {
    const forward: Cycle = { connector: createGoogleConnector({ source: tenant(a), standby: tenant(b), identity: { domains: { 'acme.test': 'acme-dr.test' } }, log: quietLogger, retryBaseMs: 10 }), stores: new Map() };
    try {
      await cycle(forward, 'fwd');
    } finally {
      await forward.connector.close();
    }
    const before = counts(a);
    expect(counts(b)).toEqual(before);
    expect(before.sharedDrives).toBeGreaterThan(0);
    expect(before.events).toBeGreaterThan(0);

    // On the new primary, before the reversed replication runs: a binary file gets new content, a
    // native document is renamed, an event is moved to another time, a message is starred. The
    // originals of those must be updated in place (same ids); every other original stays untouched.
    const au = a.users[1] as string;
    const user = au.replace('@acme.test', '@acme-dr.test');
    const bFile = (pred: (f: { name: string; mimeType: string }) => boolean) => {
      const f = b.mutate.listFiles({ owner: user }).find(pred);
      if (!f) throw new Error('seed lacks a file for this test');
      return { id: f.id, original: b.state.drive.files.get(f.id)?.appProperties.nrSrc as string };
    };
    const binary = bFile((f) => f.mimeType === 'application/pdf');
    await b.mutate.updateContent(binary.id, Buffer.from('%PDF-1.7\nchanged on the new primary\n'));
    const doc = bFile((f) => f.mimeType === NATIVE.document);
    b.mutate.renameFile(doc.id, 'Renamed after the failover');
    const bEvent = [...(b.state.calendar.calendars.get(user)?.events.values() ?? [])].find((ev) => !ev.r.recurrence && ev.r.start?.dateTime);
    const aEvent = [...(a.state.calendar.calendars.get(au)?.events.values() ?? [])].find((ev) => ev.r.iCalUID === bEvent?.r.iCalUID);
    b.mutate.updateEvent(user, bEvent?.r.id as string, { summary: 'Moved after the failover', start: { dateTime: '2024-07-01T13:00:00Z' }, end: { dateTime: '2024-07-01T14:00:00Z' } });
    const bMsg = [...(b.state.mailboxes.get(user)?.messages.values() ?? [])].find((m) => !m.labelIds.has('STARRED') && !m.labelIds.has('SPAM'));
    const aMsg = [...(a.state.mailboxes.get(au)?.messages.values() ?? [])].find((m) => m.rfcId === bMsg?.rfcId);
    b.mutate.modifyLabels(user, bMsg?.id as string, ['STARRED'], []);
    const changed = new Set([binary.original, doc.original, aEvent?.r.id as string, aMsg?.id as string]);
    expect(changed.size).toBe(4);
    const untouched = originals(a, changed);

    const backward: Cycle = { connector: createGoogleConnector({ source: tenant(b), standby: tenant(a), identity: { domains: { 'acme-dr.test': 'acme.test' } }, log: quietLogger, retryBaseMs: 10 }), stores: new Map() };
    try {
      await cycle(backward, 'back1');
      expect(counts(a)).toEqual(before);
      expect(originals(a, changed)).toBe(untouched);
      expect(a.state.drive.files.get(binary.original)?.content?.sha256).toBe(b.state.drive.files.get(binary.id)?.content?.sha256);
      expect(a.state.drive.files.get(doc.original)?.name).toBe('Renamed after the failover');
      expect(a.state.calendar.calendars.get(au)?.events.get(aEvent?.r.id as string)?.r.summary).toBe('Moved after the failover');
      expect(a.state.mailboxes.get(au)?.messages.get(aMsg?.id as string)?.labelIds.has('STARRED')).toBe(true);

      // Changes on the new primary: a message, a file in a folder, an event.
      b.mutate.deliver(user, { from: 'partner@example.org', subject: 'Nach dem Failover', text: 'Neu auf dem Standby.' });
      const folder = b.mutate.listFiles({ owner: user }).find((f) => f.mimeType === NATIVE.folder && f.name === 'Finance');
      expect(folder).toBeTruthy();
      await b.mutate.createFile(user, { name: 'after-failover.txt', mimeType: 'text/plain', content: Buffer.from('written on the standby\n'), parentId: folder?.id });
      b.mutate.createEvent(user, { summary: 'Failback planning', start: { dateTime: '2024-06-03T09:00:00Z' }, end: { dateTime: '2024-06-03T10:00:00Z' } });

      const second = await cycle(backward, 'back2');
      expect(imported(second)).toBe(3);
      expect(counts(a)).toEqual({ ...before, messages: before.messages + 1, files: before.files + 1, events: before.events + 1 });
      expect(a.mutate.listFiles({ owner: au }).filter((f) => f.name === 'after-failover.txt')).toHaveLength(1);

      // Idempotent: nothing more to do.
      expect(imported(await cycle(backward, 'back3'))).toBe(0);
      expect(counts(a)).toEqual({ ...before, messages: before.messages + 1, files: before.files + 1, events: before.events + 1 });
    } finally {
      await backward.connector.close();
    }
    expect(a.stats().notificationEmails).toBe(0);
    expect(b.stats().notificationEmails).toBe(0);
  });
});
