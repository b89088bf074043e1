/**
 * A local Microsoft 365 tenant (Microsoft Graph v1.0 + the identity platform's client-credentials
 * flow) for tests, demos and benchmarks, usable as a source or a standby tenant.
 *
 * TLS: @azure/msal-node refuses non-https authorities and the Graph client only attaches tokens to
 * https URLs, so the emulator serves HTTPS with a self-signed certificate it creates at start. The
 * certificate is written to `caFile`: give it to Node as NODE_EXTRA_CA_CERTS, or pass `caCertificate`
 * to a client that accepts an explicit CA.
 *
 *   const emu = await startMicrosoftEmulator({ seed: 'small' });
 *   // emu.graphBaseUrl, emu.authorityHost, emu.tenantId, emu.credentials, emu.caFile
 *   emu.mutate.deliverMessage('adele@contoso.onmicrosoft.com');
 *   await emu.stop();
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from './auth.js';
import { calendarRoutes } from './calendar.js';
import { contactRoutes } from './contacts.js';
import { DriveService } from './drive.js';
import { FaultInjector, type FaultCounters } from './faults.js';
import { GRAPH_MAILBOX_LIMITS, MailboxLimiter, type MailboxCounters, type MailboxLimitOptions } from './limits.js';
import { mailRoutes } from './mail.js';
import { Mutator } from './mutate.js';
import { type SeedProfile, type SeedSpec, seedTenant } from './seed.js';
import { GraphServer, type ServerStats } from './server.js';
import { type InvitationRecord, TenantState } from './state.js';
import { createSelfSignedCert } from './tls.js';
import { UploadSessions } from './uploads.js';
import { userRoutes } from './users.js';

export { Mutator } from './mutate.js';
export type { TenantState, UserState, MessageState, DriveItemState, EventState, ContactState, InvitationRecord } from './state.js';
export type { SeedProfile, SeedSpec } from './seed.js';
export type { MailboxLimitOptions } from './limits.js';
export { quickXorBase64, QuickXorHash } from './quickxor.js';

export interface MicrosoftEmulatorOptions {
  host?: string;
  port?: number;
  /** A profile name ('small' | 'large' | 'empty') or a spec with counts. Default 'small'. */
  seed?: SeedProfile | SeedSpec;
  /** Random seed of ids and content. Default 1. */
  seedNumber?: number;
  /** Tenant domain. Default contoso.onmicrosoft.com. */
  domain?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Fault spec, e.g. 'latency=20,error5xx=0.1,rate429=0.05,drop=0.02'. */
  faults?: string | null;
  /** Outlook per-mailbox limits (concurrency 4, 10,000 requests / 10 min by default; timeScale shortens the window). */
  limits?: Partial<MailboxLimitOptions>;
  /** Access token lifetime in seconds (default 3599). */
  tokenTtlSeconds?: number;
  /** Where large uploads are spooled (default: a temp dir removed on stop). */
  dataDir?: string;
}

export interface MicrosoftEmulatorStats {
  server: ServerStats;
  mailboxes: Record<string, MailboxCounters>;
  faults: FaultCounters;
  tokensIssued: number;
  uploadsCompleted: number;
  invitationsSent: number;
}

export interface MicrosoftEmulator {
  service: 'microsoft';
  /** Graph root without the version, e.g. https://127.0.0.1:PORT (the client adds /v1.0). */
  graphBaseUrl: string;
  /** Authority host for @azure/msal-node: `${authorityHost}/${tenantId}`. */
  authorityHost: string;
  tenantId: string;
  credentials: { clientId: string; clientSecret: string };
  domain: string;
  users: Array<{ id: string; userPrincipalName: string; displayName: string }>;
  /** PEM of the self-signed certificate (its own CA). */
  caCertificate: string;
  /** The same PEM in a file, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  state: TenantState;
  mutate: Mutator;
  setFaults(spec: string | null): void;
  setLimits(limits: Partial<MailboxLimitOptions>): void;
  /** Invitations Exchange would have sent (events created or updated with attendees). */
  invitations(): InvitationRecord[];
  stats(): MicrosoftEmulatorStats;
  stop(): Promise<void>;
}

export async function startMicrosoftEmulator(opts: MicrosoftEmulatorOptions = {}): Promise<MicrosoftEmulator> {
  const seedNumber = opts.seedNumber ?? 1;
  const domain = (opts.domain ?? 'contoso.onmicrosoft.com').toLowerCase();
  const spec: SeedSpec = typeof opts.seed === 'object' ? opts.seed : { profile: opts.seed ?? 'small' };
  if (!['small', 'large', 'empty'].includes(spec.profile)) throw new Error(`unknown seed profile "${spec.profile}" (choose small, large or empty)`);
  const probe = new TenantState('00000000-0000-0000-0000-000000000000', domain, seedNumber + 7919);
  const tenantId = opts.tenantId ?? probe.newGuid();
  const clientId = opts.clientId ?? probe.newGuid();
  const clientSecret = opts.clientSecret ?? `emu~${Buffer.from(probe.newGuid()).toString('base64url').slice(0, 32)}`;
  const tenant = new TenantState(tenantId, domain, seedNumber);
  seedTenant(tenant, spec);

  const ownDir = opts.dataDir ? null : await mkdtemp(join(tmpdir(), 'norestore-msemu-'));
  const dataDir = opts.dataDir ?? (ownDir as string);
  const cert = createSelfSignedCert();
  const caFile = join(dataDir, 'emulator-ca.pem');
  await writeFile(caFile, cert.cert);

  const auth = new AuthService(tenantId, domain, [{ clientId, clientSecret }], opts.tokenTtlSeconds ?? 3599);
  const limiter = new MailboxLimiter({ ...GRAPH_MAILBOX_LIMITS, ...(opts.limits ?? {}) });
  const faults = new FaultInjector(opts.faults ?? null);
  const uploads = new UploadSessions(dataDir);
  const drive = new DriveService(tenant, uploads, dataDir);
  const server = new GraphServer({ tenant, auth, limiter, faults, uploads, drive, cert, routes: [...userRoutes(), ...mailRoutes(uploads), ...calendarRoutes(), ...contactRoutes()] });
  const origin = await server.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
  const mutate = new Mutator(tenant, dataDir);

  return {
    service: 'microsoft',
    graphBaseUrl: origin,
    authorityHost: origin,
    tenantId,
    credentials: { clientId, clientSecret },
    domain,
    get users() {
      return [...tenant.users.values()].map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName }));
    },
    caCertificate: cert.cert,
    caFile,
    state: tenant,
    mutate,
    setFaults: (s) => faults.set(s),
    setLimits: (l) => {
      limiter.opts = { ...limiter.opts, ...l };
    },
    invitations: () => [...tenant.invitations],
    stats: () => ({
      server: JSON.parse(JSON.stringify(server.stats)) as ServerStats,
      mailboxes: limiter.counters(),
      faults: { ...faults.counters },
      tokensIssued: auth.issued,
      uploadsCompleted: uploads.completed,
      invitationsSent: tenant.invitations.length,
    }),
    stop: async () => {
      await server.close();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
