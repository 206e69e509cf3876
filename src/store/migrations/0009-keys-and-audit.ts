// Migration 0009: API keys managed while Settle runs, and the audit trail of configuration. Frozen once released.
//
// api_keys.last_used_at: when the key was last used, to the minute (a process writes it at most once a minute per
// key, so reads do not become writes).
//
// audit_events: one row per change of configuration (settings, gateways, API keys; later users and webhook
// endpoints), written in the same database transaction as the change. `actor` is the API key id (key_...), `cli`
// or `system`; `before` and `after` are the object's fields as JSON (null before a creation), with secrets and
// key digests left out. The indexes serve the list's filters, each newest first by id.
import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

    CREATE TABLE audit_events (
      id text PRIMARY KEY,
      actor text NOT NULL,
      action text NOT NULL,
      object_type text NOT NULL,
      object_id text NOT NULL,
      before jsonb,
      after jsonb,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX audit_events_actor ON audit_events (actor, id);
    CREATE INDEX audit_events_object_type ON audit_events (object_type, id);
    CREATE INDEX audit_events_object_id ON audit_events (object_id, id);
    CREATE INDEX audit_events_created_at ON audit_events (created_at);
  `,
  );
}
