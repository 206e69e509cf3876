// Invoice balances and payment_status (R3), write-offs and their reversal (P7), and refunds taking back from an
// invoice (R4), with payments recorded outside the gateway. The balances are the database's (migration 0020); after
// each scenario the auditor's recomputation finds no difference.
import { expect, it } from 'vitest';
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

describeEachDatabase('invoice payment status', (get) => {
  const refund = (id: string, body: Record<string, unknown>) =>
    get().request('POST', `/v1/transactions/${id}/refund`, body);

  it('every payment_status row, first match wins', async () => {
    const h = get();
    const status = async (id: string) => (await getInvoice(h, id)).payment_status;
    // unpaid, then partially_paid, then paid, then overpaid.
    const inv = await invoice(h);
    expect(balances(inv)).toEqual({
      balance_paid: 0,
      write_off_amount: 0,
      balance_due: 10000,
      payment_status: 'unpaid',
      allocations_count: 0,
    });
    await cashPayment(h, 4000, inv.id);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({
      balance_paid: 4000,
      balance_due: 6000,
      payment_status: 'partially_paid',
    });
    await cashPayment(h, 6000, inv.id);
    expect(await status(inv.id)).toBe('paid');
    await cashPayment(h, 250, inv.id);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({
      balance_paid: 10250,
      balance_due: -250,
      payment_status: 'overpaid',
    });
    // partially_refunded, then refunded.
    const refunded = await invoice(h);
    const cash = await cashPayment(h, 10000, refunded.id);
    expectStatus(await refund(cash.id, { amount: 3000 }), 201);
    expect(balances(await getInvoice(h, refunded.id))).toMatchObject({
      balance_paid: 7000,
      balance_due: 3000,
      payment_status: 'partially_refunded',
      allocations_count: 2,
    });
    expectStatus(await refund(cash.id, {}), 201);
    expect(balances(await getInvoice(h, refunded.id))).toMatchObject({
      balance_paid: 0,
      balance_due: 10000,
      payment_status: 'refunded',
    });
    // past_due: open, due before today, a balance due (and no refunds).
    const late = await invoice(h, { due_date: '2026-11-01' });
    expect(late.payment_status).toBe('past_due');
    await cashPayment(h, 1, late.id);
    expect(await status(late.id)).toBe('past_due');
    // paid: a write-off counts toward it; a total of 0 is never "paid".
    const written = await invoice(h);
    await cashPayment(h, 7000, written.id);
    expectStatus(await h.request('POST', `/v1/invoices/${written.id}/write-off`, { amount: 3000 }), 201);
    expect(balances(await getInvoice(h, written.id))).toMatchObject({
      balance_paid: 7000,
      write_off_amount: 3000,
      balance_due: 0,
      payment_status: 'paid',
    });
    expect((await invoice(h, { total: 0 })).payment_status).toBe('unpaid');
    await expectExact(h);
  });

  it('a write-off is a completed non-gateway write_off allocated to the invoice, in written_off_amount only', async () => {
    const h = get();
    const inv = await invoice(h);
    const res = await h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount: 2500, reason: 'goodwill' });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({
      transaction_type: 'write_off',
      non_gateway: true,
      status: 'completed',
      amount: 2500,
      currency: 'USD',
      invoice_id: inv.id,
      description: 'goodwill',
    });
    const after = await getInvoice(h, inv.id);
    expect(balances(after)).toMatchObject({ balance_paid: 0, write_off_amount: 2500, balance_due: 7500 });
    expect(after.totals).toEqual([
      expect.objectContaining({ written_off_amount: 2500, captured_amount: 0, non_gateway_amount: 0 }),
    ]);
    expect((await allocationsOf(h, res.body.id)).map((a) => [a.kind, a.amount, a.applied_amount])).toEqual([
      ['write_off', 2500, 2500],
    ]);
    await expectExact(h);
  });

  it('refuses a write-off beyond the balance due, of 0 or less, or on a draft, and writes nothing', async () => {
    const h = get();
    const inv = await invoice(h);
    await cashPayment(h, 6000, inv.id);
    const wo =
      (body: Record<string, unknown>, id = inv.id) =>
      () =>
        h.request('POST', `/v1/invoices/${id}/write-off`, body);
    const error = await expectRefusal(h, wo({ amount: 4001 }), 400, 'write_off_exceeds_balance_due', inv.id);
    expect(error.message).toContain('balance due of invoice');
    expect(error.message).toContain('40.00 USD');
    await expectRefusal(h, wo({ amount: 0 }), 400, 'invalid_amount', inv.id);
    await expectRefusal(h, wo({ amount: -5 }), 400, 'invalid_amount', inv.id);
    await expectRefusal(h, wo({}), 400, 'parameter_missing', inv.id);
    const draft = await invoice(h, { status: 'draft' });
    await expectRefusal(h, wo({ amount: 1 }, draft.id), 409, 'invoice_not_open', draft.id);
    await expectRefusal(h, wo({ amount: 1 }, 'inv_00000000000000000000000000'), 404, 'resource_missing');
    // The trigger itself: a write-off created directly beyond the balance due.
    await expectRefusal(
      h,
      () =>
        h.request('POST', '/v1/transactions', {
          transaction_type: 'write_off',
          non_gateway: true,
          status: 'completed',
          amount: 4001,
          currency: 'usd',
          invoice_id: inv.id,
        }),
      400,
      'write_off_exceeds_balance_due',
      inv.id,
    );
    await expectExact(h);
  });

  it('two concurrent write-offs that together exceed the balance due: exactly one succeeds', async () => {
    const h = get();
    for (let round = 0; round < 3; round += 1) {
      const inv = await invoice(h);
      const before = await rowCounts(h);
      const results = await Promise.all(
        [6000, 6000].map((amount) => h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
      expect(results.find((r) => r.status === 400)!.body.error.code).toBe('write_off_exceeds_balance_due');
      expect(balances(await getInvoice(h, inv.id))).toMatchObject({ write_off_amount: 6000, balance_due: 4000 });
      expect((await rowCounts(h)).transactions).toBe(before.transactions + 1);
    }
    await expectExact(h);
  });

  it('a refund of a write-off reverses it: non-gateway, allocated back to its invoice, balance_due restored', async () => {
    const h = get();
    const inv = await invoice(h);
    const wo = (await h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount: 3000 })).body;
    const res = await refund(wo.id, { amount: 1000 });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({
      transaction_type: 'refund',
      non_gateway: true,
      status: 'completed',
      amount: -1000,
      original_transaction_id: wo.id,
    });
    expect(
      (await allocationsOf(h, res.body.id)).map((a) => [a.invoice_id, a.kind, a.amount, a.applied_amount]),
    ).toEqual([[inv.id, 'write_off_reversal', 1000, 1000]]);
    expect(balances(await getInvoice(h, inv.id))).toMatchObject({
      write_off_amount: 2000,
      balance_due: 8000,
      payment_status: 'unpaid',
    });
    // The rest, with invoice_id named; then nothing is left to reverse.
    expectStatus(await refund(wo.id, { invoice_id: inv.id }), 201);
    const after = await getInvoice(h, inv.id);
    expect(balances(after)).toMatchObject({ write_off_amount: 0, balance_due: 10000 });
    expect(after.totals[0]).toMatchObject({ written_off_amount: 0 });
    await expectRefusal(h, () => refund(wo.id, { amount: 1 }), 409, 'unexpected_state', inv.id);
    await expectExact(h);
  });

  it('a refund without invoice_id takes back from the charge allocations newest first; with one, from that invoice', async () => {
    const h = get();
    const older = await invoice(h);
    const newer = await invoice(h);
    const cash = await cashPayment(h, 12000);
    for (const [id, amount] of [
      [older.id, 4000],
      [newer.id, 6000],
    ] as const) {
      expectStatus(
        await h.request('POST', '/v1/allocations', { transaction_id: cash.id, invoice_id: id, amount }),
        201,
      );
    }
    const first = await refund(cash.id, { amount: 7000 });
    expectStatus(first, 201);
    expect(
      (await allocationsOf(h, first.body.id)).map((a) => [a.invoice_id, a.kind, a.amount, a.applied_amount]).sort(),
    ).toEqual(
      [
        [newer.id, 'refund', 6000, 6000],
        [older.id, 'refund', 1000, 1000],
      ].sort(),
    );
    expect((await getInvoice(h, newer.id)).payment_status).toBe('refunded');
    expect(balances(await getInvoice(h, older.id))).toMatchObject({
      balance_paid: 3000,
      payment_status: 'partially_refunded',
    });
    // invoice_id names the invoice; it must be one the charge paid, and hold enough.
    await expectRefusal(
      h,
      () => refund(cash.id, { amount: 100, invoice_id: 'inv_00000000000000000000000000' }),
      400,
      'invoice_not_allocated',
    );
    const other = await invoice(h);
    await expectRefusal(h, () => refund(cash.id, { amount: 100, invoice_id: other.id }), 400, 'invoice_not_allocated');
    await expectRefusal(
      h,
      () => refund(cash.id, { amount: 3001, invoice_id: older.id }),
      400,
      'amount_exceeds_invoice_allocation',
      older.id,
    );
    const second = await refund(cash.id, { amount: 2000, invoice_id: older.id });
    expectStatus(second, 201);
    expect(second.body.invoice_id).toBe(older.id);
    expect(balances(await getInvoice(h, older.id))).toMatchObject({ balance_paid: 1000 });
    const listed = await h.request('GET', `/v1/invoices/${older.id}/transactions`);
    expectStatus(listed, 200);
    expect(listed.body.data.map((t: any) => [t.id, t.allocation.kind, t.allocation.amount])).toEqual([
      [second.body.id, 'refund', 2000],
      [first.body.id, 'refund', 1000],
      [cash.id, 'payment', 4000],
    ]);
    await expectExact(h);
  });
});
