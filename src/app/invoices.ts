// Invoices (R3): create, read, list and edit, and the past-due marking (S5). The balances are the database's
// (migration 0020: allocation triggers keep allocated_*, and balance_paid, write_off_amount, balance_due and
// payment_status are generated columns); this module writes what a person gives and the `past_due` flag, which the
// generated payment_status reads: true while the invoice is open, has a due date before today in its time zone
// (Settle's clock), set here whenever the due date, time zone or status is written, and by the daily
// invoices_past_due job as days pass. The actions (pay, write-off, void) are app/invoice-actions.ts.
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseDate, parseMetadata, parseText } from '../domain/fields.js';
import { parseAmount, parseCurrency } from '../domain/money.js';
import {
  compareAndSetInvoice,
  findInvoice,
  insertInvoice,
  type InvoiceChanges,
  invoiceZones,
  listInvoiceRows,
  markPastDue,
} from '../store/invoices-repo.js';
import type { Db, InvoicePaymentStatus, InvoiceRow, InvoiceStatus, Tx } from '../store/schema.js';
import { dateInZone, isValidTimeZone } from './clock.js';
import { iso, requireChanges, retryOnRace } from './customers.js';
import { type Deps, type RequestContext, requireAccount, requireContact } from './deps.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { type TotalsEntryView, withTotals } from './totals.js';

export const INVOICE_STATUSES = ['draft', 'open', 'void'] as const;
export const INVOICE_PAYMENT_STATUSES = [
  'unpaid',
  'past_due',
  'partially_paid',
  'paid',
  'refunded',
  'partially_refunded',
  'overpaid',
] as const;

export interface InvoiceView {
  id: string;
  object: 'invoice';
  number: string;
  account_id: string | null;
  contact_id: string | null;
  currency: string;
  total: number;
  issued_on: string | null;
  due_date: string | null;
  timezone: string | null;
  status: InvoiceStatus;
  past_due: boolean;
  balance_paid: number;
  write_off_amount: number;
  balance_due: number;
  payment_status: InvoicePaymentStatus;
  allocations_count: number;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  totals: TotalsEntryView[];
}

function presentRow(row: InvoiceRow): Omit<InvoiceView, 'totals'> {
  return {
    id: row.id,
    object: 'invoice',
    number: row.number,
    account_id: row.account_id,
    contact_id: row.contact_id,
    currency: row.currency,
    total: row.total,
    issued_on: row.issued_on,
    due_date: row.due_date,
    timezone: row.timezone,
    status: row.status,
    past_due: row.past_due,
    balance_paid: row.balance_paid,
    write_off_amount: row.write_off_amount,
    balance_due: row.balance_due,
    payment_status: row.payment_status,
    allocations_count: row.allocations_count,
    description: row.description,
    metadata: row.metadata,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** The invoices as the API shows them, with their totals read in one query. */
export async function presentInvoices(db: Db | Tx, rows: readonly InvoiceRow[]): Promise<InvoiceView[]> {
  return withTotals(db, rows.map(presentRow));
}

export async function presentInvoice(db: Db | Tx, row: InvoiceRow): Promise<InvoiceView> {
  const [view] = await presentInvoices(db, [row]);
  if (!view) throw new Error(`invoice ${row.id} was not presented`);
  return view;
}

/** Whether an invoice is past due now: open, with a due date before today in its time zone. */
export function isPastDue(
  invoice: { status: InvoiceStatus; due_date: string | null; timezone: string | null },
  now: Date,
  defaultZone: string,
): boolean {
  if (invoice.status !== 'open' || invoice.due_date === null) return false;
  return invoice.due_date < dateInZone(now, invoice.timezone ?? defaultZone);
}

function parseTimeZone(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 64 || !isValidTimeZone(value)) {
    throw new ValidationError(
      'invalid_timezone',
      "timezone must be an IANA time zone such as 'Europe/Paris'.",
      'timezone',
    );
  }
  return value;
}

function parseStatus(value: unknown): 'draft' | 'open' {
  if (value === 'void') {
    throw new ValidationError(
      'status_not_settable',
      'An invoice is voided with POST /v1/invoices/{id}/void (only while nothing is allocated to it).',
      'status',
    );
  }
  if (value !== 'draft' && value !== 'open') {
    throw new ValidationError('parameter_invalid_value', 'status must be draft or open.', 'status');
  }
  return value;
}

const parseNumber = (value: unknown) => parseText(value, 'number', 100);
const parseDescription = (value: unknown) => parseText(value, 'description', 1000);

/** undefined = not given; null clears. */
function nullable<T>(value: unknown, parse: (v: unknown) => T): T | null | undefined {
  return value === undefined || value === null ? value : parse(value);
}

export interface CreateInvoiceInput {
  number?: unknown;
  account_id?: string | null;
  contact_id?: string | null;
  currency?: unknown;
  total?: unknown;
  issued_on?: unknown;
  due_date?: unknown;
  timezone?: unknown;
  status?: unknown;
  description?: unknown;
  metadata?: Record<string, unknown>;
}

/** POST /v1/invoices. A duplicate number is the unique constraint's 409 invoice_number_taken. */
export async function createInvoice(deps: Deps, ctx: RequestContext, input: CreateInvoiceInput) {
  const settings = await deps.settings.get();
  const values = {
    number: parseNumber(input.number),
    currency: parseCurrency(input.currency, 'currency'),
    total: parseAmount(input.total, 'total', 'non_negative'),
    issued_on: nullable(input.issued_on, (v) => parseDate(v, 'issued_on')) ?? null,
    due_date: nullable(input.due_date, (v) => parseDate(v, 'due_date')) ?? null,
    timezone: input.timezone === undefined ? settings.timezone : parseTimeZone(input.timezone),
    status: input.status === undefined ? ('open' as const) : parseStatus(input.status),
    description: nullable(input.description, parseDescription) ?? null,
    metadata: JSON.stringify(input.metadata === undefined ? {} : parseMetadata(input.metadata, 'metadata', false)),
    account_id: input.account_id ?? null,
    contact_id: input.contact_id ?? null,
  };
  return deps.commands.run<InvoiceView>(ctx.idempotency, async (trx) => {
    if (values.account_id !== null) await requireAccount(trx, values.account_id);
    if (values.contact_id !== null) await requireContact(trx, values.contact_id);
    const now = deps.clock.now();
    const row = await insertInvoice(trx, {
      id: newId('invoice', now.getTime()),
      ...values,
      past_due: isPastDue(values, now, settings.timezone),
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: await presentInvoice(trx, row) };
  });
}

export async function requireInvoice(db: Db | Tx, id: string, param?: string): Promise<InvoiceRow> {
  const row = await findInvoice(db, id);
  if (!row) throw new NotFoundError('invoice', id, param);
  return row;
}

export async function getInvoice(deps: Deps, id: string): Promise<InvoiceView> {
  return presentInvoice(deps.db, await requireInvoice(deps.db, id));
}

export interface ListInvoicesQuery {
  account_id?: string;
  status?: string;
  payment_status?: string;
  limit?: number;
  starting_after?: string;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ValidationError('parameter_invalid_value', `${field} must be one of: ${allowed.join(', ')}.`, field);
  }
  return value as T;
}

export async function listInvoices(deps: Deps, query: ListInvoicesQuery): Promise<Page<InvoiceView>> {
  const limit = parseLimit(query.limit);
  const filters = {
    account_id: query.account_id,
    status: oneOf(query.status, INVOICE_STATUSES, 'status'),
    payment_status: oneOf(query.payment_status, INVOICE_PAYMENT_STATUSES, 'payment_status'),
  };
  const rows = await listInvoiceRows(deps.db, filters, cursorAfter(query.starting_after, 'invoice'), limit);
  const page = pageOf(rows, limit, (row) => row, byId);
  return { ...page, data: await presentInvoices(deps.db, page.data) };
}

export interface UpdateInvoiceInput {
  total?: unknown;
  currency?: unknown;
  due_date?: unknown;
  issued_on?: unknown;
  timezone?: unknown;
  status?: unknown;
  description?: unknown;
  metadata?: Record<string, unknown>;
}

/** PATCH /v1/invoices/{id}: compare-and-set on version; a void invoice is final (409 invoice_void). */
export async function updateInvoice(deps: Deps, ctx: RequestContext, id: string, input: UpdateInvoiceInput) {
  requireChanges(input);
  const settings = await deps.settings.get();
  const changes: InvoiceChanges = {};
  if (input.total !== undefined) changes.total = parseAmount(input.total, 'total', 'non_negative');
  if (input.currency !== undefined) changes.currency = parseCurrency(input.currency, 'currency');
  if (input.due_date !== undefined) changes.due_date = nullable(input.due_date, (v) => parseDate(v, 'due_date'));
  if (input.issued_on !== undefined) changes.issued_on = nullable(input.issued_on, (v) => parseDate(v, 'issued_on'));
  if (input.timezone !== undefined) changes.timezone = parseTimeZone(input.timezone);
  if (input.status !== undefined) changes.status = parseStatus(input.status);
  if (input.description !== undefined) changes.description = nullable(input.description, parseDescription);
  const metadataUpdate = input.metadata === undefined ? undefined : parseMetadata(input.metadata, 'metadata', true);
  return deps.commands.run<InvoiceView>(ctx.idempotency, async (trx) => {
    const saved = await retryOnRace('invoice', async () => {
      const current = await requireInvoice(trx, id);
      if (current.status === 'void') {
        throw new ConflictError('invoice_void', `Invoice ${id} is void; a void invoice cannot be changed.`);
      }
      const next: InvoiceChanges = { ...changes };
      if (metadataUpdate) next.metadata = JSON.stringify(mergeMetadata(current.metadata, metadataUpdate));
      next.past_due = isPastDue({ ...current, ...next }, deps.clock.now(), settings.timezone);
      const row = await compareAndSetInvoice(trx, current, next, deps.clock.now());
      if (row) return row;
      if (next.currency !== undefined && next.currency !== current.currency) {
        const now = await requireInvoice(trx, id);
        if (now.version === current.version) {
          throw new ConflictError(
            'invoice_has_allocations',
            `Invoice ${id} has ${now.allocations_count} allocation(s); its currency cannot change once anything is allocated to it.`,
          );
        }
      }
      return undefined;
    });
    return { status: 200, body: await presentInvoice(trx, saved) };
  });
}

/**
 * The invoices_past_due job: one set-based statement that marks open invoices whose due date is before today in
 * their time zone (Settle's clock) and unmarks those no longer past due. Idempotent: a second run changes nothing.
 */
export async function markInvoicesPastDue(deps: Deps): Promise<{ marked: number; unmarked: number }> {
  const settings = await deps.settings.get();
  const now = deps.clock.now();
  const zones = new Set((await invoiceZones(deps.db)).map((z) => z ?? settings.timezone));
  const days = [...zones].map((zone) => ({ zone, day: dateInZone(now, zone) }));
  const changed = await markPastDue(deps.db, days, settings.timezone);
  const marked = changed.filter((c) => c.past_due).length;
  return { marked, unmarked: changed.length - marked };
}
