/**
 * Drive of one domain: every user's My Drive, the shared drives, file permissions, and one change
 * log. The changes feed of a user shows the current state of each changed file the user can
 * access, and `removed` for files the user could see once and no longer can (deleted, unshared);
 * the feed of a shared drive shows its items. File `version` is the change sequence number, so
 * it increases with every change.
 */
import type { drive_v3 } from 'googleapis';
import type { Content } from './content.js';
import { NATIVE } from './ooxml.js';

export interface DFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  /** Shared drive id; absent for My Drive items. */
  driveId?: string;
  /** Owner of a My Drive item. */
  owner?: string;
  createdTime: string;
  modifiedTime: string;
  version: number;
  trashed: boolean;
  /** Binary content. */
  content?: Content;
  /** Text of a Google-native document. */
  text?: string;
  appProperties: Record<string, string>;
  properties: Record<string, string>;
  description?: string;
  starred: boolean;
  permissions: drive_v3.Schema$Permission[];
  lastModifyingUser: string;
  originalFilename?: string;
  /** Users who could access the file at some change (for `removed` changes). */
  seenBy: Set<string>;
}

export interface SharedDrive {
  id: string;
  name: string;
  createdTime: string;
  members: drive_v3.Schema$Permission[];
  hidden: boolean;
}

interface Change {
  seq: number;
  fileId: string;
  driveId?: string;
  time: string;
}

export class DriveState {
  readonly files = new Map<string, DFile>();
  /** Deleted files: id -> who could see them, and their shared drive. */
  readonly tombstones = new Map<string, { driveId?: string; seenBy: Set<string> }>();
  readonly drives = new Map<string, SharedDrive>();
  /** user -> root folder id of their My Drive. */
  readonly roots = new Map<string, string>();
  /** `${user} ${requestId}` -> shared drive id (drives.create idempotency). */
  readonly driveRequests = new Map<string, string>();
  private readonly changes: Change[] = [];
  seq = 1;
  /** Notification emails Drive would have sent for new permissions. */
  notificationsSent = 0;

  constructor(
    readonly domain: string,
    private readonly now: () => string,
    /** Is `user` a member of the group `group`? (directory lookup) */
    private readonly inGroup: (group: string, user: string) => boolean,
    /** Every user of the domain (for domain-wide permissions). */
    private readonly allUsers: () => string[],
  ) {}

  /** Record a change of a file (or its removal). Returns the new sequence number. */
  touch(file: DFile | { id: string; driveId?: string }, opts: { modified?: boolean } = {}): number {
    const seq = ++this.seq;
    const time = this.now();
    const live = this.files.get(file.id);
    if (live) {
      live.version = seq;
      if (opts.modified) live.modifiedTime = time;
      for (const u of this.audience(live)) live.seenBy.add(u);
    }
    const c: Change = { seq, fileId: file.id, time };
    if (file.driveId) c.driveId = file.driveId;
    this.changes.push(c);
    return seq;
  }

  startPageToken(): string {
    return String(this.seq + 1);
  }

  /** Changes from `token` on (inclusive), the last per file, in order. */
  changesSince(token: number, filter: (c: Change) => boolean): Change[] {
    const last = new Map<string, Change>();
    for (const c of this.changes) if (c.seq >= token && filter(c)) last.set(c.fileId, c);
    return [...last.values()].sort((a, b) => a.seq - b.seq);
  }

  isMember(user: string, drive: SharedDrive): drive_v3.Schema$Permission | undefined {
    return drive.members.find((p) => p.type === 'user' ? p.emailAddress === user : p.type === 'group' ? this.inGroup(p.emailAddress ?? '', user) : p.type === 'domain' ? p.domain === this.domain && user.endsWith('@' + this.domain) : false);
  }

  /** The role `user` has on `file`, or null. */
  roleOf(user: string, file: DFile): string | null {
    if (file.driveId) {
      const d = this.drives.get(file.driveId);
      const m = d ? this.isMember(user, d) : undefined;
      if (m) return m.role ?? 'reader';
    } else if (file.owner === user) return 'owner';
    let best: string | null = null;
    const rank = ['reader', 'commenter', 'writer', 'fileOrganizer', 'organizer', 'owner'];
    for (const p of file.permissions) {
      const hit =
        (p.type === 'user' && p.emailAddress === user) ||
        (p.type === 'group' && this.inGroup(p.emailAddress ?? '', user)) ||
        (p.type === 'domain' && p.domain === this.domain && user.endsWith('@' + this.domain));
      if (hit && (best === null || rank.indexOf(p.role ?? 'reader') > rank.indexOf(best))) best = p.role ?? 'reader';
    }
    return best;
  }

  canAccess(user: string, file: DFile): boolean {
    return this.roleOf(user, file) !== null;
  }

  audience(file: DFile): string[] {
    return this.allUsers().filter((u) => this.canAccess(u, file));
  }

  isFolder(f: DFile): boolean {
    return f.mimeType === NATIVE.folder;
  }

  /** Every descendant of a folder (for deletes). */
  descendants(id: string): DFile[] {
    const out: DFile[] = [];
    const walk = (pid: string): void => {
      for (const f of this.files.values()) {
        if (f.parents.includes(pid)) {
          out.push(f);
          walk(f.id);
        }
      }
    };
    walk(id);
    return out;
  }

  remove(file: DFile): void {
    this.files.delete(file.id);
    const t: { driveId?: string; seenBy: Set<string> } = { seenBy: file.seenBy };
    if (file.driveId) t.driveId = file.driveId;
    this.tombstones.set(file.id, t);
    this.touch({ id: file.id, driveId: file.driveId });
  }

  /** Stable permission id of a user or group address (Drive uses one id per identity). */
  static permissionId(type: string, value: string): string {
    if (type === 'anyone') return 'anyoneWithLink';
    let h = 0n;
    for (const ch of `${type}:${value}`) h = (h * 131n + BigInt(ch.codePointAt(0) as number)) % 10n ** 20n;
    return (h + 10n ** 19n).toString().slice(0, 20) + (type === 'domain' ? 'k' : '');
  }
}
