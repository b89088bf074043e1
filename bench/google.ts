import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGoogleConnector, type GoogleConnector, type GoogleTenant } from '../connectors/google/index.js';
import { startGoogleEmulator, type GoogleEmulator, type GoogleEmulatorOptions } from '../emulators/google/index.js';
import { silentLogger } from '../src/engine/log.js';
import { exportStep, importStep } from '../src/engine/steps.js';
import { log, MB, num, runBench, stepRig, type StepRig } from './_common.js';

/**
 * Google benchmarks (issue 5), each figure beside its limit:
 *
 * 1. messages: export and import of one mailbox (BENCH_GOOGLE_MESSAGES, default 2,000 real-looking
 *    messages, every 10th with a 20 kB attachment) at zero latency, quotas off, through the real
 *    engine steps and an fs repository: messages per second, beside what Gmail's per-user quota
 *    allows (250 units/s: 50 messages/s read at 5 units, 10 messages/s imported at 25 units).
 * 2. quota: the same under an enforced per-user quota (BENCH_GOOGLE_QUOTA, default 250 units/s, on
 *    source and standby) for BENCH_GOOGLE_QUOTA_MESSAGES (default 200): units per second achieved as
 *    a share of the ceiling, and the share of requests Google (the emulator) refused.
 * 3. drive: one file of BENCH_GOOGLE_DRIVE_BYTES (default 1 GiB) exported (streamed download) into
 *    the repository and imported (resumable upload in 8 MiB chunks), with peak RSS sampled.
 *
 * Emulators run in this process, so peak RSS includes them (their file content spills to disk).
 *
 *   npm run build && node dist/bench/google.js
 *   BENCH_GOOGLE_PARTS=drive BENCH_GOOGLE_DRIVE_BYTES=268435456 node dist/bench/google.js
 */


const tenant = (emu: GoogleEmulator): GoogleTenant => ({
  domain: emu.domain,
  adminUser: emu.credentials.adminUser,
  serviceAccount: { clientEmail: emu.credentials.serviceAccount.client_email, privateKey: emu.credentials.serviceAccount.private_key },
  rootUrl: emu.rootUrl,
  tokenUrl: emu.tokenUrl,
});

interface Setup extends StepRig {
  source: GoogleEmulator;
  standby: GoogleEmulator;
  connector: GoogleConnector;
}

async function setup(dir: string, emu: Partial<GoogleEmulatorOptions>, gmailUnitsPerSecond: number): Promise<Setup> {
  const source = await startGoogleEmulator({ domain: 'acme.test', profile: 'empty', ...emu });
  const standby = await startGoogleEmulator({ domain: 'acme-dr.test', profile: 'empty', ...emu });
  const connector = createGoogleConnector({ source: tenant(source), standby: tenant(standby), log: silentLogger, gmailUnitsPerSecond });
  const rig = await stepRig(dir, connector);
  return {
    ...rig,
    source,
    standby,
    connector,
    async close() {
      await rig.close();
      await source.stop();
      await standby.stop();
    },
  };
}

function seedMailbox(emu: GoogleEmulator, user: string, count: number): void {
  const attachment = Buffer.alloc(20_000);
  for (let i = 0; i < count; i++) {
    randomFillSync(attachment);
    emu.mutate.deliver(user, {
      from: `"Sender ${i % 37} Ünïcode" <sender${i % 37}@example.org>`,
      subject: `Rapport n° ${i} — état des lieux`,
      text: `Bonjour,\n\nvoici le rapport ${i}.\n${'Lorem ipsum dolor sit amet. '.repeat(20)}\n`,
      html: i % 2 ? `<p>Rapport <b>${i}</b></p>` : undefined,
      date: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
      labels: i % 3 ? ['INBOX'] : ['INBOX', 'UNREAD'],
      attachments: i % 10 === 0 ? [{ filename: `rapport-${i}.bin`, contentType: 'application/octet-stream', data: Buffer.from(attachment) }] : undefined,
    });
  }
}

async function messagesPart(dir: string): Promise<boolean> {
  const count = num('BENCH_GOOGLE_MESSAGES', 2000);
  const s = await setup(dir, { quota: { enforce: false } }, 1e9);
  try {
    const user = s.source.mutate.addUser({ local: 'bench', givenName: 'Bench', familyName: 'Mark' });
    seedMailbox(s.source, user, count);
    const scope = await s.scope('gmail~acme.test~bench');
    const { exp, imp, proof, exportS, importS, verifyS, peakMb: peak } = await s.timedCycle(scope);
    const expRate = count / exportS;
    const impRate = count / importS;
    log(`messages                  ${count} (${(exp.stats.bytes / MB).toFixed(1)} MB of MIME)`);
    log(`export                    ${expRate.toFixed(0).padStart(6)} msg/s  ${(expRate / 50).toFixed(1)}x Gmail's quota-bound 50 msg/s per user (250 units/s, 5 per get)`);
    log(`import                    ${impRate.toFixed(0).padStart(6)} msg/s  ${(impRate / 10).toFixed(1)}x Gmail's quota-bound 10 msg/s per user (25 units per import)`);
    log(`verify                    ${(count / verifyS).toFixed(0).padStart(6)} msg/s  findings: ${proof.findings.length}`);
    log(`messages part peak RSS    ${peak.toFixed(0).padStart(6)} MB`);
    const ok = imp.stats.items === count && proof.findings.length === 0 && expRate >= 100 && impRate >= 20;
    if (!ok) log('  aim: every message imported and verified, export >= 2x and import >= 2x the quota-bound rates');
    return ok;
  } finally {
    await s.close();
  }
}

async function quotaPart(dir: string): Promise<boolean> {
  const ceiling = num('BENCH_GOOGLE_QUOTA', 250);
  const count = num('BENCH_GOOGLE_QUOTA_MESSAGES', 200);
  const s = await setup(dir, { quota: { gmailUnitsPerSecond: ceiling } }, ceiling);
  try {
    const user = s.source.mutate.addUser({ local: 'quota', givenName: 'Quota', familyName: 'User' });
    seedMailbox(s.source, user, count);
    const scope = await s.scope('gmail~acme.test~quota');
    const rows: Array<{ side: string; units: number; throttled: number; requests: number; seconds: number }> = [];
    let t = Date.now();
    await s.step(scope, exportStep);
    const src = s.source.stats();
    rows.push({ side: 'export (source)', units: src.quota.used['gmail:quota@acme.test'] ?? 0, throttled: src.quota.throttled['gmail:quota@acme.test'] ?? 0, requests: Object.entries(src.byMethod).filter(([k]) => k.startsWith('gmail')).reduce((n, [, v]) => n + v, 0), seconds: (Date.now() - t) / 1000 });
    t = Date.now();
    await s.step(scope, importStep);
    const sby = s.standby.stats();
    rows.push({ side: 'import (standby)', units: sby.quota.used['gmail:quota@acme-dr.test'] ?? 0, throttled: sby.quota.throttled['gmail:quota@acme-dr.test'] ?? 0, requests: Object.entries(sby.byMethod).filter(([k]) => k.startsWith('gmail')).reduce((n, [, v]) => n + v, 0), seconds: (Date.now() - t) / 1000 });
    let ok = true;
    log(`ceiling                   ${ceiling} units/s per user (enforced by the emulator, sliding 1 s window); connector paces at 95%`);
    for (const r of rows) {
      const share = r.units / r.seconds / ceiling;
      const refused = r.throttled / Math.max(1, r.requests + r.throttled);
      log(`${r.side.padEnd(26)}${(r.units / r.seconds).toFixed(0).padStart(6)} units/s  ${(share * 100).toFixed(0)}% of the ceiling, ${r.throttled} refused (${(refused * 100).toFixed(1)}% of requests), ${r.units} units in ${r.seconds.toFixed(1)} s`);
      // Short phases (a few hundred units) are dominated by the first, unpaced second: aim on the import.
      if (r.side.startsWith('import') && (share < 0.75 || share > 1.0)) ok = false;
      if (refused > 0.01) ok = false;
    }
    if (!ok) log('  aim: import at 75-100% of the ceiling, at most 1% of requests refused');
    return ok;
  } finally {
    await s.close();
  }
}

async function drivePart(dir: string): Promise<boolean> {
  const bytes = num('BENCH_GOOGLE_DRIVE_BYTES', 1024 ** 3);
  const s = await setup(dir, { quota: { enforce: false } }, 1e9);
  try {
    const user = s.source.mutate.addUser({ local: 'drive', givenName: 'Big', familyName: 'File' });
    const chunk = 4 * 1024 * 1024;
    async function* generate(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < bytes; sent += chunk) yield randomFillSync(Buffer.alloc(Math.min(chunk, bytes - sent)));
    }
    await s.source.mutate.createFile(user, { name: 'huge.bin', stream: Readable.from(generate()) });
    const scope = await s.scope('drive~acme.test~drive');
    if (global.gc) global.gc();
    const base = process.memoryUsage.rss() / MB;
    const { imp, proof, exportS, importS, peakMb: peak } = await s.timedCycle(scope);
    log(`file                      ${(bytes / MB).toFixed(0)} MB`);
    log(`export (download -> repo) ${(bytes / MB / exportS).toFixed(0).padStart(6)} MB/s`);
    log(`import (repo -> upload)   ${(bytes / MB / importS).toFixed(0).padStart(6)} MB/s  (${s.standby.stats().uploadSessions} resumable session, 8 MiB chunks)`);
    log(`verify findings           ${proof.findings.length}`);
    log(`peak RSS                  ${peak.toFixed(0).padStart(6)} MB (before: ${base.toFixed(0)} MB; emulators included)`);
    const ok = imp.stats.failed === 0 && proof.findings.length === 0 && peak - base < 300;
    if (!ok) log('  aim: imported and verified with RSS growing by less than 300 MB');
    return ok;
  } finally {
    await s.close();
  }
}

await runBench('google', 'BENCH_GOOGLE_PARTS', [
  { key: 'messages', title: 'messages at zero latency', run: messagesPart },
  { key: 'quota', title: 'quota use under an enforced per-user quota', run: quotaPart },
  { key: 'drive', title: 'one large Drive file through export and import', run: drivePart },
]);
