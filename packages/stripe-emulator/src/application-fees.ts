// Application fees on direct charges (ApplicationFees.d.ts, FeeRefunds.d.ts; docs.stripe.com/connect/direct-charges
// "Collect fees": "When you create a charge with an application_fee_amount, the fee amount is transferred from the
// connected account's balance to the platform's balance").
//   A PaymentIntent created with the Stripe-Account header and application_fee_amount is a direct charge. When its
//   charge's funds are counted (the charge's balance transaction: at success, or at capture for manual capture), and
//   the fee is above zero:
//     - the fee is the application_fee_amount, at most what was captured (PaymentIntents.d.ts application_fee_amount:
//       "The amount of the application fee (if any) that will be requested to be applied to the payment and
//       transferred to the application owner's Stripe account");
//     - on the connected account, the charge's balance transaction counts it as a fee: `fee` and `net` include it and
//       fee_details gains an entry of type `application_fee` (BalanceTransaction.FeeDetail.type);
//     - on the PLATFORM, an `application_fee` object `fee_…` (account: the connected account, charge, amount,
//       amount_refunded 0, refunded false, an empty `refunds` list) with an `application_fee` balance transaction of
//       +fee (reporting_category platform_earning) that becomes available with the charge's funds; event
//       application_fee.created ("Occurs whenever an application fee is created on a charge", Events.d.ts);
//     - the charge gets `application_fee` (the fee's id) and `application` (the platform's Connect application,
//       APPLICATION below).
//   Application fees on destination charges (transfer_data on a platform charge) are not modelled: the amount is
//   only stored on the charge.
//
// Fee refunds (POST /v1/application_fees/{id}/refunds; ApplicationFeeCreateRefundParams): amount "Can refund only up
// to the remaining unrefunded amount of the fee", default all of it; more, or a fully refunded fee, is a 400 on
// `amount` (⚠️ the emulator's wording, no code). A `fr_…` fee_refund: the platform's `application_fee_refund`
// balance transaction of -amount, and the connected account's `application_fee_refund` balance transaction of
// +amount (the fee goes back to it); the fee's amount_refunded grows, `refunded` turns true once all is refunded;
// event application_fee.refunded ("Occurs whenever an application fee is refunded, whether from refunding a charge
// or from refunding the application fee directly ... This includes partial refunds").
//
// A charge refund with refund_application_fee=true refunds the fee with it (RefundCreateParams.refund_application_fee:
// "If a full charge refund is given, the full application fee will be refunded. Otherwise, the application fee will
// be refunded in an amount proportional to the amount of the charge refunded"): once the charge is fully refunded,
// whatever is left of the fee; otherwise fee * refunded / captured, rounded half up in integer arithmetic (⚠️ Stripe
// does not publish its rounding; half-up is the emulator's choice), at most what is left of the fee.
import { build } from './balance.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { convert } from './fx.js';
import { checkKnown, metadataParam, optInt, optString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { renderList } from './render.js';
import type { EmulatorState } from './state.js';
import { embeddedList } from './transfers.js';
import type { ApplicationFee, BalanceTransaction, Charge, FeeRefund } from './types.js';

type Json = Record<string, unknown>;

/** The platform's Connect application, the `application` of its fees and direct charges (an emulator constant). */
export const APPLICATION = 'ca_emulatorplatform00000000000';

/**
 * Hook of balance.ts chargeBalanceTransaction: a direct charge's balance transaction (on the connected account)
 * counts the application fee, and the platform gets the fee. Does nothing for the platform's own charges.
 */
export function collectApplicationFee(
  state: EmulatorState,
  charge: Charge,
  bt: BalanceTransaction,
  captured: number,
): void {
  const account = state.ownerOf(charge.id);
  const requested = charge.application_fee_amount;
  if (account === null || typeof requested !== 'number' || requested <= 0) return;
  const amount = Math.min(requested, captured);
  // The balance transaction is in the settlement currency (fx.ts): the fee counts there at the same fixed rate.
  const settled = bt.currency === charge.currency ? amount : convert(amount, charge.currency, bt.currency).amount;
  bt.fee += settled;
  bt.net -= settled;
  bt.fee_details = [
    ...((bt.fee_details as Json[] | undefined) ?? []),
    {
      amount: settled,
      application: APPLICATION,
      currency: bt.currency,
      description: 'Application fee',
      type: 'application_fee',
    },
  ];
  const availableAfterS = Math.max(0, bt.available_on - state.nowSeconds());
  const fee = state.asAccount(null, () => {
    const id = state.newId('fee');
    const created: ApplicationFee = {
      id,
      object: 'application_fee',
      account,
      amount,
      amount_refunded: 0,
      application: APPLICATION,
      balance_transaction: build(state, {
        amount,
        currency: charge.currency,
        fee: 0,
        source: id,
        type: 'application_fee',
        reporting_category: 'platform_earning',
        description: null,
        availableAfterS,
      }).id,
      charge: charge.id,
      created: state.nowSeconds(),
      currency: charge.currency,
      fee_source: { charge: charge.id, type: 'charge' },
      livemode: false,
      originating_transaction: null,
      refunded: false,
      refunds: embeddedList(state, [], `/v1/application_fees/${id}/refunds`),
    };
    state.put(created);
    emit(state, 'application_fee.created', created);
    return created;
  });
  charge.application_fee = fee.id;
  charge.application = APPLICATION;
}

/** An application fee by id; fees are the platform's (a connected account sees none). */
export function requireApplicationFee(state: EmulatorState, id: string): ApplicationFee {
  const fee = state.find<ApplicationFee>(id, 'application_fee');
  if (!fee) throw resourceMissing('application_fee', id);
  return fee;
}

export function listApplicationFees(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, ['charge', 'created', 'limit', 'starting_after', 'ending_before', 'expand']);
  const charge = optString(params, 'charge');
  const created = rangeFilter(params, 'created');
  const fees = state
    .all<ApplicationFee>('application_fee')
    .filter((f) => (charge === undefined || f.charge === charge) && created(f.created));
  return renderList(state, fees, '/v1/application_fees', params);
}

function refundsOf(state: EmulatorState, fee: ApplicationFee): FeeRefund[] {
  return state.all<FeeRefund>('fee_refund').filter((r) => r.fee === fee.id);
}

/** Refunds `amount` of a fee (checked by the caller): the fee_refund, both balance transactions, the event. */
function refundFee(
  state: EmulatorState,
  fee: ApplicationFee,
  amount: number,
  metadata: Record<string, string>,
): FeeRefund {
  return state.asAccount(null, () => {
    const id = state.newId('fr');
    const before = snapshot(state, fee);
    const refund: FeeRefund = {
      id,
      object: 'fee_refund',
      amount,
      balance_transaction: build(state, {
        amount: -amount,
        currency: fee.currency,
        fee: 0,
        source: id,
        type: 'application_fee_refund',
        reporting_category: 'platform_earning_refund',
        description: null,
        availableAfterS: 0,
      }).id,
      created: state.nowSeconds(),
      currency: fee.currency,
      fee: fee.id,
      metadata,
    };
    state.put(refund);
    state.asAccount(fee.account, () =>
      build(state, {
        amount,
        currency: fee.currency,
        fee: 0,
        source: id,
        type: 'application_fee_refund',
        reporting_category: 'platform_earning_refund',
        description: null,
        availableAfterS: 0,
      }),
    );
    fee.amount_refunded += amount;
    fee.refunded = fee.amount_refunded === fee.amount;
    fee.refunds = embeddedList(state, refundsOf(state, fee), `/v1/application_fees/${fee.id}/refunds`);
    emitUpdated(state, 'application_fee.refunded', fee, before);
    return refund;
  });
}

export function createFeeRefund(state: EmulatorState, id: string, params: FormObject): FeeRefund {
  checkKnown(params, ['amount', 'metadata', 'expand']);
  const fee = requireApplicationFee(state, id);
  const left = fee.amount - fee.amount_refunded;
  if (left <= 0)
    throw invalidRequest(`Application fee ${fee.id} has already been fully refunded.`, undefined, 'amount');
  const amount = optInt(params, 'amount') ?? left;
  if (amount <= 0) throw invalidRequest('amount must be a positive integer.', 'parameter_invalid_integer', 'amount');
  if (amount > left)
    throw invalidRequest(
      `Refund amount (${amount}) is greater than the unrefunded amount of application fee ${fee.id} (${left}).`,
      undefined,
      'amount',
    );
  return refundFee(state, fee, amount, metadataParam(params));
}

export function requireFeeRefund(state: EmulatorState, feeId: string, id: string): FeeRefund {
  const fee = requireApplicationFee(state, feeId);
  const refund = state.find<FeeRefund>(id, 'fee_refund');
  if (!refund || refund.fee !== fee.id) throw resourceMissing('fee_refund', id);
  return refund;
}

export function listFeeRefunds(state: EmulatorState, feeId: string, params: FormObject): Json {
  checkKnown(params, ['limit', 'starting_after', 'ending_before', 'expand']);
  const fee = requireApplicationFee(state, feeId);
  return renderList(state, refundsOf(state, fee), `/v1/application_fees/${fee.id}/refunds`, params);
}

/**
 * refund_application_fee=true on a refund of `refunded` (the charge's amount_refunded already counts it): the
 * proportional part of the charge's application fee (see the head comment). No fee, or nothing left: nothing.
 */
export function refundFeeWithCharge(state: EmulatorState, charge: Charge, refunded: number): FeeRefund | undefined {
  if (typeof charge.application_fee !== 'string') return undefined;
  const fee = state.asAccount(null, () =>
    state.find<ApplicationFee>(charge.application_fee as string, 'application_fee'),
  );
  if (!fee) return undefined;
  const left = fee.amount - fee.amount_refunded;
  if (left <= 0) return undefined;
  const base = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
  const proportional = Math.floor((fee.amount * refunded * 2 + base) / (2 * base));
  const amount = charge.amount_refunded >= base ? left : Math.min(left, proportional);
  if (amount <= 0) return undefined;
  return refundFee(state, fee, amount, {});
}
