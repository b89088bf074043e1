import type { Logger } from '../model/connector.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

/**
 * Structured logger: one JSON object per line (for files, journald, log shippers), or a short
 * human line for a terminal. Fields are shallow-copied; values named like secrets are redacted as a
 * second line of defence (secrets should never be passed in the first place).
 */
export function createLogger(opts: { sink: LogSink; json: boolean; level?: LogLevel; base?: Record<string, unknown> }): Logger & { child(fields: Record<string, unknown>): Logger & { child: unknown } } {
  const min = ORDER[opts.level ?? 'info'];
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    const all = redact({ ...base, ...fields });
    if (opts.json) {
      opts.sink.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }) + '\n');
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      opts.sink.write(`${level === 'info' ? '' : level.toUpperCase() + ' '}${msg}${extra ? '  ' + extra : ''}\n`);
    }
  };
  const logger = {
    debug: (m: string, f?: Record<string, unknown>) => emit('debug', m, f),
    info: (m: string, f?: Record<string, unknown>) => emit('info', m, f),
    warn: (m: string, f?: Record<string, unknown>) => emit('warn', m, f),
    error: (m: string, f?: Record<string, unknown>) => emit('error', m, f),
    child: (fields: Record<string, unknown>) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
  return logger;
}

const SECRET_NAME = /(token|secret|password|privatekey|private_key|authorization|apikey|api_key|credential)/i;

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (SECRET_NAME.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = v;
  }
  return out;
}

/** A logger that drops everything (tests, --quiet). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
