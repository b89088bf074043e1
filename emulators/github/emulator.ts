/**
 * Assemble a running GitHub emulator: server, org, admin user and token, a GitHub App with one
 * installation, seeded content, mutation helpers.
 */
import { createApp, newToken } from './auth.js';
import type { LimitOptions } from './limits.js';
import { createMutationApi, type MutationApi } from './mutate.js';
import { parseSeedSpec, seedGithub, type SeedSpec, type SeedSummary } from './seed.js';
import { GithubServer, type EmulatorStats } from './server.js';
import type { GithubState } from './state.js';

export interface GithubEmulatorOptions {
  port?: number;
  host?: string;
  /** `small`, `large:repos=200,issues=5000`, or { profile, seed, ... }; default `small` for a source, `empty` for a standby */
  seed?: string | SeedSpec;
  /** fault spec, e.g. `latency=20,error5xx=0.1,rate429=0.05,drop=0.02,seed=7` */
  faults?: string;
  /** speeds up rate-limit windows (60: a minute lasts a second) */
  timeScale?: number;
  limits?: Partial<LimitOptions>;
  role?: 'source' | 'standby';
  /** organisation login; default `acme` (source) or `acme-standby` (standby) */
  org?: string;
  /** personal access token to accept for the admin (default: a fresh random `ghp_` token) */
  token?: string;
  /** offer the issue import preview endpoint (default true) */
  importApi?: boolean;
  /** delay before an issue import job runs, ms (default 100) */
  importDelayMs?: number;
}

export interface GithubCredentials {
  /** personal access token of the org admin */
  token: string;
  /** login the token belongs to */
  login: string;
  app: { appId: number; installationId: number; privateKeyPem: string; slug: string };
}

export interface RunningGithubEmulator {
  service: 'github';
  role: 'source' | 'standby';
  /** REST base for @octokit/rest `baseUrl` */
  baseUrl: string;
  /** git smart HTTP base: `${gitUrl}/${org}/${repo}.git` */
  gitUrl: string;
  /** uploads host base (release assets), as in `upload_url` */
  uploadsUrl: string;
  credentials: GithubCredentials;
  orgs: string[];
  seed: SeedSummary;
  state: GithubState;
  server: GithubServer;
  mutate: MutationApi;
  setFaults(spec: string | null): void;
  stats(): EmulatorStats;
  stop(): Promise<void>;
}

export async function startGithubEmulator(opts: GithubEmulatorOptions = {}): Promise<RunningGithubEmulator> {
  const role = opts.role ?? 'source';
  const orgLogin = opts.org ?? (role === 'standby' ? 'acme-standby' : 'acme');
  const spec = parseSeedSpec(opts.seed, role === 'standby' ? 'empty' : 'small');
  const server = new GithubServer({
    host: opts.host,
    port: opts.port,
    limits: opts.limits,
    timeScale: opts.timeScale,
    faults: opts.faults,
    importApi: opts.importApi,
    importDelayMs: opts.importDelayMs,
  });
  try {
    await server.listen();
    const st = server.state;
    const adminLogin = `${orgLogin}-admin`;
    const setupAt = Date.UTC(2023, 0, 2);
    st.addUser(adminLogin, { name: 'Org Admin', email: `${adminLogin}@example.invalid`, createdAt: setupAt });
    const org = st.addOrg(orgLogin, { name: orgLogin, description: `${orgLogin} (emulated)`, createdAt: setupAt });
    org.members.set(adminLogin.toLowerCase(), 'admin');
    const token = opts.token ?? newToken('ghp');
    st.addToken(token, adminLogin);
    const appId = 1000 + (org.id % 1000);
    const installationId = 5_000_000 + (org.id % 1000);
    const [{ privateKeyPem }, summary] = await Promise.all([
      createApp(st, { id: appId, slug: 'norestore', owner: orgLogin, installationId }),
      seedGithub(server.ops, orgLogin, adminLogin, spec),
    ]);
    const firstMember = summary.users.find((u) => u !== adminLogin) ?? adminLogin;
    const mutate = createMutationApi(server.ops, orgLogin, () => firstMember);
    return {
      service: 'github',
      role,
      baseUrl: server.baseUrl,
      gitUrl: server.webUrl,
      uploadsUrl: server.uploadsUrl,
      credentials: { token, login: adminLogin, app: { appId, installationId, privateKeyPem, slug: 'norestore' } },
      orgs: [orgLogin],
      seed: summary,
      state: st,
      server,
      mutate,
      setFaults: (s) => server.faults.set(s),
      stats: () => ({ ...server.stats, byRoute: { ...server.stats.byRoute }, faults: { ...server.faults.counters } }),
      stop: () => server.stop(),
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
