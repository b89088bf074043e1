/**
 * The CLI end to end: a source and a standby domain (emulators), `norestore init` and `cycle`,
 * changes at the source, a second `cycle`, then an independent check of the standby with googleapis
 * (not through the connector).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor } from '../../test/helpers/google-clients.js';
import { NATIVE, startGoogleEmulator, type GoogleEmulator } from '../../emulators/google/index.js';

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('norestore cycle with Google Workspace (CLI, emulated domains)', () => {
  let source: GoogleEmulator;
  let standby: GoogleEmulator;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    source = await startGoogleEmulator({ domain: 'acme.test', profile: 'small', seed: 7 });
    standby = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty' });
    dir = await mkdtemp(join(tmpdir(), 'norestore-google-cli-'));
    const key = async (emu: GoogleEmulator, name: string) => {
      const file = join(dir, `${name}.json`);
      await writeFile(file, JSON.stringify(emu.credentials.serviceAccount), { mode: 0o600 });
      return file;
    };
    config = join(dir, 'norestore.yaml');
    await writeFile(
      config,
      [
        'version: 1',
        'storage: { type: fs, path: ./repo }',
        'sources:',
        '  - name: acme-google',
        '    service: google',
        '    source:',
        '      domain: acme.test',
        '      adminUser: admin@acme.test',
        `      serviceAccount: { keyFile: "file:${await key(source, 'src')}" }`,
        `      rootUrl: ${source.rootUrl}`,
        `      tokenUrl: ${source.tokenUrl}`,
        '    standby:',
        '      domain: acme-dr.test',
        '      adminUser: admin@acme-dr.test',
        '      serviceAccount:',
        `        clientEmail: ${standby.credentials.serviceAccount.client_email}`,
        `        privateKey: "file:${join(dir, 'standby.pem')}"`,
        `      rootUrl: ${standby.rootUrl}`,
        `      tokenUrl: ${standby.tokenUrl}`,
        '    identity:',
        '      users:',
        '        jose.nunez@acme.test: jose@acme-dr.test',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'standby.pem'), standby.credentials.serviceAccount.private_key, { mode: 0o600 });
  });
  afterAll(async () => {
    await source?.stop();
    await standby?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exports, imports and verifies, follows changes on the next cycle, and the standby holds the data', async () => {
    expect((await cli(['init', '--config', config])).code).toBe(0);
    const first = await cli(['cycle', '--config', config, '--json']);
    expect(first.code, first.out).toBe(0);
    expect(first.out).not.toMatch(/PRIVATE KEY|ya29\./);

    // Changes at the source.
    const zoe = source.users[1] as string;
    const m = source.mutate;
    const raw = Buffer.from('From: "Ana" <ana@example.pt>\r\nTo: zoe.angstrom@acme.test\r\nSubject: =?UTF-8?B?T2zDoSwgbWVuc2FnZW0gbm92YQ==?=\r\nDate: Wed, 03 Jul 2024 10:00:00 +0000\r\nMessage-ID: <cli-new-1@example.pt>\r\n\r\nNova mensagem.\r\n');
    m.deliverRaw(zoe, raw, ['INBOX', 'UNREAD', m.createLabel(zoe, 'Kunden/Portugal')], Date.UTC(2024, 6, 3, 10, 5));
    const gone = m.messageIds(zoe)[3] as string;
    const goneRfc = (source.state.mailboxes.get(zoe)?.messages.get(gone)?.rfcId) as string;
    m.deleteMessage(zoe, gone);
    const doc = m.listFiles({ owner: zoe }).find((f) => f.mimeType === NATIVE.document) as { id: string };
    m.renameFile(doc.id, 'Protokoll — final');
    await m.updateContent(doc.id, 'Protokoll\nBeschlüsse: alles gut');
    const events = m.eventIds(zoe);
    m.updateEvent(zoe, events[0] as string, { summary: 'Weekly sync (neu)' });
    const jose = source.users[2] as string;
    const shared = m.listFiles({ owner: jose })[0] as { id: string; name: string };
    m.share(shared.id, { type: 'user', role: 'writer', email: zoe });

    const second = await cli(['cycle', '--config', config, '--json']);
    expect(second.code, second.out).toBe(0);

    // Independent check with googleapis against the standby.
    const z = clientsFor(standby, 'zoe.angstrom@acme-dr.test');
    const found = await z.gmail.users.messages.list({ userId: 'me', q: 'rfc822msgid:cli-new-1@example.pt' });
    expect(found.data.messages?.length).toBe(1);
    const got = await z.gmail.users.messages.get({ userId: 'me', id: found.data.messages?.[0]?.id as string, format: 'raw' });
    expect(Buffer.from(got.data.raw as string, 'base64url').equals(raw)).toBe(true);
    expect(got.data.internalDate).toBe(String(Date.UTC(2024, 6, 3, 10, 0)));
    const labels = await z.gmail.users.labels.list({ userId: 'me' });
    const kunden = labels.data.labels?.find((l) => l.name === 'Kunden/Portugal');
    expect(got.data.labelIds?.sort()).toEqual(['INBOX', 'UNREAD', kunden?.id].sort());
    expect((await z.gmail.users.messages.list({ userId: 'me', q: `rfc822msgid:${goneRfc}`, includeSpamTrash: true })).data.resultSizeEstimate).toBe(0);
    const srcCount = source.state.mailboxes.get(zoe)?.messages.size;
    expect((await z.gmail.users.getProfile({ userId: 'me' })).data.messagesTotal).toBe(srcCount);

    const files = await z.drive.files.list({ q: "name = 'Protokoll — final'", fields: 'files(id,mimeType,appProperties)' });
    expect(files.data.files?.[0]?.mimeType).toBe(NATIVE.document);
    const text = await z.drive.files.export({ fileId: files.data.files?.[0]?.id as string, mimeType: 'text/plain' }, { responseType: 'text' });
    expect(text.data).toBe('Protokoll\nBeschlüsse: alles gut');
    const ev = await z.calendar.events.list({ calendarId: 'primary', q: 'Weekly sync (neu)' });
    expect(ev.data.items?.length).toBe(1);
    // jose.nunez maps to jose@acme-dr.test (identity override); his file is shared with zoe's standby address.
    const j = clientsFor(standby, 'jose@acme-dr.test');
    const jf = await j.drive.files.list({ q: `name = '${shared.name.replace(/'/g, "\\'")}'`, fields: 'files(id,permissions(emailAddress,role))' });
    expect(jf.data.files?.[0]?.permissions?.map((p) => `${p.role}:${p.emailAddress}`)).toContain('writer:zoe.angstrom@acme-dr.test');
    // Restoring sent no notification emails.
    expect(standby.stats().notificationEmails).toBe(0);
    // Nothing else appeared at the source: the standby got no duplicates (a third cycle changes nothing).
    const third = await cli(['cycle', '--config', config, '--json']);
    expect(third.code, third.out).toBe(0);
    const result = third.out.split('\n').filter((l) => l.includes('"event":"cycle"')).map((l) => JSON.parse(l) as { scopes: Array<{ exported?: number; imported?: number }> })[0];
    expect(result?.scopes.length).toBe(11);
    expect(result?.scopes.every((s) => s.exported === 0 && s.imported === 0)).toBe(true);
  });
});
