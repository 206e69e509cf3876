// The audit trail's table (the rules of what is recorded are app/audit.ts): one insert, written in the caller's
// transaction, and the filtered, paginated read of GET /v1/audit-events.
import type { Kysely, Transaction } from 'kysely';
import type { AuditEventRow, Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An audit event as written: `before` and `after` are JSON text (or null). */
export interface NewAuditEvent {
  id: string;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: string | null;
  after: string | null;
  created_at: Date;
}

export async function insertAuditEvent(trx: Transaction<Database>, event: NewAuditEvent): Promise<void> {
  await trx.insertInto('audit_events').values(event).execute();
}

export interface AuditEventFilter {
  actor?: string | undefined;
  action?: string | undefined;
  object_type?: string | undefined;
  object_id?: string | undefined;
  created_after?: Date | undefined;
  created_before?: Date | undefined;
  /** Only events whose id sorts before this one (the cursor). */
  after?: string | undefined;
  limit: number;
}

/** A page of events, newest first (one more than `limit`, to tell whether more follow). */
export function listAuditEventRows(db: Db, filter: AuditEventFilter): Promise<AuditEventRow[]> {
  let q = db.selectFrom('audit_events').selectAll();
  if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
  if (filter.action !== undefined) q = q.where('action', '=', filter.action);
  if (filter.object_type !== undefined) q = q.where('object_type', '=', filter.object_type);
  if (filter.object_id !== undefined) q = q.where('object_id', '=', filter.object_id);
  if (filter.created_after !== undefined) q = q.where('created_at', '>', filter.created_after);
  if (filter.created_before !== undefined) q = q.where('created_at', '<', filter.created_before);
  if (filter.after !== undefined) q = q.where('id', '<', filter.after);
  return q
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}
