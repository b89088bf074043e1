import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startEmulator, type GithubEmulatorOptions, type RunningGithubEmulator } from '../../emulators/index.js';

/** Content creation on emulated standbys in tests runs this many times faster than GitHub allows. */
export const TEST_SPEEDUP = 60;

export interface GithubPair {
  dir: string;
  configFile: string;
  source: RunningGithubEmulator;
  standby: RunningGithubEmulator;
  fresh?: RunningGithubEmulator;
  /** Rewrite the config (e.g. other objectives) keeping the emulators. */
  writeConfig(extra?: Record<string, unknown>, sourceExtra?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/**
 * A source and a standby GitHub emulator and a norestore config (fs storage in a temp dir) that
 * points at them, with tokens in files referenced as secrets.
 */
export async function githubPair(opts: { seed?: GithubEmulatorOptions['seed']; fresh?: boolean; sourceName?: string } = {}): Promise<GithubPair> {
  const dir = await mkdtemp(join(tmpdir(), 'norestore-e2e-'));
  const limits = { secondaryPerMinute: 80 * TEST_SPEEDUP, secondaryPerHour: 500 * TEST_SPEEDUP };
  const [source, standby, fresh] = await Promise.all([
    startEmulator('github', { role: 'source', org: 'acme', seed: opts.seed ?? 'small' }),
    startEmulator('github', { role: 'standby', org: 'acme-dr', limits }),
    opts.fresh ? startEmulator('github', { role: 'standby', org: 'acme-fresh', limits }) : Promise.resolve(undefined),
  ]);
  await writeFile(join(dir, 'source.token'), source.credentials.token);
  await writeFile(join(dir, 'standby.token'), standby.credentials.token);
  if (fresh) await writeFile(join(dir, 'fresh.token'), fresh.credentials.token);
  const configFile = join(dir, 'config.yaml');
  const name = opts.sourceName ?? 'acme-github';
  const writeConfig = async (extra: Record<string, unknown> = {}, sourceExtra: Record<string, unknown> = {}): Promise<void> => {
    const config = {
      version: 1,
      storage: { type: 'fs', path: './repo' },
      cacheDir: './cache',
      ...extra,
      sources: [
        {
          name,
          service: 'github',
          source: { baseUrl: source.baseUrl, org: 'acme', auth: { token: 'file:source.token' } },
          standby: { baseUrl: standby.baseUrl, org: 'acme-dr', auth: { token: 'file:standby.token' } },
          ...(fresh ? { freshStandby: { baseUrl: fresh.baseUrl, org: 'acme-fresh', auth: { token: 'file:fresh.token' } } } : {}),
          options: { contentCreationPerMinute: 80 * TEST_SPEEDUP, contentCreationPerHour: 500 * TEST_SPEEDUP },
          ...sourceExtra,
        },
      ],
    };
    await writeFile(configFile, YAML.stringify(config));
  };
  await writeConfig();
  return {
    dir,
    configFile,
    source,
    standby,
    fresh,
    writeConfig,
    close: async () => {
      await Promise.all([source.stop(), standby.stop(), fresh?.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
