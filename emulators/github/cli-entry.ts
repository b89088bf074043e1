/**
 * `norestore emulate github [--port N] [--seed PROFILE] [--faults SPEC]`: start one emulator,
 * print ONE JSON line with its URLs and credentials, serve until SIGINT/SIGTERM.
 */
import { startGithubEmulator, type GithubEmulatorOptions, type RunningGithubEmulator } from './emulator.js';

export interface EmulateCommandOptions extends GithubEmulatorOptions {
  /** resolve when this signal aborts instead of waiting for SIGINT/SIGTERM (tests) */
  signal?: AbortSignal;
}

export async function runEmulateCommand(opts: EmulateCommandOptions, print: (line: string) => void): Promise<void> {
  const { signal, ...rest } = opts;
  const emu: RunningGithubEmulator = await startGithubEmulator(rest);
  print(
    JSON.stringify({
      service: 'github',
      role: emu.role,
      baseUrl: emu.baseUrl,
      gitUrl: emu.gitUrl,
      uploadsUrl: emu.uploadsUrl,
      token: emu.credentials.token,
      login: emu.credentials.login,
      app: { appId: emu.credentials.app.appId, installationId: emu.credentials.app.installationId, privateKeyPem: emu.credentials.app.privateKeyPem },
      orgs: emu.orgs,
      repos: emu.seed.repos,
    }),
  );
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (signal) {
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
    }
  });
  await emu.stop();
}
