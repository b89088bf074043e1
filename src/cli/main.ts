#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './output.js';
import { registerCommands } from './commands.js';

// The AWS SDK warns once per process about Node 20's end of support; norestore supports Node >= 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Entry point of the `norestore` CLI. Every command returns an exit code; nothing calls process.exit mid-way. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('norestore')
    .description('Own your SaaS data in a form you can restore: export, re-import into a standby, verify, measure RPO/RTO.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .addOption(new Option('--json', 'machine-readable output: one JSON object per line'))
    .addOption(new Option('--quiet', 'print only errors'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();
  let code: number = EXIT.ok;
  registerCommands(program, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    process.stderr.write(`norestore: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`norestore: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
