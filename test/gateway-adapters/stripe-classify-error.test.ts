// Error classification from SDK error objects (docs/STRIPE.md: "Idempotency and retries", "Rate
// limits", "Errors and declines").
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { classifyError, wasNeverSent } from '../../src/gateway-adapters/stripe/classify-error.js';

const E = Stripe.errors;

function connectionError(code: string | undefined): Stripe.errors.StripeConnectionError {
  const detail = Object.assign(new Error(code ?? 'boom'), code === undefined ? {} : { code });
  return new E.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.', detail });
}

describe('classifyError', () => {
  it('a card error is declined, with code, decline_code, advice and the ids it names', () => {
    const outcome = classifyError(
      new E.StripeCardError({
        type: 'card_error',
        message: 'Your card has insufficient funds.',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        advice_code: 'try_again_later',
        network_decline_code: '51',
        charge: 'ch_1',
        payment_intent: { id: 'pi_1' },
        statusCode: 402,
        requestId: 'req_1',
      } as never),
    );
    expect(outcome).toMatchObject({
      kind: 'declined',
      refs: { payment_intent: 'pi_1', charge: 'ch_1' },
      error: {
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        advice_code: 'try_again_later',
        network_decline_code: '51',
        type: 'card_error',
        http_status: 402,
        request_id: 'req_1',
      },
    });
  });

  it('a 429 is retryable and carries Retry-After in ms', () => {
    const outcome = classifyError(
      new E.StripeRateLimitError({ message: 'Too many requests', statusCode: 429, headers: { 'retry-after': '2' } }),
    );
    expect(outcome).toMatchObject({ kind: 'retryable', retryAfterMs: 2000, error: { http_status: 429 } });
    const noHint = classifyError(new E.StripeRateLimitError({ message: 'Too many', statusCode: 429 }));
    expect(noHint).toMatchObject({ kind: 'retryable', retryAfterMs: null });
  });

  it('a connection that never opened is retryable; a reset, a timeout or an unknown cause is unknown', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']) {
      expect(wasNeverSent(connectionError(code))).toBe(true);
      expect(classifyError(connectionError(code))).toMatchObject({ kind: 'retryable', error: { code } });
    }
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', undefined]) {
      expect(classifyError(connectionError(code)).kind).toBe('unknown');
    }
  });

  it('5xx and other API errors are unknown: Stripe may have acted', () => {
    for (const statusCode of [500, 502, 503, 504, 424]) {
      expect(classifyError(new E.StripeAPIError({ type: 'api_error', message: 'x', statusCode } as never)).kind).toBe(
        'unknown',
      );
    }
    const inUse = new E.StripeAPIError({
      type: 'invalid_request_error',
      code: 'idempotency_key_in_use',
      message: 'x',
      statusCode: 409,
    } as never);
    expect(classifyError(inUse).kind).toBe('unknown');
  });

  it('an idempotency mismatch is invalid_request with a clear message (400 and 409 forms)', () => {
    const four00 = classifyError(
      new E.StripeIdempotencyError({
        type: 'idempotency_error',
        message: 'Keys for idempotent requests can only be used with the same parameters',
        statusCode: 400,
      } as never),
    );
    expect(four00).toMatchObject({ kind: 'invalid_request' });
    if (four00.kind !== 'invalid_request') throw new Error('unreachable');
    expect(four00.error.message).toMatch(/idempotency key was already used/);
    const four09 = classifyError(
      new E.StripeAPIError({ type: 'idempotency_error', message: 'x', statusCode: 409 } as never),
    );
    expect(four09.kind).toBe('invalid_request');
  });

  it('invalid requests stay invalid_request; authentication and permission errors are configuration', () => {
    const invalid = classifyError(
      new E.StripeInvalidRequestError({
        type: 'invalid_request_error',
        code: 'amount_too_large',
        param: 'amount',
        message: 'x',
        statusCode: 400,
      } as never),
    );
    expect(invalid).toMatchObject({ kind: 'invalid_request', error: { code: 'amount_too_large', param: 'amount' } });
    expect(classifyError(new E.StripeAuthenticationError({ message: 'Invalid API Key', statusCode: 401 })).kind).toBe(
      'configuration',
    );
    expect(classifyError(new E.StripePermissionError({ message: 'restricted', statusCode: 403 })).kind).toBe(
      'configuration',
    );
  });

  it('our own validation errors are invalid_request (nothing was sent); anything unexpected is unknown', () => {
    expect(classifyError(new ValidationError('amount_too_small', 'too small', 'amount'))).toMatchObject({
      kind: 'invalid_request',
      error: { code: 'amount_too_small', param: 'amount', type: 'settle_validation' },
    });
    expect(classifyError(new TypeError('bug')).kind).toBe('unknown');
  });

  it('generateV1Error maps status codes to the classes above (sanity check of the SDK we rely on)', () => {
    const gen = (statusCode: number, extra: object = {}): string =>
      classifyError(E.generateV1Error({ message: 'm', statusCode, ...extra })).kind;
    expect(gen(402, { type: 'card_error' })).toBe('declined');
    expect(gen(429)).toBe('retryable');
    expect(gen(400, { code: 'rate_limit' })).toBe('retryable');
    expect(gen(400)).toBe('invalid_request');
    expect(gen(404)).toBe('invalid_request');
    expect(gen(401)).toBe('configuration');
    expect(gen(403)).toBe('configuration');
    expect(gen(500)).toBe('unknown');
  });
});
