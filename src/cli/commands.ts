import type { Command } from 'commander';
import { Option } from 'commander';
import { configCheckCommand } from './config-check.js';
import { cacheDir, guard, initRepo, loadConfigOrFail, openRepo } from './context.js';
import { createOutput, EXIT, type Output } from './output.js';
import { runCycleCommand } from './cycle.js';

type Done = (code: number) => void;

interface Global {
  json?: boolean;
  quiet?: boolean;
}

function output(cmd: Command): Output {
  const g = cmd.optsWithGlobals<Global>();
  return createOutput({ json: g.json, quiet: g.quiet });
}

export function registerCommands(program: Command, done: Done): void {
  const configOption = () => new Option('-c, --config <file>', 'config file (see config.example.yaml)').env('NORESTORE_CONFIG');

  program
    .command('init')
    .description('create the owned-storage repository described by the config')
    .addOption(configOption())
    .action(async (opts: { config?: string }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { config } = await loadConfigOrFail(opts.config);
          const repo = await initRepo(config);
          out.say(`created norestore repository ${repo.location} (format ${repo.formatVersion}, id ${repo.repoId})`);
          out.result({ event: 'init', location: repo.location, formatVersion: repo.formatVersion, repoId: repo.repoId });
          await repo.close();
          return EXIT.ok;
        }),
      );
    });

  program
    .command('check')
    .description('verify every invariant of the repository format; non-zero exit on any violation')
    .addOption(configOption())
    .option('--read-data', 'also read every blob and check its sha256')
    .action(async (opts: { config?: string; readData?: boolean }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { config } = await loadConfigOrFail(opts.config);
          const repo = await openRepo(config);
          try {
            const report = await repo.check({ readData: Boolean(opts.readData) });
            for (const f of report.findings) out.say(`${f.severity === 'error' ? 'ERROR' : 'warning'} ${f.code} ${f.key}: ${f.message}`);
            const errors = report.findings.filter((f) => f.severity === 'error').length;
            out.say(
              `${report.ok ? 'ok' : 'FAILED'}: ${report.manifests} committed runs, ${report.blobsReferenced} blobs referenced` +
                (opts.readData ? `, ${report.blobsRead} read and hashed` : '') +
                `, ${errors} errors, ${report.findings.length - errors} warnings`,
            );
            out.result({ event: 'check', ...report });
            return report.ok ? EXIT.ok : EXIT.notOk;
          } finally {
            await repo.close();
          }
        }),
      );
    });

  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate the config and print the effective config with secrets redacted')
    .addOption(configOption())
    .action(async (opts: { config?: string }, cmd: Command) => {
      const out = output(cmd);
      if (!opts.config) {
        out.error('--config FILE is required');
        return done(EXIT.usage);
      }
      done(await configCheckCommand(opts.config, { stdout: (s) => out.stdout.write(s), stderr: (s) => out.stderr.write(s) }));
    });

  program
    .command('cycle')
    .description('one cycle per source: export -> import into the standby -> verify, each committed (for cron)')
    .addOption(configOption())
    .option('-s, --source <name...>', 'only these sources')
    .option('--scope <id...>', 'only these scopes (id or name)')
    .option('--concurrency <n>', 'scopes in parallel per source', (v) => Number.parseInt(v, 10))
    .action(async (opts: { config?: string; source?: string[]; scope?: string[]; concurrency?: number }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const loaded = await loadConfigOrFail(opts.config);
          return runCycleCommand({ ...loaded, out, sources: opts.source, scopes: opts.scope, concurrency: opts.concurrency, cacheDir: cacheDir(loaded.config) });
        }),
      );
    });

  program
    .command('emulate')
    .description('start a local, protocol-faithful emulator of a SaaS and print one JSON line with its URL and credentials')
    .argument('<service>', 'github')
    .option('--port <n>', 'port (default: any free port)', (v) => Number.parseInt(v, 10))
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--seed <profile>', 'seed profile: small | large | empty', 'small')
    .option('--faults <spec>', 'fault injection, e.g. latency=20,error5xx=0.1,rate429=0.05,drop=0.02')
    .action(async (service: string, opts: { port?: number; host: string; seed: string; faults?: string }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { runEmulate } = await import('./emulate.js');
          return runEmulate(service, opts, out);
        }),
      );
    });

  program
    .command('status')
    .description("each scope's measured RPO, last cycle, verification and findings; exit 1 when an objective is missed")
    .addOption(configOption())
    .option('-s, --source <name...>', 'only these sources')
    .action(async (opts: { config?: string; source?: string[] }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { config } = await loadConfigOrFail(opts.config);
          const { runStatusCommand } = await import('./status.js');
          return runStatusCommand({ config, out, sources: opts.source });
        }),
      );
    });

  program
    .command('report')
    .description('the restorability-gap report: coverage, fidelity, freshness, RTO; exit 1 when an objective is missed')
    .addOption(configOption())
    .option('-f, --format <format>', 'text | json | md | html', 'text')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('-s, --source <name...>', 'only these sources')
    .action(async (opts: { config?: string; format: string; out?: string; source?: string[] }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { config } = await loadConfigOrFail(opts.config);
          const { runReportCommand } = await import('./report.js');
          return runReportCommand({ config, out, format: opts.format, outFile: opts.out, sources: opts.source });
        }),
      );
    });

  program
    .command('demo')
    .description('the main job against local emulated tenants: cycle, mutate, cycle, drill, status, gap report (HTML left on disk)')
    .option('--dir <dir>', 'working directory of the demo (re-created)', 'norestore-demo')
    .action(async (opts: { dir: string }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { runDemo } = await import('./demo.js');
          return runDemo(opts, out);
        }),
      );
    });

  program
    .command('run')
    .description('the daemon: each source cycles on its schedule; SIGTERM/SIGINT finish cleanly and exit 0')
    .addOption(configOption())
    .option('-s, --source <name...>', 'only these sources')
    .action(async (opts: { config?: string; source?: string[] }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const loaded = await loadConfigOrFail(opts.config);
          const { runDaemonCommand } = await import('./run.js');
          return runDaemonCommand({ loaded, out, sources: opts.source });
        }),
      );
    });

  program
    .command('drill')
    .description('measure the no-restore RTO (catch-up, verify, switch steps in dry-run); --fresh: the classic RTO (full restore into an empty tenant)')
    .addOption(configOption())
    .option('-s, --source <name...>', 'only these sources')
    .option('--fresh', "restore everything from the storage into the source's freshStandby (an empty tenant) and time it")
    .action(async (opts: { config?: string; source?: string[]; fresh?: boolean }, cmd: Command) => {
      const out = output(cmd);
      done(
        await guard(out, async () => {
          const { config } = await loadConfigOrFail(opts.config);
          const { runDrillCommand } = await import('./drill.js');
          return runDrillCommand({ config, out, sources: opts.source, fresh: Boolean(opts.fresh) });
        }),
      );
    });

  for (const direction of ['failover', 'failback'] as const) {
    program
      .command(direction)
      .description(
        direction === 'failover'
          ? 'switch production to the standby: final catch-up and verification, runbook, hooks, then replication reversed (the config says so)'
          : 'return production to the original primary after a failover (the same steps, reversed)',
      )
      .addOption(configOption())
      .option('-s, --source <name>', 'the source to switch')
      .option('--dry-run', 'show all of it and change nothing')
      .option('--force', 'switch even if the final catch-up left something unverified')
      .action(async (opts: { config?: string; source?: string; dryRun?: boolean; force?: boolean }, cmd: Command) => {
        const out = output(cmd);
        done(
          await guard(out, async () => {
            const loaded = await loadConfigOrFail(opts.config);
            const { runFailoverCommand } = await import('./failover.js');
            return runFailoverCommand({ loaded, out, source: opts.source, direction, dryRun: Boolean(opts.dryRun), force: Boolean(opts.force) });
          }),
        );
      });
  }
}
