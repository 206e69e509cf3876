// PATCH /v1/transactions/{id}: edit business fields of an open or on-hold transaction; status only
// open <-> on_hold and open -> canceled (L2), through the state machine. Compare-and-set on `version`:
// a concurrent writer makes this edit re-read the row and apply itself again on top, so no update is lost.
import { ConflictError, NotFoundError, StateConflictError, ValidationError } from '../../domain/errors.js';
import { mergeMetadata, parseDate, parseMetadata, parseText } from '../../domain/fields.js';
import { parseAmount, parseCurrency } from '../../domain/money.js';
import { stateLabel, stateOf, transition, type TransactionEvent } from '../../domain/transaction-state.js';
import type { TransactionRow, Tx } from '../../store/schema.js';
import { compareAndSetTransaction, findTransaction, type TransactionChanges } from '../../store/transactions-repo.js';
import {
  type Deps,
  findPaymentMethodRef,
  type RequestContext,
  requireAccount,
  requireContact,
  requirePaymentMethod,
  today,
} from '../deps.js';
import { checkRefundOriginal, type CreateTransactionInput } from './create-transaction.js';
import { presentTransaction, type TransactionView } from './present.js';
import { checkBusinessRules } from './rules.js';

/** The fields PATCH may change: the editable business fields of a create, plus status by hand. */
export type UpdateTransactionInput = Pick<
  CreateTransactionInput,
  | 'amount'
  | 'currency'
  | 'sub_type'
  | 'auto_process'
  | 'authorize'
  | 'capture'
  | 'refund'
  | 'due_date'
  | 'date_to_process'
  | 'payment_method_id'
  | 'dont_auto_update_payment_method'
  | 'account_id'
  | 'contact_id'
  | 'parent_id'
  | 'description'
  | 'metadata'
> & { status?: string };

const EDITABLE_STATUSES = ['open', 'on_hold'];
const MAX_ATTEMPTS = 10;

const STATUS_EVENTS: Record<string, Record<string, TransactionEvent>> = {
  open: { on_hold: 'hold', canceled: 'cancel' },
  on_hold: { open: 'unhold' },
};

/** The status change asked for, checked against the state machine (and the validations setting). */
function nextStatus(
  row: TransactionRow,
  wanted: string,
  validationsEnabled: boolean,
): Pick<TransactionChanges, 'status' | 'payment_status'> {
  if (wanted === row.status) return {};
  const event = STATUS_EVENTS[row.status]?.[wanted];
  if (event) {
    const next = transition(stateOf(row), event);
    return { status: next.status, payment_status: next.payment_status };
  }
  // With validations off (L9, the validations_enabled setting), a record may be canceled from any state but
  // an in-flight one, for data repair.
  if (wanted === 'canceled' && !validationsEnabled && row.status !== 'process') {
    return { status: 'canceled', payment_status: null };
  }
  if (!['open', 'on_hold', 'canceled'].includes(wanted)) {
    throw new ValidationError(
      'status_not_settable',
      `status '${wanted}' is set by Settle, not by hand; by hand a transaction may go open <-> on_hold and open -> canceled.`,
      'status',
    );
  }
  const allowedFrom = Object.entries(STATUS_EVENTS)
    .filter(([, targets]) => wanted in targets)
    .map(([from]) => from);
  throw new StateConflictError(`set status ${wanted} on`, stateLabel(stateOf(row)), allowedFrom);
}

async function computeChanges(
  trx: Tx,
  row: TransactionRow,
  input: UpdateTransactionInput,
  validationsEnabled: boolean,
): Promise<TransactionChanges> {
  const statusChange = input.status === undefined ? {} : nextStatus(row, input.status, validationsEnabled);
  const editsFields = Object.keys(input).some((key) => key !== 'status');
  if (editsFields && !EDITABLE_STATUSES.includes(row.status)) {
    throw new StateConflictError('edit', stateLabel(stateOf(row)), EDITABLE_STATUSES);
  }
  const changes: TransactionChanges = { ...statusChange };
  if (input.amount !== undefined) changes.amount = parseAmount(input.amount, 'amount', 'any');
  if (input.currency !== undefined) changes.currency = parseCurrency(input.currency, 'currency');
  for (const flag of ['auto_process', 'authorize', 'capture', 'refund', 'dont_auto_update_payment_method'] as const) {
    if (input[flag] !== undefined) changes[flag] = input[flag];
  }
  if (input.sub_type !== undefined) changes.sub_type = input.sub_type;
  if (input.due_date !== undefined)
    changes.due_date = input.due_date === null ? null : parseDate(input.due_date, 'due_date');
  if (input.date_to_process !== undefined) {
    changes.date_to_process =
      input.date_to_process === null ? null : parseDate(input.date_to_process, 'date_to_process');
  }
  if (input.description !== undefined) {
    changes.description = input.description === null ? null : parseText(input.description, 'description', 1000);
  }
  if (input.metadata !== undefined) {
    changes.metadata = JSON.stringify(mergeMetadata(row.metadata, parseMetadata(input.metadata, 'metadata', true)));
  }
  if (input.account_id !== undefined && input.account_id !== null) await requireAccount(trx, input.account_id);
  if (input.contact_id !== undefined && input.contact_id !== null) await requireContact(trx, input.contact_id);
  if (input.account_id !== undefined) changes.account_id = input.account_id;
  if (input.contact_id !== undefined) changes.contact_id = input.contact_id;
  // A missing parent is the foreign key's 404 (parent_id); the totals of both parents move in the same statement.
  if (input.parent_id !== undefined) changes.parent_id = input.parent_id;
  if (input.payment_method_id !== undefined) {
    changes.payment_method_id = input.payment_method_id;
    if (input.payment_method_id !== null) {
      const pm = await requirePaymentMethod(trx, input.payment_method_id);
      const accountId = input.account_id !== undefined ? input.account_id : row.account_id;
      const contactId = input.contact_id !== undefined ? input.contact_id : row.contact_id;
      if (accountId === null && pm.account_id !== null) changes.account_id = pm.account_id;
      if (contactId === null && pm.contact_id !== null) changes.contact_id = pm.contact_id;
    }
  }
  const merged = { ...row, ...changes } as TransactionRow;
  checkBusinessRules(merged);
  if (merged.original_transaction_id !== null && (changes.amount !== undefined || changes.currency !== undefined)) {
    await checkRefundOriginal(trx, merged.original_transaction_id, merged.amount, merged.currency);
  }
  return changes;
}

export async function updateTransaction(deps: Deps, ctx: RequestContext, id: string, input: UpdateTransactionInput) {
  if (Object.keys(input).length === 0) {
    throw new ValidationError('parameter_missing', 'Give at least one field to change.');
  }
  const settings = await deps.settings.get();
  const day = await today(deps);
  return deps.commands.run<TransactionView>(ctx.idempotency, async (trx) => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const row = await findTransaction(trx, id);
      if (!row) throw new NotFoundError('transaction', id);
      const changes = await computeChanges(trx, row, input, settings.validations_enabled);
      const action =
        changes.status !== undefined && changes.status !== row.status
          ? `status ${row.status} -> ${changes.status}`
          : 'updated';
      const updated = await compareAndSetTransaction(trx, row, changes, ctx.actor, action);
      if (updated) {
        const pm = updated.payment_method_id
          ? ((await findPaymentMethodRef(trx, updated.payment_method_id)) ?? null)
          : null;
        return { status: 200, body: presentTransaction(updated, pm, day) };
      }
      // Another writer changed the row since we read it: read again and re-apply this edit on top.
    }
    throw new ConflictError(
      'concurrent_update',
      'The transaction kept changing while this edit was applied; retry the request.',
    );
  });
}
