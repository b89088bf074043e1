/**
 * The Google Workspace emulator: one domain (source or standby) served over HTTP for googleapis
 * clients through `rootUrl`, with an OAuth token endpoint for a service account with domain-wide
 * delegation. Entry point for tests, the demo, the benchmarks and `norestore emulate google`.
 *
 *   const emu = await startGoogleEmulator({ domain: 'acme.test', profile: 'small' });
 *   // google-auth-library JWT with emu.credentials.serviceAccount, subject = a user, token URL = emu.tokenUrl
 *   // new gmail_v1.Gmail({ auth, rootUrl: emu.rootUrl })
 *   await emu.stop();
 */
import { createServiceAccount, type ServiceAccountKey, TokenService } from './auth.js';
import { calendarHandlers } from './calendar.js';
import { directoryHandlers } from './directory.js';
import { driveHandlers } from './drive.js';
import { FaultInjector, type FaultCounters } from './faults.js';
import { gmailHandlers } from './gmail.js';
import type { EmulatorEnv } from './http.js';
import { METHODS } from './methods.js';
import { Mutations } from './mutate.js';
import { QuotaKeeper, type QuotaOptions, type QuotaUse } from './quota.js';
import { seedDomain, type ProfileName, type SeedProfile } from './seed.js';
import { GoogleServer, type ServerStats } from './server.js';
import { DomainState } from './state.js';

export type { ServiceAccountKey } from './auth.js';
export type { QuotaOptions } from './quota.js';
export type { ProfileName, SeedProfile } from './seed.js';
export { PROFILES } from './seed.js';
export type { Mutations, MailSpec, FileSpec, EventSpec } from './mutate.js';
export { NATIVE, OFFICE } from './ooxml.js';

export interface GoogleEmulatorOptions {
  /** The Workspace domain (default acme.test). */
  domain?: string;
  /** Seeding profile (default small); 'empty' has only the admin (a standby). */
  profile?: ProfileName | SeedProfile;
  seed?: number;
  host?: string;
  port?: number;
  /** Fault spec, e.g. 'latency=20,error5xx=0.1,rate429=0.05,drop=0.02'. */
  faults?: string | null;
  /** Per-user quotas; Google's defaults (Gmail 250 units/s per user ...). */
  quota?: Partial<QuotaOptions>;
  /** Gmail history records kept per mailbox (default 100,000). */
  historyLimit?: number;
  /** Access token lifetime (default 3600 s). */
  tokenTtlSeconds?: number;
  /** Drive export size limit (default 10 MB). */
  exportLimitBytes?: number;
  /** Service account private key (PKCS#8 PEM); default a new RSA key. */
  privateKeyPem?: string;
  /** Scopes granted to the service account by domain-wide delegation (default every scope served). */
  delegatedScopes?: string[];
}

export interface GoogleEmulatorStats {
  requests: number;
  byMethod: Record<string, number>;
  errors: Record<string, number>;
  tokensIssued: number;
  uploadSessions: number;
  quota: QuotaUse;
  faults: FaultCounters;
  /** Drive notification emails that would have been sent (permissions created with notification). */
  notificationEmails: number;
}

export interface GoogleEmulator {
  service: 'google';
  /** Root URL for googleapis clients (with trailing slash). */
  rootUrl: string;
  /** The OAuth token endpoint. */
  tokenUrl: string;
  domain: string;
  credentials: { serviceAccount: ServiceAccountKey; adminUser: string };
  /** Users of the domain after seeding (admin first). */
  users: string[];
  groups: string[];
  sharedDrives: string[];
  mutate: Mutations;
  /** The domain's state, for white-box checks in tests. */
  state: DomainState;
  setFaults(spec: string | null): void;
  setQuota(opts: Partial<QuotaOptions>): void;
  /** Expire every issued access token now. */
  expireTokens(): void;
  stats(): GoogleEmulatorStats;
  stop(): Promise<void>;
}

export const ALL_SCOPES: readonly string[] = [...new Set(METHODS.flatMap((m) => m.scopes))].sort();

export async function startGoogleEmulator(opts: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  const domain = (opts.domain ?? 'acme.test').toLowerCase();
  const state = new DomainState({ domain, historyLimit: opts.historyLimit });
  const env: EmulatorEnv = { state, rootUrl: '', exportLimitBytes: opts.exportLimitBytes ?? 10 * 1024 * 1024 };
  const faults = new FaultInjector(opts.faults ?? null);
  const quota = new QuotaKeeper(opts.quota ?? {}, () => Date.now());
  // The token URL is known only once the server listens; the service account is created after.
  let tokens: TokenService | null = null;
  const tokenProxy = {
    grant: (form: URLSearchParams) => (tokens as TokenService).grant(form),
    check: (h: string | undefined) => (tokens as TokenService).check(h),
  } as unknown as TokenService;
  const server = new GoogleServer({ env, tokens: tokenProxy, quota, faults, handlers: { ...gmailHandlers, ...driveHandlers, ...calendarHandlers, ...directoryHandlers } });
  const { origin } = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  const rootUrl = `${origin}/`;
  const tokenUrl = `${origin}/token`;
  env.rootUrl = rootUrl;
  const { key, publicKey } = createServiceAccount(domain, tokenUrl, opts.privateKeyPem);
  tokens = new TokenService({
    clientEmail: key.client_email,
    publicKey,
    tokenUrl,
    delegatedScopes: new Set(opts.delegatedScopes ?? [...ALL_SCOPES, 'https://mail.google.com/']),
    userExists: (email) => {
      const u = state.users.get(email);
      return !!u && !u.suspended;
    },
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600,
    now: () => Date.now(),
  });
  const mutate = new Mutations(env);
  let seeded;
  try {
    seeded = await seedDomain(state, mutate, opts.profile ?? 'small', opts.seed ?? 1);
  } catch (err) {
    await server.close();
    await state.close();
    throw err;
  }
  let stopped = false;
  return {
    service: 'google',
    rootUrl,
    tokenUrl,
    domain,
    credentials: { serviceAccount: key, adminUser: seeded.admin },
    users: [seeded.admin, ...seeded.users],
    groups: seeded.groups,
    sharedDrives: seeded.sharedDrives,
    mutate,
    state,
    setFaults: (spec) => faults.set(spec),
    setQuota: (q) => quota.configure(q),
    expireTokens: () => tokens?.expireAll(),
    stats: (): GoogleEmulatorStats => {
      const s: ServerStats = server.stats;
      return {
        requests: s.requests,
        byMethod: { ...s.byMethod },
        errors: { ...s.errors },
        tokensIssued: s.tokensIssued,
        uploadSessions: s.uploadSessions,
        quota: { used: { ...quota.use.used }, throttled: { ...quota.use.throttled } },
        faults: { ...faults.counters },
        notificationEmails: state.drive.notificationsSent,
      };
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await state.close();
    },
  };
}
