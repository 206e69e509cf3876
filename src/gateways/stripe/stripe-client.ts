// The SDK client for one gateway, and the single place where requests go out: every call passes the rate
// limiter, carries the caller's idempotency key, and is classified. The SDK's own retries are off
// (maxNetworkRetries: 0; stripe-facts §9: its default is 2, with its own random keys when none is given).
//
// Retry policy: only a `retryable` outcome (proven nothing happened: 429, or a connection that never opened) is
// sent again, with the SAME idempotency key, at most `maxRetries` times, after Retry-After or an exponential
// backoff. `unknown` is never retried here: it is resolved by asking (P12). Note: the SDK itself resends once on
// ECONNRESET/EPIPE even at maxNetworkRetries 0 (stripe-facts §9); it reuses the request's headers, so our key too.
import Stripe from 'stripe';
import type { GatewayOutcome } from '../../app/gateway.js';
import { classifyError } from './classify-error.js';
import { type ExchangeHook, recordingHttpClient } from './exchange.js';
import { SlidingWindowRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface StripeGatewayConfig {
  secretKey: string;
  /** Base URL of a Stripe-compatible API, e.g. http://127.0.0.1:12111 for the emulator. Default: api.stripe.com. */
  apiBase?: string;
  timeoutMs: number;
  rateLimitPerSecond: number;
  /** Resends of a `retryable` outcome (same key). Default 2. */
  maxRetries?: number;
  retryBaseDelayMs?: number; // default 500
  retryMaxDelayMs?: number; // default 5000
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  rateLimiter?: RateLimiter;
  /** Tests: a recording transport. Default: the SDK's Node client. */
  httpClient?: Stripe.StripeConfig['httpClient'];
  /** Sees every HTTP exchange (the gateway log, P13); its failures never affect a call. See exchange.ts. */
  onExchange?: ExchangeHook;
}

export type Sent<T> = { ok: true; value: T } | { ok: false; outcome: GatewayOutcome<never> };

type Protocol = 'http' | 'https';

/** Splits an API base URL into the SDK's host/port/protocol options. */
export function hostOptions(apiBase: string | undefined): { host?: string; port?: number; protocol?: Protocol } {
  if (apiBase === undefined) return {};
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`apiBase must be http(s), got ${apiBase}`);
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`apiBase must not have a path (the SDK adds /v1/): ${apiBase}`);
  const protocol: Protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { host: url.hostname, port, protocol };
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class StripeClient {
  readonly sdk: Stripe;
  readonly #limiter: RateLimiter;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor(config: StripeGatewayConfig) {
    const httpClient = config.onExchange
      ? recordingHttpClient(config.httpClient ?? Stripe.createNodeHttpClient(), config.onExchange)
      : config.httpClient;
    this.sdk = new Stripe(config.secretKey, {
      ...hostOptions(config.apiBase),
      maxNetworkRetries: 0,
      timeout: config.timeoutMs,
      telemetry: false,
      ...(httpClient ? { httpClient } : {}),
    });
    this.#limiter = config.rateLimiter ?? new SlidingWindowRateLimiter({ ratePerSecond: config.rateLimitPerSecond });
    this.#sleep = config.sleep ?? realSleep;
    this.#maxRetries = config.maxRetries ?? 2;
    this.#baseDelayMs = config.retryBaseDelayMs ?? 500;
    this.#maxDelayMs = config.retryMaxDelayMs ?? 5000;
  }

  /** Backoff before resend number `attempt` (0-based): Retry-After when Stripe gave one, else exponential. */
  backoffMs(attempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(retryAfterMs, this.#maxDelayMs * 4);
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** attempt);
  }

  /**
   * Sends one request. `call` receives the per-request options (our idempotency key for writes; none for reads,
   * as Stripe asks: "don't send idempotency keys in GET and DELETE requests").
   */
  async send<T>(idempotencyKey: string | undefined, call: (options: Stripe.RequestOptions) => Promise<T>): Promise<Sent<T>> {
    const options: Stripe.RequestOptions = idempotencyKey === undefined ? {} : { idempotencyKey };
    for (let attempt = 0; ; attempt += 1) {
      await this.#limiter.acquire();
      try {
        return { ok: true, value: await call(options) };
      } catch (error) {
        const outcome = classifyError(error);
        if (outcome.kind !== 'retryable') return { ok: false, outcome };
        const waitMs = this.backoffMs(attempt, outcome.retryAfterMs);
        if (attempt >= this.#maxRetries) return { ok: false, outcome: { ...outcome, retryAfterMs: waitMs } };
        await this.#sleep(waitMs);
      }
    }
  }
}
