// Stripe-shaped API errors. The body is `{ error: { type, code?, message, param?, ... } }`; the HTTP status picks
// the SDK's error class (docs.stripe.com/api/errors: 400/404 invalid request or idempotency, 401 authentication, 402
// card, 409 conflict, 429 rate limit, 5xx api error). Card declines carry Stripe's own messages (test-cards.ts),
// since those reach customers; other messages are mostly the emulator's wording: rely on `type` and `code`.
// server.ts adds `request_log_url` (https://dashboard.stripe.com/test/logs/<the request's id>) to every error
// body of an authenticated request.

export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  advice_code?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  request_log_url?: string;
}

export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.name = 'StripeApiError';
    this.status = status;
    this.body = body;
  }
}

/** Stripe's error docs live at https://docs.stripe.com/error-codes#<code>; the emulator points there too. */
export function docUrl(code: string): string {
  return `https://docs.stripe.com/error-codes/${code.replace(/_/g, '-')}`;
}

export function invalidRequest(message: string, code?: string, param?: string, status = 400): StripeApiError {
  return new StripeApiError(status, {
    type: 'invalid_request_error',
    message,
    ...(code === undefined ? {} : { code, doc_url: docUrl(code) }),
    ...(param === undefined ? {} : { param }),
  });
}

/** 404 `resource_missing`; Stripe's text has the form "No such <object>: '<id>'". */
export function resourceMissing(objectName: string, id: string, param = 'id'): StripeApiError {
  return invalidRequest(`No such ${objectName}: '${id}'`, 'resource_missing', param, 404);
}

export function parameterUnknown(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, 'parameter_unknown', param);
}

export function parameterMissing(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, 'parameter_missing', param);
}

/** `payment_intent_unexpected_state` (400): the operation is not allowed from the PaymentIntent's status. */
export function unexpectedState(
  action: string,
  status: string,
  allowed: readonly string[],
  pi?: unknown,
): StripeApiError {
  const err = invalidRequest(
    `This PaymentIntent cannot be ${action} while its status is ${status}; ` +
      `allowed statuses: ${allowed.length ? allowed.join(', ') : 'none'}.`,
    'payment_intent_unexpected_state',
  );
  if (pi !== undefined) err.body.payment_intent = pi;
  return err;
}

export function apiError(
  message = 'An error occurred with our connection to Stripe (emulated server error).',
): StripeApiError {
  return new StripeApiError(500, { type: 'api_error', message });
}

export function rateLimited(): StripeApiError {
  return invalidRequest(
    'Too many requests hit the API too quickly (emulated rate limit). Retry with exponential backoff.',
    'rate_limit',
    undefined,
    429,
  );
}

export function authenticationFailed(key: string | null): StripeApiError {
  // Stripe's 401 body has type invalid_request_error and no code (⚠️ secondary sources, e.g. fixerror.dev's
  // api-key-invalid page); the key is shown masked.
  const shown =
    key === null ? null : key.length <= 12 ? `${key.slice(0, 3)}****` : `${key.slice(0, 8)}****${key.slice(-4)}`;
  return new StripeApiError(401, {
    type: 'invalid_request_error',
    message:
      shown === null
        ? 'No API key provided. Send it as a Bearer token in the Authorization header.'
        : `Invalid API Key provided: ${shown}. The emulator accepts any key starting with sk_test_ or rk_test_.`,
  });
}

export function errorPayload(err: StripeApiError): { error: StripeErrorBody } {
  return { error: err.body };
}
