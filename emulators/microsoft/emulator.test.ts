import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { startMicrosoftEmulator, type MicrosoftEmulator } from './index.js';
import { loadGraphSpec } from './graph-spec.testkit.js';
import { graphClientFor, httpsTransport, msalFor, tokenFor, type Transport } from './testkit.js';
import { quickXorBase64 } from './quickxor.js';
import { parseFaultSpec } from './faults.js';

const mail = loadGraphSpec('Mail');
const cal = loadGraphSpec('Calendar');
const contacts = loadGraphSpec('PersonalContacts');

let emu: MicrosoftEmulator;
let g: Client;
let http: Transport;
let token: string;
let uid: string;
let upn: string;

async function all(first: Record<string, unknown>, next: (link: string) => Promise<Record<string, unknown>>): Promise<{ items: Array<Record<string, unknown>>; deltaLink: string; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  let page = first;
  let pages = 0;
  for (;;) {
    pages++;
    expect('@odata.nextLink' in page && '@odata.deltaLink' in page, 'nextLink and deltaLink on one page').toBe(false);
    items.push(...(page.value as Array<Record<string, unknown>>));
    if (typeof page['@odata.nextLink'] === 'string') page = await next(page['@odata.nextLink']);
    else break;
  }
  return { items, deltaLink: page['@odata.deltaLink'] as string, pages };
}

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const url = path.startsWith('https://') ? path : `${emu.graphBaseUrl}/v1.0${path}`;
  const r = await http(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? null : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  emu = await startMicrosoftEmulator({ seed: 'small' });
  g = graphClientFor(emu);
  http = httpsTransport(emu.caCertificate);
  token = await tokenFor(emu);
  const first = emu.users[0] as { id: string; userPrincipalName: string };
  uid = first.id;
  upn = first.userPrincipalName;
});
afterAll(async () => {
  await emu?.stop();
});

describe('identity platform (msal-node client credentials)', () => {
  it('issues tokens through a local authority and refuses a wrong secret', async () => {
    expect(token.split('.')).toHaveLength(3);
    const bad = msalFor({ ...emu, credentials: { clientId: emu.credentials.clientId, clientSecret: 'wrong' } });
    await expect(bad.acquireTokenByClientCredential({ scopes: [`${emu.graphBaseUrl}/.default`] })).rejects.toThrow(/invalid_client|AADSTS7000215/);
  });

  it('answers Graph without a token with 401 and a Graph error body', async () => {
    const r = await http(`${emu.graphBaseUrl}/v1.0/users`, { method: 'GET' });
    expect(r.status).toBe(401);
    const body = (await r.json()) as Record<string, unknown>;
    expect(mail.validateSchema('microsoft.graph.ODataErrors.ODataError', body)).toEqual([]);
    const inner = (body.error as { innerError: Record<string, string> }).innerError;
    expect(Object.keys(inner).sort()).toEqual(['client-request-id', 'date', 'request-id']);
    expect(r.headers.get('request-id')).toBe(inner['request-id']);
  });
});

describe('users', () => {
  it('lists users and follows them by delta', async () => {
    const list = await g.api('/users').get();
    expect(list.value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toContain(upn);
    const first = await all(await g.api('/users/delta').get(), (l) => g.api(l).get());
    expect(first.items.length).toBe(emu.users.length);
    emu.mutate.renameUser(upn, 'Adele V.');
    const second = await all(await g.api(first.deltaLink).get(), (l) => g.api(l).get());
    expect(second.items.map((u) => u.displayName)).toEqual(['Adele V.']);
    emu.mutate.expireDeltaTokens();
    const err = await g.api(second.deltaLink).get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).statusCode).toBe(400);
    expect((err as GraphError).code).toBe('syncStateNotFound');
  });
});

describe('mail', () => {
  it('serves folders and messages in the shapes of the Graph description', async () => {
    const top = await g.api(`/users/${uid}/mailFolders`).get();
    expect(mail.validate('get', '/users/{user-id}/mailFolders', top)).toEqual([]);
    expect(top.value.map((f: { displayName: string }) => f.displayName)).toEqual(expect.arrayContaining(['Inbox', 'Sent Items', 'Drafts', 'Receipts 2025']));
    const inbox = await g.api(`/users/${uid}/mailFolders/inbox`).get();
    expect(mail.validate('get', '/users/{user-id}/mailFolders/{mailFolder-id}', inbox)).toEqual([]);
    const kids = await g.api(`/users/${uid}/mailFolders/${inbox.id}/childFolders`).get();
    expect(mail.validate('get', '/users/{user-id}/mailFolders/{mailFolder-id}/childFolders', kids)).toEqual([]);
    expect(kids.value.map((f: { displayName: string }) => f.displayName)).toEqual(['Projects']);
    const msgs = await g.api(`/users/${uid}/mailFolders/${inbox.id}/messages`).top(50).get();
    expect(mail.validate('get', '/users/{user-id}/mailFolders/{mailFolder-id}/messages', msgs)).toEqual([]);
    const withAtt = (msgs.value as Array<{ id: string; hasAttachments: boolean }>).find((m) => m.hasAttachments);
    expect(withAtt).toBeDefined();
    const atts = await g.api(`/users/${uid}/messages/${withAtt?.id}/attachments`).get();
    expect(mail.validate('get', '/users/{user-id}/messages/{message-id}/attachments', atts)).toEqual([]);
    expect(atts.value[0]['@odata.type']).toBe('#microsoft.graph.fileAttachment');
    const one = await g.api(`/users/${uid}/messages/${withAtt?.id}`).get();
    expect(mail.validate('get', '/users/{user-id}/messages/{message-id}', one)).toEqual([]);
  });

  it('serves MIME by $value with encoded non-ASCII headers and attachments', async () => {
    const msgs = await g.api(`/users/${uid}/messages`).top(100).get();
    const m = (msgs.value as Array<{ id: string; subject: string; hasAttachments: boolean }>).find((x) => /[^\x20-\x7e]/.test(x.subject) && x.hasAttachments) ?? msgs.value[0];
    const res = (await g.api(`/users/${uid}/messages/${m.id}/$value`).responseType(ResponseType.RAW).get()) as Response;
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^Received: /);
    expect(text).toMatch(/\r\nMessage-ID: <seed-/);
    expect(text).toMatch(/\r\nMIME-Version: 1.0\r\n/);
    if (/[^\x20-\x7e]/.test(m.subject)) expect(text).toMatch(/Subject: =\?utf-8\?B\?/);
  });

  it('pages messages by delta (maxpagesize, nextLink then deltaLink), then returns changes and @removed', async () => {
    const inbox = await g.api(`/users/${uid}/mailFolders/inbox`).get();
    const path = `/users/${uid}/mailFolders/${inbox.id}/messages/delta`;
    const get = (p: string) => g.api(p).header('Prefer', 'odata.maxpagesize=2').get();
    const full = await all(await get(path), get);
    const live = emu.mutate.messages(upn, 'inbox');
    expect(full.items.map((m) => m.id).sort()).toEqual(live.map((m) => m.id).sort());
    expect(full.pages).toBe(Math.ceil(live.length / 2));
    for (const m of full.items) expect(mail.validateSchema('microsoft.graph.message', m)).toEqual([]);

    const nothing = await all(await get(full.deltaLink), get);
    expect(nothing.items).toEqual([]);

    const added = emu.mutate.deliverMessage(upn, { subject: 'Neue Nachricht – delta' });
    const read = emu.mutate.setRead(upn, live[0]?.id as string, !live[0]?.isRead);
    const victim = live[1]?.id as string;
    emu.mutate.deleteMessage(upn, victim);
    const moved = emu.mutate.moveMessage(upn, live[2]?.id as string, 'archive');
    const changes = await all(await get(nothing.deltaLink), get);
    const byId = new Map(changes.items.map((m) => [m.id as string, m]));
    expect(byId.get(added.id)?.subject).toBe('Neue Nachricht – delta');
    expect(byId.get(read.id)?.isRead).toBe(read.isRead);
    expect(byId.get(victim)?.['@removed']).toEqual({ reason: 'deleted' });
    expect(byId.get(live[2]?.id as string)?.['@removed']).toEqual({ reason: 'deleted' });
    expect(byId.has(moved.id)).toBe(false);

    emu.mutate.expireDeltaTokens();
    const err = await g.api(changes.deltaLink).get().catch((e: unknown) => e);
    expect((err as GraphError).statusCode).toBe(410);
    expect((err as GraphError).code).toBe('SyncStateNotFound');
  });

  it('creates messages from JSON: a draft by default, a received message with its dates through extended properties', async () => {
    const inbox = await g.api(`/users/${uid}/mailFolders/inbox`).get();
    const base = { subject: 'Imported – ünïcode', body: { contentType: 'html', content: '<p>hi</p>' }, from: { emailAddress: { name: 'X', address: 'x@example.com' } }, toRecipients: [{ emailAddress: { address: upn } }], receivedDateTime: '2001-01-01T00:00:00Z' };
    const draft = await g.api(`/users/${uid}/mailFolders/${inbox.id}/messages`).post(base);
    expect(mail.validate('post', '/users/{user-id}/mailFolders/{mailFolder-id}/messages', draft)).toEqual([]);
    expect(draft.isDraft).toBe(true);
    expect(draft.receivedDateTime).not.toBe('2001-01-01T00:00:00Z');
    const kept = await g.api(`/users/${uid}/mailFolders/${inbox.id}/messages`).post({
      ...base,
      internetMessageId: '<kept@example.com>',
      singleValueExtendedProperties: [
        { id: 'Integer 0x0E07', value: '1' },
        { id: 'SystemTime 0x0E06', value: '2020-02-03T04:05:06Z' },
        { id: 'SystemTime 0x0039', value: '2020-02-03T04:00:00Z' },
        { id: 'String {00020329-0000-0000-C000-000000000046} Name norestoreSourceId', value: 'src-1' },
      ],
    });
    expect(kept.isDraft).toBe(false);
    expect(kept.isRead).toBe(true);
    expect(kept.receivedDateTime).toBe('2020-02-03T04:05:06Z');
    expect(kept.sentDateTime).toBe('2020-02-03T04:00:00Z');
    expect(kept.internetMessageId).toBe('<kept@example.com>');
    const filtered = await g
      .api(`/users/${uid}/mailFolders/${inbox.id}/messages`)
      .filter("singleValueExtendedProperties/Any(ep: ep/id eq 'String {00020329-0000-0000-C000-000000000046} Name norestoreSourceId' and ep/value eq 'src-1')")
      .expand("singleValueExtendedProperties($filter=id eq 'String {00020329-0000-0000-C000-000000000046} Name norestoreSourceId')")
      .get();
    expect(filtered.value.map((m: { id: string }) => m.id)).toEqual([kept.id]);
    expect(filtered.value[0].singleValueExtendedProperties[0].value).toBe('src-1');
    const patchSubject = await g.api(`/users/${uid}/messages/${kept.id}`).patch({ subject: 'changed' }).catch((e: unknown) => e);
    expect((patchSubject as GraphError).statusCode).toBe(400);
    const patched = await g.api(`/users/${uid}/messages/${kept.id}`).patch({ isRead: false, categories: ['Rot'], flag: { flagStatus: 'flagged' } });
    expect([patched.isRead, patched.categories, patched.flag.flagStatus]).toEqual([false, ['Rot'], 'flagged']);
  });

  it('adds a large attachment through an upload session (pre-authenticated URL, 200 then 201)', async () => {
    const msg = await g.api(`/users/${uid}/messages`).post({ subject: 'att', body: { contentType: 'text', content: 'x' } });
    const small = await g.api(`/users/${uid}/messages/${msg.id}/attachments`).post({ '@odata.type': '#microsoft.graph.fileAttachment', name: 'a.txt', contentBytes: Buffer.from('abc').toString('base64') });
    expect(small.size).toBe(3);
    const content = Buffer.alloc(5 * 1024 * 1024 + 17, 7);
    const sess = await g.api(`/users/${uid}/messages/${msg.id}/attachments/createUploadSession`).post({ AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: content.length } });
    const put = (start: number, end: number, auth = false) =>
      http(sess.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes ${start}-${end}/${content.length}`, 'content-length': String(end - start + 1), ...(auth ? { authorization: `Bearer ${token}` } : {}) }, body: content.subarray(start, end + 1) });
    expect((await put(0, 1023, true)).status).toBe(401);
    const first = await put(0, 4 * 1024 * 1024 - 1);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { nextExpectedRanges: string[] }).nextExpectedRanges).toEqual([`${4 * 1024 * 1024}-`]);
    const last = await put(4 * 1024 * 1024, content.length - 1);
    expect(last.status).toBe(201);
    const atts = await g.api(`/users/${uid}/messages/${msg.id}/attachments`).get();
    expect(atts.value.map((a: { name: string; size: number }) => [a.name, a.size])).toEqual([['a.txt', 3], ['big.bin', content.length]]);
  });
});

describe('throttling as Graph does it', () => {
  it('answers a fifth concurrent request to one mailbox with 429 MailboxConcurrency and Retry-After', async () => {
    // Open the connections first, so the six requests arrive together and each holds its slot 1.5 s.
    await Promise.all(Array.from({ length: 6 }, () => raw('GET', '/users')));
    emu.setFaults('latency=1500');
    try {
      const rs = await Promise.all(Array.from({ length: 6 }, () => raw('GET', `/users/${uid}/mailFolders`)));
      const throttled = rs.filter((r) => r.status === 429);
      expect(throttled.length).toBeGreaterThanOrEqual(1);
      expect(rs.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(4);
      expect((throttled[0]?.json.error as { code: string; message: string }).code).toBe('ApplicationThrottled');
      expect((throttled[0]?.json.error as { message: string }).message).toMatch(/MailboxConcurrency/);
      expect(Number(throttled[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The drive is not an Outlook mailbox resource: no mailbox limit there.
      const drive = await Promise.all(Array.from({ length: 6 }, () => raw('GET', `/users/${uid}/drive/root`)));
      expect(drive.every((r) => r.status === 200)).toBe(true);
    } finally {
      emu.setFaults(null);
    }
  });

  it('enforces a request budget per mailbox per window, with Retry-After to the window end', async () => {
    const other = emu.users[1]?.id as string;
    emu.setLimits({ requestsPerWindow: 3, timeScale: 60 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await raw('GET', `/users/${other}/mailFolders`)).status);
      expect(codes).toEqual([200, 200, 200, 429]);
      const r = await raw('GET', `/users/${other}/mailFolders`);
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      expect(emu.stats().mailboxes[`${emu.credentials.clientId}:${other}`]?.throttledBudget).toBeGreaterThanOrEqual(2);
    } finally {
      emu.setLimits({ requestsPerWindow: 10_000, timeScale: 1 });
    }
  });

  it('injects seeded faults (5xx, 429 with Retry-After) reproducibly', async () => {
    expect(parseFaultSpec('latency=20,error5xx=0.1,rate429=0.05,drop=0.02')).toMatchObject({ latencyMin: 20, error5xx: 0.1, rate429: 0.05, drop: 0.02 });
    const statuses = async () => {
      emu.setFaults('error5xx=0.5,seed=7');
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await raw('GET', '/users')).status);
      emu.setFaults(null);
      return out;
    };
    const a = await statuses();
    expect(a.some((s) => s >= 500)).toBe(true);
    expect(await statuses()).toEqual(a);
    emu.setFaults('rate429=1,storm=500');
    const r = await raw('GET', '/users');
    emu.setFaults(null);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
  });
});

describe('OneDrive', () => {
  it('follows the root by delta: token=latest, changes, deleted facets, 410 resyncRequired with Location', async () => {
    const latest = await g.api(`/users/${uid}/drive/root/delta`).query({ token: 'latest' }).get();
    expect(latest.value).toEqual([]);
    const full = await all(await g.api(`/users/${uid}/drive/root/delta`).get(), (l) => g.api(l).get());
    expect(full.items.length).toBe(emu.mutate.driveItems(upn).length);
    const root = full.items.find((i) => i.root);
    expect(root).toBeDefined();
    const file = emu.mutate.writeFile(upn, 'Documents/new file ü.txt', Buffer.from('hello ünïcode'));
    const gone = emu.mutate.deleteDriveItem(upn, 'README.txt');
    const fromLatest = await all(await g.api(latest['@odata.deltaLink']).get(), (l) => g.api(l).get());
    expect(fromLatest.items.map((i) => i.id).sort()).toEqual([file.id, ...gone].sort());
    const del = fromLatest.items.find((i) => i.id === gone[0]);
    expect(del?.deleted).toEqual({ state: 'deleted' });
    const added = fromLatest.items.find((i) => i.id === file.id) as { file: { hashes: { quickXorHash: string } }; size: number };
    expect(added.file.hashes.quickXorHash).toBe(quickXorBase64(Buffer.from('hello ünïcode')));
    emu.mutate.expireDeltaTokens();
    const r = await raw('GET', fromLatest.deltaLink);
    expect(r.status).toBe(410);
    expect((r.json.error as { code: string }).code).toBe('resyncRequired');
    expect(r.headers.get('location')).toMatch(/\/drive\/root\/delta$/);
  });

  it('downloads content through a redirect, with Range', async () => {
    const item = await g.api(`/users/${uid}/drive/root:/Documents/new file ü.txt`).get();
    const res = (await g.api(`/users/${uid}/drive/items/${item.id}/content`).responseType(ResponseType.RAW).get()) as Response;
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).toString('utf8')).toBe('hello ünïcode');
    const part = await http(item['@microsoft.graph.downloadUrl'], { method: 'GET', headers: { range: 'bytes=0-4' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('hello');
  });

  it('uploads: simple PUT, and an upload session with 320 KiB fragments, fileSystemInfo and conflictBehavior', async () => {
    const docs = await g.api(`/users/${uid}/drive/root:/Documents`).get();
    const small = await g.api(`/users/${uid}/drive/items/${docs.id}:/simple.txt:/content`).header('Content-Type', 'text/plain').put('simple body');
    expect(small.size).toBe(11);
    const size = 3 * 327_680 + 1000;
    const content = Buffer.alloc(size);
    for (let i = 0; i < size; i++) content[i] = (i * 31) & 0xff;
    const times = { createdDateTime: '2019-05-06T07:08:09Z', lastModifiedDateTime: '2020-01-02T03:04:05Z' };
    const sess = await g.api(`/users/${uid}/drive/items/${docs.id}:/big.bin:/createUploadSession`).post({ item: { '@microsoft.graph.conflictBehavior': 'fail', fileSystemInfo: times } });
    const put = (start: number, end: number, headers: Record<string, string> = {}) =>
      http(`${sess.uploadUrl}`, { method: 'PUT', headers: { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1), ...headers }, body: content.subarray(start, end + 1) });
    // The size is declared by the first fragment's Content-Range total when createUploadSession did not give it.
    expect((await put(0, 999)).status).toBe(400);
    expect((await put(327_680, 655_359)).status).toBe(416);
    const a = await put(0, 655_359);
    expect(a.status).toBe(202);
    expect(((await a.json()) as { nextExpectedRanges: string[] }).nextExpectedRanges).toEqual(['655360-']);
    const b = await put(655_360, size - 1);
    expect(b.status).toBe(201);
    const done = (await b.json()) as { id: string; size: number; fileSystemInfo: unknown; file: { hashes: { quickXorHash: string } } };
    expect(done.size).toBe(size);
    expect(done.fileSystemInfo).toEqual(times);
    expect(done.file.hashes.quickXorHash).toBe(quickXorBase64(content));
    const again = await g.api(`/users/${uid}/drive/items/${docs.id}:/big.bin:/createUploadSession`).post({ item: { '@microsoft.graph.conflictBehavior': 'fail' } }).catch((e: unknown) => e);
    expect((again as GraphError).statusCode).toBe(409);
  });
});

describe('calendar', () => {
  const window = { startDateTime: '2025-12-01T00:00:00Z', endDateTime: '2026-12-31T00:00:00Z' };

  it('serves calendarView with occurrences of series (never masters) in the described shape', async () => {
    const view = await g.api(`/users/${uid}/calendarView`).query(window).top(200).get();
    expect(cal.validate('get', '/users/{user-id}/calendarView', view)).toEqual([]);
    const types = new Set(view.value.map((e: { type: string }) => e.type));
    expect(types.has('occurrence')).toBe(true);
    expect(types.has('seriesMaster')).toBe(false);
    const occ = view.value.find((e: { type: string }) => e.type === 'occurrence');
    const master = await g.api(`/users/${uid}/events/${occ.seriesMasterId}`).get();
    expect(cal.validate('get', '/users/{user-id}/events/{event-id}', master)).toEqual([]);
    expect(master.type).toBe('seriesMaster');
    expect(master.recurrence.pattern.type).toBeDefined();
  });

  it('follows calendarView by delta, @removed for every occurrence of a deleted series', async () => {
    const path = `/users/${uid}/calendarView/delta`;
    const first = await all(await g.api(path).query(window).get(), (l) => g.api(l).get());
    const weekly = emu.mutate.events(upn).find((e) => e.recurrence?.pattern.type === 'weekly');
    const occurrences = first.items.filter((e) => e.seriesMasterId === weekly?.id);
    expect(occurrences.length).toBe(10);
    emu.mutate.deleteEvent(upn, weekly?.id as string);
    const second = await all(await g.api(first.deltaLink).get(), (l) => g.api(l).get());
    expect(second.items.filter((e) => e['@removed']).map((e) => e.id).sort()).toEqual(occurrences.map((e) => e.id).sort());
  });

  it('records the invitations an event with attendees would send, and none without attendees', async () => {
    const before = emu.invitations().length;
    const ev = { subject: 'No invites', start: { dateTime: '2026-03-03T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-03-03T11:00:00', timeZone: 'UTC' } };
    const created = await g.api(`/users/${uid}/events`).post(ev);
    expect(cal.validate('post', '/users/{user-id}/events', created)).toEqual([]);
    expect(emu.invitations().length).toBe(before);
    await g.api(`/users/${uid}/events`).post({ ...ev, subject: 'Invites', attendees: [{ type: 'required', emailAddress: { address: 'someone@example.com' } }] });
    expect(emu.invitations().length).toBe(before + 1);
    expect(emu.invitations().at(-1)?.recipients).toEqual(['someone@example.com']);
  });
});

describe('contacts', () => {
  it('serves contact folders and contacts, and follows a folder by delta', async () => {
    const folders = await g.api(`/users/${uid}/contactFolders`).get();
    expect(contacts.validate('get', '/users/{user-id}/contactFolders', folders)).toEqual([]);
    const list = await g.api(`/users/${uid}/contacts`).get();
    expect(contacts.validate('get', '/users/{user-id}/contacts', list)).toEqual([]);
    const rootId = list.value[0].parentFolderId as string;
    expect(folders.value[0].parentFolderId).toBe(rootId);
    const first = await all(await g.api(`/users/${uid}/contactFolders/${rootId}/contacts/delta`).get(), (l) => g.api(l).get());
    expect(first.items.length).toBe(list.value.length);
    const c = emu.mutate.addContact(upn, 'Neu', 'Kontakt', 'neu@example.com');
    emu.mutate.deleteContact(upn, list.value[0].id);
    const second = await all(await g.api(first.deltaLink).get(), (l) => g.api(l).get());
    expect(second.items.map((x) => [x.id, x['@removed'] ? 'removed' : 'upsert']).sort()).toEqual([[c.id, 'upsert'], [list.value[0].id, 'removed']].sort());
    const created = await g.api(`/users/${uid}/contacts`).post({ givenName: 'Zoë', surname: 'Ødegård', emailAddresses: [{ address: 'z@example.com' }] });
    expect(contacts.validate('post', '/users/{user-id}/contacts', created)).toEqual([]);
  });
});
