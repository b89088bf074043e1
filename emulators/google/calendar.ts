/** Calendar API v3 handlers: calendarList, calendars, events (list with sync tokens, import by iCalUID). */
import type { calendar_v3 } from 'googleapis';
import type { Cal, Ev } from './calendar-state.js';
import { ApiError, badRequest, conflict, invalidParam, notFound, required } from './errors.js';
import { boolParam, intParam, json, noContent, type EmulatorEnv, type Handler, type Req } from './http.js';

const DELETED = (): ApiError => new ApiError(410, 'Resource has been deleted', 'deleted', { status: null });
const FULL_SYNC = (): ApiError => new ApiError(410, 'Sync token is no longer valid, a full sync is required.', 'fullSyncRequired', { status: null });

function calendar(req: Req, env: EmulatorEnv, id = req.params.calendarId as string): Cal {
  const cid = id === 'primary' ? req.user : id.toLowerCase() === req.user ? req.user : id;
  const cal = env.state.calendar.calendars.get(cid);
  const listed = env.state.calendar.lists.get(req.user)?.has(cid) ?? false;
  if (!cal || (cal.owner !== req.user && !listed)) throw notFound('Not Found');
  return cal;
}

function listEntry(cal: Cal): calendar_v3.Schema$CalendarListEntry {
  const e: calendar_v3.Schema$CalendarListEntry = {
    kind: 'calendar#calendarListEntry',
    etag: `"${cal.seq}"`,
    id: cal.id,
    summary: cal.summary,
    timeZone: cal.timeZone,
    colorId: cal.primary ? '14' : '7',
    backgroundColor: cal.primary ? '#9fe1e7' : '#42d692',
    foregroundColor: '#000000',
    selected: true,
    accessRole: 'owner',
    defaultReminders: cal.primary ? [{ method: 'popup', minutes: 10 }] : [],
    conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
  };
  if (cal.description) e.description = cal.description;
  if (cal.primary) {
    e.primary = true;
    e.notificationSettings = { notifications: [{ type: 'eventCreation', method: 'email' }] };
  }
  return e;
}

function calendarResource(cal: Cal): calendar_v3.Schema$Calendar {
  const c: calendar_v3.Schema$Calendar = { kind: 'calendar#calendar', etag: `"${cal.seq}"`, id: cal.id, summary: cal.summary, timeZone: cal.timeZone, conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] } };
  if (cal.description) c.description = cal.description;
  return c;
}

function offsetToken(offset: number, snapshot: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: snapshot, f: fingerprint })).toString('base64url');
}

function readOffsetToken(token: string | null, fingerprint: string): { offset: number; snapshot: number | null } {
  if (!token) return { offset: 0, snapshot: null };
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; s?: unknown; f?: unknown };
    if (typeof v.o === 'number' && typeof v.s === 'number' && v.f === fingerprint) return { offset: v.o, snapshot: v.s };
  } catch {
    // fall through
  }
  throw invalidParam('pageToken', token);
}

const calendarListList: Handler = (req, env) => {
  if (req.query.get('syncToken')) throw badRequest('The emulator does not serve syncToken on calendarList; list it fully.', 'invalid', 'syncToken');
  const ids = [...(env.state.calendar.lists.get(req.user) ?? [])];
  const cals = ids.map((id) => env.state.calendar.calendars.get(id)).filter((c): c is Cal => !!c);
  const max = intParam(req.query, 'maxResults', 100, 1, 250, true);
  const { offset } = readOffsetToken(req.query.get('pageToken'), 'calendarList');
  const out: calendar_v3.Schema$CalendarList = { kind: 'calendar#calendarList', etag: `"${cals.reduce((n, c) => n + c.seq, 0)}"`, items: cals.slice(offset, offset + max).map(listEntry) };
  if (offset + max < cals.length) out.nextPageToken = offsetToken(offset + max, 0, 'calendarList');
  else out.nextSyncToken = Buffer.from(`nrcallist:${req.user}`).toString('base64url');
  return json(200, out);
};

const calendarListGet: Handler = (req, env) => json(200, listEntry(calendar(req, env)));
const calendarsGet: Handler = (req, env) => json(200, calendarResource(calendar(req, env)));

const calendarsInsert: Handler = (req, env) => {
  const summary = req.body.summary;
  if (typeof summary !== 'string' || !summary) throw required('summary');
  const tz = typeof req.body.timeZone === 'string' ? req.body.timeZone : 'UTC';
  const desc = typeof req.body.description === 'string' ? req.body.description : undefined;
  const cal = env.state.calendar.createCalendar(req.user, env.state.newId('calendar'), summary, tz, false, desc);
  return json(200, calendarResource(cal));
};

const calendarsPatch: Handler = (req, env) => {
  const cal = calendar(req, env);
  const b = req.body;
  if (b.summary !== undefined) {
    if (typeof b.summary !== 'string' || !b.summary) throw badRequest('Invalid value for summary', 'invalid');
    cal.summary = b.summary;
  }
  if (typeof b.description === 'string') cal.description = b.description;
  if (typeof b.timeZone === 'string') cal.timeZone = b.timeZone;
  cal.seq++;
  return json(200, calendarResource(cal));
};

const calendarsDelete: Handler = (req, env) => {
  const cal = calendar(req, env);
  if (cal.primary) throw badRequest('Cannot delete the primary calendar.', 'cannotDeletePrimaryCalendar');
  env.state.calendar.deleteCalendar(cal.id);
  return noContent();
};

// Events ------------------------------------------------------------------------------------------

const WRITABLE = ['summary', 'description', 'location', 'start', 'end', 'recurrence', 'attendees', 'status', 'transparency', 'visibility', 'colorId', 'reminders', 'extendedProperties', 'guestsCanInviteOthers', 'guestsCanModify', 'guestsCanSeeOtherGuests', 'anyoneCanAddSelf', 'source', 'attachments', 'eventType', 'originalStartTime', 'recurringEventId', 'sequence', 'endTimeUnspecified'] as const;

function time(t: unknown, field: string): number {
  if (!t || typeof t !== 'object') throw badRequest(`Missing ${field} time.`, 'required');
  const x = t as calendar_v3.Schema$EventDateTime;
  const v = x.dateTime ?? x.date;
  const ms = typeof v === 'string' ? Date.parse(x.date ? `${v}T00:00:00Z` : v) : NaN;
  if (!Number.isFinite(ms)) throw badRequest(`Invalid ${field} time.`, 'invalid');
  return ms;
}

function validate(r: calendar_v3.Schema$Event): void {
  if (r.status === 'cancelled') return;
  const s = time(r.start, 'start');
  const e = time(r.end, 'end');
  if (e < s) throw badRequest('The specified time range is empty.', 'timeRangeEmpty');
  if (r.recurrence && (!Array.isArray(r.recurrence) || r.recurrence.some((x) => typeof x !== 'string' || !/^(RRULE|EXRULE|RDATE|EXDATE)[:;]/.test(x)))) {
    throw badRequest('Invalid recurrence rule.', 'invalid');
  }
  if (r.status !== undefined && r.status !== null && !['confirmed', 'tentative', 'cancelled'].includes(r.status)) throw badRequest(`Invalid value for status: ${r.status}`, 'invalid');
}

function copyWritable(body: Record<string, unknown>, into: calendar_v3.Schema$Event, replace: boolean): void {
  for (const k of WRITABLE) {
    if (body[k] !== undefined) (into as Record<string, unknown>)[k] = structuredClone(body[k]);
    else if (replace && k !== 'sequence' && k !== 'eventType' && k !== 'recurringEventId' && k !== 'originalStartTime') delete (into as Record<string, unknown>)[k];
  }
  for (const a of into.attendees ?? []) {
    if (a.email) a.email = a.email.toLowerCase();
    a.responseStatus ??= 'needsAction';
  }
}

function person(env: EmulatorEnv, email: string, user: string): calendar_v3.Schema$Event['organizer'] {
  const u = env.state.users.get(email);
  const p: NonNullable<calendar_v3.Schema$Event['organizer']> = { email };
  if (u?.name?.fullName) p.displayName = u.name.fullName;
  if (email === user) p.self = true;
  return p;
}

function baseEvent(env: EmulatorEnv, cal: Cal, id: string, iCalUID: string, req: Req): calendar_v3.Schema$Event {
  const now = env.state.iso();
  return {
    kind: 'calendar#event',
    id,
    status: 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${cal.id}`).toString('base64url')}`,
    created: now,
    updated: now,
    creator: person(env, req.user, req.user),
    organizer: person(env, cal.id.includes('@group.calendar.google.com') ? cal.id : cal.owner, req.user),
    iCalUID,
    sequence: 0,
    reminders: { useDefault: true },
    eventType: 'default',
  };
}

function forClient(ev: Ev): calendar_v3.Schema$Event {
  const r = ev.r;
  if (r.status === 'cancelled' && !r.recurringEventId) return { kind: 'calendar#event', etag: r.etag ?? null, id: r.id ?? null, status: 'cancelled', updated: r.updated ?? null };
  return structuredClone(r);
}

function event(cal: Cal, id: string): Ev {
  const ev = cal.events.get(id);
  if (!ev) throw notFound('Not Found');
  return ev;
}

const eventsList: Handler = (req, env) => {
  const cal = calendar(req, env);
  const q = req.query;
  const max = intParam(q, 'maxResults', 250, 1, 2500, true);
  const syncToken = q.get('syncToken');
  if (boolParam(q, 'singleEvents')) throw new ApiError(501, 'singleEvents=true (expanding recurring events into instances) is not implemented by the norestore Google emulator.', 'notImplemented');
  let since: number | null = null;
  if (syncToken) {
    for (const p of ['timeMin', 'timeMax', 'q', 'orderBy', 'updatedMin', 'iCalUID', 'privateExtendedProperty', 'sharedExtendedProperty']) {
      if (q.get(p)) throw badRequest(`Parameter ${p} cannot be used together with syncToken.`, 'invalid', p);
    }
    const pos = env.state.calendar.parseSyncToken(cal, syncToken);
    if (pos === 'expired' || pos === 'invalid') throw FULL_SYNC();
    since = pos;
  }
  const fingerprint = JSON.stringify([cal.id, syncToken, q.get('timeMin'), q.get('timeMax'), q.get('q'), q.get('updatedMin'), q.get('iCalUID'), q.get('showDeleted'), q.get('orderBy')]);
  const { offset, snapshot } = readOffsetToken(q.get('pageToken'), fingerprint);
  const snap = snapshot ?? cal.seq;
  const showDeleted = since !== null || boolParam(q, 'showDeleted');
  const timeMin = q.get('timeMin') ? Date.parse(q.get('timeMin') as string) : null;
  const timeMax = q.get('timeMax') ? Date.parse(q.get('timeMax') as string) : null;
  if (timeMin !== null && !Number.isFinite(timeMin)) throw invalidParam('timeMin', q.get('timeMin'));
  if (timeMax !== null && !Number.isFinite(timeMax)) throw invalidParam('timeMax', q.get('timeMax'));
  const updatedMin = q.get('updatedMin') ? Date.parse(q.get('updatedMin') as string) : null;
  const text = (q.get('q') ?? '').toLowerCase();
  const iCalUID = q.get('iCalUID');
  const orderBy = q.get('orderBy');
  if (orderBy === 'startTime') throw badRequest('The requested ordering is not available for the particular query.', 'invalid', 'orderBy');
  if (orderBy && orderBy !== 'updated') throw invalidParam('orderBy', orderBy);
  const items = [...cal.events.values()]
    .filter((ev) => ev.seq <= snap && (since === null || ev.seq > since))
    .filter((ev) => showDeleted || ev.r.status !== 'cancelled')
    .filter((ev) => {
      if (ev.r.status === 'cancelled') return true;
      const recurring = (ev.r.recurrence ?? []).length > 0;
      if (timeMin !== null && !recurring && time(ev.r.end, 'end') <= timeMin) return false;
      if (timeMax !== null && time(ev.r.start, 'start') >= timeMax) return false;
      return true;
    })
    .filter((ev) => updatedMin === null || Date.parse(ev.r.updated ?? '') >= updatedMin)
    .filter((ev) => !text || `${ev.r.summary ?? ''} ${ev.r.description ?? ''} ${ev.r.location ?? ''}`.toLowerCase().includes(text))
    .filter((ev) => !iCalUID || ev.r.iCalUID === iCalUID)
    .sort((a, b) => (orderBy === 'updated' ? (a.r.updated ?? '').localeCompare(b.r.updated ?? '') : 0) || a.seq - b.seq);
  const page = items.slice(offset, offset + max);
  const out: calendar_v3.Schema$Events = {
    kind: 'calendar#events',
    etag: `"${snap}"`,
    summary: cal.summary,
    updated: env.state.iso(),
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: cal.primary ? [{ method: 'popup', minutes: 10 }] : [],
    items: page.map(forClient),
  };
  if (cal.description) out.description = cal.description;
  if (offset + max < items.length) out.nextPageToken = offsetToken(offset + max, snap, fingerprint);
  else out.nextSyncToken = env.state.calendar.syncToken({ ...cal, seq: snap });
  return json(200, out);
};

const eventsGet: Handler = (req, env) => {
  const cal = calendar(req, env);
  return json(200, structuredClone(event(cal, req.params.eventId as string).r));
};

const ID_RE = /^[a-v0-9]{5,1024}$/;

const eventsInsert: Handler = (req, env) => {
  const cal = calendar(req, env);
  const b = req.body;
  let id = typeof b.id === 'string' ? b.id : undefined;
  if (id !== undefined && !ID_RE.test(id)) throw badRequest('Invalid resource id value.', 'invalid');
  if (id !== undefined && cal.events.has(id)) throw conflict('The requested identifier already exists.');
  id ??= env.state.newId('event');
  const r = baseEvent(env, cal, id, `${id}@google.com`, req);
  copyWritable(b, r, false);
  r.status = (b.status as string | undefined) ?? 'confirmed';
  validate(r);
  return json(200, structuredClone(env.state.calendar.put(cal, r).r));
};

const eventsImport: Handler = (req, env) => {
  const cal = calendar(req, env);
  const b = req.body;
  const iCalUID = b.iCalUID;
  if (typeof iCalUID !== 'string' || !iCalUID) throw badRequest('Missing iCalUID.', 'required', 'iCalUID');
  if (b.eventType !== undefined && b.eventType !== 'default') throw badRequest('Only events of type default can be imported.', 'invalid', 'eventType');
  const existing = [...cal.events.values()].find((ev) => ev.r.iCalUID === iCalUID && !ev.r.recurringEventId);
  const r: calendar_v3.Schema$Event = existing ? structuredClone(existing.r) : baseEvent(env, cal, env.state.newId('event'), iCalUID, req);
  copyWritable(b, r, !!existing);
  if (b.organizer && typeof b.organizer === 'object') {
    const email = String((b.organizer as { email?: unknown }).email ?? '').toLowerCase();
    if (email) r.organizer = { ...person(env, email, req.user), ...((b.organizer as { displayName?: string }).displayName ? { displayName: (b.organizer as { displayName: string }).displayName } : {}) };
  }
  r.status = (b.status as string | undefined) ?? 'confirmed';
  r.updated = env.state.iso();
  validate(r);
  return json(200, structuredClone(env.state.calendar.put(cal, r).r));
};

function patchOrUpdate(replace: boolean): Handler {
  return (req, env) => {
    const cal = calendar(req, env);
    const ev = event(cal, req.params.eventId as string);
    const r = structuredClone(ev.r);
    copyWritable(req.body, r, replace);
    r.updated = env.state.iso();
    if (replace || req.body.start !== undefined || req.body.end !== undefined) r.sequence = (r.sequence ?? 0) + 1;
    validate(r);
    return json(200, structuredClone(env.state.calendar.put(cal, r).r));
  };
}

const eventsDelete: Handler = (req, env) => {
  const cal = calendar(req, env);
  const ev = event(cal, req.params.eventId as string);
  if (ev.r.status === 'cancelled') throw DELETED();
  const r = structuredClone(ev.r);
  r.status = 'cancelled';
  r.updated = env.state.iso();
  env.state.calendar.put(cal, r);
  return noContent();
};

export const calendarHandlers: Record<string, Handler> = {
  'calendar.calendarList.list': calendarListList,
  'calendar.calendarList.get': calendarListGet,
  'calendar.calendars.get': calendarsGet,
  'calendar.calendars.insert': calendarsInsert,
  'calendar.calendars.patch': calendarsPatch,
  'calendar.calendars.delete': calendarsDelete,
  'calendar.events.list': eventsList,
  'calendar.events.get': eventsGet,
  'calendar.events.insert': eventsInsert,
  'calendar.events.import': eventsImport,
  'calendar.events.patch': patchOrUpdate(false),
  'calendar.events.update': patchOrUpdate(true),
  'calendar.events.delete': eventsDelete,
};
