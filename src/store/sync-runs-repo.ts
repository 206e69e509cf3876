// The sync_runs table (migration 0012) and the ledger reads the backfill counts with (W6): starting a run (never two
// of one gateway at once), the lease of the process carrying it, a page's progress written in the page's own commit,
// finishing, and reading the history. What a run means and how it is shown stays in app/sync/.
import { type Kysely, sql, type UpdateObject } from 'kysely';
import type { Database, SyncProgress, SyncRunRow, SyncRunStatus, TransactionRow } from './schema.js';

type Db = Kysely<Database>;

export interface NewSyncRun {
  id: string;
  gatewayId: string;
  since: Date;
  until: Date | null;
  objects: readonly string[];
  trigger: 'api' | 'cli';
  startedBy: string;
  progress: SyncProgress;
  worker: string;
  leaseUntil: Date;
  now: Date;
}

/** Inserts a running run; `{ running }` (the run already under way) when the gateway has one (the unique index decides). */
export async function startSyncRun(
  db: Db,
  input: NewSyncRun,
): Promise<{ started: SyncRunRow } | { running: SyncRunRow }> {
  for (let tries = 0; tries < 3; tries += 1) {
    const started = await db
      .insertInto('sync_runs')
      .values({
        id: input.id,
        gateway_id: input.gatewayId,
        since: input.since,
        until: input.until,
        objects: JSON.stringify(input.objects),
        status: 'running',
        trigger: input.trigger,
        started_by: input.startedBy,
        progress: JSON.stringify(input.progress),
        worker: input.worker,
        lease_until: input.leaseUntil,
        created_at: input.now,
        updated_at: input.now,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (started) return { started };
    const running = await runningSyncOf(db, input.gatewayId);
    if (running) return { running };
    // The running one finished between the two statements: try again.
  }
  throw new Error(`could not start a sync of ${input.gatewayId}: its running sync kept changing`);
}

export function findSyncRun(db: Db, id: string): Promise<SyncRunRow | undefined> {
  return db.selectFrom('sync_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export function runningSyncOf(db: Db, gatewayId: string): Promise<SyncRunRow | undefined> {
  return db
    .selectFrom('sync_runs')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .where('status', '=', 'running')
    .executeTakeFirst();
}

/** Newest first (ids sort by creation); `after` is the id of the last run of the previous page. */
export function listSyncRunRows(db: Db, query: { after?: string | undefined; limit: number }): Promise<SyncRunRow[]> {
  let q = db.selectFrom('sync_runs').selectAll();
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q.orderBy('id', 'desc').limit(query.limit).execute();
}

/** Running runs whose lease has lapsed (their process died or stopped), oldest first. */
export function orphanedSyncRuns(db: Db, now: Date): Promise<SyncRunRow[]> {
  return db
    .selectFrom('sync_runs')
    .selectAll()
    .where('status', '=', 'running')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('created_at')
    .execute();
}

/**
 * Takes the lease of a running run: when it has lapsed, or it is already this worker's (`force`: whoever holds it,
 * for a caller that knows its holder is dead). The run as taken, or undefined.
 */
export function takeSyncLease(
  db: Db,
  input: { id: string; worker: string; now: Date; until: Date; force?: boolean },
): Promise<SyncRunRow | undefined> {
  let q = db
    .updateTable('sync_runs')
    .set({ worker: input.worker, lease_until: input.until, updated_at: input.now })
    .where('id', '=', input.id)
    .where('status', '=', 'running');
  if (!input.force) {
    q = q.where((eb) =>
      eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', input.now), eb('worker', '=', input.worker)]),
    );
  }
  return q.returningAll().executeTakeFirst();
}

/** Writes `set` on the run while `worker` holds it and it is running; false otherwise. */
async function updateHeld(
  db: Db,
  run: { id: string; worker: string },
  set: UpdateObject<Database, 'sync_runs'>,
): Promise<boolean> {
  const result = await db
    .updateTable('sync_runs')
    .set(set)
    .where('id', '=', run.id)
    .where('worker', '=', run.worker)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Renews the lease while this worker holds it; false when another took the run over (or it is over). */
export function renewSyncLease(
  db: Db,
  input: { id: string; worker: string; now?: Date; until: Date },
): Promise<boolean> {
  return updateHeld(db, input, { lease_until: input.until });
}

/**
 * A page's progress, in the page's own database transaction: false when this worker no longer holds the run (the
 * caller rolls the page back, so nothing is written twice by two workers).
 */
export function saveSyncProgress(
  trx: Db,
  input: { id: string; worker: string; progress: SyncProgress; now: Date },
): Promise<boolean> {
  return updateHeld(trx, input, {
    progress: JSON.stringify(input.progress),
    pages: sql<number>`pages + 1`,
    updated_at: input.now,
  });
}

/** Ends a running run (completed, failed with its error, canceled); false when it was not running any more. */
export async function finishSyncRun(
  db: Db,
  input: { id: string; status: Exclude<SyncRunStatus, 'running'>; error: string | null; now: Date; worker?: string },
): Promise<boolean> {
  let q = db
    .updateTable('sync_runs')
    .set({ status: input.status, error: input.error, finished_at: input.now, updated_at: input.now, lease_until: null })
    .where('id', '=', input.id)
    .where('status', '=', 'running');
  if (input.worker !== undefined) q = q.where('worker', '=', input.worker);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// Ledger reads for the counts: the version of each row a page touches, before and after it is applied, tells what
// the page created, updated or left as it was.

/** The version of the normal charge of each payment (by the payment's id). */
export async function chargeVersions(db: Db, paymentIntentIds: readonly string[]): Promise<Map<string, number>> {
  if (paymentIntentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('transactions')
    .select(['gateway_payment_intent', 'version'])
    .where('gateway_payment_intent', 'in', [...paymentIntentIds])
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .execute();
  return new Map(rows.map((r) => [r.gateway_payment_intent ?? '', r.version]));
}

/** The version of the transaction recording each gateway object of `column` (a refund, a payout, a balance transaction). */
export async function versionsByGatewayRef(
  db: Db,
  column: 'gateway_refund' | 'gateway_payout' | 'gateway_balance_transaction',
  ids: readonly string[],
): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('transactions')
    .select([column, 'version'])
    .where(column, 'in', [...ids])
    .execute();
  const map = new Map<string, number>();
  for (const r of rows) {
    const key = r[column];
    if (key !== null) map.set(key, Math.max(map.get(key) ?? 0, r.version));
  }
  return map;
}

/** The version of each dispute record (by the gateway's dispute id). */
export async function disputeVersions(db: Db, gatewayId: string, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('disputes')
    .select(['gateway_dispute', 'version'])
    .where('gateway_id', '=', gatewayId)
    .where('gateway_dispute', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.gateway_dispute, r.version]));
}

/** The version of each payment method saved with one of the gateway tokens. */
export async function paymentMethodVersions(db: Db, tokens: readonly string[]): Promise<Map<string, number>> {
  if (tokens.length === 0) return new Map();
  const rows = await db
    .selectFrom('payment_methods')
    .select(['gateway_token', 'version'])
    .where('gateway_token', 'in', [...tokens])
    .execute();
  return new Map(rows.map((r) => [r.gateway_token, r.version]));
}

/** The transactions recording any of the balance transactions, locked for the rest of the database transaction. */
export function lockTransactionsByBalanceTransaction(trx: Db, ids: readonly string[]): Promise<TransactionRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return trx
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_balance_transaction', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
}
