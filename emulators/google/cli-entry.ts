/**
 * `norestore emulate google`: start one emulated Workspace domain, print ONE JSON line describing
 * it (root URL, token URL, domain, admin, users, and the path of the service account key file
 * written for it: the key itself is never printed), then serve until SIGINT or SIGTERM.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulatorOptions, type ProfileName } from './index.js';

export interface EmulateGoogleOptions {
  domain?: string;
  profile?: string;
  seed?: number | string;
  host?: string;
  port?: number | string;
  faults?: string | null;
  /** Where to write the service account key JSON (default a temp directory removed on exit). */
  keyFile?: string;
  /** Gmail quota ceiling per user (units per second). */
  gmailUnitsPerSecond?: number;
}

export async function runEmulateCommand(opts: EmulateGoogleOptions, print: (line: string) => void, signal?: AbortSignal): Promise<number> {
  const profile = opts.profile ?? 'demo';
  if (!['empty', 'small', 'demo'].includes(profile)) throw new Error(`--profile must be empty, small or demo, got ${profile}`);
  const emuOpts: GoogleEmulatorOptions = { domain: opts.domain ?? 'acme.test', profile: profile as ProfileName, seed: Number(opts.seed ?? 1) || 1, host: opts.host ?? '127.0.0.1', port: Number(opts.port ?? 0) || 0, faults: opts.faults ?? null };
  if (opts.gmailUnitsPerSecond) emuOpts.quota = { gmailUnitsPerSecond: opts.gmailUnitsPerSecond };
  const emu = await startGoogleEmulator(emuOpts);
  let tempDir: string | null = null;
  try {
    let keyFile = opts.keyFile;
    if (!keyFile) {
      tempDir = await mkdtemp(join(tmpdir(), 'norestore-google-key-'));
      keyFile = join(tempDir, 'service-account.json');
    }
    await writeFile(keyFile, JSON.stringify(emu.credentials.serviceAccount, null, 2) + '\n', { mode: 0o600 });
    print(
      JSON.stringify({
        service: 'google',
        rootUrl: emu.rootUrl,
        tokenUrl: emu.tokenUrl,
        domain: emu.domain,
        adminUser: emu.credentials.adminUser,
        clientEmail: emu.credentials.serviceAccount.client_email,
        serviceAccountKeyFile: keyFile,
        users: emu.users,
        groups: emu.groups,
        sharedDrives: emu.sharedDrives,
        profile,
      }),
    );
    await new Promise<void>((resolve) => {
      const done = (): void => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return 0;
  } finally {
    await emu.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}
