// Payouts made through the API (Payouts.d.ts; docs.stripe.com/payouts), beside the automatic ones of payouts.ts:
//   create   "Your Stripe balance must cover the payout amount. If it doesn't, you receive an 'Insufficient Funds'
//            error": the available balance of the source type (the emulator's balance is all `card`), else 400
//            balance_insufficient. A manual payout (automatic false, reconciliation_status not_applicable: Stripe
//            cannot list what a manual payout paid out) with a `payout` balance transaction of -amount, `pending`
//            until its arrival_date (created + 2 days), then `paid` (payout.updated, payout.paid). Instant payouts and
//            destinations other than the account's bank account (ba_emulator) are refused. Event payout.created.
//            The next automatic payout nets the manual payout's debit (it pays out what is left).
//   update   "This request only accepts the metadata as arguments" (payout.updated).
//   cancel   "You can cancel a previously created payout if its status is pending. Stripe refunds the funds to your
//            available balance. You can't cancel automatic Stripe payouts": status canceled, and a `payout_cancel`
//            balance transaction of +amount as failure_balance_transaction ("If the payout fails or cancels, this is
//            the ID of the balance transaction that reverses the initial balance transaction") (payout.updated,
//            payout.canceled).
//   reverse  "Reverses a payout by debiting the destination bank account … If the payout is manual and in the
//            pending status, use /v1/payouts/:id/cancel instead": a paid bank_account payout gets a reversing payout
//            (original_payout; the original's reversed_by) with a balance transaction of +amount (payout.created,
//            payout.updated). Stripe allows this only for connected accounts' payouts ("At this time, you can only
//            reverse payouts for connected accounts to US and Canadian bank accounts"); the emulator, which has no
//            Connect, allows it on its one account.
// Refusals are 400 invalid_request_error; their codes are the emulator's reading of the SDK's code enum.
// A payout takes a balance in its own currency: the settlement currency into which charges were converted, or one
// without a fixed rate (fx.ts). Its balance transactions are never converted (convert: false); a payout in a charge's
// presentment currency that was converted finds no balance there (balance_insufficient).
import { balanceByCurrency } from './balance-available.js';
import { build } from './balance.js';
import { checkCurrency } from './charge-amounts.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optEnum, optString, reqInt, reqString } from './params.js';
import { descriptorParam } from './payment-intent-params.js';
import { requirePayout } from './payouts.js';
import type { EmulatorState } from './state.js';
import type { Payout } from './types.js';

const ARRIVAL_AFTER_S = 2 * 24 * 60 * 60;
/** The account's one external account (the automatic payouts' destination too). */
export const BANK_ACCOUNT = 'ba_emulator';

function newPayout(state: EmulatorState, fields: Partial<Payout> & Pick<Payout, 'amount' | 'currency'>): Payout {
  const created = state.nowSeconds();
  const id = state.newId('po');
  return {
    id,
    object: 'payout',
    application_fee: null,
    application_fee_amount: null,
    arrival_date: created + ARRIVAL_AFTER_S,
    automatic: false,
    balance_transaction: '',
    created,
    description: null,
    destination: BANK_ACCOUNT,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'pending',
    trace_id: { status: 'pending', value: null },
    type: 'bank_account',
    ...fields,
  };
}

export function createManualPayout(state: EmulatorState, params: FormObject): Payout {
  checkKnown(params, [
    'amount',
    'currency',
    'description',
    'destination',
    'expand',
    'metadata',
    'method',
    'source_type',
    'statement_descriptor',
  ]);
  const amount = reqInt(params, 'amount');
  if (amount <= 0) throw invalidRequest('amount must be a positive integer.', 'parameter_invalid_integer', 'amount');
  const currency = reqString(params, 'currency').toLowerCase();
  checkCurrency(currency);
  const destination = optString(params, 'destination') ?? BANK_ACCOUNT;
  if (destination !== BANK_ACCOUNT) throw resourceMissing('external account', destination, 'destination');
  if (optEnum(params, 'method', ['standard', 'instant'] as const) === 'instant')
    throw invalidRequest('Instant payouts are not supported by the emulator.', 'instant_payouts_unsupported', 'method');
  const sourceType = optEnum(params, 'source_type', ['bank_account', 'card', 'fpx'] as const) ?? 'card';
  const descriptor = descriptorParam(params, 'statement_descriptor');
  const metadata = metadataParam(params);
  const available = sourceType === 'card' ? (balanceByCurrency(state).get(currency)?.available ?? 0) : 0;
  if (amount > available) {
    throw invalidRequest(
      `You have insufficient funds in your Stripe account for this payout: the available ${sourceType} balance is ` +
        `${available} ${currency}.`,
      'balance_insufficient',
    );
  }
  const payout = newPayout(state, {
    amount,
    currency,
    description: optString(params, 'description') ?? null,
    metadata,
    source_type: sourceType,
    statement_descriptor: descriptor ?? null,
  });
  payout.balance_transaction = build(state, {
    amount: -amount,
    currency,
    fee: 0,
    source: payout.id,
    type: 'payout',
    reporting_category: 'payout',
    description: descriptor ?? null,
    availableAfterS: 0,
    convert: false,
  }).id;
  state.put(payout);
  emit(state, 'payout.created', payout);
  return payout;
}

export function updatePayout(state: EmulatorState, id: string, params: FormObject): Payout {
  checkKnown(params, ['metadata', 'expand']);
  const payout = requirePayout(state, id);
  const metadata = metadataParam(params, (payout.metadata as Record<string, string> | null) ?? {});
  const before = snapshot(state, payout);
  payout.metadata = metadata;
  emitUpdated(state, 'payout.updated', payout, before);
  return payout;
}

export function cancelPayout(state: EmulatorState, id: string, params: FormObject): Payout {
  checkKnown(params, ['expand']);
  const payout = requirePayout(state, id);
  if (payout.automatic === true)
    throw invalidRequest(`Payout ${payout.id} is an automatic payout; automatic payouts cannot be canceled.`);
  if (payout.status !== 'pending') {
    throw invalidRequest(
      `Payout ${payout.id} cannot be canceled because its status is ${payout.status}; only pending payouts can be canceled.`,
    );
  }
  const before = snapshot(state, payout);
  payout.failure_balance_transaction = build(state, {
    amount: payout.amount,
    currency: payout.currency,
    fee: 0,
    source: payout.id,
    type: 'payout_cancel',
    reporting_category: 'payout_reversal',
    description: 'Payout canceled',
    availableAfterS: 0,
    convert: false,
  }).id;
  payout.status = 'canceled';
  emitUpdated(state, 'payout.updated', payout, before);
  emit(state, 'payout.canceled', payout);
  return payout;
}

export function reversePayout(state: EmulatorState, id: string, params: FormObject): Payout {
  checkKnown(params, ['metadata', 'expand']);
  const original = requirePayout(state, id);
  if (original.type !== 'bank_account')
    throw invalidRequest(`Payout ${original.id} was not sent to a bank account; only those can be reversed.`);
  if (original.reversed_by !== null) throw invalidRequest(`Payout ${original.id} has already been reversed.`);
  if (original.status !== 'paid') {
    throw invalidRequest(
      original.status === 'pending'
        ? `Payout ${original.id} is pending: cancel it (/v1/payouts/${original.id}/cancel) instead of reversing it.`
        : `Payout ${original.id} cannot be reversed because its status is ${original.status}; only paid payouts can be reversed.`,
    );
  }
  const metadata = metadataParam(params);
  const reversal = newPayout(state, {
    amount: original.amount,
    currency: original.currency,
    metadata,
    original_payout: original.id,
    source_type: original.source_type as string,
  });
  reversal.balance_transaction = build(state, {
    amount: original.amount,
    currency: original.currency,
    fee: 0,
    source: reversal.id,
    type: 'payout',
    reporting_category: 'payout_reversal',
    description: `Reversal of ${original.id}`,
    availableAfterS: 0,
    convert: false,
  }).id;
  state.put(reversal);
  emit(state, 'payout.created', reversal);
  const before = snapshot(state, original);
  original.reversed_by = reversal.id;
  emitUpdated(state, 'payout.updated', original, before);
  return reversal;
}
