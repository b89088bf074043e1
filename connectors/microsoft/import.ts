/**
 * Import into the standby tenant, idempotent through the id map, with natural-key adoption of what
 * a crashed run created before its id map was committed:
 *   mail folders   well-known folders map to the standby's own (inbox, sentitems ...); others by
 *                  (parent, displayName); renamed by PATCH, moved by move
 *   messages       created from JSON in their folder with PR_MESSAGE_FLAGS (read, not a draft),
 *                  PR_MESSAGE_DELIVERY_TIME and PR_CLIENT_SUBMIT_TIME, and the source id as a named
 *                  extended property (the adoption key); attachments re-attached from the stored
 *                  MIME (large ones through an upload session); later changes by PATCH
 *   drive items    folders by (parent, name); files through upload sessions (fragments of a multiple
 *                  of 320 KiB) with their fileSystemInfo, by (parent, name) and quickXorHash
 *   events         created WITHOUT attendees, so no invitation is sent; the attendee list goes into
 *                  the body and an extended property (see kinds.ts for what that loses)
 *   contacts       by folder, source id in an extended property
 * Every item failure is reported in the result and does not stop the others.
 */
import type { ChangeRecord } from '../../src/model/records.js';
import type { ImportContext, ImportFailure, ImportResult } from '../../src/model/connector.js';
import { type GraphTenantClient, GraphHttpError, listAll, mapLimit, statusOf } from './client.js';
import { attachments as mimeAttachments, parseMime, type MimeAttachment } from './mime.js';
import { Contact, DriveItem, Event, Message } from './schema.js';
import { ATTENDEES_PROP, K, NR, SOURCE_ID_PROP, type ScopeKind } from './types.js';
import { ATTENDEE_MARK_HTML, ATTENDEE_MARK_TEXT, CONTACT_FIELDS, attendeeList, bodyText, normRecurrence, stripAttendeeBlock } from './normalize.js';

type Raw = Record<string, unknown>;
const enc = encodeURIComponent;
const INLINE_ATTACHMENT_MAX = 3 * 1024 * 1024;
const INLINE_TOTAL_MAX = 2 * 1024 * 1024;
const OUTLOOK_FRAGMENT = 3 * 1024 * 1024;
export const FRAGMENT_UNIT = 320 * 1024;
const EXPAND_SOURCE_ID = `singleValueExtendedProperties($filter=id eq '${SOURCE_ID_PROP}')`;

export interface ImportEnv {
  c: GraphTenantClient;
  /** Standby user id. */
  sid: string;
  ctx: ImportContext;
  fragmentBytes: number;
}

class Result {
  imported = 0;
  unchanged = 0;
  deleted = 0;
  failed: ImportFailure[] = [];
  fail(r: ChangeRecord, err: unknown): void {
    this.failed.push({ kind: r.kind, id: r.id, error: err instanceof Error ? err.message : String(err) });
  }
  done(): ImportResult {
    return { imported: this.imported, unchanged: this.unchanged, deleted: this.deleted, failed: this.failed };
  }
}

async function readBlob(ctx: ImportContext, sha: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ctx.getBlob(sha)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Exactly `size`-byte chunks of a stream (the last may be shorter); one chunk in memory at a time. */
export async function* chunks(stream: AsyncIterable<Buffer | Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let used = 0;
  for await (const piece of stream) {
    let src = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    while (src.length) {
      const n = Math.min(src.length, size - used);
      src.copy(buf, used, 0, n);
      used += n;
      src = src.subarray(n);
      if (used === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        used = 0;
      }
    }
  }
  if (used) yield buf.subarray(0, used);
}

/** PUT a blob to an upload session in order; returns the final JSON (the driveItem, or {} for Outlook). */
async function uploadToSession(env: ImportEnv, uploadUrl: string, sha: string, size: number, fragment: number): Promise<Raw> {
  let offset = 0;
  for await (const chunk of chunks(await env.ctx.getBlob(sha), fragment)) {
    const end = offset + chunk.length - 1;
    const last = end === size - 1;
    for (let attempt = 0; ; attempt++) {
      const res = await env.c.sendRaw(uploadUrl, { method: 'PUT', headers: { 'Content-Range': `bytes ${offset}-${end}/${size}`, 'Content-Length': String(chunk.length) }, body: chunk }, env.ctx.signal);
      const text = await res.text();
      if (res.ok && (!last ? res.status === 200 || res.status === 202 : res.status === 200 || res.status === 201)) {
        env.ctx.progress({ bytes: chunk.length });
        if (last) return text ? (JSON.parse(text) as Raw) : {};
        break;
      }
      if (res.status === 416 && attempt < 3) {
        // The fragment may have arrived before the connection dropped: ask where the session stands.
        const st = await env.c.sendRaw(uploadUrl, { method: 'GET' }, env.ctx.signal);
        const status = (await st.json().catch(() => ({}))) as { nextExpectedRanges?: string[] };
        const next = Number((status.nextExpectedRanges?.[0] ?? '').split('-')[0]);
        if (next === end + 1) break;
        if (next === offset) continue;
      }
      throw new GraphHttpError(res.status, 'uploadFailed', `upload fragment ${offset}-${end}/${size}: ${res.status} ${text.slice(0, 300)}`);
    }
    offset = end + 1;
  }
  if (offset !== size) throw new Error(`upload ended at ${offset} of ${size} bytes: the stored blob is shorter than recorded`);
  return {};
}

function depthOrder(records: ChangeRecord[]): ChangeRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const depth = (r: ChangeRecord, seen = new Set<string>()): number => {
    if (!r.parent || seen.has(r.id)) return 0;
    seen.add(r.id);
    const p = byId.get(r.parent);
    return p ? 1 + depth(p, seen) : 0;
  };
  return [...records].sort((a, b) => depth(a) - depth(b) || a.seq - b.seq);
}

interface Indexed {
  bySource: Map<string, string>;
  byNatural: Map<string, string[]>;
}

/**
 * A per-run index of a standby collection, built on first need: source id (the norestoreSourceId
 * extended property) -> standby id, and a natural key (internetMessageId; subject and times; name
 * and address) -> standby ids, for items the property does not name (created by someone else, or
 * the originals when replication runs the other way after a failover). A standby item already
 * mapped in the id map is never adopted a second time.
 */
class AdoptionIndex {
  private cache = new Map<string, Promise<Indexed>>();
  private claimed: Set<string> | null = null;
  constructor(
    private readonly env: ImportEnv,
    private readonly kind: string,
    private readonly select: string,
    private readonly naturalKey: (item: Raw) => string | null,
  ) {}

  private index(listUrl: string): Promise<Indexed> {
    let p = this.cache.get(listUrl);
    if (!p) {
      p = (async () => {
        const out: Indexed = { bySource: new Map(), byNatural: new Map() };
        const sep = listUrl.includes('?') ? '&' : '?';
        const items = await listAll<Raw & { id: string; singleValueExtendedProperties?: Array<{ id: string; value: string }> }>(
          this.env.c,
          `${listUrl}${sep}$select=${this.select}&$top=250&$expand=${EXPAND_SOURCE_ID}`,
          { Prefer: 'outlook.timezone="UTC"' },
        );
        for (const it of items) {
          const v = it.singleValueExtendedProperties?.find((p) => p.id.toLowerCase() === SOURCE_ID_PROP.toLowerCase())?.value;
          if (v) out.bySource.set(v, it.id);
          const k = this.naturalKey(it);
          if (k) out.byNatural.set(k, [...(out.byNatural.get(k) ?? []), it.id]);
        }
        return out;
      })();
      this.cache.set(listUrl, p);
      p.catch(() => this.cache.delete(listUrl));
    }
    return p;
  }

  /** The standby item for a source item: by source id, else by natural key (unclaimed only). */
  async find(listUrl: string, sourceId: string, raw: Raw | null): Promise<string | undefined> {
    const idx = await this.index(listUrl);
    const direct = idx.bySource.get(sourceId);
    if (direct) return direct;
    const k = raw ? this.naturalKey(raw) : null;
    if (!k) return undefined;
    if (!this.claimed) this.claimed = new Set([...this.env.ctx.idMap.entries(this.kind)].map(([, e]) => e.standbyId));
    const hit = (idx.byNatural.get(k) ?? []).find((id) => !this.claimed?.has(id));
    if (hit) this.claimed.add(hit);
    return hit;
  }
}

const messageKey = (m: Raw): string | null => (typeof m.internetMessageId === 'string' && m.internetMessageId ? `mid:${m.internetMessageId}` : null);
const eventKey = (e: Raw): string | null => {
  const start = (e.start as { dateTime?: string } | undefined)?.dateTime;
  const end = (e.end as { dateTime?: string } | undefined)?.dateTime;
  return start && end ? `ev:${String(e.subject ?? '')}|${isoInstant(start)}|${isoInstant(end)}` : null;
};
const contactKey = (c: Raw): string | null => {
  const mail = (c.emailAddresses as Array<{ address?: string }> | undefined)?.[0]?.address;
  return c.displayName ? `ct:${String(c.displayName)}|${(mail ?? '').toLowerCase()}` : null;
};

function isoInstant(v: string): string {
  const s = v.replace(/(\.\d{3})\d*/, '$1');
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : v;
}

async function ignore404(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

function recipientsOut(v: unknown): Raw[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return (v as Array<{ emailAddress?: { name?: string | null; address?: string | null } }>)
    .filter((r) => r?.emailAddress?.address)
    .map((r) => ({ emailAddress: { address: r.emailAddress?.address, ...(r.emailAddress?.name ? { name: r.emailAddress.name } : {}) } }));
}

function recipientOut(v: unknown): Raw | undefined {
  return recipientsOut(v ? [v] : [])?.[0];
}

// ---- mail ---------------------------------------------------------------------------------------

async function importMail(env: ImportEnv, records: ChangeRecord[], res: Result): Promise<void> {
  const { c, sid, ctx } = env;
  const wkCache = new Map<string, Promise<string | null>>();
  const standbyWellKnown = (name: string) => {
    let p = wkCache.get(name);
    if (!p) {
      p = c.get<{ id: string }>(`/users/${sid}/mailFolders/${name}?$select=id`).then((f) => f.id, (err: unknown) => {
        if (statusOf(err) === 404) return null;
        throw err;
      });
      wkCache.set(name, p);
    }
    return p;
  };
  const children = new Map<string, Promise<Array<{ id: string; displayName?: string }>>>();
  const childrenOf = (pid: string) => {
    let p = children.get(pid);
    if (!p) {
      p = listAll<{ id: string; displayName?: string }>(c, `/users/${sid}/mailFolders/${pid}/childFolders?includeHiddenFolders=true&$top=250&$select=id,displayName`);
      children.set(pid, p);
      p.catch(() => children.delete(pid));
    }
    return p;
  };
  const adopt = new AdoptionIndex(env, K.message, 'id,internetMessageId', messageKey);
  const folders = depthOrder(records.filter((r) => r.kind === K.mailFolder && r.op === 'upsert'));
  for (const r of folders) {
    try {
      const entry = ctx.idMap.get(K.mailFolder, r.id);
      if (entry?.version === r.version) {
        res.unchanged++;
        continue;
      }
      const raw = (r.raw ?? {}) as Raw;
      const wk = raw[NR.wellKnownName] as string | undefined;
      const name = String(raw.displayName ?? 'Folder');
      if (wk) {
        const id = await standbyWellKnown(wk);
        if (id) {
          ctx.idMap.set(K.mailFolder, r.id, { standbyId: id, version: r.version });
          res.imported++;
          continue;
        }
      }
      const parent = r.parent ? ctx.idMap.get(K.mailFolder, r.parent)?.standbyId : await standbyWellKnown('msgfolderroot');
      if (!parent) throw new Error(`mail folder "${name}": its parent folder ${r.parent ?? '(root)'} is not on the standby; it is retried with the next import`);
      let standbyId = entry?.standbyId;
      if (standbyId) {
        try {
          const cur = await c.get<{ displayName?: string; parentFolderId?: string }>(`/users/${sid}/mailFolders/${standbyId}?$select=id,displayName,parentFolderId`);
          if (cur.displayName !== name) await c.patch(`/users/${sid}/mailFolders/${standbyId}`, { displayName: name });
          if (cur.parentFolderId !== parent) standbyId = (await c.post<{ id: string }>(`/users/${sid}/mailFolders/${standbyId}/move`, { destinationId: parent })).id;
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          standbyId = undefined;
        }
      }
      if (!standbyId) {
        const same = (await childrenOf(parent)).find((f) => (f.displayName ?? '').toLowerCase() === name.toLowerCase());
        if (same) standbyId = same.id;
        else {
          try {
            standbyId = (await c.post<{ id: string }>(`/users/${sid}/mailFolders/${parent}/childFolders`, { displayName: name })).id;
          } catch (err) {
            if (statusOf(err) !== 409) throw err;
            children.delete(parent);
            standbyId = (await childrenOf(parent)).find((f) => (f.displayName ?? '').toLowerCase() === name.toLowerCase())?.id;
            if (!standbyId) throw err;
          }
        }
        children.delete(parent);
      }
      ctx.idMap.set(K.mailFolder, r.id, { standbyId, version: r.version });
      res.imported++;
    } catch (err) {
      res.fail(r, err);
    }
  }

  const messages = records.filter((r) => r.kind === K.message);
  await mapLimit(messages, 4, async (r) => {
    try {
      if (r.op === 'delete') {
        const entry = ctx.idMap.get(K.message, r.id);
        let standbyId = entry?.standbyId;
        if (!standbyId && r.parent) {
          const fid = ctx.idMap.get(K.mailFolder, r.parent)?.standbyId;
          if (fid) standbyId = await adopt.find(`/users/${sid}/mailFolders/${fid}/messages`, r.id, null);
        }
        if (standbyId) await ignore404(c.delete(`/users/${sid}/messages/${standbyId}`));
        ctx.idMap.delete(K.message, r.id);
        res.deleted++;
        return;
      }
      const entry = ctx.idMap.get(K.message, r.id);
      if (entry?.version === r.version) {
        res.unchanged++;
        return;
      }
      const m = Message.parse(r.raw);
      const fid = r.parent ? ctx.idMap.get(K.mailFolder, r.parent)?.standbyId : undefined;
      if (!fid) throw new Error(`message "${m.subject ?? ''}": its folder ${r.parent ?? '?'} is not on the standby; it is retried with the next import`);
      if (entry) {
        try {
          await updateMessage(env, entry.standbyId, m);
          ctx.idMap.set(K.message, r.id, { standbyId: entry.standbyId, version: r.version });
          res.imported++;
          return;
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
      }
      const listUrl = `/users/${sid}/mailFolders/${fid}/messages`;
      const adopted = await adopt.find(listUrl, r.id, m as Raw);
      const mime = r.blobs?.mime ? mimeAttachments(parseMime(await readBlob(ctx, r.blobs.mime.sha256))) : [];
      if (adopted) {
        await ensureAttachments(env, adopted, mime);
        await updateMessage(env, adopted, m, r.id);
        ctx.idMap.set(K.message, r.id, { standbyId: adopted, version: r.version });
        res.imported++;
        return;
      }
      const standbyId = await createMessage(env, fid, r.id, m, mime);
      ctx.idMap.set(K.message, r.id, { standbyId, version: r.version });
      res.imported++;
      ctx.progress({ items: 1 });
    } catch (err) {
      res.fail(r, err);
    }
  });

  const gone = depthOrder(records.filter((r) => r.kind === K.mailFolder && r.op === 'delete')).reverse();
  for (const r of gone) {
    try {
      const entry = ctx.idMap.get(K.mailFolder, r.id);
      const wk = ((await ctx.lastRecord(K.mailFolder, r.id))?.raw as Raw | undefined)?.[NR.wellKnownName];
      if (entry && !wk) {
        try {
          await c.delete(`/users/${sid}/mailFolders/${entry.standbyId}`);
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 403) throw err;
        }
      }
      ctx.idMap.delete(K.mailFolder, r.id);
      res.deleted++;
    } catch (err) {
      res.fail(r, err);
    }
  }
}

function mutableMessageFields(m: Message): Raw {
  const out: Raw = {
    isRead: m.isRead ?? false,
    categories: m.categories ?? [],
    importance: m.importance ?? 'normal',
    flag: { flagStatus: m.flag?.flagStatus ?? 'notFlagged' },
  };
  return out;
}

async function updateMessage(env: ImportEnv, standbyId: string, m: Message, adoptedFor?: string): Promise<void> {
  const body = mutableMessageFields(m);
  // An item adopted by its natural key gets the source id too, for later runs.
  if (adoptedFor) body.singleValueExtendedProperties = [{ id: SOURCE_ID_PROP, value: adoptedFor }];
  if (m.isDraft) {
    Object.assign(body, {
      subject: m.subject ?? '',
      body: m.body ?? { contentType: 'text', content: '' },
      toRecipients: recipientsOut(m.toRecipients) ?? [],
      ccRecipients: recipientsOut(m.ccRecipients) ?? [],
      bccRecipients: recipientsOut(m.bccRecipients) ?? [],
    });
  }
  await env.c.patch(`/users/${env.sid}/messages/${standbyId}`, body);
}

function fileAttachmentJson(a: MimeAttachment): Raw {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: a.name,
    contentType: a.contentType,
    contentBytes: a.content.toString('base64'),
    isInline: a.isInline,
    ...(a.contentId ? { contentId: a.contentId } : {}),
  };
}

async function addAttachment(env: ImportEnv, standbyId: string, a: MimeAttachment): Promise<void> {
  const base = `/users/${env.sid}/messages/${standbyId}/attachments`;
  if (a.content.length <= INLINE_ATTACHMENT_MAX) {
    await env.c.post(base, fileAttachmentJson(a));
    return;
  }
  const sess = await env.c.post<{ uploadUrl: string }>(`${base}/createUploadSession`, {
    AttachmentItem: { attachmentType: 'file', name: a.name, size: a.content.length, contentType: a.contentType, isInline: a.isInline, ...(a.contentId ? { contentId: a.contentId } : {}) },
  });
  let offset = 0;
  while (offset < a.content.length) {
    const end = Math.min(offset + OUTLOOK_FRAGMENT, a.content.length) - 1;
    const r = await env.c.sendRaw(sess.uploadUrl, { method: 'PUT', headers: { 'Content-Range': `bytes ${offset}-${end}/${a.content.length}`, 'Content-Length': String(end - offset + 1) }, body: a.content.subarray(offset, end + 1) }, env.ctx.signal);
    const text = await r.text();
    if (!r.ok) throw new GraphHttpError(r.status, 'uploadFailed', `attachment "${a.name}" fragment ${offset}-${end}: ${r.status} ${text.slice(0, 300)}`);
    offset = end + 1;
  }
}

async function ensureAttachments(env: ImportEnv, standbyId: string, wanted: MimeAttachment[]): Promise<void> {
  if (!wanted.length) return;
  const have = await listAll<{ name?: string; size?: number }>(env.c, `/users/${env.sid}/messages/${standbyId}/attachments?$select=id,name,size`);
  const pool = have.map((h) => `${h.name}\u0000${h.size}`);
  for (const a of wanted) {
    const i = pool.indexOf(`${a.name}\u0000${a.content.length}`);
    if (i >= 0) pool.splice(i, 1);
    else await addAttachment(env, standbyId, a);
  }
}

async function createMessage(env: ImportEnv, folderId: string, sourceId: string, m: Message, atts: MimeAttachment[]): Promise<string> {
  const flags = (m.isRead ? 1 : 0) | (m.isDraft ? 8 : 0);
  const props = [
    { id: 'Integer 0x0E07', value: String(flags) },
    ...(m.receivedDateTime ? [{ id: 'SystemTime 0x0E06', value: m.receivedDateTime }] : []),
    ...(m.sentDateTime ? [{ id: 'SystemTime 0x0039', value: m.sentDateTime }] : []),
    { id: SOURCE_ID_PROP, value: sourceId },
  ];
  const inline: MimeAttachment[] = [];
  const later: MimeAttachment[] = [];
  let total = 0;
  for (const a of atts) {
    if (a.content.length <= INLINE_ATTACHMENT_MAX && total + a.content.length <= INLINE_TOTAL_MAX) {
      inline.push(a);
      total += a.content.length;
    } else later.push(a);
  }
  const body: Raw = {
    subject: m.subject ?? '',
    body: m.body ?? { contentType: 'text', content: '' },
    toRecipients: recipientsOut(m.toRecipients) ?? [],
    ccRecipients: recipientsOut(m.ccRecipients) ?? [],
    bccRecipients: recipientsOut(m.bccRecipients) ?? [],
    replyTo: recipientsOut(m.replyTo) ?? [],
    ...(recipientOut(m.from) ? { from: recipientOut(m.from) } : {}),
    ...(recipientOut(m.sender) ? { sender: recipientOut(m.sender) } : {}),
    ...(m.internetMessageId ? { internetMessageId: m.internetMessageId } : {}),
    isReadReceiptRequested: m.isReadReceiptRequested ?? false,
    isDeliveryReceiptRequested: m.isDeliveryReceiptRequested ?? false,
    ...mutableMessageFields(m),
    singleValueExtendedProperties: props,
    ...(inline.length ? { attachments: inline.map(fileAttachmentJson) } : {}),
  };
  const created = await env.c.post<{ id: string }>(`/users/${env.sid}/mailFolders/${folderId}/messages`, body);
  for (const a of later) await addAttachment(env, created.id, a);
  return created.id;
}

// ---- drive --------------------------------------------------------------------------------------

async function importDrive(env: ImportEnv, records: ChangeRecord[], res: Result): Promise<void> {
  const { c, sid, ctx } = env;
  let rootId: Promise<string> | null = null;
  const standbyRoot = () => (rootId ??= c.get<{ id: string }>(`/users/${sid}/drive/root?$select=id`).then((r) => r.id));
  const item = (id: string) => `/users/${sid}/drive/items/${id}`;
  const getOrNull = async (path: string): Promise<DriveItem | null> => {
    try {
      return DriveItem.parse(await c.get(path));
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  };
  const fsiOf = (d: DriveItem) => (d.fileSystemInfo ? { createdDateTime: d.fileSystemInfo.createdDateTime ?? undefined, lastModifiedDateTime: d.fileSystemInfo.lastModifiedDateTime ?? undefined } : undefined);
  const sameFsi = (a: DriveItem, b: DriveItem) => a.fileSystemInfo?.createdDateTime === b.fileSystemInfo?.createdDateTime && a.fileSystemInfo?.lastModifiedDateTime === b.fileSystemInfo?.lastModifiedDateTime;
  const parentOf = (r: ChangeRecord, what: string): string => {
    const p = r.parent ? ctx.idMap.get(K.driveFolder, r.parent)?.standbyId : undefined;
    if (!p) throw new Error(`${what}: its parent folder ${r.parent ?? '?'} is not on the standby; it is retried with the next import`);
    return p;
  };

  for (const r of depthOrder(records.filter((x) => x.kind === K.driveFolder && x.op === 'upsert'))) {
    try {
      const entry = ctx.idMap.get(K.driveFolder, r.id);
      if (entry?.version === r.version) {
        res.unchanged++;
        continue;
      }
      const d = DriveItem.parse(r.raw);
      if (d.root) {
        ctx.idMap.set(K.driveFolder, r.id, { standbyId: await standbyRoot(), version: r.version });
        res.imported++;
        continue;
      }
      const name = d.name ?? 'folder';
      const parent = parentOf(r, `folder "${name}"`);
      let standbyId = entry?.standbyId;
      let cur = standbyId ? await getOrNull(item(standbyId)) : null;
      if (!cur) {
        cur = await getOrNull(`${item(parent)}:/${enc(name)}:`);
        if (cur && !cur.folder) throw new Error(`folder "${name}": the standby has a file of that name in the same folder`);
      }
      if (cur) {
        standbyId = cur.id;
        if (cur.name !== name || cur.parentReference?.id !== parent || !sameFsi(cur, d)) {
          await c.patch(item(cur.id), { name, parentReference: { id: parent }, ...(fsiOf(d) ? { fileSystemInfo: fsiOf(d) } : {}) });
        }
      } else {
        standbyId = (await c.post<{ id: string }>(`${item(parent)}/children`, { name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail', ...(fsiOf(d) ? { fileSystemInfo: fsiOf(d) } : {}) })).id;
      }
      ctx.idMap.set(K.driveFolder, r.id, { standbyId: standbyId as string, version: r.version });
      res.imported++;
    } catch (err) {
      res.fail(r, err);
    }
  }

  const files = records.filter((x) => x.kind === K.driveFile && x.op === 'upsert');
  await mapLimit(files, 2, async (r) => {
    try {
      const entry = ctx.idMap.get(K.driveFile, r.id);
      if (entry?.version === r.version) {
        res.unchanged++;
        return;
      }
      const d = DriveItem.parse(r.raw);
      const name = d.name ?? 'file';
      const parent = parentOf(r, `file "${name}"`);
      const blob = r.blobs?.content;
      if (!blob) throw new Error(`file "${name}": the record has no content blob`);
      let cur = entry ? await getOrNull(item(entry.standbyId)) : null;
      if (!cur) {
        cur = await getOrNull(`${item(parent)}:/${enc(name)}:`);
        if (cur?.folder) throw new Error(`file "${name}": the standby has a folder of that name in the same folder`);
      }
      const hash = d.file?.hashes?.quickXorHash ?? null;
      let result: DriveItem;
      if (cur && hash && cur.file?.hashes?.quickXorHash === hash && cur.size === blob.size) {
        result = cur;
        if (cur.name !== name || cur.parentReference?.id !== parent || !sameFsi(cur, d)) {
          result = DriveItem.parse(await c.patch(item(cur.id), { name, parentReference: { id: parent }, ...(fsiOf(d) ? { fileSystemInfo: fsiOf(d) } : {}) }));
        }
      } else {
        // Replace the content of the existing item (keeps its id), or create the file.
        if (cur && (cur.name !== name || cur.parentReference?.id !== parent)) await c.patch(item(cur.id), { name, parentReference: { id: parent } });
        const target = cur ? item(cur.id) : `${item(parent)}:/${enc(name)}:`;
        if (blob.size === 0) {
          result = DriveItem.parse(await c.put(`${target}/content`, Buffer.alloc(0), { 'Content-Type': 'application/octet-stream' }));
          if (fsiOf(d)) result = DriveItem.parse(await c.patch(item(result.id), { fileSystemInfo: fsiOf(d) }));
        } else {
          const sess = await c.post<{ uploadUrl: string }>(`${target}/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'replace', ...(fsiOf(d) ? { fileSystemInfo: fsiOf(d) } : {}) } });
          result = DriveItem.parse(await uploadToSession(env, sess.uploadUrl, blob.sha256, blob.size, env.fragmentBytes));
        }
        if (hash && result.file?.hashes?.quickXorHash && result.file.hashes.quickXorHash !== hash) {
          throw new Error(`file "${name}": the standby computed quickXorHash ${result.file.hashes.quickXorHash}, the source had ${hash}`);
        }
      }
      ctx.idMap.set(K.driveFile, r.id, { standbyId: result.id, version: r.version });
      res.imported++;
      ctx.progress({ items: 1 });
    } catch (err) {
      res.fail(r, err);
    }
  });

  const gone = [...records.filter((x) => x.kind === K.driveFile && x.op === 'delete'), ...depthOrder(records.filter((x) => x.kind === K.driveFolder && x.op === 'delete')).reverse()];
  for (const r of gone) {
    try {
      const entry = ctx.idMap.get(r.kind, r.id);
      if (entry) await ignore404(c.delete(item(entry.standbyId)));
      ctx.idMap.delete(r.kind, r.id);
      res.deleted++;
    } catch (err) {
      res.fail(r, err);
    }
  }
}

// ---- calendar -----------------------------------------------------------------------------------

function eventPayload(sourceId: string, e: Event): Raw {
  const attendees = e.attendees ?? [];
  const listed = attendees.map((a) => `${a.emailAddress?.name ? `${a.emailAddress.name} ` : ''}<${a.emailAddress?.address ?? ''}> (${a.type ?? 'required'})`);
  const html = (e.body?.contentType ?? 'text').toLowerCase() === 'html';
  let content = e.body?.content ?? '';
  if (listed.length && !content.includes(ATTENDEE_MARK_HTML) && !content.includes(ATTENDEE_MARK_TEXT)) {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    content = html
      ? `${content}${ATTENDEE_MARK_HTML}<hr><p>Attendees of the original meeting (restored by norestore; not invited on this tenant):</p><ul>${listed.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></div>`
      : `${content}${ATTENDEE_MARK_TEXT} (restored by norestore; not invited on this tenant): ${listed.join('; ')}`;
  }
  const rec = e.recurrence as { pattern?: Raw; range?: Raw } | null | undefined;
  return {
    subject: e.subject ?? '',
    body: { contentType: html ? 'html' : 'text', content },
    start: e.start,
    end: e.end,
    isAllDay: e.isAllDay ?? false,
    location: { displayName: e.location?.displayName ?? '' },
    ...(rec?.pattern && rec.range ? { recurrence: { pattern: rec.pattern, range: rec.range } } : { recurrence: null }),
    showAs: e.showAs ?? 'busy',
    sensitivity: e.sensitivity ?? 'normal',
    importance: e.importance ?? 'normal',
    categories: e.categories ?? [],
    isReminderOn: e.isReminderOn ?? true,
    reminderMinutesBeforeStart: e.reminderMinutesBeforeStart ?? 15,
    singleValueExtendedProperties: [
      { id: SOURCE_ID_PROP, value: sourceId },
      { id: ATTENDEES_PROP, value: JSON.stringify(attendeeList(e)) },
    ],
  };
}

/**
 * Update a standby event with only what differs: a meeting that has attendees (an original adopted
 * after a failover) would send them an update for a PATCH of its times, even an unchanged one.
 * Returns false when the event is gone.
 */
async function patchEvent(env: ImportEnv, standbyId: string, payload: Raw): Promise<boolean> {
  let cur: Raw;
  try {
    cur = await env.c.get<Raw>(`/users/${env.sid}/events/${standbyId}?$expand=singleValueExtendedProperties($filter=id eq '${SOURCE_ID_PROP}' or id eq '${ATTENDEES_PROP}')`, { Prefer: 'outlook.timezone="UTC"' });
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
  const norm = (k: string, v: unknown): string => {
    switch (k) {
      case 'body':
        return bodyText(stripAttendeeBlock(v as { contentType?: string; content?: string })) + '|' + JSON.stringify(attendeeBlock(v));
      case 'location':
        return String((v as { displayName?: string } | null)?.displayName ?? '');
      case 'recurrence':
        return JSON.stringify(normRecurrence(v));
      case 'categories':
        return JSON.stringify([...((v as string[] | null) ?? [])].sort());
      case 'start':
      case 'end':
        return instantOf((v as { dateTime?: string } | null)?.dateTime);
      default:
        return JSON.stringify(v ?? null);
    }
  };
  const change: Raw = {};
  for (const k of ['subject', 'body', 'isAllDay', 'location', 'recurrence', 'showAs', 'sensitivity', 'importance', 'categories', 'isReminderOn', 'reminderMinutesBeforeStart']) {
    if (k in payload && norm(k, payload[k]) !== norm(k, cur[k])) change[k] = payload[k];
  }
  if (norm('start', payload.start) !== norm('start', cur.start) || norm('end', payload.end) !== norm('end', cur.end)) {
    change.start = payload.start;
    change.end = payload.end;
  }
  const have = new Map(((cur.singleValueExtendedProperties as Array<{ id: string; value: string }> | undefined) ?? []).map((p) => [p.id.toLowerCase(), p.value]));
  const want = payload.singleValueExtendedProperties as Array<{ id: string; value: string }>;
  if (want.some((p) => have.get(p.id.toLowerCase()) !== p.value)) change.singleValueExtendedProperties = want;
  if (Object.keys(change).length) await env.c.patch(`/users/${env.sid}/events/${standbyId}`, change);
  return true;
}

function attendeeBlock(v: unknown): string {
  const content = (v as { content?: string } | null)?.content ?? '';
  const i = content.indexOf(ATTENDEE_MARK_HTML);
  const j = content.indexOf(ATTENDEE_MARK_TEXT);
  return i >= 0 ? content.slice(i) : j >= 0 ? content.slice(j) : '';
}

function instantOf(v: string | undefined): string {
  if (!v) return '';
  const s = v.replace(/(\.\d{3})\d*/, '$1');
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : v;
}

async function importCalendar(env: ImportEnv, records: ChangeRecord[], res: Result): Promise<void> {
  const { c, sid, ctx } = env;
  const adopt = new AdoptionIndex(env, K.event, 'id,subject,start,end', eventKey);
  await mapLimit(records.filter((r) => r.kind === K.event), 4, async (r) => {
    try {
      const entry = ctx.idMap.get(K.event, r.id);
      if (r.op === 'delete') {
        const standbyId = entry?.standbyId ?? (await adopt.find(`/users/${sid}/events`, r.id, null));
        if (standbyId) await ignore404(c.delete(`/users/${sid}/events/${standbyId}`));
        ctx.idMap.delete(K.event, r.id);
        res.deleted++;
        return;
      }
      if (entry?.version === r.version) {
        res.unchanged++;
        return;
      }
      const e = Event.parse(r.raw);
      const payload = eventPayload(r.id, e);
      let standbyId = entry?.standbyId ?? (await adopt.find(`/users/${sid}/events`, r.id, r.raw as Raw));
      if (standbyId && !(await patchEvent(env, standbyId, payload))) standbyId = undefined;
      if (!standbyId) {
        if (payload.recurrence === null) delete payload.recurrence;
        standbyId = (await c.post<{ id: string }>(`/users/${sid}/events`, payload)).id;
      }
      ctx.idMap.set(K.event, r.id, { standbyId, version: r.version });
      res.imported++;
      ctx.progress({ items: 1 });
    } catch (err) {
      res.fail(r, err);
    }
  });
}

// ---- contacts -----------------------------------------------------------------------------------

async function importContacts(env: ImportEnv, records: ChangeRecord[], res: Result): Promise<void> {
  const { c, sid, ctx } = env;
  const adopt = new AdoptionIndex(env, K.contact, 'id,displayName,emailAddresses', contactKey);
  const listOf = (standbyFolder: string) => (standbyFolder === 'default' ? `/users/${sid}/contacts` : `/users/${sid}/contactFolders/${standbyFolder}/contacts`);
  const childrenOf = (standbyParent: string) =>
    listAll<{ id: string; displayName?: string }>(c, standbyParent === 'default' ? `/users/${sid}/contactFolders?$top=250` : `/users/${sid}/contactFolders/${standbyParent}/childFolders?$top=250`);
  for (const r of depthOrder(records.filter((x) => x.kind === K.contactFolder && x.op === 'upsert'))) {
    try {
      const entry = ctx.idMap.get(K.contactFolder, r.id);
      if (entry?.version === r.version) {
        res.unchanged++;
        continue;
      }
      const raw = (r.raw ?? {}) as Raw;
      if (raw[NR.isDefault]) {
        ctx.idMap.set(K.contactFolder, r.id, { standbyId: 'default', version: r.version });
        res.imported++;
        continue;
      }
      const name = String(raw.displayName ?? 'Contacts');
      const parent = r.parent ? ctx.idMap.get(K.contactFolder, r.parent)?.standbyId : undefined;
      if (!parent) throw new Error(`contact folder "${name}": its parent folder ${r.parent ?? '?'} is not on the standby; it is retried with the next import`);
      let standbyId = entry?.standbyId;
      if (standbyId) {
        try {
          await c.patch(`/users/${sid}/contactFolders/${standbyId}`, { displayName: name });
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          standbyId = undefined;
        }
      }
      if (!standbyId) {
        standbyId = (await childrenOf(parent)).find((f) => (f.displayName ?? '').toLowerCase() === name.toLowerCase())?.id;
        if (!standbyId) {
          const url = parent === 'default' ? `/users/${sid}/contactFolders` : `/users/${sid}/contactFolders/${parent}/childFolders`;
          standbyId = (await c.post<{ id: string }>(url, { displayName: name })).id;
        }
      }
      ctx.idMap.set(K.contactFolder, r.id, { standbyId, version: r.version });
      res.imported++;
    } catch (err) {
      res.fail(r, err);
    }
  }
  await mapLimit(records.filter((x) => x.kind === K.contact), 4, async (r) => {
    try {
      const entry = ctx.idMap.get(K.contact, r.id);
      const folder = r.parent ? ctx.idMap.get(K.contactFolder, r.parent)?.standbyId : undefined;
      if (r.op === 'delete') {
        const standbyId = entry?.standbyId ?? (folder ? await adopt.find(listOf(folder), r.id, null) : undefined);
        if (standbyId) await ignore404(c.delete(`/users/${sid}/contacts/${standbyId}`));
        ctx.idMap.delete(K.contact, r.id);
        res.deleted++;
        return;
      }
      if (entry?.version === r.version) {
        res.unchanged++;
        return;
      }
      const raw = Contact.parse(r.raw) as Raw;
      if (!folder) throw new Error(`contact ${String(raw.displayName ?? r.id)}: its folder ${r.parent ?? '?'} is not on the standby; it is retried with the next import`);
      const payload: Raw = { singleValueExtendedProperties: [{ id: SOURCE_ID_PROP, value: r.id }] };
      for (const f of CONTACT_FIELDS) if (raw[f] !== undefined) payload[f] = raw[f];
      let standbyId = entry?.standbyId ?? (await adopt.find(listOf(folder), r.id, raw));
      if (standbyId) {
        try {
          await c.patch(`/users/${sid}/contacts/${standbyId}`, payload);
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          standbyId = undefined;
        }
      }
      if (!standbyId) standbyId = (await c.post<{ id: string }>(folder === 'default' ? `/users/${sid}/contacts` : `/users/${sid}/contactFolders/${folder}/contacts`, payload)).id;
      ctx.idMap.set(K.contact, r.id, { standbyId, version: r.version });
      res.imported++;
      ctx.progress({ items: 1 });
    } catch (err) {
      res.fail(r, err);
    }
  });
  for (const r of depthOrder(records.filter((x) => x.kind === K.contactFolder && x.op === 'delete')).reverse()) {
    try {
      const entry = ctx.idMap.get(K.contactFolder, r.id);
      if (entry && entry.standbyId !== 'default') await ignore404(c.delete(`/users/${sid}/contactFolders/${entry.standbyId}`));
      ctx.idMap.delete(K.contactFolder, r.id);
      res.deleted++;
    } catch (err) {
      res.fail(r, err);
    }
  }
}

export async function importScope(kind: ScopeKind, env: ImportEnv, records: ChangeRecord[]): Promise<ImportResult> {
  const res = new Result();
  switch (kind) {
    case 'directory':
      // Users are mapped by identity, not created: the standby's users are the tenant admin's to provision.
      res.unchanged += records.length;
      break;
    case 'mail':
      await importMail(env, records, res);
      break;
    case 'drive':
      await importDrive(env, records, res);
      break;
    case 'calendar':
      await importCalendar(env, records, res);
      break;
    case 'contacts':
      await importContacts(env, records, res);
      break;
  }
  return res.done();
}
