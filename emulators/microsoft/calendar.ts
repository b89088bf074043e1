/**
 * Outlook calendar: events (list, create, get, update, delete), recurring series expanded into
 * occurrences, calendarView and calendarView/delta over a window (instances: single events,
 * occurrences; never series masters), and a record of the invitations Exchange would have sent:
 * creating or updating an event whose attendees include anyone but the organizer sends meeting
 * requests, so the emulator counts them for tests to assert on.
 *
 * Simplifications: times are taken as UTC whatever their timeZone; modified occurrences
 * (exceptions) and deleting single occurrences are not supported.
 */
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import {
  type ApiRequest, type ApiResponse, type DeltaEntry, type RouteDef, GraphApiError, badRequest, created, deltaPage, expandedExtendedIds,
  jsonBody, listPage, noContent, notFound, ok, parseFilter, renderExtended, syncStateNotFound,
} from './http.js';
import type { AttendeeState, EventState, Mailbox, RecurrenceState, Recipient, TenantState, UserState } from './state.js';

const DAY = 86400_000;
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEX = ['first', 'second', 'third', 'fourth', 'last'];

function instant(dt: { dateTime: string }): number {
  const s = dt.dateTime.replace(/(\.\d{3})\d*$/, '$1');
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : s + 'Z');
  if (!Number.isFinite(ms)) throw badRequest(`Invalid dateTime '${dt.dateTime}'.`, 'ErrorInvalidRequest');
  return ms;
}

function graphDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000');
}

function dateOnly(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface Instance {
  id: string;
  event: EventState;
  type: 'singleInstance' | 'occurrence';
  start: number;
  end: number;
}

export function occurrenceId(masterId: string, startMs: number): string {
  return `${masterId}${Buffer.from(`|${dateOnly(startMs)}`).toString('base64url')}`;
}

/** Occurrence start times of a series whose start falls in [from, to). */
export function expand(e: EventState, from: number, to: number): number[] {
  const r = e.recurrence as RecurrenceState;
  const start = instant(e.start);
  const timeOfDay = start - Math.floor(start / DAY) * DAY;
  const rangeStart = Date.parse(r.range.startDate + 'T00:00:00Z');
  const rangeEnd = r.range.type === 'endDate' && r.range.endDate ? Date.parse(r.range.endDate + 'T00:00:00Z') + DAY : Infinity;
  const maxCount = r.range.type === 'numbered' ? (r.range.numberOfOccurrences ?? 0) : Infinity;
  const p = r.pattern;
  const interval = Math.max(1, p.interval || 1);
  const out: number[] = [];
  let count = 0;
  const consider = (day: number): boolean => {
    if (day < rangeStart) return true;
    if (day >= rangeEnd || count >= maxCount) return false;
    const at = day + timeOfDay;
    count++;
    if (at >= to) return false;
    if (at >= from) out.push(at);
    return true;
  };
  const dow = (p.daysOfWeek ?? []).map((d) => DAYS.indexOf(d.toLowerCase())).filter((d) => d >= 0).sort((a, b) => a - b);
  const nthWeekday = (year: number, month: number): number | null => {
    const idx = INDEX.indexOf((p.index ?? 'first').toLowerCase());
    const first = Date.UTC(year, month, 1);
    const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    const matches: number[] = [];
    for (let d = 0; d < daysInMonth; d++) if (dow.includes(new Date(first + d * DAY).getUTCDay())) matches.push(first + d * DAY);
    if (!matches.length) return null;
    return idx === 4 ? (matches[matches.length - 1] as number) : (matches[idx] ?? null);
  };
  const limit = 5000;
  switch (p.type) {
    case 'daily':
      for (let i = 0, day = rangeStart; i < limit * 10; i++, day += interval * DAY) if (!consider(day)) break;
      break;
    case 'weekly': {
      const firstDow = DAYS.indexOf((p.firstDayOfWeek ?? 'sunday').toLowerCase());
      const wd = new Date(rangeStart).getUTCDay();
      let weekStart = rangeStart - ((wd - firstDow + 7) % 7) * DAY;
      const days = (dow.length ? dow : [wd]).map((d) => (d - firstDow + 7) % 7).sort((a, b) => a - b);
      outer: for (let i = 0; i < limit; i++, weekStart += interval * 7 * DAY) {
        for (const d of days) if (!consider(weekStart + d * DAY)) break outer;
      }
      break;
    }
    case 'absoluteMonthly':
    case 'relativeMonthly':
    case 'absoluteYearly':
    case 'relativeYearly': {
      const yearly = p.type.endsWith('Yearly');
      const base = new Date(rangeStart);
      for (let i = 0; i < limit; i++) {
        const total = base.getUTCFullYear() * 12 + base.getUTCMonth() + i * interval;
        const y = yearly ? base.getUTCFullYear() + i * interval : Math.floor(total / 12);
        const m = yearly ? (p.month ?? base.getUTCMonth() + 1) - 1 : total % 12;
        let day: number | null;
        if (p.type.startsWith('absolute')) {
          const dim = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
          day = (p.dayOfMonth ?? 1) <= dim ? Date.UTC(y, m, p.dayOfMonth ?? 1) : null;
        } else day = nthWeekday(y, m);
        if (day !== null && !consider(day)) break;
        if (day !== null && day >= rangeEnd) break;
      }
      break;
    }
  }
  return out;
}

export function instances(e: EventState, from: number, to: number): Instance[] {
  const dur = instant(e.end) - instant(e.start);
  if (!e.recurrence) {
    const s = instant(e.start);
    const en = s + dur;
    // Overlap with the window, as calendarView selects.
    return en > from && s < to ? [{ id: e.id, event: e, type: 'singleInstance', start: s, end: en }] : [];
  }
  return expand(e, from - dur, to).filter((s) => s + dur > from).map((s) => ({ id: occurrenceId(e.id, s), event: e, type: 'occurrence', start: s, end: s + dur }));
}

function renderEvent(req: ApiRequest, u: UserState, e: EventState, inst?: Instance): MSGraph.Event & Record<string, unknown> {
  const text = (e.body.contentType === 'html' ? e.body.content.replace(/<[^>]+>/g, ' ') : e.body.content).replace(/\s+/g, ' ').trim();
  const occurrence = inst?.type === 'occurrence';
  const out: MSGraph.Event & Record<string, unknown> = {
    '@odata.etag': `W/"${e.changeKey}"`,
    id: inst?.id ?? e.id,
    createdDateTime: e.createdDateTime,
    lastModifiedDateTime: e.lastModifiedDateTime,
    changeKey: e.changeKey,
    categories: [...e.categories],
    transactionId: e.transactionId,
    originalStartTimeZone: e.start.timeZone,
    originalEndTimeZone: e.end.timeZone,
    iCalUId: e.iCalUId,
    reminderMinutesBeforeStart: e.reminderMinutesBeforeStart,
    isReminderOn: e.isReminderOn,
    hasAttachments: false,
    subject: e.subject,
    bodyPreview: text.slice(0, 255),
    importance: e.importance as MSGraph.Importance,
    sensitivity: e.sensitivity as MSGraph.Sensitivity,
    isAllDay: e.isAllDay,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: e.responseRequested,
    seriesMasterId: occurrence ? e.id : null,
    showAs: e.showAs as MSGraph.FreeBusyStatus,
    type: inst ? inst.type : e.recurrence ? 'seriesMaster' : 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(inst?.id ?? e.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: { ...e.body },
    start: inst ? { dateTime: graphDateTime(inst.start), timeZone: 'UTC' } : { ...e.start },
    end: inst ? { dateTime: graphDateTime(inst.end), timeZone: 'UTC' } : { ...e.end },
    location: { displayName: e.location.displayName, locationType: 'default', uniqueIdType: 'unknown' },
    locations: e.location.displayName ? [{ displayName: e.location.displayName, locationType: 'default', uniqueIdType: 'unknown' }] : [],
    ...(!occurrence && e.recurrence ? { recurrence: e.recurrence as MSGraph.PatternedRecurrence } : {}),
    attendees: e.attendees.map((a) => ({ type: a.type, status: { response: a.status.response as MSGraph.ResponseType, time: a.status.time }, emailAddress: { ...a.emailAddress } })),
    organizer: e.organizer,
  };
  if (occurrence) out.originalStart = new Date(inst.start).toISOString().replace(/\.\d{3}Z$/, 'Z');
  Object.assign(out, renderExtended(e.extended, expandedExtendedIds(req.query)));
  void u;
  return out;
}

function dtz(v: unknown, field: string): { dateTime: string; timeZone: string } {
  const x = v as { dateTime?: unknown; timeZone?: unknown } | undefined;
  if (!x || typeof x.dateTime !== 'string') throw badRequest(`${field} is required as { "dateTime": "...", "timeZone": "UTC" }.`, 'ErrorInvalidRequest');
  instant({ dateTime: x.dateTime });
  return { dateTime: x.dateTime, timeZone: typeof x.timeZone === 'string' && x.timeZone ? x.timeZone : 'UTC' };
}

function readRecurrence(v: unknown): RecurrenceState | null {
  if (v === undefined || v === null) return null;
  const r = v as RecurrenceState;
  const types = ['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'];
  if (!r.pattern || !types.includes(r.pattern.type)) throw badRequest(`recurrence.pattern.type must be one of ${types.join(', ')}.`, 'ErrorInvalidRecurrence');
  if (!r.range || !['endDate', 'noEnd', 'numbered'].includes(r.range.type) || !/^\d{4}-\d\d-\d\d$/.test(r.range.startDate ?? '')) {
    throw badRequest('recurrence.range needs a type (endDate, noEnd, numbered) and a startDate (YYYY-MM-DD).', 'ErrorInvalidRecurrence');
  }
  if (r.range.type === 'endDate' && !/^\d{4}-\d\d-\d\d$/.test(r.range.endDate ?? '')) throw badRequest('recurrence.range.endDate is required for an endDate range.', 'ErrorInvalidRecurrence');
  if (r.range.type === 'numbered' && !(Number(r.range.numberOfOccurrences) > 0)) throw badRequest('recurrence.range.numberOfOccurrences must be positive for a numbered range.', 'ErrorInvalidRecurrence');
  const pattern: RecurrenceState['pattern'] = { type: r.pattern.type, interval: Number(r.pattern.interval) || 1 };
  if (r.pattern.month !== undefined) pattern.month = r.pattern.month;
  if (r.pattern.dayOfMonth !== undefined) pattern.dayOfMonth = r.pattern.dayOfMonth;
  if (r.pattern.daysOfWeek !== undefined) pattern.daysOfWeek = [...r.pattern.daysOfWeek];
  if (r.pattern.firstDayOfWeek !== undefined) pattern.firstDayOfWeek = r.pattern.firstDayOfWeek;
  if (r.pattern.index !== undefined) pattern.index = r.pattern.index;
  const range: RecurrenceState['range'] = { type: r.range.type, startDate: r.range.startDate, recurrenceTimeZone: r.range.recurrenceTimeZone ?? 'UTC' };
  if (r.range.type === 'endDate') range.endDate = r.range.endDate;
  if (r.range.type === 'numbered') range.numberOfOccurrences = Number(r.range.numberOfOccurrences);
  return { pattern, range };
}

function readAttendees(v: unknown, at: string): AttendeeState[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest('attendees must be a collection.', 'ErrorInvalidRequest');
  return v.map((a: { type?: string; emailAddress?: { name?: string; address?: string } }) => {
    if (!a?.emailAddress?.address) throw badRequest('Every attendee needs emailAddress.address.', 'ErrorInvalidRecipients');
    return {
      type: a.type === 'optional' || a.type === 'resource' ? a.type : 'required',
      emailAddress: { name: a.emailAddress.name ?? a.emailAddress.address, address: a.emailAddress.address },
      status: { response: 'none', time: at },
    };
  });
}

function readExt(v: unknown): Map<string, string> {
  const ext = new Map<string, string>();
  if (!Array.isArray(v)) return ext;
  for (const p of v as Array<{ id?: unknown; value?: unknown }>) {
    if (typeof p?.id !== 'string' || typeof p.value !== 'string') throw badRequest('An extended property needs a string id and a string value.', 'ErrorInvalidExtendedProperty');
    ext.set(p.id, p.value);
  }
  return ext;
}

function recordInvitations(t: TenantState, u: UserState, e: EventState): void {
  const recipients = e.attendees.map((a) => a.emailAddress.address).filter((a) => a.toLowerCase() !== u.mail.toLowerCase());
  if (recipients.length) t.invitations.push({ userId: u.id, eventId: e.id, subject: e.subject, recipients, at: t.iso() });
}

function findEvent(mb: Mailbox, id: string): { e: EventState; inst?: Instance } {
  const e = mb.events.get(id);
  if (e) return { e };
  // An occurrence id: the master's id followed by the encoded date.
  for (const m of mb.events.values()) {
    if (m.recurrence && id.startsWith(m.id) && id.length > m.id.length) {
      const date = Buffer.from(id.slice(m.id.length), 'base64url').toString('utf8').replace(/^\|/, '');
      const day = Date.parse(date + 'T00:00:00Z');
      if (!Number.isFinite(day)) break;
      const inst = instances(m, day, day + DAY).find((i) => i.id === id);
      if (inst) return { e: m, inst };
    }
  }
  throw notFound('The specified object was not found in the store.', 'ErrorItemNotFound');
}

function windowOf(req: ApiRequest): { from: number; to: number } {
  const s = req.query.get('startDateTime') ?? req.query.get('StartDateTime');
  const e = req.query.get('endDateTime') ?? req.query.get('EndDateTime');
  if (!s || !e) throw badRequest("This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.", 'ErrorInvalidParameter');
  const from = Date.parse(s);
  const to = Date.parse(e);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) throw badRequest('StartDateTime and EndDateTime must be ISO 8601 date-times, the end after the start.', 'ErrorInvalidParameter');
  return { from, to };
}

export function calendarRoutes(): RouteDef[] {
  const R = (method: string, path: string, handler: RouteDef['handler']): RouteDef => ({ method, path, handler, mailbox: true });
  const user = (req: ApiRequest) => req.user as UserState;

  const create = (req: ApiRequest): ApiResponse => {
    const t = req.tenant;
    const u = user(req);
    const mb = u.mailbox;
    const b = jsonBody(req);
    if (typeof b.transactionId === 'string') {
      const same = [...mb.events.values()].find((x) => x.transactionId === b.transactionId);
      if (same) return created(renderEvent(req, u, same));
    }
    const start = dtz(b.start, 'start');
    const end = dtz(b.end, 'end');
    if (instant(end) < instant(start)) throw badRequest('The end of an event must not be before its start.', 'ErrorInvalidRequest');
    const bodyIn = b.body as { contentType?: unknown; content?: unknown } | undefined;
    const organizer: Recipient = { emailAddress: { name: u.displayName, address: u.mail } };
    const e = t.addEvent(mb, {
      subject: typeof b.subject === 'string' ? b.subject : '',
      body: { contentType: String(bodyIn?.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text', content: typeof bodyIn?.content === 'string' ? bodyIn.content : '' },
      start,
      end,
      isAllDay: b.isAllDay === true,
      location: { displayName: String((b.location as { displayName?: unknown } | undefined)?.displayName ?? '') },
      attendees: readAttendees(b.attendees, t.iso()),
      organizer,
      recurrence: readRecurrence(b.recurrence),
      showAs: typeof b.showAs === 'string' ? b.showAs : 'busy',
      sensitivity: typeof b.sensitivity === 'string' ? b.sensitivity : 'normal',
      importance: typeof b.importance === 'string' ? b.importance : 'normal',
      categories: Array.isArray(b.categories) ? (b.categories as unknown[]).map(String) : [],
      isReminderOn: b.isReminderOn !== false,
      reminderMinutesBeforeStart: typeof b.reminderMinutesBeforeStart === 'number' ? b.reminderMinutesBeforeStart : 15,
      transactionId: typeof b.transactionId === 'string' ? b.transactionId : null,
      responseRequested: b.responseRequested !== false,
      extended: readExt(b.singleValueExtendedProperties),
    });
    recordInvitations(t, u, e);
    return created(renderEvent(req, u, e));
  };

  const update = (req: ApiRequest): ApiResponse => {
    const t = req.tenant;
    const u = user(req);
    const { e, inst } = findEvent(u.mailbox, req.params.event as string);
    if (inst) throw badRequest('The emulator does not support changing a single occurrence (exceptions); change the series.', 'ErrorInvalidRequest');
    const b = jsonBody(req);
    const before = JSON.stringify([instant(e.start), instant(e.end), e.location.displayName, e.attendees.map((a) => a.emailAddress.address)]);
    if (typeof b.subject === 'string') e.subject = b.subject;
    const bodyIn = b.body as { contentType?: unknown; content?: unknown } | undefined;
    if (bodyIn && typeof bodyIn.content === 'string') e.body = { contentType: String(bodyIn.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text', content: bodyIn.content };
    if (b.start !== undefined) e.start = dtz(b.start, 'start');
    if (b.end !== undefined) e.end = dtz(b.end, 'end');
    if (typeof b.isAllDay === 'boolean') e.isAllDay = b.isAllDay;
    if (b.location !== undefined) e.location = { displayName: String((b.location as { displayName?: unknown } | null)?.displayName ?? '') };
    if (b.recurrence !== undefined) e.recurrence = readRecurrence(b.recurrence);
    for (const k of ['showAs', 'sensitivity', 'importance'] as const) if (typeof b[k] === 'string') e[k] = b[k] as string;
    if (Array.isArray(b.categories)) e.categories = (b.categories as unknown[]).map(String);
    if (typeof b.isReminderOn === 'boolean') e.isReminderOn = b.isReminderOn;
    if (typeof b.reminderMinutesBeforeStart === 'number') e.reminderMinutesBeforeStart = b.reminderMinutesBeforeStart;
    if (typeof b.responseRequested === 'boolean') e.responseRequested = b.responseRequested;
    for (const [k, v] of readExt(b.singleValueExtendedProperties)) e.extended.set(k, v);
    if (b.attendees !== undefined) e.attendees = readAttendees(b.attendees, t.iso());
    t.touchEvent(e);
    // Exchange sends meeting updates when the organizer changes the time, the place or the attendees.
    const after = JSON.stringify([instant(e.start), instant(e.end), e.location.displayName, e.attendees.map((a) => a.emailAddress.address)]);
    if (after !== before) recordInvitations(t, u, e);
    return ok(renderEvent(req, u, e));
  };

  const remove = (req: ApiRequest): ApiResponse => {
    const u = user(req);
    const { e, inst } = findEvent(u.mailbox, req.params.event as string);
    if (inst) throw badRequest('The emulator does not support deleting a single occurrence; delete the series.', 'ErrorInvalidRequest');
    req.tenant.deleteEvent(u.mailbox, e.id);
    return noContent();
  };

  const view = (req: ApiRequest): ApiResponse => {
    const u = user(req);
    const { from, to } = windowOf(req);
    const all = [...u.mailbox.events.values()].flatMap((e) => instances(e, from, to)).sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
    return listPage(req, all, (i) => renderEvent(req, u, i.event, i), 10, 1000);
  };

  const viewDelta = (req: ApiRequest): ApiResponse => {
    const u = user(req);
    const mb = u.mailbox;
    return deltaPage(req, {
      collection: `calendarView:${u.id}`,
      defaultPageSize: 10,
      maxPageSize: 1000,
      tokenParam: '$deltatoken',
      expired: syncStateNotFound,
      initialExtra: () => {
        if (req.query.get('$skiptoken') || req.query.get('$deltatoken')) return {} as Record<string, string>;
        const { from, to } = windowOf(req);
        return { from: String(from), to: String(to) };
      },
      entries: (since, upto, full, x) => {
        const from = Number(x.from);
        const to = Number(x.to);
        const out: DeltaEntry[] = [];
        for (const e of mb.events.values()) {
          if (e.seq <= since || e.seq > upto) continue;
          for (const i of instances(e, from, to)) out.push({ seq: e.seq, id: i.id, render: () => renderEvent(req, u, e, i) });
        }
        if (!full) {
          for (const tomb of mb.eventTombstones) {
            if (tomb.seq <= since || tomb.seq > upto) continue;
            for (const i of instances(tomb.event, from, to)) out.push({ seq: tomb.seq, id: i.id, render: () => ({ '@odata.type': '#microsoft.graph.event', id: i.id, '@removed': { reason: 'deleted' } }) });
          }
        }
        return out;
      },
    });
  };

  const list = (req: ApiRequest): ApiResponse => {
    const u = user(req);
    const pred = parseFilter(req.query.get('$filter'));
    let items = [...u.mailbox.events.values()];
    if (pred) items = items.filter((e) => pred({ ext: e.extended, props: { iCalUId: e.iCalUId, subject: e.subject, transactionId: e.transactionId ?? '' } }));
    return listPage(req, items, (e) => renderEvent(req, u, e), 10, 1000);
  };

  const get = (req: ApiRequest): ApiResponse => {
    const u = user(req);
    const { e, inst } = findEvent(u.mailbox, req.params.event as string);
    return ok(renderEvent(req, u, e, inst));
  };

  const routes: RouteDef[] = [
    R('GET', '/users/{user}/calendar', (req) => {
      const u = user(req);
      const cal: MSGraph.Calendar & Record<string, unknown> = {
        id: u.mailbox.calendarId, name: 'Calendar', color: 'auto', hexColor: '', isDefaultCalendar: true, changeKey: 'calendar', canShare: true, canViewPrivateItems: true,
        canEdit: true, allowedOnlineMeetingProviders: ['teamsForBusiness'], defaultOnlineMeetingProvider: 'teamsForBusiness', isTallyingResponses: true, isRemovable: false,
        owner: { name: u.displayName, address: u.mail },
      };
      return ok(cal);
    }),
    R('GET', '/users/{user}/calendarView', view),
    R('GET', '/users/{user}/calendar/calendarView', view),
    R('GET', '/users/{user}/calendarView/delta', viewDelta),
    R('GET', '/users/{user}/calendar/calendarView/delta', viewDelta),
  ];
  for (const base of ['/users/{user}/events', '/users/{user}/calendar/events']) {
    routes.push(
      R('GET', base, list),
      R('POST', base, create),
      R('GET', `${base}/{event}`, get),
      R('PATCH', `${base}/{event}`, update),
      R('DELETE', `${base}/{event}`, remove),
      R('GET', `${base}/{event}/instances`, (req) => {
        const u = user(req);
        const { e } = findEvent(u.mailbox, req.params.event as string);
        if (!e.recurrence) throw new GraphApiError(400, 'ErrorInvalidRequest', 'The event is not a series master.');
        const { from, to } = windowOf(req);
        return listPage(req, instances(e, from, to), (i) => renderEvent(req, u, e, i), 10, 1000);
      }),
    );
  }
  return routes;
}
