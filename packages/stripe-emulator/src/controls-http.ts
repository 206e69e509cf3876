// HTTP form of the test controls (no API key needed; the emulator is for local use):
//   POST   /_emulator/faults          {"path": "/v1/refunds" | {"regex": "^/v1/payment_intents"}, "kind": ..., ...}
//   DELETE /_emulator/faults
//   POST   /_emulator/clock/advance   {"ms": 86400000}
//   GET    /_emulator/clock           {"now": "<ISO time>"}
//   GET    /_emulator/requests        [{at, method, path, idempotencyKey, status}, ...]
//   POST   /_emulator/reset
//   POST   /_emulator/webhooks/config {"duplicateRate"?: 0..1, "shuffle"?: bool, "hold"?: bool,
//                                      "retryDelaysMs"?: [ms, ...], "timeoutMs"?: ms} -> the settings
//   POST   /_emulator/webhooks/flush
//   POST   /_emulator/webhooks/settle (answers once deliveries have settled)
//   GET    /_emulator/webhooks/deliveries [{eventId, type, endpointId, attempt, status, error, duplicate, at}, ...]
//   POST   /_emulator/dashboard/refunds {"payment_intent" | "charge": id, "amount"?: n, "reason"?: ...} -> refund
//   POST   /_emulator/disputes/:id/close {"outcome": "won" | "lost"} -> dispute
//   POST   /_emulator/payouts/run      -> [payout, ...]
//   POST   /_emulator/payouts/fail_next {"code"?: "account_closed"}
//   GET    /_emulator/account          {"settlementCurrency": "usd"}
//   POST   /_emulator/account          {"settlementCurrency"?: "usd" | "eur" | "gbp" | "jpy" | "cad"} -> the settings
//   POST   /_emulator/payment_methods/:id/update {"exp_month": 1..12, "exp_year": yyyy, "last4"?: "dddd"} -> pm
//   POST   /_emulator/setup_intents/:id/authenticate {"outcome": "succeed" | "fail"} -> setup intent
// Stripe-shaped failures (unknown ids, refund rules) answer with Stripe's error body and status.
import type { ServerResponse } from 'node:http';
import { createControls, faultFromJson, type DashboardRefund } from './controls.js';
import { errorPayload, StripeApiError } from './errors.js';
import type { CardUpdate } from './payment-method-updates.js';
import type { ServerParts } from './server.js';
import { seedBalanceTransactions } from './seed-balance.js';
import type { WebhookSettings } from './webhooks.js';

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const ID_ROUTES: readonly [RegExp, string][] = [
  [/^POST \/_emulator\/disputes\/([A-Za-z0-9_]+)\/close$/, 'dispute_close'],
  [/^POST \/_emulator\/payment_methods\/([A-Za-z0-9_]+)\/update$/, 'pm_update'],
  [/^POST \/_emulator\/setup_intents\/([A-Za-z0-9_]+)\/authenticate$/, 'seti_authenticate'],
];

export async function handleControl(
  parts: ServerParts,
  method: string,
  path: string,
  body: string,
  res: ServerResponse,
): Promise<void> {
  const controls = createControls(parts);
  try {
    const json = (): Record<string, unknown> =>
      body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    const route = `${method} ${path}`;
    for (const [re, name] of ID_ROUTES) {
      const m = re.exec(route);
      if (!m) continue;
      const id = m[1] ?? '';
      if (name === 'dispute_close') return reply(res, 200, controls.closeDispute(id, json().outcome as 'won' | 'lost'));
      if (name === 'seti_authenticate')
        return reply(res, 200, controls.authenticateSetupIntent(id, json().outcome as 'succeed' | 'fail'));
      return reply(res, 200, controls.updatePaymentMethod(id, json() as unknown as CardUpdate));
    }
    switch (route) {
      case 'POST /_emulator/faults':
        controls.injectFault(faultFromJson(json()));
        return reply(res, 200, { ok: true });
      case 'DELETE /_emulator/faults':
        controls.clearFaults();
        return reply(res, 200, { ok: true });
      case 'POST /_emulator/clock/advance': {
        const ms = json().ms;
        if (typeof ms !== 'number') return reply(res, 400, { error: 'ms must be a number' });
        controls.advanceClock(ms);
        return reply(res, 200, { now: controls.now().toISOString() });
      }
      case 'GET /_emulator/clock':
        return reply(res, 200, { now: controls.now().toISOString() });
      case 'GET /_emulator/requests':
        return reply(res, 200, controls.requestLog());
      case 'POST /_emulator/reset':
        controls.reset();
        return reply(res, 200, { ok: true });
      case 'POST /_emulator/webhooks/config':
        return reply(res, 200, controls.configureWebhooks(json() as Partial<WebhookSettings>));
      case 'POST /_emulator/webhooks/flush':
        controls.flushWebhooks();
        return reply(res, 200, { ok: true });
      case 'POST /_emulator/webhooks/settle':
        await controls.settleWebhooks();
        return reply(res, 200, { ok: true });
      case 'GET /_emulator/webhooks/deliveries':
        return reply(res, 200, controls.webhookDeliveries());
      case 'POST /_emulator/dashboard/refunds':
        return reply(res, 200, controls.dashboardRefund(json() as DashboardRefund));
      case 'POST /_emulator/balance/seed':
        return reply(res, 200, seedBalanceTransactions(parts.state, json()));
      case 'POST /_emulator/payouts/run':
        return reply(res, 200, controls.runPayouts());
      case 'POST /_emulator/payouts/fail_next': {
        const code = json().code;
        controls.failNextPayout(typeof code === 'string' ? code : undefined);
        return reply(res, 200, { ok: true });
      }
      case 'GET /_emulator/account':
        return reply(res, 200, controls.configureAccount());
      case 'POST /_emulator/account':
        return reply(res, 200, controls.configureAccount(json()));
      default:
        return reply(res, 404, { error: `Unknown emulator control ${route}` });
    }
  } catch (err) {
    if (err instanceof StripeApiError) return reply(res, err.status, errorPayload(err));
    reply(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}
