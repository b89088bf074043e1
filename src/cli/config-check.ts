import { ConfigError, loadConfig, renderConfig } from '../config/load.js';

export interface ConfigCheckOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * `norestore config check --config FILE`: validate the config and print the effective config
 * (defaults filled in, paths absolute, every secret '[redacted]') as YAML on stdout; warnings on
 * stderr. Returns 0 when valid (warnings or not), 2 when the config cannot be used (each problem
 * printed on its own line).
 */
export async function configCheckCommand(file: string, out: ConfigCheckOutput): Promise<number> {
  try {
    const { config, warnings, path } = await loadConfig(file);
    out.stdout(`# effective config of ${path} (secrets redacted)\n`);
    out.stdout(renderConfig(config));
    for (const w of warnings) out.stderr(`warning: ${w}\n`);
    out.stderr(`config ${path}: valid${warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (err.issues.length === 1 && err.message === err.issues[0]) {
      out.stderr(`error: ${err.message}\n`);
    } else {
      out.stderr(`error: invalid config ${err.file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}\n`);
      for (const issue of err.issues) out.stderr(`  ${issue}\n`);
    }
    return 2;
  }
}
