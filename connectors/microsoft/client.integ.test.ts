import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../../emulators/microsoft/index.js';
import { recordingLogger } from '../../test/helpers/memory-contexts.js';
import { GraphTenantClient, paceKeyOf, statusOf } from './client.js';
import type { MicrosoftTenant } from './types.js';

let emu: MicrosoftEmulator;
const tenant = (): MicrosoftTenant => ({ tenantId: emu.tenantId, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret, authorityHost: emu.authorityHost, graphBaseUrl: emu.graphBaseUrl, caCertificate: emu.caCertificate });

beforeAll(async () => {
  emu = await startMicrosoftEmulator({ seed: { profile: 'small', users: 2 } });
});
afterAll(async () => {
  await emu?.stop();
});

describe('Graph client pacing and retries', () => {
  it('sorts requests into per-mailbox, per-drive and app budgets', () => {
    expect(paceKeyOf('https://g/v1.0/users/ABC/mailFolders/inbox/messages/delta')).toBe('mailbox:abc');
    expect(paceKeyOf('https://g/v1.0/users/abc/calendarView/delta?x=1')).toBe('mailbox:abc');
    expect(paceKeyOf('https://g/v1.0/users/abc/contactFolders')).toBe('mailbox:abc');
    expect(paceKeyOf('https://g/v1.0/users/abc/drive/root/delta')).toBe('drive:abc');
    expect(paceKeyOf('https://g/v1.0/users/delta')).toBe('app');
    expect(paceKeyOf('https://g/_upload/drive/xyz')).toBe('transfer');
  });

  it('stays within the enforced per-mailbox concurrency and budget: no 429 at all', async () => {
    // Budget of 30 requests per window, the window scaled to 1.5 s at both ends.
    emu.setLimits({ requestsPerWindow: 30, timeScale: 400 });
    emu.setFaults('latency=15');
    const uid = emu.users[0]?.id as string;
    const c = new GraphTenantClient({ tenant: tenant(), role: 'source', log: recordingLogger(), mailboxRequestsPer10Minutes: 30, mailboxWindowMs: 1500 });
    try {
      const started = Date.now();
      await Promise.all(Array.from({ length: 75 }, () => c.get(`/users/${uid}/mailFolders`)));
      const ms = Date.now() - started;
      const counters = emu.stats().mailboxes[`${emu.credentials.clientId}:${uid}`];
      expect(counters?.throttledConcurrency).toBe(0);
      expect(counters?.throttledBudget).toBe(0);
      expect(counters?.peakConcurrency).toBe(4);
      expect(c.stats.throttled).toBe(0);
      // 75 requests at 30 per window need two full windows of waiting.
      expect(ms).toBeGreaterThanOrEqual(3000);
      expect(c.stats.pacedMs).toBeGreaterThan(0);
    } finally {
      emu.setLimits({ requestsPerWindow: 10_000, timeScale: 1 });
      emu.setFaults(null);
    }
  });

  it('waits Retry-After on 429 and retries 5xx and dropped connections until the call succeeds', async () => {
    const c = new GraphTenantClient({ tenant: tenant(), role: 'source', log: recordingLogger(), retryBaseMs: 5 });
    await c.get('/users');
    emu.setFaults('error5xx=0.3,rate429=0.1,storm=300,drop=0.1,seed=3');
    try {
      const uid = emu.users[1]?.id as string;
      const results = await Promise.all(Array.from({ length: 30 }, () => c.get<{ value: unknown[] }>(`/users/${uid}/mailFolders`)));
      expect(results.every((r) => r.value.length > 0)).toBe(true);
      expect(c.stats.throttled).toBeGreaterThan(0);
      expect(c.stats.serverErrors).toBeGreaterThan(0);
      expect(c.stats.networkErrors).toBeGreaterThan(0);
    } finally {
      emu.setFaults(null);
    }
  });

  it('fails fast with a clear message on an untrusted certificate or a wrong secret, never showing the secret', async () => {
    const log = recordingLogger();
    const untrusted = new GraphTenantClient({ tenant: { ...tenant(), caCertificate: undefined }, role: 'source', log });
    const t0 = Date.now();
    const e1 = await untrusted.get('/users').catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(String((e1 as Error).message)).toMatch(/not trusted|NODE_EXTRA_CA_CERTS|sign-in/);
    const wrong = new GraphTenantClient({ tenant: { ...tenant(), clientSecret: 'not-the-secret-123' }, role: 'standby', log });
    const e2 = await wrong.get('/users').catch((e: unknown) => e);
    expect(statusOf(e2)).toBe(401);
    expect((e2 as Error).message).toMatch(/sign-in of app .* failed .*check tenantId, clientId, clientSecret/);
    expect((e2 as Error).message).not.toContain('not-the-secret-123');
    expect(log.lines.join('\n')).not.toContain(emu.credentials.clientSecret);
  });
});
