// The API's transaction object (its schema: http/schemas/transaction.ts). Derived fields (retained_amount, to_fix,
// invalid_payment_method) are computed here from the row, never stored.
import { retainedAmount } from '../../domain/amounts.js';
import {
  computeToFix,
  isAwaitingAuthentication,
  isPaymentMethodUsable,
  type PaymentMethodLike,
} from '../../domain/to-fix.js';
import type { TransactionRow } from '../../store/schema.js';

export interface TransactionView {
  id: string;
  object: 'transaction';
  record_type: string;
  transaction_type: string;
  status: string;
  payment_status: string | null;
  amount: number;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  disputed_amount: number;
  retained_amount: number;
  non_gateway: boolean;
  sub_type: string | null;
  auto_process: boolean;
  authorize: boolean;
  capture: boolean;
  refund: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  dont_auto_update_payment_method: boolean;
  account_id: string | null;
  contact_id: string | null;
  gateway_id: string | null;
  original_transaction_id: string | null;
  reattempt_of_id: string | null;
  reattempt_number: number;
  uncaptured_method: string | null;
  source: string;
  processing_mode: string;
  gateway_ref: {
    payment_intent: string | null;
    charge: string | null;
    balance_transaction: string | null;
    refund: string | null;
    payout: string | null;
    /** Connect (M6): a transfer's tr_... id. */
    transfer: string | null;
  };
  /** M2: the payout transaction whose payout settled this transaction (set by payout reconciliation). */
  payout_id: string | null;
  /** Connect (M6, migration 0015): the connected account (cac_), the transfer group and a transfer's source charge. */
  connected_account_id: string | null;
  transfer_group: string | null;
  parent_id: string | null;
  invoice_id: string | null;
  schedule_id: string | null;
  /** Issue 20: the order (ord_) the transaction pays; a refund or dispute inherits its charge's. */
  order_id: string | null;
  source_transaction_id: string | null;
  authorization_expires_at: string | null;
  gateway_fee: number | null;
  application_fee: number | null;
  net_amount: number | null;
  /** M3, M4: docs/ARCHITECTURE.md, "Fees, conversion and balances", defines each. */
  settlement_currency: string | null;
  settlement_amount: number | null;
  refunded_gateway_fee: number;
  net_gateway_fee: number | null;
  refunded_application_fee: number;
  net_application_fee: number | null;
  retained_net_amount: number | null;
  exchange_rate: string | null;
  balance_status: string | null;
  available_on: string | null;
  error_code: string | null;
  decline_code: string | null;
  error_message: string | null;
  error_type: string | null;
  advice_code: string | null;
  network_status: string | null;
  risk_level: string | null;
  to_fix: string | null;
  invalid_payment_method: boolean;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  processed_at: string | null;
}

const iso = (value: Date | string | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

/**
 * retained_amount: for a charge, captured - refunded - disputed. A transfer captures nothing: what the connected
 * account keeps of a sent transfer is its amount less what was reversed (kept in refunded_amount), and 0 before it
 * was sent (Connect, M6).
 */
function presentedRetained(row: TransactionRow): number {
  if (row.record_type === 'transfer' && row.transaction_type === 'normal')
    return row.gateway_transfer === null ? 0 : row.amount - row.refunded_amount;
  return retainedAmount(row);
}

/** `paymentMethod` is the linked method (null when none is linked); `today` is in the timezone setting. */
export function presentTransaction(
  row: TransactionRow,
  paymentMethod: PaymentMethodLike | null,
  today: string,
): TransactionView {
  const invalidPaymentMethod = paymentMethod !== null && !isPaymentMethodUsable(paymentMethod, today);
  return {
    id: row.id,
    object: 'transaction',
    record_type: row.record_type,
    transaction_type: row.transaction_type,
    status: row.status,
    payment_status: row.payment_status,
    amount: row.amount,
    currency: row.currency,
    authorized_amount: row.authorized_amount,
    captured_amount: row.captured_amount,
    refunded_amount: row.refunded_amount,
    disputed_amount: row.disputed_amount,
    retained_amount: presentedRetained(row),
    non_gateway: row.non_gateway,
    sub_type: row.sub_type,
    auto_process: row.auto_process,
    authorize: row.authorize,
    capture: row.capture,
    refund: row.refund,
    due_date: row.due_date,
    date_to_process: row.date_to_process,
    payment_method_id: row.payment_method_id,
    dont_auto_update_payment_method: row.dont_auto_update_payment_method,
    account_id: row.account_id,
    contact_id: row.contact_id,
    gateway_id: row.gateway_id,
    original_transaction_id: row.original_transaction_id,
    reattempt_of_id: row.reattempt_of_id,
    reattempt_number: row.reattempt_number,
    uncaptured_method: row.uncaptured_method,
    source: row.source,
    processing_mode: row.processing_mode,
    gateway_ref: {
      payment_intent: row.gateway_payment_intent,
      charge: row.gateway_charge,
      balance_transaction: row.gateway_balance_transaction,
      refund: row.gateway_refund,
      payout: row.gateway_payout,
      transfer: row.gateway_transfer ?? null,
    },
    payout_id: row.payout_id ?? null,
    connected_account_id: row.connected_account_id ?? null,
    transfer_group: row.transfer_group ?? null,
    parent_id: row.parent_id ?? null,
    invoice_id: row.invoice_id ?? null,
    schedule_id: row.schedule_id ?? null,
    order_id: row.order_id ?? null,
    source_transaction_id: row.source_transaction_id ?? null,
    authorization_expires_at: iso(row.authorization_expires_at),
    gateway_fee: row.gateway_fee,
    application_fee: row.application_fee,
    net_amount: row.net_amount,
    ...settlementView(row),
    exchange_rate: row.exchange_rate,
    balance_status: row.balance_status,
    available_on: row.available_on,
    error_code: row.error_code,
    decline_code: row.decline_code,
    error_message: row.error_message,
    error_type: row.error_type,
    advice_code: row.advice_code,
    network_status: row.network_status,
    risk_level: row.risk_level,
    to_fix: computeToFix({
      record_type: row.record_type,
      status: row.status,
      auto_process: row.auto_process,
      due_date: row.due_date,
      date_to_process: row.date_to_process,
      payment_method_id: row.payment_method_id,
      invalid_payment_method: invalidPaymentMethod,
      payment_method_awaiting_authentication: paymentMethod !== null && isAwaitingAuthentication(paymentMethod),
      connected_account_id: row.connected_account_id ?? null,
    }),
    invalid_payment_method: invalidPaymentMethod,
    description: row.description,
    metadata: row.metadata,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    processed_at: iso(row.processed_at),
  };
}

/**
 * M3, M4: the settlement and fee fields. Each comes from the gateway's balance transactions (stored as they came);
 * only differences and sums of them are computed here, never a conversion:
 * - net_gateway_fee = gateway_fee - refunded_gateway_fee; net_application_fee likewise;
 * - retained_net_amount, on a charge: the net of all its balance transactions: its own (net_amount, after a partial
 *   capture's release) + its refunds' (refunds_net_amount) + its disputes' (disputes_net_amount). Stripe keeps its
 *   processing fee when it refunds, so a fully refunded charge ends at minus its fee. On any other transaction its
 *   own net_amount.
 * Null while no balance transaction is known.
 */
export function settlementView(
  row: TransactionRow,
): Pick<
  TransactionView,
  | 'settlement_currency'
  | 'settlement_amount'
  | 'refunded_gateway_fee'
  | 'net_gateway_fee'
  | 'refunded_application_fee'
  | 'net_application_fee'
  | 'retained_net_amount'
> {
  const isCharge = row.record_type === 'charge' && row.transaction_type === 'normal';
  return {
    settlement_currency: row.settlement_currency,
    settlement_amount: row.settlement_amount,
    refunded_gateway_fee: row.refunded_gateway_fee,
    net_gateway_fee: row.gateway_fee === null ? null : row.gateway_fee - row.refunded_gateway_fee,
    refunded_application_fee: row.refunded_application_fee,
    net_application_fee: row.application_fee === null ? null : row.application_fee - row.refunded_application_fee,
    retained_net_amount:
      row.net_amount === null
        ? null
        : isCharge
          ? row.net_amount + row.refunds_net_amount + row.disputes_net_amount
          : row.net_amount,
  };
}
