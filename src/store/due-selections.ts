// What each batch job picks (S1), as SQL over the transactions (the jobs themselves are in src/jobs/). The same
// rules are checked again on the row under its lock before anything is sent (app/processing/auto-process.ts); this
// is the fast, indexed first cut.
//   daily_charges       open auto-process normal charges, due, not non-gateway, positive amount, with a usable
//                       payment method (the rule of domain/to-fix.ts isPaymentMethodUsable, written in SQL)
//   capture_authorized  completed/authorized charges, due, auto-process or flagged `capture`, authorization not lapsed
//   scheduled_refunds   open auto-process refunds, due, negative amount, original set, on the original's payment method
//   transfers           open auto-process normal transfers (Connect, M6), due, with a connected account
//   payouts             open auto-process normal payouts (Connect, M6), due, on a connected account
// "Due" is on date_to_process when set, else due_date; <= today, or = today under auto_process_due_today_only.
// on_hold and canceled transactions are not open, so no job ever picks them.
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from './schema.js';

export const BATCH_JOBS = ['daily_charges', 'capture_authorized', 'scheduled_refunds', 'transfers', 'payouts'] as const;
export type BatchJobName = (typeof BATCH_JOBS)[number];

export interface SelectionRule {
  /** Today, in the timezone setting (YYYY-MM-DD). */
  day: string;
  dueTodayOnly: boolean;
  now: Date;
}

type From = Database & { t: Database['transactions'] };
type Selection = SelectQueryBuilder<
  Database & { t: Database['transactions']; pm: Database['payment_methods']; o: Database['transactions'] },
  't',
  { id: string }
>;

/** The day a transaction is due (README, "Scheduled jobs"): date_to_process when set, else due_date. */
export const dueOn = sql<string>`coalesce(t.date_to_process, t.due_date)`;

function dueCondition(rule: SelectionRule) {
  return rule.dueTodayOnly ? sql<boolean>`${dueOn} = ${rule.day}::date` : sql<boolean>`${dueOn} <= ${rule.day}::date`;
}

/** Months since year 0 of a YYYY-MM-DD day (as domain/to-fix.ts counts them for card expiry). */
function monthIndex(day: string): number {
  return Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
}

/** isPaymentMethodUsable in SQL: cards valid or one-time and not past their expiry month; bank accounts verified. */
export function usablePaymentMethod(day: string) {
  return sql<boolean>`(
    (pm.type = 'card' and pm.status in ('valid', 'one_time') and (
      pm.exp_month is null or pm.exp_year is null
      or (pm.exp_month between 1 and 12 and pm.exp_year * 12 + pm.exp_month - 1 >= ${monthIndex(day)})))
    or (pm.type = 'us_bank_account' and pm.status = 'verified'))`;
}

/** The transactions `job` would pick under `rule` (ids, in due order), before claims. */
export function selectDue(db: Kysely<Database>, job: BatchJobName, rule: SelectionRule): Selection {
  const base = db
    .selectFrom('transactions as t')
    .select('t.id')
    .where('t.non_gateway', '=', false)
    .where(dueCondition(rule));
  const charges = base.where('t.record_type', '=', 'charge');
  switch (job) {
    case 'daily_charges':
      return charges
        .innerJoin('payment_methods as pm', 'pm.id', 't.payment_method_id')
        .where('t.status', '=', 'open')
        .where('t.transaction_type', '=', 'normal')
        .where('t.auto_process', '=', true)
        .where('t.amount', '>', 0)
        .where(usablePaymentMethod(rule.day));
    case 'capture_authorized':
      return charges
        .where('t.status', '=', 'completed')
        .where('t.payment_status', '=', 'authorized')
        .where('t.transaction_type', '=', 'normal')
        .where((eb: ExpressionBuilder<From, 't'>) =>
          eb.or([eb('t.auto_process', '=', true), eb('t.capture', '=', true)]),
        )
        .where((eb: ExpressionBuilder<From, 't'>) =>
          eb.or([eb('t.authorization_expires_at', 'is', null), eb('t.authorization_expires_at', '>', rule.now)]),
        )
        .where('t.gateway_payment_intent', 'is not', null);
    case 'scheduled_refunds':
      return charges
        .innerJoin('transactions as o', 'o.id', 't.original_transaction_id')
        .where('t.status', '=', 'open')
        .where('t.transaction_type', '=', 'refund')
        .where('t.auto_process', '=', true)
        .where('t.amount', '<', 0)
        .where(sql<boolean>`t.payment_method_id is not distinct from o.payment_method_id`);
    case 'transfers':
      return base
        .where('t.record_type', '=', 'transfer')
        .where('t.transaction_type', '=', 'normal')
        .where('t.status', '=', 'open')
        .where('t.auto_process', '=', true)
        .where('t.connected_account_id', 'is not', null);
    case 'payouts':
      return base
        .where('t.record_type', '=', 'payout')
        .where('t.transaction_type', '=', 'normal')
        .where('t.status', '=', 'open')
        .where('t.auto_process', '=', true)
        .where('t.connected_account_id', 'is not', null);
  }
}

/** How many transactions `job` would pick now (a run's `total`, for progress). */
export async function countDue(db: Kysely<Database>, job: BatchJobName, rule: SelectionRule): Promise<number> {
  const row = await db
    .selectFrom(selectDue(db, job, rule).as('due'))
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
