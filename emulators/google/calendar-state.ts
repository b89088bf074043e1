/**
 * Calendars of one domain. Every change of an event gets the calendar's next sequence number; a
 * sync token names a position in that sequence. Deleted events stay as `cancelled` so that sync
 * can report them. Tokens older than the calendar's floor are expired (410 fullSyncRequired).
 */
import type { calendar_v3 } from 'googleapis';

export interface Ev {
  r: calendar_v3.Schema$Event;
  seq: number;
}

export interface Cal {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  owner: string;
  primary: boolean;
  events: Map<string, Ev>;
  seq: number;
  /** Tokens naming a position below this are expired. */
  floor: number;
}

export class CalendarState {
  readonly calendars = new Map<string, Cal>();
  /** user -> calendar ids in their calendar list. */
  readonly lists = new Map<string, Set<string>>();

  createCalendar(owner: string, id: string, summary: string, timeZone: string, primary: boolean, description?: string): Cal {
    const cal: Cal = { id, summary, timeZone, owner, primary, events: new Map(), seq: 1, floor: 0 };
    if (description) cal.description = description;
    this.calendars.set(id, cal);
    let l = this.lists.get(owner);
    if (!l) this.lists.set(owner, (l = new Set()));
    l.add(id);
    return cal;
  }

  deleteCalendar(id: string): void {
    const cal = this.calendars.get(id);
    if (!cal) return;
    this.calendars.delete(id);
    for (const l of this.lists.values()) l.delete(id);
  }

  /** Store an event version; bumps the calendar's sequence and the event's etag. */
  put(cal: Cal, r: calendar_v3.Schema$Event): Ev {
    const seq = ++cal.seq;
    r.etag = `"${(BigInt(seq) * 1000003n + 3000000000000000n).toString()}"`;
    const ev: Ev = { r, seq };
    cal.events.set(r.id as string, ev);
    return ev;
  }

  syncToken(cal: Cal): string {
    return Buffer.from(`nrcal:${cal.id}:${cal.seq}`).toString('base64url');
  }

  /** Position of a token for this calendar, 'expired', or 'invalid'. */
  parseSyncToken(cal: Cal, token: string): number | 'expired' | 'invalid' {
    const text = Buffer.from(token, 'base64url').toString('utf8');
    const m = /^nrcal:(.*):(\d+)$/.exec(text);
    if (!m || m[1] !== cal.id) return 'invalid';
    const seq = Number(m[2]);
    if (seq < cal.floor) return 'expired';
    return seq;
  }

  expireTokens(cal: Cal): void {
    cal.floor = cal.seq + 1;
  }
}
