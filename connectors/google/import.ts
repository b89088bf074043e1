/**
 * Import of stored changes into the standby domain, idempotent through the id map, and safe after a
 * crash that lost id-map entries: every create first adopts an existing standby item by its
 * natural key (user/group address, label name, Message-ID, appProperties.nrSrc on Drive items,
 * iCalUID for events, which events.import upserts anyway).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { admin_directory_v1 } from 'googleapis/build/src/apis/admin/directory_v1.js';
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import type { drive_v3 } from 'googleapis/build/src/apis/drive/v3.js';
import type { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import type { ImportContext, ImportResult, ScopeRef } from '../../src/model/connector.js';
import type { BlobRef, ChangeRecord } from '../../src/model/records.js';
import { pages, readAllBytes, type Apis } from './client.js';
import { mapLimit, stable, type GoogleEnv } from './env.js';
import { eventRaw, permRaw, userRaw } from './export.js';
import { UNIMPORTABLE_LABELS, normCalendar, normEvent, normGroup, normLabel, normSharedDrive, normUser, permKey, standbyMimeType } from './normalize.js';
import { FOLDER, NATIVE_EXPORT, officeText, textDigest } from './office.js';
import { CalendarRaw, EventRaw, FileRaw, GroupRaw, LabelRaw, MemberRaw, MessageRaw, SharedDriveRaw, UserRaw, parseRaw, type PermissionRaw } from './schema.js';
import { K, NR_SHA, NR_SRC, parseScopeId } from './types.js';

const MULTIPART_MAX = 5 * 1024 * 1024;
const CHUNK = 8 * 1024 * 1024;

class Run {
  readonly result: ImportResult = { imported: 0, unchanged: 0, deleted: 0, failed: [] };
  constructor(private readonly ctx: ImportContext) {}

  async item(r: ChangeRecord, fn: () => Promise<'imported' | 'unchanged' | 'deleted'>): Promise<void> {
    try {
      const outcome = await fn();
      this.result[outcome]++;
      if (outcome !== 'unchanged') this.ctx.progress({ items: 1 });
    } catch (err) {
      if (this.ctx.signal.aborted) throw err;
      this.result.failed.push({ kind: r.kind, id: r.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

export async function importScope(env: GoogleEnv, scope: ScopeRef, records: ChangeRecord[], ctx: ImportContext): Promise<ImportResult> {
  const run = new Run(ctx);
  const s = parseScopeId(scope.id);
  switch (s.kind) {
    case 'directory':
      await importDirectory(env, records, ctx, run);
      break;
    case 'mailbox':
      await importMailbox(env, env.identity.address(s.user as string), records, ctx, run);
      break;
    case 'drive':
      await importDrive(env, { user: env.identity.address(s.user as string) }, records, ctx, run);
      break;
    case 'shared-drive':
      await importDrive(env, { driveId: s.driveId as string }, records, ctx, run);
      break;
    case 'calendar':
      await importCalendar(env, env.identity.address(s.user as string), records, ctx, run);
      break;
  }
  return run.result;
}

// Standby principals ------------------------------------------------------------------------------

const randomPassword = (): string => randomBytes(18).toString('base64url') + 'aA1!';

async function createStandbyUser(env: GoogleEnv, raw: UserRaw, signal: AbortSignal): Promise<admin_directory_v1.Schema$User> {
  const sby = env.standby;
  const email = env.identity.address(raw.primaryEmail);
  const get = async () => (await sby.callRaw(env.standbyAdmin, 'directory', 1, (a) => a.admin.users.get({ userKey: email }), { what: `users.get ${email}`, signal, accept: [404] })).data ?? null;
  const body: admin_directory_v1.Schema$User = {
    primaryEmail: email,
    name: { givenName: raw.name?.givenName ?? email.split('@')[0], familyName: raw.name?.familyName ?? '-' },
    password: randomPassword(),
    changePasswordAtNextLogin: true,
    suspended: raw.suspended ?? false,
    orgUnitPath: raw.orgUnitPath ?? '/',
  };
  const res = await sby.callRaw(env.standbyAdmin, 'directory', 1, (a) => a.admin.users.insert({ requestBody: body }), { what: `users.insert ${email}`, signal, write: true, lookup: get, accept: [409] });
  if (res.status === 409 || !res.data) return (await get()) as admin_directory_v1.Schema$User;
  return res.data;
}

/** Make sure a standby user or group exists for an address of the standby domain (created from the source directory). */
async function ensurePrincipal(env: GoogleEnv, address: string, type: 'user' | 'group', signal: AbortSignal): Promise<void> {
  const e = address.toLowerCase();
  if (env.knownStandby.has(e) || !e.endsWith('@' + env.standby.tenant.domain.toLowerCase())) return;
  const sby = env.standby;
  const src = env.source;
  if (type === 'user') {
    const got = await sby.callRaw(env.standbyAdmin, 'directory', 1, (a) => a.admin.users.get({ userKey: e }), { what: `users.get ${e}`, signal, accept: [404] });
    if (got.status !== 404) {
      env.knownStandby.add(e);
      return;
    }
    const srcAddr = env.identity.reverse(e);
    const su = await src.callRaw(env.sourceAdmin, 'directory', 1, (a) => a.admin.users.get({ userKey: srcAddr }), { what: `users.get ${srcAddr}`, signal, accept: [404] });
    if (su.status === 404 || !su.data) throw new Error(`standby user ${e} does not exist and ${srcAddr} is not a user of ${src.tenant.domain} to create it from; create ${e} or map ${srcAddr} to an existing standby user (identity.users)`);
    await createStandbyUser(env, parseRaw(UserRaw, userRaw(su.data), `user ${srcAddr}`), signal);
  } else {
    const got = await sby.callRaw(env.standbyAdmin, 'directory', 1, (a) => a.admin.groups.get({ groupKey: e }), { what: `groups.get ${e}`, signal, accept: [404] });
    if (got.status !== 404) {
      env.knownStandby.add(e);
      return;
    }
    const srcAddr = env.identity.reverse(e);
    const sg = await src.callRaw(env.sourceAdmin, 'directory', 1, (a) => a.admin.groups.get({ groupKey: srcAddr }), { what: `groups.get ${srcAddr}`, signal, accept: [404] });
    if (sg.status === 404 || !sg.data) throw new Error(`standby group ${e} does not exist and ${srcAddr} is not a group of ${src.tenant.domain}; create ${e} on the standby`);
    await sby.callRaw(env.standbyAdmin, 'directory', 1, (a) => a.admin.groups.insert({ requestBody: { email: e, name: sg.data?.name ?? e, description: sg.data?.description ?? '' } }), { what: `groups.insert ${e}`, signal, write: true, accept: [409] });
  }
  env.knownStandby.add(e);
}

// Directory ---------------------------------------------------------------------------------------

async function importDirectory(env: GoogleEnv, records: ChangeRecord[], ctx: ImportContext, run: Run): Promise<void> {
  const sby = env.standby;
  const admin = env.standbyAdmin;
  const signal = ctx.signal;
  const addr = (a: string) => env.identity.address(a);
  const dir = <T>(what: string, fn: (a: Apis) => Promise<{ data: T }>, o: { write?: boolean; accept?: number[] } = {}) => sby.callRaw<T>(admin, 'directory', 1, fn, { what, signal, ...o });
  for (const r of records) {
    await run.item(r, async () => {
      const entry = ctx.idMap.get(r.kind, r.id);
      if (r.op === 'delete') {
        if (!entry) return 'unchanged';
        if (r.kind === K.user && entry.standbyId === (await dir<admin_directory_v1.Schema$User>(`users.get ${admin}`, (a) => a.admin.users.get({ userKey: admin }))).data?.id) {
          ctx.log.warn('not deleting the standby admin user', { user: admin });
        } else if (r.kind === K.user) await dir(`users.delete ${entry.standbyId}`, (a) => a.admin.users.delete({ userKey: entry.standbyId }), { accept: [404] });
        else if (r.kind === K.group) await dir(`groups.delete ${entry.standbyId}`, (a) => a.admin.groups.delete({ groupKey: entry.standbyId }), { accept: [404] });
        else if (r.kind === K.member) {
          const [g, m] = splitMember(entry.standbyId);
          await dir(`members.delete ${m} from ${g}`, (a) => a.admin.members.delete({ groupKey: g, memberKey: m }), { accept: [404] });
        }
        ctx.idMap.delete(r.kind, r.id);
        return 'deleted';
      }
      if (entry && entry.version === r.version) return 'unchanged';
      if (r.kind === K.user) {
        const raw = parseRaw(UserRaw, r.raw, `user ${r.id}`);
        const email = addr(raw.primaryEmail);
        let su = (await dir<admin_directory_v1.Schema$User>(`users.get ${email}`, (a) => a.admin.users.get({ userKey: entry?.standbyId ?? email }), { accept: [404] })).data ?? null;
        if (!su) su = await createStandbyUser(env, raw, signal);
        else {
          const want = normUser(raw, addr);
          const have = normUser(parseRaw(UserRaw, userRaw(su), `standby user ${email}`), (x) => x);
          if (stable(want) !== stable(have)) {
            const patch = { name: { givenName: raw.name?.givenName ?? undefined, familyName: raw.name?.familyName ?? undefined }, suspended: raw.suspended ?? false, orgUnitPath: raw.orgUnitPath ?? '/' };
            await dir(`users.patch ${email}`, (a) => a.admin.users.patch({ userKey: su?.id as string, requestBody: patch }), { write: true });
          }
        }
        env.knownStandby.add(email);
        ctx.idMap.set(r.kind, r.id, { standbyId: su.id as string, version: r.version });
        return 'imported';
      }
      if (r.kind === K.group) {
        const raw = parseRaw(GroupRaw, r.raw, `group ${r.id}`);
        const email = addr(raw.email);
        const get = async () => (await dir<admin_directory_v1.Schema$Group>(`groups.get ${email}`, (a) => a.admin.groups.get({ groupKey: email }), { accept: [404] })).data ?? null;
        let sg = entry ? ((await dir<admin_directory_v1.Schema$Group>(`groups.get ${entry.standbyId}`, (a) => a.admin.groups.get({ groupKey: entry.standbyId }), { accept: [404] })).data ?? null) : await get();
        if (!sg) {
          const res = await sby.callRaw(admin, 'directory', 1, (a) => a.admin.groups.insert({ requestBody: { email, name: raw.name ?? email, description: raw.description ?? '' } }), { what: `groups.insert ${email}`, signal, write: true, lookup: get, accept: [409] });
          sg = res.status === 409 || !res.data ? await get() : res.data;
          if (!sg) throw new Error(`groups.insert ${email} answered 409 but the group cannot be read`);
        } else if (stable(normGroup(raw, addr)) !== stable(normGroup({ id: sg.id as string, email: (sg.email ?? '').toLowerCase(), name: sg.name, description: sg.description }, (x) => x))) {
          await dir(`groups.patch ${email}`, (a) => a.admin.groups.patch({ groupKey: sg?.id as string, requestBody: { name: raw.name ?? undefined, description: raw.description ?? '' } }), { write: true });
        }
        env.knownStandby.add(email);
        ctx.idMap.set(r.kind, r.id, { standbyId: sg.id as string, version: r.version });
        return 'imported';
      }
      // Membership
      const raw = parseRaw(MemberRaw, r.raw, `member ${r.id}`);
      const group = ctx.idMap.get(K.group, raw.groupId)?.standbyId ?? addr(raw.groupEmail);
      const email = addr(raw.email);
      if (raw.type === 'USER') await ensurePrincipal(env, email, 'user', signal);
      if (raw.type === 'GROUP') await ensurePrincipal(env, email, 'group', signal);
      const cur = (await dir<admin_directory_v1.Schema$Member>(`members.get ${email} of ${group}`, (a) => a.admin.members.get({ groupKey: group, memberKey: email }), { accept: [404] })).data ?? null;
      if (cur && cur.role !== raw.role) await dir(`members.delete ${email} from ${group}`, (a) => a.admin.members.delete({ groupKey: group, memberKey: email }), { accept: [404] });
      if (!cur || cur.role !== raw.role) {
        await dir(`members.insert ${email} into ${group}`, (a) => a.admin.members.insert({ groupKey: group, requestBody: { email, role: raw.role } }), { write: true, accept: [409] });
      }
      ctx.idMap.set(r.kind, r.id, { standbyId: `${group}/${email}`, version: r.version });
      return 'imported';
    });
  }
}

export function splitMember(standbyId: string): [string, string] {
  const i = standbyId.lastIndexOf('/');
  return [standbyId.slice(0, i), standbyId.slice(i + 1)];
}

// Gmail -------------------------------------------------------------------------------------------

async function importMailbox(env: GoogleEnv, user: string, records: ChangeRecord[], ctx: ImportContext, run: Run): Promise<void> {
  const sby = env.standby;
  const signal = ctx.signal;
  await ensurePrincipal(env, user, 'user', signal);
  const gm = <T>(cost: number, what: string, fn: (g: gmail_v1.Gmail) => Promise<{ data: T }>, o: { write?: boolean; accept?: number[]; lookup?: () => Promise<unknown> } = {}) =>
    sby.callRaw<T>(user, 'gmail', cost, (a) => fn(a.gmail), { what, signal, ...o });

  // Labels -----------------------------------------------------------------
  let standbyLabels: Map<string, gmail_v1.Schema$Label> | null = null;
  const labelsByName = async (): Promise<Map<string, gmail_v1.Schema$Label>> => {
    if (!standbyLabels) {
      const res = await gm<gmail_v1.Schema$ListLabelsResponse>(1, 'labels.list', (g) => g.users.labels.list({ userId: 'me' }));
      standbyLabels = new Map((res.data?.labels ?? []).map((l) => [(l.name ?? '').toLowerCase(), l]));
    }
    return standbyLabels;
  };
  for (const r of records.filter((x) => x.kind === K.label)) {
    await run.item(r, async () => {
      const entry = ctx.idMap.get(K.label, r.id);
      if (r.op === 'delete') {
        if (!entry) return 'unchanged';
        await gm(5, 'labels.delete', (g) => g.users.labels.delete({ userId: 'me', id: entry.standbyId }), { accept: [404] });
        ctx.idMap.delete(K.label, r.id);
        standbyLabels = null;
        return 'deleted';
      }
      if (entry && entry.version === r.version) return 'unchanged';
      const raw = parseRaw(LabelRaw, r.raw, `label ${r.id}`);
      const body: gmail_v1.Schema$Label = { name: raw.name };
      if (raw.messageListVisibility) body.messageListVisibility = raw.messageListVisibility;
      if (raw.labelListVisibility) body.labelListVisibility = raw.labelListVisibility;
      if (raw.color?.backgroundColor || raw.color?.textColor) body.color = { textColor: raw.color.textColor ?? null, backgroundColor: raw.color.backgroundColor ?? null };
      const byName = await labelsByName();
      let target = entry ? [...byName.values()].find((l) => l.id === entry.standbyId) : undefined;
      target ??= byName.get(raw.name.toLowerCase());
      if (target && target.type === 'system') throw new Error(`label ${raw.name} collides with the system label ${target.id}`);
      if (target) {
        if (stable(normLabel({ ...(target as LabelRaw), id: target.id as string, name: target.name as string })) !== stable(normLabel(raw))) {
          await gm(5, 'labels.patch', (g) => g.users.labels.patch({ userId: 'me', id: target?.id as string, requestBody: body }), { write: true });
          standbyLabels = null;
        }
      } else {
        const res = await gm<gmail_v1.Schema$Label>(5, 'labels.create', (g) => g.users.labels.create({ userId: 'me', requestBody: body }), { write: true, accept: [409] });
        standbyLabels = null;
        target = res.status === 409 ? (await labelsByName()).get(raw.name.toLowerCase()) : res.data;
        if (!target?.id) throw new Error(`labels.create ${raw.name} answered 409 but no label of that name exists`);
      }
      ctx.idMap.set(K.label, r.id, { standbyId: target.id as string, version: r.version });
      return 'imported';
    });
  }

  // Messages ---------------------------------------------------------------
  const mapLabels = (ids: string[]): string[] =>
    ids
      .filter((l) => !UNIMPORTABLE_LABELS.has(l))
      .map((l) => {
        if (!l.startsWith('Label_') && /^[A-Z_]+$/.test(l)) return l;
        const m = ctx.idMap.get(K.label, l);
        if (!m) throw new Error(`label ${l} of this message is not on the standby yet (its import failed or is pending); the message follows when it is`);
        return m.standbyId;
      });
  // Adoption of standby messages the id map does not name (a crash lost the entry, or replication
  // was reversed after a failover and the standby holds the originals): found by Message-ID with
  // Gmail's `rfc822msgid:` search, among messages no id-map entry claims. An empty standby mailbox
  // (the first sync) needs no search: one getProfile decides for the whole batch.
  let searchable: Promise<boolean> | null = null;
  let mappedMessages: Set<string> | null = null;
  const adoptable = async (rfcId: string): Promise<string[]> => {
    searchable ??= gm<gmail_v1.Schema$Profile>(1, 'getProfile', (g) => g.users.getProfile({ userId: 'me' })).then((p) => Number(p.data?.messagesTotal ?? 1) > 0);
    if (!(await searchable)) return [];
    mappedMessages ??= new Set([...ctx.idMap.entries(K.message)].map(([, e]) => e.standbyId));
    const found = await gm<gmail_v1.Schema$ListMessagesResponse>(5, 'messages.list rfc822msgid', (g) => g.users.messages.list({ userId: 'me', includeSpamTrash: true, maxResults: 50, q: `rfc822msgid:${rfcId}` }));
    return (found.data?.messages ?? []).map((m) => m.id as string).filter((id) => id && !(mappedMessages as Set<string>).has(id) && !claimed.has(id));
  };
  const claimed = new Set<string>();
  const setLabels = async (standbyId: string, want: string[]): Promise<boolean> => {
    const cur = await gm<gmail_v1.Schema$Message>(5, 'messages.get', (g) => g.users.messages.get({ userId: 'me', id: standbyId, format: 'minimal' }), { accept: [404] });
    if (cur.status === 404) return false;
    const have = new Set((cur.data?.labelIds ?? []).filter((l) => !UNIMPORTABLE_LABELS.has(l)));
    const add = want.filter((l) => !have.has(l));
    const remove = [...have].filter((l) => !want.includes(l));
    if (add.length || remove.length) await gm(5, 'messages.modify', (g) => g.users.messages.modify({ userId: 'me', id: standbyId, requestBody: { addLabelIds: add, removeLabelIds: remove } }), { write: true });
    return true;
  };
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const messages = records.filter((x) => x.kind === K.message);
  await mapLimit(messages, 4, (r) =>
    run.item(r, async () => {
      const entry = ctx.idMap.get(K.message, r.id);
      if (r.op === 'delete') {
        if (!entry) return 'unchanged';
        await gm(10, 'messages.delete', (g) => g.users.messages.delete({ userId: 'me', id: entry.standbyId }), { accept: [404] });
        ctx.idMap.delete(K.message, r.id);
        return 'deleted';
      }
      if (entry && entry.version === r.version) return 'unchanged';
      const raw = parseRaw(MessageRaw, r.raw, `message ${r.id}`);
      const blob = r.blobs?.mime;
      if (!blob) throw new Error(`stored message ${r.id} has no MIME blob`);
      const labels = mapLabels(raw.labelIds);
      if (entry && (await setLabels(entry.standbyId, labels))) {
        ctx.idMap.set(K.message, r.id, { standbyId: entry.standbyId, version: r.version });
        return 'imported';
      }
      if (raw.rfcMessageId) {
        // Several standby messages may carry the Message-ID (a sent and a received copy): the one
        // with the same bytes first; else the first one (Gmail cannot rewrite a message: a byte
        // difference under the same Message-ID is left to verification to report).
        const cands = await adoptable(raw.rfcMessageId);
        let pick: string | undefined;
        for (const cand of cands.length > 1 ? cands : []) {
          const got = await gm<gmail_v1.Schema$Message>(5, 'messages.get', (g) => g.users.messages.get({ userId: 'me', id: cand, format: 'raw' }), { accept: [404] });
          if (got.data?.raw && sha(Buffer.from(got.data.raw, 'base64url')) === blob.sha256 && !claimed.has(cand)) {
            pick = cand;
            break;
          }
        }
        pick ??= cands.find((c) => !claimed.has(c));
        if (pick) {
          claimed.add(pick);
          if (await setLabels(pick, labels)) {
            ctx.idMap.set(K.message, r.id, { standbyId: pick, version: r.version });
            return 'imported';
          }
          claimed.delete(pick);
        }
      }
      const lookup = raw.rfcMessageId
        ? async () => {
            const found = await gm<gmail_v1.Schema$ListMessagesResponse>(5, 'messages.list', (g) => g.users.messages.list({ userId: 'me', includeSpamTrash: true, q: `rfc822msgid:${raw.rfcMessageId}` }));
            const mapped = new Set([...ctx.idMap.entries(K.message)].map(([, e]) => e.standbyId));
            return found.data?.messages?.find((m) => m.id && !mapped.has(m.id)) ?? null;
          }
        : undefined;
      const res = await sby.callRaw<gmail_v1.Schema$Message>(
        user,
        'gmail',
        25,
        async (a) =>
          a.gmail.users.messages.import(
            { userId: 'me', internalDateSource: 'dateHeader', neverMarkSpam: true, processForCalendar: false, requestBody: { labelIds: labels }, media: { mimeType: 'message/rfc822', body: await ctx.getBlob(blob.sha256) } },
            { rootUrl: sby.rootUrl },
          ),
        { what: 'messages.import', signal, write: true, ...(lookup ? { lookup } : {}) },
      );
      const id = res.data?.id;
      if (!id) throw new Error('messages.import answered without an id');
      claimed.add(id);
      ctx.idMap.set(K.message, r.id, { standbyId: id, version: r.version });
      ctx.progress({ bytes: blob.size });
      return 'imported';
    }),
  );
}

// Drive -------------------------------------------------------------------------------------------

const STANDBY_FILE_FIELDS = 'id,name,mimeType,parents,appProperties,sha256Checksum,modifiedTime,description,starred,trashed';

interface DriveImport {
  actor: string;
  /** Standby id of the root: the user's My Drive root or the standby shared drive. */
  root: string;
  driveId?: string;
}

async function importDrive(env: GoogleEnv, target: { user?: string; driveId?: string }, records: ChangeRecord[], ctx: ImportContext, run: Run): Promise<void> {
  const sby = env.standby;
  const signal = ctx.signal;
  let where: DriveImport | null = null;
  if (target.user) {
    await ensurePrincipal(env, target.user, 'user', signal);
    const root = await sby.call(target.user, 'drive', 1, (a) => a.drive.files.get({ fileId: 'root', fields: 'id' }), { what: 'files.get root', signal });
    where = { actor: target.user, root: root.id as string };
  }
  for (const r of records.filter((x) => x.kind === K.sharedDrive)) await run.item(r, () => importSharedDrive(env, r, ctx));
  if (target.driveId) {
    const sd = ctx.idMap.get(K.sharedDrive, target.driveId);
    if (!sd) {
      for (const r of records.filter((x) => x.kind === K.file)) run.result.failed.push({ kind: r.kind, id: r.id, error: 'the shared drive is not on the standby yet (its import failed); its items follow when it is' });
      return;
    }
    where = { actor: env.standbyAdmin, root: sd.standbyId, driveId: sd.standbyId };
  }
  const w = where as DriveImport;
  const dv = <T>(what: string, fn: (d: drive_v3.Drive) => Promise<{ data: T }>, o: { write?: boolean; accept?: number[]; lookup?: () => Promise<unknown> } = {}) => sby.callRaw<T>(w.actor, 'drive', 1, (a) => fn(a.drive), { what, signal, ...o });

  // Adoption (index built once, when first needed) of standby items no id-map entry names:
  // - by the source id norestore writes into appProperties (a crash lost the id-map entry);
  // - else by the item the source item was itself restored from (restoredFrom: after a failover,
  //   the original in the old primary, even if renamed or moved since);
  // - else by parent folder + name + mimeType, for items norestore did not write (originals that
  //   the new primary created anew). Among equal keys, a binary file with the same content first.
  // An item is adopted once (id-map entries and this run's claims).
  interface DriveIndex {
    bySource: Map<string, drive_v3.Schema$File>;
    byKey: Map<string, drive_v3.Schema$File[]>;
  }
  const natKey = (parent: string, name: string, mimeType: string): string => `${parent}\u0000${name}\u0000${mimeType}`;
  const claimed = new Set<string>();
  let mappedFiles: Set<string> | null = null;
  let indexPromise: Promise<DriveIndex> | null = null;
  const buildIndex = async (): Promise<DriveIndex> => {
    const idx: DriveIndex = { bySource: new Map(), byKey: new Map() };
    for await (const page of pages((t) =>
      sby.call(w.actor, 'drive', 1, (a) => a.drive.files.list({ q: w.driveId ? 'trashed = false' : "'me' in owners and trashed = false", ...(w.driveId ? { corpora: 'drive', driveId: w.driveId, includeItemsFromAllDrives: true, supportsAllDrives: true } : {}), pageSize: 1000, pageToken: t, fields: `nextPageToken,files(${STANDBY_FILE_FIELDS})` }), { what: 'files.list (standby)', signal }),
    )) {
      for (const f of page.files ?? []) {
        const src = f.appProperties?.[NR_SRC];
        if (src) idx.bySource.set(src, f);
        const key = natKey(f.parents?.[0] ?? w.root, f.name ?? '', f.mimeType ?? '');
        idx.byKey.set(key, [...(idx.byKey.get(key) ?? []), f]);
      }
    }
    return idx;
  };
  const adopt = async (sourceId: string, restoredFrom: string | null | undefined, parent: string, name: string, mimeType: string, blob: BlobRef | undefined): Promise<drive_v3.Schema$File | null> => {
    indexPromise ??= buildIndex();
    const idx = await indexPromise;
    mappedFiles ??= new Set([...ctx.idMap.entries(K.file)].map(([, e]) => e.standbyId));
    const free = (f: drive_v3.Schema$File | undefined | null): f is drive_v3.Schema$File => !!f?.id && !claimed.has(f.id) && !(mappedFiles as Set<string>).has(f.id);
    const own = idx.bySource.get(sourceId);
    if (free(own)) return own;
    if (restoredFrom) {
      // The source item was restored by norestore from this standby item (replication reversed
      // after a failover): the original, even if renamed, moved or changed since.
      const got = (await dv<drive_v3.Schema$File>(`files.get ${restoredFrom}`, (d) => d.files.get({ fileId: restoredFrom, supportsAllDrives: true, fields: `${STANDBY_FILE_FIELDS},ownedByMe,driveId` }), { accept: [404] })).data;
      if (free(got) && !got.trashed && got.mimeType === mimeType && (w.driveId ? got.driveId === w.driveId : got.ownedByMe === true && !got.driveId)) return got;
    }
    const cands = (idx.byKey.get(natKey(parent, name, mimeType)) ?? []).filter(free);
    return (blob && cands.find((f) => f.sha256Checksum === blob.sha256)) || cands[0] || null;
  };
  /** Whether a standby item already holds the stored content: its digest, else (native documents) its text. */
  const sameContent = async (existing: drive_v3.Schema$File, blob: BlobRef, native: { mimeType: string } | undefined): Promise<boolean> => {
    if (existing.appProperties?.[NR_SHA] === blob.sha256) return true;
    if (!native || !env.convertOfficeToNative) return existing.sha256Checksum === blob.sha256;
    try {
      const data = await dv<unknown>(`files.export ${existing.name}`, (d) => d.files.export({ fileId: existing.id as string, mimeType: native.mimeType }, { responseType: 'arraybuffer' }) as Promise<{ data: unknown }>);
      const stored = await readAllBytes(await ctx.getBlob(blob.sha256));
      return textDigest(officeText(Buffer.from(data.data as ArrayBuffer))) === textDigest(officeText(stored));
    } catch (err) {
      if (signal.aborted) throw err;
      return false;
    }
  };
  const byId = new Map(records.filter((x) => x.kind === K.file).map((x) => [x.id, x]));
  const inProgress = new Set<string>();

  const resolveParent = async (parent: string): Promise<string> => {
    if (parent === 'root') return w.root;
    const mapped = ctx.idMap.get(K.file, parent);
    if (mapped) return mapped.standbyId;
    const rec = byId.get(parent) ?? (await ctx.lastRecord(K.file, parent));
    if (rec && rec.op === 'upsert' && !inProgress.has(parent)) {
      await importFile(rec);
      const now = ctx.idMap.get(K.file, parent);
      if (now) return now.standbyId;
    }
    throw new Error(`parent folder ${parent} is not on the standby (its import failed or it is not possessed)`);
  };

  const syncPermissions = async (standbyId: string, wanted: PermissionRaw[]): Promise<void> => {
    const addr = (a: string) => env.identity.address(a);
    const domain = (d: string) => env.identity.domain(d);
    const desired = new Map<string, PermissionRaw>();
    for (const p of wanted) {
      if (p.role === 'owner') continue;
      const mapped: PermissionRaw = { ...p, emailAddress: p.emailAddress ? addr(p.emailAddress) : null, domain: p.domain ? domain(p.domain) : null };
      desired.set(permKey(mapped, (x) => x, (x) => x), mapped);
    }
    const current: drive_v3.Schema$Permission[] = [];
    for await (const page of pages((t) => sby.call(w.actor, 'drive', 1, (a) => a.drive.permissions.list({ fileId: standbyId, supportsAllDrives: true, pageSize: 100, pageToken: t, fields: 'nextPageToken,permissions(id,type,role,emailAddress,domain,permissionDetails)' }), { what: 'permissions.list', signal }))) {
      current.push(...(page.permissions ?? []));
    }
    const own = current.filter((p) => p.role !== 'owner' && !(p.permissionDetails?.length && p.permissionDetails.every((d) => d.inherited)));
    const have = new Map(own.map((p) => [permKey({ type: p.type ?? '', role: p.role ?? '', emailAddress: p.emailAddress?.toLowerCase() ?? null, domain: p.domain?.toLowerCase() ?? null }, (x) => x, (x) => x), p]));
    for (const [key, p] of have) if (!desired.has(key)) await dv(`permissions.delete ${key}`, (d) => d.permissions.delete({ fileId: standbyId, permissionId: p.id as string, supportsAllDrives: true }), { accept: [404] });
    for (const [key, p] of desired) {
      if (have.has(key)) continue;
      if (p.type === 'user' && p.emailAddress) await ensurePrincipal(env, p.emailAddress, 'user', signal);
      if (p.type === 'group' && p.emailAddress) await ensurePrincipal(env, p.emailAddress, 'group', signal);
      const body: drive_v3.Schema$Permission = { type: p.type, role: p.role };
      if (p.emailAddress) body.emailAddress = p.emailAddress;
      if (p.domain) body.domain = p.domain;
      if (p.allowFileDiscovery !== null && p.allowFileDiscovery !== undefined && (p.type === 'domain' || p.type === 'anyone')) body.allowFileDiscovery = p.allowFileDiscovery;
      const notify = p.type === 'user' || p.type === 'group' ? { sendNotificationEmail: false } : {};
      await dv(`permissions.create ${key}`, (d) => d.permissions.create({ fileId: standbyId, supportsAllDrives: true, ...notify, requestBody: body, fields: 'id' }), { write: true });
    }
  };

  const upload = async (method: 'create' | 'update', fileId: string | null, meta: drive_v3.Schema$File, mediaType: string, blob: BlobRef): Promise<drive_v3.Schema$File> => {
    if (blob.size <= MULTIPART_MAX) {
      const media = async () => ({ mimeType: mediaType, body: await ctx.getBlob(blob.sha256) });
      const res = await dv<drive_v3.Schema$File>(
        `files.${method} (multipart) ${meta.name ?? fileId}`,
        async (d) =>
          method === 'create'
            ? d.files.create({ supportsAllDrives: true, fields: STANDBY_FILE_FIELDS, requestBody: meta, media: await media() }, { rootUrl: sby.rootUrl })
            : d.files.update({ fileId: fileId as string, supportsAllDrives: true, fields: STANDBY_FILE_FIELDS, requestBody: meta, media: await media() }, { rootUrl: sby.rootUrl }),
        method === 'create' ? { write: true, lookup: () => findBySource(meta.appProperties?.[NR_SRC] as string) } : { write: true },
      );
      return res.data as drive_v3.Schema$File;
    }
    return resumableUpload(env, w.actor, method, fileId, meta, mediaType, blob, ctx);
  };

  const findBySource = async (sourceId: string): Promise<drive_v3.Schema$File | null> => {
    const res = await sby.call(w.actor, 'drive', 1, (a) => a.drive.files.list({ q: `appProperties has { key='${NR_SRC}' and value='${sourceId.replace(/'/g, "\\'")}' } and trashed = false`, ...(w.driveId ? { corpora: 'drive', driveId: w.driveId, includeItemsFromAllDrives: true, supportsAllDrives: true } : {}), fields: `files(${STANDBY_FILE_FIELDS})` }), { what: 'files.list by source id', signal });
    return res.files?.[0] ?? null;
  };

  const importFile = async (r: ChangeRecord): Promise<'imported' | 'unchanged' | 'deleted'> => {
    const entry = ctx.idMap.get(K.file, r.id);
    if (r.op === 'delete') {
      if (!entry) return 'unchanged';
      await dv(`files.delete ${entry.standbyId}`, (d) => d.files.delete({ fileId: entry.standbyId, supportsAllDrives: true }), { accept: [404] });
      ctx.idMap.delete(K.file, r.id);
      return 'deleted';
    }
    if (entry && entry.version === r.version) return 'unchanged';
    inProgress.add(r.id);
    try {
      const raw = parseRaw(FileRaw, r.raw, `drive item ${r.id}`);
      const name = raw.file.name;
      if (raw.exportError) throw new Error(`"${name}" is a native document beyond Drive's export limit (${raw.exportError}): possessed as metadata only, it cannot be restored`);
      const parent = await resolveParent(raw.parent);
      const blob = r.blobs?.content;
      const isFolder = raw.file.mimeType === FOLDER;
      if (!isFolder && !blob) throw new Error(`stored item "${name}" has no content blob`);
      const native = NATIVE_EXPORT[raw.file.mimeType];
      const targetMime = standbyMimeType(raw.file.mimeType, env.convertOfficeToNative);
      const mediaType = native ? native.mimeType : raw.file.mimeType;
      const contentKey = blob ? blob.sha256 : '';
      const meta: drive_v3.Schema$File = { name, description: raw.file.description ?? '', appProperties: { [NR_SRC]: r.id, [NR_SHA]: contentKey } };
      if (raw.file.modifiedTime) meta.modifiedTime = raw.file.modifiedTime;
      if (raw.file.starred !== null && raw.file.starred !== undefined) meta.starred = raw.file.starred;

      let existing: drive_v3.Schema$File | null = null;
      if (entry) existing = (await dv<drive_v3.Schema$File>(`files.get ${entry.standbyId}`, (d) => d.files.get({ fileId: entry.standbyId, supportsAllDrives: true, fields: STANDBY_FILE_FIELDS }), { accept: [404] })).data ?? null;
      if (existing?.trashed) existing = null;
      existing ??= await adopt(r.id, raw.restoredFrom, parent, name, targetMime, blob);
      if (existing?.id) claimed.add(existing.id);
      if (existing && existing.mimeType !== targetMime) {
        // The item changed its nature (e.g. a folder became a file): replace it.
        await dv(`files.delete ${existing.id}`, (d) => d.files.delete({ fileId: existing?.id as string, supportsAllDrives: true }), { accept: [404] });
        existing = null;
      }
      let standbyId: string;
      if (existing) {
        // Written only where it differs: an adopted original that already matches stays untouched.
        standbyId = existing.id as string;
        const moved = existing.parents?.[0] !== parent;
        const move = moved ? { addParents: parent, removeParents: (existing.parents ?? []).join(',') } : {};
        const contentChanged = !isFolder && !(await sameContent(existing, blob as BlobRef, native));
        const ours = existing.appProperties?.[NR_SRC] !== undefined;
        const time = (t: string | null | undefined) => (t ? Date.parse(t) : null);
        const metaChanged =
          existing.name !== name ||
          (existing.description ?? '') !== (raw.file.description ?? '') ||
          (!!raw.file.modifiedTime && time(existing.modifiedTime) !== time(raw.file.modifiedTime)) ||
          (raw.file.starred !== null && raw.file.starred !== undefined && (existing.starred ?? false) !== raw.file.starred) ||
          (ours && (existing.appProperties?.[NR_SRC] !== r.id || existing.appProperties?.[NR_SHA] !== contentKey));
        if (contentChanged) await upload('update', standbyId, { ...meta, ...(native && env.convertOfficeToNative ? { mimeType: targetMime } : {}) }, mediaType, blob as BlobRef);
        if (moved || (metaChanged && !contentChanged)) await dv(`files.update ${name}`, (d) => d.files.update({ fileId: standbyId, supportsAllDrives: true, ...move, requestBody: meta, fields: 'id' }), { write: true });
      } else {
        const create: drive_v3.Schema$File = { ...meta, parents: [parent] };
        if (raw.file.createdTime) create.createdTime = raw.file.createdTime;
        if (isFolder) {
          create.mimeType = FOLDER;
          const res = await dv<drive_v3.Schema$File>(`files.create folder ${name}`, (d) => d.files.create({ supportsAllDrives: true, requestBody: create, fields: 'id' }), { write: true, lookup: () => findBySource(r.id) });
          standbyId = res.data?.id as string;
        } else {
          create.mimeType = targetMime;
          standbyId = (await upload('create', null, create, mediaType, blob as BlobRef)).id as string;
        }
        if (!standbyId) throw new Error(`files.create of "${name}" answered without an id`);
        claimed.add(standbyId);
      }
      await syncPermissions(standbyId, raw.permissions);
      ctx.idMap.set(K.file, r.id, { standbyId, version: r.version });
      if (blob) ctx.progress({ bytes: blob.size });
      return 'imported';
    } finally {
      inProgress.delete(r.id);
    }
  };

  for (const r of records.filter((x) => x.kind === K.file)) {
    // A parent imported on demand earlier in this batch is already done.
    if (r.op === 'upsert' && ctx.idMap.get(K.file, r.id)?.version === r.version) {
      run.result.unchanged++;
      continue;
    }
    await run.item(r, () => importFile(r));
  }
}

async function importSharedDrive(env: GoogleEnv, r: ChangeRecord, ctx: ImportContext): Promise<'imported' | 'unchanged' | 'deleted'> {
  const sby = env.standby;
  const admin = env.standbyAdmin;
  const signal = ctx.signal;
  const entry = ctx.idMap.get(K.sharedDrive, r.id);
  if (r.op === 'delete') {
    if (!entry) return 'unchanged';
    await sby.callRaw(admin, 'drive', 1, (a) => a.drive.drives.delete({ driveId: entry.standbyId }), { what: 'drives.delete', signal, accept: [403, 404] });
    ctx.idMap.delete(K.sharedDrive, r.id);
    return 'deleted';
  }
  if (entry && entry.version === r.version) return 'unchanged';
  const raw = parseRaw(SharedDriveRaw, r.raw, `shared drive ${r.id}`);
  let driveId = entry?.standbyId;
  if (driveId) {
    const got = await sby.callRaw(admin, 'drive', 1, (a) => a.drive.drives.get({ driveId: driveId as string, useDomainAdminAccess: true }), { what: 'drives.get', signal, accept: [404] });
    if (got.status === 404) driveId = undefined;
  }
  const addr = (a: string) => env.identity.address(a);
  const domain = (d: string) => env.identity.domain(d);
  const listMembers = async (id: string): Promise<drive_v3.Schema$Permission[]> => {
    const out: drive_v3.Schema$Permission[] = [];
    for await (const page of pages((t) => sby.call(admin, 'drive', 1, (a) => a.drive.permissions.list({ fileId: id, supportsAllDrives: true, useDomainAdminAccess: true, pageSize: 100, pageToken: t, fields: 'nextPageToken,permissions(id,type,role,emailAddress,domain)' }), { what: 'permissions.list (drive members)', signal }))) {
      out.push(...(page.permissions ?? []));
    }
    return out;
  };
  if (!driveId) {
    // Adopt a shared drive of the same name (the original, when replication runs the other way
    // after a failover); among several of that name, the one whose members already match.
    const named: drive_v3.Schema$Drive[] = [];
    for await (const page of pages((t) => sby.call(admin, 'drive', 1, (a) => a.drive.drives.list({ useDomainAdminAccess: true, q: `name = '${raw.name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, pageSize: 100, pageToken: t }), { what: 'drives.list by name', signal }))) {
      named.push(...(page.drives ?? []).filter((d) => d.id && d.name === raw.name));
    }
    if (named.length === 1) driveId = named[0]?.id ?? undefined;
    else if (named.length > 1) {
      const want = stable(normSharedDrive(raw, addr, domain, env.standbyAdmin));
      const same: string[] = [];
      for (const d of named) if (stable(normSharedDrive({ id: d.id as string, name: raw.name, members: (await listMembers(d.id as string)).map(permRaw) }, (x) => x, (x) => x, env.standbyAdmin)) === want) same.push(d.id as string);
      if (same.length === 1) driveId = same[0];
      else ctx.log.warn('several shared drives of this name on the standby and none singled out by its members: a new one is created', { drive: raw.name, candidates: named.length });
    }
  }
  if (!driveId) {
    const requestId = `nr-${createHash('sha256').update(`${r.id}\u0000${sby.tenant.domain}`).digest('hex').slice(0, 32)}`;
    const findByName = async (): Promise<string | null> => {
      const list = await sby.call(admin, 'drive', 1, (a) => a.drive.drives.list({ useDomainAdminAccess: true, q: `name = '${raw.name.replace(/'/g, "\\'")}'`, pageSize: 100 }), { what: 'drives.list', signal });
      return list.drives?.[0]?.id ?? null;
    };
    const res = await sby.callRaw<drive_v3.Schema$Drive>(admin, 'drive', 1, (a) => a.drive.drives.create({ requestId, requestBody: { name: raw.name } }), { what: `drives.create ${raw.name}`, signal, write: true, accept: [409], lookup: findByName });
    driveId = (res.status === 409 ? await findByName() : res.data?.id) ?? undefined;
    if (!driveId) throw new Error(`drives.create of "${raw.name}" was refused as a duplicate but no shared drive of that name exists`);
  }
  // Members: add the mapped source members (no notification); the standby admin stays an organizer.
  const current = new Map<string, drive_v3.Schema$Permission>();
  for (const p of await listMembers(driveId)) current.set(permKey({ type: p.type ?? '', role: p.role ?? '', emailAddress: p.emailAddress?.toLowerCase() ?? null, domain: p.domain?.toLowerCase() ?? null }, (x) => x, (x) => x), p);
  const desired = new Map(raw.members.map((p) => [permKey(p, addr, domain), p]));
  const adminAddr = admin.toLowerCase();
  for (const [key, p] of current) {
    if (!desired.has(key) && p.emailAddress?.toLowerCase() !== adminAddr) {
      await sby.callRaw(admin, 'drive', 1, (a) => a.drive.permissions.delete({ fileId: driveId as string, permissionId: p.id as string, supportsAllDrives: true, useDomainAdminAccess: true }), { what: 'permissions.delete (drive member)', signal, accept: [404] });
    }
  }
  for (const [key, p] of desired) {
    if (current.has(key)) continue;
    const email = p.emailAddress ? addr(p.emailAddress) : undefined;
    if (email && p.type === 'user') await ensurePrincipal(env, email, 'user', signal);
    if (email && p.type === 'group') await ensurePrincipal(env, email, 'group', signal);
    const body: drive_v3.Schema$Permission = { type: p.type, role: p.role };
    if (email) body.emailAddress = email;
    if (p.domain) body.domain = domain(p.domain);
    await sby.callRaw(admin, 'drive', 1, (a) => a.drive.permissions.create({ fileId: driveId as string, supportsAllDrives: true, useDomainAdminAccess: true, ...(p.type === 'user' || p.type === 'group' ? { sendNotificationEmail: false } : {}), requestBody: body, fields: 'id' }), { what: `permissions.create ${key} (drive member)`, signal, write: true });
  }
  ctx.idMap.set(K.sharedDrive, r.id, { standbyId: driveId, version: r.version });
  return 'imported';
}

function headerOf(headers: unknown, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name);
  const rec = headers as Record<string, string>;
  return rec[name] ?? rec[name.toLowerCase()] ?? null;
}

/** Drive resumable upload: a session, then 8 MiB chunks (multiples of 256 KiB), resumed from the server's Range after a failure. */
async function resumableUpload(env: GoogleEnv, actor: string, method: 'create' | 'update', fileId: string | null, meta: drive_v3.Schema$File, mediaType: string, blob: BlobRef, ctx: ImportContext): Promise<drive_v3.Schema$File> {
  const sby = env.standby;
  const signal = ctx.signal;
  const url = `${sby.rootUrl}upload/drive/v3/files${fileId ? `/${encodeURIComponent(fileId)}` : ''}?uploadType=resumable&supportsAllDrives=true&fields=${encodeURIComponent(STANDBY_FILE_FIELDS)}`;
  const init = await sby.callRaw(actor, 'drive', 1, (a) => a.auth.request({ url, method: method === 'create' ? 'POST' : 'PATCH', headers: { 'Content-Type': 'application/json; charset=UTF-8', 'X-Upload-Content-Type': mediaType, 'X-Upload-Content-Length': String(blob.size) }, data: meta }), { what: `resumable upload of ${meta.name}`, signal, write: true });
  const session = headerOf(init.headers, 'location');
  if (!session) throw new Error(`resumable upload of ${meta.name}: the server gave no session URI`);
  let done: drive_v3.Schema$File | null = null;
  const put = async (piece: Buffer, start: number): Promise<void> => {
    let offset = start;
    let rest = piece;
    while (rest.length || (start === blob.size && !done)) {
      const from = offset;
      const body = rest;
      const res = await sby.callRaw<drive_v3.Schema$File>(
        actor,
        'drive',
        1,
        (a) => a.auth.request({ url: session, method: 'PUT', headers: { 'Content-Range': body.length ? `bytes ${from}-${from + body.length - 1}/${blob.size}` : `bytes */${blob.size}` }, data: body, validateStatus: (s: number) => s === 308 || (s >= 200 && s < 300) }),
        { what: `upload chunk of ${meta.name}`, signal },
      );
      if (res.status === 308) {
        const range = headerOf(res.headers, 'range');
        const persisted = range ? Number(/bytes=0-(\d+)/.exec(range)?.[1] ?? -1) + 1 : 0;
        if (persisted < from || persisted > from + body.length) throw new Error(`resumable upload of ${meta.name}: the server holds ${persisted} bytes, expected ${from}..${from + body.length}`);
        rest = body.subarray(persisted - from);
        offset = persisted;
        if (!rest.length) return;
      } else {
        done = res.data as drive_v3.Schema$File;
        return;
      }
    }
  };
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  for await (const chunk of await ctx.getBlob(blob.sha256)) {
    const b = chunk as Buffer;
    pending.push(b);
    pendingLen += b.length;
    while (pendingLen >= CHUNK && offset + CHUNK < blob.size) {
      const all = Buffer.concat(pending);
      const piece = all.subarray(0, CHUNK);
      await put(piece, offset);
      offset += CHUNK;
      pending = [all.subarray(CHUNK)];
      pendingLen = all.length - CHUNK;
      ctx.progress({ bytes: CHUNK });
    }
  }
  const last = Buffer.concat(pending);
  if (offset + last.length !== blob.size) throw new Error(`stored blob ${blob.sha256} of ${meta.name} has ${offset + last.length} bytes, expected ${blob.size}`);
  await put(last, offset);
  if (!done) throw new Error(`resumable upload of ${meta.name} did not complete`);
  return done;
}

// Calendar ----------------------------------------------------------------------------------------

async function importCalendar(env: GoogleEnv, user: string, records: ChangeRecord[], ctx: ImportContext, run: Run): Promise<void> {
  const sby = env.standby;
  const signal = ctx.signal;
  await ensurePrincipal(env, user, 'user', signal);
  const cal = <T>(what: string, fn: (c: calendar_v3.Calendar) => Promise<{ data: T }>, o: { write?: boolean; accept?: number[] } = {}) => sby.callRaw<T>(user, 'calendar', 1, (a) => fn(a.calendar), { what, signal, ...o });
  const addr = (a: string) => env.identity.address(a);

  for (const r of records.filter((x) => x.kind === K.calendar)) {
    await run.item(r, async () => {
      const entry = ctx.idMap.get(K.calendar, r.id);
      if (r.op === 'delete') {
        if (!entry) return 'unchanged';
        await cal('calendars.delete', (c) => c.calendars.delete({ calendarId: entry.standbyId }), { accept: [404, 410] });
        ctx.idMap.delete(K.calendar, r.id);
        return 'deleted';
      }
      if (entry && entry.version === r.version) return 'unchanged';
      const raw = parseRaw(CalendarRaw, r.raw, `calendar ${r.id}`);
      const body = { summary: raw.summary, description: raw.description ?? '', timeZone: raw.timeZone ?? 'UTC' };
      let id = entry?.standbyId;
      let current: calendar_v3.Schema$Calendar | calendar_v3.Schema$CalendarListEntry | null = null;
      if (id) {
        const got = await cal<calendar_v3.Schema$Calendar>('calendars.get', (c) => c.calendars.get({ calendarId: id as string }), { accept: [404] });
        if (got.status === 404) id = undefined;
        else current = got.data ?? null;
      }
      if (!id) {
        // Adopt an unmapped owned calendar of the same name (a crash after the insert, or the
        // original when replication runs the other way after a failover), else insert.
        const mapped = new Set([...ctx.idMap.entries(K.calendar)].map(([, e]) => e.standbyId));
        const list = await cal<calendar_v3.Schema$CalendarList>('calendarList.list', (c) => c.calendarList.list({ minAccessRole: 'owner', maxResults: 250 }));
        current = list.data?.items?.find((c) => !c.primary && c.summary === raw.summary && !mapped.has(c.id as string)) ?? null;
        id = current?.id ?? undefined;
        if (!id) id = (await cal<calendar_v3.Schema$Calendar>('calendars.insert', (c) => c.calendars.insert({ requestBody: body }), { write: true })).data?.id ?? undefined;
      }
      // Patched only where it differs: an adopted original that matches stays untouched.
      if (id && current && stable(normCalendar({ id, summary: current.summary ?? '', description: current.description ?? null, timeZone: current.timeZone ?? null })) !== stable(normCalendar(raw))) {
        await cal('calendars.patch', (c) => c.calendars.patch({ calendarId: id as string, requestBody: body }), { write: true });
      }
      if (!id) throw new Error(`calendars.insert of "${raw.summary}" answered without an id`);
      ctx.idMap.set(K.calendar, r.id, { standbyId: id, version: r.version });
      return 'imported';
    });
  }

  // Whether a standby calendar holds any event at all (an empty one, the first sync, needs no
  // adoption lookups): asked once per calendar and import. A page may come back short or empty
  // with a nextPageToken while events remain (documented for events.list): that counts as events.
  const nonEmpty = new Map<string, Promise<boolean>>();
  const holdsEvents = (calId: string): Promise<boolean> => {
    let p = nonEmpty.get(calId);
    if (!p) nonEmpty.set(calId, (p = cal<calendar_v3.Schema$Events>('events.list (any)', (c) => c.events.list({ calendarId: calId, showDeleted: false, maxResults: 1 })).then((x) => (x.data?.items?.length ?? 0) > 0 || !!x.data?.nextPageToken)));
    return p;
  };
  for (const r of records.filter((x) => x.kind === K.event)) {
    await run.item(r, async () => {
      const entry = ctx.idMap.get(K.event, r.id);
      if (r.op === 'delete') {
        if (!entry) return 'unchanged';
        const [calId, eventId] = splitEvent(entry.standbyId);
        await cal('events.delete', (c) => c.events.delete({ calendarId: calId, eventId, sendUpdates: 'none' }), { accept: [404, 410] });
        ctx.idMap.delete(K.event, r.id);
        return 'deleted';
      }
      if (entry && entry.version === r.version) return 'unchanged';
      const raw = parseRaw(EventRaw, r.raw, `event ${r.id}`);
      const e = raw.event;
      if (e.recurringEventId) throw new Error(`"${e.summary ?? e.id}" is a modified instance of a recurring event: possessed, but importing exceptions is not implemented`);
      if (!e.iCalUID) throw new Error(`event ${e.id} has no iCalUID, which events.import needs`);
      const calId = raw.calendar === 'primary' ? 'primary' : ctx.idMap.get(K.calendar, raw.calendar)?.standbyId;
      if (!calId) throw new Error(`calendar ${raw.calendar} is not on the standby yet (its import failed or is pending)`);
      const time = (t: typeof e.start) => (t ? { ...(t.date ? { date: t.date } : {}), ...(t.dateTime ? { dateTime: t.dateTime } : {}), ...(t.timeZone ? { timeZone: t.timeZone } : {}) } : undefined);
      const body: calendar_v3.Schema$Event = {
        iCalUID: e.iCalUID,
        summary: e.summary ?? '',
        description: e.description ?? '',
        location: e.location ?? '',
        start: time(e.start),
        end: time(e.end),
        status: e.status ?? 'confirmed',
        transparency: e.transparency ?? 'opaque',
        visibility: e.visibility ?? 'default',
      };
      if (e.recurrence?.length) body.recurrence = e.recurrence;
      if (e.sequence !== null && e.sequence !== undefined) body.sequence = e.sequence;
      if (e.organizer?.email) body.organizer = { email: addr(e.organizer.email), ...(e.organizer.displayName ? { displayName: e.organizer.displayName } : {}) };
      if (e.attendees?.length) body.attendees = e.attendees.filter((a) => a.email).map((a) => ({ email: addr(a.email as string), ...(a.displayName ? { displayName: a.displayName } : {}), ...(a.optional ? { optional: true } : {}) }));
      if (!entry && (await holdsEvents(calId))) {
        // Adopt the event of this iCalUID the standby already holds (the original, when
        // replication runs the other way after a failover): untouched when it matches, else
        // updated by the import below (events.import updates the event of an iCalUID in place).
        const found = await cal<calendar_v3.Schema$Events>(`events.list iCalUID ${e.iCalUID}`, (c) => c.events.list({ calendarId: calId, iCalUID: e.iCalUID as string, showDeleted: false, maxResults: 50 }));
        const have = found.data?.items?.find((x) => x.id && x.status !== 'cancelled' && !x.recurringEventId);
        if (have?.id && stable(normEvent(eventRaw(raw.calendar, have).event, (x) => x)) === stable(normEvent(e, addr))) {
          ctx.idMap.set(K.event, r.id, { standbyId: `${calId}/${have.id}`, version: r.version });
          return 'imported';
        }
      }
      const res = await cal<calendar_v3.Schema$Event>(`events.import ${e.summary ?? e.id}`, (c) => c.events.import({ calendarId: calId, conferenceDataVersion: 0, requestBody: body }), { write: true });
      const id = res.data?.id;
      if (!id) throw new Error('events.import answered without an id');
      ctx.idMap.set(K.event, r.id, { standbyId: `${calId}/${id}`, version: r.version });
      return 'imported';
    });
  }
}

export function splitEvent(standbyId: string): [string, string] {
  const i = standbyId.lastIndexOf('/');
  return [standbyId.slice(0, i), standbyId.slice(i + 1)];
}

