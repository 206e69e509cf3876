// The package's entry point (@settle/stripe-emulator): a stateful Stripe emulator, an HTTP server that speaks the
// part of Stripe's API Settle uses, with Stripe's semantics, so the real `stripe` SDK can be pointed at it:
//   new Stripe('sk_test_x', { host: '127.0.0.1', port: emulator.port, protocol: 'http' })
// It depends on Node alone and imports nothing from Settle (a lint rule keeps it so). What it covers and what it does
// not: README.md and the comments in each module (payment-intents.ts, charge-amounts.ts, refunds.ts, balance.ts,
// idempotency.ts, faults.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ArrivalFront, startArrivalFront } from './arrival-front.js';
import { createControls, type EmulatorControls } from './controls.js';
import { FaultInjector } from './faults.js';
import { configureAccount } from './fx.js';
import { IdempotencyLayer } from './idempotency.js';
import { RateLimiter, STRIPE_TEST_MODE_LIMITS, type RateLimitSettings } from './rate-limit.js';
import { createHandler, type RequestLogEntry, type ServerParts } from './server.js';
import type { WebhookSettings } from './webhooks.js';
import { EmulatorState } from './state.js';
import { runTimeline } from './timeline.js';
import { WebhookDispatcher } from './webhooks.js';

export type { EmulatorControls } from './controls.js';
export type { FaultKind, FaultSpec } from './faults.js';
export type { RequestLogEntry } from './server.js';
export type { RateLimitSettings } from './rate-limit.js';
export { STRIPE_TEST_MODE_LIMITS } from './rate-limit.js';
export type { DashboardRefund } from './controls.js';
export type { CardUpdate } from './payment-method-updates.js';
export type { DeliveryLogEntry, WebhookSettings } from './webhooks.js';
export { achFee, conversionFee } from './balance.js';
export type { AccountSettings } from './fx.js';
export { SETTLEMENT_CURRENCIES } from './fx.js';
export { DISPUTE_FEE } from './disputes.js';
export { stripeFee } from './balance.js';
export { TEST_CARDS } from './test-cards.js';

export interface EmulatorOptions {
  port?: number; // 0 (default) = a free port
  host?: string; // default 127.0.0.1
  stateFile?: string; // JSON persistence; undefined = memory only
  now?: () => Date; // the clock source the emulator's clock offsets from
  /** Webhook delivery settings (default retries 1, 2, 4, 8, 16 s; 10 s timeout). */
  webhooks?: Partial<WebhookSettings>;
  /** How often (ms) clock-driven behaviour catches up with a moving base clock between requests; 0 = never. */
  tickMs?: number;
  /**
   * Date each request in the request log when it arrives, in a thread of its own, instead of when the handler
   * runs (arrival-front.ts). For rate measurements; costs a loopback hop per request.
   */
  arrivalThread?: boolean;
  /**
   * Stripe's request rate limits (rate-limit.ts): true for Stripe's test-mode figures (25 requests/s globally and per
   * endpoint), or other figures; off by default. controls.configureRateLimit changes it later.
   */
  rateLimit?: boolean | RateLimitSettings;
  /**
   * The account's settlement currency (fx.ts): `usd` (default), `eur`, `gbp`, `jpy` or `cad`. Balance transactions
   * are converted into it at fixed rates. controls.configureAccount changes it later (before any balance transaction).
   */
  settlementCurrency?: string;
}

export interface Emulator {
  url: string;
  port: number;
  controls: EmulatorControls;
  /** With arrivalThread: how many requests the front has dated (read through shared memory); 0 without it. */
  arrivalsDated(): number;
  /** Stops the server and writes the state file. */
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const state = new EmulatorState(options.now ?? (() => new Date()), options.stateFile);
  state.load();
  state.timelineMs ??= state.now().getTime();
  if (options.settlementCurrency !== undefined)
    configureAccount(state, { settlementCurrency: options.settlementCurrency });
  const webhooks = new WebhookDispatcher(state);
  if (options.webhooks) webhooks.configure(options.webhooks);
  state.onEvent = (event) => webhooks.enqueue(event);
  webhooks.requeueUndelivered();
  const log: RequestLogEntry[] = [];
  const front = options.arrivalThread === true;
  const parts: ServerParts = {
    state,
    faults: new FaultInjector(),
    idempotency: new IdempotencyLayer(state),
    log,
    webhooks,
    behindArrivalFront: front,
    rateLimiter: new RateLimiter(
      options.rateLimit === true ? STRIPE_TEST_MODE_LIMITS : options.rateLimit === false ? null : options.rateLimit,
    ),
  };
  // Behind the front, the server's only client is the front's connection pool: its connections never time out
  // (keepAliveTimeout 0), so the front never sends a request on a connection the server is closing.
  const server = createServer({ keepAliveTimeout: front ? 0 : 5_000 }, createHandler(parts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(front ? 0 : (options.port ?? 0), front ? '127.0.0.1' : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const serverPort = (server.address() as AddressInfo).port;
  let arrivals: ArrivalFront | undefined;
  try {
    arrivals = front ? await startArrivalFront({ host, port: options.port ?? 0, innerPort: serverPort }) : undefined;
  } catch (error) {
    server.close();
    throw error;
  }
  const port = arrivals?.port ?? serverPort;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closed = false;
  const tickMs = options.tickMs ?? 5_000;
  const tick = tickMs > 0 ? setInterval(() => runTimeline(state), tickMs) : undefined;
  tick?.unref();
  return {
    url: `http://${shownHost}:${port}`,
    port,
    controls: createControls(parts),
    arrivalsDated: () => arrivals?.dated() ?? 0,
    close: async () => {
      if (closed) return;
      closed = true;
      if (tick) clearInterval(tick);
      webhooks.close();
      state.onEvent = null;
      await arrivals?.close();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      state.flush();
    },
  };
}
