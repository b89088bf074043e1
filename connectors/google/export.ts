/**
 * Incremental export of every Google scope into the owned storage:
 * - directory: full listings (no delta token), changes by digest, deletions by difference;
 * - mailbox: labels by digest; messages by history.list from the last historyId, a 404 (too old)
 *   or an unknown cursor -> full listing with deletions by difference; raw MIME stored as .eml;
 * - drive / shared drive: changes.list from the last page token, invalid -> full listing; content
 *   streamed, native documents exported to Office formats; permissions per file;
 * - calendar: events.list with the last nextSyncToken per calendar, 410 -> full listing.
 * An item is emitted only when its version differs from the possessed one.
 */
import type { admin_directory_v1 } from 'googleapis/build/src/apis/admin/directory_v1.js';
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import type { drive_v3 } from 'googleapis/build/src/apis/drive/v3.js';
import type { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import type { ExportContext, ScopeRef } from '../../src/model/connector.js';
import type { BlobRef, ChangeRecordInput, Cursor } from '../../src/model/records.js';
import { GoogleApiError, pages, type GoogleClient } from './client.js';
import { digest, mapLimit, nowIso, type GoogleEnv } from './env.js';
import { normCalendar, normGroup, normLabel, normSharedDrive, normUser } from './normalize.js';
import { FOLDER, NATIVE_EXPORT, isUnexportableNative } from './office.js';
import { CalendarCursor, DriveCursor, MailboxCursor, type EventRaw, type FileRaw, type MemberRaw, type MessageRaw, type PermissionRaw } from './schema.js';
import { K, NR_SRC, parseScopeId } from './types.js';

const same = (a: string) => a;

export async function exportScope(env: GoogleEnv, scope: ScopeRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const s = parseScopeId(scope.id);
  switch (s.kind) {
    case 'directory':
      return exportDirectory(env, ctx);
    case 'mailbox':
      return exportMailbox(env, s.user as string, cursor, ctx);
    case 'drive':
      return exportDrive(env, { actor: s.user as string }, cursor, ctx);
    case 'shared-drive':
      return exportDrive(env, { driveId: s.driveId as string }, cursor, ctx);
    case 'calendar':
      return exportCalendar(env, s.user as string, cursor, ctx);
  }
}

async function emitChanged(ctx: ExportContext, possessed: Map<string, string>, record: ChangeRecordInput): Promise<boolean> {
  if (possessed.get(record.id) === record.version) return false;
  await ctx.emit(record);
  ctx.progress({ items: 1, bytes: Object.values(record.blobs ?? {}).reduce((n, b) => n + b.size, 0) });
  return true;
}

async function emitDeletions(ctx: ExportContext, kind: string, possessed: Map<string, string>, seen: Set<string>, filter: (id: string) => boolean = () => true): Promise<void> {
  for (const id of possessed.keys()) {
    if (!seen.has(id) && filter(id)) {
      await ctx.emit({ kind, id, op: 'delete', version: '', sourceTime: nowIso() });
      ctx.progress({ items: 1 });
    }
  }
}

// Directory ---------------------------------------------------------------------------------------

export function userRaw(u: admin_directory_v1.Schema$User): Record<string, unknown> {
  return {
    id: u.id,
    primaryEmail: (u.primaryEmail ?? '').toLowerCase(),
    name: { givenName: u.name?.givenName ?? null, familyName: u.name?.familyName ?? null, fullName: u.name?.fullName ?? null },
    suspended: u.suspended ?? false,
    orgUnitPath: u.orgUnitPath ?? '/',
    isAdmin: u.isAdmin ?? false,
    creationTime: u.creationTime ?? null,
  };
}

async function exportDirectory(env: GoogleEnv, ctx: ExportContext): Promise<Cursor> {
  const src = env.source;
  const admin = env.sourceAdmin;
  const signal = ctx.signal;
  const listedAt = nowIso();

  const users = await ctx.possessed(K.user);
  const seenUsers = new Set<string>();
  for await (const page of pages((t) => src.call(admin, 'directory', 1, (a) => a.admin.users.list({ customer: 'my_customer', maxResults: 500, orderBy: 'email', pageToken: t }), { what: 'users.list', signal }))) {
    for (const u of page.users ?? []) {
      if (!u.id || !u.primaryEmail) continue;
      const raw = userRaw(u);
      seenUsers.add(u.id);
      await emitChanged(ctx, users, { kind: K.user, id: u.id, op: 'upsert', version: digest(normUser(raw as never, same)), sourceTime: listedAt, raw });
    }
  }
  await emitDeletions(ctx, K.user, users, seenUsers);

  const groups = await ctx.possessed(K.group);
  const members = await ctx.possessed(K.member);
  const seenGroups = new Set<string>();
  const seenMembers = new Set<string>();
  for await (const page of pages((t) => src.call(admin, 'directory', 1, (a) => a.admin.groups.list({ customer: 'my_customer', maxResults: 200, pageToken: t }), { what: 'groups.list', signal }))) {
    for (const g of page.groups ?? []) {
      if (!g.id || !g.email) continue;
      const raw = { id: g.id, email: g.email.toLowerCase(), name: g.name ?? '', description: g.description ?? '' };
      seenGroups.add(g.id);
      await emitChanged(ctx, groups, { kind: K.group, id: g.id, op: 'upsert', version: digest(normGroup(raw, same)), sourceTime: listedAt, raw });
      for await (const mp of pages((t) => src.call(admin, 'directory', 1, (a) => a.admin.members.list({ groupKey: g.id as string, maxResults: 200, pageToken: t }), { what: `members.list of ${g.email}`, signal }))) {
        for (const m of (mp as admin_directory_v1.Schema$Members).members ?? []) {
          if (!m.email) continue;
          const id = `${g.id}/${m.email.toLowerCase()}`;
          const mraw: MemberRaw = { groupId: g.id, groupEmail: raw.email, email: m.email.toLowerCase(), role: m.role ?? 'MEMBER', type: m.type ?? 'USER' };
          seenMembers.add(id);
          await emitChanged(ctx, members, { kind: K.member, id, op: 'upsert', version: digest(mraw), sourceTime: listedAt, parent: g.id, raw: mraw });
        }
      }
    }
  }
  await emitDeletions(ctx, K.group, groups, seenGroups);
  await emitDeletions(ctx, K.member, members, seenMembers);
  return { v: 1, listedAt };
}

// Gmail -------------------------------------------------------------------------------------------

const labelsVersion = (labelIds: string[]): string => [...labelIds].sort().join(',');

/** The Message-ID header of raw MIME (lower case, no brackets), or null. */
export function rfcMessageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 65_536) : end).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:\s*(.*)$/im.exec(head);
  if (!m) return null;
  const v = (m[1] as string).trim();
  const b = /<([^>]+)>/.exec(v);
  return (b ? (b[1] as string) : v).toLowerCase() || null;
}

async function exportMailbox(env: GoogleEnv, user: string, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const src = env.source;
  const signal = ctx.signal;
  const gm = (cost: number, what: string, fn: (g: gmail_v1.Gmail) => Promise<{ data: unknown }>, accept?: number[]) =>
    src.callRaw(user, 'gmail', cost, (a) => fn(a.gmail) as Promise<{ data: unknown }>, { what, signal, accept });

  // Labels: no history covers them; list every time and compare.
  const labels = await ctx.possessed(K.label);
  const seenLabels = new Set<string>();
  const listed = (await gm(1, 'labels.list', (g) => g.users.labels.list({ userId: 'me' }))).data as gmail_v1.Schema$ListLabelsResponse;
  for (const l of listed.labels ?? []) {
    if (l.type !== 'user' || !l.id || !l.name) continue;
    const raw = { id: l.id, name: l.name, type: 'user', messageListVisibility: l.messageListVisibility ?? null, labelListVisibility: l.labelListVisibility ?? null, color: l.color ? { textColor: l.color.textColor ?? null, backgroundColor: l.color.backgroundColor ?? null } : null };
    seenLabels.add(l.id);
    await emitChanged(ctx, labels, { kind: K.label, id: l.id, op: 'upsert', version: digest(normLabel(raw)), sourceTime: nowIso(), raw });
  }
  await emitDeletions(ctx, K.label, labels, seenLabels);

  const possessed = await ctx.possessed(K.message);
  const fetchAndEmit = async (ids: string[]): Promise<void> => {
    // Fetch in parallel (paced per user), emit in order.
    for (let i = 0; i < ids.length; i += 64) {
      const batch = ids.slice(i, i + 64);
      const records = await mapLimit(batch, 16, (id) => messageRecord(env, user, id, possessed, ctx));
      for (const r of records) if (r) await emitChanged(ctx, possessed, r);
    }
  };

  const inc = MailboxCursor.safeParse(cursor);
  if (inc.success) {
    const state = new Map<string, 'changed' | 'deleted'>();
    let historyId = inc.data.historyId;
    let expired = false;
    let pageToken: string | undefined;
    do {
      const res = await gm(2, 'history.list', (g) => g.users.history.list({ userId: 'me', startHistoryId: inc.data.historyId, maxResults: 500, pageToken }), [404]);
      if (res.status === 404) {
        expired = true;
        break;
      }
      const page = res.data as gmail_v1.Schema$ListHistoryResponse;
      for (const h of page.history ?? []) {
        for (const a of h.messagesAdded ?? []) if (a.message?.id) state.set(a.message.id, 'changed');
        for (const a of [...(h.labelsAdded ?? []), ...(h.labelsRemoved ?? [])]) if (a.message?.id && state.get(a.message.id) !== 'deleted') state.set(a.message.id, 'changed');
        for (const d of h.messagesDeleted ?? []) if (d.message?.id) state.set(d.message.id, 'deleted');
      }
      if (page.historyId) historyId = page.historyId;
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    if (!expired) {
      await fetchAndEmit([...state].filter(([, s]) => s === 'changed').map(([id]) => id));
      for (const [id, s] of state) {
        if (s === 'deleted' && possessed.has(id)) {
          await ctx.emit({ kind: K.message, id, op: 'delete', version: '', sourceTime: nowIso() });
          possessed.delete(id);
          ctx.progress({ items: 1 });
        }
      }
      return { v: 1, historyId };
    }
    ctx.log.info('gmail history expired: full resync', { user });
  }

  // Full listing; history from before the listing is replayed next time (idempotently).
  const profile = (await gm(1, 'getProfile', (g) => g.users.getProfile({ userId: 'me' }))).data as gmail_v1.Schema$Profile;
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = (await gm(5, 'messages.list', (g) => g.users.messages.list({ userId: 'me', includeSpamTrash: true, maxResults: 500, pageToken }))).data as gmail_v1.Schema$ListMessagesResponse;
    for (const m of page.messages ?? []) if (m.id) ids.push(m.id);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  const seen = new Set(ids);
  await fetchAndEmit(ids);
  await emitDeletions(ctx, K.message, possessed, seen);
  return { v: 1, historyId: profile.historyId ?? '0' };
}

/** The upsert record of one message, or null when it is gone or unchanged. Only new messages are downloaded. */
async function messageRecord(env: GoogleEnv, user: string, id: string, possessed: Map<string, string>, ctx: ExportContext): Promise<ChangeRecordInput | null> {
  const src = env.source;
  const known = possessed.get(id);
  const prev = known !== undefined ? await ctx.lastRecord(K.message, id) : null;
  if (prev?.blobs?.mime) {
    const res = await src.callRaw(user, 'gmail', 5, (a) => a.gmail.users.messages.get({ userId: 'me', id, format: 'minimal' }), { what: 'messages.get', signal: ctx.signal, accept: [404] });
    if (res.status === 404) return null;
    const m = res.data as gmail_v1.Schema$Message;
    const version = labelsVersion(m.labelIds ?? []);
    if (version === known) return null;
    const raw: MessageRaw = { ...(prev.raw as MessageRaw), labelIds: m.labelIds ?? [], historyId: m.historyId ?? null };
    return { kind: K.message, id, op: 'upsert', version, sourceTime: nowIso(), raw, blobs: { mime: prev.blobs.mime } };
  }
  const res = await src.callRaw(user, 'gmail', 5, (a) => a.gmail.users.messages.get({ userId: 'me', id, format: 'raw' }), { what: 'messages.get', signal: ctx.signal, accept: [404] });
  if (res.status === 404) return null;
  const m = res.data as gmail_v1.Schema$Message;
  const bytes = Buffer.from(m.raw ?? '', 'base64url');
  const blob = await ctx.putBlob(bytes, 'message/rfc822');
  const raw: MessageRaw = { id, threadId: m.threadId ?? null, labelIds: m.labelIds ?? [], internalDate: m.internalDate ?? null, sizeEstimate: m.sizeEstimate ?? null, historyId: m.historyId ?? null, rfcMessageId: rfcMessageId(bytes) };
  const t = Number(m.internalDate);
  return { kind: K.message, id, op: 'upsert', version: labelsVersion(m.labelIds ?? []), sourceTime: Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : nowIso(), raw, blobs: { mime: blob } };
}

// Drive -------------------------------------------------------------------------------------------

export const FILE_FIELDS =
  'id,name,mimeType,parents,driveId,createdTime,modifiedTime,description,starred,size,md5Checksum,sha256Checksum,version,trashed,ownedByMe,appProperties,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,permissionDetails)';

const PERM_FIELDS = 'nextPageToken,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,permissionDetails)';

export function permRaw(p: drive_v3.Schema$Permission): PermissionRaw {
  return { id: p.id ?? null, type: p.type ?? 'user', role: p.role ?? 'reader', emailAddress: p.emailAddress?.toLowerCase() ?? null, domain: p.domain?.toLowerCase() ?? null, allowFileDiscovery: p.allowFileDiscovery ?? null };
}

/** Permissions set on the item itself (not inherited from a shared drive or a folder). */
export function ownPermissions(perms: drive_v3.Schema$Permission[]): PermissionRaw[] {
  return perms.filter((p) => !(p.permissionDetails?.length && p.permissionDetails.every((d) => d.inherited))).map(permRaw);
}

export async function listPermissions(client: GoogleClient, actor: string, fileId: string, signal: AbortSignal, admin = false): Promise<drive_v3.Schema$Permission[]> {
  const out: drive_v3.Schema$Permission[] = [];
  for await (const page of pages((t) =>
    client.call(actor, 'drive', 1, (a) => a.drive.permissions.list({ fileId, supportsAllDrives: true, useDomainAdminAccess: admin || undefined, pageSize: 100, pageToken: t, fields: PERM_FIELDS }), { what: `permissions.list of ${fileId}`, signal }),
  )) {
    out.push(...(page.permissions ?? []));
  }
  return out;
}

interface DriveTarget {
  /** My Drive of this user ... */
  actor?: string;
  /** ... or this shared drive. */
  driveId?: string;
}

/** A member of a shared drive to act as (organizers first), found with domain admin access. */
async function sharedDriveActor(env: GoogleEnv, driveId: string, signal: AbortSignal): Promise<{ actor: string; drive: drive_v3.Schema$Drive; members: drive_v3.Schema$Permission[] }> {
  const src = env.source;
  const drive = await src.call(env.sourceAdmin, 'drive', 1, (a) => a.drive.drives.get({ driveId, useDomainAdminAccess: true }), { what: `drives.get ${driveId}`, signal });
  const members = await listPermissions(src, env.sourceAdmin, driveId, signal, true);
  const rank = ['organizer', 'fileOrganizer', 'writer', 'commenter', 'reader'];
  const users = members.filter((m) => m.type === 'user' && m.emailAddress?.toLowerCase().endsWith('@' + src.tenant.domain.toLowerCase())).sort((a, b) => rank.indexOf(a.role ?? 'reader') - rank.indexOf(b.role ?? 'reader'));
  const actor = users[0]?.emailAddress?.toLowerCase();
  if (!actor) throw new Error(`shared drive ${drive.name ?? driveId} has no member in ${src.tenant.domain} to read it as; add ${env.sourceAdmin} as a member (Manager)`);
  return { actor, drive, members };
}

function depthOrder(files: drive_v3.Schema$File[]): drive_v3.Schema$File[] {
  const byId = new Map(files.map((f) => [f.id as string, f]));
  const depth = new Map<string, number>();
  const d = (f: drive_v3.Schema$File, guard = 0): number => {
    const known = depth.get(f.id as string);
    if (known !== undefined) return known;
    const p = byId.get(f.parents?.[0] ?? '');
    const v = p && guard < 100 ? d(p, guard + 1) + 1 : 0;
    depth.set(f.id as string, v);
    return v;
  };
  return [...files].sort((a, b) => Number(b.mimeType === FOLDER) - Number(a.mimeType === FOLDER) || d(a) - d(b));
}

async function exportDrive(env: GoogleEnv, target: DriveTarget, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const src = env.source;
  const signal = ctx.signal;
  let actor = target.actor as string;
  let rootId: string;
  const driveId = target.driveId;
  if (driveId) {
    const found = await sharedDriveActor(env, driveId, signal);
    actor = found.actor;
    rootId = driveId;
    const raw = { id: driveId, name: found.drive.name ?? '', members: ownPermissions(found.members) };
    await emitChanged(ctx, await ctx.possessed(K.sharedDrive), { kind: K.sharedDrive, id: driveId, op: 'upsert', version: digest(normSharedDrive(raw, (x) => x, (x) => x)), sourceTime: nowIso(), raw });
  } else {
    const root = await src.call(actor, 'drive', 1, (a) => a.drive.files.get({ fileId: 'root', fields: 'id' }), { what: 'files.get root', signal });
    rootId = root.id as string;
  }
  const possessed = await ctx.possessed(K.file);
  const belongs = (f: drive_v3.Schema$File): boolean => {
    if (!f.id || f.trashed || isUnexportableNative(f.mimeType ?? '')) return false;
    if (driveId) return f.driveId === driveId;
    return !f.driveId && f.ownedByMe === true;
  };
  const driveParams = driveId ? { driveId, supportsAllDrives: true, includeItemsFromAllDrives: true } : {};

  // A My Drive item may sit in a folder someone else owns (a shared folder): that folder is not in
  // this scope, so the item is restored into the owner's root (declared in kinds.ts).
  const ownFolder = new Map<string, boolean>();
  const parentInScope = async (parentId: string): Promise<boolean> => {
    if (driveId || parentId === rootId || possessed.has(parentId)) return true;
    const known = ownFolder.get(parentId);
    if (known !== undefined) return known;
    const res = await src.callRaw<drive_v3.Schema$File>(actor, 'drive', 1, (a) => a.drive.files.get({ fileId: parentId, fields: 'id,ownedByMe,trashed' }), { what: 'files.get parent', signal, accept: [404] });
    const own = !!res.data && res.data.ownedByMe === true && !res.data.trashed;
    ownFolder.set(parentId, own);
    return own;
  };
  const emitFiles = async (files: Array<{ file: drive_v3.Schema$File; time?: string }>): Promise<void> => {
    for (const x of files) if (belongs(x.file)) ownFolder.set(x.file.id as string, true);
    const ordered = depthOrder(files.map((x) => x.file));
    const times = new Map(files.map((x) => [x.file.id as string, x.time]));
    for (const f of ordered) {
      if (possessed.get(f.id as string) === String(f.version)) continue;
      const parent = f.parents?.[0];
      const outside = !!parent && !(await parentInScope(parent));
      const record = await fileRecord(env, actor, rootId, f, !!driveId, ctx, outside);
      if (record) {
        record.sourceTime = times.get(f.id as string) ?? record.sourceTime;
        await emitChanged(ctx, possessed, record);
      }
    }
  };

  const inc = DriveCursor.safeParse(cursor);
  if (inc.success) {
    const latest = new Map<string, drive_v3.Schema$Change>();
    let token: string | undefined = inc.data.pageToken;
    let newStart: string | null = null;
    let invalid = false;
    while (token) {
      const pageToken: string = token;
      const res = await src.callRaw(actor, 'drive', 1, (a) => a.drive.changes.list({ pageToken, pageSize: 1000, includeRemoved: true, spaces: 'drive', ...driveParams, fields: `nextPageToken,newStartPageToken,changes(fileId,removed,time,driveId,file(${FILE_FIELDS}))` }), { what: 'changes.list', signal, accept: [400, 404, 410] });
      if (res.status !== 200) {
        invalid = true;
        break;
      }
      const page = res.data as drive_v3.Schema$ChangeList;
      for (const c of page.changes ?? []) if (c.fileId) latest.set(c.fileId, c);
      newStart = page.newStartPageToken ?? newStart;
      token = page.nextPageToken ?? undefined;
    }
    if (!invalid && newStart) {
      const upserts: Array<{ file: drive_v3.Schema$File; time?: string }> = [];
      for (const [fileId, c] of latest) {
        if (!c.removed && c.file && belongs(c.file)) upserts.push({ file: c.file, ...(c.time ? { time: c.time } : {}) });
        else if (possessed.has(fileId)) {
          await ctx.emit({ kind: K.file, id: fileId, op: 'delete', version: '', sourceTime: c.time ?? nowIso() });
          possessed.delete(fileId);
          ctx.progress({ items: 1 });
        }
      }
      await emitFiles(upserts);
      return { v: 1, pageToken: newStart };
    }
    ctx.log.info('drive page token not accepted: full resync', { scope: driveId ?? actor });
  }

  const start = await src.call(actor, 'drive', 1, (a) => a.drive.changes.getStartPageToken(driveId ? { driveId, supportsAllDrives: true } : {}), { what: 'changes.getStartPageToken', signal });
  const all: drive_v3.Schema$File[] = [];
  for await (const page of pages((t) =>
    src.call(actor, 'drive', 1, (a) => a.drive.files.list({ q: driveId ? 'trashed = false' : "'me' in owners and trashed = false", corpora: driveId ? 'drive' : 'user', ...driveParams, pageSize: 1000, pageToken: t, fields: `nextPageToken,files(${FILE_FIELDS})` }), { what: 'files.list', signal }),
  )) {
    for (const f of page.files ?? []) if (belongs(f)) all.push(f);
  }
  await emitFiles(all.map((file) => ({ file })));
  await emitDeletions(ctx, K.file, possessed, new Set(all.map((f) => f.id as string)));
  return { v: 1, pageToken: start.startPageToken as string };
}

/** `parentOutside`: the parent folder is not in this scope (owned by someone else): restored into the root. */
async function fileRecord(env: GoogleEnv, actor: string, rootId: string, f: drive_v3.Schema$File, shared: boolean, ctx: ExportContext, parentOutside = false): Promise<ChangeRecordInput | null> {
  const src = env.source;
  const id = f.id as string;
  const perms = shared ? ownPermissions(await listPermissions(src, actor, id, ctx.signal)) : ownPermissions(f.permissions ?? []);
  const parentId = f.parents?.[0] ?? rootId;
  const raw: FileRaw = {
    file: {
      id,
      name: f.name ?? '',
      mimeType: f.mimeType ?? 'application/octet-stream',
      parents: f.parents ?? [],
      driveId: f.driveId ?? null,
      createdTime: f.createdTime ?? null,
      modifiedTime: f.modifiedTime ?? null,
      description: f.description ?? null,
      starred: f.starred ?? null,
      size: f.size ?? null,
      md5Checksum: f.md5Checksum ?? null,
      sha256Checksum: f.sha256Checksum ?? null,
      version: f.version ?? null,
    },
    parent: parentId === rootId || parentOutside ? 'root' : parentId,
    permissions: perms,
    exportMimeType: null,
    exportError: null,
    restoredFrom: f.appProperties?.[NR_SRC] ?? null,
  };
  let blobs: Record<string, BlobRef> | undefined;
  const mime = raw.file.mimeType;
  if (mime !== FOLDER) {
    const native = NATIVE_EXPORT[mime];
    if (native) {
      raw.exportMimeType = native.mimeType;
      try {
        const data = await src.call(actor, 'drive', 1, (a) => a.drive.files.export({ fileId: id, mimeType: native.mimeType }, { responseType: 'arraybuffer' }) as Promise<{ data: unknown }>, { what: `files.export of ${raw.file.name}`, signal: ctx.signal });
        blobs = { content: await ctx.putBlob(Buffer.from(data as ArrayBuffer), native.mimeType) };
      } catch (err) {
        if (!(err instanceof GoogleApiError) || err.reason !== 'exportSizeLimitExceeded') throw err;
        raw.exportError = 'exportSizeLimitExceeded';
        ctx.log.warn('native document too large to export (10 MB limit): metadata only', { file: id });
      }
    } else {
      const size = f.size !== undefined && f.size !== null ? Number(f.size) : null;
      const stream = src.download(actor, 'drive', `files.get media of ${raw.file.name}`, (a, range) => a.drive.files.get({ fileId: id, alt: 'media', supportsAllDrives: true }, { responseType: 'stream', ...(range ? { headers: { Range: range } } : {}) }) as Promise<{ data: unknown }>, size, ctx.signal);
      const blob = await ctx.putBlob(stream, mime);
      if (f.sha256Checksum && blob.sha256 !== f.sha256Checksum) throw new Error(`download of ${raw.file.name} (${id}) does not match Drive's sha256Checksum: got ${blob.sha256}, expected ${f.sha256Checksum}; it will be fetched again next cycle`);
      blobs = { content: blob };
    }
  }
  const record: ChangeRecordInput = { kind: K.file, id, op: 'upsert', version: String(f.version), sourceTime: f.modifiedTime ?? nowIso(), raw };
  if (raw.parent !== 'root') record.parent = raw.parent;
  if (blobs) record.blobs = blobs;
  return record;
}

// Calendar ----------------------------------------------------------------------------------------

export function eventRaw(calendar: string, e: calendar_v3.Schema$Event): EventRaw {
  const time = (t: calendar_v3.Schema$EventDateTime | undefined) => (t ? { date: t.date ?? null, dateTime: t.dateTime ?? null, timeZone: t.timeZone ?? null } : null);
  return {
    calendar,
    event: {
      id: e.id as string,
      iCalUID: e.iCalUID ?? null,
      status: e.status ?? null,
      summary: e.summary ?? null,
      description: e.description ?? null,
      location: e.location ?? null,
      start: time(e.start),
      end: time(e.end),
      recurrence: e.recurrence ?? null,
      recurringEventId: e.recurringEventId ?? null,
      originalStartTime: time(e.originalStartTime),
      organizer: e.organizer ? { email: e.organizer.email?.toLowerCase() ?? null, displayName: e.organizer.displayName ?? null } : null,
      attendees: e.attendees ? e.attendees.map((a) => ({ email: a.email?.toLowerCase() ?? null, displayName: a.displayName ?? null, optional: a.optional ?? null, responseStatus: a.responseStatus ?? null })) : null,
      transparency: e.transparency ?? null,
      visibility: e.visibility ?? null,
      sequence: e.sequence ?? null,
    },
  };
}

async function exportCalendar(env: GoogleEnv, user: string, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const src = env.source;
  const signal = ctx.signal;
  const prev = CalendarCursor.safeParse(cursor);
  const tokens: Record<string, string> = {};
  const owned: calendar_v3.Schema$CalendarListEntry[] = [];
  for await (const page of pages((t) => src.call(user, 'calendar', 1, (a) => a.calendar.calendarList.list({ maxResults: 250, pageToken: t, minAccessRole: 'owner' }), { what: 'calendarList.list', signal }))) {
    for (const c of page.items ?? []) if (c.id && c.accessRole === 'owner') owned.push(c);
  }
  const calendars = await ctx.possessed(K.calendar);
  const seenCals = new Set<string>();
  const keys: Array<{ key: string; calendarId: string }> = [];
  for (const c of owned) {
    if (c.primary) {
      keys.push({ key: 'primary', calendarId: c.id as string });
      continue;
    }
    const raw = { id: c.id as string, summary: c.summary ?? '', description: c.description ?? null, timeZone: c.timeZone ?? null };
    seenCals.add(raw.id);
    keys.push({ key: raw.id, calendarId: raw.id });
    await emitChanged(ctx, calendars, { kind: K.calendar, id: raw.id, op: 'upsert', version: digest(normCalendar(raw)), sourceTime: nowIso(), raw });
  }
  await emitDeletions(ctx, K.calendar, calendars, seenCals);
  const events = await ctx.possessed(K.event);
  const keyOf = (id: string) => id.slice(0, id.lastIndexOf('/'));
  // Events of calendars that are gone.
  const liveKeys = new Set(keys.map((k) => k.key));
  await emitDeletions(ctx, K.event, events, new Set(), (id) => !liveKeys.has(keyOf(id)));

  for (const { key, calendarId } of keys) {
    const token = prev.success ? prev.data.tokens[key] : undefined;
    const seen = new Set<string>();
    let full = !token;
    let next: string | null = null;
    const upsert = async (e: calendar_v3.Schema$Event): Promise<void> => {
      const id = `${key}/${e.id}`;
      if (e.status === 'cancelled') {
        if (events.has(id)) {
          await ctx.emit({ kind: K.event, id, op: 'delete', version: '', sourceTime: e.updated ?? nowIso() });
          events.delete(id);
          ctx.progress({ items: 1 });
        }
        return;
      }
      seen.add(id);
      await emitChanged(ctx, events, { kind: K.event, id, op: 'upsert', version: e.etag ?? e.updated ?? digest(e), sourceTime: e.updated ?? nowIso(), raw: eventRaw(key, e) });
    };
    if (token) {
      let pageToken: string | undefined;
      const buffered: calendar_v3.Schema$Event[] = [];
      for (;;) {
        const res = await src.callRaw(user, 'calendar', 1, (a) => a.calendar.events.list({ calendarId, syncToken: token, maxResults: 2500, pageToken }), { what: 'events.list (sync)', signal, accept: [410] });
        if (res.status === 410) {
          full = true;
          ctx.log.info('calendar sync token expired: full resync', { user, calendar: key });
          break;
        }
        const page = res.data as calendar_v3.Schema$Events;
        buffered.push(...(page.items ?? []));
        pageToken = page.nextPageToken ?? undefined;
        if (!pageToken) {
          next = page.nextSyncToken ?? null;
          break;
        }
      }
      if (!full) for (const e of buffered) await upsert(e);
    }
    if (full) {
      let pageToken: string | undefined;
      for (;;) {
        const page = await src.call(user, 'calendar', 1, (a) => a.calendar.events.list({ calendarId, showDeleted: false, maxResults: 2500, pageToken }), { what: 'events.list', signal });
        for (const e of page.items ?? []) await upsert(e);
        pageToken = page.nextPageToken ?? undefined;
        if (!pageToken) {
          next = page.nextSyncToken ?? null;
          break;
        }
      }
      await emitDeletions(ctx, K.event, events, seen, (id) => keyOf(id) === key);
    }
    if (!next) throw new Error(`events.list of ${calendarId} ended without a nextSyncToken`);
    tokens[key] = next;
  }
  return { v: 1, tokens };
}
