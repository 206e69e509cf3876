// Shared by the backfill tests (W6): waiting for a run through the API, and the ledger as a comparable snapshot.
import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

/** Polls GET /v1/sync/{id} until the run is over (no time is asserted; the bound only ends a stuck test). */
export async function waitForSync(h: Harness, id: string): Promise<any> {
  for (let i = 0; i < 2400; i += 1) {
    const res = await h.request('GET', `/v1/sync/${id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.status !== 'running') return res.body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`sync ${id} still running`);
}

/** Everything a backfill may write, in a stable order. */
export async function ledgerSnapshot(h: Harness) {
  const db = h.deps.db;
  return {
    transactions: await db.selectFrom('transactions').selectAll().orderBy('id').execute(),
    history: (
      await db
        .selectFrom('transaction_history')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .execute()
    )[0],
    accounts: await db.selectFrom('accounts').selectAll().orderBy('id').execute(),
    contacts: await db.selectFrom('contacts').selectAll().orderBy('id').execute(),
    payment_methods: await db.selectFrom('payment_methods').selectAll().orderBy('id').execute(),
    gateway_customers: await db.selectFrom('gateway_customers').selectAll().orderBy('customer_id').execute(),
    disputes: await db.selectFrom('disputes').selectAll().orderBy('id').execute(),
  };
}
