/**
 * Incremental export by Graph delta queries, one cursor per scope:
 *   directory  /users/delta
 *   mail       /mailFolders/delta, then /mailFolders/{id}/messages/delta per folder; MIME by $value
 *   drive      /drive/root/delta; content by /items/{id}/content, checked against quickXorHash
 *   calendar   /calendarView/delta over a window; series masters fetched by id (the view returns occurrences)
 *   contacts   /contactFolders/delta, then /contactFolders/{id}/contacts/delta per folder
 * A rejected token (410, syncStateNotFound, resyncRequired) or a cursor that does not parse starts a
 * full enumeration of that collection; what is possessed but no longer seen is emitted as deleted.
 * Unchanged items (same version as possessed) are never emitted again.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExportContext } from '../../src/model/connector.js';
import type { ChangeRecordInput, Cursor } from '../../src/model/records.js';
import { type GraphTenantClient, codeOf, headerOf, mapLimit, pages, statusOf } from './client.js';
import { QuickXorStream } from './quickxor.js';
import { CalendarCursor, ContactsCursor, DirectoryCursor, DriveCursor, MailCursor, type DriveItem, type Event } from './schema.js';
import { K, NR, type UserRef } from './types.js';

const WELL_KNOWN = ['msgfolderroot', 'inbox', 'sentitems', 'drafts', 'deleteditems', 'junkemail', 'archive', 'outbox'];
const PAGE = { Prefer: 'odata.maxpagesize=100' };
const DOWNLOAD_ATTEMPTS = 4;

type Raw = Record<string, unknown>;

export function isExpiredToken(err: unknown): boolean {
  const s = statusOf(err);
  if (s === 410) return true;
  return s === 400 && /syncstate|resync|deltatoken|invalid.*token/i.test(codeOf(err) + ' ' + (err instanceof Error ? err.message : ''));
}

function stableHash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 24);
}

const nowIso = () => new Date().toISOString();

/** Strip OData annotations that change on every response (not part of the item). */
function clean(raw: Raw): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) if (k !== '@odata.context' && k !== '@microsoft.graph.downloadUrl') out[k] = v;
  return out;
}

interface DeltaResult<T> {
  items: T[];
  removed: string[];
  deltaLink: string;
  full: boolean;
}

/** Run a delta query from `link` (or `fullUrl` when null or rejected). */
async function runDelta<T extends Raw>(c: GraphTenantClient, link: string | null, fullUrl: string, headers: Record<string, string> = PAGE, onPage?: (items: T[]) => Promise<void>): Promise<DeltaResult<T>> {
  const attempt = async (url: string, full: boolean): Promise<DeltaResult<T>> => {
    const items: T[] = [];
    const removed: string[] = [];
    const it = pages<T>(c, url, headers);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        if (!r.value) throw new Error(`delta query ${fullUrl} ended without a deltaLink`);
        return { items, removed, deltaLink: r.value, full };
      }
      const live: T[] = [];
      for (const x of r.value) {
        if (x['@removed'] !== undefined || (x.deleted !== undefined && x.deleted !== null)) removed.push(x.id as string);
        else live.push(x);
      }
      if (onPage) await onPage(live);
      else items.push(...live);
    }
  };
  if (link) {
    try {
      return await attempt(link, false);
    } catch (err) {
      if (!isExpiredToken(err)) throw err;
      const loc = headerOf(err, 'location');
      return attempt(loc && /^https:\/\//.test(loc) ? loc : fullUrl, true);
    }
  }
  return attempt(fullUrl, true);
}

/** Delete records for possessed items of `kind` whose ids are in `ids`. */
async function emitDeletes(ctx: ExportContext, kind: string, ids: Iterable<string>, possessed: Map<string, string>, done: Set<string>): Promise<void> {
  for (const id of ids) {
    const key = `${kind}\u0000${id}`;
    if (!possessed.has(id) || done.has(key)) continue;
    done.add(key);
    const last = await ctx.lastRecord(kind, id);
    await ctx.emit({ kind, id, op: 'delete', version: '', sourceTime: nowIso(), ...(last?.parent ? { parent: last.parent } : {}) });
  }
}

// ---- directory ------------------------------------------------------------------------------------

export async function exportDirectory(c: GraphTenantClient, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const prev = DirectoryCursor.safeParse(cursor);
  const possessed = await ctx.possessed(K.user);
  const seen = new Set<string>();
  const done = new Set<string>();
  const select = 'id,userPrincipalName,displayName,givenName,surname,mail,jobTitle,officeLocation,mobilePhone,businessPhones,preferredLanguage,accountEnabled';
  const d = await runDelta<Raw>(c, prev.success ? prev.data.deltaLink : null, `/users/delta?$select=${select}`, {}, async (items) => {
    for (const u of items) {
      const id = u.id as string;
      seen.add(id);
      const raw = clean(u);
      const version = stableHash(raw);
      if (possessed.get(id) === version) continue;
      await ctx.emit({ kind: K.user, id, op: 'upsert', version, sourceTime: nowIso(), raw });
      ctx.progress({ items: 1 });
    }
  });
  await emitDeletes(ctx, K.user, d.removed, possessed, done);
  if (d.full) await emitDeletes(ctx, K.user, [...possessed.keys()].filter((id) => !seen.has(id)), possessed, done);
  return { v: 1, scope: 'directory', deltaLink: d.deltaLink };
}

// ---- mail -----------------------------------------------------------------------------------------

async function wellKnownFolders(c: GraphTenantClient, uid: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of WELL_KNOWN) {
    try {
      const f = await c.get<{ id: string }>(`/users/${uid}/mailFolders/${name}?$select=id`);
      out[name] = f.id;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
  return out;
}

async function storeStream(ctx: ExportContext, open: () => Promise<{ body: NodeJS.ReadableStream; length: number | null }>, mediaType: string, expectHash?: string | null): Promise<{ sha256: string; size: number; mediaType?: string }> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < DOWNLOAD_ATTEMPTS; attempt++) {
    try {
      const { body, length } = await open();
      if (!expectHash) {
        const ref = await ctx.putBlob(body as Readable, mediaType);
        if (length !== null && ref.size !== length) throw new Error(`download ended after ${ref.size} of ${length} bytes`);
        return ref;
      }
      const hasher = new QuickXorStream();
      const done = pipeline(body as NodeJS.ReadableStream, hasher).catch((err: unknown) => {
        hasher.destroy(err as Error);
      });
      const ref = await ctx.putBlob(hasher, mediaType);
      await done;
      if (length !== null && ref.size !== length) throw new Error(`download ended after ${ref.size} of ${length} bytes`);
      if (hasher.hash.base64() !== expectHash) throw new Error(`downloaded content does not match quickXorHash ${expectHash}`);
      return ref;
    } catch (err) {
      lastErr = err;
      const s = statusOf(err);
      if (s !== null && s >= 400 && s < 500) throw err;
      ctx.log.debug('download failed, retrying', { attempt, error: err instanceof Error ? err.message : String(err) });
    }
  }
  throw lastErr;
}

export async function exportMail(c: GraphTenantClient, user: UserRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const uid = user.id;
  const parsed = MailCursor.safeParse(cursor);
  const prev = parsed.success && parsed.data.userId === uid ? parsed.data : null;
  const possessedFolders = await ctx.possessed(K.mailFolder);
  const possessedMsgs = await ctx.possessed(K.message);
  const done = new Set<string>();
  const wellKnown = prev?.wellKnown ?? (await wellKnownFolders(c, uid));
  const wkById = new Map(Object.entries(wellKnown).map(([n, id]) => [id, n]));
  const rootId = wellKnown.msgfolderroot as string | undefined;

  // Folders
  const fd = await runDelta<Raw>(c, prev?.folders ?? null, `/users/${uid}/mailFolders/delta`);
  const live = new Map<string, Raw>();
  if (rootId && (fd.full || !possessedFolders.has(rootId))) {
    const root = await c.get<Raw>(`/users/${uid}/mailFolders/${rootId}`);
    live.set(rootId, { ...clean(root), parentFolderId: null });
  }
  for (const f of fd.items) live.set(f.id as string, clean(f));
  for (const [id, f] of live) {
    const wk = wkById.get(id);
    const raw: Raw = wk ? { ...f, [NR.wellKnownName]: wk } : f;
    const version = stableHash({ n: raw.displayName, p: raw.parentFolderId ?? null, wk: wk ?? null });
    if (possessedFolders.get(id) === version) continue;
    await ctx.emit({ kind: K.mailFolder, id, op: 'upsert', version, sourceTime: nowIso(), ...(raw.parentFolderId ? { parent: raw.parentFolderId as string } : {}), raw });
  }
  const removedFolders = new Set(fd.removed);
  if (fd.full) for (const id of possessedFolders.keys()) if (!live.has(id)) removedFolders.add(id);
  // The folders whose messages to follow: every folder we now possess or just saw, minus the removed.
  const folderIds = new Set<string>([...possessedFolders.keys(), ...live.keys()].filter((id) => !removedFolders.has(id)));

  // Message parents, for deletions by difference and for folders that went away.
  let parents: Map<string, string> | null = null;
  const parentOf = async (): Promise<Map<string, string>> => {
    if (parents) return parents;
    parents = new Map();
    for (const id of possessedMsgs.keys()) {
      const r = await ctx.lastRecord(K.message, id);
      if (r?.parent) parents.set(id, r.parent);
    }
    return parents;
  };

  const messageLinks: Record<string, string> = {};
  for (const fid of folderIds) {
    const seen = new Set<string>();
    const select = '$select=id,changeKey,subject,body,from,sender,toRecipients,ccRecipients,bccRecipients,replyTo,internetMessageId,receivedDateTime,sentDateTime,lastModifiedDateTime,createdDateTime,isRead,isDraft,importance,categories,flag,parentFolderId,hasAttachments,conversationId,isReadReceiptRequested,isDeliveryReceiptRequested,inferenceClassification';
    let d: DeltaResult<Raw>;
    try {
      d = await runDelta<Raw>(c, prev?.messages[fid] ?? null, `/users/${uid}/mailFolders/${fid}/messages/delta?${select}`, PAGE, async (items) => {
        const todo = items.filter((m) => {
          seen.add(m.id as string);
          return possessedMsgs.get(m.id as string) !== (m.changeKey as string);
        });
        const records = await mapLimit(todo, 4, async (m): Promise<ChangeRecordInput> => {
          const id = m.id as string;
          const last = await ctx.lastRecord(K.message, id);
          const lastRaw = last?.raw as Raw | undefined;
          let blobs = last?.blobs;
          if (!blobs?.mime || m.isDraft === true || lastRaw?.isDraft === true) {
            const mime = await storeStream(ctx, () => c.stream(`/users/${uid}/messages/${id}/$value`), 'message/rfc822');
            blobs = { mime };
            ctx.progress({ bytes: mime.size });
          }
          return { kind: K.message, id, op: 'upsert', version: m.changeKey as string, sourceTime: (m.lastModifiedDateTime as string) ?? nowIso(), parent: fid, raw: clean(m), blobs };
        });
        for (const r of records) {
          await ctx.emit(r);
          ctx.progress({ items: 1 });
        }
      });
    } catch (err) {
      if (statusOf(err) === 404) {
        removedFolders.add(fid);
        continue;
      }
      throw err;
    }
    messageLinks[fid] = d.deltaLink;
    await emitDeletes(ctx, K.message, d.removed, possessedMsgs, done);
    if (d.full) {
      const p = await parentOf();
      await emitDeletes(ctx, K.message, [...possessedMsgs.keys()].filter((id) => p.get(id) === fid && !seen.has(id)), possessedMsgs, done);
    }
  }
  // Messages of folders that are gone, then the folders.
  if (removedFolders.size) {
    const p = await parentOf();
    await emitDeletes(ctx, K.message, [...possessedMsgs.keys()].filter((id) => removedFolders.has(p.get(id) ?? '')), possessedMsgs, done);
    await emitDeletes(ctx, K.mailFolder, removedFolders, possessedFolders, done);
  }
  return { v: 1, scope: 'mail', userId: uid, folders: fd.deltaLink, messages: messageLinks, wellKnown };
}

// ---- drive ----------------------------------------------------------------------------------------

export async function exportDrive(c: GraphTenantClient, user: UserRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const uid = user.id;
  const parsed = DriveCursor.safeParse(cursor);
  const prev = parsed.success && parsed.data.userId === uid ? parsed.data : null;
  const folders = await ctx.possessed(K.driveFolder);
  const files = await ctx.possessed(K.driveFile);
  const done = new Set<string>();
  const seen = new Set<string>();
  const parentIds = new Map<string, string | null>();
  const d = await runDelta<Raw>(c, prev?.deltaLink ?? null, `/users/${uid}/drive/root/delta`, { Prefer: 'odata.maxpagesize=200' }, async (items) => {
    const todo: Raw[] = [];
    for (const x of items) {
      const item = clean(x) as DriveItem & Raw;
      const id = item.id;
      seen.add(id);
      parentIds.set(id, item.parentReference?.id ?? null);
      if (item.package) continue; // OneNote notebooks and other packages: not possessed (see kinds.ts)
      const version = (item.eTag ?? stableHash(item)) as string;
      if (item.folder || item.root) {
        if (folders.get(id) === version) continue;
        await ctx.emit({ kind: K.driveFolder, id, op: 'upsert', version, sourceTime: item.lastModifiedDateTime ?? nowIso(), ...(item.parentReference?.id && !item.root ? { parent: item.parentReference.id } : {}), raw: item });
        ctx.progress({ items: 1 });
      } else if (item.file) {
        if (files.get(id) === version) continue;
        todo.push(item);
      }
    }
    const records = await mapLimit(todo, 4, async (x): Promise<ChangeRecordInput> => {
      const item = x as DriveItem & Raw;
      const hash = item.file?.hashes?.quickXorHash ?? null;
      const last = await ctx.lastRecord(K.driveFile, item.id);
      const lastItem = last?.raw as DriveItem | undefined;
      let blobs = last?.blobs;
      if (!blobs?.content || !hash || lastItem?.file?.hashes?.quickXorHash !== hash || lastItem?.size !== item.size) {
        const content = await storeStream(ctx, () => c.stream(`/users/${uid}/drive/items/${item.id}/content`), item.file?.mimeType ?? 'application/octet-stream', hash);
        blobs = { content };
        ctx.progress({ bytes: content.size });
      }
      return { kind: K.driveFile, id: item.id, op: 'upsert', version: item.eTag ?? stableHash(item), sourceTime: item.lastModifiedDateTime ?? nowIso(), ...(item.parentReference?.id ? { parent: item.parentReference.id } : {}), raw: item, blobs };
    });
    for (const r of records) {
      await ctx.emit(r);
      ctx.progress({ items: 1 });
    }
  });
  const removed = new Set(d.removed);
  if (d.full) for (const id of [...folders.keys(), ...files.keys()]) if (!seen.has(id)) removed.add(id);
  if (removed.size) {
    // A deleted folder takes its possessed descendants with it.
    const parentOf = async (id: string): Promise<string | null> => {
      if (parentIds.has(id)) return parentIds.get(id) ?? null;
      const r = (await ctx.lastRecord(K.driveFile, id)) ?? (await ctx.lastRecord(K.driveFolder, id));
      return r?.parent ?? null;
    };
    for (const id of [...folders.keys(), ...files.keys()]) {
      if (removed.has(id) || seen.has(id)) continue;
      const chain = new Set<string>();
      for (let p = await parentOf(id); p && !chain.has(p); p = await parentOf(p)) {
        chain.add(p);
        if (removed.has(p)) {
          removed.add(id);
          break;
        }
      }
    }
    await emitDeletes(ctx, K.driveFile, [...removed].filter((id) => files.has(id)), files, done);
    await emitDeletes(ctx, K.driveFolder, [...removed].filter((id) => folders.has(id)), folders, done);
  }
  return { v: 1, scope: 'drive', userId: uid, deltaLink: d.deltaLink };
}

// ---- calendar -------------------------------------------------------------------------------------

export async function exportCalendar(c: GraphTenantClient, user: UserRef, cursor: Cursor | null, ctx: ExportContext, windowDays: { past: number; future: number }): Promise<Cursor> {
  const uid = user.id;
  const parsed = CalendarCursor.safeParse(cursor);
  let prev = parsed.success && parsed.data.userId === uid ? parsed.data : null;
  const now = Date.now();
  // A window whose end comes near is renewed by a full resync (occurrences further out then count).
  if (prev && Date.parse(prev.window.end) - now < (windowDays.future * 86_400_000) / 2) prev = null;
  const window = prev?.window ?? { start: new Date(now - windowDays.past * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), end: new Date(now + windowDays.future * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const possessed = await ctx.possessed(K.event);
  const done = new Set<string>();
  const seen = new Set<string>();
  const singles = new Map<string, Raw>();
  const masters = new Set<string>();
  const fullUrl = `/users/${uid}/calendarView/delta?startDateTime=${encodeURIComponent(window.start)}&endDateTime=${encodeURIComponent(window.end)}`;
  const d = await runDelta<Raw>(c, prev?.deltaLink ?? null, fullUrl, { Prefer: 'odata.maxpagesize=100, outlook.timezone="UTC"' }, async (items) => {
    for (const x of items) {
      const e = x as Event & Raw;
      if (e.type === 'occurrence' || e.type === 'exception') {
        if (e.seriesMasterId) masters.add(e.seriesMasterId);
      } else {
        singles.set(e.id, clean(e));
      }
    }
  });
  for (const [id, raw] of singles) {
    seen.add(id);
    const version = (raw.changeKey as string) ?? stableHash(raw);
    if (possessed.get(id) === version) continue;
    await ctx.emit({ kind: K.event, id, op: 'upsert', version, sourceTime: (raw.lastModifiedDateTime as string) ?? nowIso(), raw });
    ctx.progress({ items: 1 });
  }
  const goneMasters: string[] = [];
  const fetchMaster = async (id: string): Promise<Raw | null> => {
    try {
      return clean(await c.get<Raw>(`/users/${uid}/events/${id}`, { Prefer: 'outlook.timezone="UTC"' }));
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  };
  for (const id of masters) {
    seen.add(id);
    const raw = await fetchMaster(id);
    if (!raw) {
      goneMasters.push(id);
      continue;
    }
    const version = (raw.changeKey as string) ?? stableHash(raw);
    if (possessed.get(id) === version) continue;
    await ctx.emit({ kind: K.event, id, op: 'upsert', version, sourceTime: (raw.lastModifiedDateTime as string) ?? nowIso(), raw });
    ctx.progress({ items: 1 });
  }
  await emitDeletes(ctx, K.event, [...d.removed, ...goneMasters], possessed, done);
  // Removed occurrences name no series: check the possessed series we did not just see.
  if (!d.full && d.removed.some((id) => !possessed.has(id))) {
    for (const id of possessed.keys()) {
      if (seen.has(id) || done.has(`${K.event}\u0000${id}`)) continue;
      const last = await ctx.lastRecord(K.event, id);
      if ((last?.raw as Raw | undefined)?.type !== 'seriesMaster') continue;
      if (!(await fetchMaster(id))) await emitDeletes(ctx, K.event, [id], possessed, done);
    }
  }
  if (d.full) await emitDeletes(ctx, K.event, [...possessed.keys()].filter((id) => !seen.has(id)), possessed, done);
  return { v: 1, scope: 'calendar', userId: uid, deltaLink: d.deltaLink, window };
}

// ---- contacts -------------------------------------------------------------------------------------

export async function exportContacts(c: GraphTenantClient, user: UserRef, cursor: Cursor | null, ctx: ExportContext): Promise<Cursor> {
  const uid = user.id;
  const parsed = ContactsCursor.safeParse(cursor);
  const prev = parsed.success && parsed.data.userId === uid ? parsed.data : null;
  const possessedFolders = await ctx.possessed(K.contactFolder);
  const possessedContacts = await ctx.possessed(K.contact);
  const done = new Set<string>();
  const fd = await runDelta<Raw>(c, prev?.folders ?? null, `/users/${uid}/contactFolders/delta`);
  const live = new Map<string, Raw>();
  for (const f of fd.items) live.set(f.id as string, clean(f));
  // The default Contacts folder is not listed: it is the parent of the top-level folders and of its contacts.
  let rootId = prev?.rootId ?? null;
  if (!rootId) {
    const ids = new Set([...live.keys(), ...possessedFolders.keys()]);
    rootId = ([...live.values()].map((f) => f.parentFolderId as string | undefined).find((p) => p && !ids.has(p)) ?? null) as string | null;
    if (!rootId) {
      const one = await c.get<{ value: Array<{ parentFolderId?: string }> }>(`/users/${uid}/contacts?$top=1&$select=id,parentFolderId`);
      rootId = one.value[0]?.parentFolderId ?? null;
    }
  }
  if (rootId) {
    const raw: Raw = { id: rootId, displayName: 'Contacts', parentFolderId: null, [NR.isDefault]: true };
    const version = 'default';
    if (possessedFolders.get(rootId) !== version) await ctx.emit({ kind: K.contactFolder, id: rootId, op: 'upsert', version, sourceTime: nowIso(), raw });
  }
  for (const [id, f] of live) {
    const version = stableHash({ n: f.displayName, p: f.parentFolderId ?? null });
    if (possessedFolders.get(id) === version) continue;
    await ctx.emit({ kind: K.contactFolder, id, op: 'upsert', version, sourceTime: nowIso(), ...(f.parentFolderId ? { parent: f.parentFolderId as string } : {}), raw: f });
  }
  const removedFolders = new Set(fd.removed);
  if (fd.full) for (const id of possessedFolders.keys()) if (!live.has(id) && id !== rootId) removedFolders.add(id);
  const folderIds = new Set<string>([...(rootId ? [rootId] : []), ...possessedFolders.keys(), ...live.keys()].filter((id) => !removedFolders.has(id)));
  let parents: Map<string, string> | null = null;
  const parentOf = async (): Promise<Map<string, string>> => {
    if (parents) return parents;
    parents = new Map();
    for (const id of possessedContacts.keys()) {
      const r = await ctx.lastRecord(K.contact, id);
      if (r?.parent) parents.set(id, r.parent);
    }
    return parents;
  };
  const links: Record<string, string> = {};
  for (const fid of folderIds) {
    const seen = new Set<string>();
    let d: DeltaResult<Raw>;
    try {
      d = await runDelta<Raw>(c, prev?.contacts[fid] ?? null, `/users/${uid}/contactFolders/${fid}/contacts/delta`, PAGE, async (items) => {
        for (const x of items) {
          const id = x.id as string;
          seen.add(id);
          const version = (x.changeKey as string) ?? stableHash(x);
          if (possessedContacts.get(id) === version) continue;
          await ctx.emit({ kind: K.contact, id, op: 'upsert', version, sourceTime: (x.lastModifiedDateTime as string) ?? nowIso(), parent: fid, raw: clean(x) });
          ctx.progress({ items: 1 });
        }
      });
    } catch (err) {
      if (statusOf(err) === 404) {
        removedFolders.add(fid);
        continue;
      }
      throw err;
    }
    links[fid] = d.deltaLink;
    await emitDeletes(ctx, K.contact, d.removed, possessedContacts, done);
    if (d.full) {
      const p = await parentOf();
      await emitDeletes(ctx, K.contact, [...possessedContacts.keys()].filter((id) => p.get(id) === fid && !seen.has(id)), possessedContacts, done);
    }
  }
  if (removedFolders.size) {
    const p = await parentOf();
    await emitDeletes(ctx, K.contact, [...possessedContacts.keys()].filter((id) => removedFolders.has(p.get(id) ?? '')), possessedContacts, done);
    await emitDeletes(ctx, K.contactFolder, removedFolders, possessedFolders, done);
  }
  return { v: 1, scope: 'contacts', userId: uid, folders: fd.deltaLink, contacts: links, rootId };
}
