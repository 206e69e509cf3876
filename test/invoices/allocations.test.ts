// /v1/allocations (R4): create, read, list, change and delete, each moving the invoice's balances; every refusal
// (amount, kind of transaction, currency, over-allocation, void invoice, missing records) answers 400/404/409 and
// writes nothing; concurrent allocations of one transaction never exceed it.
import { expect, it } from 'vitest';
import { transactionDefaults } from '../../src/app/transactions/create-transaction.js';
import { newId } from '../../src/app/ids.js';
import { insertTransaction } from '../../src/store/transactions-repo.js';
import { describeEachDatabase } from '../support/harness.js';
import {
  allocationsOf,
  balances,
  cashPayment,
  expectExact,
  expectRefusal,
  expectStatus,
  getInvoice,
  invoice,
  rowCounts,
} from './support.js';

describeEachDatabase('allocations', (get) => {
  const allocate = (transaction_id: string, invoice_id: string, amount: unknown) =>
    get().request('POST', '/v1/allocations', { transaction_id, invoice_id, amount });

  it('create, read, list, change and delete, each moving the invoice balances', async () => {
    const h = get();
    const inv = await invoice(h);
    const cash = await cashPayment(h, 10000);
    const created = await allocate(cash.id, inv.id, 4000);
    expectStatus(created, 201);
    expect(created.body).toMatchObject({
      object: 'allocation',
      transaction_id: cash.id,
      invoice_id: inv.id,
      kind: 'payment',
      amount: 4000,
      applied_amount: 4000,
    });
    expect(created.body.id).toMatch(/^alc_/);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({
      balance_paid: 4000,
      balance_due: 6000,
      allocations_count: 1,
      payment_status: 'partially_paid',
    });
    const one = await h.request('GET', `/v1/allocations/${created.body.id}`);
    expect(one.body).toEqual(created.body);
    const listed = await h.request('GET', `/v1/allocations?invoice_id=${inv.id}`);
    expect(listed.body.data.map((a: any) => a.id)).toEqual([created.body.id]);
    const changed = await h.request('PATCH', `/v1/allocations/${created.body.id}`, { amount: 10000 });
    expectStatus(changed, 200);
    expect(changed.body).toMatchObject({ amount: 10000, applied_amount: 10000 });
    expect((await getInvoice(h, inv.id)).payment_status).toBe('paid');
    const deleted = await h.request('DELETE', `/v1/allocations/${created.body.id}`);
    expectStatus(deleted, 200);
    expect(deleted.body).toEqual({ id: created.body.id, object: 'allocation', deleted: true });
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({
      balance_paid: 0,
      allocations_count: 0,
      payment_status: 'unpaid',
    });
    expectStatus(await h.request('GET', `/v1/allocations/${created.body.id}`), 404);
    expectStatus(await h.request('DELETE', `/v1/allocations/${created.body.id}`), 404);
    await expectExact(h);
  });

  it('an open charge allocates nothing until captured; then its captured amount fills its allocations oldest first', async () => {
    const h = get();
    const a = await invoice(h);
    const b = await invoice(h);
    const open = await h.request('POST', '/v1/transactions', { amount: 9000, currency: 'usd', non_gateway: true });
    expectStatus(open, 201);
    expectStatus(await allocate(open.body.id, a.id, 6000), 201);
    expectStatus(await allocate(open.body.id, b.id, 3000), 201);
    expect((await allocationsOf(h, open.body.id)).map((x) => x.applied_amount)).toEqual([0, 0]);
    expect((await getInvoice(h, a.id)).balance_paid).toBe(0);
    expectStatus(await h.request('POST', `/v1/transactions/${open.body.id}/capture`), 200);
    expect((await allocationsOf(h, open.body.id)).map((x) => [x.invoice_id, x.applied_amount])).toEqual([
      [a.id, 6000],
      [b.id, 3000],
    ]);
    // Shrinking the older allocation lets the captured amount reach no further than the newer one's amount.
    const older = (await allocationsOf(h, open.body.id))[0]!;
    expectStatus(await h.request('PATCH', `/v1/allocations/${older.id}`, { amount: 1000 }), 200);
    expect(balances(await getInvoice(h, a.id))).toMatchObject({ balance_paid: 1000 });
    expect(balances(await getInvoice(h, b.id))).toMatchObject({ balance_paid: 3000 });
    await expectExact(h);
  });

  it('refuses bad amounts, missing records, non-charges, another currency, over-allocation and a void invoice', async () => {
    const h = get();
    const inv = await invoice(h);
    const cash = await cashPayment(h, 5000);
    await expectRefusal(h, () => allocate(cash.id, inv.id, 0), 400, 'invalid_amount', inv.id);
    await expectRefusal(h, () => allocate(cash.id, inv.id, -1), 400, 'invalid_amount', inv.id);
    await expectRefusal(h, () => allocate(cash.id, inv.id, 1.5), 400, 'invalid_amount', inv.id);
    await expectRefusal(h, () => allocate(cash.id, inv.id, '100'), 400, 'invalid_amount', inv.id);
    await expectRefusal(
      h,
      () => allocate('trx_00000000000000000000000000', inv.id, 100),
      404,
      'resource_missing',
      inv.id,
    );
    await expectRefusal(h, () => allocate(cash.id, 'inv_00000000000000000000000000', 100), 404, 'resource_missing');
    const error = await expectRefusal(
      h,
      () => allocate(cash.id, inv.id, 5001),
      400,
      'allocation_exceeds_amount',
      inv.id,
    );
    expect(error.message).toContain('at most 50.00 USD');
    const eur = await invoice(h, { currency: 'eur' });
    await expectRefusal(h, () => allocate(cash.id, eur.id, 100), 400, 'currency_mismatch', eur.id);
    const voided = await invoice(h);
    expectStatus(await h.request('POST', `/v1/invoices/${voided.id}/void`), 200);
    await expectRefusal(h, () => allocate(cash.id, voided.id, 100), 409, 'invoice_void', voided.id);
    // A record that is not a charge (an adjustment Settle recorded from the gateway) is never allocated.
    const now = h.clock.now();
    const adjustment = await insertTransaction(
      h.deps.db,
      {
        ...transactionDefaults(newId('transaction', now.getTime()), now),
        record_type: 'adjustment',
        amount: 100,
        status: 'completed',
        payment_status: 'captured',
        non_gateway: true,
      },
      'test',
    );
    await expectRefusal(h, () => allocate(adjustment.id, inv.id, 100), 400, 'transaction_not_allocatable', inv.id);
    // PATCH: the same limits.
    const ok = await allocate(cash.id, inv.id, 3000);
    expectStatus(ok, 201);
    const other = await invoice(h);
    expectStatus(await allocate(cash.id, other.id, 2000), 201);
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/allocations/${ok.body.id}`, { amount: 3001 }),
      400,
      'allocation_exceeds_amount',
      inv.id,
    );
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/allocations/${ok.body.id}`, { amount: 0 }),
      400,
      'invalid_amount',
      inv.id,
    );
    await expectRefusal(
      h,
      () => h.request('PATCH', '/v1/allocations/alc_00000000000000000000000000', { amount: 1 }),
      404,
      'resource_missing',
    );
    await expectExact(h);
  });

  it('a write-off allocation cannot be raised beyond the balance due (the trigger refuses it)', async () => {
    const h = get();
    const inv = await invoice(h);
    const cash = await cashPayment(h, 8000, inv.id);
    const wo = await h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount: 1000 });
    expectStatus(wo, 201);
    const [allocation] = await allocationsOf(h, wo.body.id);
    expect(allocation).toMatchObject({ kind: 'write_off', amount: 1000, applied_amount: 1000 });
    const other = await invoice(h);
    // Moving the write-off to another invoice: delete and create.
    expectStatus(await h.request('DELETE', `/v1/allocations/${allocation!.id}`), 200);
    const moved = await allocate(wo.body.id, other.id, 1000);
    expectStatus(moved, 201);
    expect(moved.body.kind).toBe('write_off');
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({ write_off_amount: 0, balance_due: 2000 });
    expect(balances(await getInvoice(h, other.id))).toMatchObject({ write_off_amount: 1000, balance_due: 9000 });
    // A second write-off of 2000 on inv, then one more unit of it is beyond the balance due.
    const wo2 = await h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount: 2000 });
    expectStatus(wo2, 201);
    const [a2] = await allocationsOf(h, wo2.body.id);
    expectStatus(await h.request('PATCH', `/v1/allocations/${a2!.id}`, { amount: 1500 }), 200);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({ write_off_amount: 1500, balance_due: 500 });
    await expectRefusal(h, () => allocate(cash.id, inv.id, 1), 400, 'allocation_exceeds_amount', inv.id);
    // 300 more paid: 200 due. Raising the write-off back to 2000 (+500) would write off more than is due.
    await cashPayment(h, 300, inv.id);
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/allocations/${a2!.id}`, { amount: 2000 }),
      400,
      'write_off_exceeds_balance_due',
      inv.id,
    );
    expectStatus(await h.request('PATCH', `/v1/allocations/${a2!.id}`, { amount: 1700 }), 200);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({ balance_due: 0, payment_status: 'paid' });
    await expectExact(h);
  });

  it('concurrent allocations of one transaction never exceed it: exactly one of two wins', async () => {
    const h = get();
    for (let round = 0; round < 3; round += 1) {
      const cash = await cashPayment(h, 10000);
      const invoices = [await invoice(h), await invoice(h)];
      const before = await rowCounts(h);
      const results = await Promise.all(invoices.map((inv) => allocate(cash.id, inv.id, 6000)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
      expect(results.find((r) => r.status === 400)!.body.error.code).toBe('allocation_exceeds_amount');
      expect((await rowCounts(h)).allocations).toBe(before.allocations + 1);
      // A change and a delete racing on the same transaction: both apply, in some order.
      const won = results.find((r) => r.status === 201)!.body;
      const extra = await allocate(cash.id, invoices.find((i) => i.id !== won.invoice_id)!.id, 4000);
      expectStatus(extra, 201);
      const [patched, deleted] = await Promise.all([
        h.request('PATCH', `/v1/allocations/${extra.body.id}`, { amount: 3000 }),
        h.request('DELETE', `/v1/allocations/${won.id}`),
      ]);
      expectStatus(patched, 200);
      expectStatus(deleted, 200);
      expect((await allocationsOf(h, cash.id)).map((a) => [a.amount, a.applied_amount])).toEqual([[3000, 3000]]);
    }
    await expectExact(h);
  });
});
