/**
 * CLI level, end to end: a source and a standby Microsoft 365 emulator, `norestore init` and
 * `norestore cycle` of the built CLI, mutations at the source, a second cycle, then an independent
 * check of the standby with the Graph SDK (not the connector): every message in the same folder
 * with the same read state, dates and attachments and not a draft, every file with the same bytes
 * (quickXorHash) and times, every event without attendees and no invitation sent, every contact.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../../emulators/microsoft/index.js';
import { graphClientFor } from '../../emulators/microsoft/testkit.js';
import { writeCliConfig } from '../../test/helpers/microsoft-fixture.js';

type Raw = Record<string, unknown>;

let source: MicrosoftEmulator;
let standby: MicrosoftEmulator;
let dir: string;
let cli: { configFile: string; source: string; env: Record<string, string> };

function norestore(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), ...args, '--config', cli.configFile, '--json'], { env: { ...process.env, ...cli.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function all(g: Client, url: string): Promise<Raw[]> {
  const out: Raw[] = [];
  for (let page: Raw = await g.api(url).get(); ; page = await g.api(page['@odata.nextLink'] as string).get()) {
    out.push(...(page.value as Raw[]));
    if (!page['@odata.nextLink']) return out;
  }
}

/** Everything the check compares, read from one tenant with the Graph SDK, keyed by paths and natural keys. */
async function snapshot(g: Client, upn: string): Promise<{ mail: Record<string, Raw>; files: Record<string, Raw>; events: Record<string, Raw>; contacts: string[] }> {
  const user = (await g.api(`/users/${upn}`).get()) as { id: string };
  const uid = user.id;
  const mail: Record<string, Raw> = {};
  const root = (await g.api(`/users/${uid}/mailFolders/msgfolderroot`).get()) as { id: string };
  const walk = async (fid: string, path: string): Promise<void> => {
    for (const f of await all(g, `/users/${uid}/mailFolders/${fid}/childFolders?$top=100`)) {
      const p = `${path}/${String(f.displayName)}`;
      for (const m of await all(g, `/users/${uid}/mailFolders/${String(f.id)}/messages?$top=100`)) {
        const atts = m.hasAttachments ? (await all(g, `/users/${uid}/messages/${String(m.id)}/attachments`)).map((a) => `${String(a.name)}:${String(a.size)}`).sort() : [];
        mail[String(m.internetMessageId)] = { folder: p, subject: m.subject, isRead: m.isRead, isDraft: m.isDraft, received: m.receivedDateTime, sent: m.isDraft ? null : m.sentDateTime, atts };
      }
      await walk(String(f.id), p);
    }
  };
  await walk(root.id, '');
  const files: Record<string, Raw> = {};
  const tree = async (id: string, path: string): Promise<void> => {
    for (const it of await all(g, `/users/${uid}/drive/items/${id}/children`)) {
      const p = `${path}/${String(it.name)}`;
      const fsi = it.fileSystemInfo as Raw;
      if (it.folder) {
        files[p] = { folder: true, created: fsi.createdDateTime, modified: fsi.lastModifiedDateTime };
        await tree(String(it.id), p);
      } else files[p] = { size: it.size, hash: (it.file as { hashes: { quickXorHash: string } }).hashes.quickXorHash, created: fsi.createdDateTime, modified: fsi.lastModifiedDateTime };
    }
  };
  await tree(((await g.api(`/users/${uid}/drive/root`).get()) as { id: string }).id, '');
  const events: Record<string, Raw> = {};
  for (const e of await all(g, `/users/${uid}/events?$top=100`)) {
    events[String(e.subject)] = { start: (e.start as Raw).dateTime, end: (e.end as Raw).dateTime, recurrence: (e.recurrence as { pattern?: { type?: string } } | undefined)?.pattern?.type ?? null, attendees: (e.attendees as unknown[]).length };
  }
  const contacts = (await all(g, `/users/${uid}/contacts?$top=100`)).map((c) => String(c.displayName));
  for (const f of await all(g, `/users/${uid}/contactFolders`)) for (const c of await all(g, `/users/${uid}/contactFolders/${String(f.id)}/contacts`)) contacts.push(`${String(f.displayName)}/${String(c.displayName)}`);
  return { mail, files, events, contacts: contacts.sort() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-m365-cli-'));
  source = await startMicrosoftEmulator({ seed: { profile: 'small', users: 2 }, domain: 'contoso.onmicrosoft.com' });
  standby = await startMicrosoftEmulator({ seed: { profile: 'empty', users: 2 }, domain: 'fabrikam.onmicrosoft.com', seedNumber: 5 });
  cli = await writeCliConfig(join(dir, 'repo'), source, standby);
});

afterAll(async () => {
  await source?.stop();
  await standby?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('norestore cycle with Microsoft 365 (CLI, emulated tenants)', () => {
  it('replicates the source into the standby, follows changes, sends no invitation', async () => {
    const init = await norestore(['init']);
    expect(init.code, init.out).toBe(0);
    const first = await norestore(['cycle', '--source', 'm365']);
    expect(first.code, first.out).toBe(0);

    const upn = source.users[0]?.userPrincipalName as string;
    const m = source.mutate;
    const inbox = m.messages(upn, 'inbox').sort((a, b) => a.id.localeCompare(b.id));
    m.deliverMessage(upn, { subject: 'Nach dem ersten Zyklus – neu', attachmentBytes: 5000 });
    m.setRead(upn, inbox[0]?.id as string, !inbox[0]?.isRead);
    m.deleteMessage(upn, inbox[1]?.id as string);
    m.moveMessage(upn, inbox[2]?.id as string, 'archive');
    m.addMailFolder(upn, 'msgfolderroot', 'Neu nach Zyklus 1');
    m.writeFile(upn, 'Documents/after-first-cycle.bin', 700_000);
    m.writeFile(upn, 'README.txt', Buffer.from('changed after the first cycle\n'));
    m.deleteDriveItem(upn, 'Fotos – Sommer');
    m.addEvent(upn, { subject: 'Added after cycle 1', startMs: Date.UTC(2026, 5, 1, 9), weeklyCount: 3 });
    m.deleteEvent(upn, (m.events(upn).find((e) => !e.recurrence && e.attendees.length === 0) as { id: string }).id);
    m.addContact(upn, 'Neu', 'Kontakt', 'neu.kontakt@example.com');

    const second = await norestore(['cycle', '--source', 'm365']);
    expect(second.code, second.out).toBe(0);
    const check = await norestore(['check', '--read-data']);
    expect(check.code, check.out).toBe(0);

    const gs = graphClientFor(source);
    const gb = graphClientFor(standby);
    for (const u of source.users) {
      const want = await snapshot(gs, u.userPrincipalName);
      const got = await snapshot(gb, u.userPrincipalName.replace('contoso.onmicrosoft.com', 'fabrikam.onmicrosoft.com'));
      expect(Object.keys(want.mail).length).toBeGreaterThan(5);
      expect(got.mail).toEqual(want.mail);
      expect(Object.values(got.mail).some((x) => x.isDraft === true)).toBe(true); // the draft stays a draft
      expect(got.files).toEqual(want.files);
      expect(Object.keys(got.events).sort()).toEqual(Object.keys(want.events).sort());
      for (const [subject, e] of Object.entries(got.events)) {
        expect({ ...e, attendees: 0 }, subject).toEqual({ ...want.events[subject], attendees: 0 });
        expect(e.attendees, `${subject}: attendees on the standby would have been invited`).toBe(0);
      }
      expect(got.contacts).toEqual(want.contacts);
    }
    expect(standby.invitations()).toEqual([]);
    expect(standby.stats().mailboxes).not.toEqual({});
    for (const [key, c] of Object.entries(standby.stats().mailboxes)) expect(c.peakConcurrency, key).toBeLessThanOrEqual(4);
  }, 300_000);
});
