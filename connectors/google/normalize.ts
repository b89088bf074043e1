/**
 * The comparison shape of every kind, for a stored record (source side, addresses mapped to the
 * standby identities) and for a standby item (verify.ts). Both sides go through the same functions,
 * so verification compares like with like on the fields kinds.ts declares preserved.
 */
import type { Readable } from 'node:stream';
import type { ChangeRecord } from '../../src/model/records.js';
import { readAllBytes } from './client.js';
import { FOLDER, NATIVE_EXPORT, officeText, textDigest } from './office.js';
import { EventRaw, FileRaw, GroupRaw, LabelRaw, MemberRaw, MessageRaw, SharedDriveRaw, CalendarRaw, UserRaw, parseRaw, type PermissionRaw } from './schema.js';
import { K, type IdentityMap } from './types.js';

/** Labels Gmail refuses on import: left out on both sides. */
export const UNIMPORTABLE_LABELS = new Set(['DRAFT', 'CHAT']);

export const normUser = (u: UserRaw, addr: (a: string) => string): Record<string, unknown> => ({
  primaryEmail: addr(u.primaryEmail),
  givenName: u.name?.givenName ?? null,
  familyName: u.name?.familyName ?? null,
  suspended: u.suspended ?? false,
  orgUnitPath: u.orgUnitPath ?? '/',
});

export const normGroup = (g: GroupRaw, addr: (a: string) => string): Record<string, unknown> => ({ email: addr(g.email), name: g.name ?? '', description: g.description ?? '' });

export const normMember = (m: MemberRaw, addr: (a: string) => string): Record<string, unknown> => ({ group: addr(m.groupEmail), email: addr(m.email), role: m.role, type: m.type });

export const normLabel = (l: LabelRaw): Record<string, unknown> => ({
  name: l.name,
  messageListVisibility: l.messageListVisibility ?? 'show',
  labelListVisibility: l.labelListVisibility ?? 'labelShow',
  color: l.color?.backgroundColor || l.color?.textColor ? { textColor: l.color?.textColor ?? null, backgroundColor: l.color?.backgroundColor ?? null } : null,
});

/** Message labels in source id space: system labels by id, user labels by the source label id. */
export const normMessage = (mime: string, labels: string[]): Record<string, unknown> => ({ mime, labels: [...new Set(labels.filter((l) => !UNIMPORTABLE_LABELS.has(l)))].sort() });

/** A permission as `role:type:address` with addresses mapped; owners and inherited ones are left out by callers. */
export function permKey(p: PermissionRaw, addr: (a: string) => string, domain: (d: string) => string): string {
  const who = p.type === 'user' || p.type === 'group' ? addr(p.emailAddress ?? '') : p.type === 'domain' ? domain(p.domain ?? '') : 'anyone';
  return `${p.role}:${p.type}:${who}`;
}

export const normPermissions = (perms: PermissionRaw[], addr: (a: string) => string, domain: (d: string) => string): string[] =>
  [...new Set(perms.filter((p) => p.role !== 'owner').map((p) => permKey(p, addr, domain)))].sort();

/** Shared drive members; the standby admin (which creates restored drives and stays an organizer) is left out. */
export const normSharedDrive = (d: SharedDriveRaw, addr: (a: string) => string, domain: (d: string) => string, standbyAdmin = ''): Record<string, unknown> => ({
  name: d.name,
  members: normPermissions(d.members.filter((m) => !(m.type === 'user' && standbyAdmin && addr(m.emailAddress ?? '') === standbyAdmin.toLowerCase())), addr, domain),
});

export const normCalendar = (c: CalendarRaw): Record<string, unknown> => ({ summary: c.summary, description: c.description ?? '', timeZone: c.timeZone ?? 'UTC' });

function normTime(t: { date?: string | null; dateTime?: string | null; timeZone?: string | null } | null | undefined): Record<string, unknown> | null {
  if (!t) return null;
  if (t.date) return { date: t.date };
  const ms = t.dateTime ? Date.parse(t.dateTime) : NaN;
  return { dateTime: Number.isFinite(ms) ? new Date(ms).toISOString() : (t.dateTime ?? null), timeZone: t.timeZone ?? null };
}

export function normEvent(e: EventRaw['event'], addr: (a: string) => string): Record<string, unknown> {
  return {
    iCalUID: e.iCalUID ?? null,
    summary: e.summary ?? '',
    description: e.description ?? '',
    location: e.location ?? '',
    start: normTime(e.start),
    end: normTime(e.end),
    recurrence: e.recurrence ?? [],
    status: e.status ?? 'confirmed',
    organizer: e.organizer?.email ? addr(e.organizer.email) : null,
    attendees: [...new Set((e.attendees ?? []).map((a) => (a.email ? addr(a.email) : '')).filter(Boolean))].sort(),
    transparency: e.transparency ?? 'opaque',
    visibility: e.visibility ?? 'default',
  };
}

/** The mimeType a stored file should have on the standby. */
export function standbyMimeType(mimeType: string, convertOfficeToNative: boolean): string {
  const exp = NATIVE_EXPORT[mimeType];
  return exp && !convertOfficeToNative ? exp.mimeType : mimeType;
}

export interface NormalizeEnv {
  identity: IdentityMap;
  standbyAdmin: string;
  convertOfficeToNative: boolean;
  getBlob(sha256: string): Promise<Readable>;
}

export async function normalizeStored(record: ChangeRecord, env: NormalizeEnv): Promise<Record<string, unknown>> {
  const addr = (a: string) => env.identity.address(a);
  const domain = (d: string) => env.identity.domain(d);
  const what = `${record.kind} ${record.id}`;
  switch (record.kind) {
    case K.user:
      return normUser(parseRaw(UserRaw, record.raw, what), addr);
    case K.group:
      return normGroup(parseRaw(GroupRaw, record.raw, what), addr);
    case K.member:
      return normMember(parseRaw(MemberRaw, record.raw, what), addr);
    case K.label:
      return normLabel(parseRaw(LabelRaw, record.raw, what));
    case K.message: {
      const m = parseRaw(MessageRaw, record.raw, what);
      return normMessage(record.blobs?.mime?.sha256 ?? '', m.labelIds);
    }
    case K.sharedDrive:
      return normSharedDrive(parseRaw(SharedDriveRaw, record.raw, what), addr, domain, env.standbyAdmin);
    case K.file: {
      const f = parseRaw(FileRaw, record.raw, what);
      let content: string | null = null;
      const blob = record.blobs?.content;
      if (f.file.mimeType !== FOLDER && blob) {
        if (NATIVE_EXPORT[f.file.mimeType] && env.convertOfficeToNative) content = textDigest(officeText(await readAllBytes(await env.getBlob(blob.sha256))));
        else content = `sha256:${blob.sha256}`;
      }
      return {
        name: f.file.name,
        mimeType: standbyMimeType(f.file.mimeType, env.convertOfficeToNative),
        parent: f.parent,
        content,
        permissions: normPermissions(f.permissions, addr, domain),
        modifiedTime: f.file.modifiedTime ? new Date(f.file.modifiedTime).toISOString() : null,
        description: f.file.description ?? '',
      };
    }
    case K.calendar:
      return normCalendar(parseRaw(CalendarRaw, record.raw, what));
    case K.event:
      return normEvent(parseRaw(EventRaw, record.raw, what).event, addr);
    default:
      throw new Error(`unknown kind ${record.kind} in the Google connector`);
  }
}
