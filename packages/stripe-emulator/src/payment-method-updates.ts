// Card details changed by the network (card account updater): controls.updatePaymentMethod changes a card
// PaymentMethod's expiry (and optionally last4) and records payment_method.automatically_updated ("Occurs
// whenever a payment method's details are automatically updated by the network", Events.d.ts) and
// payment_method.updated, both with previous_attributes.
import { invalidRequest, resourceMissing } from './errors.js';
import { emitJson, previousAttributes, snapshot } from './events.js';
import { render } from './render.js';
import type { EmulatorState } from './state.js';
import type { PaymentMethod } from './types.js';

export interface CardUpdate {
  exp_month: number;
  exp_year: number;
  last4?: string;
}

export function updateCardDetails(state: EmulatorState, id: string, update: CardUpdate): PaymentMethod {
  const pm = state.find<PaymentMethod>(id, 'payment_method');
  if (!pm) throw resourceMissing('PaymentMethod', id);
  if (pm.type !== 'card' || !pm.card)
    throw invalidRequest(`PaymentMethod ${id} is not a card.`, 'payment_method_unexpected_state', 'id');
  if (!Number.isInteger(update.exp_month) || update.exp_month < 1 || update.exp_month > 12) {
    throw invalidRequest('exp_month must be an integer from 1 to 12.', 'invalid_expiry_month', 'exp_month');
  }
  if (!Number.isInteger(update.exp_year) || update.exp_year < 2000 || update.exp_year > 2100) {
    throw invalidRequest('exp_year must be a four-digit year.', 'invalid_expiry_year', 'exp_year');
  }
  if (update.last4 !== undefined && !/^\d{4}$/.test(update.last4))
    throw invalidRequest('last4 must be 4 digits.', 'parameter_invalid_string', 'last4');
  const before = snapshot(state, pm);
  pm.card = {
    ...pm.card,
    exp_month: update.exp_month,
    exp_year: update.exp_year,
    ...(update.last4 === undefined ? {} : { last4: update.last4 }),
  };
  const after = render(state, pm);
  const previous = previousAttributes(before, after);
  if (previous === undefined) return pm;
  emitJson(state, 'payment_method.automatically_updated', after, previous);
  emitJson(state, 'payment_method.updated', render(state, pm), previous);
  state.scheduleSave();
  return pm;
}
