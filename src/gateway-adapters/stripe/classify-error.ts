// Stripe errors -> the port's outcome classes (docs/STRIPE.md: "Idempotency and retries", "Rate limits",
// "Errors and declines").
//
// | SDK error                                   | outcome          | why                                              |
// |---------------------------------------------|------------------|--------------------------------------------------|
// | StripeCardError (402)                       | declined         | the issuer said no; code + decline_code kept     |
// | StripeRateLimitError (429, 400 rate_limit)  | retryable        | rate limiters run before the idempotency layer   |
// | StripeConnectionError, not connected        | retryable        | no byte of the request left this machine         |
// | StripeConnectionError, anything else        | unknown          | the request may have reached Stripe              |
// | StripeAPIError 409 idempotency_error        | invalid_request  | key reused with other parameters                 |
// | StripeAPIError 409 (key in use), 5xx, other | unknown          | Stripe may have acted (a 500 replays for the key)|
// | StripeIdempotencyError (400/404)            | invalid_request  | key reused with other parameters                 |
// | StripeInvalidRequestError (400/404)         | invalid_request  | "already captured/canceled" is handled upstream  |
// | StripeAuthenticationError / Permission      | configuration    | wrong key, wrong account or restricted key       |
// | a ValidationError from our own checks       | invalid_request  | nothing was sent                                 |
// | anything else                               | unknown          | conservative: we cannot prove nothing happened   |
import Stripe from 'stripe';
import type { GatewayError, GatewayOutcome, GatewayRefs } from '../../app/gateway-port.js';
import { isSettleError } from '../../domain/errors.js';
import { wasNotSent } from './paced-http-client.js';

/**
 * How a connection error tells "never sent" from "maybe sent": the SDK wraps the socket error in
 * StripeConnectionError.detail. Our own transport (paced-http-client.ts) marks every error it raised before writing
 * the request (NOT_SENT), whatever its code: a refused or timed-out connect, a connection closed before its turn.
 * Without that mark, these codes are raised while resolving or opening the connection, before the request is
 * written, so Stripe cannot have seen it. Everything else is treated as unknown:
 * - ECONNRESET / EPIPE / 'socket hang up': the socket died after it was open. A stale keep-alive socket also
 *   ends this way before Stripe read anything, but we cannot tell that from "Stripe processed it and the reply
 *   was lost", so it is unknown (the SDK already resends once itself, with the same Idempotency-Key).
 * - ETIMEDOUT (the SDK's own `timeout`): the timer covers connect + send + wait, so the request may have
 *   been received and processed.
 * - a body cut off after the headers arrived (HttpClientResponseBodyError): Stripe answered, so it acted.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', // nothing listening: the TCP handshake was refused
  'ENOTFOUND', // DNS: no such host
  'EAI_AGAIN', // DNS: temporary failure
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
  'CERT_HAS_EXPIRED', // TLS handshake failures: the request is sent only after the handshake
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The socket-level code under a StripeConnectionError, if any. */
export function connectionErrorCode(error: Stripe.errors.StripeConnectionError): string | null {
  const detail: unknown = error.detail;
  if (detail && typeof detail === 'object' && 'code' in detail && typeof detail.code === 'string') return detail.code;
  return null;
}

export function wasNeverSent(error: Stripe.errors.StripeConnectionError): boolean {
  if (wasNotSent(error.detail)) return true;
  const code = connectionErrorCode(error);
  return code !== null && NOT_SENT_CODES.has(code);
}

export const noRefs = (): GatewayRefs => ({
  payment_intent: null,
  charge: null,
  balance_transaction: null,
  refund: null,
});

export function gatewayError(error: Stripe.errors.StripeError): GatewayError {
  return {
    code: error.code ?? null,
    decline_code: error.decline_code ?? null,
    message: error.message || 'Stripe returned an error without a message.',
    type: error.rawType ?? null,
    advice_code: error.advice_code ?? null,
    network_decline_code: error.network_decline_code ?? null,
    param: error.param ?? null,
    http_status: error.statusCode ?? null,
    request_id: error.requestId ?? null,
  };
}

export function localError(
  code: string,
  message: string,
  type: string | null = null,
  param: string | null = null,
): GatewayError {
  return {
    code,
    decline_code: null,
    message,
    type,
    advice_code: null,
    network_decline_code: null,
    param,
    http_status: null,
    request_id: null,
  };
}

/** Retry-After (seconds) from a 429, in ms; null when absent or unreadable. */
export function retryAfterMs(error: Stripe.errors.StripeError): number | null {
  const raw = error.headers?.['retry-after'];
  if (raw === undefined) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** Ids a card error names: the PaymentIntent (an object on the error) and the failed charge. */
function declineRefs(error: Stripe.errors.StripeError): GatewayRefs {
  const intent: unknown = error.payment_intent;
  const intentId =
    intent && typeof intent === 'object' && 'id' in intent && typeof intent.id === 'string' ? intent.id : null;
  return { ...noRefs(), payment_intent: intentId, charge: error.charge ?? null };
}

/**
 * Classifies anything a Stripe call threw. Results for "already in the wanted state" are decided by the caller
 * (it re-retrieves the object), so this never returns `succeeded`.
 */
export function classifyError(error: unknown): GatewayOutcome<never> {
  if (isSettleError(error)) {
    return {
      kind: 'invalid_request',
      error: localError(error.code, error.message, 'settle_validation', error.param ?? null),
    };
  }
  if (!(error instanceof Stripe.errors.StripeError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'unknown', error: localError('unexpected_error', `Unexpected error calling Stripe: ${message}`) };
  }
  const details = gatewayError(error);
  if (error instanceof Stripe.errors.StripeCardError) {
    return { kind: 'declined', error: details, refs: declineRefs(error), result: null };
  }
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    return { kind: 'retryable', error: details, retryAfterMs: retryAfterMs(error) };
  }
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return wasNeverSent(error)
      ? { kind: 'retryable', error: { ...details, code: connectionErrorCode(error) }, retryAfterMs: null }
      : { kind: 'unknown', error: { ...details, code: connectionErrorCode(error) ?? 'connection_error' } };
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError || error.rawType === 'idempotency_error') {
    return { kind: 'invalid_request', error: idempotencyMismatch(details) };
  }
  if (
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError
  ) {
    return { kind: 'configuration', error: details };
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    return { kind: 'invalid_request', error: details };
  }
  if (error.statusCode === 429) {
    return { kind: 'retryable', error: details, retryAfterMs: retryAfterMs(error) };
  }
  // StripeAPIError (5xx, 409 idempotency_key_in_use, 424, invalid JSON) and any newer error class.
  return { kind: 'unknown', error: details };
}

function idempotencyMismatch(details: GatewayError): GatewayError {
  return {
    ...details,
    code: details.code ?? 'idempotency_key_reused',
    message:
      'Stripe refused the request: its idempotency key was already used for a request with other parameters or ' +
      `another endpoint. A different request needs a key from a new attempt. Stripe said: ${details.message}`,
  };
}
