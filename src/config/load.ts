import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { formatDuration } from './duration.js';
import { configErrorMap, formatIssues, formatPath } from './issues.js';
import { createConfigSchema, type Config } from './schema.js';
import { REDACTED, Secret } from './secret.js';

/**
 * A config that cannot be used. `issues` lists every problem found, one line each, like
 * `sources[1].standby.tenantId: required` or `storage.bukcet: unknown key (did you mean bucket?)`.
 * No issue ever contains a secret value.
 */
export class ConfigError extends Error {
  constructor(
    /** Absolute path of the config file. */
    readonly file: string,
    readonly issues: string[],
    headline?: string,
  ) {
    super(
      headline ??
        `invalid config ${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${i}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** Things that work but should be changed (e.g. a literal secret in the file). */
  warnings: string[];
  /** Absolute path of the config file. */
  path: string;
}

/**
 * Read, parse and validate a config file, resolving secret references (`env:NAME` from opts.env,
 * default process.env; `file:PATH`) and relative paths (against the file's directory).
 * Throws ConfigError listing every problem at once.
 */
export async function loadConfig(file: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file (start from config.example.yaml)'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory, expected a YAML file'
            : (code ?? String(err));
    const msg = `cannot read config ${abs}: ${why}`;
    throw new ConfigError(abs, [msg], msg);
  }
  return parseConfigText(text, abs, opts.env ?? process.env);
}

/** Validate YAML text as if it were the file `file` (relative paths resolve against its directory). */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const abs = path.resolve(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (pos: number) => {
    const { line, col } = lineCounter.linePos(pos);
    return `${abs}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    // yaml's own messages name the problem; the source line is left out (it may hold a secret).
    const issues = doc.errors.map((e) => `${where(e.pos[0])}: YAML syntax error: ${e.message}`);
    throw new ConfigError(abs, issues);
  }
  const warnings = doc.warnings.map((w) => `${where(w.pos[0])}: ${w.message}`);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(abs, [`YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (data === null || data === undefined) {
    throw new ConfigError(abs, ['the config is empty: expected version: 1, storage and sources (start from config.example.yaml)']);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(abs, ['expected a mapping at the top level (version: 1, storage: ..., sources: ...)']);
  }

  const schema = createConfigSchema({ baseDir: path.dirname(abs), env });
  const result = schema.safeParse(data, { error: configErrorMap });
  if (!result.success) throw new ConfigError(abs, formatIssues(result.error.issues));
  const config = result.data;

  walkSecrets(config, [], (secret, at) => {
    if (secret.origin === 'literal') {
      warnings.push(`${formatPath(at)}: a secret written in the config file; use a reference instead (env:NAME or file:PATH)`);
    }
  });
  if (config.sources.length === 0) warnings.push('sources: none configured; nothing will be backed up');
  return { config, warnings, path: abs };
}

function walkSecrets(v: unknown, at: PropertyKey[], fn: (s: Secret, at: PropertyKey[]) => void): void {
  if (v instanceof Secret) fn(v, at);
  else if (Array.isArray(v)) v.forEach((x, i) => walkSecrets(x, [...at, i], fn));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkSecrets(x, [...at, k], fn);
}

// Keys whose numeric values in a loaded Config are durations in ms.
const DURATION_KEYS = new Set(['rpo', 'rto', 'every', 'jitter', 'deleted']);

/**
 * The config as plain data safe to show: every Secret as '[redacted]', durations as short strings
 * ('15m'), paths absolute, defaults filled in.
 */
export function redactedConfig(config: Config): unknown {
  const walk = (v: unknown, key: string | null): unknown => {
    if (v instanceof Secret) return REDACTED;
    if (typeof v === 'number' && key !== null && DURATION_KEYS.has(key)) return formatDuration(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = walk(x, k);
      return out;
    }
    return v;
  };
  return walk(config, null);
}

/** The redacted effective config as YAML. */
export function renderConfig(config: Config): string {
  return stringify(redactedConfig(config), { lineWidth: 0 });
}
