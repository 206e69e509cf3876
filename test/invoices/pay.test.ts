// POST /v1/invoices/{id}/pay through the Stripe emulator (the charge goes through the capture action every open
// charge uses), partial captures filling allocations oldest first, and gateway refunds taking back from invoices.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';
import {
  allocationsOf,
  balances,
  expectExact,
  expectRefusal,
  expectStatus,
  getInvoice,
  invoice,
  paymentMethod,
  rowCounts,
} from './support.js';

describeEachDatabase(
  'invoice pay',
  (get) => {
    const pay = (id: string, body: Record<string, unknown>, headers?: Record<string, string>) =>
      get().request('POST', `/v1/invoices/${id}/pay`, body, headers);

    it('pays the balance due: a gateway charge allocated to the invoice, captured now (201)', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const inv = await invoice(h, { total: 7500 });
      const res = await pay(inv.id, { payment_method_id: pm });
      expectStatus(res, 201);
      expect(res.body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        amount: 7500,
        captured_amount: 7500,
        currency: 'USD',
        invoice_id: inv.id,
        non_gateway: false,
        payment_method_id: pm,
      });
      expect(res.body.gateway_ref.payment_intent).toMatch(/^pi_/);
      const after = await getInvoice(h, inv.id);
      expect(balances(after)).toMatchObject({ balance_paid: 7500, balance_due: 0, payment_status: 'paid' });
      expect(after.totals[0]).toMatchObject({ captured_amount: 7500, count_completed: 1 });
      const listed = await h.request('GET', `/v1/invoices/${inv.id}/transactions`);
      expect(listed.body.data.map((t: any) => [t.id, t.allocation])).toEqual([
        [res.body.id, { kind: 'payment', amount: 7500, applied_amount: 7500 }],
      ]);
      // Nothing is left to pay.
      await expectRefusal(h, () => pay(inv.id, { payment_method_id: pm }), 400, 'invoice_nothing_due', inv.id);
      await expectExact(h);
    });

    it('pays part, then the rest; refuses more than is due, 0, a void or draft invoice, a missing method', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const inv = await invoice(h);
      const part = await pay(inv.id, { payment_method_id: pm, amount: 4000 });
      expectStatus(part, 201);
      expect((await getInvoice(h, inv.id)).payment_status).toBe('partially_paid');
      const error = await expectRefusal(
        h,
        () => pay(inv.id, { payment_method_id: pm, amount: 6001 }),
        400,
        'amount_exceeds_balance_due',
        inv.id,
      );
      expect(error.message).toContain('60.00 USD');
      await expectRefusal(h, () => pay(inv.id, { payment_method_id: pm, amount: 0 }), 400, 'invalid_amount', inv.id);
      await expectRefusal(h, () => pay(inv.id, { payment_method_id: pm, amount: -1 }), 400, 'invalid_amount', inv.id);
      await expectRefusal(h, () => pay(inv.id, { amount: 1 }), 400, 'parameter_missing', inv.id);
      await expectRefusal(
        h,
        () => pay(inv.id, { payment_method_id: 'pmt_00000000000000000000000000' }),
        404,
        'resource_missing',
        inv.id,
      );
      // A card that cannot be charged today is refused before any charge is made.
      const expired = await h.request('POST', '/v1/payment-methods', {
        gateway_token: 'pm_card_visa',
        type: 'card',
        exp_month: 1,
        exp_year: 2026,
      });
      expectStatus(expired, 201);
      await expectRefusal(
        h,
        () => pay(inv.id, { payment_method_id: expired.body.id }),
        400,
        'invalid_payment_method',
        inv.id,
      );
      const voided = await invoice(h);
      expectStatus(await h.request('POST', `/v1/invoices/${voided.id}/void`), 200);
      await expectRefusal(h, () => pay(voided.id, { payment_method_id: pm }), 409, 'invoice_void', voided.id);
      const draft = await invoice(h, { status: 'draft' });
      await expectRefusal(h, () => pay(draft.id, { payment_method_id: pm }), 409, 'invoice_not_open', draft.id);
      const rest = await pay(inv.id, { payment_method_id: pm });
      expectStatus(rest, 201);
      expect(rest.body.amount).toBe(6000);
      expect((await getInvoice(h, inv.id)).payment_status).toBe('paid');
      await expectExact(h);
    });

    it('a declined card: 201 with the failed charge; the invoice is unpaid and the allocation applies nothing', async () => {
      const h = get();
      const pm = await paymentMethod(h, 'pm_card_visa_chargeDeclined');
      const inv = await invoice(h);
      const res = await pay(inv.id, { payment_method_id: pm });
      expectStatus(res, 201);
      expect(res.body).toMatchObject({ status: 'failed', invoice_id: inv.id });
      expect(balances(await getInvoice(h, inv.id))).toMatchObject({
        balance_paid: 0,
        payment_status: 'unpaid',
        allocations_count: 1,
      });
      expect((await allocationsOf(h, res.body.id)).map((a) => a.applied_amount)).toEqual([0]);
      // A failed payment is no longer pending: the balance can be paid with another card.
      const ok = await pay(inv.id, { payment_method_id: await paymentMethod(h) });
      expectStatus(ok, 201);
      expect((await getInvoice(h, inv.id)).payment_status).toBe('paid');
      await expectExact(h);
    });

    it('two concurrent payments of the whole balance: exactly one is made', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      for (let round = 0; round < 6; round += 1) {
        const inv = await invoice(h);
        const before = await rowCounts(h);
        const results = await Promise.all([
          pay(inv.id, { payment_method_id: pm }),
          pay(inv.id, { payment_method_id: pm }),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
        expect(['amount_exceeds_balance_due', 'invoice_nothing_due']).toContain(
          results.find((r) => r.status === 400)!.body.error.code,
        );
        expect((await rowCounts(h)).transactions).toBe(before.transactions + 1);
        expect(balances(await getInvoice(h, inv.id))).toMatchObject({ balance_paid: 10000, payment_status: 'paid' });
      }
      await expectExact(h);
    });

    it('an Idempotency-Key makes a repeated payment answer the first one, charging once', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const inv = await invoice(h, { total: 3000 });
      const headers = { 'idempotency-key': `pay-${h.kind}-${inv.id}` };
      const first = await pay(inv.id, { payment_method_id: pm }, headers);
      expectStatus(first, 201);
      const before = await rowCounts(h);
      const again = await pay(inv.id, { payment_method_id: pm }, headers);
      expectStatus(again, 201);
      expect(again.headers['idempotency-replayed']).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      expect(await rowCounts(h)).toEqual(before);
    });

    it('a partial capture fills the charge allocations oldest first', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const [a, b] = [await invoice(h), await invoice(h)];
      const charge = await h.request('POST', '/v1/transactions', {
        amount: 10000,
        currency: 'usd',
        payment_method_id: pm,
      });
      expectStatus(charge, 201);
      for (const [inv, amount] of [
        [a, 6000],
        [b, 4000],
      ] as const) {
        expectStatus(
          await h.request('POST', '/v1/allocations', { transaction_id: charge.body.id, invoice_id: inv.id, amount }),
          201,
        );
      }
      expectStatus(await h.request('POST', `/v1/transactions/${charge.body.id}/authorize`), 200);
      expect((await allocationsOf(h, charge.body.id)).map((x) => x.applied_amount)).toEqual([0, 0]);
      const captured = await h.request('POST', `/v1/transactions/${charge.body.id}/capture`, { amount: 7000 });
      expectStatus(captured, 200);
      expect(captured.body.payment_status).toBe('partially_captured');
      expect((await allocationsOf(h, charge.body.id)).map((x) => [x.invoice_id, x.applied_amount])).toEqual([
        [a.id, 6000],
        [b.id, 1000],
      ]);
      expect(balances(await getInvoice(h, a.id))).toMatchObject({
        balance_paid: 6000,
        payment_status: 'partially_paid',
      });
      expect(balances(await getInvoice(h, b.id))).toMatchObject({ balance_paid: 1000 });
      await expectExact(h);
    });

    it('gateway refunds: newest first without invoice_id, to the named invoice with it', async () => {
      const h = get();
      const pm = await paymentMethod(h);
      const [a, b] = [await invoice(h), await invoice(h)];
      const charge = await h.request('POST', '/v1/transactions', {
        amount: 10000,
        currency: 'usd',
        payment_method_id: pm,
      });
      for (const [inv, amount] of [
        [a, 5000],
        [b, 5000],
      ] as const) {
        expectStatus(
          await h.request('POST', '/v1/allocations', { transaction_id: charge.body.id, invoice_id: inv.id, amount }),
          201,
        );
      }
      expectStatus(await h.request('POST', `/v1/transactions/${charge.body.id}/capture`), 200);
      const newest = await h.request('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: 2000 });
      expectStatus(newest, 201);
      expect(newest.body.status).toBe('completed');
      expect(balances(await getInvoice(h, b.id))).toMatchObject({
        balance_paid: 3000,
        payment_status: 'partially_refunded',
      });
      expect(balances(await getInvoice(h, a.id))).toMatchObject({
        balance_paid: 5000,
        payment_status: 'partially_paid',
      });
      const named = await h.request('POST', `/v1/transactions/${charge.body.id}/refund`, {
        amount: 1500,
        invoice_id: a.id,
      });
      expectStatus(named, 201);
      expect(named.body.invoice_id).toBe(a.id);
      expect(balances(await getInvoice(h, a.id))).toMatchObject({
        balance_paid: 3500,
        payment_status: 'partially_refunded',
      });
      expect(balances(await getInvoice(h, b.id))).toMatchObject({ balance_paid: 3000 });
      const other = await invoice(h);
      await expectRefusal(
        h,
        () => h.request('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: 100, invoice_id: other.id }),
        400,
        'invoice_not_allocated',
      );
      await expectExact(h);
    });
  },
  { emulator: true },
);
