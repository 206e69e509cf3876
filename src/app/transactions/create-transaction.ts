// POST /v1/transactions and clone (L10). A new transaction starts open (or on_hold); a non-gateway
// payment or write-off may be recorded as completed at once (P6, P7).
import { refundableAmount } from '../../domain/amounts.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { parseDate, parseMetadata, parseText } from '../../domain/fields.js';
import { formatAmount, parseAmount, parseCurrency } from '../../domain/money.js';
import { findOrderRow } from '../../store/orders-repo.js';
import type { Db, NewTransactionRow, TransactionRow, TransactionSource, Tx } from '../../store/schema.js';
import {
  findTransaction,
  insertTransaction,
  lockTransaction,
  sumRefundsInFlight,
} from '../../store/transactions-repo.js';
import {
  type Deps,
  type PaymentMethodRef,
  type RequestContext,
  requireAccount,
  requireContact,
  requirePaymentMethod,
  today,
} from '../deps.js';
import { newId } from '../ids.js';
import { checkTransferFields } from '../connect/transfer-fields.js';
import { type BusinessFields, checkBusinessRules, checkRecordType } from './rules.js';
import { presentTransaction, type TransactionView } from './present.js';

export interface CreateTransactionInput {
  record_type?: string;
  transaction_type?: string;
  status?: string;
  amount?: unknown;
  currency?: unknown;
  non_gateway?: boolean;
  sub_type?: string | null;
  auto_process?: boolean;
  authorize?: boolean;
  capture?: boolean;
  refund?: boolean;
  due_date?: string | null;
  date_to_process?: string | null;
  payment_method_id?: string | null;
  dont_auto_update_payment_method?: boolean;
  account_id?: string | null;
  contact_id?: string | null;
  original_transaction_id?: string | null;
  /** Issue 19: the parent (par_) it belongs to, and the invoice (inv_) it is allocated to in full when created. */
  parent_id?: string | null;
  invoice_id?: string | null;
  /** Issue 20: the order (ord_) it pays, in the order's currency; a refund without one takes its charge's. */
  order_id?: string | null;
  /** Connect (M6): a transfer's connected account (cac_), transfer group and source charge (app/connect/transfers.ts). */
  connected_account_id?: string | null;
  transfer_group?: string | null;
  source_transaction_id?: string | null;
  /** Connect (M6): a direct charge's application fee, minor units (app/connect/direct-charges.ts). */
  application_fee_amount?: unknown;
  description?: string | null;
  metadata?: Record<string, unknown>;
}

const CREATE_STATUSES = ['open', 'on_hold', 'completed'] as const;
const isCreateStatus = (status: string): status is (typeof CREATE_STATUSES)[number] =>
  (CREATE_STATUSES as readonly string[]).includes(status);

/**
 * The order a new transaction names: it must exist and be in the transaction's currency (400 each: the order is a
 * field of the request). Orders are never edited or deleted, so what is read here still holds at the insert.
 */
async function checkOrder(db: Db, orderId: string, currency: string): Promise<void> {
  const order = await findOrderRow(db, orderId);
  if (!order) throw new ValidationError('unknown_order', `No order with id '${orderId}'.`, 'order_id');
  if (order.currency !== currency) {
    throw new ValidationError(
      'currency_mismatch',
      `The order is in ${order.currency}; a transaction on it must be too.`,
      'currency',
    );
  }
}

/** Checks that a refund's original is a charge that can still give back |amount| (locked for the check). */
export async function checkRefundOriginal(
  trx: Tx,
  originalId: string,
  amount: number,
  currency: string,
): Promise<TransactionRow> {
  const original = await lockTransaction(trx, originalId);
  if (!original) throw new NotFoundError('transaction', originalId, 'original_transaction_id');
  if (original.record_type !== 'charge' || original.transaction_type !== 'normal') {
    throw new ValidationError('invalid_original', 'A refund must point to a normal charge.', 'original_transaction_id');
  }
  if (original.currency !== currency) {
    throw new ValidationError(
      'currency_mismatch',
      `A refund is in its charge's currency, ${original.currency}.`,
      'currency',
    );
  }
  const refundable = refundableAmount(original, await sumRefundsInFlight(trx, originalId));
  if (-amount > refundable) {
    throw new ValidationError(
      'amount_exceeds_refundable',
      `The refund of ${formatAmount(-amount, currency)} exceeds what can still be refunded on ${originalId}: ${formatAmount(refundable, currency)}.`,
      'amount',
    );
  }
  return original;
}

function nullable<T>(value: T | null | undefined, parse: (v: T) => T): T | null {
  return value === undefined || value === null ? null : parse(value);
}

/**
 * Validates input and builds the row (without writing). Shared by create and clone. `referencesChecked`: the caller
 * has already read and locked what the row refers to (the refund action, under the lock on its charge, which it has
 * checked): the account, contact, payment method and original are taken as they are, without reading them again (and the
 * payment method is not returned).
 */
/**
 * Every column of a new transaction row with its neutral value (Settle supplies every column: no database defaults
 * are involved); creators override what they know.
 */
export function transactionDefaults(id: string, now: Date): NewTransactionRow {
  return {
    id,
    record_type: 'charge',
    transaction_type: 'normal',
    status: 'open',
    amount: 0,
    currency: 'USD',
    non_gateway: false,
    sub_type: null,
    auto_process: false,
    authorize: false,
    capture: false,
    refund: false,
    due_date: null,
    date_to_process: null,
    payment_method_id: null,
    original_transaction_id: null,
    payment_status: null,
    previous_status: null,
    previous_payment_status: null,
    authorized_amount: 0,
    captured_amount: 0,
    refunded_amount: 0,
    dont_auto_update_payment_method: false,
    account_id: null,
    contact_id: null,
    gateway_id: null,
    reattempt_of_id: null,
    reattempt_number: 0,
    uncaptured_method: null,
    source: 'api',
    processing_mode: 'platform',
    gateway_payment_intent: null,
    gateway_charge: null,
    gateway_balance_transaction: null,
    gateway_refund: null,
    gateway_payout: null,
    disputed_amount: 0,
    authorization_expires_at: null,
    gateway_fee: null,
    application_fee: null,
    net_amount: null,
    exchange_rate: null,
    balance_status: null,
    available_on: null,
    error_code: null,
    decline_code: null,
    error_message: null,
    error_type: null,
    advice_code: null,
    network_status: null,
    risk_level: null,
    // Migration 0014 (M3, M4): the JSON insert sends every column, so the NOT NULL ones need their zero here.
    settlement_currency: null,
    settlement_amount: null,
    refunded_gateway_fee: 0,
    refunded_application_fee: 0,
    refunds_net_amount: 0,
    disputes_net_amount: 0,
    // Migration 0015 (Connect, M6): the JSON insert needs a value for every column.
    connected_account_id: null,
    transfer_group: null,
    source_transaction_id: null,
    gateway_transfer: null,
    // Migration 0016: set by a Connect send's tx1 (app/connect/transfers.ts, reversals.ts).
    sent_at: null,
    parent_id: null,
    invoice_id: null,
    schedule_id: null,
    schedule_occurrence: null,
    order_id: null,
    description: null,
    metadata: '{}',
    version: 1,
    created_at: now,
    updated_at: now,
    processed_at: null,
    // Migration 0013 (M2): set by payout reconciliation only.
    payout_id: null,
  };
}

export async function buildNewTransaction(
  deps: Deps,
  trx: Db,
  input: CreateTransactionInput,
  options: { referencesChecked?: boolean } = {},
): Promise<{ row: NewTransactionRow; paymentMethod: PaymentMethodRef | null }> {
  const recordType = input.record_type ?? 'charge';
  checkRecordType(recordType);
  const status = input.status ?? 'open';
  if (!isCreateStatus(status)) {
    throw new ValidationError(
      'invalid_status',
      'A new transaction is open or on_hold, or completed when it records money moved outside the gateway (non_gateway true).',
      'status',
    );
  }
  const nonGateway = input.non_gateway ?? false;
  if (status === 'completed' && !nonGateway) {
    throw new ValidationError(
      'invalid_status',
      'Only a non_gateway transaction can be created completed; gateway charges complete through an action.',
      'status',
    );
  }
  const transactionType = input.transaction_type ?? 'normal';
  if (status === 'completed' && transactionType === 'refund') {
    throw new ValidationError(
      'invalid_status',
      "A refund is recorded through the refund action on its charge, which keeps the charge's amounts exact; create an open one to schedule it.",
      'status',
    );
  }
  const fields: BusinessFields = {
    record_type: recordType,
    transaction_type: transactionType,
    status,
    amount: parseAmount(input.amount, 'amount', 'any'),
    currency: parseCurrency(input.currency, 'currency'),
    non_gateway: nonGateway,
    sub_type: input.sub_type ?? null,
    auto_process: input.auto_process ?? false,
    authorize: input.authorize ?? false,
    capture: input.capture ?? false,
    refund: input.refund ?? false,
    due_date: nullable(input.due_date, (v) => parseDate(v, 'due_date')),
    date_to_process: nullable(input.date_to_process, (v) => parseDate(v, 'date_to_process')),
    payment_method_id: input.payment_method_id ?? null,
    original_transaction_id: input.original_transaction_id ?? null,
  };
  checkBusinessRules(fields);
  const description = nullable(input.description, (v) => parseText(v, 'description', 1000));
  const metadata =
    input.metadata === undefined ? {} : (parseMetadata(input.metadata, 'metadata', false) as Record<string, string>);

  let accountId = input.account_id ?? null;
  let contactId = input.contact_id ?? null;
  const checked = options.referencesChecked === true;
  if (accountId !== null && !checked) await requireAccount(trx, accountId);
  if (contactId !== null && !checked) await requireContact(trx, contactId);
  let paymentMethod: PaymentMethodRef | null = null; // not read when the references are checked
  if (fields.payment_method_id !== null && !checked) {
    paymentMethod = await requirePaymentMethod(trx, fields.payment_method_id);
    // R5: a transaction with a payment method but no account/contact takes them from the method.
    accountId ??= paymentMethod.account_id;
    contactId ??= paymentMethod.contact_id;
  }
  if (fields.original_transaction_id !== null && !checked) {
    // The refundable amount is checked under a lock on the original, so this needs a transaction.
    if (!trx.isTransaction) throw new Error('a refund must be created inside a database transaction');
    const original = await checkRefundOriginal(
      trx as Tx,
      fields.original_transaction_id,
      fields.amount,
      fields.currency,
    );
    // A refund belongs to its charge's order (the database copies it when none is given); another one is refused.
    if (input.order_id != null && input.order_id !== original.order_id) {
      throw new ValidationError(
        'order_mismatch',
        `A refund belongs to its charge's order (${original.order_id ?? 'none'}).`,
        'order_id',
      );
    }
  }
  const orderId = input.order_id ?? null;
  if (orderId !== null && !checked) await checkOrder(trx, orderId, fields.currency);
  const connect = await checkTransferFields(trx, fields, input, checked);
  const now = deps.clock.now();
  const completed = status === 'completed';
  const row: NewTransactionRow = {
    ...transactionDefaults(newId('transaction', now.getTime()), now),
    ...fields,
    payment_status: completed ? 'captured' : null,
    authorized_amount: completed ? fields.amount : 0,
    captured_amount: completed ? fields.amount : 0,
    dont_auto_update_payment_method: input.dont_auto_update_payment_method ?? false,
    account_id: accountId,
    contact_id: contactId,
    description,
    metadata: JSON.stringify(metadata),
    processed_at: completed ? now : null,
    // A missing parent or invoice is the foreign key's 404; an invoice in another currency or void is refused by the
    // allocation trigger (currency_mismatch, invoice_void), in the same statement.
    parent_id: input.parent_id ?? null,
    invoice_id: input.invoice_id ?? null,
    order_id: orderId,
    ...connect,
  };
  return { row, paymentMethod };
}

/** `source`: how it was made: 'api', or 'console' when the request came through a console session. */
export async function createTransaction(
  deps: Deps,
  ctx: RequestContext,
  input: CreateTransactionInput,
  source: Extract<TransactionSource, 'api' | 'console'> = 'api',
) {
  const day = await today(deps);
  const work = async (db: Db) => {
    const built = await buildNewTransaction(deps, db, input);
    const { paymentMethod } = built;
    const row: NewTransactionRow = { ...built.row, source };
    const inserted = db.isTransaction
      ? await insertTransaction(db, row, ctx.actor)
      : await deps.inserter.insert(row, ctx.actor);
    return { status: 201, body: presentTransaction(inserted, paymentMethod, day) };
  };
  // A refund locks its original while checking amounts; anything else is one atomic insert, group
  // committed with the creates arriving at the same time (the references it checked cannot disappear:
  // nothing deletes payment methods, accounts or contacts, and foreign keys would refuse the insert).
  return input.original_transaction_id || input.invoice_id
    ? deps.commands.run<TransactionView>(ctx.idempotency, work)
    : deps.commands.runSingleStatement<TransactionView>(ctx.idempotency, work);
}

/** L10: a new open transaction with the same business fields; gateway, status and error fields cleared. */
export async function cloneTransaction(deps: Deps, ctx: RequestContext, id: string) {
  const day = await today(deps);
  return deps.commands.run<TransactionView>(ctx.idempotency, async (trx) => {
    const source = await findTransaction(trx, id);
    if (!source) throw new NotFoundError('transaction', id);
    if (source.transaction_type === 'write_off') {
      throw new ValidationError(
        'not_clonable',
        'A write-off is a completed record; create a new write-off instead of cloning one.',
        'id',
      );
    }
    const { row, paymentMethod } = await buildNewTransaction(deps, trx, cloneInput(source));
    const inserted = await insertTransaction(trx, row, ctx.actor, `cloned from ${source.id}`);
    return { status: 201, body: presentTransaction(inserted, paymentMethod, day) };
  });
}

export function cloneInput(source: TransactionRow): CreateTransactionInput {
  return {
    record_type: source.record_type,
    transaction_type: source.transaction_type,
    status: 'open',
    amount: source.amount,
    currency: source.currency,
    non_gateway: source.non_gateway,
    sub_type: source.sub_type,
    auto_process: source.auto_process,
    authorize: source.authorize,
    capture: source.capture,
    refund: source.refund,
    due_date: source.due_date,
    date_to_process: source.date_to_process,
    payment_method_id: source.payment_method_id,
    dont_auto_update_payment_method: source.dont_auto_update_payment_method,
    account_id: source.account_id,
    contact_id: source.contact_id,
    parent_id: source.parent_id,
    order_id: source.order_id,
    original_transaction_id: source.original_transaction_id,
    connected_account_id: source.connected_account_id,
    transfer_group: source.transfer_group,
    source_transaction_id: source.source_transaction_id,
    // A direct charge's fee: as requested, or as the gateway took it once captured.
    application_fee_amount: source.record_type === 'charge' ? source.application_fee : null,
    description: source.description,
    metadata: source.metadata,
  };
}
