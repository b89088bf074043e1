import { CliError } from './context.js';
import { EXIT, type Output } from './output.js';

const SERVICES = ['github', 'google', 'microsoft'] as const;

/**
 * `norestore emulate SERVICE`: one of the local, protocol-faithful emulators (emulators/), for demos
 * and tests. Prints one JSON line with its URL and credentials, then serves until SIGINT/SIGTERM.
 * This and `demo` are the only product code that reaches into emulators/ (DESIGN.md).
 */
export async function runEmulate(service: string, opts: { port?: number; host: string; seed: string; faults?: string }, out: Output): Promise<number> {
  if (!(SERVICES as readonly string[]).includes(service)) throw new CliError(`emulate: unknown service "${service}" (choose one of ${SERVICES.join(', ')})`, EXIT.usage);
  const { runEmulateCommand } = await import(`../../emulators/${service}/cli-entry.js`) as { runEmulateCommand(o: unknown, print: (line: string) => void): Promise<void> };
  await runEmulateCommand({ port: opts.port, host: opts.host, seed: opts.seed, faults: opts.faults }, (line) => out.stdout.write(line.endsWith('\n') ? line : line + '\n'));
  return EXIT.ok;
}
