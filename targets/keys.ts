import { TargetError } from './types.js';

/**
 * Key rules shared by every target (targets/types.ts): '/'-separated relative paths of
 * [A-Za-z0-9._=-] segments, no empty segment, no '.' or '..', at most 1024 characters.
 */
const SEGMENT = /^[A-Za-z0-9._=-]+$/;
export const MAX_KEY_LENGTH = 1024;

/** Why `key` is not a valid object key, or null when it is. */
export function keyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return `a key must be a string, got ${typeof key}`;
  if (key.length === 0) return 'a key must not be empty';
  if (key.length > MAX_KEY_LENGTH) return `a key must be at most ${MAX_KEY_LENGTH} characters (got ${key.length})`;
  if (key.startsWith('/')) return 'a key must be relative (no leading "/")';
  const segments = key.split('/');
  for (const [i, seg] of segments.entries()) {
    if (seg.length === 0) return i === segments.length - 1 ? 'a key must not end with "/"' : 'a key must not contain an empty segment ("//")';
    if (seg === '.' || seg === '..') return `a key must not contain a "${seg}" segment`;
    if (!SEGMENT.test(seg)) return `key segment ${JSON.stringify(seg)} has characters outside [A-Za-z0-9._=-]`;
  }
  return null;
}

/** Throws TargetError('Io') naming the key and the rule it breaks. */
export function assertKey(key: unknown, where: string): asserts key is string {
  const problem = keyProblem(key);
  if (problem !== null) {
    throw new TargetError('Io', `${where}: invalid key ${JSON.stringify(key)}: ${problem}; use a '/'-separated path of [A-Za-z0-9._=-] segments`);
  }
}

/**
 * A list prefix is '' or the beginning of a valid key: it may end in '/' or in a partial segment,
 * but must not contain an empty, '.' or '..' segment before its last '/'.
 */
export function assertPrefix(prefix: unknown, where: string): asserts prefix is string {
  let problem: string | null = null;
  if (typeof prefix !== 'string') problem = `a prefix must be a string, got ${typeof prefix}`;
  else if (prefix.length > MAX_KEY_LENGTH) problem = `a prefix must be at most ${MAX_KEY_LENGTH} characters`;
  else if (prefix.length > 0) {
    const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    // the last segment may be partial ('blobs/ab' matches 'blobs/abcd'), but '.' and '..' alone are refused too
    problem = body.length === 0 ? 'a prefix must not be "/"' : keyProblem(body);
  }
  if (problem !== null) {
    throw new TargetError('Io', `${where}: invalid list prefix ${JSON.stringify(prefix)}: ${problem}`);
  }
}
