/**
 * Changes made "by people" in the emulated domain, as the service itself records them (history
 * records, Drive changes, calendar sequence numbers): used by seeding, by incremental tests and
 * by the demo. Every helper returns the ids it created.
 */
import type { calendar_v3 } from 'googleapis';
import type { drive_v3 } from 'googleapis';
import type { Cal } from './calendar-state.js';
import { DriveState, type DFile } from './drive-state.js';
import { createSharedDrive } from './drive.js';
import type { EmulatorEnv } from './http.js';
import type { Mailbox } from './mailbox.js';
import { buildMessage, type Attachment } from './mime.js';
import { NATIVE } from './ooxml.js';
import type { DomainState } from './state.js';

export interface MailSpec {
  from: string;
  to?: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  date?: Date;
  attachments?: Attachment[];
  inReplyTo?: string;
  labels?: string[];
  messageId?: string;
}

export interface FileSpec {
  name: string;
  /** Parent folder id; default the owner's My Drive root (or the shared drive's root). */
  parentId?: string;
  mimeType?: string;
  content?: Buffer;
  /** Content as a stream (large files: spilled to disk, never held in memory). */
  stream?: AsyncIterable<Buffer>;
  /** Text of a Google-native document. */
  text?: string;
  createdTime?: string;
  modifiedTime?: string;
  description?: string;
}

export interface EventSpec {
  summary: string;
  description?: string;
  location?: string;
  start: calendar_v3.Schema$EventDateTime;
  end: calendar_v3.Schema$EventDateTime;
  recurrence?: string[];
  attendees?: string[];
  id?: string;
}

export class Mutations {
  private mailCounter = 0;

  constructor(private readonly env: EmulatorEnv) {}

  private get state(): DomainState {
    return this.env.state;
  }

  private mailbox(user: string): Mailbox {
    const mb = this.state.mailboxes.get(user.toLowerCase());
    if (!mb) throw new Error(`no mailbox for ${user} in ${this.state.domain}`);
    return mb;
  }

  // Directory ----------------------------------------------------------------------------------

  addUser(spec: { local: string; givenName: string; familyName: string; isAdmin?: boolean }): string {
    const email = `${spec.local}@${this.state.domain}`;
    this.state.createUser({ primaryEmail: email, givenName: spec.givenName, familyName: spec.familyName, isAdmin: spec.isAdmin ?? false });
    return email;
  }

  renameUser(email: string, givenName: string, familyName: string): void {
    const u = this.state.users.get(email.toLowerCase());
    if (!u) throw new Error(`no user ${email}`);
    u.name = { givenName, familyName, fullName: `${givenName} ${familyName}` };
    this.state.touchUser(u);
  }

  deleteUser(email: string): void {
    this.state.deleteUser(email.toLowerCase());
  }

  createGroup(local: string, name: string, members: Array<{ email: string; role?: string }> = [], description = ''): string {
    const g = this.state.createGroup({ email: `${local}@${this.state.domain}`, name, description });
    for (const m of members) this.state.addMember(g, m);
    return g.group.email as string;
  }

  addMember(group: string, email: string, role = 'MEMBER'): void {
    const g = this.state.groups.get(group.toLowerCase());
    if (!g) throw new Error(`no group ${group}`);
    this.state.addMember(g, { email, role });
  }

  removeMember(group: string, email: string): void {
    const g = this.state.groups.get(group.toLowerCase());
    if (!g) throw new Error(`no group ${group}`);
    this.state.removeMember(g, email.toLowerCase());
  }

  // Gmail ----------------------------------------------------------------------------------------

  /** Deliver a message built from a spec; returns the Gmail id and the Message-ID. */
  deliver(user: string, spec: MailSpec): { id: string; messageId: string } {
    const n = ++this.mailCounter;
    const date = spec.date ?? new Date(this.state.now());
    const messageId = spec.messageId ?? `<${date.getTime().toString(36)}.${n}.${this.state.domain.replace(/\W/g, '')}@mail.${this.state.domain}>`;
    const msg: Parameters<typeof buildMessage>[0] = { from: spec.from, to: spec.to ?? [user], subject: spec.subject, date, messageId, text: spec.text, boundarySeed: `${this.state.domain}.${n}` };
    if (spec.cc) msg.cc = spec.cc;
    if (spec.html) msg.html = spec.html;
    if (spec.attachments) msg.attachments = spec.attachments;
    if (spec.inReplyTo) msg.inReplyTo = spec.inReplyTo;
    const raw = buildMessage(msg);
    const id = this.deliverRaw(user, raw, spec.labels ?? ['INBOX', 'UNREAD'], date.getTime());
    return { id, messageId };
  }

  deliverRaw(user: string, raw: Buffer, labels: string[], internalDate = this.state.now()): string {
    const mb = this.mailbox(user);
    for (const l of labels) if (!mb.labels.has(l)) throw new Error(`no label ${l} in ${user}'s mailbox`);
    return mb.add(raw, labels, internalDate).id;
  }

  createLabel(user: string, name: string, opts: { messageListVisibility?: string; labelListVisibility?: string } = {}): string {
    const mb = this.mailbox(user);
    return mb.createLabel({ name, ...opts }).id as string;
  }

  renameLabel(user: string, labelId: string, name: string): void {
    const l = this.mailbox(user).labels.get(labelId);
    if (!l || l.type !== 'user') throw new Error(`no user label ${labelId}`);
    l.name = name;
  }

  deleteLabel(user: string, labelId: string): void {
    this.mailbox(user).deleteLabel(labelId);
  }

  modifyLabels(user: string, messageId: string, add: string[], remove: string[]): void {
    const mb = this.mailbox(user);
    if (!mb.messages.has(messageId)) throw new Error(`no message ${messageId}`);
    mb.modify(messageId, add, remove);
  }

  deleteMessage(user: string, messageId: string): void {
    this.mailbox(user).delete(messageId);
  }

  /** Message ids of a mailbox, newest first. */
  messageIds(user: string): string[] {
    return [...this.mailbox(user).messages.values()].sort((a, b) => b.internalDate - a.internalDate).map((m) => m.id);
  }

  labelIds(user: string): Record<string, string> {
    return Object.fromEntries([...this.mailbox(user).labels.values()].filter((l) => l.type === 'user').map((l) => [l.name as string, l.id as string]));
  }

  /** Forget the history of one mailbox (or all): older startHistoryIds answer 404. */
  expireHistory(user?: string): void {
    for (const mb of user ? [this.mailbox(user)] : this.state.mailboxes.values()) mb.expireHistory();
  }

  // Drive ----------------------------------------------------------------------------------------

  rootOf(user: string): string {
    const id = this.state.drive.roots.get(user.toLowerCase());
    if (!id) throw new Error(`no drive for ${user}`);
    return id;
  }

  private parent(owner: string, parentId?: string): DFile {
    const d = this.state.drive;
    const id = parentId ?? this.rootOf(owner);
    const p = d.files.get(id);
    if (!p || p.mimeType !== NATIVE.folder) throw new Error(`no folder ${id}`);
    return p;
  }

  async createFile(owner: string, spec: FileSpec): Promise<string> {
    const d = this.state.drive;
    const user = owner.toLowerCase();
    const parent = this.parent(user, spec.parentId);
    const now = this.state.iso();
    const f: DFile = {
      id: this.state.newId('file'),
      name: spec.name,
      mimeType: spec.mimeType ?? (spec.text !== undefined ? NATIVE.document : 'application/octet-stream'),
      parents: [parent.id],
      createdTime: spec.createdTime ?? now,
      modifiedTime: spec.modifiedTime ?? spec.createdTime ?? now,
      version: 0,
      trashed: false,
      appProperties: {},
      properties: {},
      starred: false,
      permissions: [],
      lastModifyingUser: user,
      seenBy: new Set([user]),
    };
    if (spec.description) f.description = spec.description;
    if (parent.driveId) f.driveId = parent.driveId;
    else f.owner = user;
    if (f.mimeType.startsWith('application/vnd.google-apps.')) {
      if (f.mimeType !== NATIVE.folder) f.text = spec.text ?? '';
    } else f.content = spec.stream ? await this.state.content.fromStream(spec.stream) : await this.state.content.fromBuffer(spec.content ?? Buffer.alloc(0));
    d.files.set(f.id, f);
    d.touch(f);
    if (spec.modifiedTime) f.modifiedTime = spec.modifiedTime;
    return f.id;
  }

  createFolder(owner: string, name: string, parentId?: string): Promise<string> {
    return this.createFile(owner, { name, parentId, mimeType: NATIVE.folder });
  }

  private file(id: string): DFile {
    const f = this.state.drive.files.get(id);
    if (!f) throw new Error(`no file ${id}`);
    return f;
  }

  async updateContent(fileId: string, content: Buffer | string): Promise<void> {
    const f = this.file(fileId);
    if (f.mimeType.startsWith('application/vnd.google-apps.')) f.text = String(content);
    else {
      await this.state.content.release(f.content);
      f.content = await this.state.content.fromBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content));
    }
    this.state.drive.touch(f, { modified: true });
  }

  renameFile(fileId: string, name: string): void {
    const f = this.file(fileId);
    f.name = name;
    this.state.drive.touch(f, { modified: true });
  }

  moveFile(fileId: string, parentId: string): void {
    const f = this.file(fileId);
    f.parents = [this.parent(f.owner ?? '', parentId).id];
    this.state.drive.touch(f);
  }

  trashFile(fileId: string): void {
    const f = this.file(fileId);
    f.trashed = true;
    this.state.drive.touch(f);
    for (const c of this.state.drive.descendants(f.id)) {
      c.trashed = true;
      this.state.drive.touch(c);
    }
  }

  async deleteFile(fileId: string): Promise<void> {
    const d = this.state.drive;
    const f = this.file(fileId);
    for (const x of [...d.descendants(f.id).reverse(), f]) {
      d.remove(x);
      await this.state.content.release(x.content);
    }
  }

  share(fileId: string, p: { type: 'user' | 'group' | 'domain' | 'anyone'; role: string; email?: string; domain?: string }): string {
    const f = this.file(fileId);
    const id = DriveState.permissionId(p.type, p.email ?? p.domain ?? 'anyone');
    const perm: drive_v3.Schema$Permission = { kind: 'drive#permission', id, type: p.type, role: p.role, deleted: false, pendingOwner: false };
    if (p.email) {
      perm.emailAddress = p.email.toLowerCase();
      perm.displayName = this.state.users.get(perm.emailAddress)?.name?.fullName ?? this.state.groups.get(perm.emailAddress)?.group.name ?? perm.emailAddress;
    }
    if (p.domain) {
      perm.domain = p.domain;
      perm.displayName = p.domain;
    }
    if (p.type === 'domain' || p.type === 'anyone') perm.allowFileDiscovery = false;
    f.permissions = f.permissions.filter((x) => x.id !== id);
    f.permissions.push(perm);
    this.state.drive.touch(f);
    return id;
  }

  unshare(fileId: string, permissionId: string): void {
    const f = this.file(fileId);
    f.permissions = f.permissions.filter((x) => x.id !== permissionId);
    this.state.drive.touch(f);
  }

  createSharedDrive(creator: string, name: string, members: Array<{ email: string; role: string }> = []): string {
    const drive = createSharedDrive(this.env, creator.toLowerCase(), name);
    for (const m of members) {
      drive.members.push({ kind: 'drive#permission', id: DriveState.permissionId('user', m.email), type: 'user', role: m.role, emailAddress: m.email.toLowerCase(), displayName: this.state.users.get(m.email.toLowerCase())?.name?.fullName ?? m.email, deleted: false, pendingOwner: false });
    }
    return drive.id;
  }

  /** Files of a user's My Drive or of a shared drive (id, name, parents), for tests. */
  listFiles(where: { owner?: string; driveId?: string }): Array<{ id: string; name: string; mimeType: string; parents: string[] }> {
    const roots = new Set(this.state.drive.roots.values());
    return [...this.state.drive.files.values()]
      .filter((f) => !roots.has(f.id) && !this.state.drive.drives.has(f.id) && (where.driveId ? f.driveId === where.driveId : !f.driveId && f.owner === where.owner?.toLowerCase()))
      .map((f) => ({ id: f.id, name: f.name, mimeType: f.mimeType, parents: [...f.parents] }));
  }

  // Calendar -------------------------------------------------------------------------------------

  private cal(user: string, calendarId?: string): Cal {
    const id = calendarId ?? user.toLowerCase();
    const cal = this.state.calendar.calendars.get(id);
    if (!cal) throw new Error(`no calendar ${id}`);
    return cal;
  }

  createCalendar(owner: string, summary: string, description?: string): string {
    return this.state.calendar.createCalendar(owner.toLowerCase(), this.state.newId('calendar'), summary, 'UTC', false, description).id;
  }

  createEvent(user: string, spec: EventSpec, calendarId?: string): string {
    const cal = this.cal(user, calendarId);
    const id = spec.id ?? this.state.newId('event');
    const now = this.state.iso();
    const owner = cal.primary ? cal.owner : cal.id;
    const r: calendar_v3.Schema$Event = {
      kind: 'calendar#event',
      id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${cal.id}`).toString('base64url')}`,
      created: now,
      updated: now,
      summary: spec.summary,
      creator: { email: cal.owner, self: true },
      organizer: { email: owner, self: true },
      start: spec.start,
      end: spec.end,
      iCalUID: `${id}@google.com`,
      sequence: 0,
      reminders: { useDefault: true },
      eventType: 'default',
    };
    if (spec.description) r.description = spec.description;
    if (spec.location) r.location = spec.location;
    if (spec.recurrence) r.recurrence = spec.recurrence;
    if (spec.attendees) r.attendees = [{ email: cal.owner, organizer: true, self: true, responseStatus: 'accepted' }, ...spec.attendees.map((email) => ({ email, responseStatus: 'needsAction' }))];
    this.state.calendar.put(cal, r);
    return id;
  }

  updateEvent(user: string, eventId: string, patch: Partial<calendar_v3.Schema$Event>, calendarId?: string): void {
    const cal = this.cal(user, calendarId);
    const ev = cal.events.get(eventId);
    if (!ev) throw new Error(`no event ${eventId}`);
    const r = { ...structuredClone(ev.r), ...structuredClone(patch), updated: this.state.iso() };
    this.state.calendar.put(cal, r);
  }

  cancelEvent(user: string, eventId: string, calendarId?: string): void {
    this.updateEvent(user, eventId, { status: 'cancelled' }, calendarId);
  }

  eventIds(user: string, calendarId?: string): string[] {
    return [...this.cal(user, calendarId).events.values()].filter((e) => e.r.status !== 'cancelled').map((e) => e.r.id as string);
  }

  /** Expire the sync tokens of one user's calendars (or all): the next incremental list answers 410. */
  expireSyncTokens(user?: string): void {
    for (const cal of this.state.calendar.calendars.values()) if (!user || cal.owner === user.toLowerCase()) this.state.calendar.expireTokens(cal);
  }
}
