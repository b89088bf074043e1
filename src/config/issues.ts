/**
 * Turning zod issues into the messages a user reads: `sources[1].standby.tenantId: required`,
 * `storage.bukcet: unknown key (did you mean bucket?)`. Messages never quote a value that may be a
 * secret: type errors name the type only; only enum/literal mismatches quote what was given.
 */
import type { z } from 'zod';

type Path = readonly PropertyKey[];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function segment(key: PropertyKey, first: boolean): string {
  if (typeof key === 'number') return `[${key}]`;
  const k = String(key);
  if (IDENT.test(k)) return first ? k : `.${k}`;
  return `[${JSON.stringify(k)}]`;
}

/** ['sources', 0, 'source', 'auth', 'token'] -> 'sources[0].source.auth.token'. */
export function formatPath(path: Path): string {
  return path.map((k, i) => segment(k, i === 0)).join('');
}

export function describeType(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

/** A short, safe rendering of an enum-like input (never used for secret fields). */
function quoteSmall(v: unknown): string {
  if (typeof v === 'string') return v.length <= 40 ? JSON.stringify(v) : 'a long string';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return describeType(v);
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

/** The closest known key to a misspelt one, if close enough to be a likely typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exactCase = known.find((k) => k.toLowerCase() === lower);
  if (exactCase) return exactCase;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = levenshtein(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return bestD <= limit ? best : undefined;
}

// A marker so the formatter can split one unrecognized_keys issue into one line per key.
const KEY_SEP = '\u0000';
const LINE_SEP = '\u0001';

/** The per-parse zod error map: the message of every issue whose schema did not set its own. */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'required' : `expected ${expectedName(iss.expected)}, got ${describeType(iss.input)}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape ?? {};
      const known = Object.keys(shape);
      return iss.keys
        .map((k) => {
          const hint = suggestKey(k, known);
          return `${k}${KEY_SEP}unknown key${hint ? ` (did you mean ${hint}?)` : known.length ? ` (expected one of: ${known.join(', ')})` : ''}`;
        })
        .join(LINE_SEP);
    }
    case 'invalid_value':
      if (iss.input === undefined) return iss.values.length === 1 ? 'required' : `required (one of ${iss.values.map((v) => String(v)).join(', ')})`;
      return `expected ${iss.values.map((v) => quoteSmall(v)).join(' or ')}, got ${quoteSmall(iss.input)}`;
    case 'invalid_union': {
      const u = iss as typeof iss & { note?: string; options?: unknown[]; discriminator?: string };
      if (u.note === 'No matching discriminator' && u.discriminator) {
        const given = iss.input && typeof iss.input === 'object' ? (iss.input as Record<string, unknown>)[u.discriminator] : undefined;
        const options = (u.options ?? []).map((o) => String(o)).join(', ');
        if (iss.input === undefined || iss.input === null || typeof iss.input !== 'object' || Array.isArray(iss.input)) {
          return `expected a mapping with ${u.discriminator}: one of ${options}`;
        }
        return given === undefined ? `required (one of ${options})` : `expected one of ${options}, got ${quoteSmall(given)}`;
      }
      return 'does not match any allowed form';
    }
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array') return `must list at least ${iss.minimum} item(s)`;
      return `must be ${iss.inclusive === false ? 'more than' : 'at least'} ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      if (iss.origin === 'array') return `must list at most ${iss.maximum} item(s)`;
      return `must be ${iss.inclusive === false ? 'less than' : 'at most'} ${iss.maximum}`;
    case 'invalid_key':
      return `invalid key: ${iss.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_format':
      return `expected ${iss.format}`;
    default:
      return undefined;
  }
};

/** One line per problem: 'path: message'. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const iss of issues) {
    const where = formatPath(iss.path);
    if (iss.code === 'unrecognized_keys' && iss.message.includes(KEY_SEP)) {
      for (const line of iss.message.split(LINE_SEP)) {
        const [key = '', msg = ''] = line.split(KEY_SEP);
        out.push(`${formatPath([...iss.path, key])}: ${msg}`);
      }
      continue;
    }
    out.push(where ? `${where}: ${iss.message}` : iss.message);
  }
  return [...new Set(out)];
}
