// The jobs (S1, S2, S5; names as in README, "Scheduled jobs") and their schedules. A batch job works through
// transactions that several workers claim in parts (batch-run.ts); a task job is one piece of housekeeping run by one
// worker.
import { isSettleError, StateConflictError } from '../domain/errors.js';
import type { Deps, RequestContext } from '../app/deps.js';
import type { Settings } from '../app/settings.js';
import {
  autoCaptureTransaction,
  autoChargeTransaction,
  type DueRule,
  NotEligible,
  processScheduledRefund,
} from '../app/processing/auto-process.js';
import { DEFAULT_MAX_RECOVERY_TRIES, recoverInFlight } from '../app/processing/recover.js';
import { snapshotBalances } from '../app/balances.js';
import { markInvoicesPastDue } from '../app/invoices.js';
import { processTransfer } from '../app/connect/transfers.js';
import { recoverConnectSends } from '../app/connect/recover-sends.js';
import { processPayout } from '../app/connect/payouts-send.js';
import type { TransactionView } from '../app/transactions/present.js';
import { deleteOldWebhookEvents } from '../app/webhooks/events.js';
import { processWebhookEvents } from '../app/webhooks/processor.js';
import type { JobRunError } from '../store/schema.js';
import { pruneEmptyRuns, type RunCounts } from './job-runs.js';
import { createReattempts } from './reattempts.js';
import { runPayoutReconciliation } from '../app/payouts/reconcile-due.js';
import type { BatchJobName } from './selections.js';
import { topUpAllSchedules } from '../app/payment-schedules.js';
import { checkTotals, describeDifference, recordsDiffering, totalsCheckSummary } from '../app/totals-check.js';

export type JobSchedule = { kind: 'daily' } | { kind: 'interval'; seconds: number };

/** What one transaction came to: counted as succeeded, failed or skipped, with the error when there is one. */
export type ItemResult = { outcome: 'succeeded' | 'failed' | 'skipped'; error?: JobRunError };

export interface BatchJob {
  kind: 'batch';
  name: BatchJobName;
  description: string;
  schedule: JobSchedule;
  process(deps: Deps, ctx: RequestContext, id: string, rule: DueRule): Promise<ItemResult>;
}

export interface TaskJob {
  kind: 'task';
  name: string;
  description: string;
  schedule: JobSchedule;
  run(deps: Deps, ctx: RequestContext): Promise<RunCounts & { summary: string }>;
}

export type JobDefinition = BatchJob | TaskJob;

/** The API's answer for the transaction, in the run's terms. */
function resultOf(view: TransactionView): ItemResult {
  const error = (code: string, message: string): ItemResult => ({
    outcome: 'failed',
    error: { transaction_id: view.id, code, message },
  });
  switch (view.status) {
    case 'completed':
    case 'pending':
      return { outcome: 'succeeded' };
    case 'failed':
      return error(view.decline_code ?? view.error_code ?? 'failed', view.error_message ?? 'The gateway declined it.');
    case 'pending_payment_intent':
      return error(
        view.decline_code ?? 'authentication_required',
        'The card needs its holder to authenticate; the payment waits for them (pending_payment_intent).',
      );
    case 'process':
    case 'needs_review':
      return error(
        'outcome_unknown',
        'The gateway did not answer clearly; recovery will find out what happened (never by charging again).',
      );
    default:
      return error('unexpected_state', `The transaction ended ${view.status}.`);
  }
}

/** One item, never throwing for the item's own reasons (a decline, a changed row, bad data): they are results. */
async function item(id: string, act: () => Promise<{ body: TransactionView }>): Promise<ItemResult> {
  try {
    return resultOf((await act()).body);
  } catch (error) {
    if (error instanceof NotEligible || error instanceof StateConflictError) return { outcome: 'skipped' };
    if (isSettleError(error))
      return { outcome: 'failed', error: { transaction_id: id, code: error.code, message: error.message } };
    return {
      outcome: 'failed',
      error: {
        transaction_id: id,
        code: 'internal_error',
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
}

const DAILY: JobSchedule = { kind: 'daily' };

/** Housekeeping runs that found nothing are kept this long, then pruned by webhook_cleanup. */
const EMPTY_RUN_RETENTION_MS = 24 * 60 * 60 * 1000;

export const JOBS: readonly JobDefinition[] = Object.freeze([
  {
    kind: 'batch',
    name: 'daily_charges',
    description: 'Charges (or authorizes, when flagged) open auto-process charges that are due, off-session.',
    schedule: DAILY,
    process: (deps, ctx, id, rule) => item(id, () => autoChargeTransaction(deps, ctx, id, rule)),
  },
  {
    kind: 'batch',
    name: 'capture_authorized',
    description: 'Captures authorized charges that are due (auto-process or flagged capture).',
    schedule: DAILY,
    process: (deps, ctx, id, rule) => item(id, () => autoCaptureTransaction(deps, ctx, id, rule)),
  },
  {
    kind: 'batch',
    name: 'scheduled_refunds',
    description:
      "Sends open auto-process refund transactions that are due to the gateway, against their original's payment.",
    schedule: DAILY,
    process: (deps, ctx, id, rule) => item(id, () => processScheduledRefund(deps, ctx, id, rule)),
  },
  {
    kind: 'batch',
    name: 'transfers',
    description:
      'Sends open auto-process transfers that are due to their connected accounts (Connect; the same use case as POST /v1/transactions/{id}/process).',
    schedule: DAILY,
    process: (deps, ctx, id, rule) => item(id, () => processTransfer(deps, ctx, id, rule)),
  },
  {
    kind: 'batch',
    name: 'payouts',
    description:
      "Sends open auto-process payouts that are due, each made on its connected account from that account's balance (Connect; the same use case as POST /v1/transactions/{id}/process).",
    schedule: DAILY,
    process: (deps, ctx, id, rule) => item(id, () => processPayout(deps, ctx, id, rule)),
  },
  {
    kind: 'task',
    name: 'reattempts',
    description: 'Creates the next attempt of charges that failed with a soft decline (settings reattempts_*).',
    schedule: { kind: 'interval', seconds: 600 },
    run: async (deps, ctx) => {
      const counts = await createReattempts(deps, ctx);
      return { ...counts, summary: `${counts.succeeded} reattempt(s) created from ${counts.picked} failed charge(s).` };
    },
  },
  {
    kind: 'task',
    name: 'recover',
    description:
      'Resolves gateway calls whose outcome is unknown and older than stuck_after_seconds (P12), and Connect sends (transfers, reversals) left in process (app/connect/recover-sends.ts).',
    schedule: { kind: 'interval', seconds: 60 },
    run: async (deps, ctx) => {
      const { stuck_after_seconds } = await deps.settings.get();
      const report = await recoverInFlight(deps, {
        actor: ctx.actor,
        olderThanMs: stuck_after_seconds * 1000,
        maxTries: DEFAULT_MAX_RECOVERY_TRIES,
        limit: 1000,
      });
      // Connect sends record no gateway attempt: resent with their fixed key after their own grace period (M6).
      const connect = await recoverConnectSends(deps, { actor: ctx.actor, limit: 1000 });
      return {
        picked: report.examined + connect.examined,
        succeeded: report.applied + report.reverted + connect.applied,
        failed: report.needs_review + report.errors.length + connect.needs_review + connect.errors.length,
        skipped: report.still_unknown + connect.still_unknown + connect.unhandled,
        errors: [
          ...report.errors.map((e) => ({
            transaction_id: null,
            code: 'recovery_failed',
            message: `${e.attempt_id}: ${e.message}`,
          })),
          ...connect.errors.map((e) => ({
            transaction_id: e.transaction_id,
            code: 'recovery_failed',
            message: e.message,
          })),
        ],
        summary: `${report.applied} resolved from the gateway's answer, ${report.reverted} put back, ${report.needs_review} sent to needs_review, ${report.still_unknown} still unknown; Connect sends: ${connect.applied} resolved, ${connect.needs_review} sent to needs_review, ${connect.still_unknown} still unknown.`,
      };
    },
  },
  {
    kind: 'task',
    name: 'webhook_inbox',
    description: 'Applies stored webhook events that are due (a sweep behind the live webhook worker).',
    schedule: { kind: 'interval', seconds: 60 },
    run: async (deps) => {
      const total = { picked: 0, processed: 0, failed: 0, not_supported: 0 };
      for (let round = 0; round < 50; round += 1) {
        const s = await processWebhookEvents(deps, { limit: 200 });
        total.picked += s.picked;
        total.processed += s.processed;
        total.failed += s.failed;
        total.not_supported += s.not_supported;
        if (s.picked < 200) break;
      }
      return {
        picked: total.picked,
        succeeded: total.processed,
        failed: total.failed,
        skipped: total.not_supported,
        errors: [],
        summary: `${total.processed} event(s) applied, ${total.failed} failed, ${total.not_supported} not supported.`,
      };
    },
  },
  {
    kind: 'task',
    name: 'webhook_cleanup',
    description:
      'Deletes processed webhook events older than webhook_retention_days, and housekeeping runs that found nothing.',
    schedule: DAILY,
    run: async (deps) => {
      const result = await deleteOldWebhookEvents(deps);
      const pruned = await pruneEmptyRuns(
        deps.db,
        HOUSEKEEPING_JOBS,
        new Date(deps.clock.now().getTime() - EMPTY_RUN_RETENTION_MS),
      );
      return {
        picked: result.deleted,
        succeeded: result.deleted,
        failed: 0,
        skipped: 0,
        errors: [],
        summary: `Deleted ${result.deleted} webhook event(s) received before ${result.received_before}, and ${pruned} empty housekeeping run(s).`,
      };
    },
  },
  {
    kind: 'task',
    name: 'payout_reconciliation',
    description:
      "Reconciles automatic payouts whose reconciliation is due (Stripe's own completed, or the payout failed): links each balance transaction they paid out to its Settle transaction (M2).",
    schedule: { kind: 'interval', seconds: 600 },
    run: (deps, ctx) => runPayoutReconciliation(deps, ctx.actor),
  },
  {
    kind: 'task',
    name: 'balances',
    description:
      "Compares each Stripe gateway's balance with the ledger, refreshes balance_status and available_on from the gateway's balance transactions, keeps a snapshot and flags a difference the unlinked items do not explain (M5).",
    schedule: DAILY,
    run: async (deps, ctx) => {
      const { entries, refreshed, failures } = await snapshotBalances(deps, ctx.actor);
      const flagged = entries.filter((e) => e.flagged);
      return {
        picked: entries.length,
        succeeded: entries.length - flagged.length,
        failed: flagged.length + failures.length,
        skipped: 0,
        errors: [
          ...flagged.map((e) => ({
            transaction_id: null,
            code: 'balance_unexplained',
            message: `${e.gateway_id} ${e.currency}: the gateway holds ${e.available + e.pending}, the ledger ${e.ledger.available + e.ledger.pending}; ${e.unexplained} is not explained by the unlinked items.`,
          })),
          ...failures.map((f) => ({ transaction_id: null, code: f.code, message: `${f.gateway_id}: ${f.message}` })),
        ],
        summary: `${entries.length} balance(s) compared, ${flagged.length} flagged, ${refreshed} balance status(es) refreshed${failures.length > 0 ? `, ${failures.length} gateway(s) not read` : ''}.`,
      };
    },
  },
  {
    kind: 'task',
    name: 'totals_check',
    description:
      "The auditor's check: recomputes every total, invoice balance and allocation from the transactions in one snapshot and reports each difference (there should be none; also `settle check`).",
    schedule: DAILY,
    run: async (deps) => {
      const report = await checkTotals(deps.db);
      const checked = report.owners + report.invoices + report.allocations;
      const differing = recordsDiffering(report);
      return {
        picked: checked,
        succeeded: Math.max(0, checked - differing),
        failed: differing,
        skipped: 0,
        errors: report.differences.map((d) => ({
          transaction_id: null,
          code: 'totals_difference',
          message: describeDifference(d),
        })),
        summary: totalsCheckSummary(report),
      };
    },
  },
  {
    kind: 'task',
    name: 'payment_schedules',
    description:
      'Tops up every active payment schedule: generates its occurrences within schedule_horizon_days of today (always the next one) as open auto-process charges, and marks a schedule completed once its last occurrence is generated (X6).',
    schedule: DAILY,
    run: async (deps, ctx) => {
      const result = await topUpAllSchedules(deps, ctx);
      return {
        picked: result.schedules,
        succeeded: result.schedules - result.failed.length,
        failed: result.failed.length,
        skipped: 0,
        errors: result.failed.map((f) => ({
          transaction_id: null,
          code: f.code,
          message: `${f.id}: ${f.message}`,
        })),
        summary: `${result.schedules} active schedule(s) topped up: ${result.generated} occurrence(s) generated, ${result.failed.length} failed.`,
      };
    },
  },
  {
    kind: 'task',
    name: 'invoices_past_due',
    description:
      'Marks open invoices whose due date is before today in their time zone as past due (payment_status past_due while a balance is due), and unmarks those whose due date moved later (S5, R3).',
    schedule: DAILY,
    run: async (deps) => {
      const { marked, unmarked } = await markInvoicesPastDue(deps);
      return {
        picked: marked + unmarked,
        succeeded: marked + unmarked,
        failed: 0,
        skipped: 0,
        errors: [],
        summary: `${marked} invoice(s) marked past due, ${unmarked} no longer past due.`,
      };
    },
  },
] satisfies JobDefinition[]);

/** Interval jobs (their runs that found nothing are pruned after a day). */
const HOUSEKEEPING_JOBS = ['reattempts', 'recover', 'webhook_inbox', 'payout_reconciliation'];

export const JOB_NAMES: readonly string[] = JOBS.map((j) => j.name);

export function jobNamed(name: string): JobDefinition | undefined {
  return JOBS.find((j) => j.name === name);
}

export function dueRuleFor(settings: Settings, day: string): DueRule {
  return { day, dueTodayOnly: settings.auto_process_due_today_only };
}
