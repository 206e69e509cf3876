// Charge update (POST /v1/charges/:id), refund update (POST /v1/refunds/:id) and refund cancel
// (POST /v1/refunds/:id/cancel), after the SDK's ChargeUpdateParams, RefundUpdateParams and Refunds.d.ts:
//   charge   description, metadata, receipt_email, shipping, fraud_details[user_report] (`fraudulent` or `safe`, shown
//            in fraud_details.user_report), customer ("may only be updated if there is no existing associated
//            customer with this charge"); event charge.updated with previous_attributes.
//   refund   metadata only; event refund.updated.
//   cancel   "You can't cancel refunds in other states [than requires_action]. Only refunds for payment methods that
//            require customer action can enter the requires_action state": none of the emulator's do (card refunds
//            succeed at once), so cancel refuses with 400 invalid_request_error, no code, no param, as Stripe answers
//            for a card refund (aat-stripe plans/refunds/refund-gates.yaml, cancel). A requires_action refund would
//            become canceled, its amount no longer counted on the charge (refund.updated).
import { requireCustomer } from './customers.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optString } from './params.js';
import { hashParam, nested, shippingParam } from './payment-intent-params.js';
import type { EmulatorState } from './state.js';
import type { Charge, Refund } from './types.js';

export function requireCharge(state: EmulatorState, id: string, param = 'id'): Charge {
  const charge = state.find<Charge>(id, 'charge');
  if (!charge) throw resourceMissing('charge', id, param);
  return charge;
}

export function requireRefund(state: EmulatorState, id: string, param = 'id'): Refund {
  const refund = state.find<Refund>(id, 'refund');
  if (!refund) throw resourceMissing('refund', id, param);
  return refund;
}

export function updateCharge(state: EmulatorState, id: string, params: FormObject): Charge {
  checkKnown(params, ['customer', 'description', 'expand', 'fraud_details', 'metadata', 'receipt_email', 'shipping']);
  const charge = requireCharge(state, id);
  const customerId = optString(params, 'customer');
  if (customerId !== undefined) {
    requireCustomer(state, customerId);
    if (charge.customer !== null && charge.customer !== customerId)
      throw invalidRequest(
        `Charge ${charge.id} already has a customer; customer may only be set on a charge without one.`,
        undefined,
        'customer',
      );
  }
  const fraud = hashParam(params, 'fraud_details', ['user_report']);
  const report =
    fraud === undefined
      ? undefined
      : nested('fraud_details', () => optEnum(fraud, 'user_report', ['fraudulent', 'safe'] as const));
  if (fraud !== undefined && report === undefined)
    throw invalidRequest(
      'Missing required param: fraud_details[user_report].',
      'parameter_missing',
      'fraud_details[user_report]',
    );
  const shipping = shippingParam(params);
  const metadata = metadataParam(params, charge.metadata as Record<string, string>);
  const description = params.description === '' ? null : optString(params, 'description');
  const receiptEmail = params.receipt_email === '' ? null : optString(params, 'receipt_email');
  const before = snapshot(state, charge);
  if (customerId !== undefined) charge.customer = customerId;
  if (report !== undefined) charge.fraud_details = { ...(charge.fraud_details as object), user_report: report };
  if (shipping !== undefined) charge.shipping = shipping;
  charge.metadata = metadata;
  if (description !== undefined) charge.description = description;
  if (receiptEmail !== undefined) charge.receipt_email = receiptEmail;
  emitUpdated(state, 'charge.updated', charge, before);
  return charge;
}

export function updateRefund(state: EmulatorState, id: string, params: FormObject): Refund {
  checkKnown(params, ['metadata', 'expand']);
  const refund = requireRefund(state, id);
  const metadata = metadataParam(params, (refund.metadata as Record<string, string> | undefined) ?? {});
  const before = snapshot(state, refund);
  refund.metadata = metadata;
  emitUpdated(state, 'refund.updated', refund, before);
  return refund;
}

export function cancelRefund(state: EmulatorState, id: string, params: FormObject): Refund {
  checkKnown(params, ['expand']);
  const refund = requireRefund(state, id);
  if (refund.status !== 'requires_action') {
    throw invalidRequest(
      `Refund ${refund.id} cannot be canceled because its status is ${refund.status}; ` +
        'only refunds in requires_action can be canceled.',
    );
  }
  const charge = requireCharge(state, refund.charge, 'charge');
  const before = snapshot(state, refund);
  refund.status = 'canceled';
  charge.amount_refunded -= refund.amount;
  charge.refunded = false;
  emitUpdated(state, 'refund.updated', refund, before);
  return refund;
}
