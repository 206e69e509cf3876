// Reports (issue 21, U5): GET /v1/reports/{name}, the same rows as JSON or as CSV. Each report is one or two reads
// (store/reports-repo.ts); which transactions it counts is the list views' definition where one exists (`failed`,
// `scheduled`, `to_fix`), so a report agrees with the list an operator opens next. Days and months are those of the
// `timezone` setting, "now" is Settle's clock (deps.clock). Money is integer minor units with its currency on the
// same row; a report never adds amounts of two currencies.
import { SettleError } from '../domain/errors.js';
import { computeToFix, isAwaitingAuthentication, isPaymentMethodUsable, TO_FIX_MESSAGES } from '../domain/to-fix.js';
import { dueBetween, failedBetween, revenueByMonth, type ToFixRow, toFixRows } from '../store/reports-repo.js';
import { listPayoutsPage } from '../store/payout-items-repo.js';
import { dateInZone, zonedTimeToInstant } from './clock.js';
import type { Deps } from './deps.js';
import { presentPayout } from './payouts/payouts.js';
import { paymentMethodOf } from './transactions/list-transactions.js';

export const REPORT_NAMES = ['revenue_by_month', 'failed_today', 'due_next_7_days', 'to_fix', 'payouts'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** The columns of each report, in order: the keys of its JSON rows and the header line of its CSV. */
export const REPORT_COLUMNS = {
  revenue_by_month: ['month', 'currency', 'captured_amount', 'refunded_amount', 'net_amount', 'count', 'refund_count'],
  failed_today: [
    'id',
    'record_type',
    'transaction_type',
    'amount',
    'currency',
    'error_code',
    'decline_code',
    'error_message',
    'account_id',
    'payment_method_id',
    'failed_at',
  ],
  due_next_7_days: ['due_date', 'currency', 'count', 'amount'],
  to_fix: ['code', 'message', 'count'],
  payouts: [
    'id',
    'amount',
    'currency',
    'arrival_date',
    'status',
    'reconciliation_status',
    'items_count',
    'items_total',
    'unmatched_count',
  ],
} as const satisfies Record<ReportName, readonly string[]>;

export type Cell = string | number | null;
export type ReportRow = Record<string, Cell>;

export interface Report {
  object: 'report';
  name: ReportName;
  /** The `timezone` setting the report's days and months are in. */
  timezone: string;
  /** Today in `timezone` when the report was made. */
  date: string;
  generated_at: string;
  data: ReportRow[];
}

/** How many payouts the `payouts` report shows, newest first. */
export const PAYOUTS_SHOWN = 30;
/** Days `due_next_7_days` covers: today and the six after it. */
const DUE_DAYS = 7;

const DAY_MS = 86_400_000;

/** The day `n` days after `day` (YYYY-MM-DD; calendar arithmetic, no time zone involved). */
function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

export function isReportName(name: string): name is ReportName {
  return (REPORT_NAMES as readonly string[]).includes(name);
}

function requireReportName(name: string): ReportName {
  if (isReportName(name)) return name;
  throw new SettleError(
    'not_found',
    'report_not_found',
    `No report named '${name}'. Reports: ${REPORT_NAMES.join(', ')}.`,
    {
      param: 'name',
    },
  );
}

/** The to-fix codes in the order computeToFix checks them (so rows come in that order). */
const TO_FIX_CODES = Object.keys(TO_FIX_MESSAGES) as (keyof typeof TO_FIX_MESSAGES)[];

/**
 * A count per to-fix message: a transaction counts once under each message its `to_fix` holds (computeToFix joins
 * every rule that matches), so the counts can add up to more than the transactions. Messages with none are left out.
 */
function toFixCounts(rows: readonly ToFixRow[], day: string): ReportRow[] {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const pm = paymentMethodOf(row);
    const text = computeToFix({
      record_type: row.record_type,
      status: row.status,
      auto_process: row.auto_process,
      due_date: row.due_date,
      date_to_process: row.date_to_process,
      payment_method_id: row.payment_method_id,
      invalid_payment_method: pm !== null && !isPaymentMethodUsable(pm, day),
      payment_method_awaiting_authentication: pm !== null && isAwaitingAuthentication(pm),
      connected_account_id: row.connected_account_id,
    });
    if (text === null) continue;
    // No message is part of another, so each one found in the joined text is a rule that matched.
    for (const code of TO_FIX_CODES)
      if (text.includes(TO_FIX_MESSAGES[code])) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return TO_FIX_CODES.filter((code) => counts.has(code)).map((code) => ({
    code,
    message: TO_FIX_MESSAGES[code],
    count: counts.get(code) ?? 0,
  }));
}

async function rowsOf(deps: Deps, name: ReportName, timeZone: string, day: string): Promise<ReportRow[]> {
  switch (name) {
    case 'revenue_by_month':
      return (await revenueByMonth(deps.db, timeZone)).map((r) => ({
        month: r.month,
        currency: r.currency,
        captured_amount: r.captured_amount,
        refunded_amount: r.refunded_amount,
        net_amount: r.captured_amount - r.refunded_amount,
        count: r.count,
        refund_count: r.refund_count,
      }));
    case 'failed_today': {
      const from = zonedTimeToInstant(day, '00:00', timeZone);
      const to = zonedTimeToInstant(addDays(day, 1), '00:00', timeZone);
      return (await failedBetween(deps.db, from, to, day)).map((r) => ({
        id: r.id,
        record_type: r.record_type,
        transaction_type: r.transaction_type,
        amount: r.amount,
        currency: r.currency,
        error_code: r.error_code,
        decline_code: r.decline_code,
        error_message: r.error_message,
        account_id: r.account_id,
        payment_method_id: r.payment_method_id,
        failed_at: new Date(r.failed_at).toISOString(),
      }));
    }
    case 'due_next_7_days':
      return (await dueBetween(deps.db, day, addDays(day, DUE_DAYS - 1))).map((r) => ({ ...r }));
    case 'to_fix':
      return toFixCounts(await toFixRows(deps.db, day), day);
    case 'payouts': {
      const rows = (await listPayoutsPage(deps.db, {}, PAYOUTS_SHOWN)).slice(0, PAYOUTS_SHOWN);
      return rows.map((row) => {
        const p = presentPayout(row);
        return {
          id: p.id,
          amount: p.amount,
          currency: p.currency,
          arrival_date: p.arrival_date,
          status: p.status,
          reconciliation_status: p.reconciliation_status,
          items_count: p.items_count,
          items_total: p.items_total,
          unmatched_count: p.unmatched_count,
        };
      });
    }
  }
}

/** GET /v1/reports/{name}: 404 report_not_found for a name that is not a report. Reads only. */
export async function runReport(deps: Deps, name: string): Promise<Report> {
  const report = requireReportName(name);
  const now = deps.clock.now();
  const { timezone } = await deps.settings.get();
  const day = dateInZone(now, timezone);
  const data = await rowsOf(deps, report, timezone, day);
  return { object: 'report', name: report, timezone, date: day, generated_at: now.toISOString(), data };
}

/** A string a spreadsheet would run as a formula (OWASP, "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled; null is empty.
 * A text that a spreadsheet would take for a formula gets a leading apostrophe (and is quoted); numbers never do, so
 * a negative amount stays a number.
 */
function csvField(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== value ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as CSV: a header line of its columns, then one line per row, each ending CRLF (RFC 4180). */
export function reportCsv(report: Report): string {
  const columns: readonly string[] = REPORT_COLUMNS[report.name];
  const lines = [columns.map((c) => csvField(c)).join(',')];
  for (const row of report.data) lines.push(columns.map((c) => csvField(row[c] ?? null)).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

/** The CSV's file name: the report and the day it was made for. */
export function reportFileName(report: Report): string {
  return `${report.name}-${report.date}.csv`;
}

/**
 * Whether an Accept header asks for CSV rather than JSON: `text/csv` is preferred to `application/json` by quality,
 * the more specific range of each deciding (RFC 9110, 12.5.1). JSON is the default, and wins a tie.
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const ranges = accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { type, quality: Number.isFinite(quality) ? quality : 0 };
  });
  const qualityOf = (wanted: string): number => {
    const [major] = wanted.split('/');
    const exact = ranges.find((r) => r.type === wanted);
    if (exact) return exact.quality;
    const partial = ranges.find((r) => r.type === `${major}/*`);
    if (partial) return partial.quality;
    return ranges.find((r) => r.type === '*/*')?.quality ?? 0;
  };
  return qualityOf('text/csv') > qualityOf('application/json');
}
