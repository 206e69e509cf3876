// Stripe's request rate limits, off unless asked for (startEmulator({ rateLimit }), `--rate-limit`, or
// controls.configureRateLimit). docs.stripe.com/rate-limits: a global limit per account (sandbox 25 requests/s,
// live mode 100) and, for individual endpoints "unless otherwise stated", 25 requests/s, where an endpoint is one
// operation: `POST /v1/payment_intents` and `GET /v1/payment_intents/{id}` count apart, and GETs of different ids
// share one limit. Here an endpoint is the method and the route's path template.
//
// Counting: each limit is a sliding window of one second on the emulator clock (state.now(), which tests fix or
// move with advanceClock, so a test sees the same answer on every run). A request is admitted when fewer than the
// limit were admitted in the second before it, globally and on its endpoint; a refused request is not counted.
// Refusal happens before idempotency (a 429 is not saved under its key: docs.stripe.com/api/idempotent_requests) and
// changes nothing. The body, as Stripe sends it in test mode (quoted in
// github.com/lukasaron/terraform-provider-stripe/issues/40; type and code also in codecombat/codecombat#2588):
// HTTP 429, type invalid_request_error, code rate_limit.
import { StripeApiError } from './errors.js';

export interface RateLimitSettings {
  /** Requests per second for the whole account (Stripe's sandbox: 25). */
  globalPerSecond: number;
  /** Requests per second for each endpoint (Stripe's default: 25). */
  endpointPerSecond: number;
}

export const STRIPE_TEST_MODE_LIMITS: RateLimitSettings = Object.freeze({ globalPerSecond: 25, endpointPerSecond: 25 });

const WINDOW_MS = 1000;

export function rateLimitExceeded(): StripeApiError {
  return new StripeApiError(429, {
    type: 'invalid_request_error',
    code: 'rate_limit',
    doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
    message:
      'Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. ' +
      'You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
  });
}

function checkSettings(settings: RateLimitSettings): RateLimitSettings {
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`rate limit ${name} must be a positive integer`);
  }
  return { globalPerSecond: settings.globalPerSecond, endpointPerSecond: settings.endpointPerSecond };
}

export class RateLimiter {
  private settings: RateLimitSettings | null = null;
  private global: number[] = [];
  private readonly endpoints = new Map<string, number[]>();

  constructor(settings?: RateLimitSettings | null) {
    this.configure(settings ?? null);
  }

  /** Turns the limits on (with these figures) or off (null); forgets what was counted. */
  configure(settings: RateLimitSettings | null): RateLimitSettings | null {
    this.settings = settings === null ? null : checkSettings(settings);
    this.global = [];
    this.endpoints.clear();
    return this.settings;
  }

  current(): RateLimitSettings | null {
    return this.settings === null ? null : { ...this.settings };
  }

  /** Counts a request to `endpoint` at emulator time `nowMs`; returns false (and counts nothing) when over a limit. */
  admit(endpoint: string, nowMs: number): boolean {
    const settings = this.settings;
    if (settings === null) return true;
    const since = nowMs - WINDOW_MS;
    this.global = this.global.filter((t) => t > since);
    const ofEndpoint = (this.endpoints.get(endpoint) ?? []).filter((t) => t > since);
    this.endpoints.set(endpoint, ofEndpoint);
    if (this.global.length >= settings.globalPerSecond || ofEndpoint.length >= settings.endpointPerSecond) return false;
    this.global.push(nowMs);
    ofEndpoint.push(nowMs);
    return true;
  }
}
