// What the order suites share: orders, payment methods and order charges through the API, and row counts to prove
// that a refusal wrote nothing. (Helpers B and C add theirs at the end of this file.)
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

export type Json = Record<string, any>;

export function expectStatus(res: { status: number; body: any }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

/** A new order (USD 10,000 unless said). */
export async function createOrder(h: Harness, fields: Json = {}): Promise<Json> {
  const res = await h.request('POST', '/v1/orders', { currency: 'usd', total: 10000, ...fields });
  expectStatus(res, 201);
  return res.body;
}

export async function getOrder(h: Harness, id: string): Promise<Json> {
  const res = await h.request('GET', `/v1/orders/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** A card payment method of the emulator (pm_card_visa unless said). */
export async function createPaymentMethod(h: Harness, token = 'pm_card_visa', fields: Json = {}): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
    ...fields,
  });
  expectStatus(res, 201);
  return res.body.id;
}

/** An open charge on the order, in the order's currency (USD unless said), to authorize (`authorize: true`) or charge. */
export async function createOrderCharge(
  h: Harness,
  orderId: string,
  paymentMethodId: string,
  amount: number,
  fields: Json = {},
): Promise<Json> {
  const res = await h.request('POST', '/v1/transactions', {
    amount,
    currency: 'USD',
    payment_method_id: paymentMethodId,
    order_id: orderId,
    ...fields,
  });
  expectStatus(res, 201);
  return res.body;
}

const COUNTED = [
  'orders',
  'order_payment_summaries',
  'order_payment_records',
  'transactions',
  'gateway_attempts',
] as const;
export type CountedTable = (typeof COUNTED)[number];

/** The rows of the tables a refusal must leave alone. */
export async function rowCounts(h: Harness): Promise<Record<CountedTable, number>> {
  const out = {} as Record<CountedTable, number>;
  for (const table of COUNTED) {
    const row = await h.deps.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

/** Runs `refused`, expects its status and code, and that it wrote nothing; returns the error body. */
export async function expectRefusal(
  h: Harness,
  refused: () => Promise<{ status: number; body: any }>,
  status: number,
  code: string,
): Promise<Json> {
  const before = await rowCounts(h);
  const res = await refused();
  expectStatus(res, status);
  expect(res.body.error.code, JSON.stringify(res.body)).toBe(code);
  expect(await rowCounts(h)).toEqual(before);
  return res.body.error;
}
