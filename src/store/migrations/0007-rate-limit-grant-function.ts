// The shared rate limiter's grant as one database function (src/gateway-adapters/stripe/shared-rate-limiter.ts).
//
// Why a function: a grant takes the gateway's advisory lock, gives back tokens nobody used (p_return_ids and
// p_return_tokens: grants and how many of their tokens to take off), waits in the database for capacity to free
// when that is near, records the grant and commits. As a transaction driven from the client that is five round
// trips, and on a busy machine every one of them can wait for the client process to be scheduled while the lock is
// held: the next grant is late, and capacity is lost for good. As a function called in autocommit it is one round
// trip, and nothing between the lock and the commit waits for a client.
//
// The function is VOLATILE and plpgsql: under READ COMMITTED each of its statements takes a fresh snapshot, so the
// statements after the lock see the grant its previous holder committed.
//
// Returns: tokens granted (0 = refused), the grant's id, on refusal the milliseconds until the oldest counted grant
// leaves the look-back, and `offset_ms`: the whole milliseconds from the call's start to the grant's timestamp
// (lock wait and the wait for capacity included), which the client adds to the local time it took just before
// sending the call to get a moment no later than the grant.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `CREATE FUNCTION settle_rate_limit_grant(
      p_gateway_id text, p_lock_key bigint, p_rate integer, p_look_back_ms double precision, p_wanted integer,
      p_hold_ms integer, p_sweep_older_ms double precision, p_return_ids bigint[], p_return_tokens integer[])
    RETURNS TABLE (tokens integer, grant_id bigint, wait_ms integer, offset_ms integer)
    LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_start timestamptz := clock_timestamp();
      v_look_back interval := p_look_back_ms * interval '1 millisecond';
      v_now timestamptz;
      v_used integer;
      v_oldest timestamptz;
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
      v_now := clock_timestamp();
      SELECT coalesce(sum(g.tokens), 0)::integer, min(g.granted_at) INTO v_used, v_oldest
        FROM rate_limit_grants g WHERE g.gateway_id = p_gateway_id AND g.granted_at > v_now - v_look_back;
      IF v_used >= p_rate THEN
        v_wait := greatest(0, ceil(extract(epoch FROM v_oldest + v_look_back - v_now) * 1000))::integer;
        IF v_wait <= p_hold_ms THEN
          PERFORM pg_sleep(v_wait / 1000.0);
          v_now := clock_timestamp();
          SELECT coalesce(sum(g.tokens), 0)::integer, min(g.granted_at) INTO v_used, v_oldest
            FROM rate_limit_grants g WHERE g.gateway_id = p_gateway_id AND g.granted_at > v_now - v_look_back;
        END IF;
      END IF;
      v_tokens := greatest(0, least(p_wanted, p_rate - v_used));
      IF v_tokens > 0 THEN
        INSERT INTO rate_limit_grants (gateway_id, granted_at, tokens) VALUES (p_gateway_id, v_now, v_tokens) RETURNING id INTO v_id;
      END IF;
      IF p_sweep_older_ms IS NOT NULL THEN
        DELETE FROM rate_limit_grants g WHERE g.gateway_id = p_gateway_id AND g.granted_at < v_now - p_sweep_older_ms * interval '1 millisecond';
      END IF;
      RETURN QUERY SELECT v_tokens, v_id,
        CASE WHEN v_tokens = 0 THEN greatest(1, ceil(extract(epoch FROM v_oldest + v_look_back - v_now) * 1000))::integer END,
        floor(extract(epoch FROM v_now - v_start) * 1000)::integer;
    END
    $fn$`,
    )
    .execute(db);
}
