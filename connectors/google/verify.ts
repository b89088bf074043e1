/**
 * The standby side of verification: every standby item of a scope, normalized like the stored
 * records (normalize.ts), with the source id it corresponds to through the id map (null when the
 * standby holds an item norestore did not put there).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import type { drive_v3 } from 'googleapis/build/src/apis/drive/v3.js';
import type { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import type { ScopeRef, StandbyItem, VerifyContext } from '../../src/model/connector.js';
import { mapLimit, type GoogleEnv } from './env.js';
import { eventRaw, ownPermissions, permRaw, userRaw } from './export.js';
import { normCalendar, normEvent, normGroup, normLabel, normMember, normMessage, normPermissions, normSharedDrive, normUser } from './normalize.js';
import { FOLDER, NATIVE_EXPORT, officeText, textDigest } from './office.js';
import { parseRaw, UserRaw } from './schema.js';
import { pages } from './client.js';
import { K, parseScopeId } from './types.js';

const id = (x: string) => x;

function reverse(ctx: VerifyContext, kind: string): Map<string, string> {
  return new Map([...ctx.idMap.entries(kind)].map(([src, e]) => [e.standbyId, src]));
}

export async function* readStandby(env: GoogleEnv, scope: ScopeRef, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const s = parseScopeId(scope.id);
  switch (s.kind) {
    case 'directory':
      yield* standbyDirectory(env, ctx);
      return;
    case 'mailbox':
      yield* standbyMailbox(env, env.identity.address(s.user as string), ctx);
      return;
    case 'drive':
      yield* standbyDrive(env, { user: env.identity.address(s.user as string) }, ctx);
      return;
    case 'shared-drive':
      yield* standbyDrive(env, { driveId: s.driveId as string }, ctx);
      return;
    case 'calendar':
      yield* standbyCalendar(env, env.identity.address(s.user as string), ctx);
      return;
  }
}

async function* standbyDirectory(env: GoogleEnv, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const sby = env.standby;
  const admin = env.standbyAdmin;
  const signal = ctx.signal;
  const users = reverse(ctx, K.user);
  for await (const page of pages((t) => sby.call(admin, 'directory', 1, (a) => a.admin.users.list({ customer: 'my_customer', maxResults: 500, pageToken: t }), { what: 'users.list (standby)', signal }))) {
    for (const u of page.users ?? []) {
      if (!u.id) continue;
      yield { kind: K.user, sourceId: users.get(u.id) ?? null, standbyId: u.id, normalized: normUser(parseRaw(UserRaw, userRaw(u), `standby user ${u.primaryEmail}`), id) };
    }
  }
  const groups = reverse(ctx, K.group);
  const members = reverse(ctx, K.member);
  for await (const page of pages((t) => sby.call(admin, 'directory', 1, (a) => a.admin.groups.list({ customer: 'my_customer', maxResults: 200, pageToken: t }), { what: 'groups.list (standby)', signal }))) {
    for (const g of page.groups ?? []) {
      if (!g.id || !g.email) continue;
      const email = g.email.toLowerCase();
      yield { kind: K.group, sourceId: groups.get(g.id) ?? null, standbyId: g.id, normalized: normGroup({ id: g.id, email, name: g.name ?? '', description: g.description ?? '' }, id) };
      for await (const mp of pages((t) => sby.call(admin, 'directory', 1, (a) => a.admin.members.list({ groupKey: g.id as string, maxResults: 200, pageToken: t }), { what: `members.list ${email} (standby)`, signal }))) {
        for (const m of mp.members ?? []) {
          if (!m.email) continue;
          const member = m.email.toLowerCase();
          // Imported memberships are keyed by the standby group id or its address.
          const sourceId = members.get(`${g.id}/${member}`) ?? members.get(`${email}/${member}`) ?? null;
          yield { kind: K.member, sourceId, standbyId: `${g.id}/${member}`, normalized: normMember({ groupId: g.id, groupEmail: email, email: member, role: m.role ?? 'MEMBER', type: m.type ?? 'USER' }, id) };
        }
      }
    }
  }
}

/** Raw MIME digests of standby messages, cached in the work dir (a Gmail message never changes). */
async function loadShaCache(dir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(join(dir, 'gmail-standby-sha256.json'), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function saveShaCache(dir: string, cache: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'gmail-standby-sha256.json');
  await writeFile(`${file}.tmp`, JSON.stringify(cache));
  await rename(`${file}.tmp`, file);
}

async function* standbyMailbox(env: GoogleEnv, user: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const sby = env.standby;
  const signal = ctx.signal;
  const labelsBack = reverse(ctx, K.label);
  const res = await sby.call(user, 'gmail', 1, (a) => a.gmail.users.labels.list({ userId: 'me' }), { what: 'labels.list (standby)', signal });
  for (const l of res.labels ?? []) {
    if (l.type !== 'user' || !l.id) continue;
    yield { kind: K.label, sourceId: labelsBack.get(l.id) ?? null, standbyId: l.id, normalized: normLabel({ id: l.id, name: l.name ?? '', messageListVisibility: l.messageListVisibility ?? null, labelListVisibility: l.labelListVisibility ?? null, color: l.color ? { textColor: l.color.textColor ?? null, backgroundColor: l.color.backgroundColor ?? null } : null }) };
  }
  const msgsBack = reverse(ctx, K.message);
  const ids: string[] = [];
  for await (const page of pages((t) => sby.call(user, 'gmail', 5, (a) => a.gmail.users.messages.list({ userId: 'me', includeSpamTrash: true, maxResults: 500, pageToken: t }), { what: 'messages.list (standby)', signal }))) {
    for (const m of page.messages ?? []) if (m.id) ids.push(m.id);
  }
  const cache = await loadShaCache(ctx.workDir);
  const toSource = (l: string): string => (l.startsWith('Label_') || !/^[A-Z_]+$/.test(l) ? (labelsBack.get(l) ?? `standby:${l}`) : l);
  for (let i = 0; i < ids.length; i += 64) {
    const batch = ids.slice(i, i + 64);
    const got = await mapLimit(batch, 8, async (mid) => {
      const cached = cache[mid];
      const m = await sby.callRaw<gmail_v1.Schema$Message>(user, 'gmail', 5, (a) => a.gmail.users.messages.get({ userId: 'me', id: mid, format: cached ? 'minimal' : 'raw' }), { what: 'messages.get (standby)', signal, accept: [404] });
      if (!m.data) return null;
      if (!cached) cache[mid] = createHash('sha256').update(Buffer.from(m.data.raw ?? '', 'base64url')).digest('hex');
      return { mid, labels: m.data.labelIds ?? [] };
    });
    for (const g of got) {
      if (!g) continue;
      yield { kind: K.message, sourceId: msgsBack.get(g.mid) ?? null, standbyId: g.mid, normalized: normMessage(cache[g.mid] as string, g.labels.map(toSource)) };
    }
  }
  await saveShaCache(ctx.workDir, Object.fromEntries(ids.filter((x) => cache[x]).map((x) => [x, cache[x] as string])));
}

async function* standbyDrive(env: GoogleEnv, target: { user?: string; driveId?: string }, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const sby = env.standby;
  const signal = ctx.signal;
  let actor = target.user as string;
  let root: string;
  let driveId: string | undefined;
  if (target.driveId) {
    const sd = ctx.idMap.get(K.sharedDrive, target.driveId);
    if (!sd) return;
    actor = env.standbyAdmin;
    driveId = sd.standbyId;
    root = driveId;
    const drive = await sby.callRaw<drive_v3.Schema$Drive>(actor, 'drive', 1, (a) => a.drive.drives.get({ driveId: driveId as string, useDomainAdminAccess: true }), { what: 'drives.get (standby)', signal, accept: [404] });
    if (!drive.data) return;
    const members: drive_v3.Schema$Permission[] = [];
    for await (const page of pages((t) => sby.call(actor, 'drive', 1, (a) => a.drive.permissions.list({ fileId: driveId as string, supportsAllDrives: true, useDomainAdminAccess: true, pageSize: 100, pageToken: t, fields: 'nextPageToken,permissions(id,type,role,emailAddress,domain,allowFileDiscovery)' }), { what: 'permissions.list (standby drive)', signal }))) {
      members.push(...(page.permissions ?? []));
    }
    yield { kind: K.sharedDrive, sourceId: target.driveId, standbyId: driveId, normalized: normSharedDrive({ id: driveId, name: drive.data.name ?? '', members: members.map(permRaw) }, id, id, env.standbyAdmin) };
  } else {
    const r = await sby.callRaw<drive_v3.Schema$File>(actor, 'drive', 1, (a) => a.drive.files.get({ fileId: 'root', fields: 'id' }), { what: 'files.get root (standby)', signal, accept: [400, 404] });
    if (!r.data) return;
    root = r.data.id as string;
  }
  const back = reverse(ctx, K.file);
  const files: drive_v3.Schema$File[] = [];
  for await (const page of pages((t) =>
    sby.call(actor, 'drive', 1, (a) => a.drive.files.list({ q: driveId ? 'trashed = false' : "'me' in owners and trashed = false", ...(driveId ? { corpora: 'drive', driveId, includeItemsFromAllDrives: true, supportsAllDrives: true } : {}), pageSize: 1000, pageToken: t, fields: 'nextPageToken,files(id,name,mimeType,parents,sha256Checksum,modifiedTime,description,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,permissionDetails))' }), { what: 'files.list (standby)', signal }),
  )) {
    files.push(...(page.files ?? []));
  }
  for (const f of files) {
    const fid = f.id as string;
    let content: string | null = null;
    if (f.mimeType && f.mimeType !== FOLDER) {
      const native = NATIVE_EXPORT[f.mimeType];
      if (native) {
        const data = await sby.call(actor, 'drive', 1, (a) => a.drive.files.export({ fileId: fid, mimeType: native.mimeType }, { responseType: 'arraybuffer' }) as Promise<{ data: unknown }>, { what: `files.export ${f.name} (standby)`, signal });
        content = textDigest(officeText(Buffer.from(data as ArrayBuffer)));
      } else content = f.sha256Checksum ? `sha256:${f.sha256Checksum}` : null;
    }
    let perms = f.permissions ?? [];
    if (driveId) {
      perms = [];
      for await (const page of pages((t) => sby.call(actor, 'drive', 1, (a) => a.drive.permissions.list({ fileId: fid, supportsAllDrives: true, pageSize: 100, pageToken: t, fields: 'nextPageToken,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,permissionDetails)' }), { what: 'permissions.list (standby)', signal }))) {
        perms.push(...(page.permissions ?? []));
      }
    }
    const parentId = f.parents?.[0] ?? root;
    yield {
      kind: K.file,
      sourceId: back.get(fid) ?? null,
      standbyId: fid,
      normalized: {
        name: f.name ?? '',
        mimeType: f.mimeType ?? '',
        parent: parentId === root ? 'root' : (back.get(parentId) ?? `standby:${parentId}`),
        content,
        permissions: normPermissions(ownPermissions(perms), id, id),
        modifiedTime: f.modifiedTime ? new Date(f.modifiedTime).toISOString() : null,
        description: f.description ?? '',
      },
    };
  }
}

async function* standbyCalendar(env: GoogleEnv, user: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const sby = env.standby;
  const signal = ctx.signal;
  const calsBack = reverse(ctx, K.calendar);
  const eventsBack = reverse(ctx, K.event);
  const owned: calendar_v3.Schema$CalendarListEntry[] = [];
  for await (const page of pages((t) => sby.call(user, 'calendar', 1, (a) => a.calendar.calendarList.list({ maxResults: 250, pageToken: t, minAccessRole: 'owner' }), { what: 'calendarList.list (standby)', signal }))) {
    for (const c of page.items ?? []) if (c.id && c.accessRole === 'owner') owned.push(c);
  }
  for (const c of owned) {
    const key = c.primary ? 'primary' : (c.id as string);
    if (!c.primary) yield { kind: K.calendar, sourceId: calsBack.get(key) ?? null, standbyId: key, normalized: normCalendar({ id: key, summary: c.summary ?? '', description: c.description ?? null, timeZone: c.timeZone ?? null }) };
    for await (const page of pages((t) => sby.call(user, 'calendar', 1, (a) => a.calendar.events.list({ calendarId: c.id as string, showDeleted: false, maxResults: 2500, pageToken: t }), { what: 'events.list (standby)', signal }))) {
      for (const e of page.items ?? []) {
        if (!e.id || e.status === 'cancelled') continue;
        const standbyId = `${key}/${e.id}`;
        yield { kind: K.event, sourceId: eventsBack.get(standbyId) ?? null, standbyId, normalized: normEvent(eventRaw(key, e).event, id) };
      }
    }
  }
}
