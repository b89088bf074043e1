/**
 * Drive's search language (the `q` of files.list), a practical subset:
 *   'ID' in parents | 'EMAIL'|'me' in owners|writers|readers
 *   name|mimeType = | != | contains 'TEXT'     trashed|starred|sharedWithMe = true|false
 *   modifiedTime|createdTime = != < <= > >= 'RFC 3339'
 *   appProperties|properties has { key='K' and value='V' }
 *   combined with and, or, not and parentheses.
 * Anything else is refused with 400 naming the term (never silently ignored).
 */
import type { DFile, DriveState } from './drive-state.js';
import { badRequest } from './errors.js';

type Tok = { t: 'str'; v: string } | { t: 'word'; v: string } | { t: 'op'; v: string } | { t: 'punct'; v: string };

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let v = '';
      i++;
      while (i < q.length && q[i] !== c) {
        if (q[i] === '\\' && i + 1 < q.length) i++;
        v += q[i];
        i++;
      }
      if (i >= q.length) throw invalid(q, 'unterminated string');
      i++;
      out.push({ t: 'str', v });
      continue;
    }
    if ('(){}'.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(q.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[1] as string });
      i += (op[1] as string).length;
      continue;
    }
    const w = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i));
    if (!w) throw invalid(q, `unexpected character ${c}`);
    out.push({ t: 'word', v: w[0] });
    i += w[0].length;
  }
  return out;
}

function invalid(q: string, why: string) {
  return badRequest(`Invalid Value: q=${q} (${why})`, 'invalid', 'q');
}

export type Predicate = (f: DFile, user: string, drive: DriveState) => boolean;

export function parseDriveQuery(q: string): Predicate {
  const toks = tokenize(q);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const word = (v: string): boolean => {
    const t = peek();
    if (t?.t === 'word' && t.v.toLowerCase() === v) {
      p++;
      return true;
    }
    return false;
  };
  const punct = (v: string): boolean => {
    const t = peek();
    if (t?.t === 'punct' && t.v === v) {
      p++;
      return true;
    }
    return false;
  };
  const expect = (cond: boolean, what: string): void => {
    if (!cond) throw invalid(q, `expected ${what}`);
  };

  const orExpr = (): Predicate => {
    let left = andExpr();
    while (word('or')) {
      const a = left;
      const b = andExpr();
      left = (f, u, d) => a(f, u, d) || b(f, u, d);
    }
    return left;
  };
  const andExpr = (): Predicate => {
    let left = unary();
    while (word('and')) {
      const a = left;
      const b = unary();
      left = (f, u, d) => a(f, u, d) && b(f, u, d);
    }
    return left;
  };
  const unary = (): Predicate => {
    if (word('not')) {
      const inner = unary();
      return (f, u, d) => !inner(f, u, d);
    }
    if (punct('(')) {
      const inner = orExpr();
      expect(punct(')'), ')');
      return inner;
    }
    return term();
  };
  const value = (): string | boolean => {
    const t = toks[p++];
    if (t?.t === 'str') return t.v;
    if (t?.t === 'word' && (t.v === 'true' || t.v === 'false')) return t.v === 'true';
    throw invalid(q, 'expected a quoted value or true/false');
  };
  const term = (): Predicate => {
    const first = toks[p++];
    if (!first) throw invalid(q, 'unexpected end');
    if (first.t === 'str') {
      expect(word('in'), "'in'");
      const coll = toks[p++];
      const v = first.v;
      switch (coll?.t === 'word' ? coll.v : '') {
        case 'parents':
          return (f, u, d) => f.parents.includes(v === 'root' ? (d.roots.get(u) ?? v) : v);
        case 'owners':
          return (f, u) => f.owner === (v === 'me' ? u : v.toLowerCase());
        case 'writers':
          return (f, _u, d) => ['writer', 'owner', 'organizer', 'fileOrganizer'].includes(d.roleOf(v.toLowerCase(), f) ?? '');
        case 'readers':
          return (f, _u, d) => d.roleOf(v.toLowerCase(), f) !== null;
        default:
          throw invalid(q, `unsupported collection ${coll && 'v' in coll ? coll.v : ''}`);
      }
    }
    if (first.t !== 'word') throw invalid(q, 'expected a field name');
    const field = first.v;
    if (field === 'appProperties' || field === 'properties') {
      expect(word('has'), "'has'");
      expect(punct('{'), '{');
      expect(word('key'), 'key');
      expect(peek()?.t === 'op' && peek()?.v === '=' && !!p++, '=');
      const k = value();
      expect(word('and'), 'and');
      expect(word('value'), 'value');
      expect(peek()?.t === 'op' && peek()?.v === '=' && !!p++, '=');
      const v = value();
      expect(punct('}'), '}');
      return (f) => (field === 'appProperties' ? f.appProperties : f.properties)[String(k)] === String(v);
    }
    const opTok = toks[p++];
    const op = opTok?.t === 'op' ? opTok.v : opTok?.t === 'word' && opTok.v === 'contains' ? 'contains' : null;
    if (!op) throw invalid(q, `expected an operator after ${field}`);
    const v = value();
    const cmp = (a: string, b: string): boolean => {
      switch (op) {
        case '=': return a === b;
        case '!=': return a !== b;
        case '<': return a < b;
        case '<=': return a <= b;
        case '>': return a > b;
        case '>=': return a >= b;
        default: return a.includes(b);
      }
    };
    switch (field) {
      case 'name':
        if (!['=', '!=', 'contains'].includes(op)) throw invalid(q, `operator ${op} not supported for name`);
        return op === 'contains' ? (f) => f.name.toLowerCase().includes(String(v).toLowerCase()) : (f) => cmp(f.name, String(v));
      case 'mimeType':
        if (!['=', '!=', 'contains'].includes(op)) throw invalid(q, `operator ${op} not supported for mimeType`);
        return (f) => cmp(f.mimeType, String(v));
      case 'trashed':
      case 'starred':
      case 'sharedWithMe': {
        if (typeof v !== 'boolean' || (op !== '=' && op !== '!=')) throw invalid(q, `${field} takes = or != true/false`);
        const get = (f: DFile, u: string): boolean => (field === 'trashed' ? f.trashed : field === 'starred' ? f.starred : !f.driveId && f.owner !== u);
        return (f, u) => (get(f, u) === v) === (op === '=');
      }
      case 'modifiedTime':
      case 'createdTime': {
        const t = Date.parse(String(v));
        if (!Number.isFinite(t) || op === 'contains') throw invalid(q, `${field} needs an RFC 3339 time and a comparison`);
        return (f) => cmp(new Date(Date.parse(field === 'modifiedTime' ? f.modifiedTime : f.createdTime)).toISOString(), new Date(t).toISOString());
      }
      default:
        throw invalid(q, `the emulator does not search by ${field}`);
    }
  };

  if (!toks.length) return () => true;
  const pred = orExpr();
  if (p !== toks.length) throw invalid(q, 'unexpected text at the end');
  return pred;
}
