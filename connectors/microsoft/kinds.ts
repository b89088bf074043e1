/**
 * What the Microsoft 365 connector possesses, how, and how faithfully it restores it. The gap report
 * is generated from these declarations; `preserved` lists exactly the normalized fields
 * (normalize.ts) that verification compares between the owned storage and the standby.
 */
import type { KindSpec, UncoveredKind } from '../../src/model/kinds.js';
import { K } from './types.js';

const IDS = { field: 'id, changeKey, webLink', why: 'assigned by the standby; mapped through the id map and the norestoreSourceId extended property' };

export const MICROSOFT_KINDS: KindSpec[] = [
  {
    kind: K.user,
    service: 'microsoft',
    title: 'Directory users',
    dependsOn: [],
    possession: 'possessed-not-restorable',
    exportVia: 'GET /users/delta (deltaLink; removed users as @removed)',
    fidelity: {
      preserved: [],
      lost: [{ field: 'user accounts', why: 'users are provisioned on the standby by its administrators (licences, passwords, MFA); norestore maps them by address (identity.domains / identity.users) and does not create them' }],
    },
  },
  {
    kind: K.mailFolder,
    service: 'microsoft',
    title: 'Mail folders',
    dependsOn: [],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/mailFolders/delta; well-known folders identified by GET /mailFolders/{inbox|sentitems|drafts|...}',
    importVia: "well-known folders mapped to the standby's own; others created under their mapped parent (adopted by parent and name), renamed by PATCH, moved by POST move",
    fidelity: {
      preserved: ['name', 'wellKnownName', 'parent'],
      lost: [IDS, { field: 'folder permissions, retention tags, search folders', why: 'not exported by this version' }, { field: 'displayName of well-known folders', why: 'the standby keeps its own (possibly localized) names for Inbox, Sent Items ...' }],
    },
  },
  {
    kind: K.message,
    service: 'microsoft',
    title: 'Mail messages (.eml)',
    dependsOn: [K.mailFolder],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/mailFolders/{id}/messages/delta per folder (Prefer: odata.maxpagesize); the full MIME by GET /messages/{id}/$value stored as message/rfc822',
    importVia:
      'POST /mailFolders/{id}/messages from JSON with PR_MESSAGE_FLAGS (Integer 0x0E07: read, not unsent), PR_MESSAGE_DELIVERY_TIME (0x0E06) and PR_CLIENT_SUBMIT_TIME (0x0039) so it is not a draft and keeps its dates; attachments from the stored MIME (upload session above 3 MB); read state, flag, categories, importance kept current by PATCH',
    fidelity: {
      preserved: ['folder', 'subject', 'from', 'to', 'cc', 'bcc', 'replyTo', 'internetMessageId', 'receivedDateTime', 'sentDateTime', 'isRead', 'isDraft', 'importance', 'categories', 'flag', 'bodyText', 'attachments'],
      lost: [
        IDS,
        { field: 'MIME bytes and transport headers (Received, Authentication-Results, X-*)', why: 'Exchange re-renders MIME from the item\'s properties and does not let internetMessageHeaders be written; the original .eml stays in the owned storage' },
        { field: 'conversationId, conversationIndex', why: 'recomputed by the standby from subject and headers, so threads may group differently' },
        { field: 'inferenceClassification (Focused/Other)', why: 'recomputed by the standby' },
        { field: 'createdDateTime, lastModifiedDateTime', why: 'set by the standby when the item is created' },
        { field: 'HTML body markup', why: 'Exchange rewrites HTML; the visible text is compared, not the markup' },
        { field: 'item attachments (attached Outlook items)', why: 'restored as .eml file attachments' },
        { field: 'messages moved between folders', why: 'a move gives a new id in Graph: the standby message is deleted and re-created in the new folder' },
      ],
    },
  },
  {
    kind: K.driveFolder,
    service: 'microsoft',
    title: 'OneDrive folders',
    dependsOn: [],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/drive/root/delta (deleted facet for removals; 410 resyncRequired triggers a full enumeration)',
    importVia: 'POST /items/{parent}/children with fileSystemInfo (adopted by parent and name); PATCH for renames, moves and times',
    fidelity: {
      preserved: ['root', 'name', 'parent', 'created', 'modified'],
      lost: [
        { field: 'id, eTag, cTag, webUrl', why: 'assigned by the standby; mapped through the id map' },
        { field: 'sharing links and permissions', why: 'link URLs cannot be recreated; permissions are not exported by this version' },
        { field: 'createdBy, lastModifiedBy', why: 'the importing application becomes the author' },
      ],
    },
  },
  {
    kind: K.driveFile,
    service: 'microsoft',
    title: 'OneDrive files',
    dependsOn: [K.driveFolder],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/drive/root/delta; content streamed from /items/{id}/content and checked against quickXorHash',
    importVia: 'createUploadSession (conflictBehavior replace, fileSystemInfo) and fragments of 10 MiB (a multiple of 320 KiB), streamed from the owned storage; empty files by PUT content',
    fidelity: {
      preserved: ['name', 'parent', 'size', 'quickXorHash', 'created', 'modified'],
      lost: [
        { field: 'id, eTag, cTag, webUrl', why: 'assigned by the standby; mapped through the id map' },
        { field: 'version history', why: 'only the current version is exported' },
        { field: 'sharing links and permissions', why: 'link URLs cannot be recreated; permissions are not exported by this version' },
        { field: 'createdBy, lastModifiedBy', why: 'the importing application becomes the author' },
        { field: 'OneNote notebooks and other packages', why: 'package items are skipped (see uncovered: OneNote)' },
      ],
    },
  },
  {
    kind: K.event,
    service: 'microsoft',
    title: 'Calendar events',
    dependsOn: [],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/calendarView/delta over a window of 5 years back and forward (renewed by a full resync); series masters by GET /events/{seriesMasterId}',
    importVia: 'POST /users/{id}/events WITHOUT attendees, so Exchange sends no invitations; the attendee list is appended to the body and kept in an extended property; later changes by PATCH',
    fidelity: {
      preserved: ['subject', 'bodyText', 'start', 'end', 'isAllDay', 'location', 'recurrence', 'showAs', 'sensitivity', 'importance', 'categories', 'isReminderOn', 'reminderMinutesBeforeStart', 'attendees'],
      lost: [
        IDS,
        { field: 'attendees as meeting participants', why: 'creating an event with attendees sends them invitations; the standby event has no attendees, the list is in its body and an extended property (compared as "attendees")' },
        { field: 'attendee responses, organizer', why: 'responses cannot be written; the standby mailbox owner becomes the organizer' },
        { field: 'iCalUId, online meeting links', why: 'assigned by the standby' },
        { field: 'modified and cancelled single occurrences of a series', why: 'the series is restored from its pattern' },
        { field: 'events outside the sync window, event attachments', why: 'not exported by this version' },
        { field: 'silence towards attendees after a failover', why: 'replicating back onto an original meeting that has attendees patches only what differs, but a changed time or place makes Exchange send them an update' },
      ],
    },
  },
  {
    kind: K.contactFolder,
    service: 'microsoft',
    title: 'Contact folders',
    dependsOn: [],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/contactFolders/delta (the default Contacts folder found as the parent of its folders and contacts)',
    importVia: 'default folder mapped to the standby\'s; others created under their mapped parent (adopted by name), renamed by PATCH',
    fidelity: { preserved: ['isDefault', 'name', 'parent'], lost: [IDS, { field: 'folder moves', why: 'a folder moved at the source keeps its standby parent until re-created' }] },
  },
  {
    kind: K.contact,
    service: 'microsoft',
    title: 'Personal contacts',
    dependsOn: [K.contactFolder],
    possession: 'restorable',
    exportVia: 'GET /users/{id}/contactFolders/{id}/contacts/delta per folder',
    importVia: 'POST into the mapped folder with the source id as an extended property; PATCH for changes',
    fidelity: {
      preserved: ['folder', 'displayName', 'givenName', 'surname', 'middleName', 'nickName', 'title', 'companyName', 'department', 'jobTitle', 'officeLocation', 'emailAddresses', 'businessPhones', 'homePhones', 'mobilePhone', 'businessAddress', 'homeAddress', 'otherAddress', 'birthday', 'personalNotes', 'categories', 'imAddresses', 'spouseName', 'children', 'profession', 'manager', 'assistantName', 'businessHomePage', 'fileAs'],
      lost: [IDS, { field: 'contact photo', why: 'not exported by this version' }],
    },
  },
];

export const MICROSOFT_UNCOVERED: UncoveredKind[] = [
  { kind: 'microsoft.teamsChat', service: 'microsoft', title: 'Teams chats and channel messages', reason: 'export needs the protected, metered Teams export APIs; history can only be imported into new teams in migration mode, not into existing chats' },
  { kind: 'microsoft.planner', service: 'microsoft', title: 'Planner plans and tasks', reason: 'no delta export in Graph v1.0 and not implemented; assignments and comments would not restore faithfully' },
  { kind: 'microsoft.onenote', service: 'microsoft', title: 'OneNote notebooks', reason: 'notebooks are OneDrive packages; the OneNote API no longer accepts app-only access, so they are skipped' },
  { kind: 'microsoft.sharepointSite', service: 'microsoft', title: 'SharePoint sites, lists and libraries beyond OneDrive', reason: 'not implemented in this version (only users\' OneDrive is exported)' },
  { kind: 'microsoft.forms', service: 'microsoft', title: 'Microsoft Forms', reason: 'no Graph API for forms or responses' },
  { kind: 'microsoft.stream', service: 'microsoft', title: 'Stream videos', reason: 'stored in OneDrive/SharePoint; Stream metadata (chapters, transcripts) has no export API' },
  { kind: 'microsoft.mailboxRules', service: 'microsoft', title: 'Mailbox rules and settings', reason: 'messageRules and mailboxSettings are readable but not exported by this version' },
  { kind: 'microsoft.groupMailbox', service: 'microsoft', title: 'Microsoft 365 group conversations, shared mailboxes, archives', reason: 'only user mailboxes are exported; group conversations have no delta API' },
  { kind: 'microsoft.todo', service: 'microsoft', title: 'To Do task lists', reason: 'not implemented in this version' },
  { kind: 'microsoft.directoryObjects', service: 'microsoft', title: 'Groups, applications, policies (Entra ID)', reason: 'identity configuration is out of scope; users are exported for possession only' },
];
