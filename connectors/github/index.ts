/**
 * The GitHub connector: one scope per repository of the source org, exported incrementally into
 * the owned storage and imported continuously into the same-named repository of the standby org.
 * File layout (shared by every connector): types.ts options and wire types, schema.ts zod schemas,
 * kinds.ts fidelity declarations, client.ts the one HTTP client with pacing, export.ts, import.ts,
 * git.ts, verify.ts, normalize.ts.
 */
import type { Connector, ScopeRef } from '../../src/model/connector.js';
import { createGithubClient, listAll, type GithubClient } from './client.js';
import { exportRepo } from './export.js';
import { importRepo, type ImportEndpointState } from './import.js';
import { GITHUB_UNCOVERED, githubKinds } from './kinds.js';
import { normalizeStored } from './normalize.js';
import type { ClientStats, GithubConnectorOptions } from './types.js';
import { readStandby } from './verify.js';

export type { GithubConnectorOptions, GithubTenant } from './types.js';

export interface GithubConnector extends Connector {
  /** Requests sent so far, per tenant (for status and benchmarks). */
  stats(): { source: ClientStats; standby: ClientStats };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Globs with `*` and `?` (case-insensitive, never crossing '/'): a pattern with a '/' is matched
 * against `org/name`, one without against the repository name.
 */
export function globMatcher(patterns: string[] | undefined): ((org: string, name: string) => boolean) | null {
  if (!patterns?.length) return null;
  const res = patterns.map((p) => ({
    full: p.includes('/'),
    re: new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$', 'i'),
  }));
  return (org, name) => res.some(({ full, re }) => re.test(full ? `${org}/${name}` : name));
}

/** Path-safe scope id of a repository: repo~<org>~<name>, lower case (GitHub names are case-insensitive). */
export function repoScopeId(org: string, name: string): string {
  const seg = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  return `repo~${seg(org)}~${seg(name)}`;
}

export function createGithubConnector(opts: GithubConnectorOptions): GithubConnector {
  const useImportEndpoint = opts.useImportEndpoint ?? true;
  let source: GithubClient | null = null;
  let standby: GithubClient | null = null;
  const src = (): GithubClient => (source ??= createGithubClient({ tenant: opts.source, role: 'source', log: opts.log, retryBaseMs: opts.retryBaseMs }));
  const sby = (): GithubClient =>
    (standby ??= createGithubClient({
      tenant: opts.standby,
      role: 'standby',
      log: opts.log,
      contentCreationPerMinute: opts.contentCreationPerMinute,
      contentCreationPerHour: opts.contentCreationPerHour,
      retryBaseMs: opts.retryBaseMs,
      limitWindowScale: opts.limitWindowScale,
    }));
  const endpoint: ImportEndpointState = { enabled: useImportEndpoint, available: null };
  const include = globMatcher(opts.include);
  const exclude = globMatcher(opts.exclude);
  const empty: ClientStats = { requests: 0, notModified: 0, writes: 0, throttled: 0, pacedMs: 0 };

  return {
    service: 'github',
    kinds: githubKinds({ importEndpoint: useImportEndpoint }),
    uncovered: GITHUB_UNCOVERED,

    async scopes(): Promise<ScopeRef[]> {
      const org = opts.source.org;
      const res = await listAll<{ name: string; full_name?: string }>(src(), 'GET /orgs/{org}/repos', { org, type: 'all' });
      const repos = res.notModified ? [] : res.data;
      return repos
        .filter((r) => (!include || include(org, r.name)) && !(exclude && exclude(org, r.name)))
        .map((r) => ({ id: repoScopeId(org, r.name), type: 'repo', name: `${org}/${r.name}` }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    exportScope: (scope, cursor, ctx) => exportRepo({ client: src(), reconcileEveryMs: opts.reconcileEveryMs ?? DAY_MS }, scope, cursor, ctx),

    importChanges: (scope, records, ctx) => importRepo({ client: sby(), sourceOrg: opts.source.org, users: opts.identity?.users ?? {}, endpoint }, scope, records, ctx),

    readStandby: (scope, ctx) => readStandby({ client: sby() }, scope, ctx),

    normalize: async (record) => normalizeStored(record),

    stats: () => ({ source: source?.stats ?? { ...empty }, standby: standby?.stats ?? { ...empty } }),

    async close(): Promise<void> {
      source = null;
      standby = null;
    },
  };
}
