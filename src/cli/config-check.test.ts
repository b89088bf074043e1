import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configCheckCommand } from './config-check.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'norestore-config-check-'));
  process.env.NORESTORE_TEST_GH_TOKEN = 'ghp_from_env_SECRET_1';
});
afterAll(async () => {
  delete process.env.NORESTORE_TEST_GH_TOKEN;
  await rm(dir, { recursive: true, force: true });
});

async function run(yaml: string | null, name = 'c.yaml') {
  const file = path.join(dir, name);
  if (yaml !== null) await writeFile(file, yaml);
  let stdout = '';
  let stderr = '';
  const code = await configCheckCommand(file, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr, file };
}

const VALID = `version: 1
storage: { type: fs, path: repo }
schedule: { every: 90m }
sources:
  - name: gh
    service: github
    source: { org: acme, auth: { token: env:NORESTORE_TEST_GH_TOKEN } }
    standby: { org: acme-dr, auth: { token: ghp_literal_SECRET_2 } }
`;

describe('norestore config check', () => {
  it('prints the effective config redacted, warnings on stderr, and exits 0', async () => {
    const { code, stdout, stderr, file } = await run(VALID, 'valid.yaml');
    expect(code).toBe(0);
    expect(stdout).toContain(`# effective config of ${file} (secrets redacted)`);
    const effective = parse(stdout) as { storage: { path: string }; schedule: { every: string; jitter: string }; sources: Array<{ source: { auth: { token: string } }; standby: { auth: { token: string } } }> };
    expect(effective.storage.path).toBe(path.join(dir, 'repo'));
    expect(effective.schedule).toEqual({ every: '1h30m', jitter: '0s' });
    expect(effective.sources[0]?.source.auth.token).toBe('[redacted]');
    expect(effective.sources[0]?.standby.auth.token).toBe('[redacted]');
    expect(stderr).toBe(
      'warning: sources[0].standby.auth.token: a secret written in the config file; use a reference instead (env:NAME or file:PATH)\n' +
        `config ${file}: valid (1 warning)\n`,
    );
    expect(stdout + stderr).not.toContain('SECRET_1');
    expect(stdout + stderr).not.toContain('SECRET_2');
  });

  it('lists every problem and exits 2', async () => {
    const bad = VALID.replace('path: repo', 'path: repo, bukcet: x').replace('env:NORESTORE_TEST_GH_TOKEN', 'env:NORESTORE_TEST_UNSET').replace('org: acme-dr, ', '');
    const { code, stdout, stderr, file } = await run(bad, 'bad.yaml');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `error: invalid config ${file}: 3 problems\n` +
        '  storage.bukcet: unknown key (expected one of: type, path)\n' +
        '  sources[0].source.auth.token: environment variable NORESTORE_TEST_UNSET is not set\n' +
        '  sources[0].standby.org: required\n',
    );
    expect(stderr).not.toContain('SECRET_2');
  });

  it('says when the file cannot be read, and exits 2', async () => {
    const { code, stderr, file } = await run(null, 'missing.yaml');
    expect(code).toBe(2);
    expect(stderr).toBe(`error: cannot read config ${file}: no such file (start from config.example.yaml)\n`);
  });
});
