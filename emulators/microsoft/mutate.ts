/**
 * Mutation helpers for incremental tests: change the tenant as its users would (new mail, read
 * state, moves, deletions, edited files, moved events ...) and return the ids touched, so a test can
 * tell which items the next delta must carry. Users are addressed by id or userPrincipalName.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { QuickXorHash, quickXorBase64 } from './quickxor.js';
import { mimeTypeOf } from './drive.js';
import { detBytes, makeAttachment, makeMessage } from './seed.js';
import type { DriveItemState, EventState, MailFolderState, MessageState, TenantState, UserState } from './state.js';

export class Mutator {
  private n = 1000;

  constructor(
    private readonly t: TenantState,
    private readonly dataDir?: string,
  ) {}

  private user(u: string): UserState {
    const x = this.t.user(u);
    if (!x) throw new Error(`mutate: no user ${u}`);
    return x;
  }

  private folder(u: UserState, idOrName: string): MailFolderState {
    const f = this.t.folder(u.mailbox, idOrName) ?? [...u.mailbox.folders.values()].find((x) => x.displayName === idOrName);
    if (!f) throw new Error(`mutate: no mail folder ${idOrName} for ${u.userPrincipalName}`);
    return f;
  }

  // ---- directory --------------------------------------------------------------------------------

  addUser(local: string, displayName: string): UserState {
    return this.t.addUser({ userPrincipalName: `${local}@${this.t.domain}`, displayName });
  }

  deleteUser(user: string): void {
    this.t.deleteUser(this.user(user).id);
  }

  renameUser(user: string, displayName: string): void {
    const u = this.user(user);
    u.displayName = displayName;
    this.t.touchUser(u);
  }

  // ---- mail -------------------------------------------------------------------------------------

  /** Deliver a new message (optionally with an attachment) to a folder (default Inbox). */
  deliverMessage(user: string, opts: { folder?: string; subject?: string; attachmentBytes?: number; at?: number } = {}): MessageState {
    const u = this.user(user);
    const n = this.n++;
    const attachments = opts.attachmentBytes ? [makeAttachment(this.t, `mutation-${n}.bin`, opts.attachmentBytes, `${u.id}:mut:${n}`)] : [];
    const m = makeMessage(this.t, u, [...this.t.users.values()], n, { attachments, at: opts.at ?? this.t.now() - 60_000 });
    if (opts.subject) m.subject = opts.subject;
    return this.t.addMessage(u.mailbox, this.folder(u, opts.folder ?? 'inbox').id, m);
  }

  messages(user: string, folder?: string): MessageState[] {
    const u = this.user(user);
    const fid = folder ? this.folder(u, folder).id : undefined;
    return [...u.mailbox.messages.values()].filter((m) => fid === undefined || m.folderId === fid);
  }

  setRead(user: string, messageId: string, isRead: boolean): MessageState {
    const m = this.msg(user, messageId);
    m.isRead = isRead;
    this.t.touchMessage(m);
    return m;
  }

  setCategories(user: string, messageId: string, categories: string[]): MessageState {
    const m = this.msg(user, messageId);
    m.categories = [...categories];
    this.t.touchMessage(m);
    return m;
  }

  setFlag(user: string, messageId: string, flagStatus: 'notFlagged' | 'flagged' | 'complete'): MessageState {
    const m = this.msg(user, messageId);
    m.flag = { flagStatus };
    this.t.touchMessage(m);
    return m;
  }

  /** Move as Exchange does: the message gets a new id. Returns the moved message. */
  moveMessage(user: string, messageId: string, folder: string): MessageState {
    const u = this.user(user);
    const moved = this.t.moveMessage(u.mailbox, messageId, this.folder(u, folder).id);
    if (!moved) throw new Error(`mutate: no message ${messageId}`);
    return moved;
  }

  deleteMessage(user: string, messageId: string): void {
    this.t.deleteMessage(this.user(user).mailbox, messageId);
  }

  addMailFolder(user: string, parent: string, displayName: string): MailFolderState {
    const u = this.user(user);
    return this.t.addFolder(u.mailbox, this.folder(u, parent).id, displayName);
  }

  renameMailFolder(user: string, folder: string, displayName: string): MailFolderState {
    const u = this.user(user);
    const f = this.folder(u, folder);
    f.displayName = displayName;
    this.t.touchFolder(f);
    return f;
  }

  /** Delete a folder with everything in it; returns the ids of the messages and folders removed. */
  deleteMailFolder(user: string, folder: string): { folders: string[]; messages: string[] } {
    const u = this.user(user);
    const f = this.folder(u, folder);
    const folders: string[] = [];
    const walk = (id: string) => {
      folders.push(id);
      for (const c of u.mailbox.folders.values()) if (c.parentFolderId === id) walk(c.id);
    };
    walk(f.id);
    const messages = [...u.mailbox.messages.values()].filter((m) => folders.includes(m.folderId)).map((m) => m.id);
    this.t.deleteFolder(u.mailbox, f.id);
    return { folders, messages };
  }

  private msg(user: string, id: string): MessageState {
    const m = this.user(user).mailbox.messages.get(id);
    if (!m) throw new Error(`mutate: no message ${id}`);
    return m;
  }

  // ---- drive ------------------------------------------------------------------------------------

  private pathItem(u: UserState, path: string): DriveItemState {
    let cur = u.drive.items.get(u.drive.rootId) as DriveItemState;
    for (const seg of path.split('/').filter(Boolean)) {
      const next = this.t.childByName(u.drive, cur.id, seg);
      if (!next) throw new Error(`mutate: no drive item ${path}`);
      cur = next;
    }
    return cur;
  }

  driveItems(user: string): DriveItemState[] {
    return [...this.user(user).drive.items.values()];
  }

  /** Create or overwrite a file at a path (parent folders must exist). */
  writeFile(user: string, path: string, content: Buffer | number): DriveItemState {
    const u = this.user(user);
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() as string;
    const parent = this.pathItem(u, parts.join('/'));
    const buf = typeof content === 'number' ? detBytes(`${u.id}:write:${path}:${this.n++}`, content) : content;
    const existing = this.t.childByName(u.drive, parent.id, name);
    const now = new Date(this.t.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return this.t.putDriveFile(u.drive, parent.id, name, { buf }, quickXorBase64(buf), mimeTypeOf(name), { lastModifiedDateTime: now }, existing).item;
  }

  /** Create or overwrite a large file from a stream, spooled to the emulator's data directory (memory stays flat). */
  async writeFileStream(user: string, path: string, stream: AsyncIterable<Buffer | Uint8Array>): Promise<DriveItemState> {
    if (!this.dataDir) throw new Error('mutate.writeFileStream needs the emulator data directory');
    const u = this.user(user);
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() as string;
    const parent = this.pathItem(u, parts.join('/'));
    const file = join(this.dataDir, `seed-${randomBytes(9).toString('base64url')}`);
    const hash = new QuickXorHash();
    let size = 0;
    const out = createWriteStream(file);
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      hash.update(b);
      size += b.length;
      if (!out.write(b)) await new Promise<void>((r) => out.once('drain', r));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const existing = this.t.childByName(u.drive, parent.id, name);
    return this.t.putDriveFile(u.drive, parent.id, name, { file, size }, hash.digestBase64(), mimeTypeOf(name), undefined, existing).item;
  }

  addDriveFolder(user: string, parentPath: string, name: string): DriveItemState {
    const u = this.user(user);
    return this.t.addDriveFolder(u.drive, this.pathItem(u, parentPath).id, name);
  }

  /** Rename and/or move an item (keeps its id, as OneDrive does). */
  moveDriveItem(user: string, path: string, to: { parentPath?: string; name?: string }): DriveItemState {
    const u = this.user(user);
    const it = this.pathItem(u, path);
    if (to.parentPath !== undefined) it.parentId = this.pathItem(u, to.parentPath).id;
    if (to.name !== undefined) it.name = to.name;
    this.t.touchDriveItem(it);
    return it;
  }

  /** Delete an item (and a folder's descendants); returns every id removed. */
  deleteDriveItem(user: string, path: string): string[] {
    const u = this.user(user);
    const it = this.pathItem(u, path);
    const ids = [...u.drive.items.values()].filter((x) => this.t.isUnder(u.drive, x.id, it.id)).map((x) => x.id);
    this.t.deleteDriveItem(u.drive, it.id);
    return ids;
  }

  // ---- calendar ---------------------------------------------------------------------------------

  events(user: string): EventState[] {
    return [...this.user(user).mailbox.events.values()];
  }

  addEvent(user: string, opts: { subject: string; startMs: number; minutes?: number; weeklyCount?: number }): EventState {
    const u = this.user(user);
    const dt = (ms: number) => ({ dateTime: new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000'), timeZone: 'UTC' });
    return this.t.addEvent(u.mailbox, {
      subject: opts.subject, body: { contentType: 'text', content: `Created by a mutation: ${opts.subject}` }, start: dt(opts.startMs), end: dt(opts.startMs + (opts.minutes ?? 30) * 60_000),
      isAllDay: false, location: { displayName: 'Room 7' }, attendees: [], organizer: { emailAddress: { name: u.displayName, address: u.mail } },
      recurrence: opts.weeklyCount ? { pattern: { type: 'weekly', interval: 1, daysOfWeek: [['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][new Date(opts.startMs).getUTCDay()] as string], firstDayOfWeek: 'sunday' }, range: { type: 'numbered', startDate: new Date(opts.startMs).toISOString().slice(0, 10), numberOfOccurrences: opts.weeklyCount, recurrenceTimeZone: 'UTC' } } : null,
      showAs: 'busy', sensitivity: 'normal', importance: 'normal', categories: [], isReminderOn: true, reminderMinutesBeforeStart: 10, transactionId: null, responseRequested: true, extended: new Map(),
    });
  }

  updateEvent(user: string, eventId: string, change: { subject?: string; location?: string; shiftMinutes?: number }): EventState {
    const e = this.user(user).mailbox.events.get(eventId);
    if (!e) throw new Error(`mutate: no event ${eventId}`);
    if (change.subject !== undefined) e.subject = change.subject;
    if (change.location !== undefined) e.location = { displayName: change.location };
    if (change.shiftMinutes) {
      const shift = (d: { dateTime: string; timeZone: string }) => ({ dateTime: new Date(Date.parse(d.dateTime.replace(/(\.\d{3})\d*$/, '$1') + 'Z') + change.shiftMinutes! * 60_000).toISOString().replace(/\.(\d{3})Z$/, '.$10000'), timeZone: d.timeZone });
      e.start = shift(e.start);
      e.end = shift(e.end);
    }
    this.t.touchEvent(e);
    return e;
  }

  deleteEvent(user: string, eventId: string): void {
    this.t.deleteEvent(this.user(user).mailbox, eventId);
  }

  // ---- contacts ---------------------------------------------------------------------------------

  contacts(user: string) {
    return [...this.user(user).mailbox.contacts.values()];
  }

  addContact(user: string, givenName: string, surname: string, email: string) {
    const u = this.user(user);
    return this.t.addContact(u.mailbox, u.mailbox.contactRootId, { givenName, surname, displayName: `${givenName} ${surname}`, emailAddresses: [{ name: `${givenName} ${surname}`, address: email }] });
  }

  updateContact(user: string, contactId: string, fields: Record<string, unknown>) {
    const c = this.user(user).mailbox.contacts.get(contactId);
    if (!c) throw new Error(`mutate: no contact ${contactId}`);
    c.fields = { ...c.fields, ...fields };
    this.t.touchContact(c);
    return c;
  }

  deleteContact(user: string, contactId: string): void {
    this.t.deleteContact(this.user(user).mailbox, contactId);
  }

  // ---- protocol state -----------------------------------------------------------------------------

  /** Expire every outstanding delta token (mail/calendar/contacts answer 410, OneDrive 410 resyncRequired, users 400). */
  expireDeltaTokens(): void {
    this.t.generation++;
  }
}
