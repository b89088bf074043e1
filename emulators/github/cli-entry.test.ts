import { describe, expect, it } from 'vitest';
import { runEmulateCommand } from './cli-entry.js';

describe('runEmulateCommand', () => {
  it('prints one JSON line with URLs and credentials, serves until stopped', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    let printed!: () => void;
    const ready = new Promise<void>((resolve) => (printed = resolve));
    const running = runEmulateCommand({ seed: 'empty', org: 'cli-org', signal: stop.signal }, (line) => {
      lines.push(line);
      printed();
    });
    await ready;
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0] as string) as { service: string; baseUrl: string; gitUrl: string; token: string; orgs: string[] };
    expect(info).toMatchObject({ service: 'github', orgs: ['cli-org'] });
    expect(info.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    expect(info.token).toMatch(/^ghp_/);
    const res = await fetch(`${info.baseUrl}/orgs/cli-org`, { headers: { authorization: `token ${info.token}` } });
    expect(res.status).toBe(200);
    stop.abort();
    await running;
    await expect(fetch(`${info.baseUrl}/orgs/cli-org`)).rejects.toThrow();
  });
});
