/**
 * zod schemas of what norestore stores from Google (record.raw) and of its cursors. The stored raw
 * is googleapis' wire shape, trimmed to the fields used; these schemas check it when it is read
 * back (import, normalize), so a damaged or foreign record is named instead of misread.
 */
import { z } from 'zod';

const str = z.string();
const optStr = z.string().nullish();

export const UserRaw = z.looseObject({
  id: str,
  primaryEmail: str,
  name: z.looseObject({ givenName: optStr, familyName: optStr }).nullish(),
  suspended: z.boolean().nullish(),
  orgUnitPath: optStr,
  isAdmin: z.boolean().nullish(),
});
export type UserRaw = z.infer<typeof UserRaw>;

export const GroupRaw = z.looseObject({ id: str, email: str, name: optStr, description: optStr });
export type GroupRaw = z.infer<typeof GroupRaw>;

export const MemberRaw = z.object({ groupId: str, groupEmail: str, email: str, role: str, type: str });
export type MemberRaw = z.infer<typeof MemberRaw>;

export const LabelRaw = z.looseObject({
  id: str,
  name: str,
  type: optStr,
  messageListVisibility: optStr,
  labelListVisibility: optStr,
  color: z.looseObject({ textColor: optStr, backgroundColor: optStr }).nullish(),
});
export type LabelRaw = z.infer<typeof LabelRaw>;

export const MessageRaw = z.object({
  id: str,
  threadId: optStr,
  labelIds: z.array(str),
  internalDate: optStr,
  sizeEstimate: z.number().nullish(),
  historyId: optStr,
  /** Message-ID header (natural key for adoption), lower case without brackets. */
  rfcMessageId: optStr,
});
export type MessageRaw = z.infer<typeof MessageRaw>;

export const PermissionRaw = z.object({
  id: optStr,
  type: str,
  role: str,
  emailAddress: optStr,
  domain: optStr,
  allowFileDiscovery: z.boolean().nullish(),
});
export type PermissionRaw = z.infer<typeof PermissionRaw>;

export const SharedDriveRaw = z.object({ id: str, name: str, members: z.array(PermissionRaw) });
export type SharedDriveRaw = z.infer<typeof SharedDriveRaw>;

export const FileRaw = z.object({
  file: z.looseObject({
    id: str,
    name: str,
    mimeType: str,
    parents: z.array(str).nullish(),
    driveId: optStr,
    createdTime: optStr,
    modifiedTime: optStr,
    description: optStr,
    starred: z.boolean().nullish(),
    size: optStr,
    md5Checksum: optStr,
    sha256Checksum: optStr,
    version: optStr,
  }),
  /** 'root' (the My Drive root or the shared drive) or the parent folder's source id. */
  parent: str,
  permissions: z.array(PermissionRaw),
  /** For Google-native documents: the Office format the content blob holds. */
  exportMimeType: optStr,
  /** Why there is no content (e.g. exportSizeLimitExceeded). */
  exportError: optStr,
  /**
   * The id of the item norestore restored this one from (its appProperties.nrSrc), if it did: after
   * a failover, the original in the old primary, which the reversed replication adopts by it.
   */
  restoredFrom: optStr,
});
export type FileRaw = z.infer<typeof FileRaw>;

export const CalendarRaw = z.object({ id: str, summary: str, description: optStr, timeZone: optStr });
export type CalendarRaw = z.infer<typeof CalendarRaw>;

const EventTime = z.looseObject({ date: optStr, dateTime: optStr, timeZone: optStr });
export const EventRaw = z.object({
  /** 'primary' or the source calendar id. */
  calendar: str,
  event: z.looseObject({
    id: str,
    iCalUID: optStr,
    status: optStr,
    summary: optStr,
    description: optStr,
    location: optStr,
    start: EventTime.nullish(),
    end: EventTime.nullish(),
    recurrence: z.array(str).nullish(),
    recurringEventId: optStr,
    originalStartTime: EventTime.nullish(),
    organizer: z.looseObject({ email: optStr, displayName: optStr }).nullish(),
    attendees: z.array(z.looseObject({ email: optStr, displayName: optStr, optional: z.boolean().nullish(), responseStatus: optStr })).nullish(),
    transparency: optStr,
    visibility: optStr,
    sequence: z.number().nullish(),
  }),
});
export type EventRaw = z.infer<typeof EventRaw>;

export const MailboxCursor = z.object({ v: z.literal(1), historyId: z.string().regex(/^\d+$/) });
export const DriveCursor = z.object({ v: z.literal(1), pageToken: z.string().min(1) });
export const CalendarCursor = z.object({ v: z.literal(1), tokens: z.record(z.string(), z.string()) });
export const DirectoryCursor = z.object({ v: z.literal(1), listedAt: z.string() });

/** Parse a stored raw value, naming the record when it does not fit. */
export function parseRaw<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(`stored ${what} does not have the expected shape: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
