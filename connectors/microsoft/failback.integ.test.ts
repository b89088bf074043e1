/**
 * Replication the other way after a failover: the standby becomes the source and the old primary
 * the standby, with fresh id maps. Natural keys (internetMessageId, path, subject and times, name and
 * address) must adopt the originals instead of duplicating them, and verification must find the two
 * tenants equal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../../emulators/microsoft/index.js';
import { MemoryScopeStore, quietLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { tenantOf } from '../../test/helpers/microsoft-fixture.js';
import { createMicrosoftConnector } from './index.js';

let a: MicrosoftEmulator;
let b: MicrosoftEmulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'norestore-m365-failback-'));
  a = await startMicrosoftEmulator({ seed: { profile: 'small', users: 1 }, domain: 'contoso.onmicrosoft.com' });
  b = await startMicrosoftEmulator({ seed: { profile: 'empty', users: 1 }, domain: 'fabrikam.onmicrosoft.com', seedNumber: 4 });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const counts = (e: MicrosoftEmulator) => {
  const u = [...e.state.users.values()][0];
  return { messages: u?.mailbox.messages.size, folders: u?.mailbox.folders.size, drive: u?.drive.items.size, events: u?.mailbox.events.size, contacts: u?.mailbox.contacts.size };
};

describe('replication reversed after a failover', () => {
  it('adopts the originals by natural key: nothing duplicated, both tenants verify equal', async () => {
    const forward = createMicrosoftConnector({ source: tenantOf(a), standby: tenantOf(b), identity: { domains: { 'contoso.onmicrosoft.com': 'fabrikam.onmicrosoft.com' } }, log: quietLogger, retryBaseMs: 10 });
    for (const s of await forward.scopes()) {
      const st = new MemoryScopeStore();
      await runExport(forward, s, st, dir);
      expect((await runImport(forward, s, st, dir)).failed).toEqual([]);
    }
    await forward.close();
    const before = counts(a);
    const backward = createMicrosoftConnector({ source: tenantOf(b), standby: tenantOf(a), identity: { domains: { 'fabrikam.onmicrosoft.com': 'contoso.onmicrosoft.com' } }, log: quietLogger, retryBaseMs: 10 });
    try {
      for (const s of await backward.scopes()) {
        const st = new MemoryScopeStore();
        await runExport(backward, s, st, dir);
        const res = await runImport(backward, s, st, dir);
        expect(res.failed, s.id).toEqual([]);
        if (s.id === 'directory') continue;
        const v = await runVerify(backward, s, st, dir);
        expect(v.findings.map((f) => `${f.type} ${f.kind} ${f.id} ${(f.fields ?? []).join(',')}`), s.id).toEqual([]);
      }
    } finally {
      await backward.close();
    }
    expect(counts(a)).toEqual(before);
    expect(a.invitations()).toEqual([]);
  });
});
