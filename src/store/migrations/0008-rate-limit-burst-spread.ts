// Migration 0008: the shared rate limiter's grant also spreads grants over the second (burst window). Frozen once
// released. Replaces the function of migration 0007 (whose header says why it is a function); same arguments, plus:
//
// p_burst_max over the last p_burst_ms: a second limit beside the rate over the look-back (which stays the hard
// bound). A sliding window alone repeats a burst once per look-back, for as long as the fleet is saturated: the
// tokens of a burst all free at once. A burst of requests makes the gateway slow for everyone, and the workers'
// pipelines then run dry while it answers (src/gateway-adapters/stripe/shared-rate-limiter.ts, docs/PERFORMANCE.md).
//
// Returns as before: tokens granted (0 = refused), the grant's id, on refusal the milliseconds until capacity frees
// (the oldest grant leaving the look-back, or the burst window, whichever is later), and `offset_ms`.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `DROP FUNCTION settle_rate_limit_grant(text, bigint, integer, double precision, integer, integer, double precision, bigint[], integer[])`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE FUNCTION settle_rate_limit_grant(
      p_gateway_id text, p_lock_key bigint, p_rate integer, p_look_back_ms double precision, p_wanted integer,
      p_hold_ms integer, p_sweep_older_ms double precision, p_return_ids bigint[], p_return_tokens integer[],
      p_burst_ms double precision, p_burst_max integer)
    RETURNS TABLE (tokens integer, grant_id bigint, wait_ms integer, offset_ms integer)
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_start timestamptz := clock_timestamp();
      v_look_back interval := p_look_back_ms * interval '1 millisecond';
      v_burst interval := p_burst_ms * interval '1 millisecond';
      v_now timestamptz;
      v_used integer;
      v_oldest timestamptz;
      v_recent integer;
      v_recent_oldest timestamptz;
      v_wait integer;
      v_tokens integer;
      v_id bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(p_lock_key);
      IF cardinality(p_return_ids) > 0 THEN
        DELETE FROM rate_limit_grants g USING unnest(p_return_ids, p_return_tokens) AS r(id, n)
          WHERE g.id = r.id AND g.tokens <= r.n;
        UPDATE rate_limit_grants g SET tokens = g.tokens - r.n FROM unnest(p_return_ids, p_return_tokens) AS r(id, n)
          WHERE g.id = r.id AND g.tokens > r.n;
      END IF;
      FOR attempt IN 1..2 LOOP
        v_now := clock_timestamp();
        SELECT coalesce(sum(g.tokens), 0)::integer, min(g.granted_at),
               coalesce(sum(g.tokens) FILTER (WHERE g.granted_at > v_now - v_burst), 0)::integer,
               min(g.granted_at) FILTER (WHERE g.granted_at > v_now - v_burst)
          INTO v_used, v_oldest, v_recent, v_recent_oldest
          FROM rate_limit_grants g WHERE g.gateway_id = p_gateway_id AND g.granted_at > v_now - v_look_back;
        -- Until capacity frees: the oldest grant leaving the look-back, or the burst window, whichever is full.
        v_wait := greatest(
          CASE WHEN v_used >= p_rate THEN ceil(extract(epoch FROM v_oldest + v_look_back - v_now) * 1000) ELSE 0 END,
          CASE WHEN v_recent >= p_burst_max THEN ceil(extract(epoch FROM v_recent_oldest + v_burst - v_now) * 1000) ELSE 0 END
        )::integer;
        EXIT WHEN v_wait <= 0 OR attempt = 2 OR v_wait > p_hold_ms;
        PERFORM pg_sleep(v_wait / 1000.0);
      END LOOP;
      v_tokens := greatest(0, least(p_wanted, p_rate - v_used, p_burst_max - v_recent));
      IF v_tokens > 0 THEN
        INSERT INTO rate_limit_grants (gateway_id, granted_at, tokens) VALUES (p_gateway_id, v_now, v_tokens) RETURNING id INTO v_id;
      END IF;
      IF p_sweep_older_ms IS NOT NULL THEN
        DELETE FROM rate_limit_grants g WHERE g.gateway_id = p_gateway_id AND g.granted_at < v_now - p_sweep_older_ms * interval '1 millisecond';
      END IF;
      RETURN QUERY SELECT v_tokens, v_id,
        CASE WHEN v_tokens = 0 THEN greatest(1, v_wait) END,
        floor(extract(epoch FROM v_now - v_start) * 1000)::integer;
    END
    $fn$`,
    )
    .execute(db);
}
