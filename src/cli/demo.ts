import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import YAML from 'yaml';
import { GOOGLE_NATIVE, startEmulator, type GoogleEmulator, type MicrosoftEmulator } from '../../emulators/index.js';
import type { Output } from './output.js';

/**
 * `norestore demo`: the main job on the embedded default, against local emulated tenants. Starts a
 * seeded source, an empty standby and an empty fresh standby (for drill --fresh) for each connector
 * (GitHub, Google Workspace, Microsoft 365), runs a cycle into a local fs repository, mutates the
 * sources, runs again, measures both drills, and prints status and the gap report (the HTML report
 * stays on disk), with the time of each phase. This and `emulate` are the only product code that
 * reaches into emulators/ (DESIGN.md).
 *
 * Each service's emulators run in a worker thread of their own (this module is the worker's entry
 * too): the emulated tenants then use the machine's other cores instead of sharing the CLI's event
 * loop, and the GitHub emulator's `git http-backend` spawns do not block it.
 */

const MARKER = '.norestore-demo';
/** Content creation on the emulated GitHub standby is 60x faster than GitHub allows, to keep the demo short. */
const DEMO_SPEEDUP = 60;

type DemoKind = 'github' | 'google' | 'microsoft';

interface DemoService {
  name: string;
  service: DemoKind;
  source: Record<string, unknown>;
  /** File name under secrets/ -> value. */
  secrets: Record<string, string>;
  /** File path under the demo dir -> content (not secret: CA certificates). */
  files?: Record<string, string>;
  /** What the demo changed to keep it short (emulated limits and connector options together), or null. */
  speedup: string | null;
  mutate(): Promise<string>;
  stop(): Promise<void>;
}

async function githubDemo(): Promise<DemoService> {
  const limits = { secondaryPerMinute: 80 * DEMO_SPEEDUP, secondaryPerHour: 500 * DEMO_SPEEDUP };
  // Issue import jobs run 20 ms after they are queued (the emulator's default is 100 ms; GitHub takes seconds).
  const importDelayMs = 20;
  const [src, standby, fresh] = await Promise.all([
    startEmulator('github', { role: 'source', org: 'acme', seed: 'small' }),
    startEmulator('github', { role: 'standby', org: 'acme-dr', limits, importDelayMs }),
    startEmulator('github', { role: 'standby', org: 'acme-restore-test', limits, importDelayMs }),
  ]);
  return {
    name: 'acme-github',
    service: 'github',
    source: {
      name: 'acme-github',
      service: 'github',
      source: { baseUrl: src.baseUrl, org: 'acme', auth: { token: 'file:secrets/github-source.token' } },
      standby: { baseUrl: standby.baseUrl, org: 'acme-dr', auth: { token: 'file:secrets/github-standby.token' } },
      freshStandby: { baseUrl: fresh.baseUrl, org: 'acme-restore-test', auth: { token: 'file:secrets/github-fresh.token' } },
      objectives: { rpo: '10m', rto: '30m' },
      options: { contentCreationPerMinute: 80 * DEMO_SPEEDUP, contentCreationPerHour: 500 * DEMO_SPEEDUP },
    },
    secrets: { 'github-source.token': src.credentials.token, 'github-standby.token': standby.credentials.token, 'github-fresh.token': fresh.credentials.token },
    speedup: `content creation on the standbys ${80 * DEMO_SPEEDUP}/min and ${500 * DEMO_SPEEDUP}/h (GitHub allows 80/min, 500/h): emulated limits and connector pacing ${DEMO_SPEEDUP}x; issue imports done after ${importDelayMs} ms`,
    mutate: async () => {
      const m = src.mutate;
      m.advanceClock(60_000);
      const issue = m.createIssue('alpha', { title: 'Demo: export fails on unicode file names', body: 'Seen after the last release.', labels: ['bug'] });
      m.addComment('alpha', issue.number, 'Reproduced on ünïcödé names.');
      m.closeIssue('alpha', 1, 'completed');
      m.addLabel('alpha', 'needs-triage', 'fbca04');
      await m.pushCommit('alpha', { message: 'Fix unicode file names', files: [{ path: 'src/names.txt', content: 'ünïcödé\n' }] });
      return 'github: 1 issue opened with a comment, 1 closed, 1 label added, 1 commit pushed';
    },
    stop: async () => {
      await Promise.all([src.stop(), standby.stop(), fresh.stop()]);
    },
  };
}

/** Google Workspace: a source domain (2 users and the admin: mail, Drive with Google Docs, calendars, a shared drive), an empty standby domain and an empty one for drill --fresh. */
async function googleDemo(): Promise<DemoService> {
  const [src, standby, fresh] = await Promise.all([
    startEmulator('google', { domain: 'acme.test', profile: 'small', seed: 1 }),
    startEmulator('google', { domain: 'acme-dr.test', profile: 'empty' }),
    startEmulator('google', { domain: 'acme-restore.test', profile: 'empty' }),
  ]);
  const endpoint = (e: GoogleEmulator, secret: string) => ({
    domain: e.domain,
    adminUser: e.credentials.adminUser,
    serviceAccount: { keyFile: `file:secrets/${secret}` },
    rootUrl: e.rootUrl,
    tokenUrl: e.tokenUrl,
  });
  const key = (e: GoogleEmulator) => JSON.stringify(e.credentials.serviceAccount, null, 2);
  return {
    name: 'acme-google',
    service: 'google',
    source: {
      name: 'acme-google',
      service: 'google',
      source: endpoint(src, 'google-source.json'),
      standby: endpoint(standby, 'google-standby.json'),
      freshStandby: endpoint(fresh, 'google-fresh.json'),
      objectives: { rpo: '10m', rto: '30m' },
    },
    secrets: { 'google-source.json': key(src), 'google-standby.json': key(standby), 'google-fresh.json': key(fresh) },
    speedup: null,
    mutate: async () => {
      const m = src.mutate;
      const [zoe, jose] = src.users.slice(1) as [string, string];
      m.deliver(zoe, { from: '"Ana Sousa" <ana@example.pt>', to: [zoe], subject: 'Demo: Olá! Nova mensagem depois do 1.º ciclo', text: 'Uma mensagem nova, com acentuação.\n' });
      const doc = m.listFiles({ owner: zoe }).find((f) => f.mimeType === GOOGLE_NATIVE.document);
      if (!doc) throw new Error(`demo: the seeded domain has no Google Doc owned by ${zoe}`);
      m.renameFile(doc.id, `${doc.name} (revised)`);
      await m.updateContent(doc.id, 'Meeting notes\nDecisions: restore continuously — no restore needed.');
      const gone = m.listFiles({ owner: jose }).find((f) => !f.mimeType.startsWith('application/vnd.google-apps.'));
      if (!gone) throw new Error(`demo: the seeded domain has no binary Drive file owned by ${jose}`);
      await m.deleteFile(gone.id);
      const start = Date.now() + 86_400_000;
      m.createEvent(zoe, { summary: 'Demo: failover drill review', start: { dateTime: new Date(start).toISOString(), timeZone: 'UTC' }, end: { dateTime: new Date(start + 3_600_000).toISOString(), timeZone: 'UTC' } });
      return `google: 1 mail delivered, 1 Google Doc edited and renamed, 1 Drive file deleted (${gone.name}), 1 event added`;
    },
    stop: async () => {
      await Promise.all([src.stop(), standby.stop(), fresh.stop()]);
    },
  };
}

/**
 * Microsoft 365: a source tenant (2 users: mail with attachments and a draft, OneDrive, calendars,
 * contacts), a standby tenant with the same users and no content, and another for drill --fresh.
 * HTTPS with each emulator's self-signed CA, trusted through the tenants' caFile in the config.
 */
async function microsoftDemo(): Promise<DemoService> {
  const SRC = 'contoso.onmicrosoft.com';
  const DR = 'fabrikam.onmicrosoft.com';
  const [src, standby, fresh] = await Promise.all([
    startEmulator('microsoft', { domain: SRC, seed: { profile: 'small', users: 2 } }),
    startEmulator('microsoft', { domain: DR, seed: { profile: 'empty', users: 2 }, seedNumber: 2 }),
    startEmulator('microsoft', { domain: DR, seed: { profile: 'empty', users: 2 }, seedNumber: 3 }),
  ]);
  const endpoint = (e: MicrosoftEmulator, name: string) => ({
    tenantId: e.tenantId,
    clientId: e.credentials.clientId,
    clientSecret: `file:secrets/m365-${name}.secret`,
    authorityHost: e.authorityHost,
    graphBaseUrl: e.graphBaseUrl,
    caFile: `ca/m365-${name}.pem`,
  });
  return {
    name: 'acme-m365',
    service: 'microsoft',
    source: {
      name: 'acme-m365',
      service: 'microsoft',
      source: endpoint(src, 'source'),
      standby: endpoint(standby, 'standby'),
      freshStandby: endpoint(fresh, 'fresh'),
      identity: { domains: { [SRC]: DR } },
      objectives: { rpo: '10m', rto: '30m' },
    },
    secrets: { 'm365-source.secret': src.credentials.clientSecret, 'm365-standby.secret': standby.credentials.clientSecret, 'm365-fresh.secret': fresh.credentials.clientSecret },
    files: { 'ca/m365-source.pem': src.caCertificate, 'ca/m365-standby.pem': standby.caCertificate, 'ca/m365-fresh.pem': fresh.caCertificate },
    speedup: null,
    mutate: async () => {
      const m = src.mutate;
      const upn = (src.users[0] as { userPrincipalName: string }).userPrincipalName;
      m.deliverMessage(upn, { subject: 'Demo: Grüße nach dem ersten Zyklus', attachmentBytes: 3000 });
      m.writeFile(upn, 'README.txt', Buffer.from('Changed after the first cycle — ünïcödé\n'));
      const items = new Map(m.driveItems(upn).map((i) => [i.id, i]));
      const victim = [...items.values()].find((i) => !i.isFolder && /^Bericht/.test(i.name));
      if (!victim) throw new Error(`demo: the seeded tenant has no Bericht file in ${upn}'s OneDrive`);
      const path: string[] = [];
      for (let cur = items.get(victim.id); cur && cur.parentId !== null; cur = cur.parentId ? items.get(cur.parentId) : undefined) path.unshift(cur.name);
      m.deleteDriveItem(upn, path.join('/'));
      m.addEvent(upn, { subject: 'Demo: failover drill review', startMs: Date.now() + 86_400_000 });
      return `microsoft: 1 mail delivered, 1 OneDrive file changed, 1 deleted (${victim.name}), 1 event added`;
    },
    stop: async () => {
      await Promise.all([src.stop(), standby.stop(), fresh.stop()]);
    },
  };
}

const BUILDERS: Record<DemoKind, () => Promise<DemoService>> = { github: githubDemo, google: googleDemo, microsoft: microsoftDemo };

type Described = Omit<DemoService, 'mutate' | 'stop'>;
type ToWorker = { op: 'mutate' | 'stop' };
type FromWorker = { type: 'ready'; service: Described } | { type: 'mutated'; summary: string } | { type: 'stopped' } | { type: 'error'; message: string };

/** Worker side: start one service's emulators, then mutate or stop them on request. */
async function serveDemoWorker(kind: DemoKind): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const send = (m: FromWorker) => port.postMessage(m);
  let s: DemoService;
  try {
    s = await BUILDERS[kind]();
  } catch (err) {
    send({ type: 'error', message: `starting the ${kind} emulators: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  const { mutate, stop, ...described } = s;
  send({ type: 'ready', service: described });
  port.on('message', (m: ToWorker) => {
    const run = m.op === 'mutate' ? mutate().then((summary): FromWorker => ({ type: 'mutated', summary })) : stop().then((): FromWorker => ({ type: 'stopped' }));
    run.then(send, (err: unknown) => send({ type: 'error', message: `${kind} ${m.op}: ${err instanceof Error ? err.message : String(err)}` }));
  });
}

if (!isMainThread && (workerData as { norestoreDemo?: DemoKind } | null)?.norestoreDemo) void serveDemoWorker((workerData as { norestoreDemo: DemoKind }).norestoreDemo);

/** Main side: a service whose emulators run in a worker thread; one request at a time. */
function startInWorker(kind: DemoKind): Promise<DemoService> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { norestoreDemo: kind } });
  let waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  let dead: Error | null = null;
  const fail = (err: Error) => {
    dead ??= err;
    waiting?.reject(err);
    waiting = null;
  };
  worker.on('message', (m: FromWorker) => {
    const w = waiting;
    waiting = null;
    if (m.type === 'error') w?.reject(new Error(m.message));
    else w?.resolve(m);
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`the ${kind} emulators' worker exited (code ${code})`)));
  const next = (): Promise<FromWorker> =>
    new Promise((resolve, reject) => {
      if (dead) reject(dead);
      else waiting = { resolve, reject };
    });
  const request = (op: ToWorker['op']): Promise<FromWorker> => {
    const reply = next();
    worker.postMessage({ op } satisfies ToWorker);
    return reply;
  };
  return next().then(
    (ready) => {
      if (ready.type !== 'ready') throw new Error(`the ${kind} emulators' worker answered ${ready.type} instead of ready`);
      return {
        ...ready.service,
        mutate: async () => {
          const r = await request('mutate');
          return r.type === 'mutated' ? r.summary : '';
        },
        stop: async () => {
          try {
            if (!dead) await request('stop');
          } finally {
            await worker.terminate();
          }
        },
      };
    },
    async (err: unknown) => {
      await worker.terminate();
      throw err;
    },
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function prepareDir(dir: string): Promise<void> {
  const exists = await stat(dir).then(() => true, () => false);
  if (exists) {
    const entries = await readdir(dir);
    if (entries.length && !entries.includes(MARKER)) throw new Error(`${dir} exists and is not a norestore demo directory: choose another with --dir`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, MARKER), 'created by norestore demo; deleted and re-created by the next demo\n');
}

export async function runDemo(opts: { dir: string }, out: Output): Promise<number> {
  const dir = resolve(opts.dir);
  const t0 = Date.now();
  await prepareDir(dir);
  out.say(`norestore demo in ${dir}: starting emulated source and standby tenants ...`);
  const { loadConfig } = await import('../config/load.js');
  const { initRepo } = await import('./context.js');
  const { EXIT } = await import('./output.js');
  const { runCycleCommand } = await import('./cycle.js');
  const { runDrillCommand } = await import('./drill.js');
  const started = await Promise.allSettled((['github', 'google', 'microsoft'] as const).map(startInWorker));
  const services = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(services.map((s) => s.stop()));
    throw failed.reason;
  }
  const phases: Array<{ phase: string; ms: number }> = [{ phase: 'start emulators', ms: Date.now() - t0 }];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      phases.push({ phase, ms: Date.now() - t });
    }
  };
  out.say(`started ${services.length * 3} emulators in ${seconds(phases[0]?.ms ?? 0)}: ${services.map((s) => `${s.name} (${s.service}: source, standby, fresh standby)`).join(', ')}`);
  for (const s of services) if (s.speedup) out.say(`  sped up for the demo: ${s.name}: ${s.speedup}`);
  try {
    for (const s of services) {
      for (const [file, value] of Object.entries(s.secrets)) await writeFile(join(dir, 'secrets', file), value + '\n', { mode: 0o600 });
      for (const [file, value] of Object.entries(s.files ?? {})) {
        await mkdir(dirname(join(dir, file)), { recursive: true });
        await writeFile(join(dir, file), value);
      }
    }
    const configPath = join(dir, 'config.yaml');
    const config = {
      version: 1,
      storage: { type: 'fs', path: './repo' },
      cacheDir: './cache',
      objectives: { rpo: '1h', rto: '4h' },
      sources: services.map((s) => s.source),
    };
    await writeFile(configPath, `# Written by norestore demo: emulated tenants on loopback.\n${YAML.stringify(config)}`);
    const loaded = await loadConfig(configPath);
    const repo = await initRepo(loaded.config);
    out.say(`created repository ${repo.location}`);
    await repo.close();

    const cycle = async (title: string): Promise<number> => {
      out.say(`\n== ${title}`);
      const cfg = await loadConfig(configPath);
      return runCycleCommand({ config: cfg.config, path: cfg.path, out, cacheDir: cfg.config.cacheDir });
    };
    let code = await timed('cycle 1', () => cycle('cycle 1: full export -> import into the empty standby -> verify'));
    out.say('\n== mutating the sources');
    await timed('mutate', async () => {
      for (const s of services) out.say(`  ${await s.mutate()}`);
    });
    code = Math.max(code, await timed('cycle 2', () => cycle('cycle 2: only the changes')));
    out.say('\n== drill: measured no-restore RTO (catch-up, verify, switch steps in dry-run)');
    code = Math.max(code, await timed('drill', () => runDrillCommand({ config: loaded.config, out, fresh: false })));
    out.say('\n== drill --fresh: measured classic RTO (everything restored into an empty tenant)');
    code = Math.max(code, await timed('drill --fresh', () => runDrillCommand({ config: loaded.config, out, fresh: true })));
    const { runStatusCommand } = await import('./status.js');
    out.say('\n== status');
    const statusCode = await timed('status', () => runStatusCommand({ config: loaded.config, out }));
    const { runReportCommand } = await import('./report.js');
    const html = join(dir, 'report.html');
    await timed('report', async () => {
      out.say('\n== restorability-gap report');
      await runReportCommand({ config: loaded.config, out, format: 'text' });
      await runReportCommand({ config: loaded.config, out, format: 'html', outFile: html });
    });
    out.say(`\nHTML report: ${html}`);
    out.say(`config: ${configPath} (try: norestore status --config ${configPath})`);
    const totalMs = Date.now() - t0;
    out.say(`demo finished in ${seconds(totalMs)} (${phases.map((p) => `${p.phase} ${seconds(p.ms)}`).join(', ')})`);
    out.result({ event: 'demo', dir, config: configPath, report: html, ok: code === EXIT.ok && statusCode === EXIT.ok, ms: totalMs, phases });
    return Math.max(code, statusCode);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}
