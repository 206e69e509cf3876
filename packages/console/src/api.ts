// The console's one way to the server: the documented /v1 API, same origin, with the session cookie (HttpOnly: the
// browser sends it, no script reads it). Writes send the session's CSRF token, which the sign-in answer gave and
// which this tab keeps in localStorage (other tabs of the console share it), and an Idempotency-Key of their own.

const CSRF_KEY = 'settle.csrf';

export interface ApiErrorBody {
  type: string;
  code: string;
  message: string;
  param?: string;
  current?: string;
  allowed?: string[];
}

/** A refusal from the API (its error shape), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ApiErrorBody | undefined;
  constructor(status: number, body: ApiErrorBody | undefined, fallback: string) {
    super(body?.message ?? fallback);
    this.status = status;
    this.code = body?.code ?? 'network_error';
    this.body = body;
  }
}

export interface ApiList<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface ApiAnswer<T> {
  status: number;
  data: T;
}

export function setCsrfToken(token: string | null): void {
  if (token === null) localStorage.removeItem(CSRF_KEY);
  else localStorage.setItem(CSRF_KEY, token);
}

export function hasCsrfToken(): boolean {
  return localStorage.getItem(CSRF_KEY) !== null;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `path` with the query's defined, non-empty values. */
export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** Called when the API says the session is gone (401): the app shows the sign-in page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/**
 * One API call. GETs and HEADs are reads; anything else is a write with the CSRF token and a fresh Idempotency-Key
 * (one per call: a retried action is a new call the user chose to make). Non-2xx answers throw ApiError.
 */
export async function request<T>(
  method: string,
  path: string,
  options: { body?: unknown; query?: Query; accept?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
  const write = method !== 'GET' && method !== 'HEAD';
  if (write) {
    const csrf = localStorage.getItem(CSRF_KEY);
    if (csrf !== null) headers['X-CSRF-Token'] = csrf;
    headers['Idempotency-Key'] = crypto.randomUUID();
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, undefined, `Settle could not be reached (${String(error)}).`);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  else parsed = text;
  if (!response.ok) {
    const error = (parsed as { error?: ApiErrorBody } | undefined)?.error;
    if (response.status === 401 && path !== '/v1/sessions') onSignedOut();
    throw new ApiError(response.status, error, `${response.status} ${response.statusText}`);
  }
  return { status: response.status, data: parsed as T };
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }).then((answer) => answer.data),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
};
