import pc from 'picocolors';

/** How the CLI talks: human text on a terminal, JSON lines otherwise or with --json. */
export interface Output {
  json: boolean;
  quiet: boolean;
  color: boolean;
  tty: boolean;
  /** Result text for humans (suppressed by --quiet and in JSON mode). */
  say(text: string): void;
  /** A machine-readable result object (printed in JSON mode). */
  result(obj: unknown): void;
  /** Errors always go to stderr. */
  error(text: string): void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function createOutput(opts: { json?: boolean; quiet?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv }): Output {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const env = opts.env ?? process.env;
  const tty = Boolean(stdout.isTTY);
  const json = Boolean(opts.json);
  const color = tty && !json && !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb';
  return {
    json,
    quiet: Boolean(opts.quiet),
    color,
    tty,
    say: (text) => {
      if (!json && !opts.quiet) stdout.write(text.endsWith('\n') ? text : text + '\n');
    },
    result: (obj) => {
      if (json) stdout.write(JSON.stringify(obj) + '\n');
    },
    error: (text) => {
      stderr.write((color ? pc.red(text) : text) + (text.endsWith('\n') ? '' : '\n'));
    },
    stdout,
    stderr,
  };
}

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** The job ran, but something is not verified, an objective is missed, or check found violations. */
  notOk: 1,
  /** Bad input: arguments, config, secrets. Nothing was changed. */
  usage: 2,
  /** Could not run: storage unreachable, repository locked or of a newer format. */
  failure: 3,
} as const;
