import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { startEmulator } from '../../emulators/index.js';
import { loadConfig } from '../config/load.js';
import { initRepo } from './context.js';
import { EXIT, type Output } from './output.js';
import { runCycleCommand } from './cycle.js';
import { runDrillCommand } from './drill.js';

/**
 * `norestore demo`: the main job on the embedded default, against local emulated tenants. Starts a
 * source and a standby emulator per connector, seeds the sources, runs a cycle into a local fs
 * repository, mutates the sources, runs again, measures a drill, and prints status and the gap
 * report (the HTML report stays on disk). This and `emulate` are the only product code that
 * reaches into emulators/ (DESIGN.md).
 */

const MARKER = '.norestore-demo';
/** Content creation on the emulated standby is 60x faster than GitHub allows, to keep the demo short. */
const DEMO_SPEEDUP = 60;

interface DemoService {
  name: string;
  source: Record<string, unknown>;
  secrets: Record<string, string>;
  mutate(): Promise<string>;
  stop(): Promise<void>;
}

async function githubDemo(): Promise<DemoService> {
  const limits = { secondaryPerMinute: 80 * DEMO_SPEEDUP, secondaryPerHour: 500 * DEMO_SPEEDUP };
  const [src, standby, fresh] = await Promise.all([
    startEmulator('github', { role: 'source', org: 'acme', seed: 'small' }),
    startEmulator('github', { role: 'standby', org: 'acme-dr', limits }),
    startEmulator('github', { role: 'standby', org: 'acme-restore-test', limits }),
  ]);
  return {
    name: 'acme-github',
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
  const services = await Promise.all([githubDemo()]);
  try {
    for (const s of services) for (const [file, value] of Object.entries(s.secrets)) await writeFile(join(dir, 'secrets', file), value + '\n', { mode: 0o600 });
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
    let code = await cycle('cycle 1: full export -> import into the empty standby -> verify');
    out.say('\n== mutating the sources');
    for (const s of services) out.say(`  ${await s.mutate()}`);
    code = Math.max(code, await cycle('cycle 2: only the changes'));
    out.say('\n== drill: measured no-restore RTO (catch-up, verify, switch steps in dry-run)');
    code = Math.max(code, await runDrillCommand({ config: loaded.config, out, fresh: false }));
    out.say('\n== drill --fresh: measured classic RTO (everything restored into an empty tenant)');
    code = Math.max(code, await runDrillCommand({ config: loaded.config, out, fresh: true }));
    const { runStatusCommand } = await import('./status.js');
    out.say('\n== status');
    const statusCode = await runStatusCommand({ config: loaded.config, out });
    const { runReportCommand } = await import('./report.js');
    out.say('\n== restorability-gap report');
    await runReportCommand({ config: loaded.config, out, format: 'text' });
    const html = join(dir, 'report.html');
    await runReportCommand({ config: loaded.config, out, format: 'html', outFile: html });
    out.say(`\nHTML report: ${html}`);
    out.say(`config: ${configPath} (try: norestore status --config ${configPath})`);
    out.say(`demo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    out.result({ event: 'demo', dir, config: configPath, report: html, ok: code === EXIT.ok && statusCode === EXIT.ok });
    return Math.max(code, statusCode);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}
