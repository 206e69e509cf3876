// Accounts (organisations) and contacts (people) (R6), and the roll-down of a customer's default payment
// method onto its open transactions (R5). Updates are compare-and-set on `version`, like transactions.
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { mergeMetadata, parseEmail, parseMetadata, parseText } from '../domain/fields.js';
import {
  compareAndSetCustomer,
  type CustomerChanges,
  type CustomerTable,
  findCustomerRow,
  insertAccount,
  insertContact,
  listAccountRows,
  listContactRows,
  rollDownPaymentMethod,
  setDefaultPaymentMethod,
} from '../store/customers-repo.js';
import { insertHistory } from '../store/history.js';
import type { AccountRow, ContactRow, Db, Tx } from '../store/schema.js';
import { type Deps, type RequestContext, requireAccount, requirePaymentMethod } from './deps.js';
import { newId } from './ids.js';
import { byId, cursorAfter, type Page, pageOf, parseLimit } from './pagination.js';
import { noTotalsYet, oneWithTotals, type TotalsEntryView, withTotals } from './totals.js';

export type CustomerKind = 'account' | 'contact';
const TABLES: Record<CustomerKind, CustomerTable> = { account: 'accounts', contact: 'contacts' };
const MAX_ATTEMPTS = 10;

export const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

/** Re-runs a read-apply-write step until its compare-and-set wins (undefined = lost the race). */
export async function retryOnRace<T>(what: string, step: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const result = await step();
    if (result !== undefined) return result;
  }
  throw new ConflictError(
    'concurrent_update',
    `The ${what} kept changing while this edit was applied; retry the request.`,
  );
}

export function requireChanges(input: object): void {
  if (Object.keys(input).length === 0)
    throw new ValidationError('parameter_missing', 'Give at least one field to change.');
}

/** undefined = not given; null clears. */
export function optional<T>(value: T | null | undefined, parse: (v: T) => T): T | null | undefined {
  return value === undefined || value === null ? value : parse(value);
}

export const createMetadata = (value: Record<string, unknown> | undefined) =>
  JSON.stringify(value === undefined ? {} : parseMetadata(value, 'metadata', false));

/** Records `paymentMethodId` as the customer's default; false when it already was. */
export async function setCustomerDefault(
  trx: Tx,
  kind: CustomerKind,
  customerId: string,
  paymentMethodId: string | null,
  now: Date,
) {
  return setDefaultPaymentMethod(trx, TABLES[kind], customerId, paymentMethodId, now);
}

/**
 * R5 roll-down: every open transaction of the customer that allows it gets the new default payment
 * method, with version + 1 and a history row, set-based: one locking UPDATE ... RETURNING (the CTE keeps
 * the old value), then one multi-row history INSERT. Returns how many transactions changed.
 */
export async function rollDownDefault(
  trx: Tx,
  ctx: RequestContext,
  kind: CustomerKind,
  customerId: string,
  paymentMethodId: string,
  now: Date,
) {
  const column = kind === 'account' ? 'account_id' : 'contact_id';
  const changed = await rollDownPaymentMethod(trx, column, customerId, paymentMethodId, now);
  if (changed.length === 0) return 0;
  await insertHistory(
    trx,
    changed.map((row) => ({
      transaction_id: row.id,
      actor: ctx.actor,
      action: `payment method rolled down from ${kind} ${customerId}`,
      changes: { payment_method_id: [row.old_payment_method_id, paymentMethodId] },
    })),
  );
  return changed.length;
}

/** A new default must be a payment method of this customer. */
async function checkDefault(trx: Tx, kind: CustomerKind, customerId: string, paymentMethodId: string): Promise<void> {
  const pm = await requirePaymentMethod(trx, paymentMethodId, 'default_payment_method_id');
  const owner = kind === 'account' ? pm.account_id : pm.contact_id;
  if (owner !== customerId) {
    throw new ValidationError(
      'payment_method_not_owned',
      `Payment method ${paymentMethodId} does not belong to ${kind} ${customerId}; a default must be one of its own payment methods.`,
      'default_payment_method_id',
    );
  }
}

interface AccountFields {
  id: string;
  object: 'account';
  name: string;
  email: string | null;
  default_payment_method_id: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

interface ContactFields extends Omit<AccountFields, 'object' | 'name'> {
  object: 'contact';
  account_id: string | null;
  first_name: string | null;
  last_name: string;
}

/** An account or contact as the API shows it: its fields and its totals (R2: one entry per currency). */
export type AccountView = AccountFields & { totals: TotalsEntryView[] };
export type ContactView = ContactFields & { totals: TotalsEntryView[] };

function presentAccount(row: AccountRow): AccountFields {
  const { id, name, email, default_payment_method_id, metadata } = row;
  return {
    id,
    object: 'account',
    name,
    email,
    default_payment_method_id,
    metadata,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function presentContact(row: ContactRow): ContactFields {
  const { id, account_id, first_name, last_name, email, default_payment_method_id, metadata } = row;
  const times = { created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
  return {
    id,
    object: 'contact',
    account_id,
    first_name,
    last_name,
    email,
    default_payment_method_id,
    metadata,
    ...times,
  };
}

const parseName = (field: string) => (value: string) => parseText(value, field, 200);
const email = (value: string) => parseEmail(value, 'email');

export interface CustomerUpdateCommon {
  email?: string | null;
  metadata?: Record<string, unknown>;
  default_payment_method_id?: string | null;
}
export interface CreateAccountInput {
  name: string;
  email?: string | null;
  metadata?: Record<string, unknown>;
}
export interface UpdateAccountInput extends CustomerUpdateCommon {
  name?: string;
}
export interface CreateContactInput {
  last_name: string;
  first_name?: string | null;
  email?: string | null;
  account_id?: string | null;
  metadata?: Record<string, unknown>;
}
export interface UpdateContactInput extends CustomerUpdateCommon {
  last_name?: string;
  first_name?: string | null;
}

export async function createAccount(deps: Deps, ctx: RequestContext, input: CreateAccountInput) {
  const values = {
    name: parseText(input.name, 'name', 200),
    email: optional(input.email, email) ?? null,
    metadata: createMetadata(input.metadata),
  };
  return deps.commands.run<AccountView>(ctx.idempotency, async (trx) => {
    const now = deps.clock.now();
    const row = await insertAccount(trx, {
      id: newId('account', now.getTime()),
      ...values,
      default_payment_method_id: null,
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: noTotalsYet(presentAccount(row)) };
  });
}

export async function createContact(deps: Deps, ctx: RequestContext, input: CreateContactInput) {
  const values = {
    last_name: parseText(input.last_name, 'last_name', 200),
    first_name: optional(input.first_name, parseName('first_name')) ?? null,
    email: optional(input.email, email) ?? null,
    account_id: input.account_id ?? null,
    metadata: createMetadata(input.metadata),
  };
  return deps.commands.run<ContactView>(ctx.idempotency, async (trx) => {
    if (values.account_id !== null) await requireAccount(trx, values.account_id);
    const now = deps.clock.now();
    const row = await insertContact(trx, {
      id: newId('contact', now.getTime()),
      ...values,
      default_payment_method_id: null,
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: noTotalsYet(presentContact(row)) };
  });
}

function findCustomer(db: Db | Tx, kind: CustomerKind, id: string): Promise<AccountRow | ContactRow | undefined> {
  return findCustomerRow(db, TABLES[kind], id);
}

/** The shared PATCH: validate, compare-and-set on version, then roll a changed default down. */
async function updateCustomer<R extends AccountRow | ContactRow, V extends { id: string }>(
  deps: Deps,
  ctx: RequestContext,
  kind: CustomerKind,
  id: string,
  input: CustomerUpdateCommon,
  fields: Record<string, string | null | undefined>,
  present: (row: R) => V,
) {
  requireChanges(input);
  const common = { ...fields, email: optional(input.email, email) };
  const metadataUpdate = input.metadata === undefined ? undefined : parseMetadata(input.metadata, 'metadata', true);
  const settings = await deps.settings.get();
  const wanted = input.default_payment_method_id;
  return deps.commands.run<V & { totals: TotalsEntryView[] }>(ctx.idempotency, async (trx) => {
    if (!(await findCustomer(trx, kind, id))) throw new NotFoundError(kind, id);
    if (typeof wanted === 'string') await checkDefault(trx, kind, id, wanted);
    const { before, after } = await retryOnRace(kind, async () => {
      const current = await findCustomer(trx, kind, id);
      if (!current) throw new NotFoundError(kind, id);
      const changes: CustomerChanges = { ...common, default_payment_method_id: wanted };
      if (metadataUpdate) changes.metadata = JSON.stringify(mergeMetadata(current.metadata, metadataUpdate));
      const next = await compareAndSetCustomer(trx, TABLES[kind], current, changes, deps.clock.now());
      return next ? { before: current, after: next as R } : undefined;
    });
    if (
      typeof wanted === 'string' &&
      wanted !== before.default_payment_method_id &&
      settings.payment_method_rolldown_enabled
    ) {
      await rollDownDefault(trx, ctx, kind, id, wanted, deps.clock.now());
    }
    return { status: 200, body: await oneWithTotals(trx, present(after)) };
  });
}

export async function updateAccount(deps: Deps, ctx: RequestContext, id: string, input: UpdateAccountInput) {
  return updateCustomer(
    deps,
    ctx,
    'account',
    id,
    input,
    { name: optional(input.name, parseName('name')) ?? undefined },
    presentAccount,
  );
}

export async function updateContact(deps: Deps, ctx: RequestContext, id: string, input: UpdateContactInput) {
  const fields = {
    last_name: optional(input.last_name, parseName('last_name')) ?? undefined,
    first_name: optional(input.first_name, parseName('first_name')),
  };
  return updateCustomer(deps, ctx, 'contact', id, input, fields, presentContact);
}

export async function getAccount(deps: Deps, id: string): Promise<AccountView> {
  const row = await findCustomer(deps.db, 'account', id);
  if (!row) throw new NotFoundError('account', id);
  return oneWithTotals(deps.db, presentAccount(row as AccountRow));
}

export async function getContact(deps: Deps, id: string): Promise<ContactView> {
  const row = await findCustomer(deps.db, 'contact', id);
  if (!row) throw new NotFoundError('contact', id);
  return oneWithTotals(deps.db, presentContact(row as ContactRow));
}

export interface ListCustomersQuery {
  account_id?: string;
  limit?: number;
  starting_after?: string;
}

export async function listAccounts(deps: Deps, query: ListCustomersQuery): Promise<Page<AccountView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'account');
  const page = pageOf(await listAccountRows(deps.db, { after, limit }), limit, presentAccount, byId);
  return { ...page, data: await withTotals(deps.db, page.data) };
}

export async function listContacts(deps: Deps, query: ListCustomersQuery): Promise<Page<ContactView>> {
  const limit = parseLimit(query.limit);
  const after = cursorAfter(query.starting_after, 'contact');
  const page = pageOf(
    await listContactRows(deps.db, { account_id: query.account_id, after, limit }),
    limit,
    presentContact,
    byId,
  );
  return { ...page, data: await withTotals(deps.db, page.data) };
}
