// The HTTP front: authentication, Stripe form decoding, routing, faults, idempotency and the request log.
// Order per request (docs.stripe.com/api/idempotent_requests, docs.stripe.com/rate-limits): auth (401) -> route (404)
// -> connection_reset / rate_limit faults
// (nothing done, nothing saved) -> idempotency (replay, mismatch, in-use) -> delay -> server_error (500, saved)
// or the operation -> save idempotent result -> answer, or drop the connection for drop_response.
import { knownApiVersion, PINNED_API_VERSION, renderForVersion } from './api-versions.js';
import { ARRIVED_AT_HEADER } from './arrival-front.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleControl } from './controls-http.js';
import { apiError, authenticationFailed, errorPayload, invalidRequest, rateLimited, StripeApiError } from './errors.js';
import type { FaultInjector } from './faults.js';
import { decodeForm, type FormObject } from './form.js';
import type { IdempotencyLayer } from './idempotency.js';
import { rateLimitExceeded, type RateLimiter } from './rate-limit.js';
import { matchRoute } from './routes.js';
import { randomToken, type EmulatorState } from './state.js';
import { requestAccount, STRIPE_ACCOUNT_HEADER } from './stripe-account.js';
import { runTimeline } from './timeline.js';
import type { WebhookDispatcher } from './webhooks.js';

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number; // 0: the connection was closed without an answer (connection_reset, drop_response)
}

export interface ServerParts {
  state: EmulatorState;
  faults: FaultInjector;
  idempotency: IdempotencyLayer;
  log: RequestLogEntry[];
  webhooks: WebhookDispatcher;
  /** Requests come through the arrival front (arrival-front.ts): log the arrival time it stamped. */
  behindArrivalFront?: boolean;
  /** Stripe's request rate limits (rate-limit.ts), checked after faults and before idempotency. */
  rateLimiter?: RateLimiter;
}

const MAX_BODY = 1 << 20;
const MAX_LOG = 100_000;
const API_VERSION = PINNED_API_VERSION;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw invalidRequest('Request body too large.', undefined, undefined, 413);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The secret key from `Authorization: Bearer sk_test_...` (or HTTP Basic with the key as user name). */
function apiKey(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':')[0] ?? '';
  return header;
}

/** Per emulator state: the emulated second of the last timeline run. */
const lastTimelineRun = new WeakMap<EmulatorState, number>();

export function createHandler(parts: ServerParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(parts, req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(errorPayload(apiError(`Emulator failure: ${String(err)}`))));
      }
    });
  };
}

function arrivedAt(parts: ServerParts, req: IncomingMessage): number {
  if (parts.behindArrivalFront) {
    const stamped = Number(req.headers[ARRIVED_AT_HEADER]);
    if (Number.isSafeInteger(stamped) && stamped > 0) return stamped;
  }
  return Date.now();
}

async function handle(parts: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state, faults, idempotency, log } = parts;
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const path = url.pathname;
  if (path.startsWith('/_emulator/')) return handleControl(parts, method, path, await readBody(req), res);

  const keyHeader = req.headers['idempotency-key'];
  const idemKey = typeof keyHeader === 'string' && keyHeader !== '' ? keyHeader : null;
  const entry: RequestLogEntry = { at: arrivedAt(parts, req), method, path, idempotencyKey: idemKey, status: 0 };
  log.push(entry);
  if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
  const requestId = `req_${randomToken(14)}`;

  const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
    entry.status = status;
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Request-Id': requestId,
      'Stripe-Version': String(req.headers['stripe-version'] ?? API_VERSION),
      // Original-Request names the request that did the work: this one, or on a replay the first (headers below).
      ...(idemKey !== null && method === 'POST' ? { 'Idempotency-Key': idemKey, 'Original-Request': requestId } : {}),
      ...headers,
    });
    // Every answer (replays included) at the request's API version: the one place responses are written.
    const version = req.headers['stripe-version'];
    res.end(renderForVersion(state, typeof version === 'string' ? version : undefined, body));
  };
  const drop = (): void => {
    entry.status = 0;
    req.socket.destroy();
  };

  let release: (() => void) | undefined;
  try {
    const body = await readBody(req);
    const key = apiKey(req);
    // Secret and restricted test keys (docs.stripe.com/keys: sk_test_..., rk_test_...); the emulator has no
    // permissions, so a restricted key may do everything.
    if (key === null || !/^(sk|rk)_test_/.test(key)) throw authenticationFailed(key);
    // Connect (stripe-account.ts): the account the request acts on, checked right after the key.
    const account = requestAccount(state, req.headers[STRIPE_ACCOUNT_HEADER], key);
    const version = req.headers['stripe-version'];
    if (typeof version === 'string' && !knownApiVersion(version)) {
      throw invalidRequest(`Invalid Stripe API version: ${version}`);
    }
    const match = matchRoute(method, path);
    if (match === undefined || match === 'method_not_allowed') {
      throw invalidRequest(`Unrecognized request URL (${method}: ${path}).`, undefined, undefined, 404);
    }
    const params: FormObject = decodeForm(method === 'POST' ? body : url.search.slice(1));
    const fault = faults.take(method, path);
    if (fault?.kind === 'connection_reset') return drop();
    if (fault?.kind === 'rate_limit') throw rateLimited();
    // An endpoint is the method and the route's path template: GETs of different ids share one limit.
    const endpoint = `${method} ${match.route.pattern.source}`;
    if (parts.rateLimiter?.admit(endpoint, state.now().getTime()) === false) throw rateLimitExceeded();
    // Clock-driven changes (timeline.ts) happen on whole seconds of the emulator clock: run them once per
    // emulated second, not on every request (each scan walks every stored object).
    const nowS = state.nowSeconds();
    if (lastTimelineRun.get(state) !== nowS) {
      lastTimelineRun.set(state, nowS);
      runTimeline(state);
    }

    // Idempotency keys are per account, as Stripe keeps them: the same key on two accounts names two requests.
    const scopedKey = idemKey === null || account === null ? idemKey : `${account}:${idemKey}`;
    const decision =
      method === 'POST' && scopedKey !== null ? idempotency.begin(scopedKey, method, path, params) : undefined;
    if (decision?.kind === 'proceed') release = decision.release;
    if (fault?.kind === 'delay') await sleep(fault.delayMs);
    if (decision?.kind === 'replay') {
      const rec = decision.record;
      if (fault?.kind === 'drop_response') return drop();
      return send(rec.status, rec.body, { 'Idempotent-Replayed': 'true', 'Original-Request': rec.requestId });
    }

    let status: number;
    let out: string;
    if (fault?.kind === 'server_error') {
      const err = apiError();
      status = err.status;
      out = errorJson(err, requestId);
    } else {
      try {
        // Events recorded by the handler carry this request (Event.request).
        const context = { id: requestId, idempotency_key: method === 'POST' ? idemKey : null };
        const result = state.withRequest(context, () =>
          state.asAccount(account, () => match.route.handler(state, params, match.id)),
        );
        status = 200;
        out = JSON.stringify(result);
      } catch (err) {
        const e = err instanceof StripeApiError ? err : apiError(`Emulator failure: ${String(err)}`);
        status = e.status;
        out = errorJson(e, requestId);
      }
      if (method === 'POST' || method === 'DELETE') state.scheduleSave();
    }
    if (decision?.kind === 'proceed') decision.finish(status, out, requestId);
    if (fault?.kind === 'drop_response') return drop();
    send(status, out);
  } catch (err) {
    release?.();
    const e = err instanceof StripeApiError ? err : apiError(`Emulator failure: ${String(err)}`);
    send(e.status, e.status === 401 ? JSON.stringify(errorPayload(e)) : errorJson(e, requestId));
  }
}

/**
 * An error body with its request_log_url: the Dashboard's log page of this very request, as Stripe sends on errors
 * (docs.stripe.com/api/errors `request_log_url`: "A URL to the request log entry in your dashboard"). A 401 has none:
 * without a valid key there is no account whose log could hold it.
 */
function errorJson(err: StripeApiError, requestId: string): string {
  return JSON.stringify({
    error: { ...err.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` },
  });
}
