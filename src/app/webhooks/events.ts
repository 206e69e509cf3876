// Webhook events as users see them (W4): list and retrieve with their processing state, replay one or a range
// (back to `pending`, then through the processor at once), and delete old ones (the retention setting).
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import type { Db, WebhookEventRow } from '../../store/schema.js';
import {
  countReceivedIn,
  deleteSettledEventsBefore,
  findWebhookEvent,
  listWebhookEventSummaries,
  resetReceivedIn,
  resetWebhookEvent,
} from '../../store/webhook-events-repo.js';
import type { Deps } from '../deps.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from '../pagination.js';
import { processWebhookEvents, type WebhookProcessSummary } from './processor.js';
import { parseInstant } from '../../domain/fields.js';

export const WEBHOOK_EVENT_STATUSES = ['pending', 'processed', 'failed', 'not_supported'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];
/** The most events one range replay may reset. */
export const MAX_REPLAY_EVENTS = 10_000;
const CLEANUP_BATCH = 1000;

type Instant = string;

export interface WebhookEventView {
  id: string;
  object: 'webhook_event';
  gateway_id: string;
  event_id: string;
  type: string;
  object_type: string | null;
  object_id: string | null;
  api_version: string | null;
  livemode: boolean;
  event_created_at: Instant;
  status: WebhookEventStatus;
  outcome: string | null;
  error: string | null;
  retryable: boolean | null;
  attempts: number;
  deliveries: number;
  received_at: Instant;
  last_received_at: Instant;
  process_after: Instant;
  claimed_until: Instant | null;
  processed_at: Instant | null;
  updated_at: Instant;
}

/** One event as retrieved: with its payload. */
export type WebhookEventDetail = WebhookEventView & { payload: Record<string, unknown> };

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

export function presentWebhookEvent(row: Omit<WebhookEventRow, 'payload'>): WebhookEventView {
  return {
    id: row.id,
    object: 'webhook_event',
    gateway_id: row.gateway_id,
    event_id: row.event_id,
    type: row.type,
    object_type: row.object_type,
    object_id: row.object_id,
    api_version: row.api_version,
    livemode: row.livemode,
    event_created_at: iso(row.event_created_at),
    status: row.status,
    outcome: row.outcome,
    error: row.error,
    retryable: row.retryable,
    attempts: row.attempts,
    deliveries: row.deliveries,
    received_at: iso(row.received_at),
    last_received_at: iso(row.last_received_at),
    process_after: iso(row.process_after),
    claimed_until: isoOrNull(row.claimed_until),
    processed_at: isoOrNull(row.processed_at),
    updated_at: iso(row.updated_at),
  };
}

function parseStatus(value: string, field = 'status'): WebhookEventStatus {
  if (!(WEBHOOK_EVENT_STATUSES as readonly string[]).includes(value)) {
    throw new ValidationError(
      'parameter_invalid_value',
      `${field} must be one of: ${WEBHOOK_EVENT_STATUSES.join(', ')}.`,
      field,
    );
  }
  return value as WebhookEventStatus;
}

export interface WebhookEventQuery {
  status?: string;
  type?: string;
  gateway_id?: string;
  object_id?: string;
  event_id?: string;
  received_after?: string;
  received_before?: string;
  limit?: number;
  starting_after?: string;
}

/** GET /v1/webhook-events: newest first (by id, which follows receipt), exact filters, a receipt range. */
export async function listWebhookEvents(deps: { db: Db }, query: WebhookEventQuery): Promise<Page<WebhookEventView>> {
  const limit = parseLimit(query.limit);
  const filter = {
    status: query.status === undefined ? undefined : parseStatus(query.status),
    type: query.type,
    gateway_id: query.gateway_id,
    object_id: query.object_id,
    event_id: query.event_id,
    receivedAfter:
      query.received_after === undefined ? undefined : parseInstant(query.received_after, 'received_after'),
    receivedBefore:
      query.received_before === undefined ? undefined : parseInstant(query.received_before, 'received_before'),
    before: cursorAfter(query.starting_after, 'webhook_event'),
  };
  return pageOf(await listWebhookEventSummaries(deps.db, filter, limit), limit, presentWebhookEvent, byId);
}

/** GET /v1/webhook-events/:id: the event with its payload. */
export async function getWebhookEvent(deps: { db: Db }, id: string): Promise<WebhookEventDetail> {
  const row = await findWebhookEvent(deps.db, id);
  if (!row) throw new NotFoundError('webhook event', id, 'id');
  const { payload, ...rest } = row;
  return { ...presentWebhookEvent(rest), payload };
}

/**
 * POST /v1/webhook-events/:id/replay: whatever its status, the event goes back to `pending`, due now, unclaimed
 * (attempts kept), and the processor runs it at once. Returns the event as the processor left it.
 */
export async function replayWebhookEvent(deps: Deps, id: string): Promise<WebhookEventDetail> {
  if (!(await resetWebhookEvent(deps.db, id, deps.clock.now()))) throw new NotFoundError('webhook event', id, 'id');
  await processWebhookEvents(deps, { ids: [id] });
  return getWebhookEvent(deps, id);
}

export interface ReplayRangeInput {
  received_after: string;
  received_before: string;
  status?: string;
  type?: string;
}

export interface ReplayRangeResult {
  object: 'webhook_event_replay';
  /** Events set back to pending. */
  reset: number;
  /** What the processor then did with them. */
  summary: WebhookProcessSummary;
}

/** POST /v1/webhook-events/replay: every event received in the range (and of the status/type given), at most 10,000. */
export async function replayWebhookEvents(deps: Deps, input: ReplayRangeInput): Promise<ReplayRangeResult> {
  const after = parseInstant(input.received_after, 'received_after');
  const before = parseInstant(input.received_before, 'received_before');
  if (after.getTime() >= before.getTime()) {
    throw new ValidationError(
      'invalid_range',
      'received_after must be earlier than received_before.',
      'received_before',
    );
  }
  const status = input.status === undefined ? undefined : parseStatus(input.status);
  const range = { after, before, status, type: input.type };
  if ((await countReceivedIn(deps.db, range, MAX_REPLAY_EVENTS + 1)) > MAX_REPLAY_EVENTS) {
    throw new ValidationError(
      'too_many_events',
      `More than ${MAX_REPLAY_EVENTS} events match; narrow the range (or filter by status or type) and replay it in parts.`,
      'received_before',
    );
  }
  const ids = (await resetReceivedIn(deps.db, range, MAX_REPLAY_EVENTS, deps.clock.now())).sort();
  const summary =
    ids.length === 0
      ? { picked: 0, processed: 0, failed: 0, not_supported: 0 }
      : await processWebhookEvents(deps, { ids });
  return { object: 'webhook_event_replay', reset: ids.length, summary };
}

/**
 * Retention (W4, the scheduler's webhook_cleanup job and `settle webhooks cleanup`): deletes processed and
 * not-supported events received more than `webhook_retention_days` ago, `batchSize` rows per statement. Failed
 * and pending events are kept whatever their age: they still need attention.
 */
export async function deleteOldWebhookEvents(
  deps: Pick<Deps, 'db' | 'clock' | 'settings'>,
  options: { batchSize?: number } = {},
): Promise<{ deleted: number; received_before: string }> {
  const batchSize = options.batchSize ?? CLEANUP_BATCH;
  const { webhook_retention_days: days } = await deps.settings.get();
  const cutoff = new Date(deps.clock.now().getTime() - days * 86_400_000);
  let deleted = 0;
  for (;;) {
    const n = await deleteSettledEventsBefore(deps.db, cutoff, batchSize);
    deleted += n;
    if (n < batchSize) break;
  }
  return { deleted, received_before: cutoff.toISOString() };
}
