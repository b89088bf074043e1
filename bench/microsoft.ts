import { randomFillSync } from 'node:crypto';
import { createMicrosoftConnector, type MicrosoftConnector, type MicrosoftTenant } from '../connectors/microsoft/index.js';
import { startMicrosoftEmulator, type MicrosoftEmulator, type MicrosoftEmulatorOptions } from '../emulators/microsoft/index.js';
import { silentLogger } from '../src/engine/log.js';
import { exportStep, importStep } from '../src/engine/steps.js';
import { log, MB, num, runBench, stepRig, type StepRig } from './_common.js';

/**
 * Microsoft 365 benchmarks (issue 6), each figure beside its limit:
 *
 * 1. messages: export and import of one mailbox (BENCH_MS_MESSAGES, default 2,000 messages, every
 *    10th with a 20 kB attachment) at zero latency with the Outlook limits off, through the real
 *    engine steps and an fs repository: messages per second, beside the ceiling Graph's per-mailbox
 *    budget allows (10,000 requests per 10 minutes = 16.7 requests/s; a message costs one request
 *    to export ($value) and one to import).
 * 2. limits: the same under enforced per-mailbox limits (4 concurrent, BENCH_MS_BUDGET requests per
 *    window, default 300, with the 10-minute window scaled to BENCH_MS_WINDOW_MS, default 6 s, on
 *    source and standby) for BENCH_MS_LIMIT_MESSAGES (default 600): requests per second achieved as
 *    a share of the ceiling, and the share of requests Graph (the emulator) refused with 429.
 * 3. drive: one OneDrive file of BENCH_MS_DRIVE_BYTES (default 1 GiB) exported (streamed download,
 *    checked against quickXorHash) and imported (upload session, 10 MiB fragments), peak RSS sampled.
 *
 * Emulators run in this process, so peak RSS includes them (large content spills to disk).
 *
 *   npm run build && node dist/bench/microsoft.js
 *   BENCH_MS_PARTS=drive BENCH_MS_DRIVE_BYTES=268435456 node dist/bench/microsoft.js
 */


const tenant = (e: MicrosoftEmulator): MicrosoftTenant => ({ tenantId: e.tenantId, clientId: e.credentials.clientId, clientSecret: e.credentials.clientSecret, authorityHost: e.authorityHost, graphBaseUrl: e.graphBaseUrl, caCertificate: e.caCertificate });

interface Setup extends StepRig {
  source: MicrosoftEmulator;
  standby: MicrosoftEmulator;
  connector: MicrosoftConnector;
  upn: string;
}

async function setup(dir: string, emu: Partial<MicrosoftEmulatorOptions>, pacing: { perWindow: number; windowMs: number }): Promise<Setup> {
  const source = await startMicrosoftEmulator({ seed: { profile: 'empty', users: 1 }, domain: 'contoso.onmicrosoft.com', ...emu });
  const standby = await startMicrosoftEmulator({ seed: { profile: 'empty', users: 1 }, domain: 'fabrikam.onmicrosoft.com', seedNumber: 2, ...emu });
  const connector = createMicrosoftConnector({
    source: tenant(source),
    standby: tenant(standby),
    identity: { domains: { 'contoso.onmicrosoft.com': 'fabrikam.onmicrosoft.com' } },
    log: silentLogger,
    mailboxRequestsPer10Minutes: pacing.perWindow,
    mailboxWindowMs: pacing.windowMs,
  });
  const rig = await stepRig(dir, connector);
  return {
    ...rig,
    source,
    standby,
    connector,
    upn: source.users[0]?.userPrincipalName as string,
    async close() {
      await rig.close();
      await source.stop();
      await standby.stop();
    },
  };
}

function seedMailbox(s: Setup, count: number): void {
  for (let i = 0; i < count; i++) {
    s.source.mutate.deliverMessage(s.upn, { subject: `Rapport n° ${i} — état des lieux`, attachmentBytes: i % 10 === 0 ? 20_000 : undefined, at: Date.UTC(2025, 0, 1) + i * 60_000 });
  }
}

const CEILING = 10_000 / 600; // Graph: requests per second per mailbox

async function messagesPart(dir: string): Promise<boolean> {
  const count = num('BENCH_MS_MESSAGES', 2000);
  const s = await setup(dir, { limits: { concurrency: 4, requestsPerWindow: 0 } }, { perWindow: 1e9, windowMs: 600_000 });
  try {
    seedMailbox(s, count);
    const scope = await s.scope('mail~');
    const { exp, imp, proof, exportS, importS, verifyS, peakMb: peak } = await s.timedCycle(scope);
    const expRate = count / exportS;
    const impRate = count / importS;
    const srcReq = s.connector.stats().source.requests;
    const sbyReq = s.connector.stats().standby.requests;
    log(`messages                  ${count} (${(exp.stats.bytes / MB).toFixed(1)} MB of MIME)`);
    log(`export                    ${expRate.toFixed(0).padStart(6)} msg/s  ${(expRate / CEILING).toFixed(1)}x the per-mailbox ceiling of ${CEILING.toFixed(1)} requests/s (about 1 request per message)`);
    log(`import                    ${impRate.toFixed(0).padStart(6)} msg/s  ${(impRate / CEILING).toFixed(1)}x the same ceiling (about 1 request per message)`);
    log(`verify                    ${(count / verifyS).toFixed(0).padStart(6)} msg/s  findings: ${proof.findings.length}`);
    log(`requests                  source ${srcReq} (${(srcReq / count).toFixed(2)} per message), standby ${sbyReq} incl. verification`);
    log(`messages part peak RSS    ${peak.toFixed(0).padStart(6)} MB`);
    const ok = imp.stats.items >= count && imp.stats.failed === 0 && proof.findings.length === 0 && expRate >= 2 * CEILING && impRate >= 2 * CEILING;
    if (!ok) log('  aim: every message imported and verified, export and import >= 2x the per-mailbox ceiling');
    return ok;
  } finally {
    await s.close();
  }
}

async function limitsPart(dir: string): Promise<boolean> {
  const budget = num('BENCH_MS_BUDGET', 300);
  const windowMs = num('BENCH_MS_WINDOW_MS', 6000);
  const count = num('BENCH_MS_LIMIT_MESSAGES', 600);
  const s = await setup(dir, { limits: { concurrency: 4, requestsPerWindow: budget, timeScale: 600_000 / windowMs } }, { perWindow: budget, windowMs });
  try {
    seedMailbox(s, count);
    const scope = await s.scope('mail~');
    const ceiling = budget / (windowMs / 1000);
    const key = (e: MicrosoftEmulator) => Object.keys(e.stats().mailboxes)[0] as string;
    const rows: Array<{ side: string; requests: number; throttled: number; peak: number; seconds: number }> = [];
    let t = Date.now();
    await s.step(scope, exportStep);
    let c = s.source.stats().mailboxes[key(s.source)];
    rows.push({ side: 'export (source)', requests: c?.requests ?? 0, throttled: (c?.throttledBudget ?? 0) + (c?.throttledConcurrency ?? 0), peak: c?.peakConcurrency ?? 0, seconds: (Date.now() - t) / 1000 });
    t = Date.now();
    await s.step(scope, importStep);
    c = s.standby.stats().mailboxes[key(s.standby)];
    rows.push({ side: 'import (standby)', requests: c?.requests ?? 0, throttled: (c?.throttledBudget ?? 0) + (c?.throttledConcurrency ?? 0), peak: c?.peakConcurrency ?? 0, seconds: (Date.now() - t) / 1000 });
    let ok = true;
    log(`ceiling                   ${budget} requests per ${windowMs / 1000} s window = ${ceiling.toFixed(1)} requests/s per mailbox, 4 concurrent (Graph's 10,000 per 10 min, time-scaled)`);
    for (const r of rows) {
      const rate = r.requests / r.seconds;
      const share = rate / ceiling;
      const refused = r.throttled / Math.max(1, r.requests + r.throttled);
      log(`${r.side.padEnd(26)}${rate.toFixed(1).padStart(6)} req/s  ${(share * 100).toFixed(0)}% of the ceiling, ${r.throttled} refused with 429 (${(refused * 100).toFixed(1)}% of requests), peak concurrency ${r.peak}, ${r.requests} requests in ${r.seconds.toFixed(1)} s`);
      // A phase shorter than a few windows starts with a full budget: judge the share only on longer ones.
      if (r.seconds >= 3 * (windowMs / 1000) && (share < 0.7 || share > 1.05)) ok = false;
      if (refused > 0.01 || r.peak > 4) ok = false;
    }
    if (!ok) log('  aim: 70-100% of the ceiling on phases longer than three windows, at most 1% refused, never more than 4 concurrent');
    return ok;
  } finally {
    await s.close();
  }
}

async function drivePart(dir: string): Promise<boolean> {
  const bytes = num('BENCH_MS_DRIVE_BYTES', 1024 ** 3);
  const s = await setup(dir, {}, { perWindow: 10_000, windowMs: 600_000 });
  try {
    const chunk = 4 * 1024 * 1024;
    async function* generate(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < bytes; sent += chunk) yield randomFillSync(Buffer.alloc(Math.min(chunk, bytes - sent)));
    }
    await s.source.mutate.writeFileStream(s.upn, 'huge.bin', generate());
    const scope = await s.scope('drive~');
    if (global.gc) global.gc();
    const base = process.memoryUsage.rss() / MB;
    const { imp, proof, exportS, importS, peakMb: peak } = await s.timedCycle(scope);
    log(`file                      ${(bytes / MB).toFixed(0)} MB`);
    log(`export (download -> repo) ${(bytes / MB / exportS).toFixed(0).padStart(6)} MB/s  (checked against quickXorHash)`);
    log(`import (repo -> upload)   ${(bytes / MB / importS).toFixed(0).padStart(6)} MB/s  (upload session, 10 MiB fragments)`);
    log(`verify findings           ${proof.findings.length}`);
    log(`peak RSS                  ${peak.toFixed(0).padStart(6)} MB (before: ${base.toFixed(0)} MB; emulators included)`);
    const ok = imp.stats.failed === 0 && proof.findings.length === 0 && peak - base < 300;
    if (!ok) log('  aim: imported and verified with RSS growing by less than 300 MB');
    return ok;
  } finally {
    await s.close();
  }
}

await runBench('microsoft', 'BENCH_MS_PARTS', [
  { key: 'messages', title: 'messages at zero latency, Outlook limits off', run: messagesPart },
  { key: 'limits', title: 'under enforced per-mailbox limits', run: limitsPart },
  { key: 'drive', title: 'one large OneDrive file through export and import', run: drivePart },
]);
