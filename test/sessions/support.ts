// Console users for the sessions tests, inserted directly (the users API is tested in test/users/), and signing in.
// One scrypt hash is made once and shared by every user (the salt is inside it): a hash takes about half a second.
import { hashPassword } from '../../src/app/passwords.js';
import { newId } from '../../src/app/ids.js';
import type { UserRole } from '../../src/store/schema.js';
import type { ApiResponse, Harness } from '../support/harness.js';

export const PASSWORD = 'correct horse battery staple';
let shared: Promise<string> | undefined;

export async function insertUser(
  h: Harness,
  email: string,
  role: UserRole,
  options: { disabled?: boolean; mustChangePassword?: boolean } = {},
): Promise<string> {
  shared ??= hashPassword(PASSWORD);
  const id = newId('user');
  const now = h.clock.now();
  await h.deps.db
    .insertInto('users')
    .values({
      id,
      email,
      role,
      password_hash: await shared,
      disabled: options.disabled ?? false,
      must_change_password: options.mustChangePassword ?? false,
      last_sign_in_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

export interface SignedIn {
  response: ApiResponse;
  /** The Cookie header to send back (settle_session=...). */
  cookie: string;
  token: string;
  csrf: string;
}

export function sessionCookieOf(response: ApiResponse): string {
  const header = response.headers['set-cookie'];
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string')
    throw new Error(`no Set-Cookie in ${response.status} ${JSON.stringify(response.body)}`);
  return value;
}

export async function signIn(h: Harness, email: string, password = PASSWORD): Promise<SignedIn> {
  const response = await h.request('POST', '/v1/sessions', { email, password }, {}, null);
  if (response.status !== 201) throw new Error(`sign-in: ${response.status} ${JSON.stringify(response.body)}`);
  const token = /^settle_session=([^;]*)/.exec(sessionCookieOf(response))![1]!;
  return { response, cookie: `settle_session=${token}`, token, csrf: response.body.csrf_token };
}

/** A request through a session (no API key), with the CSRF token when given. */
export function asSession(
  h: Harness,
  session: Pick<SignedIn, 'cookie'>,
  method: string,
  url: string,
  body?: unknown,
  csrf?: string,
): Promise<ApiResponse> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  return h.request(method, url, body, headers, null);
}
