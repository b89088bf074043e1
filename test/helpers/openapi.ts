/**
 * Validate response bodies against an OpenAPI 3.0 description (dereferenced, as the files in
 * ../shared/specs are) with ajv. OpenAPI 3.0 `nullable: true` is turned into a `null` alternative
 * before compiling, since JSON Schema has no such keyword.
 *
 *   const spec = loadOpenApi('/work/shared/specs/github/api.github.com.subset.json');
 *   spec.assertResponse('get', '/repos/{owner}/{repo}/issues', 200, body);
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export; under NodeNext the namespace may wrap it.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Where the shared spec files live (../shared/specs relative to the project root). */
export const SHARED_SPECS_DIR = process.env.NORESTORE_SPECS_DIR ?? '/work/shared/specs';
export const GITHUB_SPEC_PATH = `${SHARED_SPECS_DIR}/github/api.github.com.subset.json`;

const OPENAPI_ONLY_KEYS = new Set([
  'nullable', 'example', 'examples', 'externalDocs', 'xml', 'discriminator', 'readOnly', 'writeOnly', 'deprecated',
]);

/** Deep-convert an OpenAPI 3.0 schema into a JSON Schema ajv accepts. */
export function toJsonSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    if (OPENAPI_ONLY_KEYS.has(k) || k.startsWith('x-')) continue;
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      const props: JsonObject = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = toJsonSchema(pv);
      out[k] = props;
    } else if (k === 'enum' && Array.isArray(v) && schema.nullable === true && !v.includes(null)) {
      out[k] = [...v, null];
    } else {
      out[k] = toJsonSchema(v);
    }
  }
  if (schema.nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

export interface OpenApiSpec {
  /** The JSON Schema (converted) of a response body, or undefined when the spec declares none. */
  responseSchema(method: string, path: string, status: number, contentType?: string): Json | undefined;
  /** Validate; returns the ajv errors (empty when valid). Throws when the spec has no such response. */
  validateResponse(method: string, path: string, status: number, body: unknown, contentType?: string): ErrorObject[];
  /** Validate and throw a readable error naming the operation and the failing fields. */
  assertResponse(method: string, path: string, status: number, body: unknown, contentType?: string): void;
  /** Validate a request body against the operation's request schema. */
  validateRequest(method: string, path: string, body: unknown, contentType?: string): ErrorObject[];
  /** The raw (dereferenced) OpenAPI document. */
  readonly doc: JsonObject;
}

const cache = new Map<string, OpenApiSpec>();

export function loadOpenApi(file: string = GITHUB_SPEC_PATH): OpenApiSpec {
  const hit = cache.get(file);
  if (hit) return hit;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'binary', 'uri-template', 'repo.nwo', 'ssh-key', 'ssh-key fingerprint']) ajv.addFormat(f, true);
  const compiled = new Map<string, ValidateFunction>();

  const operation = (method: string, path: string): JsonObject => {
    const paths = doc.paths as JsonObject;
    const item = paths[path] as JsonObject | undefined;
    if (!item) throw new Error(`OpenAPI: no path ${path}`);
    const op = item[method.toLowerCase()] as JsonObject | undefined;
    if (!op) throw new Error(`OpenAPI: no ${method.toUpperCase()} ${path}`);
    return op;
  };

  const pickContent = (content: JsonObject | undefined, contentType: string): JsonObject | undefined => {
    if (!content) return undefined;
    const exact = content[contentType] as JsonObject | undefined;
    if (exact) return exact;
    const first = Object.values(content)[0];
    return first && typeof first === 'object' && !Array.isArray(first) ? (first as JsonObject) : undefined;
  };

  const responseSchema = (method: string, path: string, status: number, contentType = 'application/json'): Json | undefined => {
    const op = operation(method, path);
    const responses = op.responses as JsonObject;
    const resp = (responses[String(status)] ?? responses.default) as JsonObject | undefined;
    if (!resp) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} declares no ${status} response`);
    const media = pickContent(resp.content as JsonObject | undefined, contentType);
    if (!media || media.schema === undefined) return undefined;
    return toJsonSchema(media.schema);
  };

  const validator = (key: string, schema: Json): ValidateFunction => {
    let fn = compiled.get(key);
    if (!fn) {
      fn = ajv.compile(schema as object);
      compiled.set(key, fn);
    }
    return fn;
  };

  const validateResponse = (method: string, path: string, status: number, body: unknown, contentType = 'application/json'): ErrorObject[] => {
    const schema = responseSchema(method, path, status, contentType);
    // The description declares no body schema for this status: nothing to check.
    if (schema === undefined) return [];
    const fn = validator(`res ${method} ${path} ${status} ${contentType}`, schema);
    return fn(body) ? [] : [...(fn.errors ?? [])];
  };

  const spec: OpenApiSpec = {
    doc,
    responseSchema,
    validateResponse,
    assertResponse(method, path, status, body, contentType) {
      const errors = validateResponse(method, path, status, body, contentType);
      if (errors.length > 0) {
        const lines = errors.slice(0, 15).map((e) => `  ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
        throw new Error(`${method.toUpperCase()} ${path} ${status}: body does not match the OpenAPI schema\n${lines.join('\n')}`);
      }
    },
    validateRequest(method, path, body, contentType = 'application/json') {
      const op = operation(method, path);
      const rb = op.requestBody as JsonObject | undefined;
      const media = pickContent(rb?.content as JsonObject | undefined, contentType);
      if (!media || media.schema === undefined) return [];
      const fn = validator(`req ${method} ${path} ${contentType}`, toJsonSchema(media.schema));
      return fn(body) ? [] : [...(fn.errors ?? [])];
    },
  };
  cache.set(file, spec);
  return spec;
}
