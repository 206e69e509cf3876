// Transfers and transfer reversals (Transfers.d.ts, TransferReversals.d.ts; docs.stripe.com/api/transfers,
// docs.stripe.com/connect/separate-charges-and-transfers). The platform moves money from its balance to a connected
// account's:
//   create    amount (positive), currency, destination (a connected account, else resource_missing on `destination`,
//             404 like every unknown id the emulator is given), source_transaction (a platform charge that funds
//             the transfer: "the transfer amount can't exceed the source charge's amount", and the destination's
//             funds follow the charge's availability), transfer_group, description, metadata. Without
//             source_transaction the platform's available balance in that currency must cover the amount, else 400
//             balance_insufficient ("You have insufficient funds in your Stripe account", as for payouts,
//             payouts-manual.ts). Only the platform transfers: with a Stripe-Account header the request is refused
//             (400).
//             Money: on the platform a `transfer` balance transaction of -amount (reporting_category transfer,
//             available at once); on the destination a payment `py_…` (a charge object, payment_method_details type
//             stripe_account; the transfer's destination_payment) with a `payment` balance transaction of +amount,
//             available at once or, with source_transaction, when the source charge's funds are.
//             Event transfer.created ("Occurs whenever a transfer is created", Events.d.ts).
//   update    description and metadata only (TransferUpdateParams): transfer.updated ("Occurs whenever a
//             transfer's description or metadata is updated").
//   reverse   POST /v1/transfers/{id}/reversals: amount defaults to "the entire transfer amount", i.e. what is
//             left ("Can only reverse up to the unreversed amount remaining of the transfer"); more than that, or a
//             fully reversed transfer, is a 400 on `amount` (⚠️ the emulator's wording; no code). A `trr_…` reversal:
//             the platform gets a `transfer_refund` balance transaction of +amount (reporting_category
//             transfer_reversal), the destination's payment is refunded (a `pyr_…` refund, the reversal's
//             destination_payment_refund) with a `payment_refund` balance transaction of -amount. The transfer's
//             amount_reversed grows, `reversed` turns true once all is reversed, its `reversals` list shows the
//             reversal. Event transfer.reversed ("Occurs whenever a transfer is reversed, including partial
//             reversals"). refund_application_fee=true is refused: the emulator's transfers carry no fee.
// Lists are newest first: transfers by destination, transfer_group and created; a transfer's reversals.
import { balanceByCurrency } from './balance-available.js';
import { build } from './balance.js';
import { checkCurrency } from './charge-amounts.js';
import { requireDestination } from './connect-accounts.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { emit, emitUpdated, snapshot } from './events.js';
import type { FormObject } from './form.js';
import { checkKnown, metadataParam, optBool, optInt, optString, reqInt, reqString } from './params.js';
import { rangeFilter } from './range-filter.js';
import { expansions, render, renderList } from './render.js';
import type { EmulatorState } from './state.js';
import type { BalanceTransaction, Charge, Refund, Transfer, TransferReversal } from './types.js';

type Json = Record<string, unknown>;

export function requireTransfer(state: EmulatorState, id: string): Transfer {
  const transfer = state.find<Transfer>(id, 'transfer');
  if (!transfer) throw resourceMissing('transfer', id);
  return transfer;
}

/** A Stripe list as embedded in an object (Transfer.reversals, ApplicationFee.refunds): newest first, 10 shown. */
export function embeddedList(
  state: EmulatorState,
  items: readonly (Transfer | TransferReversal | Json)[],
  url: string,
): Json {
  const newestFirst = [...items].reverse();
  return {
    object: 'list',
    data: newestFirst.slice(0, 10).map((o) => structuredClone(o)),
    has_more: newestFirst.length > 10,
    total_count: newestFirst.length,
    url,
  };
}

/** The platform's charge a transfer is funded by (source_transaction), with what is left of it to transfer. */
function sourceCharge(state: EmulatorState, id: string, currency: string, amount: number): Charge {
  const charge = state.find<Charge>(id, 'charge');
  if (!charge) throw resourceMissing('charge', id, 'source_transaction');
  if (charge.status !== 'succeeded' || !charge.captured)
    throw invalidRequest(
      `Charge ${id} has not succeeded: a transfer can only be funded by a captured, succeeded charge.`,
      undefined,
      'source_transaction',
    );
  if (charge.currency !== currency)
    throw invalidRequest(
      `The currency of source_transaction's balance transaction (${charge.currency}) must be the same as the ` +
        `transfer currency (${currency}).`,
      undefined,
      'currency',
    );
  const transferred = state
    .all<Transfer>('transfer')
    .filter((t) => t.source_transaction === id)
    .reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
  const left = charge.amount_captured - charge.amount_refunded - transferred;
  if (amount > left)
    throw invalidRequest(
      `The transfer amount (${amount}) exceeds what is left of source_transaction ${id} (${left}).`,
      undefined,
      'amount',
    );
  return charge;
}

/** The destination's side: a `py_` payment (a charge on the connected account) and its balance transaction. */
function destinationPayment(
  state: EmulatorState,
  transfer: Transfer,
  availableAfterS: number,
): { payment: Charge; bt: BalanceTransaction } {
  return state.asAccount(transfer.destination, () => {
    const id = state.newId('py');
    const bt = build(state, {
      amount: transfer.amount,
      currency: transfer.currency,
      fee: 0,
      source: id,
      type: 'payment',
      reporting_category: 'charge',
      description: null,
      availableAfterS,
    });
    const payment: Charge = {
      id,
      object: 'charge',
      amount: transfer.amount,
      amount_captured: transfer.amount,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: bt.id,
      captured: true,
      created: transfer.created,
      currency: transfer.currency,
      customer: null,
      description: null,
      disputed: false,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: null,
      payment_method: null,
      payment_method_details: { type: 'stripe_account', stripe_account: {} },
      refunded: false,
      source_transfer: transfer.id,
      status: 'succeeded',
      transfer_group: transfer.transfer_group,
    };
    state.put(payment);
    return { payment, bt };
  });
}

export function createTransfer(state: EmulatorState, params: FormObject): Transfer {
  checkKnown(params, [
    'amount',
    'currency',
    'destination',
    'description',
    'expand',
    'metadata',
    'source_transaction',
    'source_type',
    'transfer_group',
  ]);
  if (state.account !== null && state.account !== undefined)
    throw invalidRequest(
      'Transfers are made by the platform: send this request without the Stripe-Account header.',
      undefined,
      'destination',
    );
  const amount = reqInt(params, 'amount');
  if (amount <= 0) throw invalidRequest('amount must be a positive integer.', 'parameter_invalid_integer', 'amount');
  const currency = reqString(params, 'currency').toLowerCase();
  checkCurrency(currency);
  const destination = requireDestination(state, reqString(params, 'destination'));
  if (optString(params, 'source_type') !== undefined && optString(params, 'source_type') !== 'card')
    throw invalidRequest("The emulator's balance is all `card`: source_type must be card.", undefined, 'source_type');
  const sourceId = optString(params, 'source_transaction');
  const metadata = metadataParam(params);
  const description = optString(params, 'description') ?? null;
  const group = optString(params, 'transfer_group') ?? null;
  let availableAfterS = 0;
  if (sourceId !== undefined) {
    const charge = sourceCharge(state, sourceId, currency, amount);
    const chargeBt =
      charge.balance_transaction === null
        ? undefined
        : state.find<BalanceTransaction>(charge.balance_transaction, 'balance_transaction');
    if (chargeBt !== undefined) availableAfterS = Math.max(0, chargeBt.available_on - state.nowSeconds());
  } else {
    const available = balanceByCurrency(state).get(currency)?.available ?? 0;
    if (amount > available)
      throw invalidRequest(
        `You have insufficient funds in your Stripe account for this transfer: the available balance is ` +
          `${available} ${currency}.`,
        'balance_insufficient',
      );
  }
  const id = state.newId('tr');
  const transfer: Transfer = {
    id,
    object: 'transfer',
    amount,
    amount_reversed: 0,
    balance_transaction: '',
    created: state.nowSeconds(),
    currency,
    description,
    destination,
    destination_payment: '',
    livemode: false,
    metadata,
    reversals: embeddedList(state, [], `/v1/transfers/${id}/reversals`),
    reversed: false,
    source_transaction: sourceId ?? null,
    source_type: 'card',
    transfer_group: group,
  };
  transfer.balance_transaction = build(state, {
    amount: -amount,
    currency,
    fee: 0,
    source: id,
    type: 'transfer',
    reporting_category: 'transfer',
    description,
    availableAfterS: 0,
  }).id;
  transfer.destination_payment = destinationPayment(state, transfer, availableAfterS).payment.id;
  state.put(transfer);
  emit(state, 'transfer.created', transfer);
  return transfer;
}

export function updateTransfer(state: EmulatorState, id: string, params: FormObject): Transfer {
  checkKnown(params, ['description', 'metadata', 'expand']);
  const transfer = requireTransfer(state, id);
  const metadata = metadataParam(params, transfer.metadata);
  const before = snapshot(state, transfer);
  if (params.description !== undefined) transfer.description = optString(params, 'description') ?? null;
  transfer.metadata = metadata;
  emitUpdated(state, 'transfer.updated', transfer, before);
  return transfer;
}

export function listTransfers(state: EmulatorState, params: FormObject): Json {
  checkKnown(params, [
    'created',
    'destination',
    'transfer_group',
    'limit',
    'starting_after',
    'ending_before',
    'expand',
  ]);
  const destination = optString(params, 'destination');
  const group = optString(params, 'transfer_group');
  const created = rangeFilter(params, 'created');
  const transfers = state
    .all<Transfer>('transfer')
    .filter(
      (t) =>
        (destination === undefined || t.destination === destination) &&
        (group === undefined || t.transfer_group === group) &&
        created(t.created),
    );
  return renderList(state, transfers, '/v1/transfers', params);
}

function reversalsOf(state: EmulatorState, transfer: Transfer): TransferReversal[] {
  return state.all<TransferReversal>('transfer_reversal').filter((r) => r.transfer === transfer.id);
}

export function createReversal(state: EmulatorState, id: string, params: FormObject): TransferReversal {
  checkKnown(params, ['amount', 'description', 'expand', 'metadata', 'refund_application_fee']);
  const transfer = requireTransfer(state, id);
  const left = transfer.amount - transfer.amount_reversed;
  if (left <= 0) throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`, undefined, 'amount');
  const amount = optInt(params, 'amount') ?? left;
  if (amount <= 0) throw invalidRequest('amount must be a positive integer.', 'parameter_invalid_integer', 'amount');
  if (amount > left)
    throw invalidRequest(
      `Reversal amount (${amount}) is greater than the amount left to reverse on transfer ${transfer.id} (${left}).`,
      undefined,
      'amount',
    );
  if (optBool(params, 'refund_application_fee') === true)
    throw invalidRequest(
      `Transfer ${transfer.id} has no application fee to refund.`,
      undefined,
      'refund_application_fee',
    );
  const metadata = metadataParam(params);
  const description = optString(params, 'description') ?? null;
  const rid = state.newId('trr');
  const before = snapshot(state, transfer);
  const reversal: TransferReversal = {
    id: rid,
    object: 'transfer_reversal',
    amount,
    balance_transaction: build(state, {
      amount,
      currency: transfer.currency,
      fee: 0,
      source: rid,
      type: 'transfer_refund',
      reporting_category: 'transfer_reversal',
      description,
      availableAfterS: 0,
    }).id,
    created: state.nowSeconds(),
    currency: transfer.currency,
    description,
    destination_payment_refund: refundDestinationPayment(state, transfer, amount),
    metadata,
    source_refund: null,
    transfer: transfer.id,
  };
  state.put(reversal);
  transfer.amount_reversed += amount;
  transfer.reversed = transfer.amount_reversed === transfer.amount;
  transfer.reversals = embeddedList(state, reversalsOf(state, transfer), `/v1/transfers/${transfer.id}/reversals`);
  emitUpdated(state, 'transfer.reversed', transfer, before);
  return reversal;
}

/** The destination's side of a reversal: a `pyr_` refund of its payment with a `payment_refund` BT; its id. */
function refundDestinationPayment(state: EmulatorState, transfer: Transfer, amount: number): string {
  return state.asAccount(transfer.destination, () => {
    const id = state.newId('pyr');
    const payment = state.find<Charge>(transfer.destination_payment, 'charge');
    const refund: Refund = {
      id,
      object: 'refund',
      amount,
      balance_transaction: build(state, {
        amount: -amount,
        currency: transfer.currency,
        fee: 0,
        source: id,
        type: 'payment_refund',
        reporting_category: 'refund',
        description: null,
        availableAfterS: 0,
      }).id,
      charge: transfer.destination_payment,
      created: state.nowSeconds(),
      currency: transfer.currency,
      metadata: {},
      payment_intent: null,
      reason: null,
      status: 'succeeded',
    };
    state.put(refund);
    if (payment) {
      payment.amount_refunded += amount;
      payment.refunded = payment.amount_refunded === payment.amount;
    }
    return id;
  });
}

export function requireReversal(state: EmulatorState, transferId: string, id: string): TransferReversal {
  const transfer = requireTransfer(state, transferId);
  const reversal = state.find<TransferReversal>(id, 'transfer_reversal');
  if (!reversal || reversal.transfer !== transfer.id) throw resourceMissing('transfer_reversal', id);
  return reversal;
}

export function listReversals(state: EmulatorState, transferId: string, params: FormObject): Json {
  checkKnown(params, ['limit', 'starting_after', 'ending_before', 'expand']);
  const transfer = requireTransfer(state, transferId);
  return renderList(state, reversalsOf(state, transfer), `/v1/transfers/${transfer.id}/reversals`, params);
}

export function renderTransferPart(state: EmulatorState, obj: Transfer | TransferReversal, params: FormObject): Json {
  return render(state, obj, expansions(params));
}
