// The webhook processor (W2, W4): applies stored events. It claims due events (a lease in `claimed_until`, taken
// with FOR UPDATE SKIP LOCKED, so processors in several processes never apply one event twice at the same time),
// orders them deterministically (the gateway's creation time, then the event id: Stripe guarantees no order), and
// applies the events about one gateway object together: the handler reads that object again from the gateway and
// applies what it holds now, so duplicates, late events and any arrival order end in the same ledger state. Each
// event ends processed, not_supported, failed (with the error, and whether trying again may help), or stays pending
// for a little while (Deferred: Settle's own call for that row is still under way).
import { type Kysely, sql } from 'kysely';
import { SettleError } from '../../domain/errors.js';
import type { Database, WebhookEventRow } from '../../store/schema.js';
import { type Deps, today } from '../deps.js';
import { routeEvent, targetKey, type EventTarget } from './route-event.js';
import { ApplyFailed, Deferred, type SyncContext } from './sync-context.js';
import { syncDispute } from './sync-dispute.js';
import { syncPaymentMethod } from './sync-payment-method.js';
import { syncPayment } from './sync-payment.js';
import { syncPayout } from './sync-payout.js';

export interface WebhookProcessSummary {
  picked: number;
  processed: number;
  failed: number;
  not_supported: number;
}

/** How long a claim holds: longer than any handler takes (a handler reads the gateway once or twice). */
const CLAIM_MS = 120_000;
const DEFAULT_LIMIT = 200;
/** Groups (gateway objects) applied at the same time. */
const CONCURRENCY = 4;
/** After this many tries a deferred event is reported failed (retryable) instead of waiting silently. */
const MAX_DEFERRALS = 30;

type Db = Kysely<Database>;
type Verdict =
  | { status: 'processed' | 'not_supported'; outcome: string }
  | { status: 'failed'; error: string; retryable: boolean }
  | { status: 'deferred'; reason: string; delayMs: number };

/** Retry delay after a retryable failure: 2^attempts seconds, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 1000 * 2 ** Math.min(attempts, 12));
}

async function claim(db: Db, now: Date, options: { ids?: string[]; limit?: number }): Promise<WebhookEventRow[]> {
  const until = new Date(now.getTime() + CLAIM_MS);
  const limit = Math.max(1, Math.min(options.limit ?? DEFAULT_LIMIT, 1000));
  return db
    .updateTable('webhook_events')
    .set({ claimed_until: until, attempts: sql`attempts + 1`, updated_at: now })
    .where('id', 'in', (eb) => {
      let q = eb
        .selectFrom('webhook_events')
        .select('id')
        .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', now)]));
      if (options.ids !== undefined) q = q.where('id', 'in', options.ids.length > 0 ? options.ids : ['']);
      else {
        q = q
          .where((w) => w.or([w('status', '=', 'pending'), w.and([w('status', '=', 'failed'), w('retryable', '=', true)])]))
          .where('process_after', '<=', now);
      }
      return q.orderBy('event_created_at').orderBy('event_id').limit(limit).forUpdate().skipLocked();
    })
    .returningAll()
    .execute();
}

async function finish(db: Db, event: WebhookEventRow, verdict: Verdict, now: Date): Promise<void> {
  const base = { claimed_until: null, updated_at: now };
  let set;
  switch (verdict.status) {
    case 'processed':
    case 'not_supported':
      set = { ...base, status: verdict.status, outcome: verdict.outcome, error: null, retryable: null, processed_at: now };
      break;
    case 'failed':
      set = {
        ...base,
        status: 'failed' as const,
        error: verdict.error,
        retryable: verdict.retryable,
        process_after: new Date(now.getTime() + retryDelayMs(event.attempts)),
      };
      break;
    case 'deferred':
      set =
        event.attempts >= MAX_DEFERRALS
          ? { ...base, status: 'failed' as const, error: `Still waiting after ${event.attempts} tries: ${verdict.reason}`, retryable: true, process_after: new Date(now.getTime() + 60_000) }
          : { ...base, outcome: `waiting: ${verdict.reason}`, process_after: new Date(now.getTime() + verdict.delayMs) };
      break;
  }
  await db.updateTable('webhook_events').set(set).where('id', '=', event.id).where('claimed_until', '=', event.claimed_until).execute();
}

function verdictOf(error: unknown): Verdict {
  if (error instanceof Deferred) return { status: 'deferred', reason: error.message, delayMs: error.delayMs };
  if (error instanceof ApplyFailed) return { status: 'failed', error: error.message, retryable: error.retryable };
  // Two processors creating the same row: the loser waits and then finds it.
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505') {
    return { status: 'deferred', reason: 'another processor recorded the same gateway object at the same moment', delayMs: 500 };
  }
  if (error instanceof SettleError) return { status: 'failed', error: error.message, retryable: false };
  return { status: 'failed', error: `Applying the event failed: ${error instanceof Error ? error.message : String(error)}`, retryable: true };
}

async function apply(ctx: SyncContext, target: EventTarget): Promise<Verdict> {
  try {
    switch (target.kind) {
      case 'not_supported':
        return { status: 'not_supported', outcome: target.reason };
      case 'payment':
        return { status: 'processed', outcome: await syncPayment(ctx, target.id) };
      case 'dispute':
        return { status: 'processed', outcome: await syncDispute(ctx, target.id) };
      case 'payout':
        return { status: 'processed', outcome: await syncPayout(ctx, target.id) };
      case 'payment_method':
        return { status: 'processed', outcome: await syncPaymentMethod(ctx, target.id) };
    }
  } catch (error) {
    return verdictOf(error);
  }
}

interface Group {
  gatewayId: string;
  target: EventTarget;
  events: WebhookEventRow[];
}

/** Applies due events (or exactly `ids`, due or not), in a deterministic order; returns what it did. */
export async function processWebhookEvents(deps: Deps, options: { ids?: string[]; limit?: number } = {}): Promise<WebhookProcessSummary> {
  const now = deps.clock.now();
  const claimed = await claim(deps.db, now, options);
  const summary: WebhookProcessSummary = { picked: claimed.length, processed: 0, failed: 0, not_supported: 0 };
  if (claimed.length === 0) return summary;
  claimed.sort((a, b) => a.event_created_at.getTime() - b.event_created_at.getTime() || a.event_id.localeCompare(b.event_id));
  const groups = new Map<string, Group>();
  for (const event of claimed) {
    const target = routeEvent(event.type, ((event.payload as { data?: { object?: Record<string, unknown> } }).data?.object ?? {}) as Record<string, unknown>);
    // Unsupported events are answered one by one; the others are grouped per gateway object.
    const key = target.kind === 'not_supported' ? `${event.id}` : `${event.gateway_id}|${targetKey(target)}`;
    const group = groups.get(key) ?? { gatewayId: event.gateway_id, target, events: [] };
    group.events.push(event);
    groups.set(key, group);
  }
  const queue = [...groups.values()];
  const day = await today(deps); // before any database transaction: PGlite has one connection
  const gateways = new Map((await deps.db.selectFrom('gateways').selectAll().execute()).map((g) => [g.id, g]));
  const worker = async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      const gatewayRow = gateways.get(group.gatewayId);
      let verdict: Verdict;
      if (!gatewayRow) verdict = { status: 'failed', error: `Gateway ${group.gatewayId} no longer exists.`, retryable: false };
      else {
        const first = group.events[0]!;
        try {
          const ctx: SyncContext = {
            deps,
            gatewayRow,
            gateway: deps.gateways.forRecord(gatewayRow),
            actor: `webhook:${first.event_id}${group.events.length > 1 ? ` (+${group.events.length - 1})` : ''}`,
            now: deps.clock.now(),
            day,
            eventTypes: new Set(group.events.map((e) => e.type)),
          };
          verdict = await apply(ctx, group.target);
        } catch (error) {
          verdict = { status: 'failed', error: `The gateway ${gatewayRow.id} cannot be used: ${error instanceof Error ? error.message : String(error)}`, retryable: true };
        }
      }
      const finishedAt = deps.clock.now();
      for (const event of group.events) {
        await finish(deps.db, event, verdict, finishedAt);
        if (verdict.status === 'processed') summary.processed += 1;
        else if (verdict.status === 'not_supported') summary.not_supported += 1;
        else if (verdict.status === 'failed') summary.failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return summary;
}
