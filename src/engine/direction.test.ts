import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { storageSourceKey, swapConfigDirection } from './direction.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('direction', () => {
  it('swaps source and standby of one source, keeping comments and the other sources', async () => {
    dir = await mkdtemp(join(tmpdir(), 'norestore-dir-'));
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      ['version: 1', '# the repo', 'storage: { type: fs, path: ./r }', 'sources:', '  - name: gh', '    service: github', '    source: { org: acme, auth: { token: env:A } } # primary', '    standby: { org: acme-dr, auth: { token: env:B } }', '  - name: other', '    service: github', '    source: { org: x, auth: { token: env:A } }', '    standby: { org: y, auth: { token: env:B } }', ''].join('\n'),
    );
    const backup = await swapConfigDirection(file, 'gh', 'failed over by norestore');
    const after = YAML.parse(await readFile(file, 'utf8'));
    expect(after.sources[0].source.org).toBe('acme-dr');
    expect(after.sources[0].standby.org).toBe('acme');
    expect(after.sources[1].source.org).toBe('x');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# the repo');
    expect(text).toContain('failed over by norestore');
    expect(YAML.parse(await readFile(backup, 'utf8')).sources[0].source.org).toBe('acme');
  });

  it('reverses the identity maps with the direction; refuses a map that cannot be reversed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'norestore-dir-'));
    const file = join(dir, 'config.yaml');
    const config = (users: string) =>
      ['version: 1', 'sources:', '  - name: g', '    service: google', '    source: { domain: acme.com }', '    standby: { domain: acme-dr.com }', '    identity:', '      domains: { acme.com: acme-dr.com }', `      users: ${users}`, ''].join('\n');
    await writeFile(file, config('{ ceo@acme.com: boss@acme-dr.com }'));
    await swapConfigDirection(file, 'g', 'failover');
    const after = YAML.parse(await readFile(file, 'utf8'));
    expect(after.sources[0].identity).toEqual({ domains: { 'acme-dr.com': 'acme.com' }, users: { 'boss@acme-dr.com': 'ceo@acme.com' } });
    await swapConfigDirection(file, 'g', 'failback');
    expect(YAML.parse(await readFile(file, 'utf8')).sources[0].identity).toEqual({ domains: { 'acme.com': 'acme-dr.com' }, users: { 'ceo@acme.com': 'boss@acme-dr.com' } });

    const manyToOne = config('{ a@acme.com: x@acme-dr.com, b@acme.com: x@acme-dr.com }');
    await writeFile(file, manyToOne);
    await expect(swapConfigDirection(file, 'g', 'failover')).rejects.toThrow(/identity\.users maps two names to the same one/);
    expect(await readFile(file, 'utf8')).toBe(manyToOne);
  });

  it('keys each generation apart', () => {
    expect(storageSourceKey('gh', { generation: 0, active: 'primary', history: [] })).toBe('gh');
    expect(storageSourceKey('gh', { generation: 2, active: 'primary', history: [] })).toBe('gh.g2');
  });
});
