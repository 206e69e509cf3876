// Webhook events (W1, W2, W4). The intake's insert: one INSERT ... ON CONFLICT stores a batch of events, all
// rows in one JSON parameter (the statement text never changes, so it runs prepared on PostgreSQL); a
// duplicate only counts a delivery. Rows go in (gateway, event id) order so that concurrent batches lock in
// the same order. Then what users do with them (list, retrieve, replay) and the retention's deletes.
import { type Kysely, sql, type Updateable } from 'kysely';
import { type ColumnOf, pickColumns, selectFromJson } from './json-rows.js';
import type { Database, WebhookEventRow, WebhookEventStatus, WebhookEventsTable } from './schema.js';

/** What the intake writes (the other columns keep their defaults: NULL, or 0 / 1 for the counters). */
const INTAKE_COLUMNS = [
  'id',
  'gateway_id',
  'event_id',
  'type',
  'object_type',
  'object_id',
  'api_version',
  'livemode',
  'event_created_at',
  'payload',
  'status',
  'attempts',
  'deliveries',
  'received_at',
  'last_received_at',
  'process_after',
  'updated_at',
] as const satisfies readonly ColumnOf<'webhook_events'>[];

type IntakeColumn = Exclude<(typeof INTAKE_COLUMNS)[number], 'payload'>;

/** An event's row as the intake stores it: its columns, and its payload as the received JSON text (not re-serialised). */
export interface IntakeEventRow {
  columns: { readonly [K in IntakeColumn]: K extends 'status' ? WebhookEventsTable['status'] : unknown };
  payloadText: string;
}

const FIELDS = INTAKE_COLUMNS.filter((column): column is IntakeColumn => column !== 'payload');

function rowJson(row: IntakeEventRow): string {
  const json = JSON.stringify(pickColumns(FIELDS, row.columns));
  return `${json.slice(0, -1)},"payload":${row.payloadText}}`;
}

/** Inserts the events, or counts a delivery of those already stored; the stored row's id per (gateway, event id). */
export async function insertWebhookEvents(
  db: Kysely<Database>,
  rows: readonly IntakeEventRow[],
): Promise<{ id: string; gateway_id: string; event_id: string }[]> {
  const json = `[${rows.map(rowJson).join(',')}]`;
  return db
    .insertInto('webhook_events')
    .columns(INTAKE_COLUMNS)
    .expression(selectFromJson('webhook_events', INTAKE_COLUMNS, json, { orderBy: ['gateway_id', 'event_id'] }))
    .onConflict((oc) =>
      oc.columns(['gateway_id', 'event_id']).doUpdateSet((eb) => ({
        deliveries: eb('webhook_events.deliveries', '+', eb.ref('excluded.deliveries')),
        last_received_at: sql<Date>`greatest(webhook_events.last_received_at, excluded.last_received_at)`,
      })),
    )
    .returning(['id', 'gateway_id', 'event_id'])
    .execute();
}

/** Every column but the payload (lists leave it out: it can be large). */
const SUMMARY_COLUMNS = [
  'id',
  'gateway_id',
  'event_id',
  'type',
  'object_type',
  'object_id',
  'api_version',
  'livemode',
  'event_created_at',
  'status',
  'outcome',
  'error',
  'retryable',
  'attempts',
  'deliveries',
  'received_at',
  'last_received_at',
  'process_after',
  'claimed_until',
  'processed_at',
  'updated_at',
  'target',
  'read_at',
  'read_refunds',
] as const;

export type WebhookEventSummary = Omit<WebhookEventRow, 'payload'>;

export interface WebhookEventFilter {
  status?: WebhookEventStatus | undefined;
  type?: string | undefined;
  gateway_id?: string | undefined;
  object_id?: string | undefined;
  event_id?: string | undefined;
  receivedAfter?: Date | undefined;
  receivedBefore?: Date | undefined;
  /** Ids below this one (newest-first paging). */
  before?: string | undefined;
}

/** Events without their payload, newest first (by id, which follows receipt); one more than `limit`. */
export function listWebhookEventSummaries(
  db: Kysely<Database>,
  filter: WebhookEventFilter,
  limit: number,
): Promise<WebhookEventSummary[]> {
  let q = db.selectFrom('webhook_events').select(SUMMARY_COLUMNS);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  for (const field of ['type', 'gateway_id', 'object_id', 'event_id'] as const) {
    const value = filter[field];
    if (value !== undefined) q = q.where(field, '=', value);
  }
  if (filter.receivedAfter !== undefined) q = q.where('received_at', '>', filter.receivedAfter);
  if (filter.receivedBefore !== undefined) q = q.where('received_at', '<', filter.receivedBefore);
  if (filter.before !== undefined) q = q.where('id', '<', filter.before);
  return q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}

export function findWebhookEvent(db: Kysely<Database>, id: string): Promise<WebhookEventRow | undefined> {
  return db.selectFrom('webhook_events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The event back to `pending`, due `now`, unclaimed (attempts kept); false when there is no such event. */
export async function resetWebhookEvent(db: Kysely<Database>, id: string, now: Date): Promise<boolean> {
  const reset = await db
    .updateTable('webhook_events')
    .set({ status: 'pending', process_after: now, claimed_until: null, updated_at: now })
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return reset !== undefined;
}

export interface ReceivedRange {
  after: Date;
  before: Date;
  status?: WebhookEventStatus | undefined;
  type?: string | undefined;
}

function receivedIn(db: Kysely<Database>, range: ReceivedRange) {
  return db
    .selectFrom('webhook_events')
    .select('id')
    .where('received_at', '>', range.after)
    .where('received_at', '<', range.before)
    .$if(range.status !== undefined, (q) => q.where('status', '=', range.status!))
    .$if(range.type !== undefined, (q) => q.where('type', '=', range.type!));
}

/** How many events were received in the range, counting no further than `upTo`. */
export async function countReceivedIn(db: Kysely<Database>, range: ReceivedRange, upTo: number): Promise<number> {
  const count = await db
    .selectFrom(receivedIn(db, range).limit(upTo).as('r'))
    .select(sql<number>`count(*)::int4`.as('n'))
    .executeTakeFirst();
  return count?.n ?? 0;
}

/** The first `limit` events of the range (by id) back to `pending`, due `now`, unclaimed; their ids. */
export async function resetReceivedIn(
  db: Kysely<Database>,
  range: ReceivedRange,
  limit: number,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .updateTable('webhook_events')
    .set({ status: 'pending', process_after: now, claimed_until: null, updated_at: now })
    .where('id', 'in', receivedIn(db, range).orderBy('id').limit(limit))
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Deletes up to `batchSize` processed or not-supported events received before `cutoff`, oldest first; how many. */
export async function deleteSettledEventsBefore(
  db: Kysely<Database>,
  cutoff: Date,
  batchSize: number,
): Promise<number> {
  const batch = db
    .selectFrom('webhook_events')
    .select('id')
    .where('status', 'in', ['processed', 'not_supported'])
    .where('received_at', '<', cutoff)
    .orderBy('received_at')
    .limit(batchSize);
  const result = await db.deleteFrom('webhook_events').where('id', 'in', batch).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The processor's claim (W2): takes a lease (`claimed_until`) on due events, or on exactly `ids` (due or not),
 * FOR UPDATE SKIP LOCKED so that processors in several processes never take one event at the same time; counts an
 * attempt on each. Oldest first (the gateway's creation time, then the event id), at most `limit`.
 */
export function claimWebhookEvents(
  db: Kysely<Database>,
  input: { now: Date; until: Date; ids?: string[] | undefined; limit: number },
): Promise<WebhookEventRow[]> {
  const { now, until, limit, ids } = input;
  // Due events: the same statement as below without ids, inside settle_claim_webhook_events (migration 0019), which
  // keeps PostgreSQL on an ordered scan of the claim index (a bitmap scan read the entries of every event processed
  // since the last vacuum, on each claim).
  if (ids === undefined)
    return sql<WebhookEventRow>`select * from settle_claim_webhook_events(${now}, ${until}, ${limit})`
      .execute(db)
      .then((r) => r.rows);
  return db
    .updateTable('webhook_events')
    .set({ claimed_until: until, attempts: sql`attempts + 1`, updated_at: now })
    .where('id', 'in', (eb) => {
      let q = eb
        .selectFrom('webhook_events')
        .select('id')
        .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', now)]));
      q = q.where('id', 'in', ids.length > 0 ? ids : ['']);
      return q.orderBy('event_created_at').orderBy('event_id').limit(limit).forUpdate().skipLocked();
    })
    .returningAll()
    .execute();
}

/** Records what processing did on events that still hold the claim `claimedUntil` (one statement). */
export async function finishWebhookEvents(
  db: Kysely<Database>,
  ids: readonly string[],
  claimedUntil: Date | null,
  changes: Updateable<WebhookEventsTable>,
): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set(changes)
    .where('id', 'in', ids)
    .where('claimed_until', '=', claimedUntil)
    .execute();
}

/**
 * The latest read of a gateway object (`target`) by a processed event that started at `since` or later (and, with
 * `refunds`, included the payment's refunds), or null.
 */
export async function latestReadOf(
  db: Kysely<Database>,
  input: { gatewayId: string; target: string; since: Date; refunds: boolean },
): Promise<Date | null> {
  const row = await db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.max('read_at').as('read_at'))
    .where('gateway_id', '=', input.gatewayId)
    .where('target', '=', input.target)
    .where('status', '=', 'processed')
    .where('read_at', '>=', input.since)
    .$if(input.refunds, (q) => q.where('read_refunds', '=', true))
    .executeTakeFirst();
  return row?.read_at ? new Date(row.read_at) : null;
}
