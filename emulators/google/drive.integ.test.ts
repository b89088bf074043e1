import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor } from '../../test/helpers/google-clients.js';
import { loadDiscovery } from './discovery.test-helpers.js';
import { NATIVE, OFFICE, startGoogleEmulator, type GoogleEmulator } from './index.js';
import { officeFromText, textFromOffice } from './ooxml.js';

const spec = loadDiscovery('drive-v3');
const errBody = (e: unknown) => (e as { response?: { status: number; data: unknown } }).response;
const FILE_FIELDS = 'id,name,mimeType,parents,driveId,size,md5Checksum,sha256Checksum,version,trashed,modifiedTime,createdTime,appProperties,owners,exportLinks,permissions';

describe('google emulator: Drive', () => {
  let emu: GoogleEmulator;
  let user: string;
  let c: ReturnType<typeof clientsFor>;
  beforeAll(async () => {
    emu = await startGoogleEmulator({ domain: 'acme.test', profile: 'small', exportLimitBytes: 64 * 1024 });
    user = emu.users[1] as string;
    c = clientsFor(emu, user);
  });
  afterAll(async () => emu?.stop());

  it('lists with q, fields, paging and corpora; shared drives need the all-drives flags', async () => {
    const mine = await c.drive.files.list({ q: "'me' in owners and trashed = false", fields: `nextPageToken,files(${FILE_FIELDS})`, pageSize: 3 });
    spec.assertResponse('drive.files.list', mine.data);
    expect(mine.data.files?.length).toBe(3);
    expect(Object.keys(mine.data)).toEqual(['nextPageToken', 'files']);
    const rest = await c.drive.files.list({ q: "'me' in owners and trashed = false", fields: 'files(id)', pageSize: 100, pageToken: mine.data.nextPageToken as string });
    expect((mine.data.files?.length ?? 0) + (rest.data.files?.length ?? 0)).toBe(7);
    const dflt = await c.drive.files.list({ pageSize: 1 });
    expect(Object.keys(dflt.data.files?.[0] ?? {}).sort()).toEqual(['id', 'kind', 'mimeType', 'name']);
    const folders = await c.drive.files.list({ q: `mimeType = '${NATIVE.folder}' and name contains 'alpha'`, fields: 'files(id,name,parents)' });
    expect(folders.data.files?.map((f) => f.name)).toEqual(['Alpha — Entwürfe']);
    const driveId = emu.sharedDrives[0] as string;
    expect((await c.drive.files.list({ corpora: 'drive', driveId }).catch(errBody))?.status).toBe(403);
    const inDrive = await c.drive.files.list({ corpora: 'drive', driveId, includeItemsFromAllDrives: true, supportsAllDrives: true, fields: 'files(id,name,driveId,parents)' });
    expect(inDrive.data.files?.map((f) => f.name).sort()).toEqual(['Architecture', 'README.txt', 'Specs', 'diagram.png']);
    expect(inDrive.data.files?.every((f) => f.driveId === driveId)).toBe(true);
    const stranger = clientsFor(emu, emu.users[2] as string);
    expect((await stranger.drive.files.list({ corpora: 'drive', driveId, includeItemsFromAllDrives: true, supportsAllDrives: true }).catch(errBody))?.status).toBe(200);
    const drives = await c.drive.drives.list({});
    spec.assertResponse('drive.drives.list', drives.data);
    expect(drives.data.drives?.map((d) => d.id)).toEqual([driveId]);
    expect((await c.drive.files.list({ q: "fullText contains 'x'" }).catch(errBody))?.status).toBe(400);
  });

  it('downloads binary content (with ranges) and exports native documents within the export limit', async () => {
    const files = await c.drive.files.list({ q: "'me' in owners", fields: `files(${FILE_FIELDS})` });
    const pdf = files.data.files?.find((f) => f.mimeType === 'application/pdf');
    const got = await c.drive.files.get({ fileId: pdf?.id as string, alt: 'media' }, { responseType: 'arraybuffer' });
    const bytes = Buffer.from(got.data as unknown as ArrayBuffer);
    expect(bytes.length).toBe(Number(pdf?.size));
    expect(createHash('md5').update(bytes).digest('hex')).toBe(pdf?.md5Checksum);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(pdf?.sha256Checksum);
    const token = (await c.auth.getAccessToken()).token as string;
    const part = await fetch(`${emu.rootUrl}drive/v3/files/${pdf?.id}?alt=media`, { headers: { Authorization: `Bearer ${token}`, Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
    const doc = files.data.files?.find((f) => f.mimeType === NATIVE.document);
    expect(Object.keys(doc?.exportLinks ?? {})).toContain(OFFICE.docx);
    expect((await c.drive.files.get({ fileId: doc?.id as string, alt: 'media' }).catch(errBody))?.status).toBe(403);
    const docx = await c.drive.files.export({ fileId: doc?.id as string, mimeType: OFFICE.docx }, { responseType: 'arraybuffer' });
    expect(textFromOffice(Buffer.from(docx.data as unknown as ArrayBuffer))).toMatch(/^Meeting notes 0\n/);
    expect((await c.drive.files.export({ fileId: doc?.id as string, mimeType: 'image/png' }).catch(errBody))?.status).toBe(400);
    const big = await emu.mutate.createFile(user, { name: 'Huge doc', mimeType: NATIVE.document, text: 'x'.repeat(200_000) });
    const tooBig = await c.drive.files.export({ fileId: big, mimeType: 'text/plain' }).catch(errBody);
    expect(tooBig?.status).toBe(403);
    expect(tooBig?.data).toMatchObject({ error: { errors: [{ reason: 'exportSizeLimitExceeded' }] } });
  });

  it('creates folders and files (multipart, resumable with the 256 KiB rule, Office conversion) with writable times and appProperties', async () => {
    const folder = await c.drive.files.create({ requestBody: { name: 'Import', mimeType: NATIVE.folder, appProperties: { src: 'F1' } }, fields: 'id,name,mimeType,parents,appProperties' });
    spec.assertResponse('drive.files.create', folder.data);
    const content = Buffer.from('hello, world');
    const mp = await c.drive.files.create({ requestBody: { name: 'a.txt', parents: [folder.data.id as string], modifiedTime: '2020-01-02T03:04:05.000Z', appProperties: { src: 'A1' } }, media: { mimeType: 'text/plain', body: Readable.from([content]) }, fields: FILE_FIELDS }, c.upload);
    expect(mp.data).toMatchObject({ name: 'a.txt', size: '12', parents: [folder.data.id], modifiedTime: '2020-01-02T03:04:05.000Z', appProperties: { src: 'A1' } });
    const found = await c.drive.files.list({ q: "appProperties has { key='src' and value='A1' }", fields: 'files(id)' });
    expect(found.data.files?.map((f) => f.id)).toEqual([mp.data.id]);

    const token = (await c.auth.getAccessToken()).token as string;
    const total = 600 * 1024 + 7;
    const data = Buffer.alloc(total, 7);
    data.write('header', 0);
    const start = await fetch(`${emu.rootUrl}upload/drive/v3/files?uploadType=resumable&fields=id,size,md5Checksum`, {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json; charset=UTF-8', 'X-Upload-Content-Type': 'application/octet-stream', 'X-Upload-Content-Length': String(total) },
      body: JSON.stringify({ name: 'big.bin', parents: [folder.data.id] }),
    });
    expect(start.status).toBe(200);
    const session = start.headers.get('location') as string;
    const put = (from: number, to: number) => fetch(session, { method: 'PUT', headers: { 'Content-Range': `bytes ${from}-${to - 1}/${total}` }, body: data.subarray(from, to) });
    const bad = await put(0, 1000);
    expect(bad.status).toBe(400);
    const r1 = await put(0, 256 * 1024);
    expect(r1.status).toBe(308);
    expect(r1.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);
    const status = await fetch(session, { method: 'PUT', headers: { 'Content-Range': `bytes */${total}` } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${256 * 1024 - 1}`);
    const r2 = await put(256 * 1024, 512 * 1024);
    expect(r2.status).toBe(308);
    const r3 = await put(512 * 1024, total);
    expect(r3.status).toBe(200);
    const made = (await r3.json()) as { id: string; size: string; md5Checksum: string };
    expect(made.size).toBe(String(total));
    expect(made.md5Checksum).toBe(createHash('md5').update(data).digest('hex'));

    const docx = officeFromText(NATIVE.document, 'Converted\nÜberschrift');
    const conv = await c.drive.files.create({ requestBody: { name: 'Converted', mimeType: NATIVE.document }, media: { mimeType: OFFICE.docx, body: Readable.from([docx]) }, fields: 'id,mimeType,size' }, c.upload);
    expect(conv.data.mimeType).toBe(NATIVE.document);
    const back = await c.drive.files.export({ fileId: conv.data.id as string, mimeType: 'text/plain' }, { responseType: 'text' });
    expect(back.data).toBe('Converted\nÜberschrift');

    const upd = await c.drive.files.update({ fileId: mp.data.id as string, requestBody: { name: 'b.txt' }, media: { mimeType: 'text/plain', body: Readable.from([Buffer.from('v2')]) }, fields: 'name,size,version' }, c.upload);
    expect(upd.data).toMatchObject({ name: 'b.txt', size: '2' });
    expect(Number(upd.data.version)).toBeGreaterThan(Number(mp.data.version));
  });

  it('shares without notification, lists permissions and reports changes with removals and page tokens', async () => {
    const startTok = await c.drive.changes.getStartPageToken({});
    spec.assertResponse('drive.changes.getStartPageToken', startTok.data);
    const f = await emu.mutate.createFile(user, { name: 'shared.bin', content: Buffer.from('x') });
    const before = emu.stats().notificationEmails;
    const p = await c.drive.permissions.create({ fileId: f, sendNotificationEmail: false, requestBody: { type: 'user', role: 'writer', emailAddress: emu.users[2] as string }, fields: 'id,type,role,emailAddress' });
    spec.assertResponse('drive.permissions.create', p.data);
    expect(emu.stats().notificationEmails).toBe(before);
    await c.drive.permissions.create({ fileId: f, requestBody: { type: 'user', role: 'reader', emailAddress: 'ext@example.com' } });
    expect(emu.stats().notificationEmails).toBe(before + 1);
    const ghost = await c.drive.permissions.create({ fileId: f, sendNotificationEmail: false, requestBody: { type: 'user', role: 'reader', emailAddress: 'ghost@acme.test' } }).catch(errBody);
    expect(ghost?.status).toBe(400);
    const perms = await c.drive.permissions.list({ fileId: f, fields: 'permissions(id,type,role,emailAddress)' });
    spec.assertResponse('drive.permissions.list', perms.data);
    expect(perms.data.permissions?.map((x) => `${x.role}:${x.emailAddress}`)).toEqual([`owner:${user}`, `writer:${emu.users[2]}`, 'reader:ext@example.com']);
    const gone = await emu.mutate.createFile(user, { name: 'gone.bin', content: Buffer.from('y') });
    await c.drive.files.delete({ fileId: gone });
    const ch = await c.drive.changes.list({ pageToken: startTok.data.startPageToken as string, fields: 'nextPageToken,newStartPageToken,changes(fileId,removed,file(id,name))', pageSize: 1 });
    spec.assertResponse('drive.changes.list', ch.data);
    expect(ch.data.changes?.length).toBe(1);
    expect(ch.data.nextPageToken).toBeTruthy();
    const ch2 = await c.drive.changes.list({ pageToken: ch.data.nextPageToken as string, fields: 'nextPageToken,newStartPageToken,changes(fileId,removed,file(id,name))' });
    expect(ch2.data.newStartPageToken).toBeTruthy();
    const all = [...(ch.data.changes ?? []), ...(ch2.data.changes ?? [])];
    expect(all.find((x) => x.fileId === gone)?.removed).toBe(true);
    expect(all.find((x) => x.fileId === f)?.file?.name).toBe('shared.bin');
    // The other user sees the shared file in their feed; after unsharing, as removed.
    const other = clientsFor(emu, emu.users[2] as string);
    const oStart = (await other.drive.changes.getStartPageToken({})).data.startPageToken as string;
    await c.drive.permissions.delete({ fileId: f, permissionId: p.data.id as string });
    const oCh = await other.drive.changes.list({ pageToken: oStart });
    expect(oCh.data.changes?.map((x) => [x.fileId, x.removed])).toEqual([[f, true]]);
    const fresh = await c.drive.changes.list({ pageToken: ch2.data.newStartPageToken as string });
    expect(fresh.data.changes?.map((x) => x.fileId)).toEqual([f]);
    expect((await c.drive.changes.list({ pageToken: 'bogus' }).catch(errBody))?.status).toBe(400);
    // Shared drive feed.
    const driveId = emu.sharedDrives[0] as string;
    const admin = clientsFor(emu, emu.users[0] as string);
    const dStart = await admin.drive.changes.getStartPageToken({ driveId, supportsAllDrives: true });
    await emu.mutate.createFile(emu.users[0] as string, { name: 'new-in-drive.txt', parentId: driveId, content: Buffer.from('z') });
    const dCh = await admin.drive.changes.list({ driveId, supportsAllDrives: true, includeItemsFromAllDrives: true, pageToken: dStart.data.startPageToken as string, fields: 'newStartPageToken,changes(fileId,driveId,file(name))' });
    expect(dCh.data.changes?.map((x) => x.file?.name)).toEqual(['new-in-drive.txt']);
    const created = await admin.drive.drives.create({ requestId: 'req-1', requestBody: { name: 'Restored' } });
    spec.assertResponse('drive.drives.create', created.data);
    expect((await admin.drive.drives.create({ requestId: 'req-1', requestBody: { name: 'Restored' } }).catch(errBody))?.status).toBe(409);
  });
});
