// The gateways table: the write lock, the default flag, inserts and compare-and-set updates the admin API and
// startup make (the use cases are app/gateway-records.ts), the lookups startup finds its gateways by, and the reads the
// webhook intake, the processor and the audit log share (findGateway, allGateways).
import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, GatewayMode, GatewayProvider, GatewayRow, GatewaysTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Arbitrary but fixed key of the advisory lock that serialises gateway writes. */
const GATEWAYS_LOCK_KEY = 7_320_010_002;

/** The fields a gateway write may set (besides version and updated_at, which the functions here stamp). */
export type GatewayChanges = Omit<Updateable<GatewaysTable>, 'id' | 'version' | 'created_at' | 'updated_at'>;

/** A gateway as inserted (its id, default flag and times are given separately). */
export interface NewGatewayFields {
  name: string;
  provider: GatewayProvider;
  mode: GatewayMode;
  settlement_currency: string;
  rate_limit_per_second: number;
  /** Default (the column's): 25. */
  endpoint_rate_limit_per_second?: number;
  secret_key_env: string | null;
  webhook_secret_env: string | null;
  /** Migration 0015 (Connect): default null. */
  connect_webhook_secret_env?: string | null;
  api_base: string | null;
  is_emulator: boolean;
  /** JSON text. */
  metadata: string;
}

/**
 * Takes the transaction-scoped lock every gateway write takes first, so changes of the default (clear the flag on
 * the others, set it on one) never interleave and the unique index `gateways_one_default` is never hit by a race.
 */
export async function lockGateways(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(GATEWAYS_LOCK_KEY)})`.execute(trx);
}

/** Clears the default flag on every other gateway (call with the lock held, before setting it on `id`). */
export async function clearOtherDefaults(trx: Transaction<Database>, id: string, now: Date): Promise<void> {
  await trx
    .updateTable('gateways')
    .set((eb) => ({ is_default: false, version: eb('version', '+', 1), updated_at: now }))
    .where('is_default', '=', true)
    .where('id', '<>', id)
    .execute();
}

/** Makes `id` the one default gateway (lock held): clears the flag on the others, then sets it unless already set. */
export async function makeDefault(trx: Transaction<Database>, id: string, now: Date): Promise<void> {
  await clearOtherDefaults(trx, id, now);
  await trx
    .updateTable('gateways')
    .set((eb) => ({ is_default: true, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('is_default', '=', false)
    .execute();
}

/** Inserts a gateway record (lock held; clear the other defaults first when it is to be the default). */
export async function insertGatewayRow(
  trx: Transaction<Database>,
  id: string,
  values: NewGatewayFields,
  isDefault: boolean,
  now: Date,
): Promise<void> {
  await trx
    .insertInto('gateways')
    .values({ id, ...values, is_default: isDefault, created_at: now, updated_at: now })
    .execute();
}

/** Applies `changes` compare-and-set on the version read in `current`; undefined when the record moved on. */
export function compareAndSetGateway(
  trx: Db,
  current: GatewayRow,
  changes: GatewayChanges,
  now: Date,
): Promise<GatewayRow | undefined> {
  return trx
    .updateTable('gateways')
    .set({ ...changes, version: current.version + 1, updated_at: now })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
}

/** Applies `changes` whatever the version (lock held), version + 1. */
export async function updateGatewayFields(
  trx: Transaction<Database>,
  id: string,
  changes: GatewayChanges,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('gateways')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .execute();
}

/** The gateway marked default, if any. */
export function findDefaultGateway(db: Db): Promise<GatewayRow | undefined> {
  return db.selectFrom('gateways').selectAll().where('is_default', '=', true).executeTakeFirst();
}

/** The built-in emulator's gateway (there is at most one). */
export function findEmulatorGateway(db: Db): Promise<GatewayRow | undefined> {
  return db.selectFrom('gateways').selectAll().where('is_emulator', '=', true).executeTakeFirst();
}

/** The first (oldest id) Stripe gateway of `name` and `mode` that is not the emulator. */
export function findStripeGateway(db: Db, name: string, mode: GatewayMode): Promise<GatewayRow | undefined> {
  return db
    .selectFrom('gateways')
    .selectAll()
    .where('name', '=', name)
    .where('provider', '=', 'stripe')
    .where('mode', '=', mode)
    .where('is_emulator', '=', false)
    .orderBy('id')
    .executeTakeFirst();
}

/** A page of gateways, newest first (one more than `limit`, to tell whether more follow). */
export function listGatewayRows(
  db: Db,
  query: {
    provider?: GatewayProvider | undefined;
    mode?: GatewayMode | undefined;
    is_default?: boolean | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<GatewayRow[]> {
  let q = db.selectFrom('gateways').selectAll();
  if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
  if (query.mode !== undefined) q = q.where('mode', '=', query.mode);
  if (query.is_default !== undefined) q = q.where('is_default', '=', query.is_default);
  if (query.after !== undefined) q = q.where('id', '<', query.after);
  return q
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
}

export function findGateway(db: Db, id: string): Promise<GatewayRow | undefined> {
  return db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
}

export function allGateways(db: Db): Promise<GatewayRow[]> {
  return db.selectFrom('gateways').selectAll().execute();
}
