/** Gmail API v1 handlers (users.getProfile, labels, messages, history). */
import type { gmail_v1 } from 'googleapis';
import { ApiError, badRequest, conflict, invalidParam, notFound } from './errors.js';
import { boolParam, intParam, json, noContent, pageToken, readPageToken, type EmulatorEnv, type Handler, type Req } from './http.js';
import { SYSTEM_LABELS, type Mailbox, type StoredMessage } from './mailbox.js';
import { hasAttachment, headerValue, plainText, type MimePart } from './mime.js';

function mailbox(req: Req, env: EmulatorEnv): Mailbox {
  const mb = env.state.mailboxes.get(req.user);
  if (!mb) throw new ApiError(400, 'Mail service not enabled', 'failedPrecondition');
  return mb;
}

function message(mb: Mailbox, id: string): StoredMessage {
  const m = mb.messages.get(id);
  if (!m) throw notFound();
  return m;
}

const IMPORT_FORBIDDEN = new Set(['DRAFT', 'CHAT']);

function checkLabels(mb: Mailbox, ids: unknown, field: string): string[] {
  if (ids === undefined || ids === null) return [];
  if (!Array.isArray(ids)) throw badRequest(`Invalid value at '${field}'`, 'invalidArgument');
  for (const id of ids) {
    if (typeof id !== 'string' || !mb.labels.has(id)) throw badRequest(`Invalid label: ${String(id)}`, 'invalidArgument');
  }
  return ids as string[];
}

function snippet(mb: Mailbox, m: StoredMessage): string {
  return plainText(mb.parsed(m)).replace(/\s+/g, ' ').trim().slice(0, 200);
}

function payload(part: MimePart, m: StoredMessage, metadataHeaders: string[] | null, withBodies: boolean): gmail_v1.Schema$MessagePart {
  const headers = metadataHeaders ? part.headers.filter((h) => metadataHeaders.includes(h.name.toLowerCase())) : part.headers;
  const out: gmail_v1.Schema$MessagePart = { partId: part.partId, mimeType: part.mimeType, filename: part.filename, headers };
  if (!withBodies) return out;
  const body: gmail_v1.Schema$MessagePartBody = { size: part.body.length };
  if (part.parts.length) body.size = 0;
  else if (part.filename) body.attachmentId = Buffer.from(`${m.id}:${part.partId}`).toString('base64url');
  else body.data = part.body.toString('base64url');
  out.body = body;
  if (part.parts.length) out.parts = part.parts.map((p) => payload(p, m, null, true));
  return out;
}

function render(mb: Mailbox, m: StoredMessage, format: string, metadataHeaders: string[] | null): gmail_v1.Schema$Message {
  const out: gmail_v1.Schema$Message = {
    id: m.id,
    threadId: m.threadId,
    labelIds: [...m.labelIds],
    snippet: format === 'minimal' ? undefined : snippet(mb, m),
    sizeEstimate: m.raw.length,
    historyId: String(m.historyId),
    internalDate: String(m.internalDate),
  };
  if (format === 'minimal') delete out.snippet;
  if (format === 'raw') out.raw = m.raw.toString('base64url');
  if (format === 'metadata') out.payload = payload(mb.parsed(m), m, metadataHeaders, false);
  if (format === 'full') out.payload = payload(mb.parsed(m), m, null, true);
  return out;
}

// Search (the `q` parameter): a practical subset of Gmail's operators --------------------------

interface Term {
  neg: boolean;
  test(mb: Mailbox, m: StoredMessage): boolean;
}

function normLabel(s: string): string {
  return s.toLowerCase().replace(/[\s/]+/g, '-');
}

function dateArg(v: string): number {
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(v);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  throw badRequest(`Invalid date in query: ${v}`, 'invalidArgument');
}

function relArg(v: string, now: number): number {
  const m = /^(\d+)([dmy])$/.exec(v);
  if (!m) throw badRequest(`Invalid relative date in query: ${v}`, 'invalidArgument');
  const n = Number(m[1]);
  const day = 86_400_000;
  return now - n * (m[2] === 'd' ? day : m[2] === 'm' ? 30 * day : 365 * day);
}

function parseQuery(q: string, now: number): Term[] {
  const terms: Term[] = [];
  const tokens = q.match(/-?(?:[a-zA-Z_]+:)?(?:"[^"]*"|\S+)/g) ?? [];
  for (let tok of tokens) {
    let neg = false;
    if (tok.startsWith('-')) {
      neg = true;
      tok = tok.slice(1);
    }
    const colon = tok.indexOf(':');
    const op = colon > 0 ? tok.slice(0, colon).toLowerCase() : '';
    let arg = colon > 0 ? tok.slice(colon + 1) : tok;
    if (arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1);
    const a = arg.toLowerCase();
    const header = (name: string) => (mb: Mailbox, m: StoredMessage) => (headerValue(mb.parsed(m).headers, name) ?? '').toLowerCase().includes(a);
    let test: Term['test'];
    switch (op) {
      case 'from': test = header('from'); break;
      case 'to': test = (mb, m) => ['to', 'cc', 'bcc'].some((h) => header(h)(mb, m)); break;
      case 'cc': test = header('cc'); break;
      case 'subject': test = header('subject'); break;
      case 'rfc822msgid': test = (_mb, m) => m.rfcId === a.replace(/^<|>$/g, ''); break;
      case 'label':
      case 'in': {
        test = (mb, m) => {
          if (a === 'anywhere') return true;
          for (const id of m.labelIds) {
            const l = mb.labels.get(id);
            if (l && (id.toLowerCase() === a || normLabel(l.name ?? '') === normLabel(a))) return true;
          }
          return false;
        };
        break;
      }
      case 'is': {
        const map: Record<string, (m: StoredMessage) => boolean> = {
          unread: (m) => m.labelIds.has('UNREAD'),
          read: (m) => !m.labelIds.has('UNREAD'),
          starred: (m) => m.labelIds.has('STARRED'),
          important: (m) => m.labelIds.has('IMPORTANT'),
        };
        const f = map[a];
        if (!f) throw badRequest(`Unsupported search operator is:${arg}`, 'invalidArgument');
        test = (_mb, m) => f(m);
        break;
      }
      case 'has':
        if (a !== 'attachment') throw badRequest(`Unsupported search operator has:${arg}`, 'invalidArgument');
        test = (mb, m) => hasAttachment(mb.parsed(m));
        break;
      case 'after': { const t = dateArg(a); test = (_mb, m) => m.internalDate >= t; break; }
      case 'before': { const t = dateArg(a); test = (_mb, m) => m.internalDate < t; break; }
      case 'newer_than': { const t = relArg(a, now); test = (_mb, m) => m.internalDate >= t; break; }
      case 'older_than': { const t = relArg(a, now); test = (_mb, m) => m.internalDate < t; break; }
      case '':
        test = (mb, m) => {
          const p = mb.parsed(m);
          return (headerValue(p.headers, 'subject') ?? '').toLowerCase().includes(a) || plainText(p).toLowerCase().includes(a);
        };
        break;
      default:
        throw badRequest(`Unsupported search operator ${op}: (the emulator serves from, to, cc, subject, rfc822msgid, label, in, is, has:attachment, after, before, newer_than, older_than and words)`, 'invalidArgument');
    }
    terms.push({ neg, test });
  }
  return terms;
}

// Handlers ---------------------------------------------------------------------------------------

const getProfile: Handler = (req, env) => {
  const mb = mailbox(req, env);
  return json(200, { emailAddress: mb.email, messagesTotal: mb.messages.size, threadsTotal: mb.threadCount(), historyId: String(mb.historyId) } satisfies gmail_v1.Schema$Profile);
};

const labelsList: Handler = (req, env) => {
  const mb = mailbox(req, env);
  return json(200, { labels: [...mb.labels.values()] } satisfies gmail_v1.Schema$ListLabelsResponse);
};

function labelWithCounts(mb: Mailbox, l: gmail_v1.Schema$Label): gmail_v1.Schema$Label {
  const msgs = [...mb.messages.values()].filter((m) => m.labelIds.has(l.id as string));
  const unread = msgs.filter((m) => m.labelIds.has('UNREAD'));
  const threads = (list: StoredMessage[]) => new Set(list.map((m) => m.threadId)).size;
  return { ...l, messagesTotal: msgs.length, messagesUnread: unread.length, threadsTotal: threads(msgs), threadsUnread: threads(unread) };
}

const labelsGet: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const l = mb.labels.get(req.params.id as string);
  if (!l) throw notFound();
  return json(200, labelWithCounts(mb, l));
};

const VISIBILITY = { messageListVisibility: ['show', 'hide'], labelListVisibility: ['labelShow', 'labelShowIfUnread', 'labelHide'] } as const;

function checkLabelBody(body: Record<string, unknown>): void {
  for (const [k, allowed] of Object.entries(VISIBILITY)) {
    const v = body[k];
    if (v !== undefined && !(allowed as readonly string[]).includes(v as string)) throw badRequest(`Invalid value at 'label.${k}' (${String(v)})`, 'invalidArgument');
  }
}

const labelsCreate: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const name = typeof req.body.name === 'string' ? req.body.name.trim() : '';
  if (!name) throw badRequest('Invalid label name', 'invalidArgument');
  checkLabelBody(req.body);
  if (mb.labelByName(name) || SYSTEM_LABELS.some((s) => s.id.toLowerCase() === name.toLowerCase())) throw conflict('Label name exists or conflicts');
  return json(200, mb.createLabel(req.body as gmail_v1.Schema$Label));
};

const labelsPatch: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const l = mb.labels.get(req.params.id as string);
  if (!l) throw notFound();
  if (l.type === 'system') throw badRequest('Invalid update request', 'invalidArgument');
  checkLabelBody(req.body);
  const name = req.body.name;
  if (typeof name === 'string') {
    const other = mb.labelByName(name.trim());
    if (other && other.id !== l.id) throw conflict('Label name exists or conflicts');
    l.name = name.trim();
  }
  if (req.body.messageListVisibility !== undefined) l.messageListVisibility = req.body.messageListVisibility as string;
  if (req.body.labelListVisibility !== undefined) l.labelListVisibility = req.body.labelListVisibility as string;
  if (req.body.color !== undefined) l.color = req.body.color as gmail_v1.Schema$LabelColor;
  return json(200, l);
};

const labelsDelete: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const l = mb.labels.get(req.params.id as string);
  if (!l) throw notFound();
  if (l.type === 'system') throw badRequest('Invalid delete request', 'invalidArgument');
  mb.deleteLabel(l.id as string);
  return noContent();
};

const messagesList: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const q = req.query;
  const max = intParam(q, 'maxResults', 100, 1, 500, true);
  const includeSpamTrash = boolParam(q, 'includeSpamTrash');
  const labelIds = q.getAll('labelIds');
  for (const l of labelIds) if (!mb.labels.has(l)) throw badRequest(`Invalid label: ${l}`, 'invalidArgument');
  const terms = parseQuery(q.get('q') ?? '', env.state.now());
  const fingerprint = JSON.stringify([labelIds, q.get('q') ?? '', includeSpamTrash]);
  const offset = readPageToken(q.get('pageToken'), fingerprint);
  const matched = [...mb.messages.values()]
    .filter((m) => includeSpamTrash || labelIds.includes('SPAM') || labelIds.includes('TRASH') || (!m.labelIds.has('SPAM') && !m.labelIds.has('TRASH')))
    .filter((m) => labelIds.every((l) => m.labelIds.has(l)))
    .filter((m) => terms.every((t) => t.test(mb, m) !== t.neg))
    .sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : -1));
  const page = matched.slice(offset, offset + max);
  const out: gmail_v1.Schema$ListMessagesResponse = { resultSizeEstimate: matched.length };
  if (page.length) out.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
  if (offset + max < matched.length) out.nextPageToken = pageToken(offset + max, fingerprint);
  return json(200, out);
};

const messagesGet: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const format = req.query.get('format') ?? 'full';
  if (!['minimal', 'full', 'raw', 'metadata'].includes(format)) throw invalidParam('format', format);
  const m = message(mb, req.params.id as string);
  const mh = req.query.getAll('metadataHeaders').map((h) => h.toLowerCase());
  return json(200, render(mb, m, format, format === 'metadata' && mh.length ? mh : null));
};

const attachmentsGet: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const m = message(mb, req.params.messageId as string);
  const [mid, partId] = Buffer.from(req.params.id as string, 'base64url').toString('utf8').split(':');
  if (mid !== m.id) throw notFound();
  const find = (p: MimePart): MimePart | undefined => (p.partId === partId ? p : p.parts.map(find).find(Boolean));
  const part = find(mb.parsed(m));
  if (!part) throw notFound();
  return json(200, { size: part.body.length, data: part.body.toString('base64url'), attachmentId: req.params.id } satisfies gmail_v1.Schema$MessagePartBody);
};

/** Date header of a message in epoch ms, or null when missing or unparsable. */
function dateHeader(mb: Mailbox, raw: Buffer): number | null {
  const tmp = { raw, parsed: undefined } as unknown as StoredMessage;
  const v = headerValue(mb.parsed(tmp).headers, 'date');
  const t = v ? Date.parse(v.replace(/\s+\([^)]*\)\s*$/, '')) : NaN;
  return Number.isFinite(t) ? t : null;
}

function importOrInsert(kind: 'import' | 'insert'): Handler {
  return async (req, env) => {
    const mb = mailbox(req, env);
    const up = req.upload;
    let raw: Buffer;
    if (up && up.content.size > 0) raw = await env.state.content.readAll(up.content);
    else if (typeof req.body.raw === 'string') raw = Buffer.from(req.body.raw, 'base64url');
    else throw badRequest("'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
    if (up) await env.state.content.release(up.content);
    if (!raw.length) throw badRequest('Message is empty.', 'invalidArgument');
    const labels = checkLabels(mb, req.body.labelIds, 'labelIds');
    for (const l of labels) if (IMPORT_FORBIDDEN.has(l)) throw badRequest(`Invalid label: ${l}`, 'invalidArgument');
    const sourceParam = req.query.get('internalDateSource') ?? (kind === 'import' ? 'dateHeader' : 'receivedTime');
    if (sourceParam !== 'dateHeader' && sourceParam !== 'receivedTime') throw invalidParam('internalDateSource', sourceParam);
    const received = env.state.now();
    const internalDate = sourceParam === 'dateHeader' ? (dateHeader(mb, raw) ?? received) : received;
    const labelSet = new Set(labels);
    if (kind === 'import' && !boolParam(req.query, 'neverMarkSpam')) {
      // Import runs normal delivery classification: flagged spam lands in SPAM.
      const tmp = { raw } as unknown as StoredMessage;
      if ((headerValue(mb.parsed(tmp).headers, 'x-spam-flag') ?? '').toUpperCase() === 'YES') {
        labelSet.delete('INBOX');
        labelSet.add('SPAM');
      }
    }
    const m = mb.add(raw, [...labelSet], internalDate);
    return json(200, { id: m.id, threadId: m.threadId, labelIds: [...m.labelIds] } satisfies gmail_v1.Schema$Message);
  };
}

const messagesDelete: Handler = (req, env) => {
  const mb = mailbox(req, env);
  message(mb, req.params.id as string);
  mb.delete(req.params.id as string);
  return noContent();
};

const messagesModify: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const m = message(mb, req.params.id as string);
  const add = checkLabels(mb, req.body.addLabelIds, 'addLabelIds');
  const remove = checkLabels(mb, req.body.removeLabelIds, 'removeLabelIds');
  for (const l of add) if (IMPORT_FORBIDDEN.has(l)) throw badRequest(`Invalid label: ${l}`, 'invalidArgument');
  mb.modify(m.id, add, remove);
  return json(200, render(mb, m, 'minimal', null));
};

const messagesTrash: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const m = message(mb, req.params.id as string);
  mb.modify(m.id, ['TRASH'], []);
  return json(200, render(mb, m, 'minimal', null));
};

const messagesUntrash: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const m = message(mb, req.params.id as string);
  mb.modify(m.id, [], ['TRASH']);
  return json(200, render(mb, m, 'minimal', null));
};

const HISTORY_TYPES = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

const historyList: Handler = (req, env) => {
  const mb = mailbox(req, env);
  const q = req.query;
  const startText = q.get('startHistoryId');
  if (!startText) throw badRequest('Missing startHistoryId', 'invalidArgument', 'startHistoryId');
  if (!/^\d+$/.test(startText)) throw invalidParam('startHistoryId', startText);
  const start = Number(startText);
  const types = q.getAll('historyTypes');
  for (const t of types) if (!HISTORY_TYPES.includes(t)) throw invalidParam('historyTypes', t);
  const labelId = q.get('labelId');
  const max = intParam(q, 'maxResults', 100, 1, 500, true);
  const records = mb.historySince(start);
  if (!records) throw notFound();
  const fingerprint = JSON.stringify([start, types, labelId]);
  const offset = readPageToken(q.get('pageToken'), fingerprint);
  const selected = records.filter((r) => (!types.length || types.includes(r.type)) && (!labelId || r.message.labelIds.includes(labelId) || (r.labelIds ?? []).includes(labelId)));
  const page = selected.slice(offset, offset + max);
  const history: gmail_v1.Schema$History[] = page.map((r) => {
    const msg = { id: r.message.id, threadId: r.message.threadId, labelIds: r.message.labelIds };
    const h: gmail_v1.Schema$History = { id: String(r.id), messages: [{ id: r.message.id, threadId: r.message.threadId }] };
    if (r.type === 'messageAdded') h.messagesAdded = [{ message: msg }];
    if (r.type === 'messageDeleted') h.messagesDeleted = [{ message: msg }];
    if (r.type === 'labelAdded') h.labelsAdded = [{ message: msg, labelIds: r.labelIds ?? [] }];
    if (r.type === 'labelRemoved') h.labelsRemoved = [{ message: msg, labelIds: r.labelIds ?? [] }];
    return h;
  });
  const out: gmail_v1.Schema$ListHistoryResponse = { historyId: String(Math.max(mb.historyId, start)) };
  if (history.length) out.history = history;
  if (offset + max < selected.length) out.nextPageToken = pageToken(offset + max, fingerprint);
  return json(200, out);
};

export const gmailHandlers: Record<string, Handler> = {
  'gmail.users.getProfile': getProfile,
  'gmail.users.labels.list': labelsList,
  'gmail.users.labels.get': labelsGet,
  'gmail.users.labels.create': labelsCreate,
  'gmail.users.labels.patch': labelsPatch,
  'gmail.users.labels.delete': labelsDelete,
  'gmail.users.messages.list': messagesList,
  'gmail.users.messages.get': messagesGet,
  'gmail.users.messages.attachments.get': attachmentsGet,
  'gmail.users.messages.import': importOrInsert('import'),
  'gmail.users.messages.insert': importOrInsert('insert'),
  'gmail.users.messages.delete': messagesDelete,
  'gmail.users.messages.modify': messagesModify,
  'gmail.users.messages.trash': messagesTrash,
  'gmail.users.messages.untrash': messagesUntrash,
  'gmail.users.history.list': historyList,
};
