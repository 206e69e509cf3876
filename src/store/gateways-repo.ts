// Gateway records as the webhook intake and processor read them (the gateway use cases are app/gateways.ts).
import type { Kysely } from 'kysely';
import type { Database, GatewayRow } from './schema.js';

export function findGateway(db: Kysely<Database>, id: string): Promise<GatewayRow | undefined> {
  return db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
}

export function allGateways(db: Kysely<Database>): Promise<GatewayRow[]> {
  return db.selectFrom('gateways').selectAll().execute();
}
