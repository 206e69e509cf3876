// Connect (M6): the fields of a new transfer transaction, checked on create and clone (transactions/create-transaction.ts).
// A transfer (record_type transfer) is a normal, gateway, positive amount with no payment method or original; it may
// name its connected account (`connected_account_id`, a cac_ record: its gateway becomes the transaction's), a
// `transfer_group` (Stripe's free text, at most 255 characters) and the charge it is funded from
// (`source_transaction_id`: a normal charge in the same currency; Stripe's `source_transaction`,
// docs.stripe.com/connect/separate-charges-and-transfers). A transfer without an account can be saved, and shows a
// to_fix message when auto_process is on (domain/to-fix.ts); `process` refuses it. A payout's fields are checked in
// payout-fields.ts (connected_account_id only). The Connect fields on any other record type are refused for now.
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { parseText } from '../../domain/fields.js';
import { findConnectedAccount } from '../../store/connected-accounts-repo.js';
import type { Db } from '../../store/schema.js';
import { findTransaction } from '../../store/transactions-repo.js';
import type { BusinessFields } from '../transactions/rules.js';
import { checkPayoutFields } from './payout-fields.js';
import { checkDirectChargeFields } from './direct-charges.js';

export interface TransferColumns {
  connected_account_id: string | null;
  transfer_group: string | null;
  source_transaction_id: string | null;
  gateway_id?: string;
  /** A direct charge's requested application fee (direct-charges.ts). */
  application_fee?: number | null;
}

interface TransferInput {
  connected_account_id?: string | null;
  application_fee_amount?: unknown;
  transfer_group?: string | null;
  source_transaction_id?: string | null;
}

const CONNECT_FIELDS = ['connected_account_id', 'transfer_group', 'source_transaction_id'] as const;

/** The Connect columns of a new row; `referencesChecked`: cloned from a row whose references were checked before. */
export async function checkTransferFields(
  db: Db,
  fields: BusinessFields,
  input: TransferInput,
  referencesChecked: boolean,
): Promise<TransferColumns> {
  const given = (field: (typeof CONNECT_FIELDS)[number]) => input[field] !== undefined && input[field] !== null;
  // Direct charges (M6) take connected_account_id and application_fee_amount: their own checks (direct-charges.ts).
  if (fields.record_type === 'charge') return checkDirectChargeFields(db, fields, input, referencesChecked);
  if (input.application_fee_amount !== undefined && input.application_fee_amount !== null)
    throw new ValidationError(
      'parameter_not_allowed',
      'application_fee_amount belongs to direct charges (record_type charge with a connected_account_id).',
      'application_fee_amount',
    );
  // Payouts take connected_account_id (the account they are made on): their own checks (payout-fields.ts).
  if (fields.record_type === 'payout') return checkPayoutFields(db, fields, input, referencesChecked);
  if (fields.record_type !== 'transfer') {
    const field = CONNECT_FIELDS.find(given);
    if (field !== undefined)
      throw new ValidationError(
        'parameter_not_allowed',
        `${field} belongs to transfers (record_type transfer).`,
        field,
      );
    return { connected_account_id: null, transfer_group: null, source_transaction_id: null };
  }
  const refuse = (param: string, message: string) => new ValidationError('invalid_transfer', message, param);
  if (fields.transaction_type !== 'normal')
    throw refuse('transaction_type', 'A transfer is a normal transaction; a reversal is made with POST .../reverse.');
  if (fields.non_gateway) throw refuse('non_gateway', 'A transfer moves money at the gateway: non_gateway is false.');
  if (fields.payment_method_id !== null)
    throw refuse('payment_method_id', 'A transfer goes to a connected account, not to a payment method.');
  if (fields.authorize || fields.capture || fields.refund)
    throw refuse('authorize', 'authorize, capture and refund are for charges; a transfer is sent with process.');
  const columns: TransferColumns = {
    connected_account_id: input.connected_account_id ?? null,
    transfer_group:
      input.transfer_group === undefined || input.transfer_group === null
        ? null
        : parseText(input.transfer_group, 'transfer_group', 255),
    source_transaction_id: input.source_transaction_id ?? null,
  };
  if (referencesChecked) return columns;
  if (columns.connected_account_id !== null) {
    const account = await findConnectedAccount(db, columns.connected_account_id);
    if (!account) throw new NotFoundError('connected_account', columns.connected_account_id, 'connected_account_id');
    columns.gateway_id = account.gateway_id;
  }
  if (columns.source_transaction_id !== null) {
    const source = await findTransaction(db, columns.source_transaction_id);
    if (!source) throw new NotFoundError('transaction', columns.source_transaction_id, 'source_transaction_id');
    if (source.record_type !== 'charge' || source.transaction_type !== 'normal')
      throw refuse('source_transaction_id', 'A transfer is funded from a normal charge.');
    if (source.currency !== fields.currency)
      throw refuse('currency', `A transfer funded from ${source.id} is in its currency, ${source.currency}.`);
  }
  return columns;
}
