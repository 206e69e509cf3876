// What the order suites share: orders, payment methods and order charges through the API, checkouts a storefront makes
// with the real SDK against the emulator, the order's payment summaries, captures and refunds of an order, and row
// counts to prove that a refusal (or a replay) wrote nothing.
import Stripe from 'stripe';
import { expect } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { ApiResponse, Harness } from '../support/harness.js';
import { expectStatus, type Json } from '../invoices/support.js';

// One expectStatus and one auditor's oracle (totalsDifferences) for the invoice and the order suites.
export { expectExact, expectStatus, type Json } from '../invoices/support.js';

/** Expects an error answer with `status` and `code`; returns the error. */
export function expectError(res: ApiResponse, status: number, code: string): Json {
  expectStatus(res, status);
  expect(res.body.error.code, JSON.stringify(res.body)).toBe(code);
  return res.body.error;
}

export function emulatorOf(h: Harness) {
  if (!h.emulator) throw new Error('this suite needs the emulator');
  return h.emulator;
}

/** The official SDK, on the emulator's account (what a storefront and the test's own checks use). */
export function stripeOf(h: Harness): Stripe {
  return new Stripe('sk_test_x', { host: '127.0.0.1', port: emulatorOf(h).port, protocol: 'http' });
}

/** Expects the answer an Idempotency-Key replays: marked as replayed, with the first answer's body. */
export function expectReplay(res: ApiResponse, body: unknown): void {
  expect(res.headers['idempotency-replayed']).toBe('true');
  expect(res.body).toEqual(body);
}

/** How many requests the emulator has been sent: a mark to compare its request log with later. */
export const gatewayMark = (h: Harness): number => emulatorOf(h).controls.requestLog().length;

/** A PaymentIntent made and confirmed by a storefront, as its checkout would (pm_card_visa, USD unless said). */
export function checkout(
  h: Harness,
  amount: number,
  captureMethod: 'manual' | 'automatic' | 'automatic_async',
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripeOf(h).paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    capture_method: captureMethod,
    // A storefront taking cards only (no redirect-based methods), so no return_url is needed.
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    ...extra,
  });
}

export async function createAccount(h: Harness, name = 'Storefront customer'): Promise<string> {
  const res = await h.request('POST', '/v1/accounts', { name });
  expectStatus(res, 201);
  return res.body.id;
}

let externalIds = 0;

/** An external_id no other order of the run has (they are unique, and a database serves many tests). */
export function uniqueExternalId(h: Harness, prefix: string): string {
  externalIds += 1;
  return `${prefix}-${h.kind}-${Date.now()}-${externalIds}`;
}

/** A new order (USD 10,000 unless said). */
export async function createOrder(h: Harness, fields: Json = {}): Promise<Json> {
  const res = await h.request('POST', '/v1/orders', { currency: 'usd', total: 10000, ...fields });
  expectStatus(res, 201);
  return res.body;
}

/** The id of a new order (USD 10,000 unless said). */
export async function newOrder(h: Harness, fields: Json = {}): Promise<string> {
  return (await createOrder(h, fields)).id as string;
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

/** An authorized charge of the order (manual capture), through the API. */
export async function authorizedCharge(h: Harness, orderId: string, pm: string, amount: number): Promise<Json> {
  const created = await createOrderCharge(h, orderId, pm, amount, { authorize: true });
  const res = await h.request('POST', `/v1/transactions/${created.id}/authorize`, {});
  expectStatus(res, 200);
  expect([res.body.status, res.body.payment_status]).toEqual(['completed', 'authorized']);
  return res.body;
}

/** A new order (USD 10,000), a card, and an authorized charge of the order on it for each amount, oldest first. */
export async function authorizedOrder<const A extends readonly number[]>(
  h: Harness,
  amounts: A,
): Promise<{ order: string; pm: string; charges: { [K in keyof A]: Json } }> {
  const order = await newOrder(h);
  const pm = await createPaymentMethod(h);
  const charges: Json[] = [];
  for (const amount of amounts) charges.push(await authorizedCharge(h, order, pm, amount));
  return { order, pm, charges: charges as { [K in keyof A]: Json } };
}

export async function getTransaction(h: Harness, id: string): Promise<Json> {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** The one transaction Settle holds for a PaymentIntent. */
export async function chargeOf(h: Harness, pi: string): Promise<Json> {
  const rows = await h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_payment_intent', '=', pi)
    .execute();
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** GET /v1/orders/{id}/payment-summaries. */
export async function summaries(h: Harness, orderId: string): Promise<Json[]> {
  const res = await h.request('GET', `/v1/orders/${orderId}/payment-summaries`);
  expectStatus(res, 200);
  return res.body.data;
}

/** A summary's amounts, without its records. */
export const amounts = (s: Json) => ({
  authorized_amount: s.authorized_amount,
  captured_amount: s.captured_amount,
  refunded_amount: s.refunded_amount,
  pending_amount: s.pending_amount,
  available_to_capture: s.available_to_capture,
  available_to_refund: s.available_to_refund,
  balance: s.balance,
});

/** POST /v1/orders/{id}/capture or /refund (ensure funds, ensure refunds), with an Idempotency-Key when given. */
export function orderAction(
  h: Harness,
  action: 'capture' | 'refund',
  orderId: string,
  body: Json,
  key?: string,
): Promise<ApiResponse> {
  return h.request(
    'POST',
    `/v1/orders/${orderId}/${action}`,
    body,
    key === undefined ? {} : { 'Idempotency-Key': key },
  );
}

/** `capture` and `refund` of an order, for the suite's harness. */
export function orderActions(get: () => Harness) {
  return {
    capture: (orderId: string, body: Json, key?: string) => orderAction(get(), 'capture', orderId, body, key),
    refund: (orderId: string, body: Json, key?: string) => orderAction(get(), 'refund', orderId, body, key),
  };
}

export type CountedTable = keyof Database;

/** The rows of one table. */
export async function countOf(h: Harness, table: CountedTable): Promise<number> {
  const row = await h.deps.db
    .selectFrom(table as 'transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The rows of each of `tables`. */
export async function countRows<T extends CountedTable>(h: Harness, tables: readonly T[]): Promise<Record<T, number>> {
  const out = {} as Record<T, number>;
  for (const table of tables) out[table] = await countOf(h, table);
  return out;
}

const ORDER_TABLES = [
  'orders',
  'order_payment_summaries',
  'order_payment_records',
  'transactions',
  'gateway_attempts',
] as const;

/** The rows of the tables a refusal must leave alone. */
export const rowCounts = (h: Harness) => countRows(h, ORDER_TABLES);

export interface RefusalOptions {
  /** The tables that must keep their rows (the order tables, transactions and gateway attempts unless said). */
  tables?: readonly CountedTable[];
  /** Also expect that the emulator was sent nothing. */
  noGatewayCall?: boolean;
}

/** Runs `refused`, expects its status and code, and that it wrote nothing; returns the error body. */
export async function expectRefusal(
  h: Harness,
  refused: () => Promise<ApiResponse>,
  status: number,
  code: string,
  { tables = ORDER_TABLES, noGatewayCall = false }: RefusalOptions = {},
): Promise<Json> {
  const before = await countRows(h, tables);
  const mark = noGatewayCall ? gatewayMark(h) : 0;
  const error = expectError(await refused(), status, code);
  expect(await countRows(h, tables)).toEqual(before);
  if (noGatewayCall) expect(gatewayMark(h)).toBe(mark);
  return error;
}
