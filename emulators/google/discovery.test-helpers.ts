/**
 * A small validator for Google discovery documents (../shared/specs/google/*.json): checks a JSON
 * value against a discovery schema (types, int64-as-string formats, enums, $ref, arrays, maps), and
 * request bodies against the `annotations.required` lists of a method. Used by the emulator tests to
 * check every response the emulator sends.
 *
 *   const gmail = loadDiscovery('gmail-v1');
 *   gmail.assertResponse('gmail.users.messages.get', body);
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GOOGLE_SPECS_DIR = join(process.env.NORESTORE_SPECS_DIR ?? '/work/shared/specs', 'google');

interface DSchema {
  id?: string;
  type?: string;
  format?: string;
  $ref?: string;
  enum?: string[];
  items?: DSchema;
  properties?: Record<string, DSchema>;
  additionalProperties?: DSchema;
  annotations?: { required?: string[] };
}

interface DMethod {
  id: string;
  path: string;
  httpMethod: string;
  scopes?: string[];
  request?: { $ref: string };
  response?: { $ref: string };
  mediaUpload?: { maxSize?: string; protocols?: { simple?: { path: string } } };
}

export interface DiscoveryDoc {
  name: string;
  servicePath: string;
  schemas: Record<string, DSchema>;
  resources: Record<string, unknown>;
}

export interface Discovery {
  doc: DiscoveryDoc;
  methods: Map<string, DMethod>;
  /** Problems of `value` against a schema (name or inline), each with its JSON path. */
  validate(schema: string | DSchema, value: unknown, path?: string): string[];
  /** Throw with every problem when a method's response body does not fit its response schema. */
  assertResponse(methodId: string, body: unknown): void;
  /** Problems of a request body: schema violations and fields the method requires (annotations). */
  validateRequest(methodId: string, body: unknown): string[];
}

function walkMethods(node: unknown, out: Map<string, DMethod>): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.httpMethod === 'string' && typeof o.id === 'string') out.set(o.id, o as unknown as DMethod);
  for (const v of Object.values(o)) walkMethods(v, out);
}

const INT_FORMATS = new Set(['int64', 'uint64']);

export function loadDiscovery(name: 'gmail-v1' | 'drive-v3' | 'calendar-v3' | 'admin-directory-v1'): Discovery {
  const doc = JSON.parse(readFileSync(join(GOOGLE_SPECS_DIR, `${name}.json`), 'utf8')) as DiscoveryDoc;
  const methods = new Map<string, DMethod>();
  walkMethods(doc.resources, methods);

  const validate = (schema: string | DSchema, value: unknown, path = '$'): string[] => {
    const s: DSchema | undefined = typeof schema === 'string' ? doc.schemas[schema] : schema.$ref ? doc.schemas[schema.$ref] : schema;
    if (!s) return [`${path}: unknown schema ${typeof schema === 'string' ? schema : schema.$ref}`];
    if (value === null || value === undefined) return [];
    const errs: string[] = [];
    const type = s.type ?? (s.properties || s.additionalProperties ? 'object' : 'any');
    switch (type) {
      case 'string':
        if (typeof value !== 'string') errs.push(`${path}: expected string${s.format ? ` (${s.format})` : ''}, got ${typeof value}`);
        else if (s.enum && !s.enum.includes(value)) errs.push(`${path}: ${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`);
        else if (s.format && INT_FORMATS.has(s.format) && !/^-?\d+$/.test(value)) errs.push(`${path}: expected an integer string (${s.format}), got ${JSON.stringify(value)}`);
        else if (s.format === 'date-time' && !Number.isFinite(Date.parse(value))) errs.push(`${path}: expected an RFC 3339 date-time, got ${JSON.stringify(value)}`);
        else if (s.format === 'byte' && !/^[A-Za-z0-9+/_=-]*$/.test(value)) errs.push(`${path}: expected base64 bytes`);
        break;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) errs.push(`${path}: expected integer, got ${JSON.stringify(value)}`);
        break;
      case 'number':
        if (typeof value !== 'number') errs.push(`${path}: expected number, got ${typeof value}`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') errs.push(`${path}: expected boolean, got ${typeof value}`);
        break;
      case 'array':
        if (!Array.isArray(value)) errs.push(`${path}: expected array, got ${typeof value}`);
        else if (s.items) value.forEach((v, i) => errs.push(...validate(s.items as DSchema, v, `${path}[${i}]`)));
        break;
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) {
          errs.push(`${path}: expected object, got ${Array.isArray(value) ? 'array' : typeof value}`);
          break;
        }
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const p = s.properties?.[k];
          if (p) errs.push(...validate(p, v, `${path}.${k}`));
          else if (s.additionalProperties) errs.push(...validate(s.additionalProperties, v, `${path}.${k}`));
          else if (s.properties) errs.push(`${path}.${k}: not a property of ${s.id ?? 'this object'}`);
        }
        break;
      }
      default:
        break;
    }
    return errs;
  };

  const requiredMissing = (schema: DSchema, value: unknown, methodId: string, path: string, seen: Set<string>): string[] => {
    const s = schema.$ref ? doc.schemas[schema.$ref] : schema;
    if (!s || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
    if (s.id) {
      if (seen.has(s.id)) return [];
      seen = new Set(seen).add(s.id);
    }
    const errs: string[] = [];
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      const v = (value as Record<string, unknown>)[k];
      if (p.annotations?.required?.includes(methodId) && (v === undefined || v === null)) errs.push(`${path}.${k}: required by ${methodId}`);
      if (v !== undefined) errs.push(...requiredMissing(p.items ?? p, v, methodId, `${path}.${k}`, seen));
    }
    return errs;
  };

  return {
    doc,
    methods,
    validate,
    assertResponse(methodId, body) {
      const m = methods.get(methodId);
      if (!m) throw new Error(`${name}: no method ${methodId}`);
      if (!m.response) {
        if (body !== undefined && body !== '' && body !== null) throw new Error(`${methodId} has no response body, got ${JSON.stringify(body).slice(0, 200)}`);
        return;
      }
      const errs = validate(m.response.$ref, body);
      if (errs.length) throw new Error(`${methodId} response does not fit ${m.response.$ref}:\n  ${errs.slice(0, 20).join('\n  ')}`);
    },
    validateRequest(methodId, body) {
      const m = methods.get(methodId);
      if (!m) throw new Error(`${name}: no method ${methodId}`);
      if (!m.request) return [];
      const schema = doc.schemas[m.request.$ref] as DSchema;
      return [...validate(schema, body), ...requiredMissing(schema, body, methodId, '$', new Set())];
    },
  };
}

/** The emulator's method table as it should be, from the discovery documents (see methods.ts). */
export function methodTableFromDiscovery(ids: readonly string[]): Array<{ id: string; httpMethod: string; path: string; upload: string | null; maxUploadBytes: number | null; scopes: string[] }> {
  const out = [];
  const docs = (['gmail-v1', 'drive-v3', 'calendar-v3', 'admin-directory-v1'] as const).map(loadDiscovery);
  for (const id of ids) {
    const d = docs.find((x) => x.methods.has(id));
    if (!d) throw new Error(`no discovery document has ${id}`);
    const m = d.methods.get(id) as DMethod;
    out.push({
      id,
      httpMethod: m.httpMethod,
      path: d.doc.servicePath + m.path,
      upload: m.mediaUpload?.protocols?.simple?.path ?? null,
      maxUploadBytes: m.mediaUpload?.maxSize ? sizeBytes(m.mediaUpload.maxSize) : null,
      scopes: m.scopes ?? [],
    });
  }
  return out;
}

function sizeBytes(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^(\d+)([KMGT]?)B$/.exec(text);
  if (!m) throw new Error(`unknown size ${text}`);
  return Number(m[1]) * 1024 ** ['', 'K', 'M', 'G', 'T'].indexOf(m[2] as string);
}
