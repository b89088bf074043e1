/**
 * One Gmail mailbox: labels, messages (raw MIME kept byte for byte), and the history log that
 * history.list pages through. History ids increase with every change; records older than the
 * retention floor are gone, and a startHistoryId below it answers 404 (the client must resync).
 */
import type { gmail_v1 } from 'googleapis';
import { headerValue, parseHeaderBlock, parseMime, splitHeaderBody, type MimePart } from './mime.js';

export const SYSTEM_LABELS: ReadonlyArray<{ id: string; list?: 'labelShow' | 'labelHide' | 'labelShowIfUnread'; msgs?: 'show' | 'hide' }> = [
  { id: 'CHAT', list: 'labelHide', msgs: 'hide' },
  { id: 'SENT' },
  { id: 'INBOX' },
  { id: 'IMPORTANT', list: 'labelHide', msgs: 'hide' },
  { id: 'TRASH', list: 'labelHide', msgs: 'hide' },
  { id: 'DRAFT' },
  { id: 'SPAM', list: 'labelHide', msgs: 'hide' },
  { id: 'CATEGORY_FORUMS', list: 'labelHide', msgs: 'hide' },
  { id: 'CATEGORY_UPDATES', list: 'labelHide', msgs: 'hide' },
  { id: 'CATEGORY_PERSONAL', list: 'labelHide', msgs: 'hide' },
  { id: 'CATEGORY_PROMOTIONS', list: 'labelHide', msgs: 'hide' },
  { id: 'CATEGORY_SOCIAL', list: 'labelHide', msgs: 'hide' },
  { id: 'STARRED', list: 'labelHide', msgs: 'hide' },
  { id: 'UNREAD', list: 'labelHide', msgs: 'hide' },
];

export interface StoredMessage {
  id: string;
  threadId: string;
  raw: Buffer;
  labelIds: Set<string>;
  internalDate: number;
  /** Id of the last history record that changed this message. */
  historyId: number;
  /** The Message-ID header, without angle brackets, lower case. */
  rfcId: string | null;
  parsed?: MimePart;
}

interface HistoryRecord {
  id: number;
  type: 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';
  message: { id: string; threadId: string; labelIds: string[] };
  labelIds?: string[];
}

export function messageIdOf(raw: Buffer): string | null {
  const v = headerValue(parseHeaderBlock(splitHeaderBody(raw).header), 'message-id');
  const m = v ? /<([^>]+)>/.exec(v) : null;
  return m ? (m[1] as string).toLowerCase() : v ? v.trim().toLowerCase() : null;
}

function referencedIds(raw: Buffer): string[] {
  const headers = parseHeaderBlock(splitHeaderBody(raw).header);
  const text = `${headerValue(headers, 'in-reply-to') ?? ''} ${headerValue(headers, 'references') ?? ''}`;
  return [...text.matchAll(/<([^>]+)>/g)].map((m) => (m[1] as string).toLowerCase());
}

export class Mailbox {
  readonly labels = new Map<string, gmail_v1.Schema$Label>();
  readonly messages = new Map<string, StoredMessage>();
  historyId: number;
  /** History records, ascending. */
  private history: HistoryRecord[] = [];
  /** The oldest startHistoryId history.list still accepts. */
  floor: number;
  private nextLabel = 1;
  private readonly byRfcId = new Map<string, Set<string>>();

  constructor(
    readonly email: string,
    startHistoryId: number,
    private readonly newId: () => string,
    /** Keep at most this many history records (older ones are dropped and their ids expire). */
    private readonly historyLimit: number,
  ) {
    this.historyId = startHistoryId;
    this.floor = startHistoryId;
    for (const s of SYSTEM_LABELS) {
      const l: gmail_v1.Schema$Label = { id: s.id, name: s.id, type: 'system' };
      if (s.list) l.labelListVisibility = s.list;
      if (s.msgs) l.messageListVisibility = s.msgs;
      this.labels.set(s.id, l);
    }
  }

  private record(r: Omit<HistoryRecord, 'id'>): number {
    const id = ++this.historyId;
    this.history.push({ ...r, id });
    if (this.history.length > this.historyLimit) this.expireHistory(this.history.length - this.historyLimit);
    return id;
  }

  /** Drop the oldest `count` records (all when omitted): older startHistoryIds then answer 404. */
  expireHistory(count = this.history.length): void {
    const dropped = this.history.splice(0, count);
    const last = dropped[dropped.length - 1];
    if (last) this.floor = last.id;
    if (count >= 0 && !this.history.length) this.floor = this.historyId;
  }

  /** History after startHistoryId, or null if it is older than what is kept. */
  historySince(start: number): HistoryRecord[] | null {
    if (start < this.floor) return null;
    return this.history.filter((h) => h.id > start);
  }

  // Labels --------------------------------------------------------------------------------------

  labelByName(name: string): gmail_v1.Schema$Label | undefined {
    const n = name.toLowerCase();
    for (const l of this.labels.values()) if ((l.name ?? '').toLowerCase() === n) return l;
    return undefined;
  }

  createLabel(spec: gmail_v1.Schema$Label): gmail_v1.Schema$Label {
    const label: gmail_v1.Schema$Label = {
      id: `Label_${this.nextLabel++}`,
      name: spec.name ?? '',
      messageListVisibility: spec.messageListVisibility ?? 'show',
      labelListVisibility: spec.labelListVisibility ?? 'labelShow',
      type: 'user',
    };
    if (spec.color) label.color = spec.color;
    this.labels.set(label.id as string, label);
    return label;
  }

  deleteLabel(id: string): void {
    for (const m of this.messages.values()) if (m.labelIds.has(id)) this.modify(m.id, [], [id]);
    this.labels.delete(id);
  }

  // Messages ------------------------------------------------------------------------------------

  add(raw: Buffer, labelIds: string[], internalDate: number): StoredMessage {
    const id = this.newId();
    const rfcId = messageIdOf(raw);
    let threadId = id;
    for (const ref of referencedIds(raw)) {
      const ids = this.byRfcId.get(ref);
      const first = ids && [...ids][0];
      if (first) {
        threadId = (this.messages.get(first) as StoredMessage).threadId;
        break;
      }
    }
    const msg: StoredMessage = { id, threadId, raw, labelIds: new Set(labelIds), internalDate, historyId: 0, rfcId };
    this.messages.set(id, msg);
    if (rfcId) {
      let s = this.byRfcId.get(rfcId);
      if (!s) this.byRfcId.set(rfcId, (s = new Set()));
      s.add(id);
    }
    msg.historyId = this.record({ type: 'messageAdded', message: { id, threadId, labelIds: [...msg.labelIds] } });
    return msg;
  }

  modify(id: string, add: string[], remove: string[]): StoredMessage {
    const m = this.messages.get(id) as StoredMessage;
    const added = add.filter((l) => !m.labelIds.has(l));
    const removed = remove.filter((l) => m.labelIds.has(l) && !add.includes(l));
    for (const l of added) m.labelIds.add(l);
    for (const l of removed) m.labelIds.delete(l);
    if (added.length) m.historyId = this.record({ type: 'labelAdded', message: { id, threadId: m.threadId, labelIds: [...m.labelIds] }, labelIds: added });
    if (removed.length) m.historyId = this.record({ type: 'labelRemoved', message: { id, threadId: m.threadId, labelIds: [...m.labelIds] }, labelIds: removed });
    return m;
  }

  delete(id: string): void {
    const m = this.messages.get(id);
    if (!m) return;
    this.messages.delete(id);
    if (m.rfcId) this.byRfcId.get(m.rfcId)?.delete(id);
    this.record({ type: 'messageDeleted', message: { id, threadId: m.threadId, labelIds: [...m.labelIds] } });
  }

  parsed(m: StoredMessage): MimePart {
    if (!m.parsed) m.parsed = parseMime(m.raw);
    return m.parsed;
  }

  idsByRfcId(rfcId: string): string[] {
    return [...(this.byRfcId.get(rfcId.toLowerCase()) ?? [])];
  }

  threadCount(): number {
    return new Set([...this.messages.values()].map((m) => m.threadId)).size;
  }
}
