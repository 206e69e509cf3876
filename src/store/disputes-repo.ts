// Disputes (M7): one row per gateway dispute of a charge, kept as the gateway last showed it. Written by the
// webhook processor, read through the API (app/disputes.ts).
import type { Kysely, Updateable } from 'kysely';
import type { Database, DisputeRow, DisputesTable, NewDisputeRow } from './schema.js';

type Db = Kysely<Database>;

/** The gateway's dispute as recorded, locked for the rest of the database transaction. */
export function lockDispute(trx: Db, gatewayId: string, gatewayDispute: string): Promise<DisputeRow | undefined> {
  return trx
    .selectFrom('disputes')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .where('gateway_dispute', '=', gatewayDispute)
    .forUpdate()
    .executeTakeFirst();
}

export function updateDispute(trx: Db, id: string, changes: Updateable<DisputesTable>): Promise<DisputeRow> {
  return trx.updateTable('disputes').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function insertDispute(trx: Db, row: NewDisputeRow): Promise<DisputeRow> {
  return trx.insertInto('disputes').values(row).returningAll().executeTakeFirstOrThrow();
}

/** What the charge's disputes have withdrawn and not reinstated (minor units, 0 when none). */
export async function netDisputed(db: Db, chargeId: string): Promise<number> {
  const totals = await db
    .selectFrom('disputes')
    .select((eb) =>
      eb.fn.coalesce(eb.fn.sum<number>(eb('amount_withdrawn', '-', eb.ref('amount_reinstated'))), eb.lit(0)).as('net'),
    )
    .where('transaction_id', '=', chargeId)
    .executeTakeFirstOrThrow();
  return Number(totals.net);
}

export function findDispute(db: Db, id: string): Promise<DisputeRow | undefined> {
  return db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface DisputeFilters {
  transactionId?: string;
  gatewayDispute?: string;
  status?: DisputeRow['status'];
  /** Ids below this one (the previous page's last). */
  idBefore?: string;
}

/** A page of disputes, newest first: `limit` of them and one more, to tell whether more follow. */
export function listDisputesPage(db: Db, filters: DisputeFilters, limit: number): Promise<DisputeRow[]> {
  let q = db
    .selectFrom('disputes')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filters.transactionId !== undefined) q = q.where('transaction_id', '=', filters.transactionId);
  if (filters.gatewayDispute !== undefined) q = q.where('gateway_dispute', '=', filters.gatewayDispute);
  if (filters.status !== undefined) q = q.where('status', '=', filters.status);
  if (filters.idBefore !== undefined) q = q.where('id', '<', filters.idBefore);
  return q.execute();
}
