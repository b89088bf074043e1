import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runEmulateCommand } from './cli-entry.js';

describe('norestore emulate google', () => {
  it('prints one JSON line with the endpoints and a key file (never the key), serves, and stops on abort', async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    let printed: () => void = () => undefined;
    const ready = new Promise<void>((r) => (printed = r));
    const run = runEmulateCommand({ profile: 'small', domain: 'demo.test' }, (l) => {
      lines.push(l);
      printed();
    }, ac.signal);
    await ready;
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('PRIVATE KEY');
    const info = JSON.parse(lines[0] as string) as { rootUrl: string; tokenUrl: string; domain: string; adminUser: string; serviceAccountKeyFile: string };
    expect(info).toMatchObject({ domain: 'demo.test', adminUser: 'admin@demo.test' });
    const key = JSON.parse(await readFile(info.serviceAccountKeyFile, 'utf8')) as { private_key: string; token_uri: string };
    expect(key.private_key).toContain('PRIVATE KEY');
    expect(key.token_uri).toBe(info.tokenUrl);
    expect((await fetch(`${info.rootUrl}gmail/v1/users/me/profile`)).status).toBe(401);
    ac.abort();
    expect(await run).toBe(0);
    await expect(fetch(`${info.rootUrl}gmail/v1/users/me/profile`)).rejects.toThrow();
    await expect(readFile(info.serviceAccountKeyFile)).rejects.toThrow();
  });
});
