/**
 * Read what the standby holds for a scope, normalized (normalize.ts) and keyed back to source ids
 * through the id map. Items the id map does not know are yielded with sourceId null (verification
 * reports them as extra), except the standby's own system folders (well-known mail folders, the
 * drive root, the default Contacts folder) that no source item maps to.
 */
import type { StandbyItem, VerifyContext } from '../../src/model/connector.js';
import { type GraphTenantClient, listAll, mapLimit, statusOf } from './client.js';
import { sha256 } from './mime.js';
import { normalizeContact, normalizeDriveItem, normalizeEvent, normalizeMailFolder, normalizeMessage, stripAttendeeBlock } from './normalize.js';
import { Event, Message } from './schema.js';
import { ATTENDEES_PROP, K, type ScopeKind } from './types.js';

type Raw = Record<string, unknown>;
const WELL_KNOWN = ['msgfolderroot', 'inbox', 'sentitems', 'drafts', 'deleteditems', 'junkemail', 'archive', 'outbox'];

function reverse(ctx: VerifyContext, kind: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [src, e] of ctx.idMap.entries(kind)) out.set(e.standbyId, src);
  return out;
}

async function* standbyMail(c: GraphTenantClient, sid: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const folderMap = reverse(ctx, K.mailFolder);
  const msgMap = reverse(ctx, K.message);
  const wk = new Map<string, string>();
  for (const name of WELL_KNOWN) {
    try {
      wk.set((await c.get<{ id: string }>(`/users/${sid}/mailFolders/${name}?$select=id`)).id, name);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
  const rootId = [...wk].find(([, n]) => n === 'msgfolderroot')?.[0];
  const folders: Raw[] = [];
  if (rootId) folders.push({ id: rootId, displayName: 'Top of Information Store', parentFolderId: null });
  const walk = async (pid: string) => {
    const kids = await listAll<Raw>(c, `/users/${sid}/mailFolders/${pid}/childFolders?includeHiddenFolders=true&$top=250`);
    for (const k of kids) {
      folders.push(k);
      if (Number(k.childFolderCount ?? 1) > 0) await walk(k.id as string);
    }
  };
  if (rootId) await walk(rootId);
  for (const f of folders) {
    const id = f.id as string;
    const source = folderMap.get(id) ?? null;
    const wkName = wk.get(id) ?? null;
    if (!source && wkName) continue; // the standby's own system folder
    const parent = f.parentFolderId ? (folderMap.get(f.parentFolderId as string) ?? `standby:${String(f.parentFolderId)}`) : null;
    yield { kind: K.mailFolder, sourceId: source, standbyId: id, normalized: normalizeMailFolder(f, parent, wkName) };
  }
  for (const f of folders) {
    const fid = f.id as string;
    const folderSource = folderMap.get(fid) ?? `standby:${fid}`;
    const msgs = await listAll<Raw>(c, `/users/${sid}/mailFolders/${fid}/messages?$top=250`);
    const items = await mapLimit(msgs, 4, async (raw) => {
      const m = Message.parse(raw);
      let atts: Array<{ name: string; size: number; sha256: string }> = [];
      if (m.hasAttachments || raw.hasAttachments === undefined) {
        const list = await listAll<{ name?: string; size?: number; contentBytes?: string }>(c, `/users/${sid}/messages/${m.id}/attachments`);
        atts = list.map((a) => {
          const bytes = Buffer.from(a.contentBytes ?? '', 'base64');
          return { name: a.name ?? 'attachment', size: bytes.length, sha256: sha256(bytes) };
        });
      }
      return { kind: K.message, sourceId: msgMap.get(m.id) ?? null, standbyId: m.id, normalized: normalizeMessage(m, folderSource, atts) } satisfies StandbyItem;
    });
    yield* items;
  }
}

async function* standbyDrive(c: GraphTenantClient, sid: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const folders = reverse(ctx, K.driveFolder);
  const files = reverse(ctx, K.driveFile);
  const items = await listAll<Raw>(c, `/users/${sid}/drive/root/delta`, { Prefer: 'odata.maxpagesize=500' });
  for (const it of items) {
    if (it.deleted) continue;
    const id = it.id as string;
    const parentId = (it.parentReference as { id?: string } | undefined)?.id;
    const parent = parentId ? (folders.get(parentId) ?? `standby:${parentId}`) : null;
    if (it.root) {
      if (folders.has(id)) yield { kind: K.driveFolder, sourceId: folders.get(id) as string, standbyId: id, normalized: normalizeDriveItem(it, null) };
      continue;
    }
    if (it.package) continue;
    const kind = it.folder ? K.driveFolder : K.driveFile;
    yield { kind, sourceId: (kind === K.driveFolder ? folders : files).get(id) ?? null, standbyId: id, normalized: normalizeDriveItem(it, parent) };
  }
}

async function* standbyCalendar(c: GraphTenantClient, sid: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const map = reverse(ctx, K.event);
  const events = await listAll<Raw>(c, `/users/${sid}/events?$top=250&$expand=singleValueExtendedProperties($filter=id eq '${ATTENDEES_PROP}')`, { Prefer: 'outlook.timezone="UTC"' });
  for (const raw of events) {
    const e = Event.parse(raw);
    const prop = (raw.singleValueExtendedProperties as Array<{ id: string; value: string }> | undefined)?.find((p) => p.id.toLowerCase() === ATTENDEES_PROP.toLowerCase());
    let attendees: string[] = [];
    try {
      attendees = prop ? (JSON.parse(prop.value) as string[]) : [];
    } catch {
      attendees = [];
    }
    yield { kind: K.event, sourceId: map.get(e.id) ?? null, standbyId: e.id, normalized: normalizeEvent(e, attendees, stripAttendeeBlock(e.body)) };
  }
}

async function* standbyContacts(c: GraphTenantClient, sid: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  const folders = reverse(ctx, K.contactFolder);
  const contacts = reverse(ctx, K.contact);
  const defaultSource = folders.get('default') ?? null;
  if (defaultSource) yield { kind: K.contactFolder, sourceId: defaultSource, standbyId: 'default', normalized: { isDefault: true } };
  const all: Array<{ id: string; parent: string }> = [];
  const walk = async (pid: string) => {
    const kids = await listAll<Raw>(c, pid === 'default' ? `/users/${sid}/contactFolders?$top=250` : `/users/${sid}/contactFolders/${pid}/childFolders?$top=250`);
    for (const k of kids) {
      all.push({ id: k.id as string, parent: pid });
      const parent = pid === 'default' ? defaultSource : (folders.get(pid) ?? `standby:${pid}`);
      yield_.push({ kind: K.contactFolder, sourceId: folders.get(k.id as string) ?? null, standbyId: k.id as string, normalized: { name: k.displayName ?? null, parent } });
      await walk(k.id as string);
    }
  };
  const yield_: StandbyItem[] = [];
  await walk('default');
  yield* yield_;
  for (const f of [{ id: 'default' }, ...all]) {
    const list = await listAll<Raw>(c, f.id === 'default' ? `/users/${sid}/contacts?$top=250` : `/users/${sid}/contactFolders/${f.id}/contacts?$top=250`);
    const folderSource = f.id === 'default' ? defaultSource : (folders.get(f.id) ?? `standby:${f.id}`);
    for (const raw of list) yield { kind: K.contact, sourceId: contacts.get(raw.id as string) ?? null, standbyId: raw.id as string, normalized: normalizeContact(raw, folderSource) };
  }
}

export async function* readStandbyScope(kind: ScopeKind, c: GraphTenantClient, sid: string, ctx: VerifyContext): AsyncGenerator<StandbyItem> {
  switch (kind) {
    case 'mail':
      yield* standbyMail(c, sid, ctx);
      break;
    case 'drive':
      yield* standbyDrive(c, sid, ctx);
      break;
    case 'calendar':
      yield* standbyCalendar(c, sid, ctx);
      break;
    case 'contacts':
      yield* standbyContacts(c, sid, ctx);
      break;
    case 'directory':
      break;
  }
}
