/**
 * For tests: validate Graph response bodies against Microsoft's OpenAPI descriptions in
 * ../shared/specs/microsoft (YAML with $ref into components). OpenAPI-only keywords are dropped,
 * `nullable` becomes a null alternative, and the generator's `additionalProperties: { type: object }`
 * (its way of saying "more properties may appear") becomes `true`, so @odata annotations pass.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const GRAPH_SPECS_DIR = `${process.env.NORESTORE_SPECS_DIR ?? '/work/shared/specs'}/microsoft`;

const DROP = new Set(['nullable', 'example', 'examples', 'externalDocs', 'xml', 'discriminator', 'readOnly', 'writeOnly', 'deprecated']);

function convert(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(convert);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(schema)) {
    if (DROP.has(k) || k.startsWith('x-')) continue;
    if (k === 'additionalProperties' && v && typeof v === 'object' && !Array.isArray(v) && (v as { type?: string }).type === 'object' && Object.keys(v).length === 1) {
      out[k] = true;
    } else if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, convert(pv)]));
    } else if (k === 'enum' && Array.isArray(v) && schema.nullable === true && !v.includes(null)) {
      out[k] = [...v, null];
    } else out[k] = convert(v);
  }
  if (schema.nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

export interface GraphSpec {
  /** Validate a 2XX JSON response of an operation; returns readable error lines (empty when valid). */
  validate(method: string, path: string, body: unknown): string[];
  /** Validate against a component schema by name (e.g. microsoft.graph.message). */
  validateSchema(name: string, body: unknown): string[];
  paths(): string[];
}

const cache = new Map<string, GraphSpec>();

export function loadGraphSpec(file: 'Mail' | 'Calendar' | 'PersonalContacts'): GraphSpec {
  const hit = cache.get(file);
  if (hit) return hit;
  const doc = YAML.parse(readFileSync(`${GRAPH_SPECS_DIR}/${file}.yml`, 'utf8')) as { [k: string]: Json };
  const id = `graph-${file.toLowerCase()}`;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'base64url', 'binary', 'byte', 'decimal', 'double', 'float', 'int8', 'int16', 'uint8']) ajv.addFormat(f, true);
  const components = convert(doc.components as Json) as { [k: string]: Json };
  ajv.addSchema({ $id: id, components }, id);
  const validators = new Map<string, ValidateFunction>();
  const run = (ref: string, body: unknown): string[] => {
    let fn = validators.get(ref);
    if (!fn) {
      fn = ajv.compile({ $ref: `${id}${ref}` });
      validators.set(ref, fn);
    }
    if (fn(body)) return [];
    return (fn.errors ?? []).slice(0, 12).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  };
  const responses = (doc.components as { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }).responses;
  const spec: GraphSpec = {
    paths: () => Object.keys(doc.paths as object),
    validateSchema: (name, body) => run(`#/components/schemas/${name}`, body),
    validate(method, path, body) {
      const item = (doc.paths as Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema?: { $ref?: string } }> }> }>>)[path];
      const op = item?.[method.toLowerCase()];
      if (!op) throw new Error(`${file}.yml has no ${method.toUpperCase()} ${path}`);
      let resp = op.responses['2XX'] ?? op.responses['200'] ?? op.responses['201'];
      if (!resp) throw new Error(`${file}.yml: ${method.toUpperCase()} ${path} declares no 2XX response`);
      if (resp.$ref) resp = responses[resp.$ref.replace('#/components/responses/', '')] as typeof resp;
      const ref = resp.content?.['application/json']?.schema?.$ref;
      if (!ref) throw new Error(`${file}.yml: ${method.toUpperCase()} ${path} has no JSON schema reference`);
      return run(ref, body);
    },
  };
  cache.set(file, spec);
  return spec;
}
