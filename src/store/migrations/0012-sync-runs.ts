// Migration 0012: backfill runs (W6). Frozen once released.
//
// sync_runs: one row per import of a gateway's history (`POST /v1/sync`, `settle sync`). The range is `since`
// (inclusive) to `until` (exclusive, open when null); `objects` the object types asked for, in import order. Progress
// is kept per type in `progress` (JSON: for each type its cursor, the gateway id of the last object whose page was
// applied, whether the type is done, and the counts read, created, updated, unchanged), written in the same commit as
// the rows a page imported, so a run whose process died resumes after its last committed page and redoes nothing.
// The process carrying the run holds a lease (`worker`, `lease_until`) that it renews; another process takes over a
// run whose lease has lapsed. At most one run per gateway is `running` (a unique index: two starts racing cannot both
// succeed).
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE sync_runs (
      id text NOT NULL,
      gateway_id text NOT NULL,
      since timestamptz NOT NULL,
      until timestamptz,
      objects jsonb NOT NULL,
      status text NOT NULL,
      trigger text NOT NULL,
      started_by text NOT NULL,
      progress jsonb NOT NULL,
      pages integer NOT NULL DEFAULT 0,
      error text,
      worker text,
      lease_until timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      finished_at timestamptz,
      CONSTRAINT sync_runs_pkey PRIMARY KEY (id),
      CONSTRAINT sync_runs_gateway_id_fkey FOREIGN KEY (gateway_id) REFERENCES gateways (id),
      CONSTRAINT sync_runs_status_check CHECK (status IN ('running', 'completed', 'failed', 'canceled')),
      CONSTRAINT sync_runs_trigger_check CHECK (trigger IN ('api', 'cli')),
      CONSTRAINT sync_runs_range_check CHECK (until IS NULL OR until > since),
      CONSTRAINT sync_runs_pages_check CHECK (pages >= 0)
    );
    CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (gateway_id) WHERE status = 'running';
  `,
  );
}
