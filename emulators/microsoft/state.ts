/**
 * The in-memory state of one emulated Microsoft 365 tenant: users, their mailboxes (folders,
 * messages, calendar, contacts) and OneDrive drives. Every change takes a number from one
 * tenant-wide sequence; delta queries return what changed after the sequence number their token
 * carries, tombstones (kept per collection) give `@removed` / `deleted` entries. Bumping
 * `generation` expires every outstanding delta token.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { seededRandom } from './faults.js';

export type Json = Record<string, unknown>;

export interface Recipient {
  emailAddress: { name?: string; address: string };
}

export interface UserState {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string;
  jobTitle: string | null;
  officeLocation: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  preferredLanguage: string | null;
  accountEnabled: boolean;
  seq: number;
  mailbox: Mailbox;
  drive: DriveState;
}

export interface MailFolderState {
  id: string;
  displayName: string;
  parentFolderId: string | null;
  wellKnownName?: string;
  isHidden: boolean;
  seq: number;
}

export interface AttachmentState {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  lastModifiedDateTime: string;
  content: Buffer;
}

export interface MessageState {
  id: string;
  folderId: string;
  seq: number;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string | null;
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  from: Recipient | null;
  sender: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  internetMessageId: string;
  conversationId: string;
  importance: 'low' | 'normal' | 'high';
  isRead: boolean;
  isDraft: boolean;
  isDeliveryReceiptRequested: boolean;
  isReadReceiptRequested: boolean;
  flag: { flagStatus: 'notFlagged' | 'flagged' | 'complete' };
  categories: string[];
  inferenceClassification: 'focused' | 'other';
  /** Transport headers of a received message (Received, X-Mailer ...), placed before the MIME headers. */
  internetMessageHeaders: Array<{ name: string; value: string }>;
  attachments: AttachmentState[];
  /** singleValueExtendedProperties by property id as given (e.g. 'Integer 0x0E07'). */
  extended: Map<string, string>;
}

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

export interface RecurrenceState {
  pattern: {
    type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
    interval: number;
    month?: number;
    dayOfMonth?: number;
    daysOfWeek?: string[];
    firstDayOfWeek?: string;
    index?: string;
  };
  range: { type: 'endDate' | 'noEnd' | 'numbered'; startDate: string; endDate?: string; numberOfOccurrences?: number; recurrenceTimeZone?: string };
}

export interface AttendeeState {
  type: 'required' | 'optional' | 'resource';
  emailAddress: { name?: string; address: string };
  status: { response: string; time: string };
}

export interface EventState {
  id: string;
  seq: number;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  start: DateTimeTimeZone;
  end: DateTimeTimeZone;
  isAllDay: boolean;
  location: { displayName: string };
  attendees: AttendeeState[];
  organizer: Recipient;
  recurrence: RecurrenceState | null;
  showAs: string;
  sensitivity: string;
  importance: string;
  categories: string[];
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  iCalUId: string;
  transactionId: string | null;
  responseRequested: boolean;
  extended: Map<string, string>;
}

export interface ContactFolderState {
  id: string;
  displayName: string;
  parentFolderId: string;
  seq: number;
}

export interface ContactState {
  id: string;
  folderId: string;
  seq: number;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  fields: Json;
  categories: string[];
  extended: Map<string, string>;
}

export interface Mailbox {
  folders: Map<string, MailFolderState>;
  rootFolderId: string;
  messages: Map<string, MessageState>;
  folderTombstones: Array<{ id: string; parentFolderId: string | null; seq: number }>;
  messageTombstones: Array<{ id: string; folderId: string; seq: number }>;
  calendarId: string;
  events: Map<string, EventState>;
  eventTombstones: Array<{ event: EventState; seq: number }>;
  contactRootId: string;
  contactFolders: Map<string, ContactFolderState>;
  contacts: Map<string, ContactState>;
  contactFolderTombstones: Array<{ id: string; parentFolderId: string; seq: number }>;
  contactTombstones: Array<{ id: string; folderId: string; seq: number }>;
}

/** File content: small content in memory, large content in a file of the emulator's data dir. */
export type Content = { buf: Buffer } | { file: string; size: number };

export interface DriveItemState {
  id: string;
  name: string;
  parentId: string | null;
  isFolder: boolean;
  seq: number;
  createdDateTime: string;
  lastModifiedDateTime: string;
  fileSystemInfo: { createdDateTime: string; lastModifiedDateTime: string };
  version: number;
  contentVersion: number;
  description: string | null;
  mimeType: string | null;
  size: number;
  quickXorHash: string | null;
  content: Content | null;
}

export interface DriveState {
  id: string;
  ownerId: string;
  rootId: string;
  items: Map<string, DriveItemState>;
  tombstones: Array<{ id: string; parentId: string | null; name: string; isFolder: boolean; seq: number }>;
}

export const WELL_KNOWN_FOLDERS: ReadonlyArray<[string, string]> = [
  ['inbox', 'Inbox'],
  ['sentitems', 'Sent Items'],
  ['drafts', 'Drafts'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['archive', 'Archive'],
  ['outbox', 'Outbox'],
];

export function isoNow(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Recorded when an event with attendees is created or updated: Exchange would have sent invitations. */
export interface InvitationRecord {
  userId: string;
  eventId: string;
  subject: string;
  recipients: string[];
  at: string;
}

export class TenantState {
  readonly users = new Map<string, UserState>();
  readonly userTombstones: Array<{ id: string; seq: number }> = [];
  readonly invitations: InvitationRecord[] = [];
  /** Delta tokens issued under an older generation are rejected as expired. */
  generation = 1;
  private seqNo = 0;
  private idNo = 0;
  private readonly rand: () => number;

  constructor(
    readonly tenantId: string,
    readonly domain: string,
    readonly seed: number,
    readonly now: () => number = Date.now,
  ) {
    this.rand = seededRandom(seed);
  }

  get seq(): number {
    return this.seqNo;
  }

  nextSeq(): number {
    return ++this.seqNo;
  }

  /** An opaque Exchange-like id with a prefix (AAMk for items, AQMk for folders ...). */
  newId(prefix = 'AAMk'): string {
    const n = ++this.idNo;
    const h = createHash('sha256').update(`${this.tenantId}\u0000${this.seed}\u0000${n}`).digest('base64url');
    return `${prefix}${h.slice(0, 36)}`;
  }

  newGuid(): string {
    const b = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) b[i] = Math.floor(this.rand() * 256);
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  changeKey(): string {
    const b = Buffer.alloc(12);
    for (let i = 0; i < 12; i++) b[i] = Math.floor(this.rand() * 256);
    return `CQAAABYAAA${b.toString('base64').replace(/=+$/, '')}`;
  }

  random(): number {
    return this.rand();
  }

  iso(): string {
    return isoNow(this.now());
  }

  /** Find a user by id or userPrincipalName (case-insensitive), as Graph's /users/{id | userPrincipalName}. */
  user(idOrUpn: string): UserState | undefined {
    const direct = this.users.get(idOrUpn);
    if (direct) return direct;
    const l = idOrUpn.toLowerCase();
    for (const u of this.users.values()) if (u.userPrincipalName.toLowerCase() === l || u.id === l) return u;
    return undefined;
  }

  addUser(input: { userPrincipalName: string; displayName: string; givenName?: string; surname?: string; jobTitle?: string; officeLocation?: string; mobilePhone?: string; businessPhones?: string[] }): UserState {
    const id = this.newGuid();
    const mailbox = this.newMailbox();
    const driveId = `b!${createHash('sha256').update(`drive\u0000${id}`).digest('base64url').slice(0, 40)}`;
    const rootId = this.newId('01');
    const now = this.iso();
    const drive: DriveState = { id: driveId, ownerId: id, rootId, items: new Map(), tombstones: [] };
    drive.items.set(rootId, {
      id: rootId, name: 'root', parentId: null, isFolder: true, seq: this.nextSeq(), createdDateTime: now, lastModifiedDateTime: now,
      fileSystemInfo: { createdDateTime: now, lastModifiedDateTime: now }, version: 1, contentVersion: 1, description: null, mimeType: null, size: 0, quickXorHash: null, content: null,
    });
    const user: UserState = {
      id,
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      givenName: input.givenName ?? null,
      surname: input.surname ?? null,
      mail: input.userPrincipalName,
      jobTitle: input.jobTitle ?? null,
      officeLocation: input.officeLocation ?? null,
      mobilePhone: input.mobilePhone ?? null,
      businessPhones: input.businessPhones ?? [],
      preferredLanguage: 'en-US',
      accountEnabled: true,
      seq: this.nextSeq(),
      mailbox,
      drive,
    };
    this.users.set(id, user);
    return user;
  }

  deleteUser(id: string): void {
    const u = this.users.get(id);
    if (!u) return;
    this.users.delete(id);
    this.userTombstones.push({ id, seq: this.nextSeq() });
  }

  touchUser(u: UserState): void {
    u.seq = this.nextSeq();
  }

  private newMailbox(): Mailbox {
    const rootFolderId = this.newId('AQMk');
    const folders = new Map<string, MailFolderState>();
    folders.set(rootFolderId, { id: rootFolderId, displayName: 'Top of Information Store', parentFolderId: null, wellKnownName: 'msgfolderroot', isHidden: false, seq: this.nextSeq() });
    for (const [wk, name] of WELL_KNOWN_FOLDERS) {
      const id = this.newId('AQMk');
      folders.set(id, { id, displayName: name, parentFolderId: rootFolderId, wellKnownName: wk, isHidden: false, seq: this.nextSeq() });
    }
    const contactRootId = this.newId('AQMk');
    return {
      folders, rootFolderId, messages: new Map(), folderTombstones: [], messageTombstones: [],
      calendarId: this.newId('AQMk'), events: new Map(), eventTombstones: [],
      contactRootId, contactFolders: new Map(), contacts: new Map(), contactFolderTombstones: [], contactTombstones: [],
    };
  }

  // ---- mail -----------------------------------------------------------------------------------

  wellKnownFolder(mb: Mailbox, name: string): MailFolderState | undefined {
    const l = name.toLowerCase();
    for (const f of mb.folders.values()) if (f.wellKnownName === l) return f;
    return undefined;
  }

  /** A folder by id or well-known name (inbox, sentitems, drafts, deleteditems, msgfolderroot ...). */
  folder(mb: Mailbox, idOrName: string): MailFolderState | undefined {
    return mb.folders.get(idOrName) ?? this.wellKnownFolder(mb, idOrName);
  }

  addFolder(mb: Mailbox, parentId: string, displayName: string, isHidden = false): MailFolderState {
    const f: MailFolderState = { id: this.newId('AQMk'), displayName, parentFolderId: parentId, isHidden, seq: this.nextSeq() };
    mb.folders.set(f.id, f);
    return f;
  }

  touchFolder(f: MailFolderState): void {
    f.seq = this.nextSeq();
  }

  /** Delete a folder with its subfolders and messages (hard delete). */
  deleteFolder(mb: Mailbox, id: string): void {
    const f = mb.folders.get(id);
    if (!f) return;
    for (const child of [...mb.folders.values()].filter((c) => c.parentFolderId === id)) this.deleteFolder(mb, child.id);
    for (const m of [...mb.messages.values()].filter((x) => x.folderId === id)) this.deleteMessage(mb, m.id);
    mb.folders.delete(id);
    mb.folderTombstones.push({ id, parentFolderId: f.parentFolderId, seq: this.nextSeq() });
  }

  addMessage(mb: Mailbox, folderId: string, m: Omit<MessageState, 'id' | 'folderId' | 'seq' | 'changeKey' | 'createdDateTime' | 'lastModifiedDateTime'> & { id?: string }): MessageState {
    const now = this.iso();
    const msg: MessageState = { ...m, id: m.id ?? this.newId('AAMk'), folderId, seq: this.nextSeq(), changeKey: this.changeKey(), createdDateTime: now, lastModifiedDateTime: now };
    mb.messages.set(msg.id, msg);
    return msg;
  }

  touchMessage(m: MessageState): void {
    m.seq = this.nextSeq();
    m.changeKey = this.changeKey();
    m.lastModifiedDateTime = this.iso();
  }

  deleteMessage(mb: Mailbox, id: string): void {
    const m = mb.messages.get(id);
    if (!m) return;
    mb.messages.delete(id);
    mb.messageTombstones.push({ id, folderId: m.folderId, seq: this.nextSeq() });
  }

  /** Move as Exchange does: the message gets a new id in the destination folder. */
  moveMessage(mb: Mailbox, id: string, destinationId: string): MessageState | undefined {
    const m = mb.messages.get(id);
    if (!m) return undefined;
    this.deleteMessage(mb, id);
    const moved: MessageState = { ...m, id: this.newId('AAMk'), folderId: destinationId, seq: this.nextSeq(), changeKey: this.changeKey(), lastModifiedDateTime: this.iso() };
    mb.messages.set(moved.id, moved);
    return moved;
  }

  // ---- calendar -------------------------------------------------------------------------------

  addEvent(mb: Mailbox, e: Omit<EventState, 'id' | 'seq' | 'changeKey' | 'createdDateTime' | 'lastModifiedDateTime' | 'iCalUId'> & { iCalUId?: string }): EventState {
    const now = this.iso();
    const id = this.newId('AAMk');
    const ev: EventState = {
      ...e, id, seq: this.nextSeq(), changeKey: this.changeKey(), createdDateTime: now, lastModifiedDateTime: now,
      iCalUId: e.iCalUId ?? `040000008200E00074C5B7101A82E008${createHash('sha256').update(id).digest('hex').slice(0, 48).toUpperCase()}`,
    };
    mb.events.set(id, ev);
    return ev;
  }

  touchEvent(e: EventState): void {
    e.seq = this.nextSeq();
    e.changeKey = this.changeKey();
    e.lastModifiedDateTime = this.iso();
  }

  deleteEvent(mb: Mailbox, id: string): void {
    const e = mb.events.get(id);
    if (!e) return;
    mb.events.delete(id);
    mb.eventTombstones.push({ event: e, seq: this.nextSeq() });
  }

  // ---- contacts -------------------------------------------------------------------------------

  addContactFolder(mb: Mailbox, parentId: string, displayName: string): ContactFolderState {
    const f: ContactFolderState = { id: this.newId('AQMk'), displayName, parentFolderId: parentId, seq: this.nextSeq() };
    mb.contactFolders.set(f.id, f);
    return f;
  }

  deleteContactFolder(mb: Mailbox, id: string): void {
    const f = mb.contactFolders.get(id);
    if (!f) return;
    for (const child of [...mb.contactFolders.values()].filter((c) => c.parentFolderId === id)) this.deleteContactFolder(mb, child.id);
    for (const c of [...mb.contacts.values()].filter((x) => x.folderId === id)) this.deleteContact(mb, c.id);
    mb.contactFolders.delete(id);
    mb.contactFolderTombstones.push({ id, parentFolderId: f.parentFolderId, seq: this.nextSeq() });
  }

  addContact(mb: Mailbox, folderId: string, fields: Json, categories: string[] = [], extended = new Map<string, string>()): ContactState {
    const now = this.iso();
    const c: ContactState = { id: this.newId('AAMk'), folderId, seq: this.nextSeq(), changeKey: this.changeKey(), createdDateTime: now, lastModifiedDateTime: now, fields, categories, extended };
    mb.contacts.set(c.id, c);
    return c;
  }

  touchContact(c: ContactState): void {
    c.seq = this.nextSeq();
    c.changeKey = this.changeKey();
    c.lastModifiedDateTime = this.iso();
  }

  deleteContact(mb: Mailbox, id: string): void {
    const c = mb.contacts.get(id);
    if (!c) return;
    mb.contacts.delete(id);
    mb.contactTombstones.push({ id, folderId: c.folderId, seq: this.nextSeq() });
  }

  // ---- drive ----------------------------------------------------------------------------------

  driveOf(driveId: string): DriveState | undefined {
    for (const u of this.users.values()) if (u.drive.id === driveId) return u.drive;
    return undefined;
  }

  childByName(d: DriveState, parentId: string, name: string): DriveItemState | undefined {
    const l = name.toLowerCase();
    for (const it of d.items.values()) if (it.parentId === parentId && it.name.toLowerCase() === l) return it;
    return undefined;
  }

  addDriveFolder(d: DriveState, parentId: string, name: string, fsi?: { createdDateTime?: string; lastModifiedDateTime?: string }): DriveItemState {
    const now = this.iso();
    const it: DriveItemState = {
      id: this.newId('01'), name, parentId, isFolder: true, seq: this.nextSeq(), createdDateTime: now, lastModifiedDateTime: now,
      fileSystemInfo: { createdDateTime: fsi?.createdDateTime ?? now, lastModifiedDateTime: fsi?.lastModifiedDateTime ?? now },
      version: 1, contentVersion: 1, description: null, mimeType: null, size: 0, quickXorHash: null, content: null,
    };
    d.items.set(it.id, it);
    return it;
  }

  /** Create or replace a file's content (the item keeps its id when replaced). */
  putDriveFile(d: DriveState, parentId: string, name: string, content: Content, hash: string, mimeType: string, fsi?: { createdDateTime?: string; lastModifiedDateTime?: string }, existing?: DriveItemState): { item: DriveItemState; created: boolean } {
    const now = this.iso();
    const size = 'buf' in content ? content.buf.length : content.size;
    if (existing) {
      const old = existing.content;
      existing.content = content;
      existing.size = size;
      existing.quickXorHash = hash;
      existing.mimeType = mimeType;
      existing.version++;
      existing.contentVersion++;
      existing.lastModifiedDateTime = now;
      existing.fileSystemInfo = { createdDateTime: fsi?.createdDateTime ?? existing.fileSystemInfo.createdDateTime, lastModifiedDateTime: fsi?.lastModifiedDateTime ?? now };
      existing.seq = this.nextSeq();
      if (old && 'file' in old && (!('file' in content) || content.file !== old.file)) void rm(old.file, { force: true });
      return { item: existing, created: false };
    }
    const it: DriveItemState = {
      id: this.newId('01'), name, parentId, isFolder: false, seq: this.nextSeq(), createdDateTime: now, lastModifiedDateTime: now,
      fileSystemInfo: { createdDateTime: fsi?.createdDateTime ?? now, lastModifiedDateTime: fsi?.lastModifiedDateTime ?? now },
      version: 1, contentVersion: 1, description: null, mimeType, size, quickXorHash: hash, content,
    };
    d.items.set(it.id, it);
    return { item: it, created: true };
  }

  touchDriveItem(it: DriveItemState): void {
    it.seq = this.nextSeq();
    it.version++;
    it.lastModifiedDateTime = this.iso();
  }

  deleteDriveItem(d: DriveState, id: string): void {
    const it = d.items.get(id);
    if (!it || it.parentId === null) return;
    for (const child of [...d.items.values()].filter((c) => c.parentId === id)) this.deleteDriveItem(d, child.id);
    d.items.delete(id);
    if (it.content && 'file' in it.content) void rm(it.content.file, { force: true });
    d.tombstones.push({ id, parentId: it.parentId, name: it.name, isFolder: it.isFolder, seq: this.nextSeq() });
  }

  /** '/drive/root:/a/b' for an item's parent, as parentReference.path. */
  drivePath(d: DriveState, it: DriveItemState): string | null {
    if (it.parentId === null) return null;
    const names: string[] = [];
    let cur = d.items.get(it.parentId);
    while (cur && cur.parentId !== null) {
      names.unshift(cur.name);
      cur = d.items.get(cur.parentId);
    }
    return `/drive/root:${names.length ? '/' + names.map(encodeURIComponent).join('/') : ''}`;
  }

  isUnder(d: DriveState, id: string, ancestorId: string): boolean {
    let cur = d.items.get(id);
    while (cur) {
      if (cur.id === ancestorId) return true;
      cur = cur.parentId ? d.items.get(cur.parentId) : undefined;
    }
    return false;
  }
}

export function contentStream(c: Content, start = 0, end?: number): Readable | Buffer {
  if ('buf' in c) return c.buf.subarray(start, end === undefined ? undefined : end + 1);
  return createReadStream(c.file, { start, end });
}

export function contentSize(c: Content | null): number {
  if (!c) return 0;
  return 'buf' in c ? c.buf.length : c.size;
}
