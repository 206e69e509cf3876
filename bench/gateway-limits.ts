// Every benchmark that goes through a Settle gateway states both of its limits (the gateway's
// rate_limit_per_second and endpoint_rate_limit_per_second), read back from the record as the row ran with it.
import type { Db } from '../src/store/schema.js';
import type { GatewayLimits } from './harness.js';

/** The two limits of gateway `gatewayId` as stored now. */
export async function readGatewayLimits(db: Db, gatewayId: string): Promise<GatewayLimits> {
  const row = await db
    .selectFrom('gateways')
    .select(['rate_limit_per_second', 'endpoint_rate_limit_per_second'])
    .where('id', '=', gatewayId)
    .executeTakeFirstOrThrow();
  return {
    rate_limit_per_second: row.rate_limit_per_second,
    endpoint_rate_limit_per_second: row.endpoint_rate_limit_per_second,
  };
}

/** `gateway limits: 100/s globally, per endpoint off`, for a row's notes. */
export function limitsNote(limits: GatewayLimits): string {
  const endpoint = limits.endpoint_rate_limit_per_second;
  return `gateway limits: ${limits.rate_limit_per_second}/s globally (rate_limit_per_second), per endpoint ${endpoint === 0 ? 'off' : `${endpoint}/s`} (endpoint_rate_limit_per_second)`;
}

/** The two limits of the default gateway (where a benchmark's server set it up itself). */
export async function readDefaultGatewayLimits(db: Db): Promise<GatewayLimits> {
  const row = await db.selectFrom('gateways').select('id').where('is_default', '=', true).executeTakeFirstOrThrow();
  return readGatewayLimits(db, row.id);
}
