import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactedConfig, renderConfig } from './load.js';
import { encryptionKeyBytes, objectivesFor, scheduleFor } from './schema.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'norestore-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Write YAML (and side files) into a fresh directory and load it. */
async function load(yaml: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  const d = path.join(dir, `c${++n}`);
  await mkdir(d);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(d, name)), { recursive: true });
    await writeFile(path.join(d, name), content);
  }
  const file = path.join(d, 'norestore.yaml');
  await writeFile(file, yaml);
  return { ...(await loadConfig(file, { env })), dir: d };
}

/** The ConfigError a load throws (fails the test if it loads). */
async function problems(yaml: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}): Promise<ConfigError> {
  const err = await load(yaml, env, files).then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof ConfigError) return err;
  throw err ?? new Error('expected a ConfigError, but the config loaded');
}

const FS = 'version: 1\nstorage: { type: fs, path: ./repo }\n';

const GITHUB = `
  - name: gh
    service: github
    source: { org: acme, auth: { token: env:GH_TOKEN } }
    standby: { org: acme-dr, auth: { token: env:GH_DR_TOKEN } }`;
const GH_ENV = { GH_TOKEN: 'ghp_source_token_value', GH_DR_TOKEN: 'ghp_standby_token_value' };

const MICROSOFT = `
  - name: ms
    service: microsoft
    source: { tenantId: acme.onmicrosoft.com, clientId: c1, clientSecret: env:MS_SECRET }
    standby: { tenantId: acme-dr.onmicrosoft.com, clientId: c2, clientSecret: env:MS_DR_SECRET }
    identity: { domains: { ACME.onmicrosoft.com: acme-dr.onmicrosoft.com } }`;
const MS_ENV = { MS_SECRET: 'ms-source-secret-value', MS_DR_SECRET: 'ms-standby-secret-value' };

describe('loadConfig: valid configs', () => {
  it('fills defaults and resolves paths against the config file directory', async () => {
    const { config, warnings, dir: d, path: p } = await load(FS);
    expect(p).toBe(path.join(d, 'norestore.yaml'));
    expect(config.storage).toEqual({ type: 'fs', path: path.join(d, 'repo') });
    expect(config.cacheDir).toBe(path.join(d, '.norestore-cache'));
    expect(config.objectives).toEqual({ rpo: 3_600_000, rto: 14_400_000 });
    expect(config.schedule).toEqual({ every: 900_000, jitter: 0 });
    expect(config.retention).toEqual({ deleted: 90 * 86_400_000 });
    expect(config.encryption).toBeUndefined();
    expect(config.sources).toEqual([]);
    expect(warnings).toEqual(['sources: none configured; nothing will be backed up']);
  });

  it('resolves a github source with defaults and typed token auth', async () => {
    const { config, warnings } = await load(`${FS}cacheDir: /var/cache/nr\nsources:${GITHUB}`, GH_ENV);
    expect(warnings).toEqual([]);
    expect(config.cacheDir).toBe('/var/cache/nr');
    const s = config.sources[0];
    if (s?.service !== 'github') throw new Error('expected github');
    expect(s.source.baseUrl).toBe('https://api.github.com');
    expect(s.source.auth.type).toBe('token');
    if (s.source.auth.type === 'token') expect(s.source.auth.token.reveal()).toBe('ghp_source_token_value');
    expect(s.include).toEqual(['*']);
    expect(s.exclude).toEqual([]);
    expect(s.concurrency).toBe(4);
    expect(s.identity).toEqual({ users: {} });
    expect(s.options).toEqual({ useImportEndpoint: true, contentCreationPerMinute: 80, contentCreationPerHour: 500 });
  });

  it('accepts GitHub App auth: ids as numbers or digit strings, the key from a file relative to the config', async () => {
    const { config } = await load(
      `${FS}sources:
  - name: gh
    service: github
    source: { baseUrl: 'http://127.0.0.1:4010/', org: acme, auth: { appId: '12', installationId: 34, privateKey: file:app.pem } }
    standby: { baseUrl: 'http://127.0.0.1:4011', org: acme, auth: { appId: 56, privateKey: file:keys/app.pem } }`,
      {},
      { 'app.pem': '-----BEGIN KEY-----\nAAA\n-----END KEY-----\n', 'keys/app.pem': 'KEY2\n' },
    );
    const s = config.sources[0];
    if (s?.service !== 'github') throw new Error('expected github');
    expect(s.source.baseUrl).toBe('http://127.0.0.1:4010');
    expect(s.source.auth).toMatchObject({ type: 'app', appId: 12, installationId: 34 });
    if (s.source.auth.type === 'app') expect(s.source.auth.privateKey.reveal()).toBe('-----BEGIN KEY-----\nAAA\n-----END KEY-----');
    expect(s.standby.auth).toMatchObject({ type: 'app', appId: 56, installationId: undefined });
    if (s.standby.auth.type === 'app') expect(s.standby.auth.privateKey.reveal()).toBe('KEY2');
  });

  it('reads a google service account from a key file and lowercases identity domains', async () => {
    const key = JSON.stringify({ type: 'service_account', client_email: 'SA@p.iam.gserviceaccount.com', private_key: 'PEM-KEY' });
    const { config } = await load(
      `${FS}sources:
  - name: gw
    service: google
    source: { domain: acme.com, adminUser: admin@acme.com, serviceAccount: { keyFile: file:sa.json }, rootUrl: 'http://127.0.0.1:5000' }
    standby: { domain: acme-dr.com, adminUser: admin@acme-dr.com, serviceAccount: { clientEmail: x@y.com, privateKey: env:PK } }
    identity: { domains: { Acme.COM: acme-dr.com }, users: { CEO@acme.com: boss@acme-dr.com } }`,
      { PK: 'PEM2' },
      { 'sa.json': key },
    );
    const s = config.sources[0];
    if (s?.service !== 'google') throw new Error('expected google');
    expect(s.source.serviceAccount.clientEmail).toBe('sa@p.iam.gserviceaccount.com');
    expect(s.source.serviceAccount.privateKey.reveal()).toBe('PEM-KEY');
    expect(s.source.rootUrl).toBe('http://127.0.0.1:5000/');
    expect(s.source.tokenUrl).toBe('https://oauth2.googleapis.com/token');
    expect(s.standby.serviceAccount.privateKey.reveal()).toBe('PEM2');
    expect(s.identity).toEqual({ domains: { 'acme.com': 'acme-dr.com' }, users: { 'ceo@acme.com': 'boss@acme-dr.com' } });
    expect(s.options).toEqual({ convertOfficeToNative: true });
  });

  it('resolves a microsoft source with defaults', async () => {
    const { config } = await load(`${FS}sources:${MICROSOFT}`, MS_ENV);
    const s = config.sources[0];
    if (s?.service !== 'microsoft') throw new Error('expected microsoft');
    expect(s.source).toMatchObject({ tenantId: 'acme.onmicrosoft.com', clientId: 'c1', authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com' });
    expect(s.standby.clientSecret.reveal()).toBe('ms-standby-secret-value');
    expect(s.identity).toEqual({ domains: { 'acme.onmicrosoft.com': 'acme-dr.onmicrosoft.com' }, users: {} });
    expect(s.options).toEqual({ mailboxConcurrency: 4, mailboxRequestsPer10Minutes: 10_000 });
  });

  it('reads a Microsoft tenant\'s caFile relative to the config; a missing or non-PEM file is named by its path', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const withCa = (file: string) => `${FS}sources:${MICROSOFT.replace('clientSecret: env:MS_SECRET }', `clientSecret: env:MS_SECRET, caFile: ${file} }`)}`;
    const { config, dir: d } = await load(withCa('ca/private.pem'), MS_ENV, { 'ca/private.pem': pem });
    const s = config.sources[0];
    if (s?.service !== 'microsoft') throw new Error('expected microsoft');
    expect(s.source.caFile).toBe(path.join(d, 'ca', 'private.pem'));
    expect(s.standby.caFile).toBeUndefined();
    const missing = await problems(withCa('ca/none.pem'), MS_ENV);
    expect(missing.issues).toEqual([`sources[0].source.caFile: cannot read CA file ${path.join(dir, `c${n}`, 'ca', 'none.pem')}: no such file`]);
    const notPem = await problems(withCa('ca/key.txt'), MS_ENV, { 'ca/key.txt': 'not a certificate' });
    expect(notPem.issues).toEqual([`sources[0].source.caFile: ${path.join(dir, `c${n}`, 'ca', 'key.txt')} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  });

  it('resolves s3 storage with static credentials, object lock and a normalized prefix', async () => {
    const { config } = await load(
      `version: 1
storage:
  type: s3
  bucket: acme-backup
  prefix: /prod/norestore/
  endpoint: http://127.0.0.1:9000/
  region: us-east-1
  forcePathStyle: true
  accessKeyId: env:AK
  secretAccessKey: env:SK
  objectLock: { mode: COMPLIANCE, days: 30 }
sources: []`,
      { AK: 'AKIA0000', SK: 'sk-0000' },
    );
    const st = config.storage;
    if (st.type !== 's3') throw new Error('expected s3');
    expect(st).toMatchObject({ bucket: 'acme-backup', prefix: 'prod/norestore', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true, objectLock: { mode: 'COMPLIANCE', days: 30 } });
    expect(st.accessKeyId?.reveal()).toBe('AKIA0000');
    expect(st.secretAccessKey?.reveal()).toBe('sk-0000');
    const bare = await load('version: 1\nstorage: { type: s3, bucket: b-1, region: eu-west-1 }\n');
    expect(bare.config.storage).toEqual({ type: 's3', bucket: 'b-1', prefix: '', region: 'eu-west-1', forcePathStyle: false });
  });

  it('accepts a 32-byte encryption key as hex or base64', async () => {
    const raw = Buffer.alloc(32, 0xab);
    for (const text of [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')]) {
      const { config } = await load(`${FS}encryption: { key: env:K }\n`, { K: text });
      expect(encryptionKeyBytes(config.encryption!.key).equals(raw)).toBe(true);
    }
  });

  it('gives effective objectives (kind > source > global) and schedules (source > global)', async () => {
    const { config } = await load(
      `${FS}objectives: { rpo: 2h }
schedule: { every: 30m, jitter: 2m }
sources:${GITHUB}
    objectives: { rto: 1h, kinds: { github.issue: { rpo: 5m }, github.git: { rto: 10m } } }
    schedule: { every: 5m }
  - name: other
    service: github
    source: { org: b, auth: { token: env:GH_TOKEN } }
    standby: { org: b-dr, auth: { token: env:GH_TOKEN } }`,
      GH_ENV,
    );
    expect(objectivesFor(config, 'gh')).toEqual({ rpoMs: 7_200_000, rtoMs: 3_600_000 });
    expect(objectivesFor(config, 'gh', 'github.issue')).toEqual({ rpoMs: 300_000, rtoMs: 3_600_000 });
    expect(objectivesFor(config, 'gh', 'github.git')).toEqual({ rpoMs: 7_200_000, rtoMs: 600_000 });
    expect(objectivesFor(config, 'gh', 'github.release')).toEqual({ rpoMs: 7_200_000, rtoMs: 3_600_000 });
    expect(objectivesFor(config, 'other', 'github.issue')).toEqual({ rpoMs: 7_200_000, rtoMs: 14_400_000 });
    expect(scheduleFor(config, 'gh')).toEqual({ everyMs: 300_000, jitterMs: 120_000 });
    expect(scheduleFor(config, 'other')).toEqual({ everyMs: 1_800_000, jitterMs: 120_000 });
    expect(() => objectivesFor(config, 'nope')).toThrow('no source named "nope" in the config (have: gh, other)');
  });

  it('warns about a literal secret, naming its path', async () => {
    const { warnings } = await load(`${FS}sources:
  - name: gh
    service: github
    source: { org: acme, auth: { token: ghp_literal_in_file } }
    standby: { org: acme-dr, auth: { token: env:GH_DR_TOKEN } }`, GH_ENV);
    expect(warnings).toEqual(['sources[0].source.auth.token: a secret written in the config file; use a reference instead (env:NAME or file:PATH)']);
    expect(warnings.join('\n')).not.toContain('ghp_literal_in_file');
  });
});

describe('loadConfig: problems', () => {
  it('names an unreadable file', async () => {
    const missing = path.join(dir, 'nope', 'missing.yaml');
    const err = await loadConfig(missing).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`cannot read config ${missing}: no such file (start from config.example.yaml)`);
    expect((err as ConfigError).issues).toEqual([(err as ConfigError).message]);
    const isDir = await loadConfig(dir).then(
      () => null,
      (e: unknown) => e as ConfigError,
    );
    expect(isDir?.message).toBe(`cannot read config ${dir}: is a directory, expected a YAML file`);
  });

  it('reports YAML syntax errors with line:column and without quoting the line', async () => {
    const err = await problems('version: 1\nstorage:\n  type: fs\n  type: s3\nsecret: "hunter2-unclosed\n');
    expect(err.issues.length).toBeGreaterThan(0);
    expect(err.issues.some((i) => /norestore\.yaml:4:3: YAML syntax error: .*unique/.test(i))).toBe(true);
    expect(err.message).not.toContain('hunter2');
    const bad = await problems('version: 1\nstorage: [a\n  token: hunter2xyz');
    expect(bad.issues[0]).toMatch(/norestore\.yaml:\d+:\d+: YAML syntax error: /);
    expect(bad.message).not.toContain('hunter2xyz');
  });

  it('rejects an empty file and a top level that is not a mapping', async () => {
    expect((await problems('')).issues).toEqual(['the config is empty: expected version: 1, storage and sources (start from config.example.yaml)']);
    expect((await problems('# only a comment\n')).issues[0]).toMatch(/the config is empty/);
    expect((await problems('- a\n- b\n')).issues).toEqual(['expected a mapping at the top level (version: 1, storage: ..., sources: ...)']);
  });

  it('rejects unknown keys at every depth, suggesting the likely key', async () => {
    const err = await problems(
      `version: 1
storage: { type: s3, bukcet: b, bucket: abc, region: r }
objectivs: { rpo: 1h }
sources:
  - name: gh
    service: github
    source: { org: acme, auth: { tokn: env:GH_TOKEN } }
    standby: { org: acme-dr, auth: { token: env:GH_DR_TOKEN }, extra: 1 }
    options: { useImportEndpiont: false }
    objectives: { kinds: { github.issue: { rpo: 5m, RTO: 1h } } }`,
      GH_ENV,
    );
    expect(err.issues).toEqual(
      expect.arrayContaining([
        'storage.bukcet: unknown key (did you mean bucket?)',
        'objectivs: unknown key (did you mean objectives?)',
        'sources[0].source.auth.tokn: unknown key (did you mean token?)',
        'sources[0].standby.extra: unknown key (expected one of: baseUrl, org, auth)',
        'sources[0].options.useImportEndpiont: unknown key (did you mean useImportEndpoint?)',
        'sources[0].objectives.kinds["github.issue"].RTO: unknown key (did you mean rto?)',
      ]),
    );
  });

  it('names every missing required field by its path, all at once', async () => {
    const err = await problems(
      `storage: { type: fs }
sources:
  - name: gh
    service: github
    source: { auth: { token: env:GH_TOKEN } }
    standby: { org: acme-dr, auth: {} }
  - name: ms
    service: microsoft
    source: { tenantId: t, clientId: c, clientSecret: env:MS_SECRET }
    standby: { clientId: c2, clientSecret: env:MS_DR_SECRET }
  - name: x
  - service: google
    source: { domain: acme.com, adminUser: a@acme.com, serviceAccount: { clientEmail: a@b.com } }
    standby: { domain: acme-dr.com, adminUser: a@acme-dr.com, serviceAccount: {} }
`,
      { ...GH_ENV, ...MS_ENV },
    );
    expect(err.issues).toEqual([
      'version: required',
      'storage.path: required',
      'sources[0].source.org: required',
      'sources[0].standby.auth: required: token (e.g. env:GH_TOKEN), or appId + privateKey (+ installationId) for a GitHub App',
      'sources[1].standby.tenantId: required',
      'sources[2].service: required (one of github, google, microsoft)',
      'sources[3].name: required',
      'sources[3].source.serviceAccount.privateKey: required with clientEmail (e.g. env:GOOGLE_SA_KEY)',
      'sources[3].standby.serviceAccount: required: keyFile (e.g. file:sa.json), or clientEmail + privateKey',
    ]);
    expect(err.message).toBe(`invalid config ${path.join(dir, `c${n}`, 'norestore.yaml')}: 9 problems\n${err.issues.map((i) => `  ${i}`).join('\n')}`);
  });

  it('reports wrong types and enum values clearly', async () => {
    const err = await problems(`version: 2
storage: { type: gcs }
encryption: { key: 12345 }
cacheDir: [a]
sources:
  - name: Bad_Name
    service: github
    source: { baseUrl: 'ftp://x', org: acme, auth: { token: env:GH_TOKEN } }
    standby: { org: acme-dr, auth: { token: env:GH_DR_TOKEN } }
    include: []
    concurrency: 0
    options: { useImportEndpoint: 'yes', contentCreationPerMinute: 1.5 }
  - just-a-string`, GH_ENV);
    expect(err.issues).toEqual([
      'version: expected 1 (this norestore reads config version 1)',
      'storage.type: expected one of fs, s3, got "gcs"',
      'encryption.key: expected a secret reference like env:NAME or file:PATH, got a number',
      'cacheDir: expected a string, got a list',
      'sources[0].name: expected a name of a-z, 0-9 and - (at most 63, not starting or ending with -)',
      'sources[0].source.baseUrl: expected an http(s) URL like https://api.github.com, got "ftp://x"',
      'sources[0].include: must list at least one pattern (use * for all)',
      'sources[0].concurrency: must be at least 1',
      'sources[0].options.useImportEndpoint: expected true or false, got a string',
      'sources[0].options.contentCreationPerMinute: expected requests per minute (a whole number)',
      'sources[1]: expected a mapping, got a string',
    ]);
  });

  it('names the allowed values of a missing enum', async () => {
    const err = await problems('version: 1\nstorage: { type: s3, bucket: abc, region: r, objectLock: { days: 1 } }\n');
    expect(err.issues).toEqual(['storage.objectLock.mode: required (one of GOVERNANCE, COMPLIANCE)']);
    const noStorage = await problems('version: 1\n');
    expect(noStorage.issues).toEqual(['storage: required']);
  });

  it('names the YAML path and the variable of a missing env secret', async () => {
    const err = await problems(`${FS}sources:${GITHUB}`, { GH_DR_TOKEN: 'x' });
    expect(err.issues).toEqual(['sources[0].source.auth.token: environment variable GH_TOKEN is not set']);
  });

  it('names the path of an unreadable file secret, relative to the config directory', async () => {
    const err = await problems(`${FS}sources:
  - name: gh
    service: github
    source: { org: acme, auth: { appId: 1, privateKey: file:keys/missing.pem } }
    standby: { org: acme-dr, auth: { token: env:GH_DR_TOKEN } }`, GH_ENV);
    expect(err.issues).toEqual([`sources[0].source.auth.privateKey: cannot read secret file ${path.join(dir, `c${n}`, 'keys', 'missing.pem')}: no such file`]);
  });

  it('explains duration errors', async () => {
    const err = await problems(`${FS}objectives: { rpo: abc, rto: 0s }
schedule: { every: 30, jitter: 1h }
retention: { deleted: 90 days }
sources:${GITHUB}
    objectives: { kinds: { github.issue: { rpo: 5 m s } } }
    schedule: { every: 1m, jitter: 5m }`, GH_ENV);
    expect(err.issues).toEqual([
      'objectives.rpo: expected a duration like 15m or 1h, got "abc"',
      'objectives.rto: must be longer than 0, got "0s"',
      'schedule.every: expected a duration like 15m or 1h, got 30',
      'retention.deleted: expected a duration like 15m or 1h, got "90 days"',
      'sources[0].objectives.kinds["github.issue"].rpo: expected a duration like 15m or 1h, got "5 m s"',
      'sources[0].schedule.jitter: must be shorter than every',
    ]);
    const jitter = await problems(`${FS}schedule: { every: 5m, jitter: 5m }\n`);
    expect(jitter.issues).toEqual(['schedule.jitter: must be shorter than every']);
  });

  it('rejects duplicate source names and a standby that is the source itself', async () => {
    const err = await problems(`${FS}sources:${GITHUB}${GITHUB}
  - name: ms
    service: microsoft
    source: { tenantId: acme.onmicrosoft.com, clientId: c1, clientSecret: env:MS_SECRET }
    standby: { tenantId: ACME.onmicrosoft.com, clientId: c2, clientSecret: env:MS_DR_SECRET }
    identity: { domains: { "acme com": acme-dr.com } }`, { ...GH_ENV, ...MS_ENV });
    expect(err.issues).toEqual([
      'sources[2].identity.domains["acme com"]: invalid key: expected a domain name like acme.com',
      'sources[1].name: duplicate source name "gh" (also sources[0]); names must be unique',
      'sources[2].standby: is the same Microsoft 365 tenant as the source; the standby must be a different one',
    ]);
  });

  it('rejects mixed or incomplete credential forms', async () => {
    const err = await problems(`version: 1
storage: { type: s3, bucket: abc, region: r, accessKeyId: env:AK }
sources:
  - name: gh
    service: github
    source: { org: acme, auth: { token: env:GH_TOKEN, appId: 1 } }
    standby: { org: acme-dr, auth: { installationId: 5 } }`, { ...GH_ENV, AK: 'x' });
    expect(err.issues).toEqual([
      'storage.secretAccessKey: required when the other static credential is given (or remove both to use the AWS default credential chain)',
      'sources[0].source.auth: give either token or GitHub App settings (appId, privateKey, installationId), not both',
      'sources[0].standby.auth.appId: required for GitHub App auth',
      'sources[0].standby.auth.privateKey: required for GitHub App auth (e.g. file:app.pem)',
    ]);
  });
});

describe('secrets never leak', () => {
  const SECRETS = {
    GH_TOKEN: 'ghp_SECRETsource0001',
    GH_DR_TOKEN: 'ghp_SECRETstandby002',
    AK: 'AKIASECRET0003',
    SK: 'SECRETsk0004',
    KEY: Buffer.from('SECRETkey0005-pad-to-32-bytes!!!').toString('base64'),
    MS_SECRET: 'SECRETms0006',
    MS_DR_SECRET: 'SECRETms0007',
  };
  const PEM = '-----BEGIN PRIVATE KEY-----\nSECRETpem0008\n-----END PRIVATE KEY-----\n';
  const SA = JSON.stringify({ client_email: 'sa@p.iam.gserviceaccount.com', private_key: 'SECRETsa0009' });
  const LITERAL = 'SECRETliteral0010';
  const all = [...Object.values(SECRETS), 'SECRETpem0008', 'SECRETsa0009', LITERAL, 'SECRETkey0005'];
  const yaml = `version: 1
storage: { type: s3, bucket: abc, region: r, accessKeyId: env:AK, secretAccessKey: env:SK }
encryption: { key: env:KEY }
sources:
  - name: gh
    service: github
    source: { org: acme, auth: { token: env:GH_TOKEN } }
    standby: { org: acme-dr, auth: { appId: 1, privateKey: file:app.pem } }
  - name: gw
    service: google
    source: { domain: acme.com, adminUser: a@acme.com, serviceAccount: { keyFile: file:sa.json } }
    standby: { domain: acme-dr.com, adminUser: a@acme-dr.com, serviceAccount: { clientEmail: x@acme-dr.com, privateKey: ${LITERAL} } }
  - name: ms
    service: microsoft
    source: { tenantId: t1, clientId: c1, clientSecret: env:MS_SECRET }
    standby: { tenantId: t2, clientId: c2, clientSecret: env:MS_DR_SECRET }
`;
  const expectClean = (text: string) => {
    for (const s of all) expect(text).not.toContain(s);
  };

  it('not in renderConfig, redactedConfig, JSON.stringify or util.inspect of the loaded config', async () => {
    const { config, warnings } = await load(yaml, SECRETS, { 'app.pem': PEM, 'sa.json': SA });
    const rendered = renderConfig(config);
    expect(rendered).toContain('"[redacted]"');
    expect(rendered.match(/\[redacted\]/g)?.length).toBe(9);
    expectClean(rendered);
    expectClean(JSON.stringify(redactedConfig(config)));
    expectClean(JSON.stringify(config));
    expectClean(inspect(config, { depth: Infinity, showHidden: true }));
    expectClean(warnings.join('\n'));
    // ... while the values are there for the code that needs them.
    const gw = config.sources[1];
    if (gw?.service !== 'google') throw new Error('expected google');
    expect(gw.standby.serviceAccount.privateKey.reveal()).toBe(LITERAL);
    expect(gw.source.serviceAccount.privateKey.reveal()).toBe('SECRETsa0009');
  });

  it('not in error messages', async () => {
    // Secrets present and readable, but problems elsewhere and in the secret fields themselves.
    const broken = yaml
      .replace('region: r,', 'region: r, bukcet: x,')
      .replace('clientId: c2,', '')
      .replace('env:KEY', 'SECRETkey0005-too-short');
    const err = await problems(broken + '    extra: SECRETliteral0010\n', SECRETS, { 'app.pem': PEM, 'sa.json': 'SECRETsa0009 not json' });
    expect(err.issues).toEqual(
      expect.arrayContaining([
        'storage.bukcet: unknown key (did you mean bucket?)',
        'encryption.key: expected 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32)',
        expect.stringMatching(/^sources\[1\]\.source\.serviceAccount\.keyFile: file:.*sa\.json is not a service account key/),
        'sources[2].standby.clientId: required',
        'sources[2].extra: unknown key (expected one of: name, service, source, standby, freshStandby, include, exclude, objectives, schedule, concurrency, failover, identity, options)',
      ]),
    );
    expectClean(err.message);
    expectClean(err.issues.join('\n'));
    expectClean(inspect(err, { depth: Infinity }));
    // A literal secret given where a number or mapping belongs is not quoted either.
    const typed = await problems(`${FS}sources:
  - name: gh
    service: github
    source: { org: acme, auth: { token: [${LITERAL}] } }
    standby: { org: acme-dr, auth: { token: { x: ${LITERAL} } } }`);
    expect(typed.issues).toEqual([
      'sources[0].source.auth.token: expected a secret reference like env:NAME or file:PATH, got a list',
      'sources[0].standby.auth.token: expected a secret reference like env:NAME or file:PATH, got a mapping',
    ]);
    expectClean(typed.message);
  });
});
