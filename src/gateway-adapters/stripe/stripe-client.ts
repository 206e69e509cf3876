// The SDK client for one gateway, and the single place where requests go out: every HTTP request takes its rate-limit
// turn as it is written (paced-http-client.ts), every call carries the caller's idempotency key and is classified.
// The SDK's own retries are off (maxNetworkRetries: 0; docs/STRIPE.md, "Idempotency and retries": its default is 2,
// with its own random keys when none is given).
//
// Retry policy: only a `retryable` outcome (proven nothing happened: 429, or a connection that never opened) is sent
// again, with the SAME idempotency key, at most `maxRetries` times, after Retry-After or an exponential backoff.
// `unknown` is never retried here: it is resolved by asking (P12). Note: the SDK itself resends once on
// ECONNRESET/EPIPE even at maxNetworkRetries 0 (docs/STRIPE.md, "Idempotency and retries"); it reuses the request's
// headers, so our key too.
//
// Where requests may go: the default transport connects only where the gateway's ConnectPolicy allows (loopback,
// hosts of SETTLE_GATEWAY_API_BASE_ALLOW, api.stripe.com without api_base; gateway-adapters/host-policy.ts). A refused
// connection sent nothing and is a `configuration` outcome: a gateway pointed somewhere it may not go stays so.
import type { LookupFunction } from 'node:net';
import Stripe from 'stripe';
import type { GatewayOutcome } from '../../app/gateway-port.js';
import { type ConnectPolicy, NO_EXTRA_HOSTS } from '../../domain/host-policy.js';
import { gatewayConnectPolicy, hostRefusalOf, systemLookup } from '../host-policy.js';
import { classifyError, localError } from './classify-error.js';
import { type ExchangeHook, type HttpClient, recordingHttpClient } from './exchange.js';
import { PacedHttpClient, RateLimiterFailure } from './paced-http-client.js';
import { SlidingWindowRateLimiter, type RateLimiter } from './rate-limiter.js';

export { RateLimiterFailure } from './paced-http-client.js';

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
  /** Tests: a transport of their own, which takes its turn when handed a request. Default: PacedHttpClient. */
  httpClient?: Stripe.StripeConfig['httpClient'];
  /** Sees every HTTP exchange (the gateway log, P13); its failures never affect a call. See exchange.ts. */
  onExchange?: ExchangeHook;
  /** Where connections may go. Default: loopback only with an apiBase, api.stripe.com (and loopback) without. */
  connectPolicy?: ConnectPolicy;
  /** dns.lookup-compatible resolver (tests). Default: dns.lookup. */
  lookup?: LookupFunction;
  /** The default transport's connection agents (tests: a connector of their own). Default: shared keep-alive agents. */
  agents?: ConstructorParameters<typeof PacedHttpClient>[1];
}

export type Sent<T> = { ok: true; value: T } | { ok: false; outcome: GatewayOutcome<never> };

type Protocol = 'http' | 'https';

/** Splits an API base URL into the SDK's host/port/protocol options. */
export function hostOptions(apiBase: string | undefined): { host?: string; port?: number; protocol?: Protocol } {
  if (apiBase === undefined) return {};
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`apiBase must be http(s), got ${apiBase}`);
  if (url.pathname !== '/' && url.pathname !== '')
    throw new Error(`apiBase must not have a path (the SDK adds /v1/): ${apiBase}`);
  const protocol: Protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { host: url.hostname, port, protocol };
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A transport of the caller's own (tests) behind the limiter: each HTTP request takes a turn and uses it when it is
 * handed to the transport, which cannot tell when its bytes leave. The default transport, PacedHttpClient, checks the
 * turn at the write instead. Every HTTP request counts: the retries below and the SDK's own resend of a reset
 * connection (docs/STRIPE.md, "Idempotency and retries") each take a turn.
 */
export function rateLimitedHttpClient(inner: HttpClient, limiter: RateLimiter): HttpClient {
  const wrapper = Object.create(inner) as HttpClient;
  wrapper.makeRequest = async (...args) => {
    for (;;) {
      let turn;
      try {
        turn = await limiter.acquire();
      } catch (error) {
        throw new RateLimiterFailure(error);
      }
      if (turn.use()) return inner.makeRequest(...args);
    }
  };
  return wrapper;
}

/** The limiter failure under an SDK error (the SDK wraps what makeRequest throws in a StripeConnectionError). */
function limiterFailure(error: unknown): RateLimiterFailure | null {
  if (error instanceof RateLimiterFailure) return error;
  if (error instanceof Stripe.errors.StripeConnectionError && error.detail instanceof RateLimiterFailure)
    return error.detail;
  return null;
}

export class StripeClient {
  readonly sdk: Stripe;
  /**
   * Connect (M6): the connected account every request acts on (the SDK's `stripeAccount` option, the `Stripe-Account`
   * header; docs.stripe.com/connect/authentication); null for the platform. See forAccount.
   */
  readonly account: string | null;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor(config: StripeGatewayConfig | { platform: StripeClient; account: string }) {
    if ('platform' in config) {
      const scope = config;
      // The platform's SDK (so its transport and rate limiters) and retry policy; only the header differs.
      this.sdk = scope.platform.sdk;
      this.account = scope.account;
      this.#sleep = scope.platform.#sleep;
      this.#maxRetries = scope.platform.#maxRetries;
      this.#baseDelayMs = scope.platform.#baseDelayMs;
      this.#maxDelayMs = scope.platform.#maxDelayMs;
      return;
    }
    this.account = null;
    const limiter = config.rateLimiter ?? new SlidingWindowRateLimiter({ ratePerSecond: config.rateLimitPerSecond });
    const guard = {
      policy: config.connectPolicy ?? gatewayConnectPolicy(config.apiBase ?? null, NO_EXTRA_HOSTS),
      lookup: config.lookup ?? systemLookup,
    };
    const transport = config.httpClient
      ? rateLimitedHttpClient(config.httpClient, limiter)
      : new PacedHttpClient(limiter, config.agents, guard);
    // The gateway log's latency starts when the request was written (PacedHttpClient says when), not when it queued.
    this.sdk = new Stripe(config.secretKey, {
      ...hostOptions(config.apiBase),
      maxNetworkRetries: 0,
      timeout: config.timeoutMs,
      telemetry: false,
      httpClient: config.onExchange ? recordingHttpClient(transport, config.onExchange) : transport,
    });
    this.#sleep = config.sleep ?? realSleep;
    this.#maxRetries = config.maxRetries ?? 2;
    this.#baseDelayMs = config.retryBaseDelayMs ?? 500;
    this.#maxDelayMs = config.retryMaxDelayMs ?? 5000;
  }

  /** The same client acting on connected account `account`: every request it sends carries the Stripe-Account header. */
  forAccount(account: string): StripeClient {
    return new StripeClient({ platform: this, account });
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
  async send<T>(
    idempotencyKey: string | undefined,
    call: (options: Stripe.RequestOptions) => Promise<T>,
  ): Promise<Sent<T>> {
    const options: Stripe.RequestOptions = {
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      ...(this.account === null ? {} : { stripeAccount: this.account }),
    };
    for (let attempt = 0; ; attempt += 1) {
      try {
        return { ok: true, value: await call(options) };
      } catch (error) {
        // Nothing left this machine: the caller gets the limiter's error, as it did before anything was sent.
        const failure = limiterFailure(error);
        if (failure) throw failure.cause;
        // A host or address the gateway may not reach: nothing was sent, and sending again would not change that.
        const refused = hostRefusalOf(error);
        if (refused)
          return {
            ok: false,
            outcome: { kind: 'configuration', error: localError('gateway_host_refused', refused.message) },
          };
        const outcome = classifyError(error);
        if (outcome.kind !== 'retryable') return { ok: false, outcome };
        const waitMs = this.backoffMs(attempt, outcome.retryAfterMs);
        if (attempt >= this.#maxRetries) return { ok: false, outcome: { ...outcome, retryAfterMs: waitMs } };
        await this.#sleep(waitMs);
      }
    }
  }
}
