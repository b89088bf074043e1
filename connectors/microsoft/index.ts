/**
 * The Microsoft 365 connector: a `directory` scope (users, possessed only) and, per user of the
 * source tenant, four scopes -- mail~<user>, drive~<user>, calendar~<user>, contacts~<user> --
 * exported incrementally by Graph delta queries into the owned storage and imported continuously
 * into the mapped user of the standby tenant (identity.users, then identity.domains, else the same
 * address). File layout as every connector: types.ts, schema.ts, kinds.ts, client.ts (the one
 * client with pacing), export.ts, import.ts, verify.ts, normalize.ts; mime.ts and quickxor.ts are
 * format helpers.
 */
import type { Connector, ScopeRef } from '../../src/model/connector.js';
import { GraphTenantClient, listAll, statusOf } from './client.js';
import { exportCalendar, exportContacts, exportDirectory, exportDrive, exportMail } from './export.js';
import { importScope } from './import.js';
import { MICROSOFT_KINDS, MICROSOFT_UNCOVERED } from './kinds.js';
import { normalizeStored } from './normalize.js';
import { K, type ClientStats, type MicrosoftConnectorOptions, type ScopeKind, type UserRef } from './types.js';
import { readStandbyScope } from './verify.js';

export type { MicrosoftConnectorOptions, MicrosoftTenant } from './types.js';
export { K as MICROSOFT_KIND } from './types.js';

export interface MicrosoftConnector extends Connector {
  /** Requests, retries and throttling seen so far, per tenant (for status and benchmarks). */
  stats(): { source: ClientStats; standby: ClientStats };
}

const SCOPE_KINDS: ScopeKind[] = ['mail', 'drive', 'calendar', 'contacts'];

function globMatcher(patterns: string[] | undefined): ((upn: string) => boolean) | null {
  if (!patterns?.length) return null;
  const res = patterns.map((p) => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i'));
  return (upn) => res.some((re) => re.test(upn) || re.test(upn.split('@')[0] ?? ''));
}

/** Path-safe segment of a userPrincipalName: adele@contoso.com -> adele_contoso.com */
export function userSegment(upn: string): string {
  return upn.toLowerCase().replace('@', '_').replace(/[^a-z0-9._-]/g, '-');
}

/** Source address -> standby address: explicit users first, then the domain rewrite, else unchanged. */
export function mapAddress(address: string, identity: MicrosoftConnectorOptions['identity']): string {
  const a = address.toLowerCase();
  const users = Object.fromEntries(Object.entries(identity?.users ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (users[a]) return users[a] as string;
  const at = a.lastIndexOf('@');
  if (at < 0) return address;
  const domains = Object.fromEntries(Object.entries(identity?.domains ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const d = domains[a.slice(at + 1)];
  return d ? `${address.slice(0, at)}@${d}` : address;
}

export function createMicrosoftConnector(opts: MicrosoftConnectorOptions): MicrosoftConnector {
  let source: GraphTenantClient | null = null;
  let standby: GraphTenantClient | null = null;
  const common = { log: opts.log, mailboxConcurrency: opts.mailboxConcurrency, mailboxRequestsPer10Minutes: opts.mailboxRequestsPer10Minutes, mailboxWindowMs: opts.mailboxWindowMs, retryBaseMs: opts.retryBaseMs };
  const src = () => (source ??= new GraphTenantClient({ tenant: opts.source, role: 'source', ...common }));
  const sby = () => (standby ??= new GraphTenantClient({ tenant: opts.standby, role: 'standby', ...common }));
  const include = globMatcher(opts.include);
  const exclude = globMatcher(opts.exclude);
  const window = opts.calendarWindowDays ?? { past: 1825, future: 1825 };
  const fragment = opts.uploadFragmentBytes ?? 32 * 320 * 1024;
  if (fragment % (320 * 1024) !== 0) throw new Error(`uploadFragmentBytes must be a multiple of 320 KiB (327,680 bytes), got ${fragment}`);
  const scopeUsers = new Map<string, UserRef>();
  const standbyUsers = new Map<string, Promise<string>>();
  const empty: ClientStats = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, networkErrors: 0, pacedMs: 0, uploadedBytes: 0, downloadedBytes: 0 };

  const kindOf = (scope: ScopeRef): ScopeKind => {
    if (scope.id === 'directory') return 'directory';
    const k = scope.id.split('~')[0] as ScopeKind;
    if (!SCOPE_KINDS.includes(k)) throw new Error(`scope ${scope.id} is not a Microsoft 365 scope (expected directory, mail~, drive~, calendar~ or contacts~)`);
    return k;
  };

  const listScopes = async (): Promise<ScopeRef[]> => {
    const users = await listAll<UserRef>(src(), '/users?$select=id,userPrincipalName,mail,displayName&$top=999');
    const out: ScopeRef[] = [{ id: 'directory', type: 'directory', name: 'Directory users' }];
    const used = new Map<string, string>();
    for (const u of users.sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName))) {
      if (include && !include(u.userPrincipalName)) continue;
      if (exclude?.(u.userPrincipalName)) continue;
      let seg = userSegment(u.userPrincipalName);
      if (used.has(seg) && used.get(seg) !== u.id) seg = `${seg}-${u.id.slice(0, 8).toLowerCase()}`;
      used.set(seg, u.id);
      for (const k of SCOPE_KINDS) {
        const id = `${k}~${seg}`;
        scopeUsers.set(id, u);
        out.push({ id, type: k === 'mail' ? 'mailbox' : k, name: `${u.userPrincipalName} (${k})` });
      }
    }
    return out;
  };

  const sourceUser = async (scope: ScopeRef): Promise<UserRef> => {
    let u = scopeUsers.get(scope.id);
    if (!u) {
      await listScopes();
      u = scopeUsers.get(scope.id);
    }
    if (!u) throw new Error(`scope ${scope.id}: no such user in the source tenant any more (deleted or renamed); its possessed data stays in the owned storage`);
    return u;
  };

  const standbyUserId = (u: UserRef): Promise<string> => {
    const target = mapAddress(u.userPrincipalName, opts.identity);
    let p = standbyUsers.get(target);
    if (!p) {
      p = sby()
        .get<{ id: string }>(`/users/${encodeURIComponent(target)}?$select=id,userPrincipalName`)
        .then(
          (x) => x.id,
          (err: unknown) => {
            standbyUsers.delete(target);
            if (statusOf(err) === 404) {
              throw new Error(`standby user ${target} (for source user ${u.userPrincipalName}) does not exist in the standby tenant: create it with a mailbox and OneDrive, or map the user in identity.users / identity.domains`);
            }
            throw err;
          },
        );
      standbyUsers.set(target, p);
    }
    return p;
  };

  return {
    service: 'microsoft',
    kinds: MICROSOFT_KINDS,
    uncovered: MICROSOFT_UNCOVERED,
    scopes: listScopes,

    async exportScope(scope, cursor, ctx) {
      const kind = kindOf(scope);
      if (kind === 'directory') return exportDirectory(src(), cursor, ctx);
      const u = await sourceUser(scope);
      switch (kind) {
        case 'mail':
          return exportMail(src(), u, cursor, ctx);
        case 'drive':
          return exportDrive(src(), u, cursor, ctx);
        case 'calendar':
          return exportCalendar(src(), u, cursor, ctx, window);
        case 'contacts':
          return exportContacts(src(), u, cursor, ctx);
      }
    },

    async importChanges(scope, records, ctx) {
      const kind = kindOf(scope);
      if (kind === 'directory') return { imported: 0, unchanged: records.length, deleted: 0, failed: [] };
      let sid: string;
      try {
        sid = await standbyUserId(await sourceUser(scope));
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return { imported: 0, unchanged: 0, deleted: 0, failed: records.map((r) => ({ kind: r.kind, id: r.id, error })) };
      }
      return importScope(kind, { c: sby(), sid, ctx, fragmentBytes: fragment }, records);
    },

    async *readStandby(scope, ctx) {
      const kind = kindOf(scope);
      if (kind === 'directory') return;
      const sid = await standbyUserId(await sourceUser(scope));
      yield* readStandbyScope(kind, sby(), sid, ctx);
    },

    normalize: (record, ctx) => normalizeStored(record, ctx),

    async close() {
      source?.close();
      standby?.close();
      source = null;
      standby = null;
    },

    stats() {
      return { source: source ? { ...source.stats } : { ...empty }, standby: standby ? { ...standby.stats } : { ...empty } };
    },
  };
}

export { K };
