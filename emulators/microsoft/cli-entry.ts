/**
 * `norestore emulate microsoft`: start the emulator, print ONE JSON line (URLs, tenant, app
 * credentials, the CA file to trust), serve until SIGINT/SIGTERM.
 */
import { startMicrosoftEmulator } from './index.js';
import type { SeedProfile } from './seed.js';

export interface EmulateCommandOptions {
  port?: number;
  host?: string;
  seed?: string;
  faults?: string;
}

export async function runEmulateCommand(opts: EmulateCommandOptions, print: (line: string) => void): Promise<void> {
  const profile = (opts.seed ?? 'small') as SeedProfile;
  if (!['small', 'large', 'empty'].includes(profile)) throw new Error(`emulate microsoft: unknown seed profile "${opts.seed}" (choose small, large or empty)`);
  const emu = await startMicrosoftEmulator({ host: opts.host, port: opts.port, seed: profile, faults: opts.faults ?? null });
  print(
    JSON.stringify({
      service: emu.service,
      graphBaseUrl: emu.graphBaseUrl,
      authorityHost: emu.authorityHost,
      tenantId: emu.tenantId,
      domain: emu.domain,
      clientId: emu.credentials.clientId,
      clientSecret: emu.credentials.clientSecret,
      caFile: emu.caFile,
      users: emu.users.map((u) => u.userPrincipalName),
      note: `HTTPS with a self-signed certificate: give caFile: ${emu.caFile} in the tenant's config (or run other clients with NODE_EXTRA_CA_CERTS=${emu.caFile})`,
    }),
  );
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await emu.stop();
}
