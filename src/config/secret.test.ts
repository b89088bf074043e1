import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, isSecretReference, resolveSecret } from './secret.js';

const VALUE = 'sk-very-secret-value-42';

describe('Secret', () => {
  const s = new Secret(VALUE, 'env', 'env:TOKEN');

  it('reveals the value only through reveal()', () => {
    expect(s.reveal()).toBe(VALUE);
    expect(String(s)).toBe('[redacted]');
    expect(`${s}`).toBe('[redacted]');
    expect('x' + s).toBe('x[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect(s)).toBe('[redacted]');
    expect(inspect({ deep: { s } }, { depth: 10, showHidden: true })).not.toContain(VALUE);
    expect(JSON.stringify({ ...s })).not.toContain(VALUE);
    expect(JSON.stringify(structuredClone({ ...s }))).not.toContain(VALUE);
    expect(s.ref).toBe('env:TOKEN');
  });
});

describe('resolveSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'norestore-secret-'));
    await writeFile(path.join(dir, 'token'), `${VALUE}\n`);
    await writeFile(path.join(dir, 'crlf'), `${VALUE}\r\n\r\n`);
    await writeFile(path.join(dir, 'empty'), '\n');
    await mkdir(path.join(dir, 'sub'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const ctx = () => ({ env: { TOKEN: VALUE, EMPTY: '' }, baseDir: dir });

  it('reads env:NAME', () => {
    const r = resolveSecret('env:TOKEN', ctx());
    expect(r.ok && r.secret.reveal()).toBe(VALUE);
    expect(r.ok && r.secret.origin).toBe('env');
  });

  it('names a missing or empty variable', () => {
    expect(resolveSecret('env:GH_TOKEN', ctx())).toEqual({ ok: false, message: 'environment variable GH_TOKEN is not set' });
    expect(resolveSecret('env:EMPTY', ctx())).toEqual({ ok: false, message: 'environment variable EMPTY is empty' });
    const bad = resolveSecret('env:not a name', ctx());
    expect(bad.ok).toBe(false);
  });

  it('reads file:PATH relative to the base directory, trailing newlines trimmed', () => {
    for (const ref of ['file:token', 'file:./token', `file:${path.join(dir, 'crlf')}`]) {
      const r = resolveSecret(ref, ctx());
      expect(r.ok && r.secret.reveal()).toBe(VALUE);
    }
    const r = resolveSecret('file:token', ctx());
    expect(r.ok && r.secret.ref).toBe(`file:${path.join(dir, 'token')}`);
  });

  it('names an unreadable or empty file', () => {
    expect(resolveSecret('file:nope.pem', ctx())).toEqual({ ok: false, message: `cannot read secret file ${path.join(dir, 'nope.pem')}: no such file` });
    expect(resolveSecret('file:sub', ctx())).toEqual({ ok: false, message: `cannot read secret file ${path.join(dir, 'sub')}: is a directory` });
    expect(resolveSecret('file:empty', ctx())).toEqual({ ok: false, message: `secret file ${path.join(dir, 'empty')} is empty` });
  });

  it('takes anything else as a literal', () => {
    const r = resolveSecret(VALUE, ctx());
    expect(r.ok && r.secret.origin).toBe('literal');
    expect(isSecretReference(VALUE)).toBe(false);
    expect(isSecretReference('env:X')).toBe(true);
    expect(isSecretReference('file:x')).toBe(true);
  });
});
