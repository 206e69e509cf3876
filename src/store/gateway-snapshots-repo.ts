// W2: the `created` of the last webhook snapshot applied per gateway object (migration 0011; domain/snapshots.ts).
import type { Db } from './schema.js';

/** The `created` of the last snapshot applied for each of `objectIds` that has one. */
export async function lastAppliedSnapshots(
  db: Db,
  gatewayId: string,
  objectIds: readonly string[],
): Promise<Map<string, Date>> {
  if (objectIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('gateway_snapshots')
    .select(['object_id', 'created'])
    .where('gateway_id', '=', gatewayId)
    .where('object_id', 'in', [...new Set(objectIds)])
    .execute();
  return new Map(rows.map((r) => [r.object_id, r.created]));
}

/**
 * Of `keys`, those of Settle's own gateway calls whose answer was applied (the attempt resolved: succeeded, failed or
 * reverted). An event such a call caused shows what that answer showed.
 */
export async function appliedCallKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom('gateway_attempts')
    .select('idempotency_key')
    .where('idempotency_key', 'in', [...new Set(keys)])
    .where('state', 'in', ['succeeded', 'failed', 'reverted'])
    .execute();
  return new Set(rows.map((r) => r.idempotency_key));
}

/** Records a snapshot applied for an object; an older `created` never replaces a newer one. */
export async function recordAppliedSnapshot(
  db: Db,
  row: { gatewayId: string; objectId: string; created: Date; eventId: string; now: Date },
): Promise<void> {
  await db
    .insertInto('gateway_snapshots')
    .values({
      gateway_id: row.gatewayId,
      object_id: row.objectId,
      created: row.created,
      event_id: row.eventId,
      applied_at: row.now,
    })
    .onConflict((oc) =>
      oc
        .columns(['gateway_id', 'object_id'])
        .doUpdateSet((eb) => ({
          created: eb.ref('excluded.created'),
          event_id: eb.ref('excluded.event_id'),
          applied_at: eb.ref('excluded.applied_at'),
        }))
        .whereRef('gateway_snapshots.created', '<', 'excluded.created'),
    )
    .execute();
}
