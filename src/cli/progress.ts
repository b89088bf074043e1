import type { Logger, ScopeRef } from '../model/connector.js';
import type { ScopeOutcome } from '../engine/cycle.js';

interface Row {
  name: string;
  step: string;
  items: number;
  bytes: number;
  started: number;
  done?: ScopeOutcome;
}

/** Receives engine events; draws bars on a terminal or writes one JSON log line per event. */
export interface Progress {
  scope(event: { scope: ScopeRef; phase: 'start' | 'done'; outcome?: ScopeOutcome }, source: string): void;
  step(event: { source: string; scope: string; step: string; items?: number; bytes?: number }): void;
  setTotal(source: string, scopes: number): void;
  stop(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** JSON-lines progress: one structured log line per scope start/finish (not per item). */
export function logProgress(log: Logger): Progress {
  return {
    scope: (e, source) => {
      if (e.phase === 'start') log.info('scope started', { source, scope: e.scope.id });
      else if (e.outcome) log.info(e.outcome.ok ? 'scope done' : 'scope not verified', { ...e.outcome });
    },
    step: () => undefined,
    setTotal: (source, scopes) => log.info('cycle planned', { source, scopes }),
    stop: () => undefined,
  };
}

/** Live bars on a terminal: one line per running scope, a total line with ETA from finished scopes. */
export function ttyProgress(stream: NodeJS.WriteStream, color: boolean): Progress {
  const rows = new Map<string, Row>();
  const totals = new Map<string, number>();
  const started = Date.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const bar = (fraction: number, width = 20): string => {
    const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
    return '█'.repeat(full) + '░'.repeat(width - full);
  };
  const draw = (final = false): void => {
    const cols = stream.columns ?? 100;
    const lines: string[] = [];
    for (const [source, total] of totals) {
      const mine = [...rows.entries()].filter(([k]) => k.startsWith(source + '\u0000'));
      const done = mine.filter(([, r]) => r.done).map(([, r]) => r);
      const elapsed = Date.now() - started;
      const eta = done.length && done.length < total ? formatMs((elapsed / done.length) * (total - done.length)) : done.length === total ? 'done' : '?';
      lines.push(`${source} ${bar(total ? done.length / total : 0)} ${done.length}/${total} scopes  ${formatMs(elapsed)}  ETA ${eta}`);
      for (const [, r] of mine) {
        if (r.done && !final) continue;
        const secs = Math.max(0.001, ((r.done ? r.started + r.done.ms : Date.now()) - r.started) / 1000);
        const status = r.done ? (r.done.ok ? 'ok' : `NOT OK: ${r.done.error ?? ''}`) : r.step;
        lines.push(dim(`  ${r.name.padEnd(28).slice(0, 28)} ${status.padEnd(8)} ${String(r.items).padStart(7)} items ${formatBytes(r.bytes).padStart(10)} ${(r.items / secs).toFixed(1).padStart(8)}/s`));
      }
    }
    let out = drawn ? `\x1b[${drawn}A` : '';
    for (const l of lines) out += '\x1b[2K' + l.slice(0, cols + (color ? 10 : 0)) + '\n';
    for (let i = lines.length; i < drawn; i++) out += '\x1b[2K\n';
    stream.write(out);
    drawn = Math.max(lines.length, drawn);
  };
  const schedule = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      draw();
    }, 100);
  };
  return {
    scope: (e, source) => {
      const key = `${source}\u0000${e.scope.id}`;
      if (e.phase === 'start') rows.set(key, { name: e.scope.name, step: 'export', items: 0, bytes: 0, started: Date.now() });
      else {
        const r = rows.get(key);
        if (r && e.outcome) r.done = e.outcome;
      }
      schedule();
    },
    step: (e) => {
      const r = rows.get(`${e.source}\u0000${e.scope}`);
      if (!r) return;
      if (r.step !== e.step) {
        r.step = e.step;
        r.items = 0;
        r.bytes = 0;
      }
      r.items += e.items ?? 0;
      r.bytes += e.bytes ?? 0;
      schedule();
    },
    setTotal: (source, scopes) => {
      totals.set(source, scopes);
      schedule();
    },
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (totals.size) draw(true);
    },
  };
}
