import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** Where a secret came from: an environment variable, a file, or (discouraged) the config text itself. */
export type SecretOrigin = 'env' | 'file' | 'literal';

/**
 * A resolved secret (token, key, password). Only `reveal()` gives the value; every other way of
 * turning it into text (String(), template literals, JSON.stringify, util.inspect, console.log)
 * gives '[redacted]'. The value sits in a private field, so spreading or structuredClone does not
 * copy it either.
 */
export class Secret {
  readonly #value: string;
  /** Where it came from. */
  readonly origin: SecretOrigin;
  /** A description that is safe to show: 'env:GH_TOKEN', 'file:/etc/norestore/app.pem' or 'literal'. */
  readonly ref: string;

  constructor(value: string, origin: SecretOrigin = 'literal', ref: string = origin === 'literal' ? 'literal' : origin) {
    this.#value = value;
    this.origin = origin;
    this.ref = ref;
  }

  /** The secret value. Hand it to an SDK; never log it, never put it in an error. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

export interface SecretResolveContext {
  /** Environment to read `env:NAME` from. */
  env: NodeJS.ProcessEnv;
  /** Directory `file:PATH` is relative to (the config file's directory). */
  baseDir: string;
}

export type SecretResolution = { ok: true; secret: Secret } | { ok: false; message: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the string is a reference (`env:NAME` / `file:PATH`) rather than a literal secret. */
export function isSecretReference(text: string): boolean {
  return text.startsWith('env:') || text.startsWith('file:');
}

/** Expand a leading '~/' and resolve against baseDir. */
export function resolveLocalPath(p: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  let q = p;
  if (q === '~' || q.startsWith('~/')) {
    const home = env.HOME ?? env.USERPROFILE;
    if (home) q = path.join(home, q.slice(1));
  }
  return path.resolve(baseDir, q);
}

/**
 * Resolve a secret reference from the config:
 * - `env:NAME`   the value of environment variable NAME (must be set and non-empty);
 * - `file:PATH`  the contents of PATH (relative to the config file's directory), trailing newlines trimmed;
 * - anything else is a literal secret (allowed; `config check` warns about it).
 * Error messages name the variable or the file, never the value.
 */
export function resolveSecret(text: string, ctx: SecretResolveContext): SecretResolution {
  if (text.startsWith('env:')) {
    const name = text.slice(4);
    if (!ENV_NAME.test(name)) {
      return { ok: false, message: `expected env:NAME with NAME an environment variable name (letters, digits, _), got "env:${name}"` };
    }
    const value = ctx.env[name];
    if (value === undefined) return { ok: false, message: `environment variable ${name} is not set` };
    if (value === '') return { ok: false, message: `environment variable ${name} is empty` };
    return { ok: true, secret: new Secret(value, 'env', `env:${name}`) };
  }
  if (text.startsWith('file:')) {
    const rel = text.slice(5);
    if (rel.trim() === '') return { ok: false, message: 'expected file:PATH, got an empty path' };
    const file = resolveLocalPath(rel, ctx.baseDir, ctx.env);
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
      return { ok: false, message: `cannot read secret file ${file}: ${why}` };
    }
    const value = raw.replace(/(\r?\n)+$/, '');
    if (value === '') return { ok: false, message: `secret file ${file} is empty` };
    return { ok: true, secret: new Secret(value, 'file', `file:${file}`) };
  }
  return { ok: true, secret: new Secret(text, 'literal', 'literal') };
}
