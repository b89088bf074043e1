/**
 * Google API errors as Google sends them:
 *   { "error": { "code": 404, "message": "...", "errors": [{ "message", "domain", "reason" }], "status": "NOT_FOUND" } }
 * (The Calendar API, like other older APIs, leaves out `status`; Google's OAuth token endpoint uses the
 * OAuth 2 shape { "error": "invalid_grant", "error_description": "..." } instead: see auth.ts.)
 */

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'NOT_FOUND',
  412: 'FAILED_PRECONDITION',
  413: 'OUT_OF_RANGE',
  416: 'OUT_OF_RANGE',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

export interface ErrorItem {
  message: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

export class ApiError extends Error {
  readonly code: number;
  readonly errors: ErrorItem[];
  readonly status: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: number,
    message: string,
    reason: string,
    opts: { domain?: string; location?: string; locationType?: string; status?: string | null; headers?: Record<string, string>; itemMessage?: string } = {},
  ) {
    super(message);
    this.code = code;
    const item: ErrorItem = { message: opts.itemMessage ?? message, domain: opts.domain ?? 'global', reason };
    if (opts.location) item.location = opts.location;
    if (opts.locationType) item.locationType = opts.locationType;
    this.errors = [item];
    this.status = opts.status === null ? undefined : (opts.status ?? STATUS_BY_CODE[code]);
    this.headers = opts.headers ?? {};
  }

  body(): { error: { code: number; message: string; errors: ErrorItem[]; status?: string } } {
    const error: { code: number; message: string; errors: ErrorItem[]; status?: string } = { code: this.code, message: this.message, errors: this.errors };
    if (this.status) error.status = this.status;
    return { error };
  }
}

// The errors the APIs send most, with Google's wording.
export const notFound = (what = 'Requested entity was not found.'): ApiError => new ApiError(404, what, 'notFound');
export const badRequest = (message: string, reason = 'badRequest', location?: string): ApiError =>
  new ApiError(400, message, reason, location ? { location, locationType: 'parameter' } : {});
export const invalidParam = (name: string, value: string | null, hint?: string): ApiError =>
  new ApiError(400, `Invalid value for ${name}: ${value ?? ''}${hint ? ` (${hint})` : ''}`, 'invalid', { location: name, locationType: 'parameter', itemMessage: `Invalid Value` });
export const required = (name: string): ApiError => new ApiError(400, `Required parameter: ${name}`, 'required', { location: name, locationType: 'parameter' });
export const forbidden = (message: string, reason = 'forbidden'): ApiError => new ApiError(403, message, reason);
export const conflict = (message: string, reason = 'duplicate'): ApiError => new ApiError(409, message, reason);
export const unauthenticated = (): ApiError =>
  new ApiError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    { location: 'Authorization', locationType: 'header', itemMessage: 'Invalid Credentials' },
  );
export const insufficientScopes = (): ApiError =>
  new ApiError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', { itemMessage: 'Insufficient Permission' });
export const notImplemented = (what: string): ApiError => new ApiError(501, `${what} is not implemented by the norestore Google emulator.`, 'notImplemented');
