import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DURATION_HINT, tryParseDuration } from './duration.js';
import { describeType } from './issues.js';
import { Secret, resolveLocalPath, resolveSecret } from './secret.js';

/**
 * The one config schema (YAML -> validated, resolved Config). Every object is strict: an unknown key
 * is an error. The schema is built per load because it resolves as it validates: secret references
 * (`env:NAME`, `file:PATH`) become Secret, durations ('15m') become milliseconds, relative paths
 * become absolute (against the config file's directory).
 */

export interface ConfigSchemaContext {
  /** The config file's directory: relative paths and `file:` secrets are resolved against it. */
  baseDir: string;
  /** Environment for `env:` secrets (and `~` in paths). */
  env: NodeJS.ProcessEnv;
}

export const CONFIG_VERSION = 1;

export const DEFAULTS = {
  githubBaseUrl: 'https://api.github.com',
  googleRootUrl: 'https://www.googleapis.com/',
  googleTokenUrl: 'https://oauth2.googleapis.com/token',
  microsoftAuthorityHost: 'https://login.microsoftonline.com',
  microsoftGraphBaseUrl: 'https://graph.microsoft.com',
  cacheDir: '.norestore-cache',
  rpo: '1h',
  rto: '4h',
  every: '15m',
  jitter: '0s',
  retentionDeleted: '90d',
  sourceConcurrency: 4,
} as const;

// ---------------------------------------------------------------------------------------------
// Leaf schemas

const nonEmpty = (what = 'a non-empty string') =>
  z.string({ error: (iss) => (iss.input === undefined ? undefined : `expected ${what}, got ${describeType(iss.input)}`) }).min(1, 'must not be empty');

const SOURCE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/i;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const KIND = /^[a-z][a-z0-9]*\.[A-Za-z0-9_.-]+$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_SEGMENT = /^[A-Za-z0-9._=-]+$/;

const domainName = () =>
  z
    .string()
    .regex(DOMAIN, 'expected a domain name like acme.com')
    .transform((s) => s.toLowerCase());
const emailAddress = () =>
  z
    .string()
    .regex(EMAIL, 'expected an email address like admin@acme.com')
    .transform((s) => s.toLowerCase());
const githubLogin = () => z.string().regex(GITHUB_LOGIN, 'expected a GitHub login (letters, digits, -)');

/** Duration text -> milliseconds. */
export const duration = (opts: { allowZero?: boolean } = {}) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? undefined : `${DURATION_HINT}, got ${typeof iss.input === 'number' ? String(iss.input) : describeType(iss.input)}`) })
    .transform((text, ctx) => {
      const ms = tryParseDuration(text);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `${DURATION_HINT}, got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      if (ms === 0 && !opts.allowZero) {
        ctx.addIssue({ code: 'custom', message: `must be longer than 0, got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      return ms;
    });

/** An http(s) URL; trailing slashes removed (or exactly one kept with trailingSlash). */
const httpUrl = (example: string, opts: { trailingSlash?: boolean } = {}) =>
  z.string().transform((text, ctx) => {
    let u: URL | null = null;
    try {
      u = new URL(text);
    } catch {
      u = null;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', message: `expected an http(s) URL like ${example}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    if (u.username || u.password) {
      ctx.addIssue({ code: 'custom', message: 'must not contain credentials; put them in the auth settings as secret references' });
      return z.NEVER;
    }
    const base = text.replace(/\/+$/, '');
    return opts.trailingSlash ? `${base}/` : base;
  });

const positiveInt = (what: string) => z.int({ error: (iss) => (iss.input === undefined ? undefined : `expected ${what} (a whole number)`) }).min(1, `must be at least 1`);

/** GitHub numeric ids (appId, installationId): a whole number, or a string of digits. */
const numericId = () =>
  z.union([z.int().min(1), z.string().regex(/^[1-9][0-9]*$/)], { error: 'expected a numeric id like 123456' }).transform((v) => Number(v));

const localPath = (ctx: ConfigSchemaContext) =>
  z
    .string()
    .min(1, 'must not be empty')
    .transform((p) => resolveLocalPath(p, ctx.baseDir, ctx.env));

/** A local PEM file of CA certificates, read at load so a missing or wrong file is named by its YAML path. */
const pemFile = (ctx: ConfigSchemaContext) =>
  localPath(ctx).transform((file, c) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      c.addIssue({ code: 'custom', message: `cannot read CA file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable')}` });
      return z.NEVER;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      c.addIssue({ code: 'custom', message: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
      return z.NEVER;
    }
    return file;
  });

const secretRef = (ctx: ConfigSchemaContext, check?: (value: string) => string | null) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? undefined : `expected a secret reference like env:NAME or file:PATH, got ${describeType(iss.input)}`) })
    .min(1, 'must not be empty; use env:NAME or file:PATH')
    .transform((text, c) => {
      const r = resolveSecret(text, ctx);
      if (!r.ok) {
        c.addIssue({ code: 'custom', message: r.message });
        return z.NEVER;
      }
      const problem = check?.(r.secret.reveal());
      if (problem) {
        c.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return r.secret;
    });

/** The 32-byte encryption key from its text form (64 hex characters, or base64), or null. */
export function decodeEncryptionKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return null;
  const key = Buffer.from(t, 'base64');
  return key.length === 32 ? key : null;
}

/** The key bytes of a loaded config's encryption.key (validated at load, so this does not fail). */
export function encryptionKeyBytes(secret: Secret): Buffer {
  const key = decodeEncryptionKey(secret.reveal());
  if (!key) throw new Error('encryption.key: expected 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32)');
  return key;
}

// ---------------------------------------------------------------------------------------------
// The schema

export function createConfigSchema(ctx: ConfigSchemaContext) {
  const secret = (check?: (value: string) => string | null) => secretRef(ctx, check);

  // Storage ------------------------------------------------------------------------------------
  const fsStorage = z.strictObject({
    type: z.literal('fs'),
    /** Repository directory (absolute after loading). */
    path: localPath(ctx),
  });

  const s3Storage = z
    .strictObject({
      type: z.literal('s3'),
      bucket: z.string().regex(S3_BUCKET, 'expected an S3 bucket name (3-63 characters: a-z, 0-9, . and -)'),
      /** Key prefix inside the bucket, without leading/trailing '/'; '' for the bucket root. */
      prefix: z
        .string()
        .default('')
        .transform((p, c) => {
          const trimmed = p.replace(/^\/+|\/+$/g, '');
          if (trimmed !== '' && !trimmed.split('/').every((s) => KEY_SEGMENT.test(s))) {
            c.addIssue({ code: 'custom', message: `expected '/'-separated segments of A-Z a-z 0-9 . _ = -, got ${JSON.stringify(p)}` });
            return z.NEVER;
          }
          return trimmed;
        }),
      /** S3-compatible endpoint (MinIO, Ceph, R2 ...); absent = AWS. */
      endpoint: httpUrl('http://127.0.0.1:9000').optional(),
      region: nonEmpty('a region like us-east-1'),
      forcePathStyle: z.boolean().default(false),
      /** Static credentials; absent = the AWS default chain (env, profile, instance role). */
      accessKeyId: secret().optional(),
      secretAccessKey: secret().optional(),
      /** Object Lock retention applied to every object written (needs a bucket with Object Lock enabled). */
      objectLock: z
        .strictObject({
          mode: z.enum(['GOVERNANCE', 'COMPLIANCE']),
          days: positiveInt('a number of days'),
        })
        .optional(),
    })
    .superRefine((s, c) => {
      if ((s.accessKeyId === undefined) !== (s.secretAccessKey === undefined)) {
        const missing = s.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey';
        c.addIssue({ code: 'custom', path: [missing], message: 'required when the other static credential is given (or remove both to use the AWS default credential chain)' });
      }
    });

  const storage = z.discriminatedUnion('type', [fsStorage, s3Storage]);

  // Encryption, objectives, schedule, retention --------------------------------------------------
  const encryption = z.strictObject({
    /** 32 bytes: 64 hex characters or base64. Keep it apart from the storage: without it nothing can be read. */
    key: secret((v) =>
      decodeEncryptionKey(v) ? null : 'expected 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32)',
    ),
  });

  const globalObjectives = z.strictObject({
    rpo: duration().prefault(DEFAULTS.rpo),
    rto: duration().prefault(DEFAULTS.rto),
  });

  const objectivePair = z.strictObject({ rpo: duration().optional(), rto: duration().optional() });
  const sourceObjectives = z.strictObject({
    rpo: duration().optional(),
    rto: duration().optional(),
    /** Per data kind (github.issue, gmail.message, drive.file, graph.message ...). */
    kinds: z.record(z.string().regex(KIND, 'expected a kind like github.issue or gmail.message'), objectivePair).optional(),
  });

  const globalSchedule = z
    .strictObject({
      every: duration().prefault(DEFAULTS.every),
      jitter: duration({ allowZero: true }).prefault(DEFAULTS.jitter),
    })
    .superRefine((s, c) => {
      if (s.jitter >= s.every) c.addIssue({ code: 'custom', path: ['jitter'], message: 'must be shorter than every' });
    });
  const sourceSchedule = z
    .strictObject({
      every: duration().optional(),
      jitter: duration({ allowZero: true }).optional(),
    })
    .superRefine((s, c) => {
      if (s.every !== undefined && s.jitter !== undefined && s.jitter >= s.every) c.addIssue({ code: 'custom', path: ['jitter'], message: 'must be shorter than every' });
    });

  const retention = z.strictObject({
    /** How long a deleted item (tombstone) stays possessed. */
    deleted: duration().prefault(DEFAULTS.retentionDeleted),
  });

  // Common source fields -----------------------------------------------------------------------
  const glob = nonEmpty('a name pattern like * or web-*');
  const sourceName = z.string().regex(SOURCE_NAME, 'expected a name of a-z, 0-9 and - (at most 63, not starting or ending with -)');
  const common = {
    /** Scope patterns: GitHub repository names; Google/Microsoft user addresses. */
    include: z.array(glob).min(1, 'must list at least one pattern (use * for all)').default(['*']),
    exclude: z.array(glob).default([]),
    objectives: sourceObjectives.optional(),
    schedule: sourceSchedule.optional(),
    /** Scopes of this source worked in parallel. */
    concurrency: positiveInt('a number of parallel scopes').max(64, 'must be at most 64').default(DEFAULTS.sourceConcurrency),
    /** Failover: commands run (in order) for the switch steps a user automates; shown, not run, with --dry-run. */
    failover: z
      .strictObject({
        hooks: z
          .array(
            z.strictObject({
              name: nonEmpty('a step name'),
              /** Shell command, run in the config's directory; its environment: see docs/OPERATIONS.md (NORESTORE_SOURCE, _SERVICE, _DIRECTION, _FROM/_TO, _FROM_ID/_TO_ID, _FROM_URL/_TO_URL). */
              run: nonEmpty('a shell command'),
              timeout: duration().prefault('5m'),
            }),
          )
          .default([]),
      })
      .prefault({}),
  };

  const userMap = (key: z.ZodType<string, string>, value: z.ZodType<string, string>) => z.record(key, value).default({});

  // GitHub --------------------------------------------------------------------------------------
  const githubAuth = z
    .strictObject({
      token: secret().optional(),
      appId: numericId().optional(),
      installationId: numericId().optional(),
      privateKey: secret().optional(),
    })
    .superRefine((a, c) => {
      const app = a.appId !== undefined || a.installationId !== undefined || a.privateKey !== undefined;
      if (a.token !== undefined && app) {
        c.addIssue({ code: 'custom', message: 'give either token or GitHub App settings (appId, privateKey, installationId), not both' });
      } else if (a.token === undefined && !app) {
        c.addIssue({ code: 'custom', message: 'required: token (e.g. env:GH_TOKEN), or appId + privateKey (+ installationId) for a GitHub App' });
      } else if (app) {
        if (a.appId === undefined) c.addIssue({ code: 'custom', path: ['appId'], message: 'required for GitHub App auth' });
        if (a.privateKey === undefined) c.addIssue({ code: 'custom', path: ['privateKey'], message: 'required for GitHub App auth (e.g. file:app.pem)' });
      }
    })
    .transform((a): GithubAuth => {
      if (a.token !== undefined) return { type: 'token', token: a.token };
      return { type: 'app', appId: a.appId as number, installationId: a.installationId, privateKey: a.privateKey as Secret };
    });

  const githubEndpoint = z.strictObject({
    baseUrl: httpUrl(DEFAULTS.githubBaseUrl).default(DEFAULTS.githubBaseUrl),
    org: githubLogin(),
    auth: githubAuth,
  });

  const githubSource = z.strictObject({
    name: sourceName,
    service: z.literal('github'),
    source: githubEndpoint,
    standby: githubEndpoint,
    /** An empty org for `drill --fresh` (classic RTO: a full restore from the storage, timed). */
    freshStandby: githubEndpoint.optional(),
    ...common,
    identity: z.strictObject({ users: userMap(githubLogin(), githubLogin()) }).prefault({}),
    options: z
      .strictObject({
        /** Use the issue import endpoint on the standby where available (keeps timestamps). */
        useImportEndpoint: z.boolean().default(true),
        /** Content-creation pacing on the standby (GitHub's secondary limits: 80/min, 500/h). */
        contentCreationPerMinute: positiveInt('requests per minute').default(80),
        contentCreationPerHour: positiveInt('requests per hour').default(500),
      })
      .prefault({}),
  });

  // Google Workspace ----------------------------------------------------------------------------
  const serviceAccount = z
    .strictObject({
      clientEmail: emailAddress().optional(),
      privateKey: secret().optional(),
      /** A service account key JSON (file:sa.json), instead of clientEmail + privateKey. */
      keyFile: secret().optional(),
    })
    .superRefine((s, c) => {
      const inline = s.clientEmail !== undefined || s.privateKey !== undefined;
      if (s.keyFile !== undefined && inline) {
        c.addIssue({ code: 'custom', message: 'give either keyFile or clientEmail + privateKey, not both' });
      } else if (s.keyFile === undefined && !inline) {
        c.addIssue({ code: 'custom', message: 'required: keyFile (e.g. file:sa.json), or clientEmail + privateKey' });
      } else if (inline) {
        if (s.clientEmail === undefined) c.addIssue({ code: 'custom', path: ['clientEmail'], message: 'required with privateKey' });
        if (s.privateKey === undefined) c.addIssue({ code: 'custom', path: ['privateKey'], message: 'required with clientEmail (e.g. env:GOOGLE_SA_KEY)' });
      }
    })
    .transform((s, c): GoogleServiceAccount => {
      if (s.keyFile === undefined) return { clientEmail: s.clientEmail as string, privateKey: s.privateKey as Secret };
      let parsed: unknown;
      try {
        parsed = JSON.parse(s.keyFile.reveal());
      } catch {
        parsed = undefined; // the parse error quotes the content: never show it
      }
      const p = parsed as { client_email?: unknown; private_key?: unknown } | undefined;
      if (!p || typeof p !== 'object' || typeof p.client_email !== 'string' || typeof p.private_key !== 'string') {
        c.addIssue({ code: 'custom', path: ['keyFile'], message: `${s.keyFile.ref} is not a service account key (JSON with client_email and private_key)` });
        return z.NEVER;
      }
      return { clientEmail: p.client_email.toLowerCase(), privateKey: new Secret(p.private_key, s.keyFile.origin, `${s.keyFile.ref}#private_key`) };
    });

  const googleEndpoint = z.strictObject({
    domain: domainName(),
    /** Super admin impersonated (domain-wide delegation) for directory calls. */
    adminUser: emailAddress(),
    serviceAccount,
    rootUrl: httpUrl(DEFAULTS.googleRootUrl, { trailingSlash: true }).default(DEFAULTS.googleRootUrl),
    tokenUrl: httpUrl(DEFAULTS.googleTokenUrl).default(DEFAULTS.googleTokenUrl),
  });

  const domainIdentity = z
    .strictObject({
      /** Domain rewrite source -> standby, e.g. acme.com: acme-dr.com. */
      domains: userMap(domainName(), domainName()),
      /** Explicit per-address overrides (win over the domain rewrite). */
      users: userMap(emailAddress(), emailAddress()),
    })
    .prefault({});

  const googleSource = z.strictObject({
    name: sourceName,
    service: z.literal('google'),
    source: googleEndpoint,
    standby: googleEndpoint,
    /** An empty domain for `drill --fresh` (classic RTO: a full restore from the storage, timed). */
    freshStandby: googleEndpoint.optional(),
    ...common,
    identity: domainIdentity,
    options: z
      .strictObject({
        /** Convert Office exports of Google-native documents back to native on import. */
        convertOfficeToNative: z.boolean().default(true),
        /** Gmail quota units per second per user to stay under (absent = the connector's default). */
        gmailUnitsPerSecond: z.number({ error: 'expected a number' }).positive('must be more than 0').optional(),
      })
      .prefault({}),
  });

  // Microsoft 365 -------------------------------------------------------------------------------
  const microsoftEndpoint = z.strictObject({
    /** Directory (tenant) id: a GUID or a domain like acme.onmicrosoft.com. */
    tenantId: nonEmpty('a tenant id (GUID or domain)'),
    clientId: nonEmpty('an application (client) id'),
    clientSecret: secret(),
    authorityHost: httpUrl(DEFAULTS.microsoftAuthorityHost).default(DEFAULTS.microsoftAuthorityHost),
    /** Graph root without the version (the connector adds /v1.0). */
    graphBaseUrl: httpUrl(DEFAULTS.microsoftGraphBaseUrl).default(DEFAULTS.microsoftGraphBaseUrl),
    /** Extra trusted CA certificates (a PEM file) for the authority and Graph hosts: a private PKI, a TLS-inspecting proxy. */
    caFile: pemFile(ctx).optional(),
  });

  const microsoftSource = z.strictObject({
    name: sourceName,
    service: z.literal('microsoft'),
    source: microsoftEndpoint,
    standby: microsoftEndpoint,
    /** An empty tenant for `drill --fresh` (classic RTO: a full restore from the storage, timed). */
    freshStandby: microsoftEndpoint.optional(),
    ...common,
    identity: domainIdentity,
    options: z
      .strictObject({
        /** Graph's Outlook limits per app per mailbox: 4 concurrent requests, 10,000 per 10 minutes. */
        mailboxConcurrency: positiveInt('concurrent requests per mailbox').max(4, 'must be at most 4 (Graph allows 4 per mailbox)').default(4),
        mailboxRequestsPer10Minutes: positiveInt('requests per mailbox per 10 minutes').default(10_000),
      })
      .prefault({}),
  });

  const source = z.discriminatedUnion('service', [githubSource, googleSource, microsoftSource]);

  // Top level -----------------------------------------------------------------------------------
  return z
    .strictObject({
      version: z.literal(CONFIG_VERSION, {
        error: (iss) => (iss.input === undefined ? undefined : `expected ${CONFIG_VERSION} (this norestore reads config version ${CONFIG_VERSION})`),
      }),
      storage,
      encryption: encryption.optional(),
      /** Local, rebuildable caches (git mirrors). */
      cacheDir: localPath(ctx).default(path.resolve(ctx.baseDir, DEFAULTS.cacheDir)),
      objectives: globalObjectives.prefault({}),
      schedule: globalSchedule.prefault({}),
      retention: retention.prefault({}),
      sources: z.array(source).default([]),
    })
    .superRefine(
      (cfg, c) => {
        // Runs even when other parts failed, so every problem is listed at once: be defensive.
        const sources: unknown[] = Array.isArray(cfg.sources) ? cfg.sources : [];
        const firstIndex = new Map<string, number>();
        sources.forEach((s, i) => {
          const name = (s as { name?: unknown } | undefined)?.name;
          if (typeof name !== 'string') return;
          const first = firstIndex.get(name);
          if (first === undefined) firstIndex.set(name, i);
          else c.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${name}" (also sources[${first}]); names must be unique` });
        });
        sources.forEach((s, i) => {
          const same = sameTenant(s);
          if (same) c.addIssue({ code: 'custom', path: ['sources', i, 'standby'], message: `is the same ${same} as the source; the standby must be a different one` });
        });
      },
      { when: () => true },
    );
}

/** When source and standby designate the same tenant/org, what it is ('GitHub org', ...), else null. */
function sameTenant(s: unknown): string | null {
  if (!s || typeof s !== 'object') return null;
  const { service, source, standby } = s as { service?: unknown; source?: Record<string, unknown>; standby?: Record<string, unknown> };
  if (!source || !standby || typeof source !== 'object' || typeof standby !== 'object') return null;
  const eq = (k: string) => typeof source[k] === 'string' && typeof standby[k] === 'string' && (source[k] as string).toLowerCase() === (standby[k] as string).toLowerCase();
  if (service === 'github' && eq('baseUrl') && eq('org')) return 'GitHub org';
  if (service === 'google' && eq('rootUrl') && eq('domain')) return 'Google Workspace domain';
  if (service === 'microsoft' && eq('graphBaseUrl') && eq('tenantId')) return 'Microsoft 365 tenant';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Types (after loading: secrets are Secret, durations are milliseconds, paths absolute)

export type GithubAuth =
  | { type: 'token'; token: Secret }
  | { type: 'app'; appId: number; installationId: number | undefined; privateKey: Secret };

export interface GoogleServiceAccount {
  clientEmail: string;
  privateKey: Secret;
}

export type ConfigSchema = ReturnType<typeof createConfigSchema>;
/** What the YAML may contain (before resolution). */
export type ConfigInput = z.input<ConfigSchema>;
/** The loaded config. Durations are in milliseconds. */
export type Config = z.output<ConfigSchema>;

export type StorageConfig = Config['storage'];
export type FsStorageConfig = Extract<StorageConfig, { type: 'fs' }>;
export type S3StorageConfig = Extract<StorageConfig, { type: 's3' }>;
export type EncryptionConfig = NonNullable<Config['encryption']>;
/** Global objectives, in ms. */
export type GlobalObjectives = Config['objectives'];
export type ScheduleConfig = Config['schedule'];
export type RetentionConfig = Config['retention'];

export type SourceConfig = Config['sources'][number];
export type GithubSourceConfig = Extract<SourceConfig, { service: 'github' }>;
export type GoogleSourceConfig = Extract<SourceConfig, { service: 'google' }>;
export type MicrosoftSourceConfig = Extract<SourceConfig, { service: 'microsoft' }>;
export type GithubEndpoint = GithubSourceConfig['source'];
export type GoogleEndpoint = GoogleSourceConfig['source'];
export type MicrosoftEndpoint = MicrosoftSourceConfig['source'];
export type SourceObjectives = NonNullable<SourceConfig['objectives']>;

/** Effective objectives in milliseconds. */
export interface Objectives {
  rpoMs: number;
  rtoMs: number;
}

/** Effective schedule of a source, in milliseconds. */
export interface Schedule {
  everyMs: number;
  jitterMs: number;
}

function findSource(config: Config, sourceName: string): SourceConfig {
  const s = config.sources.find((x) => x.name === sourceName);
  if (!s) throw new Error(`no source named "${sourceName}" in the config (have: ${config.sources.map((x) => x.name).join(', ') || 'none'})`);
  return s;
}

/** Effective objectives for a source, or one of its kinds: kind > source > global, per field. */
export function objectivesFor(config: Config, sourceName: string, kind?: string): Objectives {
  const s = findSource(config, sourceName);
  const k = kind !== undefined ? s.objectives?.kinds?.[kind] : undefined;
  return {
    rpoMs: k?.rpo ?? s.objectives?.rpo ?? config.objectives.rpo,
    rtoMs: k?.rto ?? s.objectives?.rto ?? config.objectives.rto,
  };
}

/** Effective schedule for a source: source > global, per field (jitter capped below every). */
export function scheduleFor(config: Config, sourceName: string): Schedule {
  const s = findSource(config, sourceName);
  const everyMs = s.schedule?.every ?? config.schedule.every;
  const jitterMs = s.schedule?.jitter ?? config.schedule.jitter;
  return { everyMs, jitterMs: Math.min(jitterMs, Math.max(0, everyMs - 1)) };
}
