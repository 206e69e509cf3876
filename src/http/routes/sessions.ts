// /v1/sessions (X3, issue 21): console sign-in, the current session, sign-out and changing one's own password. The
// rules are app/sessions.ts; how a session authenticates later requests (the cookie, the CSRF token, the password a
// user must change first) is http/auth.ts. The session token travels only in the cookie, which JavaScript cannot
// read (HttpOnly), is never sent cross-site (SameSite=Strict) and is Secure when the request came over https,
// directly or through a proxy trusted by SETTLE_TRUST_PROXY (request.protocol follows X-Forwarded-Proto only then).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  changeOwnPassword,
  currentSession,
  SESSION_COOKIE,
  sessionRequired,
  signIn,
  SignInAddressLimit,
  SignInRateLimitedError,
  SignInThrottledError,
  signOut,
} from '../../app/sessions.js';
import type { Deps } from '../../app/deps.js';
import { Deleted } from '../schemas/common.js';
import type { ActiveSession } from '../../app/sessions.js';
import {
  ChangePasswordBody,
  SessionCreatedSchema,
  SessionSchema,
  sessionErrors,
  SignInBody,
  signInErrors,
} from '../schemas/session.js';

const tags = ['sessions'];

/** The session cookie's attributes; Secure when this request came over https (as Fastify judges it). */
function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** The session the request came through, or 401 session_required (an API key has none). */
function requireSession(request: FastifyRequest): ActiveSession {
  if (request.principal?.via !== 'session' || !request.session) throw sessionRequired();
  return request.session;
}

/** Sends a throttled sign-in's Retry-After with its 429. */
async function withRetryAfter<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SignInThrottledError || error instanceof SignInRateLimitedError)
      reply.header('Retry-After', String(error.retryAfterSeconds));
    throw error;
  }
}

export function sessionRoutes(deps: Deps): FastifyPluginAsyncTypebox {
  // Per app (so per process): sign-in attempts per client address (request.ip: the proxy's client address only
  // with SETTLE_TRUST_PROXY).
  const addressLimit = new SignInAddressLimit(deps.clock);
  return async (app) => {
    app.post(
      '/v1/sessions',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Sign in to the console',
          description:
            "Checks a console user's email and password and opens a session for 12 hours: the answer sets the settle_session cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https) and carries the CSRF token that writes through the session send in X-CSRF-Token. A wrong email or password and a disabled user are all 401 invalid_credentials. After 5 failures for an email within 15 minutes each further attempt waits 2^n seconds after the latest failure (n = failures beyond 4; at most 15 minutes): 429 sign_in_throttled with Retry-After. One client address may make at most 20 attempts within any 60 seconds, whatever the emails (counted in each server process's memory): further ones are 429 rate_limited with Retry-After. API keys are not for this route and are not needed.",
          body: SignInBody,
          security: [],
          response: { 201: SessionCreatedSchema, ...signInErrors },
        },
      },
      async (request, reply) => {
        const signedIn = await withRetryAfter(reply, () => {
          addressLimit.admit(request.ip);
          return signIn(deps, request.body);
        });
        const maxAge = Math.floor((signedIn.expiresAt.getTime() - deps.clock.now().getTime()) / 1000);
        reply.header('Set-Cookie', cookie(request, signedIn.token, maxAge));
        reply.header('Cache-Control', 'no-store');
        return reply.code(201).send({ ...signedIn.session, csrf_token: signedIn.csrfToken });
      },
    );

    app.get(
      '/v1/sessions/current',
      {
        config: { scope: 'read', allowBeforePasswordChange: true },
        schema: {
          tags,
          summary: 'The current console session',
          description:
            'The signed-in user, when the session was last used (last_seen_at, written at most once a minute) and when it ends. Needs a session (an API key: 401 session_required).',
          response: { 200: SessionSchema, ...sessionErrors },
        },
      },
      async (request) => currentSession(deps, requireSession(request).id),
    );

    app.delete(
      '/v1/sessions/current',
      {
        config: { scope: 'read', allowBeforePasswordChange: true },
        schema: {
          tags,
          summary: 'Sign out',
          description:
            'Ends the current session (its cookie no longer works, here or anywhere) and clears the cookie. Send X-CSRF-Token like any write.',
          response: { 200: Deleted, ...sessionErrors },
        },
      },
      async (request, reply) => {
        const { id } = requireSession(request);
        await signOut(deps, id);
        reply.header('Set-Cookie', cookie(request, '', 0));
        return { id, object: 'session', deleted: true };
      },
    );

    app.post(
      '/v1/sessions/current/password',
      {
        config: { scope: 'read', allowBeforePasswordChange: true },
        schema: {
          tags,
          summary: 'Change your own password',
          description:
            "Sets the signed-in user's password (12 to 256 characters, not the current one) given the current one, clears must_change_password and ends the user's other sessions. A wrong current password is 400 invalid_current_password and counts as a failed sign-in (the same back-off, 429 sign_in_throttled). Send X-CSRF-Token like any write.",
          body: ChangePasswordBody,
          response: { 200: SessionSchema, ...sessionErrors },
        },
      },
      async (request, reply) => {
        const session = requireSession(request);
        return withRetryAfter(reply, () => changeOwnPassword(deps, session, request.body));
      },
    );
  };
}
