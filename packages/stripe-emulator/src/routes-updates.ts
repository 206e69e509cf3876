// The updates and actions added to the API surface: PaymentIntent update and incremental authorization, charge update
// and search, refund update and cancel, payouts create, update, cancel and reverse. These come first in ROUTES
// (routes.ts): `/v1/charges/search` must not be taken for a charge id (it once answered "Received unknown parameter:
// query").
import { cancelRefund, updateCharge, updateRefund } from './charge-refund-updates.js';
import { captureLegacyCharge, createLegacyCharge } from './charges-legacy.js';
import type { FormObject } from './form.js';
import { incrementAuthorization, updatePaymentIntent } from './payment-intent-update.js';
import { requirePaymentIntent } from './payment-intents.js';
import { cancelPayout, createManualPayout, reversePayout, updatePayout } from './payouts-manual.js';
import { expansions, render } from './render.js';
import type { Route } from './routes.js';
import { searchCharges } from './search.js';
import type { EmulatorState } from './state.js';
import type { AnyStripeObject } from './types.js';

const ID = '([A-Za-z0-9_]+)';
const path = (p: string): RegExp => new RegExp(`^${p.replace(':id', ID)}$`);
const out = (s: EmulatorState, obj: AnyStripeObject, p: FormObject): Record<string, unknown> =>
  render(s, obj, expansions(p));

export const UPDATE_ROUTES: readonly Route[] = [
  { method: 'GET', pattern: path('/v1/charges/search'), handler: (s, p) => searchCharges(s, p) },
  {
    method: 'POST',
    pattern: path('/v1/payment_intents/:id'),
    handler: (s, p, id) => out(s, updatePaymentIntent(s, requirePaymentIntent(s, id), p), p),
  },
  {
    method: 'POST',
    pattern: path('/v1/payment_intents/:id/increment_authorization'),
    handler: (s, p, id) => out(s, incrementAuthorization(s, requirePaymentIntent(s, id), p), p),
  },
  { method: 'POST', pattern: path('/v1/charges/:id'), handler: (s, p, id) => out(s, updateCharge(s, id, p), p) },
  // The legacy Charges API (charges-legacy.ts).
  { method: 'POST', pattern: path('/v1/charges'), handler: (s, p) => out(s, createLegacyCharge(s, p), p) },
  {
    method: 'POST',
    pattern: path('/v1/charges/:id/capture'),
    handler: (s, p, id) => out(s, captureLegacyCharge(s, id, p), p),
  },
  { method: 'POST', pattern: path('/v1/refunds/:id'), handler: (s, p, id) => out(s, updateRefund(s, id, p), p) },
  {
    method: 'POST',
    pattern: path('/v1/refunds/:id/cancel'),
    handler: (s, p, id) => out(s, cancelRefund(s, id, p), p),
  },
  { method: 'POST', pattern: path('/v1/payouts'), handler: (s, p) => out(s, createManualPayout(s, p), p) },
  { method: 'POST', pattern: path('/v1/payouts/:id'), handler: (s, p, id) => out(s, updatePayout(s, id, p), p) },
  {
    method: 'POST',
    pattern: path('/v1/payouts/:id/cancel'),
    handler: (s, p, id) => out(s, cancelPayout(s, id, p), p),
  },
  {
    method: 'POST',
    pattern: path('/v1/payouts/:id/reverse'),
    handler: (s, p, id) => out(s, reversePayout(s, id, p), p),
  },
];
