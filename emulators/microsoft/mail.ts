/**
 * Outlook mail: folders (list, child folders, delta), messages (list, delta per folder, get, MIME by
 * $value, create from JSON with singleValueExtendedProperties, update, move, delete) and
 * attachments (fileAttachment inline in JSON, or an upload session for large ones).
 *
 * Creation follows Exchange: a message created through the API is a draft unless
 * PR_MESSAGE_FLAGS (`Integer 0x0E07`) says otherwise (MSGFLAG_UNSENT = 8 not set; MSGFLAG_READ = 1);
 * receivedDateTime and sentDateTime in the body are ignored, PR_MESSAGE_DELIVERY_TIME
 * (`SystemTime 0x0E06`) and PR_CLIENT_SUBMIT_TIME (`SystemTime 0x0039`) set them.
 */
import { createHash } from 'node:crypto';
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import {
  type ApiRequest, type ApiResponse, type DeltaEntry, type RouteDef, GraphApiError, badRequest, created, deltaPage, expandedExtendedIds,
  jsonBody, listPage, noContent, notFound, ok, parseFilter, renderExtended, syncStateNotFound,
} from './http.js';
import { buildMime } from './mime.js';
import type { AttachmentState, Mailbox, MailFolderState, MessageState, Recipient, TenantState, UserState } from './state.js';
import type { UploadSessions } from './uploads.js';

export const PR_MESSAGE_FLAGS = 'integer 0x0e07';
export const PR_MESSAGE_DELIVERY_TIME = 'systemtime 0x0e06';
export const PR_CLIENT_SUBMIT_TIME = 'systemtime 0x0039';
const MSGFLAG_READ = 1;
const MSGFLAG_UNSENT = 8;

/** 'Integer 0xE07' and 'Integer 0x0E07' name the same tag; named properties compare case-insensitively. */
export function normalizePropId(id: string): string {
  const tag = /^(\w+)\s+0x([0-9a-f]+)$/i.exec(id.trim());
  if (tag) return `${(tag[1] as string).toLowerCase()} 0x${(tag[2] as string).toLowerCase().padStart(4, '0')}`;
  return id.trim().replace(/\s+/g, ' ').toLowerCase();
}

function extGet(ext: Map<string, string>, id: string): string | undefined {
  const want = normalizePropId(id);
  for (const [k, v] of ext) if (normalizePropId(k) === want) return v;
  return undefined;
}

function textOf(body: { contentType: string; content: string }): string {
  const t = body.contentType === 'html' ? body.content.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>') : body.content;
  return t.replace(/\s+/g, ' ').trim();
}

function renderFolder(mb: Mailbox, f: MailFolderState): MSGraph.MailFolder & Record<string, unknown> {
  const msgs = [...mb.messages.values()].filter((m) => m.folderId === f.id);
  return {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: f.parentFolderId,
    childFolderCount: [...mb.folders.values()].filter((c) => c.parentFolderId === f.id).length,
    unreadItemCount: msgs.filter((m) => !m.isRead).length,
    totalItemCount: msgs.length,
    sizeInBytes: 0,
    isHidden: f.isHidden,
  };
}

export function renderMessage(req: ApiRequest, u: UserState, m: MessageState): MSGraph.Message & Record<string, unknown> {
  const out: MSGraph.Message & Record<string, unknown> = {
    '@odata.etag': `W/"${m.changeKey}"`,
    id: m.id,
    createdDateTime: m.createdDateTime,
    lastModifiedDateTime: m.lastModifiedDateTime,
    changeKey: m.changeKey,
    categories: [...m.categories],
    receivedDateTime: m.receivedDateTime,
    sentDateTime: m.sentDateTime,
    hasAttachments: m.attachments.some((a) => !a.isInline),
    internetMessageId: m.internetMessageId,
    subject: m.subject,
    bodyPreview: textOf(m.body).slice(0, 255),
    importance: m.importance,
    parentFolderId: m.folderId,
    conversationId: m.conversationId,
    conversationIndex: Buffer.from(createHash('sha256').update(m.conversationId).digest().subarray(0, 22)).toString('base64'),
    isDeliveryReceiptRequested: m.isDeliveryReceiptRequested,
    isReadReceiptRequested: m.isReadReceiptRequested,
    isRead: m.isRead,
    isDraft: m.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: m.inferenceClassification,
    body: { ...m.body },
    ...(m.sender ? { sender: m.sender } : {}),
    ...(m.from ? { from: m.from } : {}),
    toRecipients: m.toRecipients,
    ccRecipients: m.ccRecipients,
    bccRecipients: m.bccRecipients,
    replyTo: m.replyTo,
    flag: { ...m.flag },
  };
  const select = req.query.get('$select');
  if (select && /internetMessageHeaders/i.test(select)) out.internetMessageHeaders = m.internetMessageHeaders;
  Object.assign(out, renderExtended(m.extended, expandedExtendedIds(req.query)));
  void u;
  return out;
}

function renderAttachment(a: AttachmentState, withContent: boolean): MSGraph.FileAttachment & Record<string, unknown> {
  const out: MSGraph.FileAttachment & Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': a.contentType,
    id: a.id,
    lastModifiedDateTime: a.lastModifiedDateTime,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    isInline: a.isInline,
    contentId: a.contentId,
    contentLocation: null,
  };
  if (withContent) out.contentBytes = a.content.toString('base64');
  return out;
}

function mailbox(req: ApiRequest): { u: UserState; mb: Mailbox } {
  const u = req.user as UserState;
  return { u, mb: u.mailbox };
}

function folderOr404(t: TenantState, mb: Mailbox, id: string): MailFolderState {
  const f = t.folder(mb, id);
  if (!f) throw notFound('The specified folder could not be found in the store.', 'ErrorItemNotFound');
  return f;
}

function messageOr404(mb: Mailbox, id: string, folderId?: string): MessageState {
  const m = mb.messages.get(id);
  if (!m || (folderId !== undefined && m.folderId !== folderId)) throw notFound();
  return m;
}

function recipient(v: unknown, field: string): Recipient {
  const r = v as { emailAddress?: { name?: unknown; address?: unknown } } | null;
  if (!r || typeof r !== 'object' || !r.emailAddress || typeof r.emailAddress.address !== 'string') {
    throw badRequest(`Invalid recipient in ${field}: expected { "emailAddress": { "address": "..." } }.`, 'ErrorInvalidRecipients');
  }
  return { emailAddress: { name: typeof r.emailAddress.name === 'string' ? r.emailAddress.name : r.emailAddress.address, address: r.emailAddress.address } };
}

function recipients(v: unknown, field: string): Recipient[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`${field} must be a collection of recipients.`, 'RequestBodyRead');
  return v.map((x) => recipient(x, field));
}

function readExtended(v: unknown): Map<string, string> {
  const ext = new Map<string, string>();
  if (v === undefined || v === null) return ext;
  if (!Array.isArray(v)) throw badRequest('singleValueExtendedProperties must be a collection.', 'RequestBodyRead');
  for (const p of v as Array<{ id?: unknown; value?: unknown }>) {
    if (typeof p?.id !== 'string' || typeof p.value !== 'string') throw badRequest('An extended property needs a string id and a string value.', 'ErrorInvalidExtendedProperty');
    if (!/^(\w+\s+0x[0-9a-f]+|\w+\s+\{[0-9a-f-]{36}\}\s+(name|id)\s+.+)$/i.test(p.id.trim())) {
      throw badRequest(`The extended property id '${p.id}' is not valid: use '{type} {proptag}' or '{type} {guid} Name {name}'.`, 'ErrorInvalidExtendedProperty');
    }
    ext.set(p.id, p.value);
  }
  return ext;
}

function systemTime(v: string | undefined, field: string): string | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw badRequest(`The value '${v}' of extended property ${field} is not a valid SystemTime.`, 'ErrorInvalidExtendedPropertyValue');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readAttachmentInput(t: TenantState, a: Record<string, unknown>): AttachmentState {
  const type = a['@odata.type'];
  if (type !== '#microsoft.graph.fileAttachment') throw badRequest(`Attachment type ${String(type)} is not supported here: use #microsoft.graph.fileAttachment.`, 'ErrorInvalidAttachmentType');
  if (typeof a.name !== 'string' || !a.name) throw badRequest('fileAttachment.name is required.', 'ErrorInvalidProperty');
  if (typeof a.contentBytes !== 'string') throw badRequest('fileAttachment.contentBytes is required.', 'ErrorInvalidProperty');
  const content = Buffer.from(a.contentBytes, 'base64');
  if (content.length > 3 * 1024 * 1024) {
    throw new GraphApiError(413, 'ErrorAttachmentSizeLimitExceeded', 'The attachment is larger than 3 MB: attach it through an upload session (attachments/createUploadSession).');
  }
  return {
    id: t.newId('AAMk'), name: a.name, contentType: typeof a.contentType === 'string' ? a.contentType : 'application/octet-stream', size: content.length,
    isInline: a.isInline === true, contentId: typeof a.contentId === 'string' ? a.contentId : null, lastModifiedDateTime: t.iso(), content,
  };
}

function conversationIdFor(subject: string): string {
  return 'AAQk' + createHash('sha256').update(subject.replace(/^((re|fw|fwd|aw|wg):\s*)+/i, '').trim().toLowerCase()).digest('base64url').slice(0, 40);
}

function createMessage(req: ApiRequest, folder: MailFolderState): ApiResponse {
  const t = req.tenant;
  const { u, mb } = mailbox(req);
  const b = jsonBody(req);
  const ext = readExtended(b.singleValueExtendedProperties);
  const flagsText = extGet(ext, PR_MESSAGE_FLAGS);
  let isDraft = true;
  let isRead: boolean = typeof b.isRead === 'boolean' ? b.isRead : true;
  if (flagsText !== undefined) {
    const flags = Number(flagsText);
    if (!Number.isInteger(flags)) throw badRequest(`The value '${flagsText}' of extended property Integer 0x0E07 is not an integer.`, 'ErrorInvalidExtendedPropertyValue');
    isDraft = (flags & MSGFLAG_UNSENT) !== 0;
    if (typeof b.isRead !== 'boolean') isRead = (flags & MSGFLAG_READ) !== 0;
  }
  const received = systemTime(extGet(ext, PR_MESSAGE_DELIVERY_TIME), 'SystemTime 0x0E06') ?? t.iso();
  const sent = systemTime(extGet(ext, PR_CLIENT_SUBMIT_TIME), 'SystemTime 0x0039') ?? (isDraft ? null : received);
  const owner: Recipient = { emailAddress: { name: u.displayName, address: u.mail } };
  const bodyIn = b.body as { contentType?: unknown; content?: unknown } | undefined;
  const body = { contentType: (String(bodyIn?.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text') as 'html' | 'text', content: typeof bodyIn?.content === 'string' ? bodyIn.content : '' };
  const subject = typeof b.subject === 'string' ? b.subject : '';
  const from = b.from !== undefined && b.from !== null ? recipient(b.from, 'from') : isDraft ? null : owner;
  const importance = b.importance === 'low' || b.importance === 'high' ? b.importance : 'normal';
  const flag = (b.flag as { flagStatus?: string } | undefined)?.flagStatus;
  const attachments = Array.isArray(b.attachments) ? (b.attachments as Record<string, unknown>[]).map((a) => readAttachmentInput(t, a)) : [];
  const internetMessageId = typeof b.internetMessageId === 'string' && b.internetMessageId ? b.internetMessageId : `<${t.newId('')}@${u.mail.split('@')[1] ?? 'example.com'}>`;
  const m = t.addMessage(mb, folder.id, {
    receivedDateTime: received,
    sentDateTime: sent,
    subject,
    body,
    from,
    sender: b.sender !== undefined && b.sender !== null ? recipient(b.sender, 'sender') : from,
    toRecipients: recipients(b.toRecipients, 'toRecipients'),
    ccRecipients: recipients(b.ccRecipients, 'ccRecipients'),
    bccRecipients: recipients(b.bccRecipients, 'bccRecipients'),
    replyTo: recipients(b.replyTo, 'replyTo'),
    internetMessageId,
    conversationId: conversationIdFor(subject),
    importance,
    isRead,
    isDraft,
    isDeliveryReceiptRequested: b.isDeliveryReceiptRequested === true,
    isReadReceiptRequested: b.isReadReceiptRequested === true,
    flag: { flagStatus: flag === 'flagged' || flag === 'complete' ? flag : 'notFlagged' },
    categories: Array.isArray(b.categories) ? (b.categories as unknown[]).map(String) : [],
    inferenceClassification: b.inferenceClassification === 'other' ? 'other' : 'focused',
    internetMessageHeaders: [],
    attachments,
    extended: ext,
  });
  return created(renderMessage(req, u, m));
}

function updateMessage(req: ApiRequest, m: MessageState): ApiResponse {
  const t = req.tenant;
  const b = jsonBody(req);
  const draftOnly = ['subject', 'body', 'from', 'sender', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'internetMessageId'];
  for (const k of draftOnly) {
    if (k in b && !m.isDraft) throw badRequest(`Update operation is invalid for property '${k}' of a sent message.`, 'ErrorInvalidPropertyUpdateSentMessage');
  }
  if (typeof b.isRead === 'boolean') m.isRead = b.isRead;
  if (Array.isArray(b.categories)) m.categories = (b.categories as unknown[]).map(String);
  if (b.importance === 'low' || b.importance === 'normal' || b.importance === 'high') m.importance = b.importance;
  const fs = (b.flag as { flagStatus?: string } | undefined)?.flagStatus;
  if (fs === 'notFlagged' || fs === 'flagged' || fs === 'complete') m.flag = { flagStatus: fs };
  if (b.inferenceClassification === 'focused' || b.inferenceClassification === 'other') m.inferenceClassification = b.inferenceClassification;
  if (typeof b.subject === 'string') {
    m.subject = b.subject;
    m.conversationId = conversationIdFor(b.subject);
  }
  const bodyIn = b.body as { contentType?: unknown; content?: unknown } | undefined;
  if (bodyIn && typeof bodyIn.content === 'string') m.body = { contentType: String(bodyIn.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text', content: bodyIn.content };
  if (b.toRecipients !== undefined) m.toRecipients = recipients(b.toRecipients, 'toRecipients');
  if (b.ccRecipients !== undefined) m.ccRecipients = recipients(b.ccRecipients, 'ccRecipients');
  if (b.bccRecipients !== undefined) m.bccRecipients = recipients(b.bccRecipients, 'bccRecipients');
  if (b.singleValueExtendedProperties !== undefined) {
    for (const [k, v] of readExtended(b.singleValueExtendedProperties)) {
      if (normalizePropId(k) === PR_MESSAGE_FLAGS && !m.isDraft === ((Number(v) & MSGFLAG_UNSENT) !== 0)) {
        throw badRequest('PR_MESSAGE_FLAGS can only be set when the item is created.', 'ErrorInvalidPropertyUpdateSentMessage');
      }
      m.extended.set(k, v);
    }
  }
  t.touchMessage(m);
  return ok(renderMessage(req, req.user as UserState, m));
}

function messagesDelta(req: ApiRequest, folder: MailFolderState): ApiResponse {
  const { u, mb } = mailbox(req);
  return deltaPage(req, {
    collection: `messages:${u.id}:${folder.id}`,
    defaultPageSize: 10,
    maxPageSize: 1000,
    tokenParam: '$deltatoken',
    expired: syncStateNotFound,
    entries: (since, upto, full) => {
      const out: DeltaEntry[] = [];
      for (const m of mb.messages.values()) {
        if (m.folderId === folder.id && m.seq > since && m.seq <= upto) out.push({ seq: m.seq, id: m.id, render: () => renderMessage(req, u, m) });
      }
      if (!full) {
        for (const x of mb.messageTombstones) {
          if (x.folderId === folder.id && x.seq > since && x.seq <= upto) out.push({ seq: x.seq, id: x.id, render: () => ({ '@odata.type': '#microsoft.graph.message', id: x.id, '@removed': { reason: 'deleted' } }) });
        }
      }
      return out;
    },
  });
}

function foldersDelta(req: ApiRequest): ApiResponse {
  const { u, mb } = mailbox(req);
  return deltaPage(req, {
    collection: `mailFolders:${u.id}`,
    defaultPageSize: 100,
    tokenParam: '$deltatoken',
    expired: syncStateNotFound,
    entries: (since, upto, full) => {
      const out: DeltaEntry[] = [];
      for (const f of mb.folders.values()) {
        if (f.parentFolderId !== null && f.seq > since && f.seq <= upto) out.push({ seq: f.seq, id: f.id, render: () => renderFolder(mb, f) });
      }
      if (!full) {
        for (const x of mb.folderTombstones) if (x.seq > since && x.seq <= upto) out.push({ seq: x.seq, id: x.id, render: () => ({ id: x.id, '@removed': { reason: 'deleted' } }) });
      }
      return out;
    },
  });
}

function listMessages(req: ApiRequest, folderId: string | null): ApiResponse {
  const { u, mb } = mailbox(req);
  const pred = parseFilter(req.query.get('$filter'));
  let items = [...mb.messages.values()].filter((m) => folderId === null || m.folderId === folderId);
  if (pred) items = items.filter((m) => pred({ ext: m.extended, props: { internetMessageId: m.internetMessageId, subject: m.subject, id: m.id } }));
  items.sort((a, b) => (a.receivedDateTime < b.receivedDateTime ? 1 : a.receivedDateTime > b.receivedDateTime ? -1 : a.id < b.id ? -1 : 1));
  return listPage(req, items, (m) => renderMessage(req, u, m), 10, 1000);
}

function createFolder(req: ApiRequest, parent: MailFolderState): ApiResponse {
  const t = req.tenant;
  const { mb } = mailbox(req);
  const b = jsonBody(req);
  if (typeof b.displayName !== 'string' || !b.displayName.trim()) throw badRequest('displayName is required for a mail folder.', 'ErrorInvalidProperty');
  const name = b.displayName;
  for (const f of mb.folders.values()) {
    if (f.parentFolderId === parent.id && f.displayName.toLowerCase() === name.toLowerCase()) {
      throw new GraphApiError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
  }
  const f = t.addFolder(mb, parent.id, name, b.isHidden === true);
  return created(renderFolder(mb, f));
}

export function mailRoutes(uploads: UploadSessions): RouteDef[] {
  const R = (method: string, path: string, handler: RouteDef['handler'], extra: Partial<RouteDef> = {}): RouteDef => ({ method, path, handler, mailbox: true, ...extra });
  const folderParam = (req: ApiRequest) => folderOr404(req.tenant, mailbox(req).mb, req.params.folder as string);
  const getMsg = (req: ApiRequest) => messageOr404(mailbox(req).mb, req.params.message as string, req.params.folder ? folderParam(req).id : undefined);
  const routes: RouteDef[] = [
    R('GET', '/users/{user}/mailFolders', (req) => {
      const { mb } = mailbox(req);
      const hidden = req.query.get('includeHiddenFolders') === 'true';
      const items = [...mb.folders.values()].filter((f) => f.parentFolderId === mb.rootFolderId && (hidden || !f.isHidden));
      return listPage(req, items, (f) => renderFolder(mb, f), 10, 1000);
    }),
    R('POST', '/users/{user}/mailFolders', (req) => createFolder(req, folderOr404(req.tenant, mailbox(req).mb, 'msgfolderroot'))),
    R('GET', '/users/{user}/mailFolders/delta', foldersDelta),
    R('GET', '/users/{user}/mailFolders/{folder}', (req) => ok(renderFolder(mailbox(req).mb, folderParam(req)))),
    R('PATCH', '/users/{user}/mailFolders/{folder}', (req) => {
      const f = folderParam(req);
      const b = jsonBody(req);
      if (typeof b.displayName === 'string' && b.displayName.trim()) {
        if (f.wellKnownName) throw new GraphApiError(403, 'ErrorCannotRenameDistinguishedFolder', 'Distinguished folders cannot be renamed.');
        f.displayName = b.displayName;
      }
      req.tenant.touchFolder(f);
      return ok(renderFolder(mailbox(req).mb, f));
    }),
    R('DELETE', '/users/{user}/mailFolders/{folder}', (req) => {
      const f = folderParam(req);
      if (f.wellKnownName) throw new GraphApiError(403, 'ErrorDeleteDistinguishedFolder', 'Distinguished folders cannot be deleted.');
      req.tenant.deleteFolder(mailbox(req).mb, f.id);
      return noContent();
    }),
    R('POST', '/users/{user}/mailFolders/{folder}/move', (req) => {
      const { mb } = mailbox(req);
      const f = folderParam(req);
      if (f.wellKnownName) throw new GraphApiError(403, 'ErrorMoveDistinguishedFolder', 'Distinguished folders cannot be moved.');
      const b = jsonBody(req);
      if (typeof b.destinationId !== 'string') throw badRequest('destinationId is required.', 'ErrorInvalidProperty');
      const dest = folderOr404(req.tenant, mb, b.destinationId);
      for (let p: MailFolderState | undefined = dest; p; p = p.parentFolderId ? mb.folders.get(p.parentFolderId) : undefined) {
        if (p.id === f.id) throw badRequest('A folder cannot be moved into itself or one of its subfolders.', 'ErrorMoveCopyFailed');
      }
      if ([...mb.folders.values()].some((x) => x.parentFolderId === dest.id && x.id !== f.id && x.displayName.toLowerCase() === f.displayName.toLowerCase())) {
        throw new GraphApiError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
      }
      f.parentFolderId = dest.id;
      req.tenant.touchFolder(f);
      return created(renderFolder(mb, f));
    }),
    R('GET', '/users/{user}/mailFolders/{folder}/childFolders', (req) => {
      const { mb } = mailbox(req);
      const parent = folderParam(req);
      const hidden = req.query.get('includeHiddenFolders') === 'true';
      return listPage(req, [...mb.folders.values()].filter((f) => f.parentFolderId === parent.id && (hidden || !f.isHidden)), (f) => renderFolder(mb, f), 10, 1000);
    }),
    R('POST', '/users/{user}/mailFolders/{folder}/childFolders', (req) => createFolder(req, folderParam(req))),
    R('GET', '/users/{user}/mailFolders/{folder}/messages/delta', (req) => messagesDelta(req, folderParam(req))),
    R('GET', '/users/{user}/mailFolders/{folder}/messages', (req) => listMessages(req, folderParam(req).id)),
    R('POST', '/users/{user}/mailFolders/{folder}/messages', (req) => createMessage(req, folderParam(req))),
    R('GET', '/users/{user}/messages', (req) => listMessages(req, null)),
    R('POST', '/users/{user}/messages', (req) => createMessage(req, folderOr404(req.tenant, mailbox(req).mb, 'drafts'))),
  ];
  for (const base of ['/users/{user}/messages/{message}', '/users/{user}/mailFolders/{folder}/messages/{message}']) {
    routes.push(
      R('GET', base, (req) => ok(renderMessage(req, req.user as UserState, getMsg(req)))),
      R('PATCH', base, (req) => updateMessage(req, getMsg(req))),
      R('DELETE', base, (req) => {
        const m = getMsg(req);
        req.tenant.deleteMessage(mailbox(req).mb, m.id);
        return noContent();
      }),
      R('GET', `${base}/$value`, (req) => {
        const mime = buildMime(getMsg(req));
        return { status: 200, raw: { data: mime, contentType: 'text/plain', length: mime.length } };
      }),
      R('POST', `${base}/move`, (req) => {
        const m = getMsg(req);
        const b = jsonBody(req);
        if (typeof b.destinationId !== 'string') throw badRequest('destinationId is required.', 'ErrorInvalidProperty');
        const dest = folderOr404(req.tenant, mailbox(req).mb, b.destinationId);
        const moved = req.tenant.moveMessage(mailbox(req).mb, m.id, dest.id) as MessageState;
        return created(renderMessage(req, req.user as UserState, moved));
      }),
      R('GET', `${base}/attachments`, (req) => {
        const m = getMsg(req);
        return listPage(req, m.attachments, (a) => renderAttachment(a, true), 100, 1000);
      }),
      R('POST', `${base}/attachments`, (req) => {
        const m = getMsg(req);
        const a = readAttachmentInput(req.tenant, jsonBody(req));
        m.attachments.push(a);
        req.tenant.touchMessage(m);
        return created(renderAttachment(a, false));
      }),
      R('GET', `${base}/attachments/{attachment}`, (req) => {
        const a = getMsg(req).attachments.find((x) => x.id === req.params.attachment);
        if (!a) throw notFound('The attachment was not found.', 'ErrorItemNotFound');
        return ok(renderAttachment(a, true));
      }),
      R('DELETE', `${base}/attachments/{attachment}`, (req) => {
        const m = getMsg(req);
        const i = m.attachments.findIndex((x) => x.id === req.params.attachment);
        if (i < 0) throw notFound('The attachment was not found.', 'ErrorItemNotFound');
        m.attachments.splice(i, 1);
        req.tenant.touchMessage(m);
        return noContent();
      }),
      R('POST', `${base}/attachments/createUploadSession`, (req) => {
        const m = getMsg(req);
        const b = jsonBody(req);
        const item = b.AttachmentItem as { attachmentType?: string; name?: string; size?: number; contentType?: string; isInline?: boolean; contentId?: string } | undefined;
        if (!item || item.attachmentType !== 'file' || typeof item.name !== 'string' || typeof item.size !== 'number') {
          throw badRequest('AttachmentItem with attachmentType "file", name and size is required.', 'ErrorInvalidProperty');
        }
        if (item.size > 150 * 1024 * 1024) throw new GraphApiError(413, 'ErrorAttachmentSizeLimitExceeded', 'Attachments are limited to 150 MB.');
        const t = req.tenant;
        const mb = mailbox(req).mb;
        const session = uploads.open({
          kind: 'outlook',
          size: item.size,
          origin: req.origin,
          complete: async (content) => {
            const msg = mb.messages.get(m.id);
            if (!msg) throw notFound();
            const a: AttachmentState = {
              id: t.newId('AAMk'), name: item.name as string, contentType: item.contentType ?? 'application/octet-stream', size: content.length,
              isInline: item.isInline === true, contentId: item.contentId ?? null, lastModifiedDateTime: t.iso(), content,
            };
            msg.attachments.push(a);
            t.touchMessage(msg);
            return { status: 201, body: undefined, headers: { location: `${req.base}/users/${(req.user as UserState).id}/messages/${msg.id}/attachments/${a.id}` } };
          },
        });
        return created({ '@odata.context': `${req.base}/$metadata#microsoft.graph.uploadSession`, uploadUrl: session.url, expirationDateTime: session.expires, nextExpectedRanges: ['0-'] });
      }),
    );
  }
  return routes;
}
