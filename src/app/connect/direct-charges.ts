// Connect (M6): direct charges on connected accounts with application fees (docs.stripe.com/connect/direct-charges).
// A normal charge may name its connected account (`connected_account_id`, a cac_ record: its gateway becomes the
// charge's) and an `application_fee_amount` (minor units, 0..amount, only with an account), stored in the charge's
// `application_fee` column until the gateway reports the fee it took. Every gateway call for such a charge (authorize,
// charge, capture, release, refund, recovery's replay and lookups) goes through the adapter scoped to the account
// (`Gateway.forAccount`: Stripe's `Stripe-Account` header), and the PaymentIntent create carries the fee
// (PaymentIntentCreateParams.application_fee_amount). Which account and fee a call uses is recorded in the attempt's
// request (gateway_attempts.request), so recovery replays exactly what was sent. A refund action may say
// `refund_application_fee: true` (RefundCreateParams.refund_application_fee): Stripe refunds the fee in proportion.
// The fee's figures (`application_fee`, `refunded_application_fee`) are the application fee object's as the platform
// holds it (ApplicationFees.d.ts `amount`, `amount_refunded`), read by the scoped adapter after each call.
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { findConnectedAccount, findConnectedAccountByGatewayAccount } from '../../store/connected-accounts-repo.js';
import type { Db, TransactionRow } from '../../store/schema.js';
import {
  compareAndSetTransaction,
  diffChanges,
  lockTransaction,
  type TransactionChanges,
} from '../../store/transactions-repo.js';
import { findPaymentMethodRef } from '../deps.js';
import type { Gateway, GatewayApplicationFee } from '../gateway-port.js';
import type { BusinessFields } from '../transactions/rules.js';
import type { TransferColumns } from './transfer-fields.js';

export interface DirectChargeInput {
  connected_account_id?: string | null;
  transfer_group?: string | null;
  source_transaction_id?: string | null;
  application_fee_amount?: unknown;
}

/** The Connect columns of a new charge (checkTransferFields hands charges here). */
export async function checkDirectChargeFields(
  db: Db,
  fields: BusinessFields,
  input: DirectChargeInput,
  referencesChecked: boolean,
): Promise<TransferColumns> {
  for (const field of ['transfer_group', 'source_transaction_id'] as const) {
    if (input[field] !== undefined && input[field] !== null)
      throw new ValidationError(
        'parameter_not_allowed',
        `${field} belongs to transfers (record_type transfer).`,
        field,
      );
  }
  const account = input.connected_account_id ?? null;
  const feeGiven = input.application_fee_amount !== undefined && input.application_fee_amount !== null;
  const none = { connected_account_id: null, transfer_group: null, source_transaction_id: null };
  if (account === null) {
    if (feeGiven)
      throw new ValidationError(
        'application_fee_requires_account',
        'application_fee_amount applies to a direct charge: name its connected_account_id.',
        'application_fee_amount',
      );
    return none;
  }
  const refuse = (param: string, message: string) => new ValidationError('invalid_direct_charge', message, param);
  if (fields.transaction_type !== 'normal')
    throw refuse(
      'connected_account_id',
      "A refund of a direct charge is on its charge's connected account already; connected_account_id is for normal charges.",
    );
  if (fields.non_gateway)
    throw refuse(
      'non_gateway',
      'A direct charge is made at the gateway on the connected account: non_gateway is false.',
    );
  let fee: number | null = null;
  if (feeGiven) {
    const value = input.application_fee_amount;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      throw refuse('application_fee_amount', 'application_fee_amount is an integer amount in minor units, 0 or more.');
    if (value > fields.amount)
      throw refuse(
        'application_fee_amount',
        `application_fee_amount (${value}) cannot exceed the charge's amount (${fields.amount}).`,
      );
    fee = value;
  }
  const columns: TransferColumns = { ...none, connected_account_id: account, application_fee: fee };
  if (referencesChecked) return columns;
  const row = await findConnectedAccount(db, account);
  if (!row) throw new NotFoundError('connected_account', account, 'connected_account_id');
  // A saved card is attached to a Customer of the platform (app/saved-cards.ts), which a connected account cannot
  // charge: it would first have to be cloned to the account (docs.stripe.com/connect/cloning-customers-across-accounts).
  if (fields.payment_method_id !== null) {
    const pm = await findPaymentMethodRef(db, fields.payment_method_id);
    if (pm && (pm.account_id !== null || pm.contact_id !== null))
      throw refuse(
        'payment_method_id',
        `Payment method ${pm.id} is saved to a Customer of the platform; a direct charge needs one the connected account can use (a token, with no account or contact).`,
      );
  }
  return { ...columns, gateway_id: row.gateway_id };
}

/** What an attempt's request (gateway_attempts.request) records for a direct charge, its capture, release or refund. */
export interface ConnectRequestFields {
  /** The connected account (acct_...) the call acts on; absent or null for the platform. */
  account?: string | null;
  /** Sent on the PaymentIntent create (authorize, charge). */
  application_fee_amount?: number | null;
  /** Sent on a refund. */
  refund_application_fee?: boolean;
}

/**
 * The account and fee of the call tx1 is about to record: from the transaction (authorize, charge, capture, release)
 * or, for a refund, from its charge. Nothing for a platform charge.
 */
export async function connectRequestFields(
  db: Db,
  row: TransactionRow,
  charge: TransactionRow | null,
  action: string,
): Promise<ConnectRequestFields> {
  const owner = charge ?? row;
  if (owner.record_type !== 'charge' || owner.connected_account_id === null) return {};
  const account = await findConnectedAccount(db, owner.connected_account_id);
  if (!account) throw new Error(`transaction ${owner.id} refers to a missing connected account`);
  const fields: ConnectRequestFields = { account: account.gateway_account };
  if ((action === 'authorize' || action === 'charge') && row.application_fee !== null) {
    // The amount may have been edited below the fee since the charge was created: refused here, before any call.
    if (row.application_fee > row.amount)
      throw new ValidationError(
        'invalid_direct_charge',
        `The application fee (${row.application_fee}) exceeds the charge's amount (${row.amount}); raise the amount.`,
        'application_fee_amount',
      );
    fields.application_fee_amount = row.application_fee;
  }
  return fields;
}

/** The gateway to send an attempt through: the one scoped to the request's account, if it names one. */
export function gatewayForRequest(gateway: Gateway, request: ConnectRequestFields): Gateway {
  const account = request.account ?? null;
  if (account === null) return gateway;
  if (!gateway.forAccount)
    throw new ValidationError(
      'connect_not_supported',
      'This gateway cannot act on connected accounts, so a direct charge cannot be sent through it.',
      'connected_account_id',
    );
  return gateway.forAccount(account);
}

/** 400 unless refund_application_fee can apply to this charge (a direct charge with a fee). */
export function checkRefundApplicationFee(charge: TransactionRow, wanted: boolean): void {
  if (!wanted) return;
  if (charge.connected_account_id === null || charge.application_fee === null || charge.application_fee === 0)
    throw new ValidationError(
      'no_application_fee',
      `Transaction ${charge.id} is not a direct charge with an application fee; refund_application_fee applies to those.`,
      'refund_application_fee',
    );
}

/**
 * A direct charge's fee as the gateway holds it: `application_fee` the fee taken (at most what was captured), and
 * `refunded_application_fee` what was given back (never lowered by an older read). Nothing when it is not known.
 */
export function applicationFeeFields(
  row: Pick<TransactionRow, 'refunded_application_fee'>,
  fee: GatewayApplicationFee | null | undefined,
): TransactionChanges {
  if (fee === null || fee === undefined) return {};
  return {
    application_fee: fee.amount,
    refunded_application_fee: Math.max(row.refunded_application_fee, fee.amount_refunded),
  };
}

/** A refund's answer, counted on its charge: the fee's refunded amount as the platform holds it now. */
export function refundedApplicationFee(
  charge: Pick<TransactionRow, 'refunded_application_fee'>,
  fee: GatewayApplicationFee | null | undefined,
): TransactionChanges {
  if (fee === null || fee === undefined) return {};
  return { refunded_application_fee: Math.max(charge.refunded_application_fee, fee.amount_refunded) };
}

/**
 * W2: the connected account of an event (its `account`), as Settle knows it: the connected_accounts row of that
 * gateway and account; undefined when Settle does not know it.
 */
export function knownConnectedAccount(db: Db, gatewayId: string, account: string) {
  return findConnectedAccountByGatewayAccount(db, gatewayId, account);
}

/**
 * W2: a payment read from a connected account (its gateway scoped, so the fee read from the platform) brings its
 * charge's fee figures up to date: a refund made in the account's dashboard with its fee, or a fee refunded on its own.
 * Rows in flight are left to their call. Returns what changed, or null.
 */
export async function syncApplicationFee(
  trx: Db,
  actor: string,
  chargeId: string,
  fee: GatewayApplicationFee | null | undefined,
): Promise<string | null> {
  if (fee === null || fee === undefined) return null;
  const row = await lockTransaction(trx, chargeId);
  if (!row || row.status === 'process' || row.status === 'needs_review') return null;
  const changes = applicationFeeFields(row, fee);
  if (Object.keys(diffChanges(row, changes)).length === 0) return null;
  const action = `application fee ${fee.id} updated at the gateway`;
  const saved = await compareAndSetTransaction(trx, row, changes, actor, action);
  if (!saved) throw new Error(`transaction ${row.id} changed under its row lock`);
  return `${row.id}: ${action}`;
}
