// Payout reconciliation (M2): the reconciliation row of each payout transaction, the items (balance transactions) a
// payout settled, the lookups that link an item to the Settle transaction it came from, and the batched write of a
// run (items, `transactions.payout_id` and its history rows in one database transaction). app/payouts/ decides; this
// module only reads and writes.
import { type Kysely, sql, type Updateable } from 'kysely';
import { insertHistory, type HistoryEntry } from './history.js';
import type {
  Database,
  NewPayoutItemRow,
  PayoutItemRow,
  PayoutReconciliationRow,
  PayoutReconciliationsTable,
  TransactionRow,
} from './schema.js';

type Db = Kysely<Database>;

// ---- reconciliation rows ---------------------------------------------------------------------------------------

export interface ReconciliationSeed {
  transaction_id: string;
  gateway_id: string;
  automatic: boolean;
  method: string;
  gateway_reconciliation_status: string;
  reconciliation_status: PayoutReconciliationRow['reconciliation_status'];
  due: boolean;
  now: Date;
}

/**
 * Records what the gateway said about a payout (a webhook's read, the backfill). A new row takes `seed` as it is; an
 * existing one takes the gateway's fields, and becomes due when the gateway's reconciliation completed while Settle's
 * is still pending. Nothing is written when nothing changes.
 */
export async function upsertReconciliation(db: Db, seed: ReconciliationSeed): Promise<void> {
  const { now, ...row } = seed;
  await db
    .insertInto('payout_reconciliations')
    .values({ ...row, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc
        .column('transaction_id')
        .doUpdateSet((eb) => ({
          automatic: eb.ref('excluded.automatic'),
          method: eb.ref('excluded.method'),
          gateway_reconciliation_status: eb.ref('excluded.gateway_reconciliation_status'),
          due: sql<boolean>`payout_reconciliations.due or (excluded.due and payout_reconciliations.reconciliation_status = 'pending')`,
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where(
          sql<boolean>`(payout_reconciliations.automatic, payout_reconciliations.method, payout_reconciliations.gateway_reconciliation_status)
          is distinct from (excluded.automatic, excluded.method, excluded.gateway_reconciliation_status)
          or (excluded.due and not payout_reconciliations.due and payout_reconciliations.reconciliation_status = 'pending')`,
        ),
    )
    .execute();
}

export function findReconciliation(db: Db, transactionId: string): Promise<PayoutReconciliationRow | undefined> {
  return db
    .selectFrom('payout_reconciliations')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .executeTakeFirst();
}

/** Locks the reconciliation row: two runs of one payout write one after the other. */
export function lockReconciliation(db: Db, transactionId: string): Promise<PayoutReconciliationRow | undefined> {
  return db
    .selectFrom('payout_reconciliations')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .forUpdate()
    .executeTakeFirst();
}

export type ReconciliationChanges = Partial<
  Pick<
    Updateable<PayoutReconciliationsTable>,
    | 'reconciliation_status'
    | 'due'
    | 'items_count'
    | 'items_total'
    | 'unmatched_count'
    | 'missing_count'
    | 'mismatch_reason'
    | 'reconciled_at'
    | 'gateway_reconciliation_status'
  >
>;

export async function updateReconciliation(
  db: Db,
  transactionId: string,
  changes: ReconciliationChanges,
  now: Date,
): Promise<void> {
  await db
    .updateTable('payout_reconciliations')
    .set({ ...changes, updated_at: now })
    .where('transaction_id', '=', transactionId)
    .execute();
}

/** Payouts the job should reconcile now, oldest first. */
export async function dueReconciliations(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('payout_reconciliations')
    .select('transaction_id')
    .where('due', '=', true)
    .orderBy('transaction_id', 'asc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.transaction_id);
}

// ---- the payout list ------------------------------------------------------------------------------------------

export type PayoutListRow = TransactionRow & {
  reconciliation: PayoutReconciliationRow | null;
};

export interface PayoutFilters {
  reconciliationStatus?: PayoutReconciliationRow['reconciliation_status'];
  /** Ids below this one (the previous page's last). */
  idBefore?: string;
}

async function withReconciliations(db: Db, rows: TransactionRow[]): Promise<PayoutListRow[]> {
  if (rows.length === 0) return [];
  const recs = await db
    .selectFrom('payout_reconciliations')
    .selectAll()
    .where(
      'transaction_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const byId = new Map(recs.map((r) => [r.transaction_id, r]));
  return rows.map((r) => ({ ...r, reconciliation: byId.get(r.id) ?? null }));
}

/** A page of payout transactions, newest first: `limit` of them and one more, to tell whether more follow. */
export async function listPayoutsPage(db: Db, filters: PayoutFilters, limit: number): Promise<PayoutListRow[]> {
  let q = db
    .selectFrom('transactions')
    .selectAll('transactions')
    .where('transactions.record_type', '=', 'payout')
    .orderBy('transactions.id', 'desc')
    .limit(limit + 1);
  if (filters.idBefore !== undefined) q = q.where('transactions.id', '<', filters.idBefore);
  if (filters.reconciliationStatus !== undefined) {
    const status = filters.reconciliationStatus;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('payout_reconciliations as r')
          .select('r.transaction_id')
          .whereRef('r.transaction_id', '=', 'transactions.id')
          .where('r.reconciliation_status', '=', status),
      ),
    );
  }
  return withReconciliations(db, await q.execute());
}

export async function findPayoutRow(db: Db, id: string): Promise<PayoutListRow | undefined> {
  const row = await db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [out] = await withReconciliations(db, [row]);
  return out;
}

// ---- items ----------------------------------------------------------------------------------------------------

/** A page of a payout's items in the order the gateway listed them (ids are time-ordered). */
export function listItemsPage(db: Db, payoutId: string, limit: number, idAfter?: string): Promise<PayoutItemRow[]> {
  let q = db
    .selectFrom('payout_items')
    .selectAll()
    .where('payout_transaction_id', '=', payoutId)
    .orderBy('id', 'asc')
    .limit(limit + 1);
  if (idAfter !== undefined) q = q.where('id', '>', idAfter);
  return q.execute();
}

/** A page of (id, balance transaction) of a payout's items, for finding those the gateway no longer lists. */
export function itemKeysPage(
  db: Db,
  payoutId: string,
  limit: number,
  idAfter: string | null,
): Promise<{ id: string; gateway_balance_transaction: string }[]> {
  let q = db
    .selectFrom('payout_items')
    .select(['id', 'gateway_balance_transaction'])
    .where('payout_transaction_id', '=', payoutId)
    .orderBy('id', 'asc')
    .limit(limit);
  if (idAfter !== null) q = q.where('id', '>', idAfter);
  return q.execute();
}

export async function deleteItems(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.deleteFrom('payout_items').where('id', 'in', ids).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface ItemTotals {
  items_count: number;
  items_total: number;
  /** Items without a transaction, of every kind. */
  unmatched_count: number;
  /** Items of a kind Settle records that matched nothing (each one a mismatch). */
  unmatched_recorded: number;
  /** Items currencies (a payout is in one currency; more than one is a mismatch). */
  currencies: number;
}

export async function itemTotals(db: Db, payoutId: string): Promise<ItemTotals> {
  const row = await db
    .selectFrom('payout_items')
    .select((eb) => [
      eb.fn.countAll<string>().as('items_count'),
      eb.fn.coalesce(eb.fn.sum<string>('net'), eb.lit(0)).as('items_total'),
      sql<string>`count(*) filter (where transaction_id is null)`.as('unmatched_count'),
      sql<string>`count(*) filter (where transaction_id is null and recorded_kind)`.as('unmatched_recorded'),
      sql<string>`count(distinct currency)`.as('currencies'),
    ])
    .where('payout_transaction_id', '=', payoutId)
    .executeTakeFirstOrThrow();
  return {
    items_count: Number(row.items_count),
    items_total: Number(row.items_total),
    unmatched_count: Number(row.unmatched_count),
    unmatched_recorded: Number(row.unmatched_recorded),
    currencies: Number(row.currencies),
  };
}

/**
 * Transactions whose `payout_id` names the payout but that none of its items links to (no longer listed). Two
 * anti-joins (not one with an OR), so that each is a hash anti-join or an index probe, never a scan per row.
 */
export async function countMissing(db: Db, payoutId: string): Promise<number> {
  const row = await db
    .selectFrom('transactions as t')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('t.payout_id', '=', payoutId)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('payout_items as i')
            .select('i.id')
            .where('i.payout_transaction_id', '=', payoutId)
            .whereRef('i.transaction_id', '=', 't.id'),
        ),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('payout_items as f')
            .select('f.id')
            .where('f.payout_transaction_id', '=', payoutId)
            .whereRef('f.fee_transaction_id', '=', 't.id'),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---- matching -------------------------------------------------------------------------------------------------

/** What an item can be matched by (gateway ids), gathered for a batch. */
export interface MatchKeys {
  charges: string[];
  refunds: string[];
  balanceTransactions: string[];
  payouts: string[];
  disputes: string[];
}

export interface MatchCandidates {
  /** ch_... -> the normal charge transaction. */
  byCharge: Map<string, string>;
  /** re_... -> the refund transaction. */
  byRefund: Map<string, string>;
  /** txn_... -> transactions that keep that balance transaction (charges, refunds, adjustments). */
  byBalanceTransaction: Map<string, { id: string; record_type: string }>;
  /** po_... -> the payout transaction. */
  byPayout: Map<string, string>;
  /** du_... -> the disputed charge transaction. */
  byDispute: Map<string, string>;
}

const unique = (values: readonly string[]): string[] => [...new Set(values)];

export async function findMatchCandidates(db: Db, gatewayId: string, keys: MatchKeys): Promise<MatchCandidates> {
  const out: MatchCandidates = {
    byCharge: new Map(),
    byRefund: new Map(),
    byBalanceTransaction: new Map(),
    byPayout: new Map(),
    byDispute: new Map(),
  };
  const charges = unique(keys.charges);
  const refunds = unique(keys.refunds);
  const bts = unique(keys.balanceTransactions);
  const payouts = unique(keys.payouts);
  const disputes = unique(keys.disputes);
  const columns = [
    'id',
    'record_type',
    'transaction_type',
    'gateway_charge',
    'gateway_refund',
    'gateway_balance_transaction',
    'gateway_payout',
  ] as const;
  const base = () => db.selectFrom('transactions').select(columns).where('gateway_id', '=', gatewayId);
  const [byCharge, byRefund, byBt, byPayout, byDispute] = await Promise.all([
    charges.length === 0
      ? []
      : base()
          .where('gateway_charge', 'in', charges)
          .where('record_type', '=', 'charge')
          .where('transaction_type', '=', 'normal')
          .execute(),
    refunds.length === 0 ? [] : base().where('gateway_refund', 'in', refunds).execute(),
    bts.length === 0 ? [] : base().where('gateway_balance_transaction', 'in', bts).execute(),
    payouts.length === 0 ? [] : base().where('gateway_payout', 'in', payouts).execute(),
    disputes.length === 0
      ? []
      : db
          .selectFrom('disputes')
          .select(['gateway_dispute', 'transaction_id'])
          .where('gateway_id', '=', gatewayId)
          .where('gateway_dispute', 'in', disputes)
          .execute(),
  ]);
  for (const r of byCharge) if (r.gateway_charge !== null) out.byCharge.set(r.gateway_charge, r.id);
  for (const r of byRefund) if (r.gateway_refund !== null) out.byRefund.set(r.gateway_refund, r.id);
  for (const r of byBt)
    if (r.gateway_balance_transaction !== null)
      out.byBalanceTransaction.set(r.gateway_balance_transaction, { id: r.id, record_type: r.record_type });
  for (const r of byPayout) if (r.gateway_payout !== null) out.byPayout.set(r.gateway_payout, r.id);
  for (const r of byDispute) out.byDispute.set(r.gateway_dispute, r.transaction_id);
  return out;
}

// ---- the batched write ----------------------------------------------------------------------------------------

export interface ItemWrite {
  item: Omit<NewPayoutItemRow, 'id' | 'created_at' | 'updated_at'> & { id: string };
}

export interface BatchResult {
  itemsWritten: number;
  linked: number;
}

/**
 * Writes a batch of items (insert, or update when what the gateway or the match says changed) and sets `payout_id`
 * on the transactions `owners` names, each with its history row. Transactions are locked in id order (the lock
 * order of every multi-row write). A row that already says what the batch says is not touched: a second run writes
 * nothing.
 */
export async function writeItemsBatch(
  trx: Db,
  payoutId: string,
  items: readonly ItemWrite['item'][],
  owners: readonly string[],
  actor: string,
  action: string,
  now: Date,
): Promise<BatchResult> {
  let itemsWritten = 0;
  if (items.length > 0) {
    const written = await trx
      .insertInto('payout_items')
      .values(items.map((i) => ({ ...i, created_at: now, updated_at: now })))
      .onConflict((oc) =>
        oc
          .columns(['payout_transaction_id', 'gateway_balance_transaction'])
          .doUpdateSet((eb) => ({
            type: eb.ref('excluded.type'),
            reporting_category: eb.ref('excluded.reporting_category'),
            source: eb.ref('excluded.source'),
            amount: eb.ref('excluded.amount'),
            fee: eb.ref('excluded.fee'),
            net: eb.ref('excluded.net'),
            currency: eb.ref('excluded.currency'),
            recorded_kind: eb.ref('excluded.recorded_kind'),
            transaction_id: eb.ref('excluded.transaction_id'),
            fee_transaction_id: eb.ref('excluded.fee_transaction_id'),
            unmatched_reason: eb.ref('excluded.unmatched_reason'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where(
            sql<boolean>`(payout_items.type, payout_items.reporting_category, payout_items.source, payout_items.amount,
              payout_items.fee, payout_items.net, payout_items.currency, payout_items.recorded_kind,
              payout_items.transaction_id, payout_items.fee_transaction_id, payout_items.unmatched_reason)
              is distinct from (excluded.type, excluded.reporting_category, excluded.source, excluded.amount,
              excluded.fee, excluded.net, excluded.currency, excluded.recorded_kind, excluded.transaction_id,
              excluded.fee_transaction_id, excluded.unmatched_reason)`,
          ),
      )
      .returning('id')
      .execute();
    itemsWritten = written.length;
  }
  const ids = unique(owners).sort();
  if (ids.length === 0) return { itemsWritten, linked: 0 };
  const locked = await trx
    .selectFrom('transactions')
    .select(['id', 'payout_id'])
    .where('id', 'in', ids)
    .orderBy('id', 'asc')
    .forUpdate()
    .execute();
  const change = locked.filter((r) => r.payout_id !== payoutId);
  if (change.length === 0) return { itemsWritten, linked: 0 };
  await trx
    .updateTable('transactions')
    .set((eb) => ({ payout_id: payoutId, version: eb('version', '+', 1), updated_at: now }))
    .where(
      'id',
      'in',
      change.map((r) => r.id),
    )
    .execute();
  const history: HistoryEntry[] = change.map((r) => ({
    transaction_id: r.id,
    actor,
    action,
    changes: { payout_id: [r.payout_id, payoutId] },
  }));
  await insertHistory(trx, history);
  return { itemsWritten, linked: change.length };
}
