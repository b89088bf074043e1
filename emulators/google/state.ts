/**
 * The whole state of one emulated Workspace domain: directory (users, groups, members), every
 * user's mailbox, Drive (My Drives, shared drives, change log), calendars. Ids are derived
 * deterministically from the domain and a counter, so the same seeding gives the same ids.
 */
import { createHash } from 'node:crypto';
import type { admin_directory_v1 } from 'googleapis';
import { CalendarState } from './calendar-state.js';
import { ContentStore } from './content.js';
import { DriveState, type DFile } from './drive-state.js';
import { Mailbox } from './mailbox.js';
import { NATIVE } from './ooxml.js';

export interface GroupRec {
  group: admin_directory_v1.Schema$Group;
  members: Map<string, admin_directory_v1.Schema$Member>;
}

export interface StateOptions {
  domain: string;
  /** Gmail history records kept per mailbox (older startHistoryIds answer 404). Default 100,000. */
  historyLimit?: number;
  now?: () => number;
}

const B32HEX = '0123456789abcdefghijklmnopqrstuv';

export class DomainState {
  readonly domain: string;
  readonly customerId: string;
  readonly users = new Map<string, admin_directory_v1.Schema$User>();
  readonly groups = new Map<string, GroupRec>();
  readonly mailboxes = new Map<string, Mailbox>();
  readonly drive: DriveState;
  readonly calendar = new CalendarState();
  readonly content = new ContentStore();
  readonly now: () => number;
  private readonly counters = new Map<string, number>();
  private readonly historyLimit: number;
  /** Bumped by every directory change (etags). */
  private directorySeq = 1;

  constructor(opts: StateOptions) {
    this.domain = opts.domain.toLowerCase();
    this.now = opts.now ?? Date.now;
    this.historyLimit = opts.historyLimit ?? 100_000;
    this.customerId = 'C0' + this.hash('customer', 0).slice(0, 7);
    this.drive = new DriveState(
      this.domain,
      () => this.iso(),
      (group, user) => this.isMemberOf(group, user),
      () => [...this.users.keys()],
    );
  }

  iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  private hash(kind: string, n: number): string {
    return createHash('sha256').update(`${this.domain}\u0000${kind}\u0000${n}`).digest('hex');
  }

  private count(kind: string): number {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return n;
  }

  /** A new id of a kind, deterministic per domain and creation order. */
  newId(kind: 'message' | 'file' | 'drive' | 'event' | 'user' | 'group' | 'calendar'): string {
    const n = this.count(kind);
    const h = this.hash(kind, n);
    switch (kind) {
      case 'message':
        return (0x18c000000000n + BigInt('0x' + h.slice(0, 8)) * 4096n + BigInt(n)).toString(16).padStart(16, '1');
      case 'file':
        return '1' + Buffer.from(h, 'hex').toString('base64url').slice(0, 32);
      case 'drive':
        return '0A' + Buffer.from(h, 'hex').toString('base64url').slice(0, 17) + 'Uk9PVA';
      case 'event': {
        let s = '';
        for (let i = 0; i < 26; i++) s += B32HEX[parseInt(h.slice(i * 2, i * 2 + 2), 16) % 32];
        return s;
      }
      case 'user':
        return '1' + BigInt('0x' + h.slice(0, 18)).toString().padStart(20, '0').slice(0, 20);
      case 'group':
        return '0' + BigInt('0x' + h.slice(0, 16)).toString(36).padStart(14, '0').slice(0, 14);
      case 'calendar':
        return `c_${h.slice(0, 40)}@group.calendar.google.com`;
    }
  }

  etag(): string {
    return `"${createHash('sha1').update(`${this.domain}:${this.directorySeq++}`).digest('base64url').slice(0, 27)}"`;
  }

  // Directory -----------------------------------------------------------------------------------

  isMemberOf(group: string, user: string, depth = 0): boolean {
    const g = this.groups.get(group.toLowerCase());
    if (!g || depth > 5) return false;
    for (const m of g.members.values()) {
      if (m.email === user) return true;
      if (m.type === 'GROUP' && this.isMemberOf(m.email ?? '', user, depth + 1)) return true;
    }
    return false;
  }

  userByKey(key: string): admin_directory_v1.Schema$User | undefined {
    const k = key.toLowerCase();
    const byMail = this.users.get(k);
    if (byMail) return byMail;
    for (const u of this.users.values()) if (u.id === key || (u.aliases ?? []).includes(k)) return u;
    return undefined;
  }

  groupByKey(key: string): GroupRec | undefined {
    const k = key.toLowerCase();
    const byMail = this.groups.get(k);
    if (byMail) return byMail;
    for (const g of this.groups.values()) if (g.group.id === key) return g;
    return undefined;
  }

  /** Create a user with a mailbox, a My Drive root and a primary calendar. */
  createUser(spec: { primaryEmail: string; givenName: string; familyName: string; isAdmin?: boolean; orgUnitPath?: string; suspended?: boolean; creationTime?: string }): admin_directory_v1.Schema$User {
    const email = spec.primaryEmail.toLowerCase();
    const user: admin_directory_v1.Schema$User = {
      kind: 'admin#directory#user',
      id: this.newId('user'),
      etag: this.etag(),
      primaryEmail: email,
      name: { givenName: spec.givenName, familyName: spec.familyName, fullName: `${spec.givenName} ${spec.familyName}` },
      isAdmin: spec.isAdmin ?? false,
      isDelegatedAdmin: false,
      lastLoginTime: '1970-01-01T00:00:00.000Z',
      creationTime: spec.creationTime ?? this.iso(),
      agreedToTerms: true,
      suspended: spec.suspended ?? false,
      archived: false,
      changePasswordAtNextLogin: false,
      ipWhitelisted: false,
      emails: [{ address: email, primary: true }],
      customerId: this.customerId,
      orgUnitPath: spec.orgUnitPath ?? '/',
      isMailboxSetup: true,
      isEnrolledIn2Sv: false,
      isEnforcedIn2Sv: false,
      includeInGlobalAddressList: true,
    };
    this.users.set(email, user);
    this.mailboxes.set(email, new Mailbox(email, 1000 + this.count('mailbox') * 100_000, () => this.newId('message'), this.historyLimit));
    const rootId = this.newId('file');
    const at = user.creationTime as string;
    const root: DFile = {
      id: rootId, name: 'My Drive', mimeType: NATIVE.folder, parents: [], owner: email, createdTime: at, modifiedTime: at, version: 1, trashed: false,
      appProperties: {}, properties: {}, starred: false, permissions: [], lastModifyingUser: email, seenBy: new Set([email]),
    };
    this.drive.files.set(rootId, root);
    this.drive.roots.set(email, rootId);
    this.calendar.createCalendar(email, email, email, 'UTC', true);
    return user;
  }

  deleteUser(email: string): void {
    this.users.delete(email);
    this.mailboxes.delete(email);
    for (const f of [...this.drive.files.values()]) if (f.owner === email) this.drive.remove(f);
    this.drive.roots.delete(email);
    for (const [id, cal] of [...this.calendar.calendars]) if (cal.owner === email) this.calendar.deleteCalendar(id);
    this.calendar.lists.delete(email);
    for (const g of this.groups.values()) g.members.delete(email);
  }

  createGroup(spec: { email: string; name: string; description?: string }): GroupRec {
    const email = spec.email.toLowerCase();
    const group: admin_directory_v1.Schema$Group = {
      kind: 'admin#directory#group',
      id: this.newId('group'),
      etag: this.etag(),
      email,
      name: spec.name,
      directMembersCount: '0',
      description: spec.description ?? '',
      adminCreated: true,
    };
    const rec: GroupRec = { group, members: new Map() };
    this.groups.set(email, rec);
    return rec;
  }

  addMember(group: GroupRec, spec: { email: string; role?: string; type?: string }): admin_directory_v1.Schema$Member {
    const email = spec.email.toLowerCase();
    const user = this.users.get(email);
    const sub = this.groups.get(email);
    const member: admin_directory_v1.Schema$Member = {
      kind: 'admin#directory#member',
      etag: this.etag(),
      id: user?.id ?? sub?.group.id ?? this.newId('user'),
      email,
      role: spec.role ?? 'MEMBER',
      type: spec.type ?? (sub ? 'GROUP' : user ? 'USER' : email.endsWith('@' + this.domain) ? 'USER' : 'EXTERNAL'),
      status: 'ACTIVE',
    };
    group.members.set(email, member);
    group.group.directMembersCount = String(group.members.size);
    group.group.etag = this.etag();
    return member;
  }

  removeMember(group: GroupRec, email: string): void {
    group.members.delete(email);
    group.group.directMembersCount = String(group.members.size);
    group.group.etag = this.etag();
  }

  touchUser(u: admin_directory_v1.Schema$User): void {
    u.etag = this.etag();
  }

  async close(): Promise<void> {
    await this.content.close();
  }
}
