// Connect (M6): the fields of a new payout transaction, checked on create and clone (transactions/create-transaction.ts,
// through transfer-fields.ts, which hands payouts here). A payout Settle sends (record_type payout; app/connect/
// payouts-send.ts) is a normal, gateway, positive amount with no original and none of the charge flags. Its
// destination is a connected account (`connected_account_id`, a cac_ record: the payout is made on that account and
// paid from its balance to its own bank account, and the account's gateway becomes the transaction's), or a payment
// method (`payment_method_id`), which can be recorded but not sent yet: `process` refuses it with
// payout_destination_not_supported (the emulator models one bank account per Stripe account and no external accounts
// Settle could name). Not both. A payout with neither can be saved, and shows a to_fix message when auto_process is on
// (domain/to-fix.ts, payout_missing_destination). `transfer_group` and `source_transaction_id` belong to transfers.
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { findConnectedAccount } from '../../store/connected-accounts-repo.js';
import type { Db } from '../../store/schema.js';
import type { BusinessFields } from '../transactions/rules.js';
import type { TransferColumns } from './transfer-fields.js';

interface PayoutInput {
  connected_account_id?: string | null;
  transfer_group?: string | null;
  source_transaction_id?: string | null;
}

const TRANSFER_ONLY = ['transfer_group', 'source_transaction_id'] as const;

/** The Connect columns of a new payout row; `referencesChecked`: cloned from a row whose references were checked. */
export async function checkPayoutFields(
  db: Db,
  fields: BusinessFields,
  input: PayoutInput,
  referencesChecked: boolean,
): Promise<TransferColumns> {
  const transferField = TRANSFER_ONLY.find((f) => input[f] !== undefined && input[f] !== null);
  if (transferField !== undefined)
    throw new ValidationError(
      'parameter_not_allowed',
      `${transferField} belongs to transfers (record_type transfer).`,
      transferField,
    );
  const refuse = (param: string, message: string) => new ValidationError('invalid_payout', message, param);
  if (fields.transaction_type !== 'normal')
    throw refuse('transaction_type', 'A payout is a normal transaction (a positive amount paid out).');
  if (fields.non_gateway)
    throw refuse('non_gateway', 'A payout moves money at the gateway: non_gateway is false (record it as a charge).');
  if (fields.authorize || fields.capture || fields.refund)
    throw refuse('authorize', 'authorize, capture and refund are for charges; a payout is sent with process.');
  const columns: TransferColumns = {
    connected_account_id: input.connected_account_id ?? null,
    transfer_group: null,
    source_transaction_id: null,
  };
  if (columns.connected_account_id !== null && fields.payment_method_id !== null)
    throw refuse(
      'payment_method_id',
      'A payout has one destination: a connected account (paid to its bank account) or a payment method, not both.',
    );
  if (referencesChecked || columns.connected_account_id === null) return columns;
  const account = await findConnectedAccount(db, columns.connected_account_id);
  if (!account) throw new NotFoundError('connected_account', columns.connected_account_id, 'connected_account_id');
  return { ...columns, gateway_id: account.gateway_id };
}
