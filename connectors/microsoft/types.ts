/**
 * Options and shared types of the Microsoft 365 connector.
 */
import type { Logger } from '../../src/model/connector.js';

/** One Microsoft 365 tenant as the connector reaches it (an app registration with application permissions). */
export interface MicrosoftTenant {
  /** Directory (tenant) id: a GUID or a domain like acme.onmicrosoft.com. */
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Default https://login.microsoftonline.com */
  authorityHost?: string;
  /** Graph root without the version; default https://graph.microsoft.com (the connector adds /v1.0). */
  graphBaseUrl?: string;
  /**
   * Extra trusted CA certificates (PEM) for the authority and Graph hosts: a private PKI or a
   * TLS-inspecting proxy. The CLI can equally use NODE_EXTRA_CA_CERTS.
   */
  caCertificate?: string;
}

export interface MicrosoftConnectorOptions {
  source: MicrosoftTenant;
  standby: MicrosoftTenant;
  /** Source -> standby addresses: explicit users win over the domain rewrite; unmapped addresses stay as they are. */
  identity?: { domains?: Record<string, string>; users?: Record<string, string> };
  /** userPrincipalName patterns (glob with * and ?) of the users whose scopes are worked; default all. */
  include?: string[];
  exclude?: string[];
  /** Concurrent requests per mailbox (Graph: at most 4). */
  mailboxConcurrency?: number;
  /** Requests per mailbox per 10 minutes (Graph: 10,000). */
  mailboxRequestsPer10Minutes?: number;
  /** The window those requests are counted in (default 10 minutes; shorter only against a time-scaled emulator). */
  mailboxWindowMs?: number;
  /** Calendar window of the calendarView delta, in days before and after the first sync (default 1825 each). */
  calendarWindowDays?: { past: number; future: number };
  /** First back-off of a retry without Retry-After (default 200 ms, doubling, capped at 30 s). */
  retryBaseMs?: number;
  /** Bytes per upload-session fragment (a multiple of 320 KiB; default 10 MiB). */
  uploadFragmentBytes?: number;
  log: Logger;
}

/** Kind names. */
export const K = {
  user: 'microsoft.user',
  mailFolder: 'microsoft.mailFolder',
  message: 'microsoft.message',
  driveFolder: 'microsoft.driveFolder',
  driveFile: 'microsoft.driveFile',
  event: 'microsoft.event',
  contactFolder: 'microsoft.contactFolder',
  contact: 'microsoft.contact',
} as const;

/** Annotations the connector adds to a record's raw object (never sent back to Graph). */
export const NR = {
  wellKnownName: 'norestore:wellKnownName',
  isDefault: 'norestore:isDefault',
} as const;

/**
 * The named extended property that carries the source item's id on standby items (messages, events,
 * contacts): the natural key that lets a re-run adopt what a crashed run created.
 */
export const SOURCE_ID_PROP = 'String {5b2d58a3-5ee0-4d2c-a0b4-7a5c6f0a1e11} Name norestoreSourceId';
/** Attendees of an imported event (JSON), kept for verification since they are not invited. */
export const ATTENDEES_PROP = 'String {5b2d58a3-5ee0-4d2c-a0b4-7a5c6f0a1e11} Name norestoreAttendees';

export interface ClientStats {
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  networkErrors: number;
  pacedMs: number;
  uploadedBytes: number;
  downloadedBytes: number;
}

export type ScopeKind = 'directory' | 'mail' | 'drive' | 'calendar' | 'contacts';

export interface UserRef {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string | null;
}
