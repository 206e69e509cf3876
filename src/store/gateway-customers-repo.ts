// Gateway customers (R6): which gateway Customer (cus_...) mirrors a Settle account or contact, per gateway. Written
// when Settle first needs the Customer (app/saved-cards.ts) and by the backfill for Customers it imports. Both
// unique keys hold: one Customer per (gateway, owner), one owner per (gateway, Customer).
import type { Kysely, Transaction } from 'kysely';
import type { Database, GatewayCustomerOwnerType, GatewayCustomerRow } from './schema.js';

type AnyDb = Kysely<Database> | Transaction<Database>;

export type { GatewayCustomerOwnerType, GatewayCustomerRow };

/** The Customer id mirroring this account or contact at the gateway, if Settle knows one. */
export async function findCustomerOf(
  db: AnyDb,
  gatewayId: string,
  ownerType: GatewayCustomerOwnerType,
  ownerId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('gateway_customers')
    .select('customer_id')
    .where('gateway_id', '=', gatewayId)
    .where('owner_type', '=', ownerType)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return row?.customer_id;
}

/** The account or contact a gateway Customer mirrors, if any. */
export function findOwnerOfCustomer(
  db: AnyDb,
  gatewayId: string,
  customerId: string,
): Promise<GatewayCustomerRow | undefined> {
  return db
    .selectFrom('gateway_customers')
    .selectAll()
    .where('gateway_id', '=', gatewayId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
}

/**
 * Records the mapping. Two writers racing for the same owner (two first charges of one account) both reach here
 * with the same Customer (the create's idempotency key is derived from the owner): the second insert does nothing.
 * Returns whether this call inserted the row; a caller that lost reads the winner's with findCustomerOf.
 *
 * The conflict clause names no columns on purpose. The racing rows collide on both unique keys, and PostgreSQL
 * applies DO NOTHING only to the keys named in the clause: with the owner's key named, an insert that passed the
 * pre-check at the same moment as the other one waited on the Customer key and then failed with a unique violation
 * (a 500 in CI, one run in many). Without a target every unique key is an arbiter
 * (postgresql.org/docs/current/sql-insert.html, "ON CONFLICT Clause").
 */
export async function insertGatewayCustomer(db: AnyDb, row: GatewayCustomerRow): Promise<boolean> {
  const inserted = await db
    .insertInto('gateway_customers')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returning('customer_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
