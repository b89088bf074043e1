/**
 * Deterministic seeding profiles. The same profile and seed give the same tenant (ids included).
 *   empty   the users only (a standby tenant: same people, no content)
 *   small   3 users; per user a folder tree with ~12 messages (non-ASCII headers, attachments,
 *           a draft), a drive tree with text and binary files (one over 4 MiB, one empty),
 *           events (single, all-day, weekly and daily series, one with attendees), contacts in
 *           the default folder and a subfolder
 *   large   8 users, 200 messages, 40 files and 30 events/contacts each
 * Counts can be overridden (e.g. messagesPerUser for benchmarks).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { quickXorBase64 } from './quickxor.js';
import { mimeTypeOf } from './drive.js';
import type { AttachmentState, MessageState, Recipient, TenantState, UserState } from './state.js';

export type SeedProfile = 'empty' | 'small' | 'large';

export interface SeedSpec {
  profile: SeedProfile;
  users?: number;
  messagesPerUser?: number;
  filesPerUser?: number;
  eventsPerUser?: number;
  contactsPerUser?: number;
}

const PEOPLE: Array<[string, string, string]> = [
  ['adele', 'Adele', 'Vance'],
  ['bianca', 'Bianca', 'Müller'],
  ['joao', 'João', 'Sørensen'],
  ['lee', 'Lee', 'Gu'],
  ['megan', 'Megan', 'Bowen'],
  ['nestor', 'Nestor', 'Wilke'],
  ['patti', 'Patti', 'Fernández'],
  ['zoe', 'Zoë', 'Łukasik'],
];

const SUBJECTS = [
  'Quarterly report Q{n}',
  'Résumé of the kick-off — next steps',
  'Ünïcödé test: naïve café façade',
  '会议纪要 {n}',
  'Re: Budget 2026 (draft {n})',
  'Invoice #{n} attached',
  'Привет! Планы на неделю',
  'Fwd: travel plans ✈️ {n}',
  'Lunch on Friday?',
  'Contract review – Ångström Ltd.',
];

const EXTERNAL: Recipient[] = [
  { emailAddress: { name: 'Émile Zola', address: 'emile@partner.example' } },
  { emailAddress: { name: 'Søren Kierkegaard', address: 'soren@vendor.example' } },
  { emailAddress: { name: 'Ada Lovelace', address: 'ada@analytical.example' } },
  { emailAddress: { name: '山田 太郎', address: 'taro@example.jp' } },
];

export const SEED_BASE_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Deterministic pseudo-random bytes: an AES-256-CTR keystream keyed by the label's SHA-256. */
export function detBytes(label: string, size: number): Buffer {
  const key = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  // At most 256 KiB of keystream, repeated (with the offset mixed in) for larger sizes.
  const block = cipher.update(Buffer.alloc(Math.min(size, 256 * 1024)));
  if (block.length >= size) return block.subarray(0, size);
  const out = Buffer.allocUnsafe(size);
  for (let off = 0, n = 0; off < size; off += block.length, n++) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    out[off] = n & 0xff;
  }
  return out;
}

function counts(spec: SeedSpec): Required<Omit<SeedSpec, 'profile'>> {
  const large = spec.profile === 'large';
  const empty = spec.profile === 'empty';
  return {
    users: spec.users ?? (large ? 8 : 3),
    messagesPerUser: spec.messagesPerUser ?? (empty ? 0 : large ? 200 : 12),
    filesPerUser: spec.filesPerUser ?? (empty ? 0 : large ? 40 : 6),
    eventsPerUser: spec.eventsPerUser ?? (empty ? 0 : large ? 30 : 5),
    contactsPerUser: spec.contactsPerUser ?? (empty ? 0 : large ? 30 : 4),
  };
}

export function seedTenant(t: TenantState, spec: SeedSpec): UserState[] {
  const c = counts(spec);
  const users: UserState[] = [];
  for (let i = 0; i < c.users; i++) {
    const [local, given, sur] = PEOPLE[i % PEOPLE.length] as [string, string, string];
    const suffix = i >= PEOPLE.length ? String(Math.floor(i / PEOPLE.length) + 1) : '';
    users.push(
      t.addUser({
        userPrincipalName: `${local}${suffix}@${t.domain}`,
        displayName: `${given} ${sur}${suffix ? ' ' + suffix : ''}`,
        givenName: given,
        surname: sur,
        jobTitle: ['Marketing Manager', 'Developer', 'Accountant', 'Sales Lead'][i % 4] ?? 'Staff',
        officeLocation: `${10 + i}/${1100 + i}`,
        businessPhones: [`+1 425 555 01${String(i).padStart(2, '0')}`],
      }),
    );
  }
  for (const u of users) {
    seedMail(t, u, users, c.messagesPerUser);
    seedDrive(t, u, c.filesPerUser);
    seedCalendar(t, u, users, c.eventsPerUser);
    seedContacts(t, u, c.contactsPerUser);
  }
  return users;
}

function transportHeaders(t: TenantState, from: Recipient, to: Recipient, at: number): Array<{ name: string; value: string }> {
  const d = new Date(at).toUTCString().replace('GMT', '+0000');
  return [
    { name: 'Received', value: `from mail.partner.example (203.0.113.25) by EMU01.prod.outlook.example (10.1.2.3) with Microsoft SMTP Server id 15.20.7500.1; ${d}` },
    { name: 'Return-Path', value: `<${from.emailAddress.address}>` },
    { name: 'Authentication-Results', value: `spf=pass (sender IP is 203.0.113.25) smtp.mailfrom=${from.emailAddress.address.split('@')[1]}; dkim=pass header.d=${from.emailAddress.address.split('@')[1]}` },
    { name: 'X-Mailer', value: 'norestore-seed 1.0' },
    { name: 'X-MS-Exchange-Organization-SCL', value: String(Math.floor(t.random() * 2)) },
    { name: 'Delivered-To', value: to.emailAddress.address },
  ];
}

export function makeAttachment(t: TenantState, name: string, size: number, label: string, inline = false): AttachmentState {
  const content = /\.(txt|csv)$/.test(name) ? Buffer.from(`id;name;amount\n${Array.from({ length: Math.max(1, Math.floor(size / 24)) }, (_, i) => `${i};Posten ${i} – Größe;${(i * 3.7).toFixed(2)}`).join('\n')}\n`, 'utf8') : detBytes(label, size);
  return {
    id: t.newId('AAMk'), name, contentType: mimeTypeOf(name), size: content.length, isInline: inline, contentId: inline ? `${label}@seed` : null,
    lastModifiedDateTime: iso(SEED_BASE_MS), content,
  };
}

/** A received message as Exchange stores it after delivery. */
export function makeMessage(t: TenantState, u: UserState, others: UserState[], n: number, opts: { draft?: boolean; sent?: boolean; attachments?: AttachmentState[]; at?: number } = {}): Omit<MessageState, 'id' | 'folderId' | 'seq' | 'changeKey' | 'createdDateTime' | 'lastModifiedDateTime'> {
  const at = opts.at ?? SEED_BASE_MS - n * 3_600_000 * 7;
  const me: Recipient = { emailAddress: { name: u.displayName, address: u.mail } };
  const other = others.find((o) => o.id !== u.id);
  const peer: Recipient = n % 3 === 0 && other ? { emailAddress: { name: other.displayName, address: other.mail } } : (EXTERNAL[n % EXTERNAL.length] as Recipient);
  const subject = (SUBJECTS[n % SUBJECTS.length] as string).replace('{n}', String(n));
  const from = opts.sent || opts.draft ? me : peer;
  const to = opts.sent || opts.draft ? [peer] : [me];
  const html = n % 2 === 0;
  const text = `Hello ${to[0]?.emailAddress.name ?? ''},\n\nmessage ${n} of the seed — with non-ASCII text: Grüße, ¡hola!, 你好.\nRegards,\n${from.emailAddress.name}`;
  return {
    receivedDateTime: iso(at),
    sentDateTime: opts.draft ? null : iso(at - 45_000),
    subject,
    body: html ? { contentType: 'html', content: `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '<br>')}</p></body></html>` } : { contentType: 'text', content: text },
    from,
    sender: from,
    toRecipients: to,
    ccRecipients: n % 4 === 1 ? [EXTERNAL[(n + 1) % EXTERNAL.length] as Recipient] : [],
    bccRecipients: opts.draft && n % 2 === 0 ? [EXTERNAL[(n + 2) % EXTERNAL.length] as Recipient] : [],
    replyTo: n % 5 === 2 ? [{ emailAddress: { name: 'Replies', address: `replies@${u.mail.split('@')[1]}` } }] : [],
    internetMessageId: `<seed-${createHash('sha256').update(`${u.id}:${n}:${at}`).digest('hex').slice(0, 20)}@${from.emailAddress.address.split('@')[1]}>`,
    conversationId: 'AAQk' + createHash('sha256').update(subject.replace(/^((re|fw|fwd):\s*)+/i, '').toLowerCase()).digest('base64url').slice(0, 40),
    importance: n % 7 === 3 ? 'high' : n % 11 === 5 ? 'low' : 'normal',
    isRead: n % 3 !== 1 || !!opts.sent || !!opts.draft,
    isDraft: !!opts.draft,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: n % 9 === 4,
    flag: { flagStatus: n % 6 === 2 ? 'flagged' : n % 10 === 7 ? 'complete' : 'notFlagged' },
    categories: n % 4 === 0 ? ['Blue category'] : n % 5 === 3 ? ['Red category', 'Projekt Ä'] : [],
    inferenceClassification: n % 8 === 6 ? 'other' : 'focused',
    internetMessageHeaders: opts.sent || opts.draft ? [] : transportHeaders(t, from, to[0] as Recipient, at),
    attachments: opts.attachments ?? [],
    extended: new Map(),
  };
}

function seedMail(t: TenantState, u: UserState, all: UserState[], count: number): void {
  if (count === 0) return;
  const mb = u.mailbox;
  const inbox = t.wellKnownFolder(mb, 'inbox')!;
  const sent = t.wellKnownFolder(mb, 'sentitems')!;
  const drafts = t.wellKnownFolder(mb, 'drafts')!;
  const archive = t.wellKnownFolder(mb, 'archive')!;
  const projects = t.addFolder(mb, inbox.id, 'Projects');
  const nested = t.addFolder(mb, projects.id, 'Ünïcode – Ωmega');
  const receipts = t.addFolder(mb, mb.rootFolderId, 'Receipts 2025');
  const targets = [inbox, inbox, inbox, projects, nested, archive, receipts];
  for (let n = 0; n < count; n++) {
    const isDraft = n === 5;
    const isSent = n % 6 === 4;
    const attachments: AttachmentState[] = [];
    if (n % 4 === 1) attachments.push(makeAttachment(t, `report-${n}.pdf`, 2048 + n * 101, `${u.id}:att:${n}`));
    if (n % 6 === 3) attachments.push(makeAttachment(t, `Übersicht ${n}.csv`, 300, `${u.id}:csv:${n}`));
    if (n === 7) attachments.push(makeAttachment(t, 'scan-large.bin', 3_500_000, `${u.id}:big:${n}`));
    const folder = isDraft ? drafts : isSent ? sent : (targets[n % targets.length] as typeof inbox);
    t.addMessage(mb, folder.id, makeMessage(t, u, all, n, { draft: isDraft, sent: isSent, attachments }));
  }
}

function seedDrive(t: TenantState, u: UserState, count: number): void {
  if (count === 0) return;
  const d = u.drive;
  const fsi = (n: number) => ({ createdDateTime: iso(SEED_BASE_MS - (n + 30) * 86_400_000), lastModifiedDateTime: iso(SEED_BASE_MS - n * 86_400_000) });
  const docs = t.addDriveFolder(d, d.rootId, 'Documents', fsi(40));
  const reports = t.addDriveFolder(d, docs.id, 'Reports 2025', fsi(35));
  const photos = t.addDriveFolder(d, d.rootId, 'Fotos – Sommer', fsi(30));
  t.addDriveFolder(d, docs.id, 'Empty folder', fsi(20));
  const parents = [d.rootId, docs.id, reports.id, photos.id];
  for (let n = 0; n < count; n++) {
    let name: string;
    let content: Buffer;
    if (n === 0) {
      name = 'README.txt';
      content = Buffer.from(`Notes for ${u.displayName}\nÄÖÜ äöü ß — naïve\n`, 'utf8');
    } else if (n === 1) {
      name = 'empty.txt';
      content = Buffer.alloc(0);
    } else if (n === 2) {
      name = 'large-export.bin';
      content = detBytes(`${u.id}:drive:${n}`, 4 * 1024 * 1024 + 12345);
    } else if (n % 3 === 0) {
      name = `photo-${n}.jpg`;
      content = detBytes(`${u.id}:drive:${n}`, 20_000 + n * 997);
    } else {
      name = `Bericht ${n} (final).docx`;
      content = detBytes(`${u.id}:drive:${n}`, 9_000 + n * 313);
    }
    const parent = parents[n % parents.length] as string;
    t.putDriveFile(d, parent, name, { buf: content }, quickXorBase64(content), mimeTypeOf(name), fsi(n));
  }
}

function seedCalendar(t: TenantState, u: UserState, all: UserState[], count: number): void {
  const mb = u.mailbox;
  const organizer: Recipient = { emailAddress: { name: u.displayName, address: u.mail } };
  const dt = (ms: number) => ({ dateTime: new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000'), timeZone: 'UTC' });
  for (let n = 0; n < count; n++) {
    const start = SEED_BASE_MS + n * 2 * 86_400_000 + 3_600_000 * (n % 5);
    const base = {
      subject: ['Team sync', 'Kundentermin Müller', 'Déjeuner d’équipe', 'Sprint review', '1:1'][n % 5] as string + (n >= 5 ? ` ${n}` : ''),
      body: { contentType: 'html' as const, content: `<p>Agenda ${n}: Überblick, next steps.</p>` },
      start: dt(start),
      end: dt(start + 3_600_000),
      isAllDay: false,
      location: { displayName: n % 2 ? 'Room 12 – Café' : 'Teams' },
      attendees: [] as Array<{ type: 'required' | 'optional' | 'resource'; emailAddress: { name?: string; address: string }; status: { response: string; time: string } }>,
      organizer,
      recurrence: null as null | Parameters<TenantState['addEvent']>[1]['recurrence'],
      showAs: n % 4 === 2 ? 'tentative' : 'busy',
      sensitivity: n % 5 === 4 ? 'private' : 'normal',
      importance: 'normal',
      categories: n % 3 === 0 ? ['Green category'] : [],
      isReminderOn: true,
      reminderMinutesBeforeStart: 15,
      transactionId: null,
      responseRequested: true,
      extended: new Map<string, string>(),
    };
    if (n === 1) {
      base.recurrence = { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'sunday' }, range: { type: 'numbered', startDate: new Date(start).toISOString().slice(0, 10), numberOfOccurrences: 10, recurrenceTimeZone: 'UTC' } };
    } else if (n === 2) {
      const day = Math.floor(start / 86_400_000) * 86_400_000;
      Object.assign(base, { isAllDay: true, start: dt(day), end: dt(day + 86_400_000), subject: 'Betriebsausflug (all day)' });
    } else if (n === 3) {
      base.recurrence = { pattern: { type: 'daily', interval: 2 }, range: { type: 'endDate', startDate: new Date(start).toISOString().slice(0, 10), endDate: new Date(start + 20 * 86_400_000).toISOString().slice(0, 10), recurrenceTimeZone: 'UTC' } };
    } else if (n === 4) {
      const other = all.find((o) => o.id !== u.id);
      base.attendees = [
        { type: 'required', emailAddress: { name: EXTERNAL[0]?.emailAddress.name, address: EXTERNAL[0]?.emailAddress.address as string }, status: { response: 'accepted', time: iso(start - 86_400_000) } },
        ...(other ? [{ type: 'optional' as const, emailAddress: { name: other.displayName, address: other.mail }, status: { response: 'tentativelyAccepted', time: iso(start - 86_400_000) } }] : []),
      ];
    }
    t.addEvent(mb, base);
  }
}

function seedContacts(t: TenantState, u: UserState, count: number): void {
  if (count === 0) return;
  const mb = u.mailbox;
  const suppliers = t.addContactFolder(mb, mb.contactRootId, 'Lieferanten');
  const names: Array<[string, string, string]> = [['Émile', 'Zola', 'Éditions Zola'], ['Søren', 'Kierkegaard', 'Vendor ApS'], ['Ada', 'Lovelace', 'Analytical Engines'], ['太郎', '山田', '山田商事'], ['Grace', 'Hopper', 'Navy'], ['Alan', 'Turing', 'Bletchley']];
  for (let n = 0; n < count; n++) {
    const [given, sur, company] = names[n % names.length] as [string, string, string];
    const fields = {
      givenName: given, surname: sur, displayName: `${given} ${sur}`, companyName: company, jobTitle: n % 2 ? 'Buyer' : 'Director',
      emailAddresses: [{ name: `${given} ${sur}`, address: `${given.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '') || 'contact'}${n}@contacts.example` }],
      businessPhones: [`+44 20 7946 0${String(n).padStart(3, '0')}`], mobilePhone: n % 3 ? `+49 151 0000${n}` : null,
      businessAddress: { street: `${n} Rue de la Paix`, city: 'Paris', postalCode: '75002', countryOrRegion: 'France' },
      personalNotes: n % 2 ? 'Met at the trade fair — prefers e-mail.' : '', birthday: n % 3 === 0 ? iso(Date.UTC(1980 + n, n % 12, 10 + n)) : null,
    };
    t.addContact(mb, n % 3 === 2 ? suppliers.id : mb.contactRootId, fields, n % 4 === 0 ? ['Kunde'] : []);
  }
}
