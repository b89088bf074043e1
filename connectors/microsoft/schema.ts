/**
 * zod schemas for the cursors this connector stores and for the parts of Graph payloads it relies
 * on. Objects are loose: unknown fields are kept, so `raw` stays the API object as received. A
 * cursor that does not parse (another version, another user) means a full resync by difference.
 */
import { z } from 'zod';

export const DirectoryCursor = z.object({ v: z.literal(1), scope: z.literal('directory'), deltaLink: z.string() });
export const MailCursor = z.object({
  v: z.literal(1),
  scope: z.literal('mail'),
  userId: z.string(),
  folders: z.string(),
  /** folder id -> messages deltaLink */
  messages: z.record(z.string(), z.string()),
  /** well-known name -> folder id */
  wellKnown: z.record(z.string(), z.string()),
});
export const DriveCursor = z.object({ v: z.literal(1), scope: z.literal('drive'), userId: z.string(), deltaLink: z.string() });
export const CalendarCursor = z.object({
  v: z.literal(1),
  scope: z.literal('calendar'),
  userId: z.string(),
  deltaLink: z.string(),
  window: z.object({ start: z.string(), end: z.string() }),
});
export const ContactsCursor = z.object({
  v: z.literal(1),
  scope: z.literal('contacts'),
  userId: z.string(),
  folders: z.string(),
  contacts: z.record(z.string(), z.string()),
  rootId: z.string().nullable(),
});

const Recipient = z.looseObject({ emailAddress: z.looseObject({ name: z.string().nullable().optional(), address: z.string().nullable().optional() }) });
export type Recipient = z.infer<typeof Recipient>;

export const Message = z.looseObject({
  id: z.string(),
  changeKey: z.string().nullable().optional(),
  subject: z.string().nullable().optional(),
  body: z.looseObject({ contentType: z.string().optional(), content: z.string().optional() }).nullable().optional(),
  from: Recipient.nullable().optional(),
  sender: Recipient.nullable().optional(),
  toRecipients: z.array(Recipient).nullable().optional(),
  ccRecipients: z.array(Recipient).nullable().optional(),
  bccRecipients: z.array(Recipient).nullable().optional(),
  replyTo: z.array(Recipient).nullable().optional(),
  internetMessageId: z.string().nullable().optional(),
  receivedDateTime: z.string().nullable().optional(),
  sentDateTime: z.string().nullable().optional(),
  lastModifiedDateTime: z.string().nullable().optional(),
  isRead: z.boolean().nullable().optional(),
  isDraft: z.boolean().nullable().optional(),
  importance: z.string().nullable().optional(),
  categories: z.array(z.string()).nullable().optional(),
  flag: z.looseObject({ flagStatus: z.string().optional() }).nullable().optional(),
  parentFolderId: z.string().nullable().optional(),
  hasAttachments: z.boolean().nullable().optional(),
  isReadReceiptRequested: z.boolean().nullable().optional(),
  isDeliveryReceiptRequested: z.boolean().nullable().optional(),
});
export type Message = z.infer<typeof Message>;

export const MailFolder = z.looseObject({ id: z.string(), displayName: z.string().nullable().optional(), parentFolderId: z.string().nullable().optional() });
export type MailFolder = z.infer<typeof MailFolder>;

export const DriveItem = z.looseObject({
  id: z.string(),
  name: z.string().nullable().optional(),
  eTag: z.string().nullable().optional(),
  cTag: z.string().nullable().optional(),
  size: z.number().nullable().optional(),
  lastModifiedDateTime: z.string().nullable().optional(),
  parentReference: z.looseObject({ id: z.string().nullable().optional(), driveId: z.string().nullable().optional() }).nullable().optional(),
  fileSystemInfo: z.looseObject({ createdDateTime: z.string().nullable().optional(), lastModifiedDateTime: z.string().nullable().optional() }).nullable().optional(),
  file: z.looseObject({ mimeType: z.string().nullable().optional(), hashes: z.looseObject({ quickXorHash: z.string().nullable().optional() }).nullable().optional() }).nullable().optional(),
  folder: z.looseObject({}).nullable().optional(),
  root: z.looseObject({}).nullable().optional(),
  deleted: z.looseObject({}).nullable().optional(),
  package: z.looseObject({}).nullable().optional(),
});
export type DriveItem = z.infer<typeof DriveItem>;

const DateTimeTimeZone = z.looseObject({ dateTime: z.string(), timeZone: z.string().nullable().optional() });

export const Event = z.looseObject({
  id: z.string(),
  changeKey: z.string().nullable().optional(),
  type: z.string().nullable().optional(),
  seriesMasterId: z.string().nullable().optional(),
  subject: z.string().nullable().optional(),
  body: z.looseObject({ contentType: z.string().optional(), content: z.string().optional() }).nullable().optional(),
  start: DateTimeTimeZone.nullable().optional(),
  end: DateTimeTimeZone.nullable().optional(),
  isAllDay: z.boolean().nullable().optional(),
  location: z.looseObject({ displayName: z.string().nullable().optional() }).nullable().optional(),
  recurrence: z.looseObject({}).nullable().optional(),
  attendees: z.array(z.looseObject({ type: z.string().nullable().optional(), emailAddress: Recipient.shape.emailAddress })).nullable().optional(),
  showAs: z.string().nullable().optional(),
  sensitivity: z.string().nullable().optional(),
  importance: z.string().nullable().optional(),
  categories: z.array(z.string()).nullable().optional(),
  isReminderOn: z.boolean().nullable().optional(),
  reminderMinutesBeforeStart: z.number().nullable().optional(),
  lastModifiedDateTime: z.string().nullable().optional(),
});
export type Event = z.infer<typeof Event>;

export const Contact = z.looseObject({ id: z.string(), changeKey: z.string().nullable().optional(), parentFolderId: z.string().nullable().optional(), lastModifiedDateTime: z.string().nullable().optional() });
export type Contact = z.infer<typeof Contact>;

export const ContactFolder = z.looseObject({ id: z.string(), displayName: z.string().nullable().optional(), parentFolderId: z.string().nullable().optional() });
export type ContactFolder = z.infer<typeof ContactFolder>;

export const User = z.looseObject({ id: z.string(), userPrincipalName: z.string().nullable().optional(), mail: z.string().nullable().optional(), displayName: z.string().nullable().optional() });
export type User = z.infer<typeof User>;
