/**
 * What the Google connector possesses, how, and how faithfully it restores it. The gap report is
 * generated from these declarations; `preserved` lists exactly the normalized fields (normalize.ts)
 * that verification compares between the owned storage and the standby.
 */
import type { KindSpec, UncoveredKind } from '../../src/model/kinds.js';
import { K } from './types.js';

const IDS = (what: string) => ({ field: 'id', why: `${what} ids are assigned by the standby; mapped through the id map` });

export function googleKinds(opts: { convertOfficeToNative: boolean }): KindSpec[] {
  return [
    {
      kind: K.user,
      service: 'google',
      title: 'Directory users',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'Admin SDK users.list (full listing every cycle: no delta token); changes by a digest of the restorable fields, deletions by difference',
      importVia: 'users.insert with the mapped address and a random password (change at next sign-in), users.patch only of what differs, users.delete (never the standby admin); an existing user is adopted by primaryEmail (after a crash, or the originals after a failover)',
      fidelity: {
        preserved: ['primaryEmail', 'givenName', 'familyName', 'suspended', 'orgUnitPath'],
        lost: [
          { field: 'password', why: 'passwords cannot be read; standby users get a random one and must change it at first sign-in' },
          IDS('user'),
          { field: 'isAdmin, admin roles', why: 'privileges are not replayed; grant them on the standby deliberately' },
          { field: 'aliases, photos, custom schemas, 2SV enrolment, last login', why: 'not replayed by this version' },
          { field: 'orgUnitPath', why: 'kept as a path, but organizational units themselves are not created: they must exist on the standby' },
        ],
      },
    },
    {
      kind: K.group,
      service: 'google',
      title: 'Directory groups',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'Admin SDK groups.list (full listing); changes by digest, deletions by difference',
      importVia: 'groups.insert / groups.patch (only what differs) / groups.delete with the mapped address; an existing group is adopted by email',
      fidelity: { preserved: ['email', 'name', 'description'], lost: [IDS('group'), { field: 'group settings, aliases', why: 'the Groups Settings API is not used by this version' }] },
    },
    {
      kind: K.member,
      service: 'google',
      title: 'Group memberships',
      dependsOn: [K.user, K.group],
      possession: 'restorable',
      exportVia: 'Admin SDK members.list per group (full listing)',
      importVia: 'members.insert with the mapped address (a role change is a delete and an insert), members.delete; an existing membership (group and member email, same role) is left as it is',
      fidelity: { preserved: ['group', 'email', 'role', 'type'], lost: [{ field: 'delivery settings', why: 'not replayed by this version' }] },
    },
    {
      kind: K.label,
      service: 'google',
      title: 'Gmail labels',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'Gmail labels.list every cycle (labels have no history); user labels only, changes by digest, deletions by difference',
      importVia: 'labels.create / labels.patch (only what differs) / labels.delete; an existing label is adopted by name (label ids differ per account); a label renamed on the new primary before the first reversed cycle is created anew and the original reported as extra',
      fidelity: { preserved: ['name', 'messageListVisibility', 'labelListVisibility', 'color'], lost: [IDS('label')] },
    },
    {
      kind: K.message,
      service: 'google',
      title: 'Gmail messages',
      dependsOn: [K.label],
      possession: 'restorable',
      exportVia: 'history.list from the last historyId (messageAdded/Deleted, labelAdded/Removed); a too-old historyId (404) triggers a full listing (includeSpamTrash) with deletions by difference; each message stored as its raw RFC 822 bytes (.eml)',
      importVia: 'messages.import (internalDateSource=dateHeader, neverMarkSpam=true, processForCalendar=false) with the mapped label ids; later label changes by messages.modify; a message the id map lacks is first searched by Message-ID (rfc822msgid:, spam and trash included) and adopted, preferring identical bytes, with only its labels corrected (skipped for an empty standby mailbox)',
      fidelity: {
        preserved: ['mime', 'labels'],
        lost: [
          IDS('message and thread'),
          { field: 'threadId', why: 'threads are re-derived by the standby from the headers' },
          { field: 'internalDate', why: 'set from the Date header (internalDateSource=dateHeader); Gmail\'s receive time cannot be written' },
          { field: 'labels DRAFT, CHAT', why: 'Gmail refuses them on import: drafts and chats arrive as ordinary messages' },
          { field: 'settings (filters, send-as, forwarding, delegates, vacation)', why: 'separate settings APIs, not replayed by this version' },
        ],
      },
    },
    {
      kind: K.sharedDrive,
      service: 'google',
      title: 'Shared drives',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'drives.get and permissions.list (domain admin access) every cycle; changes by digest',
      importVia: 'an existing shared drive of the same name is adopted (among several, the one whose members match; else a new one is created with a warning), else drives.create (requestId derived from the source drive, so a repeated create is refused, then adopted by name); member permissions added and removed without notification',
      fidelity: { preserved: ['name', 'members'], lost: [IDS('shared drive'), { field: 'restrictions, theme', why: 'not replayed by this version' }, { field: 'membership of the standby admin', why: 'the standby admin creates restored shared drives and stays an organizer (left out of the comparison)' }] },
    },
    {
      kind: K.file,
      service: 'google',
      title: 'Drive files and folders',
      dependsOn: [K.sharedDrive],
      possession: 'restorable',
      exportVia:
        'changes.list from the last page token (newStartPageToken); an invalid token triggers a full listing with deletions by difference; binary content streamed (resumed by Range after a dropped connection, checked against sha256Checksum); Docs, Sheets and Slides exported to docx, xlsx and pptx (the format recorded); permissions listed per file; trashed items count as deleted',
      importVia:
        (opts.convertOfficeToNative
          ? 'files.create / files.update (multipart up to 5 MiB, resumable in 8 MiB chunks above), Office exports converted back to native documents, '
          : 'files.create / files.update (multipart up to 5 MiB, resumable in 8 MiB chunks above), Office exports kept as Office files, ') +
        'createdTime/modifiedTime written, appProperties carry the source id; permissions created without notification emails. An item the id map lacks is adopted by that source id (after a crash), else by the item the source item was itself restored from (after a failover: the original, even renamed or moved), else by parent folder + name + mimeType (the same content first); an adopted item is written only where it differs (content by digest, native documents by text)',
      fidelity: {
        preserved: ['name', 'mimeType', 'parent', 'content', 'permissions', 'modifiedTime', 'description'],
        lost: [
          IDS('file'),
          { field: 'comments, suggestions, revision history', why: 'not part of the exported content; native documents are restored from their Office export' },
          {
            field: 'native document formatting',
            why: opts.convertOfficeToNative
              ? 'round-trips through Office formats; compared by text. After a failover, an original whose text matches is adopted untouched (formatting, comments and revisions kept); one whose text differs is replaced by the converted Office export'
              : 'kept as Office files on the standby (convertOfficeToNative is off); after a failover they do not match the native originals (another mimeType) and are created beside them',
          },
          { field: 'owner, lastModifyingUser', why: 'the restoring identity owns the standby copy (the mapped user in My Drive, the shared drive in shared drives)' },
          { field: 'native documents above the 10 MB export limit', why: 'Drive refuses to export them; they are recorded as possessed metadata and reported as import failures' },
          { field: 'shortcuts, Forms, Sites, Maps, Jamboards', why: 'no export format; see uncovered kinds' },
          { field: 'parent (folders owned by others)', why: 'an item in a folder someone else owns is restored into its owner\'s My Drive root (the folder belongs to the other user\'s scope)' },
        ],
      },
    },
    {
      kind: K.calendar,
      service: 'google',
      title: 'Secondary calendars',
      dependsOn: [],
      possession: 'restorable',
      exportVia: 'calendarList.list every cycle (owned calendars); changes by digest',
      importVia: 'calendars.insert / calendars.patch (only what differs) / calendars.delete; an owned secondary calendar of the same name is adopted; the primary calendar maps to the standby user\'s primary',
      fidelity: { preserved: ['summary', 'description', 'timeZone'], lost: [IDS('calendar'), { field: 'sharing (ACL), colors', why: 'not replayed by this version' }] },
    },
    {
      kind: K.event,
      service: 'google',
      title: 'Calendar events',
      dependsOn: [K.calendar],
      possession: 'restorable',
      exportVia: 'events.list with the last nextSyncToken (cancelled events are deletions); 410 fullSyncRequired triggers a full listing with deletions by difference',
      importVia: 'events.import by iCalUID (a private copy, no invitations sent; organizer written), events.delete with sendUpdates=none; an existing event of the iCalUID is adopted untouched when it equals the stored one on the preserved fields, else updated in place by the import',
      fidelity: {
        preserved: ['iCalUID', 'summary', 'description', 'location', 'start', 'end', 'recurrence', 'status', 'organizer', 'attendees', 'transparency', 'visibility'],
        lost: [
          IDS('event'),
          { field: 'created, updated, creator', why: 'set by the standby at import' },
          { field: 'attendees\' responses', why: 'an imported copy carries no RSVPs of the attendees' },
          { field: 'conferenceData (Meet links), attachments', why: 'cannot be recreated by import' },
          { field: 'modified instances of recurring events', why: 'possessed, but import of exceptions is not implemented: they are reported as import failures' },
        ],
      },
    },
  ];
}

export const GOOGLE_UNCOVERED: UncoveredKind[] = [
  { kind: 'chat.message', service: 'google', title: 'Google Chat messages and spaces', reason: 'the Chat API exports only with a Chat app per space and cannot import history into a normal space' },
  { kind: 'forms.response', service: 'google', title: 'Google Forms (forms and responses)', reason: 'Forms have no Drive export format; responses need the Forms API, which cannot recreate them' },
  { kind: 'keep.note', service: 'google', title: 'Google Keep notes', reason: 'the Keep API is limited to enterprise use and cannot set timestamps; not possessed' },
  { kind: 'sites.site', service: 'google', title: 'Google Sites', reason: 'no API to export or recreate Sites' },
  { kind: 'vault.hold', service: 'google', title: 'Vault matters, holds and retention rules', reason: 'legal-hold configuration; not part of user data, not possessed' },
  { kind: 'meet.recording', service: 'google', title: 'Meet recordings and transcripts', reason: 'stored in Drive as ordinary files (possessed there); the Meet metadata linking them is not' },
  { kind: 'gmail.settings', service: 'google', title: 'Gmail settings (filters, send-as, forwarding, delegates, vacation)', reason: 'not exported by this version' },
  { kind: 'drive.revision', service: 'google', title: 'Drive revision history and comments', reason: 'only the current content is exported' },
  { kind: 'drive.shortcut', service: 'google', title: 'Drive shortcuts, Maps, Jamboards', reason: 'no export format; skipped' },
  { kind: 'contacts.contact', service: 'google', title: 'Contacts', reason: 'the People API is not used by this version' },
  { kind: 'tasks.task', service: 'google', title: 'Google Tasks', reason: 'the Tasks API is not used by this version' },
];
