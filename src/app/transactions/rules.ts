// The business rules a transaction's fields must satisfy together, checked on create, edit and clone.
// Each broken rule is a 400 naming the field.
import { ValidationError } from '../../domain/errors.js';
import { parseAmount, parseCurrency } from '../../domain/money.js';
import type { RecordType, TransactionStatus } from '../../domain/transaction-state.js';

export const CREATABLE_TRANSACTION_TYPES = ['normal', 'refund', 'write_off'] as const;
export const SUB_TYPES = ['cash', 'check', 'wire', 'money_order', 'offline_ach', 'other'] as const;

/** The business fields of a transaction, as they will be stored. */
export interface BusinessFields {
  record_type: RecordType;
  transaction_type: string;
  status: TransactionStatus;
  amount: number;
  currency: string;
  non_gateway: boolean;
  sub_type: string | null;
  auto_process: boolean;
  authorize: boolean;
  capture: boolean;
  refund: boolean;
  due_date: string | null;
  date_to_process: string | null;
  payment_method_id: string | null;
  original_transaction_id: string | null;
}

export function checkRecordType(value: string): asserts value is 'charge' | 'transfer' | 'payout' {
  // Connect (M6): a transfer to a connected account is created by hand and sent by `process` (app/connect/transfers.ts);
  // so is a connected account's payout (app/connect/payouts-send.ts). Platform payouts still come from the gateway.
  if (value === 'charge' || value === 'transfer' || value === 'payout') return;
  const why = `${value} transactions are created by Settle from the gateway's own records`;
  throw new ValidationError(
    'record_type_not_creatable',
    `record_type '${value}' cannot be created through the API: ${why}.`,
    'record_type',
  );
}

/** The rules that tie fields together (L3, L4, P6, P7, P11). */
export function checkBusinessRules(
  f: BusinessFields,
): asserts f is BusinessFields & { transaction_type: (typeof CREATABLE_TRANSACTION_TYPES)[number] } {
  parseCurrency(f.currency, 'currency');
  switch (f.transaction_type) {
    case 'normal':
    case 'write_off':
      parseAmount(f.amount, 'amount', 'positive');
      break;
    case 'refund':
      parseAmount(f.amount, 'amount', 'negative');
      break;
    default:
      throw new ValidationError(
        'invalid_transaction_type',
        `transaction_type must be one of ${CREATABLE_TRANSACTION_TYPES.join(', ')} (reversals belong to transfers).`,
        'transaction_type',
      );
  }
  if (f.transaction_type === 'refund' && f.original_transaction_id === null) {
    throw new ValidationError(
      'original_required',
      'A refund needs original_transaction_id: the charge it refunds.',
      'original_transaction_id',
    );
  }
  if (f.transaction_type !== 'refund' && f.original_transaction_id !== null) {
    throw new ValidationError(
      'original_not_allowed',
      'original_transaction_id is only for refunds (transaction_type refund).',
      'original_transaction_id',
    );
  }
  if (f.transaction_type === 'write_off' && (!f.non_gateway || f.status !== 'completed')) {
    throw new ValidationError(
      'write_off_must_be_non_gateway',
      'A write-off is recorded as non_gateway true with status completed; it never goes through a gateway.',
      f.non_gateway ? 'status' : 'non_gateway',
    );
  }
  if (f.sub_type !== null && !f.non_gateway) {
    throw new ValidationError(
      'sub_type_requires_non_gateway',
      'sub_type describes money moved outside the gateway; set non_gateway true.',
      'sub_type',
    );
  }
  if (f.sub_type !== null && !(SUB_TYPES as readonly string[]).includes(f.sub_type)) {
    throw new ValidationError('invalid_sub_type', `sub_type must be one of ${SUB_TYPES.join(', ')}.`, 'sub_type');
  }
  const flags = (['authorize', 'capture', 'refund'] as const).filter((flag) => f[flag]);
  if (flags.length > 1) {
    throw new ValidationError(
      'conflicting_flags',
      `Set at most one of authorize, capture, refund (got ${flags.join(' and ')}).`,
      flags[1],
    );
  }
  if (f.refund && f.transaction_type !== 'refund') {
    throw new ValidationError(
      'invalid_flag',
      'The refund flag belongs on refund transactions (transaction_type refund).',
      'refund',
    );
  }
  if ((f.authorize || f.capture) && f.transaction_type !== 'normal') {
    throw new ValidationError(
      'invalid_flag',
      'authorize and capture apply to normal charges only.',
      f.authorize ? 'authorize' : 'capture',
    );
  }
  if (f.non_gateway && (f.auto_process || f.authorize || f.capture || f.refund)) {
    throw new ValidationError(
      'non_gateway_not_processable',
      'A non-gateway transaction records money moved outside the gateway; it cannot be auto-processed or flagged for a gateway action.',
      f.auto_process ? 'auto_process' : 'non_gateway',
    );
  }
}
