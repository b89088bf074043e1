/**
 * The comparison shape of each kind, the same for a stored record (raw + blobs) and for what the
 * standby holds (verify.ts), so verification compares them on the kind's preserved fields
 * (kinds.ts). Messages are compared on what Exchange preserves when a message is re-created:
 * addresses, subject, dates, flags, folder, the body's text and the attachments' names, sizes and
 * SHA-256 digests (from the stored MIME) -- not on MIME bytes, which Exchange re-renders.
 */
import { createHash } from 'node:crypto';
import type { ChangeRecord } from '../../src/model/records.js';
import type { VerifyContext } from '../../src/model/connector.js';
import { attachments as mimeAttachments, parseMime, sha256 } from './mime.js';
import { Event, type Message } from './schema.js';
import { K, NR } from './types.js';

export const ATTENDEE_MARK_HTML = '<div id="norestore-attendees">';
export const ATTENDEE_MARK_TEXT = '\n\n-- norestore: attendees of the original meeting';

export function attendeeList(e: Event): string[] {
  return (e.attendees ?? []).filter((a) => a.emailAddress?.address).map((a) => `${a.type ?? 'required'}:${String(a.emailAddress.address).toLowerCase()}`).sort();
}


export const CONTACT_FIELDS = [
  'givenName', 'surname', 'middleName', 'displayName', 'nickName', 'title', 'initials', 'generation', 'fileAs', 'emailAddresses', 'imAddresses', 'businessPhones',
  'homePhones', 'mobilePhone', 'jobTitle', 'companyName', 'department', 'officeLocation', 'profession', 'manager', 'assistantName', 'spouseName', 'birthday',
  'personalNotes', 'businessHomePage', 'homeAddress', 'businessAddress', 'otherAddress', 'children', 'categories', 'yomiGivenName', 'yomiSurname', 'yomiCompanyName',
] as const;


type Raw = Record<string, unknown>;

export function isoSeconds(v: unknown): string | null {
  if (typeof v !== 'string' || !v) return null;
  const s = v.replace(/(\.\d{3})\d*/, '$1');
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

const LATIN1 = 'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(' ');
const ENTITIES: Record<string, string> = {
  ...Object.fromEntries(LATIN1.map((n, i) => [n, String.fromCharCode(160 + i)])),
  lt: '<', gt: '>', quot: '"', apos: "'", amp: '&', ndash: '\u2013', mdash: '\u2014', hellip: '\u2026', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d', euro: '\u20ac', bull: '\u2022', trade: '\u2122',
};

/** Named (HTML 4 Latin-1 and common typographic) and numeric character references. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);/gi, (m, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[ref] ?? ENTITIES[ref.toLowerCase()] ?? m;
  });
}

/** The visible text of a body, whitespace collapsed: what survives Exchange re-wrapping HTML. */
export function bodyText(body: { contentType?: string; content?: string } | null | undefined): string {
  const content = body?.content ?? '';
  const text = (body?.contentType ?? 'text').toLowerCase() === 'html'
    ? decodeEntities(content.replace(/<(style|script|head)[\s\S]*?<\/\1>/gi, ' ').replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]+>/g, ' '))
    : content;
  return text.replace(/\s+/g, ' ').trim();
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function addr(r: unknown): string | null {
  const e = (r as { emailAddress?: { name?: string | null; address?: string | null } } | null)?.emailAddress;
  if (!e?.address) return null;
  return `${e.name && e.name !== e.address ? e.name : ''} <${e.address.toLowerCase()}>`.trim();
}

function addrs(v: unknown): string[] {
  return Array.isArray(v) ? (v.map(addr).filter(Boolean) as string[]) : [];
}

export interface AttachmentDigest {
  name: string;
  size: number;
  sha256: string;
}

export function normalizeMessage(m: Message, folder: string | null, atts: AttachmentDigest[]): Raw {
  return {
    folder,
    subject: m.subject ?? '',
    from: addr(m.from),
    to: addrs(m.toRecipients),
    cc: addrs(m.ccRecipients),
    bcc: addrs(m.bccRecipients),
    replyTo: addrs(m.replyTo),
    internetMessageId: m.internetMessageId ?? null,
    receivedDateTime: isoSeconds(m.receivedDateTime),
    sentDateTime: m.isDraft ? null : isoSeconds(m.sentDateTime),
    isRead: m.isRead ?? false,
    isDraft: m.isDraft ?? false,
    importance: m.importance ?? 'normal',
    categories: [...(m.categories ?? [])].sort(),
    flag: m.flag?.flagStatus ?? 'notFlagged',
    bodyText: digest(bodyText(m.body)),
    attachments: [...atts].sort((a, b) => a.name.localeCompare(b.name) || a.size - b.size || a.sha256.localeCompare(b.sha256)),
  };
}

export function normalizeMailFolder(raw: Raw, parent: string | null, wellKnownName: string | null): Raw {
  return { name: wellKnownName ? null : String(raw.displayName ?? ''), wellKnownName, parent: wellKnownName === 'msgfolderroot' ? null : parent };
}

export function normalizeDriveItem(raw: Raw, parent: string | null): Raw {
  const d = raw as { name?: string; size?: number; root?: unknown; file?: { hashes?: { quickXorHash?: string } }; fileSystemInfo?: { createdDateTime?: string; lastModifiedDateTime?: string } };
  if (d.root) return { root: true };
  return {
    name: d.name ?? null,
    parent,
    created: isoSeconds(d.fileSystemInfo?.createdDateTime),
    modified: isoSeconds(d.fileSystemInfo?.lastModifiedDateTime),
    ...(d.file ? { size: d.size ?? 0, quickXorHash: d.file.hashes?.quickXorHash ?? null } : {}),
  };
}

export function normRecurrence(r: unknown): Raw | null {
  const rec = r as { pattern?: Raw; range?: Raw } | null | undefined;
  if (!rec?.pattern || !rec.range) return null;
  const p = rec.pattern;
  const g = rec.range;
  const type = String(p.type);
  return {
    type,
    interval: Number(p.interval ?? 1),
    daysOfWeek: type.includes('eekly') || type.startsWith('relative') ? [...((p.daysOfWeek as string[] | undefined) ?? [])].map((d) => d.toLowerCase()).sort() : [],
    dayOfMonth: type.startsWith('absolute') && type !== 'absoluteYearly' ? Number(p.dayOfMonth ?? 0) : type === 'absoluteYearly' ? Number(p.dayOfMonth ?? 0) : 0,
    month: type.endsWith('Yearly') ? Number(p.month ?? 0) : 0,
    index: type.startsWith('relative') ? String(p.index ?? 'first') : null,
    range: String(g.type),
    startDate: String(g.startDate ?? ''),
    endDate: g.type === 'endDate' ? String(g.endDate ?? '') : null,
    count: g.type === 'numbered' ? Number(g.numberOfOccurrences ?? 0) : null,
  };
}

/** Remove the attendee block import appends to an event body. */
export function stripAttendeeBlock(body: { contentType?: string; content?: string } | null | undefined): { contentType?: string; content?: string } {
  const content = body?.content ?? '';
  const i = content.indexOf(ATTENDEE_MARK_HTML);
  const j = content.indexOf(ATTENDEE_MARK_TEXT);
  const cut = i >= 0 ? i : j;
  return { contentType: body?.contentType, content: cut >= 0 ? content.slice(0, cut) : content };
}

export function normalizeEvent(e: Event, attendees: string[], body: { contentType?: string; content?: string } | null | undefined): Raw {
  const dt = (d: { dateTime: string; timeZone?: string | null } | null | undefined) => (d ? { dateTime: isoSeconds(d.dateTime), timeZone: d.timeZone ?? 'UTC' } : null);
  return {
    subject: e.subject ?? '',
    bodyText: digest(bodyText(body)),
    start: dt(e.start),
    end: dt(e.end),
    isAllDay: e.isAllDay ?? false,
    location: e.location?.displayName ?? '',
    recurrence: normRecurrence(e.recurrence),
    showAs: e.showAs ?? 'busy',
    sensitivity: e.sensitivity ?? 'normal',
    importance: e.importance ?? 'normal',
    categories: [...(e.categories ?? [])].sort(),
    isReminderOn: e.isReminderOn ?? true,
    reminderMinutesBeforeStart: e.reminderMinutesBeforeStart ?? 15,
    attendees,
  };
}

export function normalizeContact(raw: Raw, folder: string | null): Raw {
  const out: Raw = { folder };
  for (const f of CONTACT_FIELDS) {
    let v = raw[f];
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) v = null;
    if (f === 'birthday') v = isoSeconds(v);
    if (f === 'categories' && Array.isArray(v)) v = [...(v as string[])].sort();
    if (f === 'emailAddresses' && Array.isArray(v)) v = (v as Array<{ name?: string; address?: string }>).map((e) => `${e.name ?? ''} <${(e.address ?? '').toLowerCase()}>`);
    if ((f === 'homeAddress' || f === 'businessAddress' || f === 'otherAddress') && v && typeof v === 'object') {
      const a = Object.fromEntries(Object.entries(v as Raw).filter(([, x]) => x !== null && x !== ''));
      v = Object.keys(a).length ? a : null;
    }
    out[f] = v;
  }
  return out;
}

async function readBlob(ctx: VerifyContext, sha: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ctx.getBlob(sha)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stored record in its comparison shape. */
export async function normalizeStored(record: ChangeRecord, ctx: VerifyContext): Promise<Raw> {
  const raw = (record.raw ?? {}) as Raw;
  switch (record.kind) {
    case K.message: {
      const atts = record.blobs?.mime ? mimeAttachments(parseMime(await readBlob(ctx, record.blobs.mime.sha256))).map((a) => ({ name: a.name, size: a.content.length, sha256: sha256(a.content) })) : [];
      return normalizeMessage(raw as Message, record.parent ?? null, atts);
    }
    case K.mailFolder:
      return normalizeMailFolder(raw, record.parent ?? null, (raw[NR.wellKnownName] as string | undefined) ?? null);
    case K.driveFolder:
    case K.driveFile:
      return normalizeDriveItem(raw, record.parent ?? null);
    case K.event: {
      const e = Event.parse(raw);
      // A source that is itself a norestore standby (replication reversed) carries the block too.
      return normalizeEvent(e, attendeeList(e), stripAttendeeBlock(e.body));
    }
    case K.contactFolder:
      return raw[NR.isDefault] ? { isDefault: true } : { name: raw.displayName ?? null, parent: record.parent ?? null };
    case K.contact:
      return normalizeContact(raw, record.parent ?? null);
    default:
      return { raw };
  }
}
