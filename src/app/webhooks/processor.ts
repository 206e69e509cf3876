// The webhook processor (W2, W4): applies stored events. It claims due events (a lease in `claimed_until`, taken
// with FOR UPDATE SKIP LOCKED, so processors in several processes never apply one event twice at the same time),
// orders them deterministically (the gateway's creation time, then the event id: Stripe guarantees no order), and
// applies the events about one gateway object together. A payment's events whose snapshots show what Settle holds (or
// something provably older), or a forward move the snapshot rule allows, are applied without a request
// (apply-snapshots.ts, domain/snapshots.ts); otherwise the handler reads that object once from the gateway and
// applies what it holds now, so duplicates, late events and any arrival order end in the same ledger state. Each
// event ends processed, not_supported, failed (with the error, and whether trying again may help), or stays pending
// for a little while (Deferred: Settle's own call for that row is still under way).
import { SettleError } from '../../domain/errors.js';
import { GATEWAY_OBJECT_CONSTRAINTS, isViolationOf } from '../../store/constraint-errors.js';
import { allGateways } from '../../store/gateway-records-repo.js';
import type { Db, WebhookEventRow } from '../../store/schema.js';
import { claimWebhookEvents, finishWebhookEvents, latestReadOf } from '../../store/webhook-events-repo.js';
import { type Deps, today } from '../deps.js';
import { knownConnectedAccount } from '../connect/direct-charges.js';
import type { Gateway } from '../gateway-port.js';
import { applyFromSnapshots } from './apply-snapshots.js';
import { routeEvent, targetKey, type EventTarget } from './route-event.js';
import { ApplyFailed, Deferred, type SyncContext } from './sync-context.js';
import { syncDispute } from './sync-dispute.js';
import { syncPaymentMethod } from './sync-payment-method.js';
import { setupIntentWithoutRead, syncSetupIntent } from './sync-setup-intent.js';
import { REFUND_EVENT, syncPaymentReading } from './sync-payment.js';
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
/** How much later than an event's arrival a read must have started to stand for it (see alreadyRead). */
const READ_MARGIN_MS = 1000;

type Verdict =
  | { status: 'processed' | 'not_supported'; outcome: string; read?: { at: Date; refunds: boolean } }
  | { status: 'failed'; error: string; retryable: boolean }
  | { status: 'deferred'; reason: string; delayMs: number };

/** Retry delay after a retryable failure: 2^attempts seconds, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 1000 * 2 ** Math.min(attempts, 12));
}

function claim(db: Db, now: Date, options: { ids?: string[]; limit?: number }): Promise<WebhookEventRow[]> {
  const until = new Date(now.getTime() + CLAIM_MS);
  const limit = Math.max(1, Math.min(options.limit ?? DEFAULT_LIMIT, 1000));
  return claimWebhookEvents(db, { now, until, ids: options.ids, limit });
}

/** Records the verdict on the events of a group (one statement; they share the claim this pass took). */
async function finish(
  db: Db,
  events: WebhookEventRow[],
  verdict: Verdict,
  now: Date,
  target: string | null,
): Promise<void> {
  const first = events[0];
  if (first === undefined) return;
  const attempts = Math.max(...events.map((e) => e.attempts));
  const base = { claimed_until: null, updated_at: now, target };
  let set;
  switch (verdict.status) {
    case 'processed':
    case 'not_supported':
      set = {
        ...base,
        status: verdict.status,
        outcome: verdict.outcome,
        error: null,
        retryable: null,
        processed_at: now,
        read_at: verdict.read?.at ?? null,
        read_refunds: verdict.read?.refunds ?? null,
      };
      break;
    case 'failed':
      set = {
        ...base,
        status: 'failed' as const,
        error: verdict.error,
        retryable: verdict.retryable,
        process_after: new Date(now.getTime() + retryDelayMs(attempts)),
      };
      break;
    case 'deferred':
      set =
        attempts >= MAX_DEFERRALS
          ? {
              ...base,
              status: 'failed' as const,
              error: `Still waiting after ${attempts} tries: ${verdict.reason}`,
              retryable: true,
              process_after: new Date(now.getTime() + 60_000),
            }
          : {
              ...base,
              outcome: `waiting: ${verdict.reason}`,
              process_after: new Date(now.getTime() + verdict.delayMs),
            };
      break;
  }
  await finishWebhookEvents(
    db,
    events.map((e) => e.id),
    first.claimed_until,
    set,
  );
}

function verdictOf(error: unknown): Verdict {
  if (error instanceof Deferred) return { status: 'deferred', reason: error.message, delayMs: error.delayMs };
  if (error instanceof ApplyFailed) return { status: 'failed', error: error.message, retryable: error.retryable };
  // Two processors creating the same row (a unique index on the gateway's id): the loser waits and then finds it.
  // Any other violation is a failure like any other error.
  if (isViolationOf(error, GATEWAY_OBJECT_CONSTRAINTS)) {
    return {
      status: 'deferred',
      reason: 'another processor recorded the same gateway object at the same moment',
      delayMs: 500,
    };
  }
  if (error instanceof SettleError) return { status: 'failed', error: error.message, retryable: false };
  return {
    status: 'failed',
    error: `Applying the event failed: ${error instanceof Error ? error.message : String(error)}`,
    retryable: true,
  };
}

async function apply(ctx: SyncContext, target: EventTarget): Promise<Verdict> {
  const at = ctx.deps.clock.now(); // before the read: what the gateway held from then on is in it
  try {
    switch (target.kind) {
      case 'not_supported':
        return { status: 'not_supported', outcome: target.reason };
      case 'payment': {
        const { outcome, refundsRead } = await syncPaymentReading(ctx, target.id);
        return { status: 'processed', outcome, read: { at, refunds: refundsRead } };
      }
      case 'dispute':
        return { status: 'processed', outcome: await syncDispute(ctx, target.id), read: { at, refunds: true } };
      case 'payout':
        return { status: 'processed', outcome: await syncPayout(ctx, target.id), read: { at, refunds: true } };
      case 'payment_method':
        return { status: 'processed', outcome: await syncPaymentMethod(ctx, target.id), read: { at, refunds: true } };
      case 'setup_intent':
        return { status: 'processed', outcome: await syncSetupIntent(ctx, target.id), read: { at, refunds: true } };
    }
  } catch (error) {
    return verdictOf(error);
  }
}

/**
 * A payment's events from their snapshots when the rule allows it (apply-snapshots.ts); else nothing when a read
 * that started after they all arrived already applied them (alreadyRead); else one read of the object. The
 * snapshots come first: they need no request, and for the commonest events (those of Settle's own calls) one
 * query; a read that covered the events left Settle holding what they show, which the snapshots then find.
 */
async function applyGroup(ctx: SyncContext, group: Group): Promise<Verdict> {
  if (group.target.kind === 'not_supported') return apply(ctx, group.target);
  if (group.target.kind === 'payment' || group.target.kind === 'setup_intent') {
    try {
      const outcome =
        group.target.kind === 'payment'
          ? await applyFromSnapshots(ctx, group.target.id, group.events)
          : await setupIntentWithoutRead(ctx, group.target.id, group.events);
      if (outcome !== null) return { status: 'processed', outcome };
    } catch (error) {
      return verdictOf(error);
    }
  }
  const key = targetKey(group.target);
  const read = await alreadyRead(ctx.deps.db, ctx.gatewayRow.id, key, group.events);
  if (read)
    return {
      status: 'processed',
      outcome: `already applied: the gateway's ${key} was read at ${read.toISOString()}, after this event arrived`,
    };
  return apply(ctx, group.target);
}

/**
 * An earlier read of the same gateway object that started after every one of these events had arrived: the
 * gateway made each event before sending it, so that read already held what the events say, and applied it. The
 * events need no read of their own. A payment's refund events need a read that included its refunds. The read must
 * have started a second after the last arrival at least, so that clocks of several processes a little apart, and
 * an arrival and a read within the same millisecond, never count as "after".
 */
async function alreadyRead(db: Db, gatewayId: string, key: string, events: WebhookEventRow[]): Promise<Date | null> {
  const arrived = Math.max(...events.map((e) => e.received_at.getTime()));
  const refunds = events.some((e) => REFUND_EVENT.test(e.type));
  return latestReadOf(db, { gatewayId, target: key, since: new Date(arrived + READ_MARGIN_MS), refunds });
}

interface Group {
  gatewayId: string;
  /** Connect (M6): the connected account the events are about; null for the platform's. */
  account: string | null;
  target: EventTarget;
  events: WebhookEventRow[];
}

/** The handlers' gateway: the platform's, or for a connected account's events the one scoped to it (M6). */
function gatewayOfGroup(platform: Gateway, account: string | null): Gateway {
  if (account === null) return platform;
  if (!platform.forAccount) throw new Error('its adapter cannot act on connected accounts');
  return platform.forAccount(account);
}

/** Applies due events (or exactly `ids`, due or not), in a deterministic order; returns what it did. */
export async function processWebhookEvents(
  deps: Deps,
  options: { ids?: string[]; limit?: number } = {},
): Promise<WebhookProcessSummary> {
  const now = deps.clock.now();
  const claimed = await claim(deps.db, now, options);
  const summary: WebhookProcessSummary = { picked: claimed.length, processed: 0, failed: 0, not_supported: 0 };
  if (claimed.length === 0) return summary;
  claimed.sort(
    (a, b) => a.event_created_at.getTime() - b.event_created_at.getTime() || a.event_id.localeCompare(b.event_id),
  );
  const groups = new Map<string, Group>();
  const knownAccounts = new Map<string, boolean>();
  for (const event of claimed) {
    const payload = event.payload as { account?: unknown; data?: { object?: Record<string, unknown> } };
    // Connect (M6): a connected account's event names it in `account`; its object lives on that account and is read
    // with the Stripe-Account header (the handlers' gateway is scoped to it). Routed like any other event when Settle
    // knows the account (a connected_accounts row of the event's gateway); recorded, not applied, otherwise.
    const account = typeof payload.account === 'string' ? payload.account : null;
    let target: EventTarget = routeEvent(event.type, payload.data?.object ?? {});
    if (account !== null) {
      const accountKey = `${event.gateway_id}|${account}`;
      let known = knownAccounts.get(accountKey);
      if (known === undefined) {
        known = (await knownConnectedAccount(deps.db, event.gateway_id, account)) !== undefined;
        knownAccounts.set(accountKey, known);
      }
      if (!known)
        target = {
          kind: 'not_supported',
          reason: `an event of connected account ${account}, which Settle does not know (no connected account records it)`,
        };
    }
    // Unsupported events are answered one by one; the others are grouped per gateway, account and object.
    const key =
      target.kind === 'not_supported' ? `${event.id}` : `${event.gateway_id}|${account ?? ''}|${targetKey(target)}`;
    const group = groups.get(key) ?? { gatewayId: event.gateway_id, account, target, events: [] };
    group.events.push(event);
    groups.set(key, group);
  }
  const queue = [...groups.values()];
  const day = await today(deps); // before any database transaction: PGlite has one connection
  const gateways = new Map((await allGateways(deps.db)).map((g) => [g.id, g]));
  const worker = async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      const gatewayRow = gateways.get(group.gatewayId);
      let verdict: Verdict;
      if (!gatewayRow)
        verdict = { status: 'failed', error: `Gateway ${group.gatewayId} no longer exists.`, retryable: false };
      else {
        const first = group.events[0]!;
        try {
          const ctx: SyncContext = {
            deps,
            gatewayRow,
            gateway: gatewayOfGroup(deps.gateways.forRecord(gatewayRow), group.account),
            account: group.account,
            actor: `webhook:${first.event_id}${group.events.length > 1 ? ` (+${group.events.length - 1})` : ''}`,
            now: deps.clock.now(),
            day,
            eventTypes: new Set(group.events.map((e) => e.type)),
          };
          verdict = await applyGroup(ctx, group);
        } catch (error) {
          verdict = {
            status: 'failed',
            error: `The gateway ${gatewayRow.id} cannot be used: ${error instanceof Error ? error.message : String(error)}`,
            retryable: true,
          };
        }
      }
      const finishedAt = deps.clock.now();
      await finish(
        deps.db,
        group.events,
        verdict,
        finishedAt,
        group.target.kind === 'not_supported' ? null : targetKey(group.target),
      );
      const n = group.events.length;
      if (verdict.status === 'processed') summary.processed += n;
      else if (verdict.status === 'not_supported') summary.not_supported += n;
      else if (verdict.status === 'failed') summary.failed += n;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return summary;
}
