import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConnectorSuite, type ItemKey } from '../../test/conformance/connector.js';
import { silentLogger } from '../../src/engine/log.js';
import type { Cursor } from '../../src/model/records.js';
import { startGoogleEmulator, type GoogleEmulator } from '../../emulators/google/index.js';
import { createGoogleConnector, type GoogleTenant } from './index.js';

const tenant = (emu: GoogleEmulator): GoogleTenant => ({
  domain: emu.domain,
  adminUser: emu.credentials.adminUser,
  serviceAccount: { clientEmail: emu.credentials.serviceAccount.client_email, privateKey: emu.credentials.serviceAccount.private_key },
  rootUrl: emu.rootUrl,
  tokenUrl: emu.tokenUrl,
});

runConnectorSuite('google', async () => {
  const source = await startGoogleEmulator({ domain: 'acme.test', profile: 'small', seed: 3 });
  const standby = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty' });
  const dir = await mkdtemp(join(tmpdir(), 'norestore-google-conf-'));
  const connector = createGoogleConnector({ source: tenant(source), standby: tenant(standby), log: silentLogger, retryBaseMs: 20 });
  const user = source.users[1] as string;
  const m = source.mutate;
  const fileIds = () => m.listFiles({ owner: user });
  let cliStandby: GoogleEmulator | null = null;
  const eventKey = (id: string): ItemKey => ({ kind: 'calendar.event', id: `primary/${id}` });

  return {
    connector,
    async mutate(round) {
      const changed: ItemKey[] = [];
      const deleted: ItemKey[] = [];
      const related: ItemKey[] = [];
      const msgs = m.messageIds(user);
      const files = fileIds();
      const events = m.eventIds(user);
      const { id: mail } = m.deliver(user, { from: '"Þór Ödinsson" <thor@example.is>', subject: `Runde ${round} — Änderung`, text: `round ${round}`, attachments: [{ filename: `r${round}.bin`, contentType: 'application/octet-stream', data: Buffer.alloc(3000 + round, round) }] });
      changed.push({ kind: 'gmail.message', id: mail });
      const doc = files.find((f) => f.mimeType === 'application/vnd.google-apps.document' && !f.name.startsWith('Renamed'));
      const bin = files.filter((f) => f.mimeType === 'image/png' || f.mimeType === 'application/pdf');
      const folder = files.find((f) => f.mimeType === 'application/vnd.google-apps.folder');
      const newFile = await m.createFile(user, { name: `round-${round}.txt`, mimeType: 'text/plain', content: Buffer.from(`round ${round} ✓`), parentId: folder?.id });
      changed.push({ kind: 'drive.file', id: newFile });
      const ev = m.createEvent(user, { summary: `Runde ${round}`, start: { dateTime: `2024-09-0${round}T10:00:00Z` }, end: { dateTime: `2024-09-0${round}T11:00:00Z` }, attendees: [source.users[2] as string] });
      changed.push(eventKey(ev));
      if (round === 1) {
        m.modifyLabels(user, msgs[1] as string, ['STARRED'], []);
        changed.push({ kind: 'gmail.message', id: msgs[1] as string });
        m.deleteMessage(user, msgs[2] as string);
        deleted.push({ kind: 'gmail.message', id: msgs[2] as string });
        const label = m.createLabel(user, `Neu ${round}`);
        changed.push({ kind: 'gmail.label', id: label });
        if (doc) {
          m.renameFile(doc.id, `Renamed ${doc.name}`);
          await m.updateContent(doc.id, 'Renamed document\nneuer Inhalt');
          changed.push({ kind: 'drive.file', id: doc.id });
        }
        await m.updateContent(bin[0]?.id as string, Buffer.alloc(5000, 9));
        changed.push({ kind: 'drive.file', id: bin[0]?.id as string });
        m.share(bin[1]?.id as string, { type: 'user', role: 'writer', email: source.users[2] as string });
        changed.push({ kind: 'drive.file', id: bin[1]?.id as string });
        const gone = bin[2] ?? bin[1];
        if (gone && gone.id !== bin[1]?.id) {
          await m.deleteFile(gone.id);
          deleted.push({ kind: 'drive.file', id: gone.id });
        }
        m.updateEvent(user, events[1] as string, { summary: 'Verschoben', location: 'Genève' });
        changed.push(eventKey(events[1] as string));
        m.cancelEvent(user, events[2] as string);
        deleted.push(eventKey(events[2] as string));
        const group = source.groups[0] as string;
        const groupId = source.state.groups.get(group)?.group.id as string;
        m.addMember(group, source.users[2] as string);
        changed.push({ kind: 'google.member', id: `${groupId}/${source.users[2]}` });
        m.renameUser(source.users[2] as string, 'José María', 'Núñez');
        changed.push({ kind: 'google.user', id: source.state.users.get(source.users[2] as string)?.id as string });
        const driveFile = await m.createFile(source.users[0] as string, { name: `drive-round-${round}.txt`, mimeType: 'text/plain', content: Buffer.from('in the shared drive'), parentId: source.sharedDrives[0] });
        changed.push({ kind: 'drive.file', id: driveFile });
      } else {
        m.modifyLabels(user, msgs[0] as string, ['IMPORTANT'], ['UNREAD']);
        changed.push({ kind: 'gmail.message', id: msgs[0] as string });
        m.deleteMessage(user, msgs[3] as string);
        deleted.push({ kind: 'gmail.message', id: msgs[3] as string });
      }
      return { changed, deleted, related };
    },
    async expireCursors() {
      m.expireHistory();
      m.expireSyncTokens();
    },
    futureCursor(cursor: Cursor): Cursor {
      if (typeof cursor.historyId === 'string') return { ...cursor, historyId: String(BigInt(cursor.historyId) + 1_000_000n) };
      if (typeof cursor.pageToken === 'string') return { ...cursor, pageToken: String(Number(cursor.pageToken) + 1_000_000) };
      if (cursor.tokens && typeof cursor.tokens === 'object') {
        const tokens: Record<string, string> = {};
        for (const [k, t] of Object.entries(cursor.tokens as Record<string, string>)) {
          // Emulator tokens are nrcal:<calendar>:<sequence>; move the sequence far ahead.
          const text = Buffer.from(t, 'base64url').toString('utf8');
          const i = text.lastIndexOf(':');
          tokens[k] = Buffer.from(`${text.slice(0, i)}:${Number(text.slice(i + 1)) + 1_000_000}`).toString('base64url');
        }
        return { ...cursor, tokens };
      }
      return cursor;
    },
    setFaults(spec) {
      source.setFaults(spec);
      standby.setFaults(spec);
    },
    async cliConfig(repoDir) {
      // A standby of its own: the fixture's standby holds what earlier tests put there.
      cliStandby = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty' });
      const key = async (emu: GoogleEmulator, name: string) => {
        const file = join(dir, `${name}.json`);
        await writeFile(file, JSON.stringify(emu.credentials.serviceAccount), { mode: 0o600 });
        return file;
      };
      const endpoint = async (emu: GoogleEmulator, name: string) =>
        [`      domain: ${emu.domain}`, `      adminUser: ${emu.credentials.adminUser}`, '      serviceAccount:', `        keyFile: file:${await key(emu, name)}`, `      rootUrl: ${emu.rootUrl}`, `      tokenUrl: ${emu.tokenUrl}`].join('\n');
      const configFile = join(dir, 'norestore.yaml');
      await writeFile(
        configFile,
        [
          'version: 1',
          'storage:',
          '  type: fs',
          `  path: ${repoDir}`,
          `cacheDir: ${join(dir, 'cache')}`,
          'sources:',
          '  - name: google-conf',
          '    service: google',
          '    source:',
          await endpoint(source, 'source-sa'),
          '    standby:',
          await endpoint(cliStandby, 'standby-sa'),
          '    concurrency: 4',
          '',
        ].join('\n'),
      );
      return { configFile, source: 'google-conf' };
    },
    async close() {
      await connector.close();
      await source.stop();
      await standby.stop();
      await cliStandby?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
