// What an order's ensure funds and ensure refunds (app/order-servicing.ts) read under the order's lock (lockOrder in
// orders-repo.ts): the charges they can act on, and what those charges' refunds in flight add up to. And the record
// of which gateway attempts a request with an Idempotency-Key started (order_requests), from which a retry of that
// key after a crash answers instead of planning again.
import { sql } from 'kysely';
import { parseInt8 } from './database.js';
import type { Db, GatewayAttemptRow, TransactionRow, Tx } from './schema.js';

/** Which of an order's charges a plan is made from. */
export type OrderChargeUse = 'capture' | 'refund';

/** The payment statuses of a completed charge that still holds captured money to refund (as actions.ts CAPTURED_STATES). */
const REFUNDABLE_PAYMENT_STATUSES = ['captured', 'partially_captured', 'partially_refunded'] as const;

/**
 * The order's normal gateway charges that `use` can act on, in id order (ids follow creation, so oldest first): for a
 * capture its authorizations (completed/authorized), for a refund its captured charges. Only charges in the order's
 * currency with a payment method and a PaymentIntent count: they are the ones with a payment summary. A charge in
 * `process` (a call of its own under way) is in neither state, so it is not available.
 * `paymentMethodId` restricts the charges to one summary's.
 *
 * Read under the order's lock (lockOrder), by a statement after the one that took it, so it sees what every earlier
 * capture or refund of the order committed. The rows are not locked here: each planned action locks its own row
 * (loadForAction) and its planner checks it again there, so a charge changed meanwhile by a path that does not take
 * the order's lock (an action on the transaction itself) makes the request a 409 or 400 with nothing written.
 */
export function orderChargesFor(
  db: Db | Tx,
  order: { id: string; currency: string },
  use: OrderChargeUse,
  paymentMethodId?: string,
): Promise<TransactionRow[]> {
  let q = db
    .selectFrom('transactions')
    .selectAll()
    .where('order_id', '=', order.id)
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .where('non_gateway', '=', false)
    .where('currency', '=', order.currency)
    .where('payment_method_id', 'is not', null)
    .where('gateway_payment_intent', 'is not', null)
    .where('status', '=', 'completed');
  q =
    use === 'capture'
      ? q.where('payment_status', '=', 'authorized')
      : q.where('payment_status', 'in', REFUNDABLE_PAYMENT_STATUSES);
  if (paymentMethodId !== undefined) q = q.where('payment_method_id', '=', paymentMethodId);
  return q.orderBy('id').execute();
}

/**
 * What the refunds in flight (`process`, `needs_review`) of each charge add up to, positive minor units, 0 for a
 * charge without any (as sumRefundsInFlight in transactions-repo.ts). Read, like the charges, by a statement after
 * the one that took the order's lock: a statement that waited for a lock still sees other rows as of its own start.
 */
export async function refundsInFlightOf(db: Db | Tx, chargeIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(chargeIds.map((id) => [id, 0]));
  if (chargeIds.length === 0) return out;
  const rows = await db
    .selectFrom('transactions')
    .select(['original_transaction_id', sql<string>`sum(amount)`.as('total')])
    .where('original_transaction_id', 'in', chargeIds)
    .where('transaction_type', '=', 'refund')
    .where('status', 'in', ['process', 'needs_review'])
    .groupBy('original_transaction_id')
    .execute();
  for (const row of rows) {
    if (row.original_transaction_id !== null) out.set(row.original_transaction_id, 0 - Number(row.total));
  }
  return out;
}

/** The request that started attempts: its API key and Idempotency-Key. */
export interface OrderRequestKey {
  apiKeyId: string;
  key: string;
}

/** What one ensure-funds or ensure-refunds request started: its attempts in plan order, each with its amount. */
export interface OrderRequest {
  orderId: string;
  kind: OrderChargeUse;
  attemptIds: string[];
  amounts: number[];
}

/**
 * Records the attempts a request started, in the database transaction that started them (tx1), so that they are
 * committed together or not at all. The key's primary key is never met twice: the caller reads the row first, under
 * the lock of the key's idempotency record (findOrderRequest).
 */
export async function insertOrderRequest(trx: Tx, key: OrderRequestKey, request: OrderRequest): Promise<void> {
  await trx
    .insertInto('order_requests')
    .values({
      api_key_id: key.apiKeyId,
      idempotency_key: key.key,
      order_id: request.orderId,
      kind: request.kind,
      attempt_ids: sql<string[]>`${sql.val(request.attemptIds)}::text[]`,
      amounts: sql<number[]>`${sql.val(request.amounts)}::int8[]`,
    })
    .execute();
}

/** The attempts an earlier run of this key started, if it got as far as starting them (its tx1 committed). */
export async function findOrderRequest(db: Db | Tx, key: OrderRequestKey): Promise<OrderRequest | undefined> {
  const row = await db
    .selectFrom('order_requests')
    .select(['order_id', 'kind', 'attempt_ids', 'amounts'])
    .where('api_key_id', '=', key.apiKeyId)
    .where('idempotency_key', '=', key.key)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    orderId: row.order_id,
    kind: row.kind,
    attemptIds: row.attempt_ids,
    // An int8[] comes back as text elements (the int8 parser applies to scalars only): the same safe-number rule.
    amounts: row.amounts.map((amount) => parseInt8(String(amount))),
  };
}

/** An attempt as it stands, with its transaction and (a refund's) charge. */
export interface AttemptWithRows {
  attempt: GatewayAttemptRow;
  transaction: TransactionRow;
  charge: TransactionRow | null;
}

/** The attempts, in the order of `attemptIds`, each with its transaction and charge as they stand now. */
export async function attemptsWithRows(db: Db, attemptIds: readonly string[]): Promise<AttemptWithRows[]> {
  if (attemptIds.length === 0) return [];
  const attempts = await db.selectFrom('gateway_attempts').selectAll().where('id', 'in', attemptIds).execute();
  const rowIds = [
    ...new Set(
      attempts.flatMap((a) => [a.transaction_id, ...(a.charge_transaction_id ? [a.charge_transaction_id] : [])]),
    ),
  ];
  const rows = new Map(
    (await db.selectFrom('transactions').selectAll().where('id', 'in', rowIds).execute()).map((r) => [r.id, r]),
  );
  const byId = new Map(attempts.map((a) => [a.id, a]));
  return attemptIds.map((id) => {
    const attempt = byId.get(id);
    if (!attempt) throw new Error(`order request names a missing gateway attempt ${id}`);
    const transaction = rows.get(attempt.transaction_id);
    if (!transaction) throw new Error(`gateway attempt ${id} refers to a missing transaction`);
    const charge = attempt.charge_transaction_id === null ? null : (rows.get(attempt.charge_transaction_id) ?? null);
    return { attempt, transaction, charge };
  });
}
