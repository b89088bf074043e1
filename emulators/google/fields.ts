/**
 * Partial responses: the `fields` system parameter (`nextPageToken,files(id,name,parents)`,
 * `files/id`, `*`), applied to a response body as Google does.
 */
import { badRequest } from './errors.js';

/** field name -> sub-selection (null = the whole value). */
export type FieldTree = Map<string, FieldTree | null>;

export function parseFields(text: string): FieldTree | null {
  const src = text.replace(/\s+/g, '');
  if (!src || src === '*') return null;
  let i = 0;
  const parseList = (closing: boolean): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_*.@-]/.test(src[i] as string)) i++;
      const name = src.slice(start, i);
      if (!name) throw badRequest(`Invalid field selection ${text}`, 'invalidParameter', 'fields');
      let sub: FieldTree | null = null;
      if (src[i] === '(') {
        i++;
        sub = parseList(true);
        if (src[i] !== ')') throw badRequest(`Invalid field selection ${text}`, 'invalidParameter', 'fields');
        i++;
      } else if (src[i] === '/') {
        i++;
        const rest = parsePath();
        sub = rest;
      }
      merge(tree, name, sub);
      if (src[i] === ',') {
        i++;
        continue;
      }
      if (closing && src[i] === ')') return tree;
      if (!closing && i >= src.length) return tree;
      throw badRequest(`Invalid field selection ${text}`, 'invalidParameter', 'fields');
    }
  };
  const parsePath = (): FieldTree => {
    const start = i;
    while (i < src.length && /[A-Za-z0-9_*.@-]/.test(src[i] as string)) i++;
    const name = src.slice(start, i);
    if (!name) throw badRequest(`Invalid field selection ${text}`, 'invalidParameter', 'fields');
    let sub: FieldTree | null = null;
    if (src[i] === '/') {
      i++;
      sub = parsePath();
    } else if (src[i] === '(') {
      i++;
      sub = parseList(true);
      i++;
    }
    const t: FieldTree = new Map();
    t.set(name, sub);
    return t;
  };
  const tree = parseList(false);
  return tree.has('*') ? null : tree;
}

function merge(tree: FieldTree, name: string, sub: FieldTree | null): void {
  if (!tree.has(name)) {
    tree.set(name, sub);
    return;
  }
  const prev = tree.get(name) ?? null;
  if (prev === null || sub === null) tree.set(name, null);
  else for (const [k, v] of sub) merge(prev, k, v);
}

/** Keep only the selected fields (arrays are selected element-wise). */
export function applyFields(value: unknown, tree: FieldTree | null): unknown {
  if (tree === null) return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of tree) {
    const v = (value as Record<string, unknown>)[name];
    if (v !== undefined) out[name] = applyFields(v, sub);
  }
  return out;
}
