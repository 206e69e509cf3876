// What the Connect suites share (transfers, reversals, payouts sent, direct charges): row counts to prove a refusal
// wrote nothing, a connected account at the emulator, and a charge captured on the platform.
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

export type Json = Record<string, unknown>;

export type CountedTable = 'transactions' | 'transaction_history' | 'payout_reconciliations' | 'gateway_attempts';

/** The rows of one table. */
export const countRows = async (h: Harness, table: CountedTable): Promise<number> =>
  Number(
    (
      await h.deps.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A connected account created at the emulator and recorded (`type` express unless said). */
export async function connectedAccount(
  h: Harness,
  type: 'express' | 'standard' | 'custom' = 'express',
): Promise<{ id: string; account: string; gateway_id: string }> {
  const res = await h.request('POST', '/v1/connected-accounts', { type });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; account: string; gateway_id: string };
}

/** A platform charge of `amount` usd, captured at the gateway; its transaction id. */
export async function capturedCharge(h: Harness, amount: number): Promise<string> {
  const pm = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(pm.status, JSON.stringify(pm.body)).toBe(201);
  const created = await h.request('POST', '/v1/transactions', {
    amount,
    currency: 'usd',
    payment_method_id: pm.body.id,
  });
  const res = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return created.body.id as string;
}
