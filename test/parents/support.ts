// Helpers for the parents and totals tests: records made through the API, and row counts.
import { sql } from 'kysely';
import { expect } from 'vitest';
import { expectStatus, type Harness } from '../support/harness.js';

export { expectStatus };

export function expectError(res: { status: number; body: any }, status: number, code: string, param?: string): void {
  expectStatus(res, status);
  expect(res.body.error.code, JSON.stringify(res.body)).toBe(code);
  if (param !== undefined) expect(res.body.error.param).toBe(param);
}

/** POSTs and expects 201; returns the created object. */
export async function created(h: Harness, url: string, body: Record<string, unknown>): Promise<any> {
  const res = await h.request('POST', url, body);
  expectStatus(res, 201);
  return res.body;
}

export async function rowCount(h: Harness, table: 'parents' | 'transactions' | 'totals'): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int8 as n from ${sql.table(table)}`.execute(h.deps.db);
  return Number(rows[0]!.n);
}

/** A completed payment recorded outside the gateway (captured at once). */
export function nonGatewayPayment(h: Harness, fields: Record<string, unknown>): Promise<any> {
  return created(h, '/v1/transactions', {
    amount: 1000,
    currency: 'USD',
    non_gateway: true,
    status: 'completed',
    ...fields,
  });
}

/** An owner's totals entry of one currency, through the owner's own GET. */
export async function entryOf(h: Harness, url: string, currency: string): Promise<any> {
  const res = await h.request('GET', url);
  expectStatus(res, 200);
  return (res.body.totals as any[]).find((e) => e.currency === currency);
}

/** The figures of an entry with nothing in it. */
export const ZERO = {
  open_amount: 0,
  authorized_amount: 0,
  captured_amount: 0,
  refunded_amount: 0,
  retained_amount: 0,
  non_gateway_amount: 0,
  written_off_amount: 0,
  gateway_fee: 0,
  net_amount: 0,
  disputed_amount: 0,
  count_open: 0,
  count_completed: 0,
  count_failed: 0,
  last_payment_at: null,
  next_due_date: null,
};
