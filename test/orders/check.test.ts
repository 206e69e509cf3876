// The auditor's check (settle check, the totals_check job) covers orders too: every payment record re-derived from
// its transaction and attempts, every summary recomputed from its records (store/totals-repo.ts orderDifferences).
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { totalsDifferences } from '../../src/store/totals-repo.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { createPaymentMethod, expectStatus } from './support.js';

let orders = 0;

/** An authorized charge of 6000 on a new order, captured 4000: one summary, an authorization and a payment record. */
async function capturedOrder(h: Harness): Promise<{ order: string; transaction: string }> {
  orders += 1;
  const order = `ord_check${h.kind}${orders}`;
  await sql`insert into orders (id, currency, total) values (${order}, 'USD', 10000)`.execute(h.deps.db);
  const pm = await createPaymentMethod(h);
  const created = await h.request('POST', '/v1/transactions', {
    amount: 6000,
    currency: 'usd',
    payment_method_id: pm,
    authorize: true,
  });
  expectStatus(created, 201);
  const id = created.body.id as string;
  await sql`update transactions set order_id = ${order} where id = ${id}`.execute(h.deps.db);
  expectStatus(await h.request('POST', `/v1/transactions/${id}/authorize`, {}), 200);
  expectStatus(await h.request('POST', `/v1/transactions/${id}/capture`, { amount: 4000 }), 200);
  return { order, transaction: id };
}

const differences = (h: Harness) => h.deps.db.transaction().execute((trx) => totalsDifferences(trx));

describeEachDatabase(
  'the totals check on orders',
  (get) => {
    it('finds nothing on records and summaries the database made', async () => {
      const h = get();
      await capturedOrder(h);
      expect(await differences(h)).toEqual([]);
    });

    it('finds a summary amount that differs from its records, and a record that differs from its transaction', async () => {
      const h = get();
      const { order, transaction } = await capturedOrder(h);
      await sql`update order_payment_summaries set captured_amount = captured_amount + 1 where order_id = ${order}`.execute(
        h.deps.db,
      );
      await sql`update order_payment_records set status = 'failed' where transaction_id = ${transaction}
        and kind = 'authorization'`.execute(h.deps.db);
      const found = await differences(h);
      expect(found).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ table: 'order_summary', field: 'captured_amount', stored: 4001, expected: 4000 }),
          expect.objectContaining({ table: 'order_record', field: 'status', stored: 'failed', expected: 'processed' }),
          // the failed authorization no longer counts in the summary's authorized amount
          expect.objectContaining({ table: 'order_summary', field: 'authorized_amount', stored: 6000, expected: 0 }),
        ]),
      );
      await sql`delete from order_payment_records where transaction_id = ${transaction} and kind = 'payment'`.execute(
        h.deps.db,
      );
      expect(await differences(h)).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: 'order_record', field: 'exists', stored: 'false' })]),
      );
    });
  },
  { emulator: true },
);
