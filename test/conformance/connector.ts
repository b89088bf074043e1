/**
 * The connector conformance suite (like rclone's fstests, with Airbyte's state checks): every
 * connector passes it against its emulator. A connector's own test is a few lines that call
 * runConnectorSuite with a fixture.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, ScopeRef } from '../../src/model/connector.js';
import type { Cursor } from '../../src/model/records.js';
import type { Repository } from '../../src/store/types.js';
import { exportStep, importStep, verifyStep, type StepEnv } from '../../src/engine/steps.js';
import { MemoryIdMap } from '../../src/engine/idmap.js';
import { importBatch } from '../../src/engine/order.js';
import { silentLogger } from '../../src/engine/log.js';
import { initRepository } from '../../src/store/repository.js';
import { createFsTarget } from '../../targets/fs/index.js';

export interface ItemKey {
  kind: string;
  id: string;
}

export interface ConnectorFixture {
  connector: Connector;
  /**
   * Change the source deterministically. `changed` must appear as upserts and `deleted` as
   * tombstones in the next export; `related` may appear too (side effects the service itself has,
   * such as a parent's updated_at moving when a child changes). Nothing else may be emitted.
   */
  mutate(round: number): Promise<{ changed: ItemKey[]; deleted: ItemKey[]; related: ItemKey[] }>;
  /** Make the source reject the scopes' current cursors as expired, where the service has such expiry. */
  expireCursors?(): Promise<void>;
  /** A cursor positioned after `cursor` in the future (Airbyte: yields nothing but still a cursor). */
  futureCursor(cursor: Cursor): Cursor;
  /** Inject faults into source and standby (null = none), e.g. 'error5xx=0.05,rate429=0.03,drop=0.02'. */
  setFaults(spec: string | null): void;
  /**
   * For the kill -9 test: write a config file for the built CLI with fs storage at repoDir, pointing
   * at this fixture's source and standby (a standby of its own is fine), and name the source.
   */
  cliConfig?(repoDir: string): Promise<{ configFile: string; source: string; env?: Record<string, string> }>;
  close(): Promise<void>;
}

async function collect(repo: Repository, source: string, scope: string, afterSeq: number): Promise<ItemKey[]> {
  const out: ItemKey[] = [];
  for await (const r of repo.readJournal(source, scope, { afterSeq })) out.push({ kind: r.kind, id: r.id });
  return out;
}

const key = (k: ItemKey): string => `${k.kind}:${k.id}`;

export function runConnectorSuite(name: string, make: () => Promise<ConnectorFixture>): void {
  // Each step drives real emulators through the real SDKs; on a loaded 2-core machine that takes a while.
  describe(`connector conformance: ${name}`, { timeout: 240_000 }, () => {
    let fx: ConnectorFixture;
    let repo: Repository;
    let dir: string;
    let scopes: ScopeRef[];
    const source = 'conformance';

    const env = async (scope: ScopeRef): Promise<StepEnv> => ({
      repo,
      connector: fx.connector,
      source,
      scope,
      lease: await repo.acquireLease(source, scope.id),
      cacheDir: join(dir, 'cache'),
      signal: new AbortController().signal,
      log: silentLogger,
    });
    const step = async <T>(scope: ScopeRef, fn: (e: StepEnv) => Promise<T>): Promise<T> => {
      const e = await env(scope);
      try {
        return await fn(e);
      } finally {
        await e.lease.release();
      }
    };
    const everyScope = async (fn: (e: StepEnv) => Promise<unknown>): Promise<void> => {
      for (const s of scopes) await step(s, fn);
    };
    const verifyAll = async (): Promise<Array<{ scope: string; findings: string[] }>> => {
      const out: Array<{ scope: string; findings: string[] }> = [];
      for (const s of scopes) {
        const { proof } = await step(s, verifyStep);
        if (proof.findings.length) out.push({ scope: s.id, findings: proof.findings.slice(0, 10).map((f) => `${f.type} ${f.kind} ${f.id}: ${f.detail}`) });
      }
      return out;
    };
    const liveKeys = async (): Promise<string[]> => {
      const keys: string[] = [];
      for (const s of scopes) for (const [kind, items] of await repo.liveRecords(source, s.id)) for (const id of items.keys()) keys.push(`${s.id}/${kind}:${id}`);
      return keys.sort();
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'norestore-conf-'));
      repo = await initRepository(createFsTarget({ path: join(dir, 'repo') }));
      fx = await make();
      scopes = await fx.connector.scopes();
    });
    afterAll(async () => {
      await fx?.close();
      await repo?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('declares its kinds honestly', () => {
      expect(fx.connector.kinds.length).toBeGreaterThan(0);
      for (const k of fx.connector.kinds) {
        expect(k.kind.startsWith(fx.connector.service + '.') || k.service === fx.connector.service).toBe(true);
        if (k.possession === 'restorable') expect(k.fidelity.preserved.length, `${k.kind} preserves nothing`).toBeGreaterThan(0);
        for (const d of k.dependsOn) expect(fx.connector.kinds.some((o) => o.kind === d), `${k.kind} depends on unknown ${d}`).toBe(true);
      }
      expect(scopes.length).toBeGreaterThan(0);
      for (const s of scopes) expect(s.id).toMatch(/^[a-z0-9._-]+(~[a-z0-9._-]+)*$/);
    });

    it('full export emits every item with a cursor', async () => {
      await everyScope(exportStep);
      for (const s of scopes) {
        const state = await repo.scopeState(source, s.id);
        expect(state.cursor, `cursor of ${s.id}`).not.toBeNull();
        expect(state.exportedSeq, `records of ${s.id}`).toBeGreaterThan(0);
      }
    });

    it('imports into an empty standby and verifies equal', async () => {
      await everyScope(importStep);
      expect(await verifyAll()).toEqual([]);
    });

    it('re-importing everything is a no-op (idempotent through the id map)', async () => {
      for (const s of scopes) {
        const state = await repo.scopeState(source, s.id);
        const live = await repo.liveRecords(source, s.id);
        const all = importBatch([...live.values()].flatMap((m) => [...m.values()]), fx.connector.kinds);
        const idMap = new MemoryIdMap(state.idMap);
        const result = await fx.connector.importChanges(s, all, {
          getBlob: (sha) => repo.getBlob(sha), idMap, lastRecord: async (k, id) => live.get(k)?.get(id) ?? null,
          workDir: join(dir, 'cache', source, s.id), signal: new AbortController().signal, log: silentLogger, progress: () => undefined,
        });
        expect(result.failed).toEqual([]);
        expect(result.imported, `re-import of ${s.id} created or changed items`).toBe(0);
      }
      expect(await verifyAll()).toEqual([]);
    });

    it('an export without source changes emits nothing', async () => {
      for (const s of scopes) {
        const before = (await repo.scopeState(source, s.id)).exportedSeq;
        await step(s, exportStep);
        expect(await collect(repo, source, s.id, before)).toEqual([]);
      }
    });

    it('after mutations, export returns only the changes, deletions as tombstones', async () => {
      const before = new Map<string, number>();
      for (const s of scopes) before.set(s.id, (await repo.scopeState(source, s.id)).exportedSeq);
      const m = await fx.mutate(1);
      expect(m.changed.length + m.deleted.length).toBeGreaterThan(0);
      await everyScope(exportStep);
      const emitted = new Map<string, 'upsert' | 'delete'>();
      for (const s of scopes) {
        for await (const r of repo.readJournal(source, s.id, { afterSeq: before.get(s.id) ?? 0 })) emitted.set(key(r), r.op);
      }
      for (const c of m.changed) expect(emitted.get(key(c)), `changed ${key(c)} not exported`).toBe('upsert');
      for (const d of m.deleted) expect(emitted.get(key(d)), `deleted ${key(d)} not exported as tombstone`).toBe('delete');
      const allowed = new Set([...m.changed, ...m.deleted, ...m.related].map(key));
      expect([...emitted.keys()].filter((k) => !allowed.has(k)), 'exported items that did not change').toEqual([]);
      await everyScope(importStep);
      expect(await verifyAll()).toEqual([]);
    });

    it('a cursor it does not understand, or an expired one, resyncs fully without loss', async () => {
      const keysBefore = await liveKeys();
      if (fx.expireCursors) await fx.expireCursors();
      for (const s of scopes) {
        const e = await env(s);
        try {
          // Replace the committed cursor by an unknown one through a normal export run.
          const writer = await repo.beginRun(e.lease, 'export');
          await writer.commit({ cursor: fx.expireCursors ? (await repo.scopeState(source, s.id)).cursor ?? {} : { unknown: 'cursor-format' } });
          await exportStep(e);
        } finally {
          await e.lease.release();
        }
      }
      expect(await liveKeys()).toEqual(keysBefore);
      expect(await verifyAll()).toEqual([]);
    });

    it('a cursor from the future yields nothing but still a cursor', async () => {
      for (const s of scopes) {
        const state = await repo.scopeState(source, s.id);
        const emitted: string[] = [];
        const live = await repo.liveRecords(source, s.id);
        const cursor = await fx.connector.exportScope(s, fx.futureCursor(state.cursor ?? {}), {
          putBlob: (b, t) => repo.putBlob(b, t), getBlob: (sha) => repo.getBlob(sha),
          emit: async (r) => { emitted.push(`${r.op} ${r.kind}:${r.id}`); },
          possessed: async (k) => new Map([...(live.get(k) ?? new Map()).entries()].map(([id, r]) => [id, r.version])),
          lastRecord: async (k, id) => live.get(k)?.get(id) ?? null,
          workDir: join(dir, 'cache', source, s.id), signal: new AbortController().signal, log: silentLogger, progress: () => undefined,
        });
        expect(cursor).toBeTypeOf('object');
        expect(emitted.filter((e) => e.startsWith('delete')), `future cursor deleted items in ${s.id}`).toEqual([]);
      }
    });

    it('survives injected faults (10% of requests) with nothing lost', async () => {
      const before = new Map<string, number>();
      for (const s of scopes) before.set(s.id, (await repo.scopeState(source, s.id)).exportedSeq);
      const m = await fx.mutate(2);
      fx.setFaults('error5xx=0.05,rate429=0.03,drop=0.02');
      try {
        await everyScope(exportStep);
        await everyScope(importStep);
      } finally {
        fx.setFaults(null);
      }
      const emitted = new Set<string>();
      for (const s of scopes) for (const k of await collect(repo, source, s.id, before.get(s.id) ?? 0)) emitted.add(key(k));
      for (const c of [...m.changed, ...m.deleted]) expect(emitted.has(key(c)), `${key(c)} lost under faults`).toBe(true);
      expect(await verifyAll()).toEqual([]);
    });

    it('kill -9 in the middle of a CLI cycle, then resume: nothing duplicated, all verified', async () => {
      if (!fx.cliConfig) throw new Error(`${name}: the fixture must provide cliConfig to run the kill -9 test`);
      const repoDir = join(dir, 'cli-repo');
      const cli = await fx.cliConfig(repoDir);
      const bin = join(process.cwd(), 'dist/src/cli/main.js');
      const run = (args: string[]) => spawn(process.execPath, [bin, ...args, '--config', cli.configFile, '--json'], {
        env: { ...process.env, ...cli.env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const finish = (child: ReturnType<typeof run>) => new Promise<{ code: number | null; out: string }>((resolve) => {
        let out = '';
        child.stdout?.on('data', (d) => (out += d));
        child.stderr?.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
      });
      const init = await finish(run(['init']));
      expect(init.code, init.out).toBe(0);
      await fx.mutate(3);
      // Kill once the cycle has started committing (first scope started), at a seeded random moment.
      const child = run(['cycle', '--source', cli.source]);
      const done = finish(child);
      await new Promise<void>((resolve) => {
        child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('scope started')) resolve(); });
        child.on('close', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      child.kill('SIGKILL');
      await done;
      const second = await finish(run(['cycle', '--source', cli.source]));
      expect(second.code, second.out).toBe(0);
      const check = await finish(run(['check', '--read-data']));
      expect(check.code, check.out).toBe(0);
    });
  });
}
