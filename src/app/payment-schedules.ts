// /v1/payment-schedules (X6): recurring charges generated ahead as open auto-process transactions (schedule_id,
// schedule_occurrence, due_date). Every write locks the schedule's row, so generation is exactly once per occurrence
// (the unique index transactions_one_per_schedule_occurrence backs that up) and a pause, resume, cancel or edit never
// interleaves with a top-up. The work on the generated transactions is payment-schedules-generate.ts.
import { ConflictError, isSettleError, NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseDate, parseMetadata, parseText } from '../domain/fields.js';
import { parseAmount, parseCurrency } from '../domain/money.js';
import {
  lastOccurrence,
  nextOccurrenceDate,
  SCHEDULE_INTERVALS,
  type ScheduleDates,
  type ScheduleIntervalName,
} from '../domain/schedules.js';
import {
  activeScheduleIds,
  compareAndSetSchedule,
  findSchedule,
  insertSchedule,
  listScheduleRows,
  lockSchedule,
  type PaymentScheduleChanges,
} from '../store/payment-schedules-repo.js';
import type { PaymentScheduleRow, ScheduleStatus, Tx } from '../store/schema.js';
import { iso, optional, requireChanges } from './customers.js';
import { type Deps, type RequestContext, requireAccount, requireContact, requirePaymentMethod, today } from './deps.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { carryChanges, datesOf, moveScheduleTransactions, topUpLocked } from './payment-schedules-generate.js';

export const SCHEDULE_STATUSES = ['active', 'paused', 'completed', 'canceled'] as const;
const MAX_INTERVAL_COUNT = 366;
/** The most occurrences a schedule may have (an int4 column; a bound far beyond any real schedule). */
const MAX_OCCURRENCES = 100_000;

export interface CreatePaymentScheduleInput {
  amount?: unknown;
  currency?: unknown;
  payment_method_id?: string;
  parent_id?: string | null;
  invoice_id?: string | null;
  account_id?: string | null;
  contact_id?: string | null;
  interval?: string;
  interval_count?: number;
  start_date?: string;
  end_date?: string | null;
  occurrences?: number | null;
  description?: string | null;
  metadata?: Record<string, unknown>;
}

export type UpdatePaymentScheduleInput = Pick<
  CreatePaymentScheduleInput,
  'amount' | 'payment_method_id' | 'end_date' | 'occurrences' | 'description'
> & { metadata?: Record<string, unknown> };

export interface PaymentScheduleView {
  id: string;
  object: 'payment_schedule';
  amount: number;
  currency: string;
  payment_method_id: string | null;
  account_id: string | null;
  contact_id: string | null;
  parent_id: string | null;
  invoice_id: string | null;
  interval: ScheduleIntervalName;
  interval_count: number;
  start_date: string;
  end_date: string | null;
  occurrences: number | null;
  generated_count: number;
  status: ScheduleStatus;
  next_date: string | null;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export function presentSchedule(row: PaymentScheduleRow): PaymentScheduleView {
  const open = row.status === 'active' || row.status === 'paused';
  return {
    id: row.id,
    object: 'payment_schedule',
    amount: row.amount,
    currency: row.currency,
    payment_method_id: row.payment_method_id,
    account_id: row.account_id,
    contact_id: row.contact_id,
    parent_id: row.parent_id,
    invoice_id: row.invoice_id,
    interval: row.interval,
    interval_count: row.interval_count,
    start_date: row.start_date,
    end_date: row.end_date,
    occurrences: row.occurrences,
    generated_count: row.generated_count,
    status: row.status,
    next_date: open ? nextOccurrenceDate(datesOf(row), row.generated_count) : null,
    description: row.description,
    metadata: row.metadata,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function parseInterval(value: unknown): ScheduleIntervalName {
  if (typeof value === 'string' && (SCHEDULE_INTERVALS as readonly string[]).includes(value)) {
    return value as ScheduleIntervalName;
  }
  throw new ValidationError(
    'invalid_interval',
    `interval must be one of ${SCHEDULE_INTERVALS.join(', ')}.`,
    'interval',
  );
}

function parseWhole(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`invalid_${field}`, `${field} must be a whole number from 1 to ${max}.`, field);
  }
  return value;
}

/** end_date or occurrences (at most one), checked against the dates; the schedule's own last occurrence follows. */
function parseEnd(
  dates: Omit<ScheduleDates, 'end_date' | 'occurrences'>,
  endDate: string | null | undefined,
  occurrences: number | null | undefined,
): { end_date: string | null; occurrences: number | null } {
  if (endDate !== undefined && endDate !== null && occurrences !== undefined && occurrences !== null) {
    throw new ValidationError(
      'conflicting_end',
      'Give end_date or occurrences, not both: a schedule ends on a date or after a number of occurrences.',
      'occurrences',
    );
  }
  const end = endDate === undefined || endDate === null ? null : parseDate(endDate, 'end_date');
  if (end !== null && end < dates.start_date) {
    throw new ValidationError(
      'invalid_end_date',
      `end_date ${end} is before start_date ${dates.start_date}.`,
      'end_date',
    );
  }
  const count =
    occurrences === undefined || occurrences === null ? null : parseWhole(occurrences, 'occurrences', MAX_OCCURRENCES);
  return { end_date: end, occurrences: count };
}

async function requireSchedule(trx: Tx, id: string): Promise<PaymentScheduleRow> {
  const row = await lockSchedule(trx, id);
  if (!row) throw new NotFoundError('payment schedule', id);
  return row;
}

function stateConflict(action: string, row: PaymentScheduleRow, allowed: readonly ScheduleStatus[]): ConflictError {
  return new ConflictError(
    'unexpected_state',
    `Cannot ${action} a payment schedule in status '${row.status}'; allowed from: ${allowed.join(', ')}.`,
    { current: row.status, allowed: [...allowed] },
  );
}

function requireStatus(action: string, row: PaymentScheduleRow, allowed: readonly ScheduleStatus[]): void {
  if (!allowed.includes(row.status)) throw stateConflict(action, row, allowed);
}

/** The day and the horizon a top-up generates to: today in `timezone`, schedule_horizon_days. */
async function generationWindow(deps: Deps): Promise<{ day: string; horizon: number }> {
  const settings = await deps.settings.get();
  return { day: await today(deps), horizon: settings.schedule_horizon_days };
}

export async function createPaymentSchedule(deps: Deps, ctx: RequestContext, input: CreatePaymentScheduleInput) {
  const { day, horizon } = await generationWindow(deps);
  const amount = parseAmount(input.amount, 'amount', 'positive');
  const currency = parseCurrency(input.currency, 'currency');
  if (input.payment_method_id === undefined) {
    throw new ValidationError(
      'parameter_missing',
      'payment_method_id is required: the payment method each occurrence is charged to.',
      'payment_method_id',
    );
  }
  const interval = parseInterval(input.interval);
  const intervalCount =
    input.interval_count === undefined ? 1 : parseWhole(input.interval_count, 'interval_count', MAX_INTERVAL_COUNT);
  if (input.start_date === undefined) {
    throw new ValidationError(
      'parameter_missing',
      'start_date is required: the date of the first occurrence.',
      'start_date',
    );
  }
  const startDate = parseDate(input.start_date, 'start_date');
  if (startDate < day) {
    throw new ValidationError(
      'start_date_in_past',
      `start_date ${startDate} is before today (${day} in the timezone setting); a schedule starts today or later.`,
      'start_date',
    );
  }
  const end = parseEnd(
    { interval, interval_count: intervalCount, start_date: startDate },
    input.end_date,
    input.occurrences,
  );
  const description = optional(input.description, (v) => parseText(v, 'description', 1000)) ?? null;
  const metadata = input.metadata === undefined ? {} : parseMetadata(input.metadata, 'metadata', false);
  return deps.commands.run<PaymentScheduleView>(ctx.idempotency, async (trx) => {
    let accountId = input.account_id ?? null;
    let contactId = input.contact_id ?? null;
    if (accountId !== null) await requireAccount(trx, accountId);
    if (contactId !== null) await requireContact(trx, contactId);
    // R5, as for transactions: no account or contact given, the payment method's.
    const pm = await requirePaymentMethod(trx, input.payment_method_id!);
    accountId ??= pm.account_id;
    contactId ??= pm.contact_id;
    const now = deps.clock.now();
    // A missing parent or invoice is the foreign key's 404; an invoice in another currency, or void, is refused by
    // the allocation trigger when the first occurrence is inserted (currency_mismatch, invoice_void): nothing stays.
    const inserted = await insertSchedule(trx, {
      id: newId('payment_schedule', now.getTime()),
      amount,
      currency,
      payment_method_id: pm.id,
      account_id: accountId,
      contact_id: contactId,
      parent_id: input.parent_id ?? null,
      invoice_id: input.invoice_id ?? null,
      interval,
      interval_count: intervalCount,
      start_date: startDate,
      end_date: end.end_date,
      occurrences: end.occurrences,
      description,
      metadata: JSON.stringify(metadata),
      created_at: now,
      updated_at: now,
    });
    const { schedule } = await topUpLocked(trx, inserted, day, horizon, ctx.actor, now);
    return { status: 201, body: presentSchedule(schedule) };
  });
}

export async function getPaymentSchedule(deps: Deps, id: string): Promise<PaymentScheduleView> {
  const row = await findSchedule(deps.db, id);
  if (!row) throw new NotFoundError('payment schedule', id);
  return presentSchedule(row);
}

export async function listPaymentSchedules(
  deps: Deps,
  query: {
    status?: string;
    parent_id?: string;
    invoice_id?: string;
    limit?: number;
    starting_after?: string;
  },
): Promise<Page<PaymentScheduleView>> {
  const limit = parseLimit(query.limit);
  if (query.status !== undefined && !(SCHEDULE_STATUSES as readonly string[]).includes(query.status)) {
    throw new ValidationError('invalid_status', `status must be one of ${SCHEDULE_STATUSES.join(', ')}.`, 'status');
  }
  const rows = await listScheduleRows(deps.db, {
    status: query.status as ScheduleStatus | undefined,
    parent_id: query.parent_id,
    invoice_id: query.invoice_id,
    after: cursorAfter(query.starting_after, 'payment_schedule'),
    limit,
  });
  return pageOf(rows, limit, presentSchedule, byId);
}

/** The schedule's own changes from a PATCH (validated), and what its transactions take of them. */
async function scheduleChanges(
  trx: Tx,
  row: PaymentScheduleRow,
  input: UpdatePaymentScheduleInput,
): Promise<PaymentScheduleChanges> {
  const changes: PaymentScheduleChanges = {};
  if (input.amount !== undefined) changes.amount = parseAmount(input.amount, 'amount', 'positive');
  if (input.payment_method_id !== undefined) {
    changes.payment_method_id = (await requirePaymentMethod(trx, input.payment_method_id)).id;
  }
  if (input.end_date !== undefined || input.occurrences !== undefined) {
    // Giving one of them replaces the schedule's end: the other is cleared unless given too.
    const end = parseEnd(datesOf(row), input.end_date, input.occurrences);
    const last = lastOccurrence({ ...datesOf(row), ...end });
    if (last !== null && last < row.generated_count) {
      throw new ValidationError(
        'end_before_generated',
        `The new end leaves ${last} occurrence(s), but ${row.generated_count} are already generated; cancel the schedule instead, or end it later.`,
        input.occurrences !== undefined && input.occurrences !== null ? 'occurrences' : 'end_date',
      );
    }
    changes.end_date = end.end_date;
    changes.occurrences = end.occurrences;
  }
  if (input.description !== undefined) {
    changes.description = input.description === null ? null : parseText(input.description, 'description', 1000);
  }
  if (input.metadata !== undefined) {
    changes.metadata = JSON.stringify(mergeMetadata(row.metadata, parseMetadata(input.metadata, 'metadata', true)));
  }
  return changes;
}

const EDITABLE: readonly ScheduleStatus[] = ['active', 'paused'];

export async function updatePaymentSchedule(
  deps: Deps,
  ctx: RequestContext,
  id: string,
  input: UpdatePaymentScheduleInput,
) {
  requireChanges(input);
  const { day, horizon } = await generationWindow(deps);
  return deps.commands.run<PaymentScheduleView>(ctx.idempotency, async (trx) => {
    const row = await requireSchedule(trx, id);
    requireStatus('edit', row, EDITABLE);
    const changes = await scheduleChanges(trx, row, input);
    const now = deps.clock.now();
    const updated = (await compareAndSetSchedule(trx, row, changes, now))!;
    const carried = {
      ...(changes.amount !== undefined && changes.amount !== row.amount ? { amount: changes.amount } : {}),
      ...(changes.payment_method_id !== undefined && changes.payment_method_id !== row.payment_method_id
        ? { payment_method_id: changes.payment_method_id }
        : {}),
    };
    await carryChanges(trx, updated, carried, ctx.actor, now);
    // A later end generates what is now within the horizon; an end reached marks the schedule completed.
    const { schedule } = await topUpLocked(trx, updated, day, horizon, ctx.actor, now);
    return { status: 200, body: presentSchedule(schedule) };
  });
}

/** Pause: the generated open transactions go on_hold; nothing more is generated until resumed. */
export async function pausePaymentSchedule(deps: Deps, ctx: RequestContext, id: string) {
  return deps.commands.run<PaymentScheduleView>(ctx.idempotency, async (trx) => {
    const row = await requireSchedule(trx, id);
    requireStatus('pause', row, ['active']);
    await moveScheduleTransactions(trx, row.id, [{ from: 'open', events: ['hold'] }], ctx.actor);
    const updated = (await compareAndSetSchedule(trx, row, { status: 'paused' }, deps.clock.now()))!;
    return { status: 200, body: presentSchedule(updated) };
  });
}

/**
 * Resume: the on-hold transactions go back to open (those now past due are charged as auto_process_due_today_only
 * says) and the schedule is topped up, occurrences that fell due during the pause included.
 */
export async function resumePaymentSchedule(deps: Deps, ctx: RequestContext, id: string) {
  const { day, horizon } = await generationWindow(deps);
  return deps.commands.run<PaymentScheduleView>(ctx.idempotency, async (trx) => {
    const row = await requireSchedule(trx, id);
    requireStatus('resume', row, ['paused']);
    await moveScheduleTransactions(trx, row.id, [{ from: 'on_hold', events: ['unhold'] }], ctx.actor);
    const now = deps.clock.now();
    const active = (await compareAndSetSchedule(trx, row, { status: 'active' }, now))!;
    const { schedule } = await topUpLocked(trx, active, day, horizon, ctx.actor, now);
    return { status: 200, body: presentSchedule(schedule) };
  });
}

/**
 * Cancel: open transactions are canceled, on-hold ones unheld then canceled (the state machine's only way). A completed
 * schedule may be canceled too: its last occurrences may still be open, generated ahead.
 */
export async function cancelPaymentSchedule(deps: Deps, ctx: RequestContext, id: string) {
  return deps.commands.run<PaymentScheduleView>(ctx.idempotency, async (trx) => {
    const row = await requireSchedule(trx, id);
    requireStatus('cancel', row, ['active', 'paused', 'completed']);
    await moveScheduleTransactions(
      trx,
      row.id,
      [
        { from: 'open', events: ['cancel'] },
        { from: 'on_hold', events: ['unhold', 'cancel'] },
      ],
      ctx.actor,
    );
    const updated = (await compareAndSetSchedule(trx, row, { status: 'canceled' }, deps.clock.now()))!;
    return { status: 200, body: presentSchedule(updated) };
  });
}

/** Tops up one schedule in a database transaction of its own (the daily job; tests call it concurrently). */
export async function topUpSchedule(deps: Deps, ctx: RequestContext, id: string): Promise<number> {
  const { day, horizon } = await generationWindow(deps);
  const result = await deps.commands.run<number>(undefined, async (trx) => {
    const row = await requireSchedule(trx, id);
    const { generated } = await topUpLocked(trx, row, day, horizon, ctx.actor, deps.clock.now());
    return { status: 200, body: generated };
  });
  return result.body;
}

/** The payment_schedules job: every active schedule topped up, one at a time, each in its own transaction. */
export async function topUpAllSchedules(
  deps: Deps,
  ctx: RequestContext,
): Promise<{ schedules: number; generated: number; failed: { id: string; code: string; message: string }[] }> {
  const out = { schedules: 0, generated: 0, failed: [] as { id: string; code: string; message: string }[] };
  let after: string | undefined;
  for (;;) {
    const ids = await activeScheduleIds(deps.db, after, 200);
    for (const id of ids) {
      out.schedules += 1;
      try {
        out.generated += await topUpSchedule(deps, ctx, id);
      } catch (error) {
        out.failed.push({
          id,
          code: isSettleError(error) ? error.code : 'internal_error',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (ids.length < 200) return out;
    after = ids[ids.length - 1];
  }
}
