// Migration 0019: the indexes of the two queues that a long batch run reads over and over. Frozen once released.
//
// webhook_events_claim_order replaces webhook_events_due. The claim (store/webhook-events-repo.ts,
// claimWebhookEvents) takes the oldest claimable events by (event_created_at, event_id). webhook_events_due was
// ordered by process_after, so PostgreSQL read every entry with process_after <= now and sorted them, and it chose
// a bitmap scan to do it. A bitmap scan never marks an index entry dead, so the entries of every event processed
// since the table's last vacuum were read again by each claim: measured during a benchmark run of 2,000 charges
// (6,000 events, no autovacuum yet), one claim read 9,859 index entries and 2,899 heap pages in 90 ms, and the
// reads per claim grew with the run. Ordered as the claim is, the scan is a plain index scan that stops at the
// LIMIT; it marks the entries of processed events dead as it passes them, so the next claim skips them (measured on
// 30,000 processed events: 70 ms for the first claim, 0.5 ms for the next). The planner still preferred a bitmap
// scan of the new index and a sort (it estimates the few live rows, not the dead entries: 2,071 entries read for
// 0 rows in a benchmark run), so the claim of due events is the function settle_claim_webhook_events, which turns
// bitmap scans off for its one statement (a function's SET clause; postgresql.org/docs/current/sql-createfunction.html):
// one round trip, as before, and an ordered index scan.
//
// job_claims_live: a worker's heartbeat extends its live claims, and a run counts its live claims, both by
// (run_id, worker, state = 'claimed'). The primary key (run_id, transaction_id) gave them every claim of the run,
// done ones included: 10,000 rows read per heartbeat at the end of a 10,000-charge run.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    DROP INDEX webhook_events_due;
    CREATE INDEX webhook_events_claim_order ON webhook_events (event_created_at, event_id)
      WHERE status = 'pending' OR (status = 'failed' AND retryable);
    CREATE INDEX job_claims_live ON job_claims (run_id, worker) WHERE state = 'claimed';
    CREATE FUNCTION settle_claim_webhook_events(p_now timestamptz, p_until timestamptz, p_limit integer)
    RETURNS SETOF webhook_events
    LANGUAGE sql VOLATILE
    SET enable_bitmapscan = off
    AS $fn$
      UPDATE webhook_events SET claimed_until = p_until, attempts = attempts + 1, updated_at = p_now
      WHERE id IN (
        SELECT id FROM webhook_events
        WHERE (claimed_until IS NULL OR claimed_until < p_now)
          AND (status = 'pending' OR (status = 'failed' AND retryable))
          AND process_after <= p_now
        ORDER BY event_created_at, event_id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED)
      RETURNING *
    $fn$;
  `,
  );
}
