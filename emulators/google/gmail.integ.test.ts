import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, jwtFor } from '../../test/helpers/google-clients.js';
import { loadDiscovery } from './discovery.test-helpers.js';
import { startGoogleEmulator, type GoogleEmulator } from './index.js';

const spec = loadDiscovery('gmail-v1');
const errBody = (e: unknown) => (e as { response?: { status: number; data: unknown } }).response;

describe('google emulator: auth and Gmail', () => {
  let emu: GoogleEmulator;
  let user: string;
  let c: ReturnType<typeof clientsFor>;
  beforeAll(async () => {
    emu = await startGoogleEmulator({ domain: 'acme.test', profile: 'small', quota: { gmailUnitsPerSecond: 1_000_000 } });
    user = emu.users[1] as string;
    c = clientsFor(emu, user);
  });
  afterAll(async () => emu?.stop());

  it('issues tokens only for a correctly signed JWT, a real user and delegated scopes', async () => {
    await expect(jwtFor(emu, user).getAccessToken()).resolves.toMatchObject({ token: expect.stringMatching(/^ya29\./) });
    await expect(jwtFor(emu, 'nobody@acme.test').getAccessToken()).rejects.toThrow(/invalid_grant|Invalid email or User ID/);
    await expect(jwtFor(emu, user, ['https://www.googleapis.com/auth/chat.messages']).getAccessToken()).rejects.toThrow(/unauthorized_client/);
    const other = await startGoogleEmulator({ domain: 'other.test', profile: 'empty' });
    try {
      const forged = { ...emu, credentials: { serviceAccount: { ...emu.credentials.serviceAccount, private_key: other.credentials.serviceAccount.private_key } } };
      await expect(jwtFor(forged, user).getAccessToken()).rejects.toThrow(/Invalid JWT Signature/);
    } finally {
      await other.stop();
    }
  });

  it('checks scopes per method, impersonation and refreshes expired tokens', async () => {
    const ro = clientsFor(emu, user, ['https://www.googleapis.com/auth/gmail.readonly']);
    await ro.gmail.users.labels.list({ userId: 'me' });
    const e1 = await ro.gmail.users.messages.delete({ userId: 'me', id: 'x' }).catch(errBody);
    expect(e1?.status).toBe(403);
    expect(e1?.data).toMatchObject({ error: { code: 403, errors: [{ reason: 'insufficientPermissions' }], status: 'PERMISSION_DENIED' } });
    const e2 = await c.gmail.users.labels.list({ userId: emu.users[2] as string }).catch(errBody);
    expect(e2?.status).toBe(403);
    expect(JSON.stringify(e2?.data)).toContain('Delegation denied');
    // A revoked (expired early) token answers 401; a new token works.
    const mine = clientsFor(emu, user);
    await mine.gmail.users.getProfile({ userId: 'me' });
    const before = emu.stats().tokensIssued;
    emu.expireTokens();
    expect((await mine.gmail.users.getProfile({ userId: 'me' }).catch(errBody))?.status).toBe(401);
    mine.auth.credentials = { ...mine.auth.credentials, expiry_date: 1 };
    await mine.gmail.users.getProfile({ userId: 'me' });
    expect(emu.stats().tokensIssued).toBe(before + 1);
    c = clientsFor(emu, user);
    const res = await fetch(`${emu.rootUrl}gmail/v1/users/me/profile`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 401, errors: [{ reason: 'authError', location: 'Authorization' }], status: 'UNAUTHENTICATED' } });
  });

  it('lists labels and messages, pages, searches and gets every format as the discovery document says', async () => {
    const labels = await c.gmail.users.labels.list({ userId: 'me' });
    spec.assertResponse('gmail.users.labels.list', labels.data);
    expect(labels.data.labels?.some((l) => l.name === 'Ärger & Äpfel' && l.type === 'user')).toBe(true);
    const created = await c.gmail.users.labels.create({ userId: 'me', requestBody: { name: 'Neu/Überlauf', labelListVisibility: 'labelShow', messageListVisibility: 'show' } });
    spec.assertResponse('gmail.users.labels.create', created.data);
    expect((await c.gmail.users.labels.create({ userId: 'me', requestBody: { name: 'neu/überlauf' } }).catch(errBody))?.status).toBe(409);

    const all: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await c.gmail.users.messages.list({ userId: 'me', maxResults: 2, pageToken, includeSpamTrash: true });
      spec.assertResponse('gmail.users.messages.list', page.data);
      all.push(...(page.data.messages ?? []).map((m) => m.id as string));
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(all.length).toBe(6);
    const notSpam = await c.gmail.users.messages.list({ userId: 'me' });
    expect(notSpam.data.resultSizeEstimate).toBe(5);
    for (const format of ['raw', 'metadata', 'minimal', 'full'] as const) {
      const m = await c.gmail.users.messages.get({ userId: 'me', id: all[0] as string, format, metadataHeaders: format === 'metadata' ? ['Subject', 'Message-ID'] : undefined });
      spec.assertResponse('gmail.users.messages.get', m.data);
      if (format === 'raw') expect(Buffer.from(m.data.raw as string, 'base64url').toString('latin1')).toMatch(/^Date: /);
      if (format === 'metadata') expect(m.data.payload?.headers?.map((h) => h.name)).toEqual(['Subject', 'Message-ID']);
    }
    const withAtt = await c.gmail.users.messages.list({ userId: 'me', q: 'has:attachment', includeSpamTrash: true });
    expect(withAtt.data.messages?.length).toBeGreaterThan(0);
    const full = await c.gmail.users.messages.get({ userId: 'me', id: withAtt.data.messages?.[0]?.id as string });
    const attPart = (full.data.payload?.parts ?? []).find((p) => p.filename);
    const att = await c.gmail.users.messages.attachments.get({ userId: 'me', messageId: full.data.id as string, id: attPart?.body?.attachmentId as string });
    spec.assertResponse('gmail.users.messages.attachments.get', att.data);
    expect(att.data.size).toBe(attPart?.body?.size);
    const bad = await c.gmail.users.messages.list({ userId: 'me', q: 'filename:pdf' }).catch(errBody);
    expect(bad?.status).toBe(400);
  });

  it('imports (multipart, media, resumable) and inserts keeping the bytes, dates and labels', async () => {
    const raw = Buffer.from('From: "Ola" <ola@example.no>\r\nTo: zoe.angstrom@acme.test\r\nSubject: =?UTF-8?B?w5xiZXJzaWNodA==?=\r\nDate: Tue, 02 Jan 2024 09:15:00 +0000\r\nMessage-ID: <imp-1@example.no>\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n');
    const imp = await c.gmail.users.messages.import({ userId: 'me', internalDateSource: 'dateHeader', neverMarkSpam: true, requestBody: { labelIds: ['INBOX', 'UNREAD'] }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } }, c.upload);
    spec.assertResponse('gmail.users.messages.import', imp.data);
    const got = await c.gmail.users.messages.get({ userId: 'me', id: imp.data.id as string, format: 'raw' });
    expect(Buffer.from(got.data.raw as string, 'base64url').equals(raw)).toBe(true);
    expect(got.data.internalDate).toBe(String(Date.UTC(2024, 0, 2, 9, 15)));
    expect(got.data.labelIds?.sort()).toEqual(['INBOX', 'UNREAD']);
    // Without neverMarkSpam, import classifies it as spam.
    const spam = await c.gmail.users.messages.import({ userId: 'me', requestBody: { labelIds: ['INBOX'] }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } }, c.upload);
    expect(spam.data.labelIds).toEqual(['SPAM']);
    // insert defaults to receivedTime.
    const before = Date.now();
    const ins = await c.gmail.users.messages.insert({ userId: 'me', requestBody: { labelIds: ['INBOX'] }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } }, c.upload);
    const insGot = await c.gmail.users.messages.get({ userId: 'me', id: ins.data.id as string, format: 'minimal' });
    expect(Number(insGot.data.internalDate)).toBeGreaterThanOrEqual(before);
    // Media upload (no metadata) and a resumable session.
    const token = (await c.auth.getAccessToken()).token as string;
    const media = await fetch(`${emu.rootUrl}upload/gmail/v1/users/me/messages/import?uploadType=media`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'message/rfc822' }, body: raw });
    expect(media.status).toBe(200);
    const start = await fetch(`${emu.rootUrl}upload/gmail/v1/users/me/messages/import?uploadType=resumable&neverMarkSpam=true`, {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Upload-Content-Type': 'message/rfc822', 'X-Upload-Content-Length': String(raw.length) }, body: JSON.stringify({ labelIds: ['STARRED'] }),
    });
    expect(start.status).toBe(200);
    const done = await fetch(start.headers.get('location') as string, { method: 'PUT', body: raw, headers: { 'Content-Range': `bytes 0-${raw.length - 1}/${raw.length}` } });
    expect(done.status).toBe(200);
    const body = (await done.json()) as { id: string; labelIds: string[] };
    expect(body.labelIds).toEqual(['STARRED']);
    expect((await c.gmail.users.messages.list({ userId: 'me', q: 'rfc822msgid:imp-1@example.no', includeSpamTrash: true })).data.resultSizeEstimate).toBe(5);
    const draft = await c.gmail.users.messages.import({ userId: 'me', requestBody: { labelIds: ['DRAFT'] }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } }, c.upload).catch(errBody);
    expect(draft?.status).toBe(400);
  });

  it('records history (types, paging) and answers 404 for an expired startHistoryId', async () => {
    const profile = await c.gmail.users.getProfile({ userId: 'me' });
    spec.assertResponse('gmail.users.getProfile', profile.data);
    const start = profile.data.historyId as string;
    const { id: fresh0 } = emu.mutate.deliver(user, { from: 'x@example.org', subject: 'new', text: 'new' });
    const ids = emu.mutate.messageIds(user).filter((id) => id !== fresh0);
    emu.mutate.modifyLabels(user, fresh0, ['STARRED'], ['UNREAD']);
    await c.gmail.users.messages.modify({ userId: 'me', id: ids[1] as string, requestBody: { addLabelIds: ['TRASH'] } });
    await c.gmail.users.messages.delete({ userId: 'me', id: ids[2] as string });
    const h = await c.gmail.users.history.list({ userId: 'me', startHistoryId: start });
    spec.assertResponse('gmail.users.history.list', h.data);
    const kinds = (h.data.history ?? []).flatMap((r) => Object.keys(r).filter((k) => k !== 'id' && k !== 'messages'));
    expect(kinds).toEqual(['messagesAdded', 'labelsAdded', 'labelsRemoved', 'labelsAdded', 'messagesDeleted']);
    const onlyAdded = await c.gmail.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(onlyAdded.data.history?.length).toBe(1);
    const paged = await c.gmail.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 2 });
    expect(paged.data.history?.length).toBe(2);
    const rest = await c.gmail.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 2, pageToken: paged.data.nextPageToken as string });
    expect(rest.data.history?.[0]?.id).toBe(h.data.history?.[2]?.id);
    expect(rest.data.history?.length).toBe(2);
    expect(rest.data.nextPageToken).toBeTruthy();
    emu.mutate.expireHistory(user);
    const gone = await c.gmail.users.history.list({ userId: 'me', startHistoryId: start }).catch(errBody);
    expect(gone?.status).toBe(404);
    expect(gone?.data).toMatchObject({ error: { code: 404, errors: [{ domain: 'global', reason: 'notFound' }], status: 'NOT_FOUND' } });
    const now = await c.gmail.users.getProfile({ userId: 'me' });
    const fresh = await c.gmail.users.history.list({ userId: 'me', startHistoryId: now.data.historyId as string });
    expect(fresh.data.history).toBeUndefined();
  });

  it('enforces the per-user quota in units with userRateLimitExceeded or 429', async () => {
    emu.setQuota({ gmailUnitsPerSecond: 12 });
    try {
      await c.gmail.users.messages.list({ userId: 'me' }); // 5
      await c.gmail.users.messages.list({ userId: 'me' }); // 10
      const e = await c.gmail.users.messages.list({ userId: 'me' }).catch(errBody);
      expect(e?.status).toBe(403);
      expect(e?.data).toMatchObject({ error: { code: 403, errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }] } });
      expect(JSON.stringify(e?.data)).toMatch(/Retry after \d{4}-/);
      await c.gmail.users.labels.list({ userId: 'me' }); // 1 unit still fits
      emu.setQuota({ gmailUnitsPerSecond: 5, status: 429 });
      await c.gmail.users.messages.list({ userId: 'me' });
      const e2 = await c.gmail.users.messages.list({ userId: 'me' }).catch(errBody);
      expect(e2?.status).toBe(429);
      expect(e2?.data).toMatchObject({ error: { errors: [{ reason: 'rateLimitExceeded' }], status: 'RESOURCE_EXHAUSTED' } });
      expect(emu.stats().quota.throttled[`gmail:${user}`]).toBe(2);
    } finally {
      emu.setQuota({ gmailUnitsPerSecond: 1_000_000, status: 403 });
    }
  });

  it('injects faults: 5xx and 429 before any effect, dropped connections, seeded', async () => {
    emu.setFaults('error5xx=1');
    const e = await c.gmail.users.labels.list({ userId: 'me' }).catch(errBody);
    expect([500, 502, 503]).toContain(e?.status);
    expect(e?.data).toMatchObject({ error: { errors: [{ reason: 'backendError' }] } });
    emu.setFaults('rate429=1');
    const r = await fetch(`${emu.rootUrl}gmail/v1/users/me/labels`);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    emu.setFaults('drop=1');
    await expect(c.gmail.users.labels.list({ userId: 'me' })).rejects.toThrow();
    emu.setFaults(null);
    await c.gmail.users.labels.list({ userId: 'me' });
    expect(emu.stats().faults).toMatchObject({ errors5xx: 1, rate429: 1, drops: 1 });
  });
});
