/**
 * Deterministic seeding profiles: the same profile and seed give the same domain (users, mail,
 * files, calendars, ids). Mail is real-looking MIME: multipart/alternative, attachments, replies in
 * threads, non-ASCII display names and subjects (RFC 2047), user labels (nested, non-ASCII).
 * Drives hold folder trees, binary files and Google-native documents, shared with users, groups and
 * the domain; a shared drive per profile; calendars with single, all-day and recurring events.
 */
import { seededRandom } from './faults.js';
import type { Mutations } from './mutate.js';
import { NATIVE } from './ooxml.js';
import type { DomainState } from './state.js';

export interface SeedProfile {
  /** Users besides the admin. */
  users: number;
  messagesPerUser: number;
  filesPerUser: number;
  sharedDrives: number;
  eventsPerUser: number;
  groups: number;
  /** Largest attachment / binary file in bytes. */
  maxBinaryBytes: number;
}

export const PROFILES: Record<'empty' | 'small' | 'demo', SeedProfile> = {
  /** Only the admin (a standby domain). */
  empty: { users: 0, messagesPerUser: 0, filesPerUser: 0, sharedDrives: 0, eventsPerUser: 0, groups: 0, maxBinaryBytes: 0 },
  /** Tests: a few users, a few of everything. */
  small: { users: 2, messagesPerUser: 6, filesPerUser: 4, sharedDrives: 1, eventsPerUser: 3, groups: 1, maxBinaryBytes: 40_000 },
  /** Demo: a small company. */
  demo: { users: 6, messagesPerUser: 40, filesPerUser: 12, sharedDrives: 2, eventsPerUser: 8, groups: 2, maxBinaryBytes: 400_000 },
};

export type ProfileName = keyof typeof PROFILES;

const PEOPLE: Array<[string, string, string]> = [
  ['zoe.angstrom', 'Zoë', 'Ångström'],
  ['jose.nunez', 'José', 'Núñez'],
  ['bjorn.muller', 'Björn', 'Müller'],
  ['chloe.dubois', 'Chloé', 'Dubois'],
  ['soren.lund', 'Søren', 'Lund'],
  ['mei.lin', 'Mei', 'Lin'],
  ['aisha.okafor', 'Aisha', 'Okafor'],
  ['lukas.novak', 'Lukáš', 'Novák'],
  ['ines.garcia', 'Inés', 'García'],
  ['kenji.sato', 'Kenji', 'Satō'],
];

const SUBJECTS = [
  'Réunion budget Q3',
  'Übersicht der Änderungen',
  '日本語の件名: 進捗報告',
  'Café ☕ on Friday?',
  'Quarterly report draft',
  'Invoice #2024-0412',
  'Re: Offsite in Zürich',
  'Ваш заказ отправлен',
  'Design review notes',
  'Contract renewal — action needed',
  'Photos from the team event',
  'Security notice: new sign-in',
];

const EXTERNAL = ['newsletter@news.example.org', '"Façade Supplies" <orders@facade-supplies.example.com>', '"Ola Nordmann" <ola@example.no>'];

function bytes(n: number, rand: () => number, magic: number[] = []): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  Buffer.from(magic).copy(b, 0);
  return b;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PDF = [...Buffer.from('%PDF-1.7\n')];

export interface SeedResult {
  admin: string;
  users: string[];
  groups: string[];
  sharedDrives: string[];
}

/** Seed a domain. The admin is always created (admin@DOMAIN, a super admin). */
export async function seedDomain(state: DomainState, mutate: Mutations, profileName: ProfileName | SeedProfile, seed = 1): Promise<SeedResult> {
  const profile = typeof profileName === 'string' ? PROFILES[profileName] : profileName;
  if (!profile) throw new Error(`unknown seeding profile ${String(profileName)} (known: ${Object.keys(PROFILES).join(', ')})`);
  const rand = seededRandom(seed * 7919 + 17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const base = Date.UTC(2024, 2, 1, 8, 0, 0);
  const domain = state.domain;

  const admin = `admin@${domain}`;
  state.createUser({ primaryEmail: admin, givenName: 'Ada', familyName: 'Admin', isAdmin: true, creationTime: new Date(base - 86_400_000 * 400).toISOString() });
  const users: string[] = [];
  for (let i = 0; i < profile.users; i++) {
    const [local, given, family] = PEOPLE[i % PEOPLE.length] as [string, string, string];
    const email = `${local}${i >= PEOPLE.length ? i : ''}@${domain}`;
    state.createUser({ primaryEmail: email, givenName: given, familyName: family, creationTime: new Date(base - 86_400_000 * (300 - i)).toISOString() });
    users.push(email);
  }
  const everyone = [admin, ...users];
  const display = (email: string): string => {
    const u = state.users.get(email);
    return `${u?.name?.fullName ?? email} <${email}>`;
  };

  const groups: string[] = [];
  for (let g = 0; g < profile.groups; g++) {
    const name = g === 0 ? 'engineering' : `team-${g}`;
    groups.push(mutate.createGroup(name, g === 0 ? 'Engineering' : `Team ${g}`, users.filter((_, i) => i % (g + 2) !== 1).map((email, i) => ({ email, role: i === 0 ? 'OWNER' : 'MEMBER' })), `Mailing list ${name}`));
  }

  // Mail --------------------------------------------------------------------------------------
  for (const [ui, user] of everyone.entries()) {
    if (!profile.messagesPerUser) break;
    const projects = mutate.createLabel(user, 'Projects');
    const alpha = mutate.createLabel(user, 'Projects/Alpha');
    const receipts = mutate.createLabel(user, 'Receipts', { messageListVisibility: 'hide' });
    const aerger = mutate.createLabel(user, 'Ärger & Äpfel');
    const userLabels = [projects, alpha, receipts, aerger];
    let lastId: string | undefined;
    for (let m = 0; m < profile.messagesPerUser; m++) {
      const when = new Date(base + (ui * 1000 + m) * 3_600_000 * 3 + m * 61_000);
      const sent = m % 7 === 3;
      const other = pick(everyone.filter((x) => x !== user));
      const from = sent ? display(user) : m % 5 === 4 ? pick(EXTERNAL) : display(other);
      const to = sent ? [display(other)] : [display(user)];
      const subject = `${pick(SUBJECTS)}${m % 4 === 0 ? '' : ` (${m})`}`;
      const attachments = m % 3 === 1
        ? [
            m % 2 ? { filename: `scan-${m}.pdf`, contentType: 'application/pdf', data: bytes(Math.floor(1000 + rand() * profile.maxBinaryBytes * 0.5), rand, PDF) } : { filename: `Übersicht-${m}.png`, contentType: 'image/png', data: bytes(Math.floor(500 + rand() * profile.maxBinaryBytes * 0.25), rand, PNG) },
            ...(m % 6 === 1 ? [{ filename: 'data.csv', contentType: 'text/csv', data: Buffer.from(`name,amount\nÄpfel,3\nBirnen,${m}\n`) }] : []),
          ]
        : undefined;
      const labels = sent ? ['SENT'] : ['INBOX'];
      if (!sent && m % 2 === 0) labels.push('UNREAD');
      if (m % 5 === 0) labels.push('STARRED');
      if (m % 4 === 2) labels.push('IMPORTANT');
      if (!sent) labels.push(pick(['CATEGORY_PERSONAL', 'CATEGORY_UPDATES', 'CATEGORY_PROMOTIONS', 'CATEGORY_SOCIAL', 'CATEGORY_FORUMS']));
      if (m % 3 === 0) labels.push(pick(userLabels));
      if (m === profile.messagesPerUser - 1 && m > 3) {
        labels.splice(0, labels.length, 'SPAM');
      }
      const spec: Parameters<Mutations['deliver']>[1] = {
        from,
        to,
        subject,
        text: `Hello,\n\nThis is message ${m} for ${user}.\nLes données sont prêtes — see the attached file.\n\nBest regards\n`,
        html: m % 2 === 0 ? `<p>Hello,</p><p>This is message <b>${m}</b> for ${user}.</p><p>Les données sont prêtes.</p>` : undefined,
        date: when,
        labels,
        attachments,
      };
      if (m % 4 === 3 && lastId) spec.inReplyTo = lastId;
      const { messageId } = mutate.deliver(user, spec);
      lastId = messageId;
    }
  }

  // Drive -------------------------------------------------------------------------------------
  for (const [ui, user] of everyone.entries()) {
    if (!profile.filesPerUser) break;
    const t = (k: number) => new Date(base + ui * 86_400_000 + k * 600_000).toISOString();
    const projects = await mutate.createFile(user, { name: 'Projects', mimeType: NATIVE.folder, createdTime: t(0) });
    const alpha = await mutate.createFile(user, { name: 'Alpha — Entwürfe', mimeType: NATIVE.folder, parentId: projects, createdTime: t(1) });
    const finance = await mutate.createFile(user, { name: 'Finance', mimeType: NATIVE.folder, createdTime: t(2) });
    const folders = [projects, alpha, finance];
    for (let f = 0; f < profile.filesPerUser; f++) {
      const parentId = f % 4 === 0 ? undefined : folders[f % folders.length];
      let id: string;
      switch (f % 4) {
        case 0:
          id = await mutate.createFile(user, { name: `Meeting notes ${f}`, mimeType: NATIVE.document, text: `Meeting notes ${f}\nAttendees: ${everyone.slice(0, 3).join(', ')}\nDécisions: ship it.`, parentId, createdTime: t(10 + f) });
          break;
        case 1:
          id = await mutate.createFile(user, { name: `Budget ${2024 + f}`, mimeType: NATIVE.spreadsheet, text: `item,amount\nLaptops,${1200 * f}\nTravel,${300 + f}`, parentId, createdTime: t(10 + f) });
          break;
        case 2:
          id = await mutate.createFile(user, { name: `report-${f}.pdf`, mimeType: 'application/pdf', content: bytes(Math.floor(2000 + rand() * profile.maxBinaryBytes), rand, PDF), parentId, createdTime: t(10 + f) });
          break;
        default:
          id = await mutate.createFile(user, { name: `photo-${f}.png`, mimeType: 'image/png', content: bytes(Math.floor(1000 + rand() * profile.maxBinaryBytes), rand, PNG), parentId, createdTime: t(10 + f) });
      }
      const peer = everyone[(ui + 1) % everyone.length] as string;
      if (f % 4 === 0 && peer !== user) mutate.share(id, { type: 'user', role: 'reader', email: peer });
      if (f % 5 === 1 && groups[0]) mutate.share(id, { type: 'group', role: 'writer', email: groups[0] });
      if (f % 6 === 2) mutate.share(id, { type: 'domain', role: 'reader', domain });
    }
  }
  const sharedDrives: string[] = [];
  for (let s = 0; s < profile.sharedDrives; s++) {
    const driveId = mutate.createSharedDrive(admin, s === 0 ? 'Engineering' : `Projekt ${s} — Ökologie`, users.slice(0, 2).map((email, i) => ({ email, role: i === 0 ? 'writer' : 'reader' })));
    sharedDrives.push(driveId);
    const specs = await mutate.createFolder(admin, 'Specs', driveId);
    await mutate.createFile(admin, { name: 'Architecture', mimeType: NATIVE.document, text: 'Architecture\nNo restore: restore continuously.', parentId: specs });
    await mutate.createFile(admin, { name: 'diagram.png', mimeType: 'image/png', content: bytes(Math.floor(3000 + rand() * profile.maxBinaryBytes), rand, PNG), parentId: specs });
    await mutate.createFile(admin, { name: 'README.txt', mimeType: 'text/plain', content: Buffer.from(`Shared drive ${s}\nÅ ä ö — ✓\n`), parentId: driveId });
  }

  // Calendar ----------------------------------------------------------------------------------
  for (const [ui, user] of everyone.entries()) {
    for (let e = 0; e < profile.eventsPerUser; e++) {
      const start = new Date(base + (ui * 50 + e) * 86_400_000 + 9 * 3_600_000);
      const end = new Date(start.getTime() + 3_600_000);
      const other = everyone[(ui + e + 1) % everyone.length] as string;
      if (e % 3 === 0) {
        mutate.createEvent(user, { summary: 'Weekly sync', description: 'Standing team meeting', start: { dateTime: start.toISOString(), timeZone: 'Europe/Zurich' }, end: { dateTime: end.toISOString(), timeZone: 'Europe/Zurich' }, recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20'], attendees: other !== user ? [other] : [] });
      } else if (e % 3 === 1) {
        const day = start.toISOString().slice(0, 10);
        const next = new Date(start.getTime() + 86_400_000).toISOString().slice(0, 10);
        mutate.createEvent(user, { summary: `Offsite Zürich ${e}`, location: 'Zürich, Schweiz', start: { date: day }, end: { date: next } });
      } else {
        mutate.createEvent(user, { summary: `Kundentermin — Müller AG ${e}`, location: 'Bahnhofstrasse 1, Zürich', start: { dateTime: start.toISOString() }, end: { dateTime: end.toISOString() }, attendees: ['external.partner@example.com'] });
      }
    }
  }
  if (profile.eventsPerUser) {
    const holidays = mutate.createCalendar(admin, 'Team holidays', 'Company holidays');
    mutate.createEvent(admin, { summary: 'Bundesfeier', start: { date: '2024-08-01' }, end: { date: '2024-08-02' } }, holidays);
    mutate.createEvent(admin, { summary: 'Year-end break', start: { date: '2024-12-24' }, end: { date: '2025-01-02' } }, holidays);
  }
  return { admin, users, groups, sharedDrives };
}
