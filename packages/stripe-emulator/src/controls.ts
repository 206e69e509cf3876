// In-process test controls; controls-http.ts exposes the same operations under /_emulator/.
import { closeDispute } from './disputes.js';
import { faultFromJson, type FaultSpec } from './faults.js';
import { configureAccount, type AccountSettings } from './fx.js';
import type { FormObject } from './form.js';
import { updateCardDetails, type CardUpdate } from './payment-method-updates.js';
import { failNextPayout, runPayouts } from './payouts.js';
import { RateLimiter, STRIPE_TEST_MODE_LIMITS, type RateLimitSettings } from './rate-limit.js';
import { createRefund } from './refunds.js';
import { authenticateSetupIntent } from './setup-intents.js';
import { render } from './render.js';
import type { RequestLogEntry, ServerParts } from './server.js';
import { NO_REQUEST } from './state.js';
import { runTimeline } from './timeline.js';
import type { DeliveryLogEntry, WebhookSettings } from './webhooks.js';

type Json = Record<string, unknown>;

export interface DashboardRefund {
  payment_intent?: string;
  charge?: string;
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
}

export interface EmulatorControls {
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Moves the emulator's clock forward, running what time does in time order (timeline.ts). */
  advanceClock(ms: number): void;
  now(): Date;
  requestLog(): RequestLogEntry[];
  /** Forgets all objects, events, idempotency records, queued webhook deliveries and the delivery log (faults,
   * webhook settings, the clock and the request log are kept). */
  reset(): void;
  /** Webhook test switches: duplicateRate, shuffle, hold, retryDelaysMs, timeoutMs. Returns the settings. */
  configureWebhooks(settings: Partial<WebhookSettings>): WebhookSettings;
  /** Sends every queued delivery now (also while hold is on). */
  flushWebhooks(): void;
  webhookDeliveries(): DeliveryLogEntry[];
  /** Resolves when no delivery is queued for sending (held ones excepted), in flight or waiting to retry. */
  settleWebhooks(): Promise<void>;
  /** A refund made in the Dashboard: POST /v1/refunds rules, no metadata, no idempotency, request.id null. */
  dashboardRefund(refund: DashboardRefund): Json;
  /** Decides a dispute: won (funds reinstated) or lost. */
  closeDispute(id: string, outcome: 'won' | 'lost'): Json;
  /** Runs the automatic payout now (as at a UTC midnight). Returns the payouts created. */
  runPayouts(): Json[];
  /** The next payout fails at its arrival date with this failure code. */
  failNextPayout(code?: string): void;
  /** Turns Stripe's request rate limits on (these figures; true: 25/s globally and per endpoint) or off (null or
   * false), forgetting what was counted. Returns the limits in force. */
  configureRateLimit(settings: RateLimitSettings | boolean | null): RateLimitSettings | null;
  /** The account's settings ({settlementCurrency}: usd, eur, gbp, jpy or cad; fx.ts). Throws, changing nothing, for
   * an unknown currency or a change once balance transactions exist. Returns the settings; {} just reads them. */
  configureAccount(settings?: Partial<AccountSettings>): AccountSettings;
  /** Changes a card's expiry (and last4) as the network's account updater does. */
  updatePaymentMethod(id: string, update: CardUpdate): Json;
  /** The customer completes (`succeed`) or fails (`fail`) a requires_action SetupIntent's 3-D Secure step. */
  authenticateSetupIntent(id: string, outcome: 'succeed' | 'fail'): Json;
}

export function createControls(parts: ServerParts): EmulatorControls {
  const { state, faults, log, webhooks } = parts;
  const act = <T>(fn: () => T): T => {
    runTimeline(state); // catch up with the clock first
    const out = state.withRequest(NO_REQUEST, fn);
    state.scheduleSave();
    return out;
  };
  // Connect: an action on an object acts on the account that owns it (state.ts), so what it makes is that account's
  // and its events carry `account`; unknown ids act on the platform (and are not found).
  const actOn = <T>(id: string | undefined, fn: () => T): T =>
    act(() => state.asAccount(id === undefined ? null : state.ownerOf(id), fn));
  return {
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    advanceClock: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceClock needs a non-negative number of milliseconds');
      const target = state.now().getTime() + ms;
      runTimeline(state, target);
      state.setNow(target);
      parts.idempotency.prune();
      state.scheduleSave();
    },
    now: () => state.now(),
    requestLog: () => log.map((e) => ({ ...e })),
    reset: () => {
      state.reset();
      webhooks.reset();
    },
    configureWebhooks: (settings) => webhooks.configure(settings),
    flushWebhooks: () => webhooks.flush(),
    webhookDeliveries: () => webhooks.log.map((e) => ({ ...e })),
    settleWebhooks: () => webhooks.settle(),
    dashboardRefund: (refund) => {
      const params: FormObject = {};
      for (const [k, v] of Object.entries(refund)) if (v !== undefined) params[k] = String(v);
      return actOn(refund.payment_intent ?? refund.charge, () => render(state, createRefund(state, params, true)));
    },
    closeDispute: (id, outcome) => {
      if (outcome !== 'won' && outcome !== 'lost') throw new Error("outcome must be 'won' or 'lost'");
      return actOn(id, () => render(state, closeDispute(state, id, outcome)));
    },
    runPayouts: () => actOn(undefined, () => runPayouts(state).map((p) => render(state, p))), // the platform's
    failNextPayout: (code = 'account_closed') => failNextPayout(state, code),
    configureRateLimit: (settings) =>
      (parts.rateLimiter ??= new RateLimiter()).configure(
        settings === true ? STRIPE_TEST_MODE_LIMITS : settings === false ? null : settings,
      ),
    configureAccount: (settings = {}) => act(() => configureAccount(state, settings)),
    updatePaymentMethod: (id, update) => actOn(id, () => render(state, updateCardDetails(state, id, update))),
    authenticateSetupIntent: (id, outcome) =>
      actOn(id, () => render(state, authenticateSetupIntent(state, id, outcome))),
  };
}

export { faultFromJson };
