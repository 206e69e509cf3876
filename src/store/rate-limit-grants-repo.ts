// The shared gateway rate limit's one query (gateway-adapters/stripe/shared-rate-limiter.ts explains the scheme): a call of
// settle_rate_limit_grant (migrations 0007 and 0008), in autocommit, so nothing waits for this process between the
// gateway's advisory lock and the commit.
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface GrantRequest {
  gatewayId: string;
  /** The gateway's advisory lock key, a signed 64-bit integer as text. */
  lockKey: string;
  rate: number;
  lookBackMs: number;
  wanted: number;
  /** The longest wait for capacity done in the database, holding the lock. */
  holdMs: number;
  /** Delete this gateway's grants older than this many ms; null: no sweep in this call. */
  keepMs: number | null;
  /** Tokens nobody used, given back: parallel arrays of grant ids and token counts. */
  returnGrantIds: readonly string[];
  returnTokens: readonly number[];
  burstWindowMs: number;
  burstMax: number;
}

export interface GrantRow {
  tokens: number;
  grant_id: string | null;
  wait_ms: number | null;
  /** The database's measure of the time from the call's start to the grant. */
  offset_ms: number;
}

export async function requestRateLimitGrant(db: Db, request: GrantRequest): Promise<GrantRow> {
  // Array literals as text ('{1,2}'), which pg and PGlite both pass through a cast unchanged.
  const returnIds = `{${request.returnGrantIds.join(',')}}`;
  const returnTokens = `{${request.returnTokens.join(',')}}`;
  const { rows } = await sql<GrantRow>`
    select tokens, grant_id::text as grant_id, wait_ms, offset_ms from settle_rate_limit_grant(
      ${request.gatewayId}, ${request.lockKey}::bigint, ${request.rate}::int, ${request.lookBackMs}::float8,
      ${request.wanted}::int, ${request.holdMs}::int, ${request.keepMs}::float8, ${returnIds}::bigint[],
      ${returnTokens}::int[], ${request.burstWindowMs}::float8, ${request.burstMax}::int)`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('the rate limit grant function returned no row');
  return row;
}
