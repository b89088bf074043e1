import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor } from '../../test/helpers/google-clients.js';
import { loadDiscovery } from './discovery.test-helpers.js';
import { startGoogleEmulator, type GoogleEmulator } from './index.js';

const cal = loadDiscovery('calendar-v3');
const dir = loadDiscovery('admin-directory-v1');
const errBody = (e: unknown) => (e as { response?: { status: number; data: unknown } }).response;

describe('google emulator: Calendar and Directory', () => {
  let emu: GoogleEmulator;
  let user: string;
  let c: ReturnType<typeof clientsFor>;
  let admin: ReturnType<typeof clientsFor>;
  beforeAll(async () => {
    emu = await startGoogleEmulator({ domain: 'acme.test', profile: 'small' });
    user = emu.users[1] as string;
    c = clientsFor(emu, user);
    admin = clientsFor(emu, emu.users[0] as string);
  });
  afterAll(async () => emu?.stop());

  it('lists calendars and events, syncs incrementally with cancelled events, and answers 410 for an expired token', async () => {
    const list = await admin.calendar.calendarList.list({});
    cal.assertResponse('calendar.calendarList.list', list.data);
    expect(list.data.items?.map((x) => [x.summary, !!x.primary])).toEqual([[emu.users[0], true], ['Team holidays', false]]);
    const full = await c.calendar.events.list({ calendarId: 'primary', maxResults: 2 });
    cal.assertResponse('calendar.events.list', full.data);
    expect(full.data.items?.length).toBe(2);
    expect(full.data.nextSyncToken).toBeUndefined();
    const page2 = await c.calendar.events.list({ calendarId: 'primary', maxResults: 2, pageToken: full.data.nextPageToken as string });
    expect(page2.data.items?.length).toBe(1);
    const sync = page2.data.nextSyncToken as string;
    expect(sync).toBeTruthy();
    expect(full.data.items?.[0]?.recurrence).toEqual(['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20']);

    const ids = emu.mutate.eventIds(user);
    emu.mutate.updateEvent(user, ids[1] as string, { summary: 'Moved' });
    await c.calendar.events.delete({ calendarId: 'primary', eventId: ids[2] as string, sendUpdates: 'none' });
    expect((await c.calendar.events.delete({ calendarId: 'primary', eventId: ids[2] as string }).catch(errBody))?.status).toBe(410);
    const inc = await c.calendar.events.list({ calendarId: 'primary', syncToken: sync });
    cal.assertResponse('calendar.events.list', inc.data);
    expect(inc.data.items?.map((e) => [e.id, e.status])).toEqual([[ids[1], 'confirmed'], [ids[2], 'cancelled']]);
    const none = await c.calendar.events.list({ calendarId: 'primary', syncToken: inc.data.nextSyncToken as string });
    expect(none.data.items).toEqual([]);
    expect((await c.calendar.events.list({ calendarId: 'primary', syncToken: sync, timeMin: '2024-01-01T00:00:00Z' }).catch(errBody))?.status).toBe(400);
    emu.mutate.expireSyncTokens(user);
    const expired = await c.calendar.events.list({ calendarId: 'primary', syncToken: inc.data.nextSyncToken as string }).catch(errBody);
    expect(expired?.status).toBe(410);
    expect(expired?.data).toMatchObject({ error: { code: 410, errors: [{ domain: 'global', reason: 'fullSyncRequired' }] } });
    const visible = await c.calendar.events.list({ calendarId: 'primary' });
    expect(visible.data.items?.length).toBe(2);
    const withDeleted = await c.calendar.events.list({ calendarId: 'primary', showDeleted: true });
    expect(withDeleted.data.items?.length).toBe(3);
  });

  it('imports events by iCalUID (an upsert, organizer kept) and inserts with a chosen id', async () => {
    const body = { iCalUID: 'abc-123@source.test', summary: 'Imported', organizer: { email: 'boss@acme.test' }, start: { dateTime: '2024-05-01T10:00:00Z' }, end: { dateTime: '2024-05-01T11:00:00Z' }, attendees: [{ email: 'X@Example.com', responseStatus: 'accepted' }] };
    expect(cal.validateRequest('calendar.events.import', body)).toEqual([]);
    const imp = await c.calendar.events.import({ calendarId: 'primary', requestBody: body });
    cal.assertResponse('calendar.events.import', imp.data);
    expect(imp.data.organizer?.email).toBe('boss@acme.test');
    const again = await c.calendar.events.import({ calendarId: 'primary', requestBody: { ...body, summary: 'Imported v2' } });
    expect(again.data.id).toBe(imp.data.id);
    const byUid = await c.calendar.events.list({ calendarId: 'primary', iCalUID: 'abc-123@source.test' });
    expect(byUid.data.items?.map((e) => e.summary)).toEqual(['Imported v2']);
    expect((await c.calendar.events.import({ calendarId: 'primary', requestBody: { summary: 'x', start: body.start, end: body.end } }).catch(errBody))?.status).toBe(400);
    const ins = await c.calendar.events.insert({ calendarId: 'primary', sendUpdates: 'none', requestBody: { id: 'norestore0001', summary: 'Mine', start: { date: '2024-06-01' }, end: { date: '2024-06-02' } } });
    cal.assertResponse('calendar.events.insert', ins.data);
    expect((await c.calendar.events.insert({ calendarId: 'primary', requestBody: { id: 'norestore0001', summary: 'Mine', start: { date: '2024-06-01' }, end: { date: '2024-06-02' } } }).catch(errBody))?.status).toBe(409);
    expect((await c.calendar.events.insert({ calendarId: 'primary', requestBody: { id: 'BAD_ID!', summary: 'x', start: { date: '2024-06-01' }, end: { date: '2024-06-02' } } }).catch(errBody))?.status).toBe(400);
    const sec = await c.calendar.calendars.insert({ requestBody: { summary: 'Projekte', timeZone: 'Europe/Zurich' } });
    cal.assertResponse('calendar.calendars.insert', sec.data);
    expect((await c.calendar.calendarList.list({})).data.items?.map((x) => x.summary)).toContain('Projekte');
  });

  it('serves users, groups and members to admins only, with paging and duplicates refused', async () => {
    const page = await admin.admin.users.list({ customer: 'my_customer', maxResults: 2, orderBy: 'email' });
    dir.assertResponse('directory.users.list', page.data);
    expect(page.data.users?.length).toBe(2);
    const rest = await admin.admin.users.list({ customer: 'my_customer', maxResults: 2, orderBy: 'email', pageToken: page.data.nextPageToken as string });
    expect([...(page.data.users ?? []), ...(rest.data.users ?? [])].map((u) => u.primaryEmail)).toEqual([...emu.users].sort());
    expect((await admin.admin.users.list({}).catch(errBody))?.status).toBe(400);
    expect((await c.admin.users.list({ customer: 'my_customer' }).catch(errBody))?.status).toBe(403);
    const body = { primaryEmail: 'new.person@acme.test', name: { givenName: 'Nëw', familyName: 'Persön' }, password: 'S3cret-passw0rd', changePasswordAtNextLogin: true };
    expect(dir.validateRequest('directory.users.insert', body)).toEqual([]);
    const made = await admin.admin.users.insert({ requestBody: body });
    dir.assertResponse('directory.users.insert', made.data);
    expect((await admin.admin.users.insert({ requestBody: body }).catch(errBody))?.status).toBe(409);
    expect((await admin.admin.users.insert({ requestBody: { ...body, primaryEmail: 'x@other.test' } }).catch(errBody))?.status).toBe(400);
    // The new user has a mailbox at once.
    const nc = clientsFor(emu, 'new.person@acme.test');
    expect((await nc.gmail.users.getProfile({ userId: 'me' })).data.messagesTotal).toBe(0);
    const groups = await admin.admin.groups.list({ customer: 'my_customer' });
    dir.assertResponse('directory.groups.list', groups.data);
    const g = groups.data.groups?.[0]?.email as string;
    const members = await admin.admin.members.list({ groupKey: g, maxResults: 1 });
    dir.assertResponse('directory.members.list', members.data);
    expect(members.data.nextPageToken).toBeUndefined();
    const m = await admin.admin.members.insert({ groupKey: g, requestBody: { email: 'new.person@acme.test', role: 'MEMBER' } });
    dir.assertResponse('directory.members.insert', m.data);
    expect((await admin.admin.members.insert({ groupKey: g, requestBody: { email: 'new.person@acme.test' } }).catch(errBody))?.status).toBe(409);
    const ng = await admin.admin.groups.insert({ requestBody: { email: 'sales@acme.test', name: 'Sales', description: 'Vertrieb' } });
    dir.assertResponse('directory.groups.insert', ng.data);
  });
});
