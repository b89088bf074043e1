/**
 * The Google Workspace connector. Scopes: the directory; each user's mailbox, My Drive and
 * calendars; each shared drive. Exported incrementally into the owned storage and imported
 * continuously into the standby domain with identity mapping.
 * File layout (shared by every connector): types.ts options, ids and identity; schema.ts zod
 * schemas of what is stored; kinds.ts fidelity declarations; client.ts the one client with pacing
 * and retries; export.ts, import.ts, verify.ts, normalize.ts.
 */
import type { Connector, ScopeRef } from '../../src/model/connector.js';
import { GoogleClient, READ_SCOPES, WRITE_SCOPES, pages } from './client.js';
import type { GoogleEnv } from './env.js';
import { exportScope } from './export.js';
import { importScope } from './import.js';
import { GOOGLE_UNCOVERED, googleKinds } from './kinds.js';
import { normalizeStored } from './normalize.js';
import { IdentityMap, globMatcher, sharedDriveScopeId, userScopeId, type ClientStats, type GoogleConnectorOptions } from './types.js';
import { readStandby } from './verify.js';

export type { GoogleConnectorOptions, GoogleTenant } from './types.js';

export interface GoogleConnector extends Connector {
  /** Requests, quota units, throttling and retries so far, per tenant (status, benchmarks). */
  stats(): { source: ClientStats; standby: ClientStats };
}

export function createGoogleConnector(opts: GoogleConnectorOptions): GoogleConnector {
  const convertOfficeToNative = opts.convertOfficeToNative ?? true;
  const common = { log: opts.log, gmailUnitsPerSecond: opts.gmailUnitsPerSecond, quotaShare: opts.quotaShare, retryBaseMs: opts.retryBaseMs };
  const env: GoogleEnv = {
    source: new GoogleClient({ ...common, tenant: opts.source, role: 'source', scopes: READ_SCOPES }),
    standby: new GoogleClient({ ...common, tenant: opts.standby, role: 'standby', scopes: WRITE_SCOPES }),
    identity: new IdentityMap(opts.source, opts.standby, opts.identity),
    convertOfficeToNative,
    sourceAdmin: opts.source.adminUser.toLowerCase(),
    standbyAdmin: opts.standby.adminUser.toLowerCase(),
    log: opts.log,
    knownStandby: new Set(),
  };
  const include = globMatcher(opts.include);
  const exclude = globMatcher(opts.exclude);

  return {
    service: 'google',
    kinds: googleKinds({ convertOfficeToNative }),
    uncovered: GOOGLE_UNCOVERED,

    async scopes(): Promise<ScopeRef[]> {
      const src = env.source;
      const admin = env.sourceAdmin;
      const out: ScopeRef[] = [{ id: 'directory', type: 'directory', name: `directory of ${opts.source.domain}` }];
      for await (const page of pages((t) => src.call(admin, 'directory', 1, (a) => a.admin.users.list({ customer: 'my_customer', maxResults: 500, orderBy: 'email', pageToken: t }), { what: 'users.list' }))) {
        for (const u of page.users ?? []) {
          const email = u.primaryEmail?.toLowerCase();
          if (!email) continue;
          if (u.suspended || u.archived) {
            // Google refuses to impersonate a suspended user: nothing of theirs can be read meanwhile.
            opts.log.warn('suspended user: mailbox, drive and calendar not exported while suspended (earlier exports stay possessed)', { user: email });
            continue;
          }
          if ((include && !include(email)) || (exclude && exclude(email))) continue;
          out.push({ id: userScopeId('mailbox', email), type: 'mailbox', name: email });
          out.push({ id: userScopeId('drive', email), type: 'drive', name: email });
          out.push({ id: userScopeId('calendar', email), type: 'calendar', name: email });
        }
      }
      for await (const page of pages((t) => src.call(admin, 'drive', 1, (a) => a.drive.drives.list({ useDomainAdminAccess: true, pageSize: 100, pageToken: t }), { what: 'drives.list' }))) {
        for (const d of page.drives ?? []) if (d.id) out.push({ id: sharedDriveScopeId(d.id), type: 'shared-drive', name: d.name ?? d.id });
      }
      return out.sort((a, b) => a.id.localeCompare(b.id));
    },

    exportScope: (scope, cursor, ctx) => exportScope(env, scope, cursor, ctx),
    importChanges: (scope, records, ctx) => importScope(env, scope, records, ctx),
    readStandby: (scope, ctx) => readStandby(env, scope, ctx),
    normalize: (record, ctx) => normalizeStored(record, { identity: env.identity, standbyAdmin: env.standbyAdmin, convertOfficeToNative, getBlob: (sha) => ctx.getBlob(sha) }),

    stats: () => ({ source: { ...env.source.stats }, standby: { ...env.standby.stats } }),

    async close(): Promise<void> {
      env.knownStandby.clear();
    },
  };
}
