import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, renderConfig } from './load.js';
import { objectivesFor } from './schema.js';

/** Keeps config.example.yaml valid and complete. */

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config.example.yaml');
let text: string;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  text = await readFile(EXAMPLE, 'utf8');
  dir = await mkdtemp(path.join(tmpdir(), 'norestore-example-'));
  // Dummy values for every env: reference, dummy files for every file: reference.
  env = {};
  for (const m of text.matchAll(/\benv:([A-Za-z_][A-Za-z0-9_]*)/g)) env[m[1] as string] = m[1] === 'NORESTORE_KEY' ? Buffer.alloc(32, 1).toString('base64') : `dummy-${m[1]}`;
  for (const m of text.matchAll(/\bfile:([^\s#,}]+)/g)) {
    const file = path.join(dir, m[1] as string);
    await mkdir(path.dirname(file), { recursive: true });
    const body = file.endsWith('.json') ? JSON.stringify({ type: 'service_account', client_email: 'sa@example.iam.gserviceaccount.com', private_key: 'dummy' }) : 'dummy-key\n';
    await writeFile(file, body);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (yaml: string) => parseConfigText(yaml, path.join(dir, 'config.example.yaml'), env);

describe('config.example.yaml', () => {
  it('is valid, without warnings', () => {
    const { warnings } = load(text);
    expect(warnings).toEqual([]);
  });

  it('shows every part: storage, encryption, objectives (also per kind), schedule, retention, all three services with standby and identity mapping', () => {
    const { config } = load(text);
    expect(config.storage.type).toBe('fs');
    expect(config.encryption).toBeDefined();
    expect(text).toMatch(/^cacheDir:/m);
    expect(text).toMatch(/^retention:/m);
    expect(text).toMatch(/^schedule:/m);
    expect(text).toMatch(/^objectives:/m);
    expect(config.sources.map((s) => s.service).sort()).toEqual(['github', 'google', 'microsoft']);
    for (const s of config.sources) {
      expect(s.standby).toBeDefined();
      const identity = s.identity as { users?: Record<string, string>; domains?: Record<string, string> };
      expect(Object.keys({ ...identity.users, ...identity.domains }).length, `${s.name} identity`).toBeGreaterThan(0);
    }
    const google = config.sources.find((s) => s.service === 'google');
    if (google?.service !== 'google') throw new Error('expected a google source');
    expect(google.identity.domains).toEqual({ 'acme.com': 'acme-dr.com' });
    const gh = config.sources.find((s) => s.service === 'github');
    if (gh?.service !== 'github') throw new Error('expected a github source');
    expect(gh.source.auth.type).toBe('token');
    expect(gh.standby.auth.type).toBe('app');
    expect(objectivesFor(config, gh.name, 'github.issue').rpoMs).toBe(15 * 60_000);
    expect(Object.keys(gh.objectives?.kinds ?? {}).length).toBeGreaterThan(0);
    expect(gh.schedule?.every).toBe(5 * 60_000);
  });

  it('has a valid s3 alternative in its comments', () => {
    const lines = text.split('\n');
    const start = lines.findIndex((l) => /^storage:/.test(l));
    const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
    const storage = lines.slice(start + 1, end);
    const s3 = storage
      .filter((l) => /^ {2}# {1,3}(type: s3|bucket|prefix|endpoint|region|forcePathStyle|accessKeyId|secretAccessKey|objectLock|mode|days)\b/.test(l))
      .map((l) => l.replace(/^ {2}# /, '  '));
    expect(s3.length).toBeGreaterThanOrEqual(10);
    const yaml = [...lines.slice(0, start + 1), ...s3, ...lines.slice(end)].join('\n');
    const { config } = load(yaml);
    if (config.storage.type !== 's3') throw new Error('expected s3 storage');
    expect(config.storage).toMatchObject({ bucket: 'acme-norestore', prefix: 'prod', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true, objectLock: { mode: 'GOVERNANCE', days: 30 } });
    expect(config.storage.secretAccessKey?.reveal()).toBe('dummy-AWS_SECRET_ACCESS_KEY');
  });

  it('renders without any of the secret values', () => {
    const out = renderConfig(load(text).config);
    for (const v of Object.values(env)) expect(out).not.toContain(v);
    expect(out).not.toContain('dummy-key');
  });
});
