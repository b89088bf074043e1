import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryScopeStore, quietLogger, recordingLogger, runExport, runImport, runVerify } from '../../test/helpers/memory-contexts.js';
import { NATIVE, startGoogleEmulator, type GoogleEmulator, type GoogleEmulatorOptions } from '../../emulators/google/index.js';
import type { ScopeRef } from '../../src/model/connector.js';
import { createGoogleConnector, type GoogleConnector, type GoogleTenant } from './index.js';

const tenant = (emu: GoogleEmulator): GoogleTenant => ({
  domain: emu.domain,
  adminUser: emu.credentials.adminUser,
  serviceAccount: { clientEmail: emu.credentials.serviceAccount.client_email, privateKey: emu.credentials.serviceAccount.private_key },
  rootUrl: emu.rootUrl,
  tokenUrl: emu.tokenUrl,
});

interface Pair {
  source: GoogleEmulator;
  standby: GoogleEmulator;
  connector: GoogleConnector;
  scope(id: string): Promise<ScopeRef>;
  close(): Promise<void>;
}

async function pair(src: GoogleEmulatorOptions, opts: Partial<Parameters<typeof createGoogleConnector>[0]> = {}): Promise<Pair> {
  const source = await startGoogleEmulator({ domain: 'acme.test', ...src });
  const standby = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty' });
  const connector = createGoogleConnector({ source: tenant(source), standby: tenant(standby), log: quietLogger, retryBaseMs: 10, ...opts });
  return {
    source,
    standby,
    connector,
    scope: async (id) => {
      const s = (await connector.scopes()).find((x) => x.id === id);
      if (!s) throw new Error(`no scope ${id}`);
      return s;
    },
    close: async () => {
      await connector.close();
      await source.stop();
      await standby.stop();
    },
  };
}

describe('google connector against the emulator', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'norestore-google-integ-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('moves a large Drive file by ranged download and resumable upload through dropped connections, and adopts after a lost create', async () => {
    const p = await pair({ profile: 'empty' });
    try {
      const user = await p.source.mutate.addUser({ local: 'big', givenName: 'Big', familyName: 'File' });
      const size = 20 * 1024 * 1024 + 7;
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4096) data.writeUInt32LE((i * 2654435761) >>> 0, i);
      const big = await p.source.mutate.createFile(user, { name: 'big.bin', content: data });
      await p.source.mutate.createFile(user, { name: 'small.txt', mimeType: 'text/plain', content: Buffer.from('klein') });
      const scope = await p.scope('drive~acme.test~big');
      const store = new MemoryScopeStore();
      const log = recordingLogger();
      p.source.setFaults('drop=0.5,seed=3');
      const exported = await runExport(p.connector, scope, store, join(dir, 'w1'), log);
      expect(exported.map((r) => r.id).sort()).toEqual([big, p.source.mutate.listFiles({ owner: user }).find((f) => f.name === 'small.txt')?.id].sort());
      const rec = exported.find((r) => r.id === big);
      expect(rec?.blobs?.content?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(p.source.stats().faults.drops).toBeGreaterThan(0);
      p.source.setFaults(null);
      p.standby.setFaults('drop=0.25,dropWrites=1,seed=5');
      const imported = await runImport(p.connector, scope, store, join(dir, 'w1'), log);
      p.standby.setFaults(null);
      expect(imported.failed).toEqual([]);
      expect(imported.imported).toBe(2);
      expect(p.standby.stats().uploadSessions).toBeGreaterThan(0);
      expect(p.standby.stats().faults.drops).toBeGreaterThan(0);
      const verified = await runVerify(p.connector, scope, store, join(dir, 'w1'));
      expect(verified.findings).toEqual([]);
      // Exactly one copy of each file on the standby, whatever was retried.
      expect(p.standby.mutate.listFiles({ owner: 'big@acme-dr.test' }).map((f) => f.name).sort()).toEqual(['big.bin', 'small.txt']);
      // A changed large file is uploaded again (resumable update).
      data[5] = 1;
      await p.source.mutate.updateContent(big, data);
      await runExport(p.connector, scope, store, join(dir, 'w1'));
      expect((await runImport(p.connector, scope, store, join(dir, 'w1'))).failed).toEqual([]);
      expect((await runVerify(p.connector, scope, store, join(dir, 'w1'))).findings).toEqual([]);
      expect(log.lines.join('\n')).not.toMatch(/PRIVATE KEY|ya29\./);
    } finally {
      await p.close();
    }
  });

  it('stays under an enforced per-user Gmail quota while pacing close to it', async () => {
    const p = await pair({ profile: 'empty', quota: { gmailUnitsPerSecond: 200 } }, { gmailUnitsPerSecond: 200 });
    try {
      const user = await p.source.mutate.addUser({ local: 'mail', givenName: 'Mail', familyName: 'Box' });
      for (let i = 0; i < 40; i++) p.source.mutate.deliver(user, { from: `sender${i}@example.org`, subject: `Nachricht ${i}`, text: `Text ${i}`, date: new Date(Date.UTC(2024, 0, 1 + i)) });
      p.standby.setQuota({ gmailUnitsPerSecond: 200 });
      const scope = await p.scope('gmail~acme.test~mail');
      const store = new MemoryScopeStore();
      await runExport(p.connector, scope, store, join(dir, 'w2'));
      const result = await runImport(p.connector, scope, store, join(dir, 'w2'));
      expect(result.failed).toEqual([]);
      expect(result.imported).toBe(40);
      // 40 imports x 25 units = 1,000 units at 200 units/s: the pacer had to wait, and Google hardly had to refuse.
      const stats = p.connector.stats();
      expect(stats.standby.pacedMs).toBeGreaterThan(2000);
      expect(p.standby.stats().quota.throttled['gmail:mail@acme-dr.test'] ?? 0).toBe(0);
      expect(p.source.stats().quota.throttled['gmail:mail@acme.test'] ?? 0).toBe(0);
      expect((await runVerify(p.connector, scope, store, join(dir, 'w2'))).findings).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('keeps a native document beyond the export limit as metadata and reports it; keeps Office files when conversion is off', async () => {
    const p = await pair({ profile: 'empty', exportLimitBytes: 8 * 1024 }, { convertOfficeToNative: false });
    try {
      const user = await p.source.mutate.addUser({ local: 'docs', givenName: 'Doc', familyName: 'Writer' });
      const huge = await p.source.mutate.createFile(user, { name: 'Huge', mimeType: NATIVE.document, text: Array.from({ length: 2000 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join('\n') });
      const small = await p.source.mutate.createFile(user, { name: 'Kurz', mimeType: NATIVE.spreadsheet, text: 'a,b\n1,2' });
      const scope = await p.scope('drive~acme.test~docs');
      const store = new MemoryScopeStore();
      const recs = await runExport(p.connector, scope, store, join(dir, 'w3'));
      expect((recs.find((r) => r.id === huge)?.raw as { exportError?: string }).exportError).toBe('exportSizeLimitExceeded');
      expect(recs.find((r) => r.id === huge)?.blobs).toBeUndefined();
      const result = await runImport(p.connector, scope, store, join(dir, 'w3'));
      expect(result.failed).toEqual([{ kind: 'drive.file', id: huge, error: expect.stringMatching(/beyond Drive's export limit/) }]);
      expect(p.standby.mutate.listFiles({ owner: 'docs@acme-dr.test' }).map((f) => [f.name, f.mimeType])).toEqual([['Kurz', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']]);
      const v = await runVerify(p.connector, scope, store, join(dir, 'w3'));
      expect(v.findings.map((f) => `${f.type} ${f.id}`)).toEqual([`missing ${huge}`]);
      expect(v.matched).toBe(1);
      expect(small).toBeTruthy();
    } finally {
      await p.close();
    }
  });

  it("restores an item that sits in someone else's shared folder into its owner's root", async () => {
    const p = await pair({ profile: 'empty' });
    try {
      const a = p.source.mutate.addUser({ local: 'anna', givenName: 'Anna', familyName: 'A' });
      const b = p.source.mutate.addUser({ local: 'bert', givenName: 'Bert', familyName: 'B' });
      const folder = await p.source.mutate.createFolder(a, 'Team folder');
      p.source.mutate.share(folder, { type: 'user', role: 'writer', email: b });
      const file = await p.source.mutate.createFile(a, { name: 'x', content: Buffer.from('x') });
      // bert's file in anna's folder (owned by bert).
      const mine = await p.source.mutate.createFile(b, { name: 'bert.txt', mimeType: 'text/plain', content: Buffer.from('von Bert'), parentId: folder });
      const scope = await p.scope('drive~acme.test~bert');
      const store = new MemoryScopeStore();
      const recs = await runExport(p.connector, scope, store, join(dir, 'w4'));
      expect(recs.map((r) => [r.id, (r.raw as { parent: string }).parent])).toEqual([[mine, 'root']]);
      expect((await runImport(p.connector, scope, store, join(dir, 'w4'))).failed).toEqual([]);
      expect((await runVerify(p.connector, scope, store, join(dir, 'w4'))).findings).toEqual([]);
      expect(file).toBeTruthy();
    } finally {
      await p.close();
    }
  });
});
