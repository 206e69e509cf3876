// What the invoice suites share: invoices and payments through the API, row counts to prove a refusal wrote nothing,
// and the auditor's recomputation (store/totals-repo.ts totalsDifferences) as the oracle after each scenario.
import { expect } from 'vitest';
import { totalsDifferences } from '../../src/store/totals-repo.js';
import { expectStatus, type Harness } from '../support/harness.js';

export type Json = Record<string, any>;

export { expectStatus };

let numbers = 0;

/** A new open invoice (USD 10,000 unless said), with a unique number. */
export async function invoice(h: Harness, fields: Json = {}): Promise<Json> {
  numbers += 1;
  const res = await h.request('POST', '/v1/invoices', {
    number: `INV-${h.kind}-${Date.now()}-${numbers}`,
    currency: 'usd',
    total: 10000,
    ...fields,
  });
  expectStatus(res, 201);
  return res.body;
}

export async function getInvoice(h: Harness, id: string): Promise<Json> {
  const res = await h.request('GET', `/v1/invoices/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** A completed non-gateway payment (cash), allocated in full to the invoice when given. */
export async function cashPayment(h: Harness, amount: number, invoiceId?: string, currency = 'usd'): Promise<Json> {
  const res = await h.request('POST', '/v1/transactions', {
    amount,
    currency,
    non_gateway: true,
    status: 'completed',
    ...(invoiceId === undefined ? {} : { invoice_id: invoiceId }),
  });
  expectStatus(res, 201);
  return res.body;
}

export async function paymentMethod(h: Harness, token = 'pm_card_visa'): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expectStatus(res, 201);
  return res.body.id;
}

export async function allocationsOf(h: Harness, transactionId: string): Promise<Json[]> {
  const res = await h.request('GET', `/v1/allocations?transaction_id=${transactionId}&limit=200`);
  expectStatus(res, 200);
  return [...res.body.data].reverse();
}

const COUNTED = ['transactions', 'allocations', 'invoices', 'transaction_history', 'gateway_attempts'] as const;

/** The rows of the tables a refusal must leave alone. */
export async function rowCounts(h: Harness): Promise<Record<(typeof COUNTED)[number], number>> {
  const out = {} as Record<(typeof COUNTED)[number], number>;
  for (const table of COUNTED) {
    const row = await h.deps.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

/** Runs `refused`, expects its status and code, and that it wrote nothing (the invoice unchanged too). */
export async function expectRefusal(
  h: Harness,
  refused: () => Promise<{ status: number; body: any }>,
  status: number,
  code: string,
  invoiceId?: string,
): Promise<Json> {
  const before = await rowCounts(h);
  const invoiceBefore = invoiceId === undefined ? undefined : await getInvoice(h, invoiceId);
  const res = await refused();
  expectStatus(res, status);
  expect(res.body.error.code).toBe(code);
  expect(await rowCounts(h)).toEqual(before);
  if (invoiceId !== undefined) expect(await getInvoice(h, invoiceId)).toEqual(invoiceBefore);
  return res.body.error;
}

/** The auditor's oracle: every total, invoice sum and applied amount equals what the transactions say. */
export async function expectExact(h: Harness): Promise<void> {
  const differences = await h.deps.db.transaction().execute((trx) => totalsDifferences(trx));
  expect(differences).toEqual([]);
}

/** The fields of an invoice's balances. */
export function balances(inv: Json) {
  const { balance_paid, write_off_amount, balance_due, payment_status, allocations_count } = inv;
  return { balance_paid, write_off_amount, balance_due, payment_status, allocations_count };
}
