// Balances (M5): the ledger's own figure per gateway and settlement currency, which balance transactions Settle has
// linked, and the `balances` job's snapshots. docs/ARCHITECTURE.md, "Fees, conversion and balances", says what each
// figure counts.
import { sql } from 'kysely';
import type { Db, GatewayRow, TransactionRow } from './schema.js';
import type { BalanceSnapshotsTable } from './schema.js';
import type { Insertable, Selectable } from 'kysely';

export type BalanceSnapshotRow = Selectable<BalanceSnapshotsTable>;
export type NewBalanceSnapshotRow = Insertable<BalanceSnapshotsTable>;

/** The Stripe gateways (one, by id, when `id` is given). */
export function stripeGateways(db: Db, id?: string): Promise<GatewayRow[]> {
  let q = db.selectFrom('gateways').selectAll().where('provider', '=', 'stripe');
  if (id !== undefined) q = q.where('id', '=', id);
  return q.orderBy('id').execute();
}

/**
 * A charge's disputes counted in balance-transaction terms (M3): what they withdrew and the fees, less what they
 * reinstated and the fees given back. The disputes table keeps these from the dispute's balance transactions, in
 * the settlement currency (app/webhooks/sync-dispute.ts), so the sum is the `net` of those balance transactions.
 */
export async function disputesNetOf(db: Db, chargeId: string): Promise<number> {
  const row = await db
    .selectFrom('disputes')
    .select(sql<string>`coalesce(sum(amount_reinstated - amount_withdrawn - fee + fee_reinstated), 0)`.as('net'))
    .where('transaction_id', '=', chargeId)
    .executeTakeFirstOrThrow();
  return Number(row.net);
}

/** The ledger's figure in one settlement currency, by balance status (minor units). */
export interface LedgerFigure {
  currency: string;
  available: number;
  pending: number;
}

/**
 * The `net` of every balance transaction Settle has linked on this gateway, by its balance status, payouts taken off
 * `available`. What a row counts: its `net_amount` when it has one (charges, refunds, dispute adjustments); a payout
 * or a transfer without one, its amount taken out; anything else its amount. Failed and canceled rows count nothing:
 * the gateway reversed their balance transaction with another (a `refund_failure`, a `payout_failure`), which the
 * ledger counts as linked through them. One aggregate statement; the `(gateway_id, ...)` scan is over the gateway's
 * rows with a balance transaction.
 */
export async function ledgerFigures(db: Db, gatewayId: string): Promise<LedgerFigure[]> {
  const rows = await db
    .selectFrom('transactions')
    .select([
      sql<string>`coalesce(settlement_currency, currency)`.as('currency'),
      sql<string>`CASE WHEN record_type = 'payout' THEN 'available' ELSE coalesce(balance_status, 'pending') END`.as(
        'status',
      ),
      sql<string>`sum(CASE
        WHEN net_amount IS NOT NULL THEN net_amount
        WHEN record_type IN ('payout', 'transfer') AND transaction_type = 'normal' THEN -amount
        ELSE amount END)`.as('net'),
    ])
    .where('gateway_id', '=', gatewayId)
    .where('gateway_balance_transaction', 'is not', null)
    .where('status', 'not in', ['failed', 'canceled'])
    .groupBy([sql`1`, sql`2`])
    .execute();
  const figures = new Map<string, LedgerFigure>();
  for (const r of rows) {
    const f = figures.get(r.currency) ?? { currency: r.currency, available: 0, pending: 0 };
    if (r.status === 'available') f.available += Number(r.net);
    else f.pending += Number(r.net);
    figures.set(r.currency, f);
  }
  return [...figures.values()];
}

/** The rows that carry one of these balance transactions on this gateway (a page of the gateway's list at a time). */
export function rowsWithBalanceTransactions(
  db: Db,
  gatewayId: string,
  balanceTransactionIds: readonly string[],
): Promise<TransactionRow[]> {
  if (balanceTransactionIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .where('gateway_balance_transaction', 'in', balanceTransactionIds)
    .execute();
}

/**
 * Which of these gateway object ids (a balance transaction's `source`) Settle knows on this gateway: as a dispute,
 * a refund or a payout, or as a charge's own charge. A balance transaction whose own id no row carries is still
 * linked when its source is one of these (a dispute reinstatement without a fee, a refund's or a payout's failure,
 * the release of an uncaptured remainder, which the charge's `net_amount` already counts).
 */
export async function knownSources(db: Db, gatewayId: string, sources: readonly string[]): Promise<Set<string>> {
  if (sources.length === 0) return new Set();
  const [disputes, refunds, payouts] = await Promise.all([
    db
      .selectFrom('disputes')
      .select('gateway_dispute as id')
      .where('gateway_id', '=', gatewayId)
      .where('gateway_dispute', 'in', sources)
      .execute(),
    db
      .selectFrom('transactions')
      .select('gateway_refund as id')
      .where('gateway_id', '=', gatewayId)
      .where('gateway_refund', 'in', sources)
      .execute(),
    db
      .selectFrom('transactions')
      .select('gateway_payout as id')
      .where('gateway_id', '=', gatewayId)
      .where('gateway_payout', 'in', sources)
      .execute(),
  ]);
  return new Set([...disputes, ...refunds, ...payouts].map((r) => r.id).filter((id): id is string => id !== null));
}

export async function insertBalanceSnapshots(db: Db, rows: readonly NewBalanceSnapshotRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('balance_snapshots')
    .values([...rows])
    .execute();
}

/** The latest snapshots, newest first. */
export function latestBalanceSnapshots(db: Db, gatewayId: string, limit: number): Promise<BalanceSnapshotRow[]> {
  return db
    .selectFrom('balance_snapshots')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .orderBy('taken_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
