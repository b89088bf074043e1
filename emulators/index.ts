/**
 * The one entry point into the emulators (DESIGN.md): the CLI's `emulate`/`demo` commands and the
 * tests start emulators through here, one service per call:
 *
 *   const gh = await startEmulator('github', { role: 'source', org: 'acme', seed: 'small' });
 *   const gw = await startEmulator('google', { domain: 'acme.test', profile: 'small' });
 *   const ms = await startEmulator('microsoft', { seed: { profile: 'small', users: 2 } });
 */
import { startGithubEmulator, type GithubEmulatorOptions, type RunningGithubEmulator } from './github/emulator.js';
import { startGoogleEmulator, type GoogleEmulator, type GoogleEmulatorOptions } from './google/index.js';
import { startMicrosoftEmulator, type MicrosoftEmulator, type MicrosoftEmulatorOptions } from './microsoft/index.js';

export type { GithubEmulatorOptions, RunningGithubEmulator, GithubCredentials } from './github/emulator.js';
export type { MutationApi } from './github/mutate.js';
export type { EmulatorStats } from './github/server.js';
export type { SeedSpec, SeedSummary } from './github/seed.js';
export type { LimitOptions } from './github/limits.js';
export type { GoogleEmulator, GoogleEmulatorOptions, GoogleEmulatorStats, Mutations as GoogleMutations, ServiceAccountKey, QuotaOptions as GoogleQuotaOptions } from './google/index.js';
export { NATIVE as GOOGLE_NATIVE } from './google/index.js';
export type { MicrosoftEmulator, MicrosoftEmulatorOptions, MicrosoftEmulatorStats, MailboxLimitOptions as MicrosoftMailboxLimitOptions } from './microsoft/index.js';

export type EmulatorService = 'github' | 'google' | 'microsoft';
export const EMULATOR_SERVICES: readonly EmulatorService[] = ['github', 'google', 'microsoft'];

export interface EmulatorOptionsByService {
  github: GithubEmulatorOptions;
  google: GoogleEmulatorOptions;
  microsoft: MicrosoftEmulatorOptions;
}

export interface RunningEmulatorByService {
  github: RunningGithubEmulator;
  google: GoogleEmulator;
  microsoft: MicrosoftEmulator;
}

/** A running emulator of service S (GitHub when S is not given, as the GitHub emulator's tests use it). */
export type RunningEmulator<S extends EmulatorService = 'github'> = RunningEmulatorByService[S];
/** A running emulator of any service (tell them apart by `service`). */
export type AnyRunningEmulator = RunningEmulatorByService[EmulatorService];

export async function startEmulator(service: 'github', opts?: GithubEmulatorOptions): Promise<RunningGithubEmulator>;
export async function startEmulator(service: 'google', opts?: GoogleEmulatorOptions): Promise<GoogleEmulator>;
export async function startEmulator(service: 'microsoft', opts?: MicrosoftEmulatorOptions): Promise<MicrosoftEmulator>;
export async function startEmulator<S extends EmulatorService>(service: S, opts?: EmulatorOptionsByService[S]): Promise<RunningEmulatorByService[S]>;
export async function startEmulator(service: EmulatorService, opts: EmulatorOptionsByService[EmulatorService] = {}): Promise<AnyRunningEmulator> {
  switch (service) {
    case 'github':
      return startGithubEmulator(opts as GithubEmulatorOptions);
    case 'google':
      return startGoogleEmulator(opts as GoogleEmulatorOptions);
    case 'microsoft':
      return startMicrosoftEmulator(opts as MicrosoftEmulatorOptions);
    default:
      throw new Error(`unknown emulator service "${String(service)}" (known: ${EMULATOR_SERVICES.join(', ')})`);
  }
}
