/**
 * The one entry point into the emulators (DESIGN.md): the CLI's `emulate`/`demo` commands and the
 * tests start emulators through here. Google Workspace and Microsoft 365 emulators join this union.
 */
import { startGithubEmulator, type GithubEmulatorOptions, type RunningGithubEmulator } from './github/emulator.js';

export type { GithubEmulatorOptions, RunningGithubEmulator, GithubCredentials } from './github/emulator.js';
export type { MutationApi } from './github/mutate.js';
export type { EmulatorStats } from './github/server.js';
export type { SeedSpec, SeedSummary } from './github/seed.js';
export type { LimitOptions } from './github/limits.js';

export type EmulatorService = 'github';
export type RunningEmulator = RunningGithubEmulator;

export async function startEmulator(service: 'github', opts?: GithubEmulatorOptions): Promise<RunningGithubEmulator>;
export async function startEmulator(service: EmulatorService, opts: GithubEmulatorOptions = {}): Promise<RunningEmulator> {
  switch (service) {
    case 'github':
      return startGithubEmulator(opts);
    default:
      throw new Error(`unknown emulator service "${String(service)}" (known: github)`);
  }
}
