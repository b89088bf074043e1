/**
 * Test fixture of the Microsoft 365 connector: a source and a standby emulator (HTTPS, their own
 * self-signed certificates), the connector between them, deterministic mutations that say which
 * items the next export must carry, and a CLI config for the built `norestore`. Used by the
 * conformance suite, the CLI-level test and the benchmarks. Test code only: the product never
 * imports it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../src/model/connector.js';
import type { Cursor } from '../../src/model/records.js';
import { startMicrosoftEmulator, type MicrosoftEmulator, type MicrosoftEmulatorOptions } from '../../emulators/microsoft/index.js';
import { createMicrosoftConnector, type MicrosoftConnector } from '../../connectors/microsoft/index.js';
import { K, type MicrosoftConnectorOptions, type MicrosoftTenant } from '../../connectors/microsoft/types.js';

export interface ItemKey {
  kind: string;
  id: string;
}

export interface MicrosoftFixture {
  source: MicrosoftEmulator;
  standby: MicrosoftEmulator;
  connector: MicrosoftConnector;
  /** The user whose data the mutations change. */
  upn: string;
  mutate(round: number): Promise<{ changed: ItemKey[]; deleted: ItemKey[]; related: ItemKey[] }>;
  expireCursors(): Promise<void>;
  futureCursor(cursor: Cursor): Cursor;
  setFaults(spec: string | null): void;
  cliConfig(repoDir: string): Promise<{ configFile: string; source: string; env: Record<string, string> }>;
  close(): Promise<void>;
}

export const SOURCE_DOMAIN = 'contoso.onmicrosoft.com';
export const STANDBY_DOMAIN = 'fabrikam.onmicrosoft.com';

export function tenantOf(e: MicrosoftEmulator): MicrosoftTenant {
  return { tenantId: e.tenantId, clientId: e.credentials.clientId, clientSecret: e.credentials.clientSecret, authorityHost: e.authorityHost, graphBaseUrl: e.graphBaseUrl, caCertificate: e.caCertificate };
}

/** Move every delta token of a cursor past the tenant's current position (a cursor "from the future"). */
export function futureCursorOf(cursor: Cursor): Cursor {
  const bump = (v: unknown): unknown => {
    if (typeof v === 'string' && /^https:\/\//.test(v)) {
      const u = new URL(v);
      for (const p of ['$deltatoken', 'token', '$skiptoken']) {
        const t = u.searchParams.get(p);
        if (!t) continue;
        try {
          const tok = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as { s: number };
          tok.s += 1_000_000;
          u.searchParams.set(p, Buffer.from(JSON.stringify(tok)).toString('base64url'));
        } catch {
          // not an emulator token: leave it
        }
      }
      return u.toString();
    }
    if (Array.isArray(v)) return v.map(bump);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bump(x)]));
    return v;
  };
  return bump(cursor) as Cursor;
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startMicrosoftFixture(opts: { users?: number; source?: MicrosoftEmulatorOptions; standby?: MicrosoftEmulatorOptions; connector?: Partial<MicrosoftConnectorOptions> } = {}): Promise<MicrosoftFixture> {
  const users = opts.users ?? 2;
  const source = await startMicrosoftEmulator({ seed: { profile: 'small', users }, domain: SOURCE_DOMAIN, ...(opts.source ?? {}) });
  const standby = await startMicrosoftEmulator({ seed: { profile: 'empty', users }, domain: STANDBY_DOMAIN, seedNumber: 2, ...(opts.standby ?? {}) });
  const connector = createMicrosoftConnector({
    source: tenantOf(source),
    standby: tenantOf(standby),
    identity: { domains: { [SOURCE_DOMAIN]: STANDBY_DOMAIN } },
    log: quiet,
    retryBaseMs: 10,
    ...(opts.connector ?? {}),
  });
  const upn = (source.users[0] as { userPrincipalName: string }).userPrincipalName;
  const extra: MicrosoftEmulator[] = [];
  const m = source.mutate;

  const mutate = async (round: number): Promise<{ changed: ItemKey[]; deleted: ItemKey[]; related: ItemKey[] }> => {
    const changed: ItemKey[] = [];
    const deleted: ItemKey[] = [];
    const related: ItemKey[] = [];
    const at = Date.now() - 60_000;
    // Mail: a delivery, a read-state change, a deletion, a move (new id: the old one is deleted).
    const inbox = m.messages(upn, 'inbox').sort((a, b) => a.id.localeCompare(b.id));
    changed.push({ kind: K.message, id: m.deliverMessage(upn, { subject: `Round ${round} – Zustellung ✓`, attachmentBytes: round === 1 ? 4000 : undefined, at }).id });
    const toRead = inbox[0];
    if (toRead) changed.push({ kind: K.message, id: m.setRead(upn, toRead.id, !toRead.isRead).id });
    const toDelete = inbox[1];
    if (toDelete) {
      m.deleteMessage(upn, toDelete.id);
      deleted.push({ kind: K.message, id: toDelete.id });
    }
    const toMove = inbox[2];
    if (toMove) {
      const moved = m.moveMessage(upn, toMove.id, 'archive');
      deleted.push({ kind: K.message, id: toMove.id });
      changed.push({ kind: K.message, id: moved.id });
    }
    changed.push({ kind: K.mailFolder, id: m.addMailFolder(upn, 'inbox', `Runde ${round}`).id });
    // OneDrive: a new file, new content, a rename, a deletion.
    changed.push({ kind: K.driveFile, id: m.writeFile(upn, `Documents/round-${round}.txt`, Buffer.from(`round ${round} — ünïcode\n`)).id });
    changed.push({ kind: K.driveFile, id: m.writeFile(upn, 'README.txt', Buffer.from(`rewritten in round ${round}\n`)).id });
    const photo = m.driveItems(upn).find((i) => !i.isFolder && /^photo-/.test(i.name));
    if (photo) changed.push({ kind: K.driveFile, id: m.moveDriveItem(upn, `${photoPath(m, upn, photo.id)}`, { name: `renamed-${round}-${photo.name}` }).id });
    const victim = m.driveItems(upn).find((i) => !i.isFolder && /^Bericht/.test(i.name));
    if (victim) for (const id of m.deleteDriveItem(upn, photoPath(m, upn, victim.id))) deleted.push({ kind: K.driveFile, id });
    // Calendar: a new event, a changed one, a deleted single event.
    const events = m.events(upn).filter((e) => !e.recurrence).sort((a, b) => a.id.localeCompare(b.id));
    changed.push({ kind: K.event, id: m.addEvent(upn, { subject: `Runde ${round}: Abstimmung`, startMs: Date.now() + 86_400_000 * round }).id });
    const ev = events[0];
    if (ev) changed.push({ kind: K.event, id: m.updateEvent(upn, ev.id, { subject: `${ev.subject} (moved ${round})`, shiftMinutes: 30 }).id });
    const evGone = events[1];
    if (evGone) {
      m.deleteEvent(upn, evGone.id);
      deleted.push({ kind: K.event, id: evGone.id });
    }
    // Contacts: added, changed, deleted.
    const contacts = m.contacts(upn).sort((a, b) => a.id.localeCompare(b.id));
    changed.push({ kind: K.contact, id: m.addContact(upn, 'Runde', `Nummer ${round}`, `runde${round}@example.com`).id });
    const c0 = contacts[0];
    if (c0) changed.push({ kind: K.contact, id: m.updateContact(upn, c0.id, { jobTitle: `Title ${round}` }).id });
    const c1 = contacts[1];
    if (c1) {
      m.deleteContact(upn, c1.id);
      deleted.push({ kind: K.contact, id: c1.id });
    }
    // Directory.
    const u = source.state.user(upn);
    if (u) {
      m.renameUser(upn, `${u.displayName.split(' (')[0]} (r${round})`);
      changed.push({ kind: K.user, id: u.id });
    }
    return { changed, deleted, related };
  };

  return {
    source,
    standby,
    connector,
    upn,
    mutate,
    expireCursors: async () => m.expireDeltaTokens(),
    futureCursor: futureCursorOf,
    setFaults: (spec) => {
      source.setFaults(spec);
      standby.setFaults(spec);
    },
    async cliConfig(repoDir: string) {
      // A standby of its own: the fixture's standby holds what the connector under test imported,
      // which a fresh repository would rightly report as extra.
      const cliStandby = await startMicrosoftEmulator({ seed: { profile: 'empty', users }, domain: STANDBY_DOMAIN, seedNumber: 3 });
      extra.push(cliStandby);
      return writeCliConfig(repoDir, source, cliStandby);
    },
    async close() {
      await connector.close();
      await source.stop();
      await standby.stop();
      for (const e of extra.splice(0)) await e.stop();
    },
  };
}

function photoPath(m: MicrosoftEmulator['mutate'], upn: string, id: string): string {
  const items = new Map(m.driveItems(upn).map((i) => [i.id, i]));
  const names: string[] = [];
  for (let cur = items.get(id); cur && cur.parentId !== null; cur = cur.parentId ? items.get(cur.parentId) : undefined) names.unshift(cur.name);
  return names.join('/');
}

/** A norestore config (fs storage at repoDir) for one source -> standby pair, the secrets as env: references. */
export async function writeCliConfig(repoDir: string, source: MicrosoftEmulator, standby: MicrosoftEmulator, name = 'm365'): Promise<{ configFile: string; source: string; env: Record<string, string> }> {
  const dir = join(dirname(repoDir), `${repoDir.split('/').pop() ?? 'repo'}-config`);
  await mkdir(dir, { recursive: true });
  const caFile = join(dir, 'emulator-ca.pem');
  await writeFile(caFile, source.caCertificate + standby.caCertificate);
  const configFile = join(dir, 'norestore.yaml');
  const endpoint = (e: MicrosoftEmulator, env: string) =>
    [`      tenantId: ${e.tenantId}`, `      clientId: ${e.credentials.clientId}`, `      clientSecret: env:${env}`, `      authorityHost: ${e.authorityHost}`, `      graphBaseUrl: ${e.graphBaseUrl}`].join('\n');
  await writeFile(
    configFile,
    [
      'version: 1',
      'storage:',
      '  type: fs',
      `  path: ${repoDir}`,
      `cacheDir: ${join(dir, 'cache')}`,
      'sources:',
      `  - name: ${name}`,
      '    service: microsoft',
      '    source:',
      endpoint(source, 'NR_TEST_M365_SOURCE_SECRET'),
      '    standby:',
      endpoint(standby, 'NR_TEST_M365_STANDBY_SECRET'),
      '    identity:',
      '      domains:',
      `        ${source.domain}: ${standby.domain}`,
      '',
    ].join('\n'),
  );
  return {
    configFile,
    source: name,
    env: { NR_TEST_M365_SOURCE_SECRET: source.credentials.clientSecret, NR_TEST_M365_STANDBY_SECRET: standby.credentials.clientSecret, NODE_EXTRA_CA_CERTS: caFile },
  };
}
