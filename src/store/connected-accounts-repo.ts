// The connected_accounts table (migration 0015, Connect M6): inserts and the reads of app/connect/.
import type { Insertable } from 'kysely';
import type { ConnectedAccountRow, ConnectedAccountsTable, Db, Tx } from './schema.js';

export function insertConnectedAccount(
  trx: Db | Tx,
  row: Insertable<ConnectedAccountsTable>,
): Promise<ConnectedAccountRow> {
  return trx.insertInto('connected_accounts').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findConnectedAccount(db: Db | Tx, id: string): Promise<ConnectedAccountRow | undefined> {
  return db.selectFrom('connected_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findConnectedAccountByGatewayAccount(
  db: Db | Tx,
  gatewayId: string,
  gatewayAccount: string,
): Promise<ConnectedAccountRow | undefined> {
  return db
    .selectFrom('connected_accounts')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .where('gateway_account', '=', gatewayAccount)
    .executeTakeFirst();
}

/** A page of connected accounts (of one gateway when given), newest first (one more than `limit`). */
export function listConnectedAccountRows(
  db: Db,
  query: { gateway_id?: string | undefined; after?: string | undefined; limit: number },
): Promise<ConnectedAccountRow[]> {
  let q = db.selectFrom('connected_accounts').selectAll();
  if (query.gateway_id !== undefined) q = q.where('gateway_id', '=', query.gateway_id);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}
