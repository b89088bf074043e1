/**
 * Options of the Google Workspace connector, kind names, scope ids, and the identity mapping.
 * Wire types are googleapis' own schema types (gmail_v1.Schema$Message, drive_v3.Schema$File ...);
 * schema.ts validates the parts of them that norestore stores and relies on.
 */
import type { Logger } from '../../src/model/connector.js';

/** One Workspace domain: the source or the standby. */
export interface GoogleTenant {
  domain: string;
  /** A super admin, impersonated (domain-wide delegation) for directory calls and shared drives. */
  adminUser: string;
  /** The service account's key (the private key is a PEM string; never logged). */
  serviceAccount: { clientEmail: string; privateKey: string };
  /** API root (default https://www.googleapis.com/). */
  rootUrl?: string;
  /** OAuth token endpoint (default https://oauth2.googleapis.com/token). */
  tokenUrl?: string;
}

export interface GoogleConnectorOptions {
  source: GoogleTenant;
  standby: GoogleTenant;
  /** Domain rewrite (source -> standby) and explicit address overrides (win over the rewrite). */
  identity?: { domains?: Record<string, string>; users?: Record<string, string> };
  /** Office exports of Docs/Sheets/Slides become native documents again on the standby (default true). */
  convertOfficeToNative?: boolean;
  /** User address patterns (`*`, `?`) whose mailbox, drive and calendar are scopes; default all. */
  include?: string[];
  exclude?: string[];
  /** Per-user Gmail quota ceiling in units per second (default 250, Google's historical limit). */
  gmailUnitsPerSecond?: number;
  /** Share of each quota ceiling the pacer uses (default 0.95): close to the ceiling, not past it. */
  quotaShare?: number;
  /** Base of the exponential retry back-off in ms (default 1000). */
  retryBaseMs?: number;
  log: Logger;
}

export const K = {
  user: 'google.user',
  group: 'google.group',
  member: 'google.member',
  label: 'gmail.label',
  message: 'gmail.message',
  sharedDrive: 'drive.shared-drive',
  file: 'drive.file',
  calendar: 'calendar.calendar',
  event: 'calendar.event',
} as const;

/**
 * appProperties keys norestore writes on the Drive items it creates: the source id (the natural key
 * for adoption after a crash; after a failover, the id of the original in the old primary) and the
 * content digest.
 */
export const NR_SRC = 'nrSrc';
export const NR_SHA = 'nrSha';

export const GOOGLE_DEFAULT_ROOT = 'https://www.googleapis.com/';
export const GOOGLE_DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type ScopeKind = 'directory' | 'mailbox' | 'drive' | 'calendar' | 'shared-drive';

export interface ClientStats {
  requests: number;
  /** Quota units (Gmail) or requests (other APIs) spent. */
  units: number;
  /** Rate-limit answers (403 userRateLimitExceeded / rateLimitExceeded, 429) received. */
  throttled: number;
  /** Retries of 5xx answers and dropped connections. */
  retried: number;
  /** Milliseconds spent waiting in the pacer. */
  pacedMs: number;
}

// Scope ids ----------------------------------------------------------------------------------------

/** Reversible encoding of any text into one scope-id segment of [a-z0-9._-]. */
export function encodeSegment(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[a-z0-9.-]/.test(ch)) out += ch;
    else if (ch === '_') out += '__';
    else out += '_' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

export function decodeSegment(seg: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < seg.length; i++) {
    if (seg[i] === '_') {
      if (seg[i + 1] === '_') {
        bytes.push(0x5f);
        i++;
      } else {
        bytes.push(parseInt(seg.slice(i + 1, i + 3), 16));
        i += 2;
      }
    } else bytes.push(seg.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** gmail~acme.com~alice, drive~acme.com~alice, calendar~acme.com~alice (address lower case). */
export function userScopeId(kind: 'mailbox' | 'drive' | 'calendar', email: string): string {
  const [local, domain] = email.toLowerCase().split('@') as [string, string];
  const prefix = kind === 'mailbox' ? 'gmail' : kind;
  return `${prefix}~${encodeSegment(domain)}~${encodeSegment(local)}`;
}

export function sharedDriveScopeId(driveId: string): string {
  return `shared-drive~${encodeSegment(driveId)}`;
}

/** What a scope id designates: a user's mailbox/drive/calendar, a shared drive, or the directory. */
export function parseScopeId(id: string): { kind: ScopeKind; user?: string; driveId?: string } {
  const parts = id.split('~');
  if (parts[0] === 'directory' && parts.length === 1) return { kind: 'directory' };
  if (parts[0] === 'shared-drive' && parts.length === 2) return { kind: 'shared-drive', driveId: decodeSegment(parts[1] as string) };
  const kinds: Record<string, ScopeKind> = { gmail: 'mailbox', drive: 'drive', calendar: 'calendar' };
  const kind = kinds[parts[0] as string];
  if (kind && parts.length === 3) return { kind, user: `${decodeSegment(parts[2] as string)}@${decodeSegment(parts[1] as string)}` };
  throw new Error(`not a Google scope id: ${id} (expected directory, gmail~DOMAIN~USER, drive~DOMAIN~USER, calendar~DOMAIN~USER or shared-drive~ID)`);
}

// Identity -------------------------------------------------------------------------------------------

/**
 * Source address -> standby address: an explicit override, else the domain rewritten (the source
 * domain always maps to the standby domain unless told otherwise), else unchanged (external).
 */
export class IdentityMap {
  private readonly users: Map<string, string>;
  private readonly domains: Map<string, string>;
  private readonly reverseUsers: Map<string, string>;
  private readonly reverseDomains: Map<string, string>;

  constructor(source: GoogleTenant, standby: GoogleTenant, identity: GoogleConnectorOptions['identity'] = {}) {
    this.domains = new Map(Object.entries(identity.domains ?? {}).map(([a, b]) => [a.toLowerCase(), b.toLowerCase()]));
    if (!this.domains.has(source.domain.toLowerCase())) this.domains.set(source.domain.toLowerCase(), standby.domain.toLowerCase());
    this.users = new Map(Object.entries(identity.users ?? {}).map(([a, b]) => [a.toLowerCase(), b.toLowerCase()]));
    const adminSrc = source.adminUser.toLowerCase();
    if (!this.users.has(adminSrc)) this.users.set(adminSrc, standby.adminUser.toLowerCase());
    this.reverseUsers = new Map([...this.users].map(([a, b]) => [b, a]));
    this.reverseDomains = new Map([...this.domains].map(([a, b]) => [b, a]));
  }

  address(email: string): string {
    const e = email.toLowerCase();
    const u = this.users.get(e);
    if (u) return u;
    const at = e.lastIndexOf('@');
    if (at < 0) return e;
    const d = this.domains.get(e.slice(at + 1));
    return d ? `${e.slice(0, at)}@${d}` : e;
  }

  domain(domain: string): string {
    return this.domains.get(domain.toLowerCase()) ?? domain.toLowerCase();
  }

  /** Standby address -> source address (for messages that name the standby identity). */
  reverse(email: string): string {
    const e = email.toLowerCase();
    const u = this.reverseUsers.get(e);
    if (u) return u;
    const at = e.lastIndexOf('@');
    if (at < 0) return e;
    const d = this.reverseDomains.get(e.slice(at + 1));
    return d ? `${e.slice(0, at)}@${d}` : e;
  }
}

/** Glob with `*` and `?` (case-insensitive). */
export function globMatcher(patterns: string[] | undefined): ((text: string) => boolean) | null {
  if (!patterns?.length) return null;
  const res = patterns.map((p) => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i'));
  return (text) => res.some((re) => re.test(text));
}
