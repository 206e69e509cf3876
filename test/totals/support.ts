// Helpers of the totals-through-every-path tests (issue 19, R2): owners made for one test (an account, a contact of
// it, a parent and, for USD, an invoice), transactions made through the API for them, the emulator's events handed to
// Settle, and the one assertion every test ends with: each owner's entries are exactly the expected ones, and the
// auditor's recomputation (totalsDifferences) finds nothing.
import { sql } from 'kysely';
import { expect } from 'vitest';
import { newId } from '../../src/app/ids.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { totalsDifferences, totalsOf, TOTALS_AMOUNT_FIELDS } from '../../src/store/totals-repo.js';
import { expectStatus, type Harness } from '../support/harness.js';
import { allEmulatorEvents, type EventLike, storeStripeEvent } from '../webhooks/store-event.js';

export const DAY = 24 * 3600 * 1000;
/** The harness clock's day (2026-11-24T12:00:00Z, timezone UTC). */
export const TODAY = '2026-11-24';

export { expectStatus };

export interface Owners {
  account_id: string;
  contact_id: string;
  parent_id: string;
  /** Only when asked for (an invoice has one currency). */
  invoice_id?: string;
}

let invoiceNumber = 0;

/** A fresh account, a contact of it and a parent (raw SQL: /v1/parents is another part's); an invoice if `currency`. */
export async function newOwners(h: Harness, invoiceCurrency?: string): Promise<Owners> {
  const account = await h.request('POST', '/v1/accounts', { name: 'Totals Ltd' });
  expectStatus(account, 201);
  const contact = await h.request('POST', '/v1/contacts', { last_name: 'Totals', account_id: account.body.id });
  expectStatus(contact, 201);
  const parentId = newId('parent', h.clock.now().getTime());
  await sql`insert into parents (id, type, name) values (${parentId}, 'opportunity', 'Totals deal')`.execute(h.deps.db);
  const owners: Owners = { account_id: account.body.id, contact_id: contact.body.id, parent_id: parentId };
  if (invoiceCurrency !== undefined) {
    const invoiceId = newId('invoice', h.clock.now().getTime());
    invoiceNumber += 1;
    await sql`insert into invoices (id, number, account_id, contact_id, currency, total)
      values (${invoiceId}, ${`TOT-${invoiceId}-${invoiceNumber}`}, ${owners.account_id}, ${owners.contact_id},
        ${invoiceCurrency.toUpperCase()}, 10000000)`.execute(h.deps.db);
    owners.invoice_id = invoiceId;
  }
  return owners;
}

export const ownerIds = (o: Owners): string[] =>
  [o.account_id, o.contact_id, o.parent_id, o.invoice_id].filter((id): id is string => id !== undefined);

export async function paymentMethod(h: Harness, token = 'pm_card_visa'): Promise<string> {
  const body = token.startsWith('pm_usBankAccount')
    ? { gateway_token: token, type: 'us_bank_account', status: 'verified' }
    : { gateway_token: token, type: 'card', exp_month: 12, exp_year: 2030 };
  const res = await h.request('POST', '/v1/payment-methods', body);
  expectStatus(res, 201);
  return res.body.id as string;
}

/** An open transaction for the owners (201), with `fields` (amount 1000 USD unless given). */
export async function createFor(h: Harness, o: Owners, fields: Record<string, unknown> = {}): Promise<any> {
  const body = {
    amount: 1000,
    currency: 'usd',
    account_id: o.account_id,
    contact_id: o.contact_id,
    parent_id: o.parent_id,
    ...(o.invoice_id === undefined ? {} : { invoice_id: o.invoice_id }),
    ...fields,
  };
  const res = await h.request('POST', '/v1/transactions', body);
  expectStatus(res, 201);
  expect(res.body).toMatchObject({
    parent_id: body.parent_id,
    account_id: body.account_id,
    contact_id: body.contact_id,
  });
  return res.body;
}

/** A gateway charge for the owners, open, paid with `token`. */
export async function gatewayCharge(h: Harness, o: Owners, amount: number, token = 'pm_card_visa', currency = 'usd') {
  return createFor(h, o, { amount, currency, payment_method_id: await paymentMethod(h, token) });
}

/** POST /v1/transactions/{id}/{action}; the answer's status must be `status`. */
export async function act(h: Harness, id: string, action: string, body?: unknown, status = 200): Promise<any> {
  const res = await h.request('POST', `/v1/transactions/${id}/${action}`, body);
  expectStatus(res, status);
  return res.body;
}

export async function getTrx(h: Harness, id: string): Promise<any> {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** The emulator's events seen so far (ids), to deliver only what comes after. */
export const markEvents = async (h: Harness): Promise<Set<string>> =>
  new Set((await allEmulatorEvents(h)).map((e) => e.id));

/** Stores the emulator's events made since `mark` (in order, or as given by `arrange`) and applies them; none fails. */
export async function deliverSince(
  h: Harness,
  mark: Set<string>,
  arrange: (events: EventLike[]) => EventLike[] = (e) => e,
): Promise<string[]> {
  const events = arrange((await allEmulatorEvents(h)).filter((e) => !mark.has(e.id)));
  const ids: string[] = [];
  for (const event of events) ids.push(await storeStripeEvent(h, event));
  const summary = await processWebhookEvents(h.deps, { ids: [...new Set(ids)] });
  const rows = await h.deps.db
    .selectFrom('webhook_events')
    .select(['type', 'status', 'error'])
    .where('id', 'in', ids.length === 0 ? ['none'] : ids)
    .execute();
  expect(summary.failed, JSON.stringify(rows.filter((r) => r.status === 'failed'))).toBe(0);
  return events.map((e) => e.type);
}

export type Entry = Record<(typeof TOTALS_AMOUNT_FIELDS)[number], number> & {
  last_payment_at: string | null;
  next_due_date: string | null;
};

export const ZERO: Entry = {
  ...(Object.fromEntries(TOTALS_AMOUNT_FIELDS.map((f) => [f, 0])) as Record<(typeof TOTALS_AMOUNT_FIELDS)[number], 0>),
  last_payment_at: null,
  next_due_date: null,
};

/** An owner's entries by currency, as numbers and ISO text. */
export async function entriesOf(h: Harness, ownerId: string): Promise<Record<string, Entry>> {
  const rows = (await totalsOf(h.deps.db, [ownerId])).get(ownerId) ?? [];
  const out: Record<string, Entry> = {};
  for (const row of rows) {
    const entry = { ...ZERO };
    for (const f of TOTALS_AMOUNT_FIELDS) entry[f] = Number(row[f]);
    entry.last_payment_at = row.last_payment_at === null ? null : new Date(row.last_payment_at).toISOString();
    entry.next_due_date = row.next_due_date === null ? null : String(row.next_due_date).slice(0, 10);
    out[row.currency] = entry;
  }
  return out;
}

/** The auditor's recomputation, in one snapshot: must find nothing. */
export async function expectNoDifferences(h: Harness): Promise<void> {
  const differences = await h.deps.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => totalsDifferences(trx));
  expect(differences).toEqual([]);
}

/**
 * Every owner named (account, contact, parent, invoice) has exactly these entries: one per currency given, each the
 * zero entry with the given fields; then the recomputation finds no difference anywhere.
 */
export async function expectTotals(
  h: Harness,
  owners: Owners | string[],
  expected: Record<string, Partial<Entry>>,
): Promise<void> {
  const ids = Array.isArray(owners) ? owners : ownerIds(owners);
  const want = Object.fromEntries(Object.entries(expected).map(([c, e]) => [c, { ...ZERO, ...e }]));
  for (const id of ids) expect(await entriesOf(h, id), id).toEqual(want);
  await expectNoDifferences(h);
}

/** When a transaction last moved to a completed payment (its processed_at), as ISO text. */
export async function processedAt(h: Harness, id: string): Promise<string> {
  const row = await h.deps.db
    .selectFrom('transactions')
    .select('processed_at')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  expect(row.processed_at).not.toBeNull();
  return new Date(row.processed_at!).toISOString();
}
