// Migration 0006: scheduled processing (S1-S5, X2). Frozen once released.
//
// job_runs: one row per run of a job (daily_charges, recover, ...), whoever started it (the scheduler, the API, the
// CLI). At most one run of a job is `running` at a time (a unique index, so two workers racing to start it cannot
// both succeed). A scheduled run names its `slot` (the day for a daily job, the interval's start for a periodic
// one): each slot runs once, whichever worker gets there first. Every process taking part in a run writes its
// `heartbeat_at`; a run nobody has written for a while is taken over (a batch job) or closed as abandoned.
//
// job_claims: the transactions a run has taken. A worker claims a batch (`claimed`, until `expires_at`) and marks
// each item `done` once processed; a claim that expires (its worker died) is free to be claimed again, a `done`
// one is never picked again by the same run (so an item that keeps failing is not retried in a loop). The
// exactly-once guarantee itself does not rest on claims: each action is still a compare-and-set on the row.
//
// rate_limit_grants: the gateway rate limit shared by every process on one PostgreSQL database: a process takes a
// few requests' worth of the limit at a time, and a grant is refused while the last second's grants (plus a margin)
// add up to the limit.
//
// transactions.advice_code: the gateway's advice on a decline (Stripe: `do_not_try_again`, ...), kept so that a
// reattempt is never scheduled against it (S2). One reattempt per failed transaction is now an index too.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE job_runs (
      id text PRIMARY KEY,
      job text NOT NULL,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
      slot text,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
      started_by text NOT NULL,
      started_at timestamptz NOT NULL,
      heartbeat_at timestamptz NOT NULL,
      finished_at timestamptz,
      total integer CHECK (total >= 0),
      picked integer NOT NULL DEFAULT 0 CHECK (picked >= 0),
      succeeded integer NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
      failed integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
      skipped integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
      error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
      errors jsonb NOT NULL DEFAULT '[]'::jsonb,
      summary text
    );
    CREATE UNIQUE INDEX job_runs_one_running ON job_runs (job) WHERE status = 'running';
    CREATE UNIQUE INDEX job_runs_slot ON job_runs (job, slot) WHERE slot IS NOT NULL;
    CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC, id DESC);

    CREATE TABLE job_claims (
      run_id text NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
      transaction_id text NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
      worker text NOT NULL,
      state text NOT NULL CHECK (state IN ('claimed', 'done')),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (run_id, transaction_id)
    );
    CREATE INDEX job_claims_transaction ON job_claims (transaction_id);

    CREATE TABLE rate_limit_grants (
      id bigserial PRIMARY KEY,
      gateway_id text NOT NULL,
      granted_at timestamptz NOT NULL,
      tokens integer NOT NULL CHECK (tokens > 0)
    );
    CREATE INDEX rate_limit_grants_gateway_at ON rate_limit_grants (gateway_id, granted_at);

    ALTER TABLE transactions ADD COLUMN advice_code text;
    DROP INDEX transactions_reattempt_of;
    CREATE UNIQUE INDEX transactions_one_reattempt ON transactions (reattempt_of_id) WHERE reattempt_of_id IS NOT NULL;
  `,
  );
}
