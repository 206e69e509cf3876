// The Stripe gateway adapter: the port's implementation over the official `stripe` SDK.
export { StripeGateway, CUSTOMER_REFERENCE_METADATA_KEY, PAYMENT_EXPAND } from './stripe-gateway.js';
export { StripeClient, hostOptions, type StripeGatewayConfig } from './stripe-client.js';
export { classifyError, wasNeverSent } from './classify-error.js';
export { SlidingWindowRateLimiter, unlimited, type RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export {
  SharedRateLimiter,
  type SharedRateLimiterOptions,
  type SharedRateLimiterStats,
} from './shared-rate-limiter.js';
export {
  inOperation,
  recordingHttpClient,
  decodeForm,
  type StripeExchange,
  type ExchangeHook,
  type GatewayOperation,
} from './exchange.js';
export { exchangeLogEntry } from './exchange-log.js';
