// Totals (issue 19, R2) moved by the API's own paths, end to end against the emulator on each database: open
// transactions held, canceled, changed, moved to another parent and deleted; authorizations captured in full, in
// part, released; charges captured at once, alone and in a batch; non-gateway payments and write-offs; refunds; a
// converted charge, whose fee and net count in its settlement currency. Each test has owners of its own (an account,
// its contact, a parent, and an invoice for USD) and asserts each one's entries exactly, then that the auditor's
// recomputation finds no difference anywhere.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';
import {
  act,
  createFor,
  deliverSince,
  entriesOf,
  expectStatus,
  expectTotals,
  gatewayCharge,
  getTrx,
  markEvents,
  newOwners,
  processedAt,
} from './support.js';

describeEachDatabase(
  'totals through the API paths',
  (get) => {
    it('open transactions: open_amount, count_open and next_due_date; hold, cancel and delete move them', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const later = await createFor(h, o, { amount: 1000, due_date: '2026-12-01' });
      await expectTotals(h, o, { USD: { open_amount: 1000, count_open: 1, next_due_date: '2026-12-01' } });
      const sooner = await createFor(h, o, { amount: 500, due_date: '2026-11-28' });
      const undated = await createFor(h, o, { amount: 250 });
      await expectTotals(h, o, { USD: { open_amount: 1750, count_open: 3, next_due_date: '2026-11-28' } });

      // On hold: still open money, but no longer the next one due.
      expectStatus(await h.request('PATCH', `/v1/transactions/${sooner.id}`, { status: 'on_hold' }), 200);
      await expectTotals(h, o, { USD: { open_amount: 1750, count_open: 3, next_due_date: '2026-12-01' } });
      // The only due open one canceled: nothing is due.
      await act(h, later.id, 'cancel');
      await expectTotals(h, o, { USD: { open_amount: 750, count_open: 2, next_due_date: null } });
      expectStatus(await h.request('PATCH', `/v1/transactions/${sooner.id}`, { status: 'open' }), 200);
      await expectTotals(h, o, { USD: { open_amount: 750, count_open: 2, next_due_date: '2026-11-28' } });
      // A change of amount and due date moves both.
      expectStatus(
        await h.request('PATCH', `/v1/transactions/${sooner.id}`, { amount: 600, due_date: '2026-11-26' }),
        200,
      );
      await expectTotals(h, o, { USD: { open_amount: 850, count_open: 2, next_due_date: '2026-11-26' } });
      // The only due open one deleted: nothing is due; the undated one is still open.
      expectStatus(await h.request('DELETE', `/v1/transactions/${sooner.id}`), 200);
      await expectTotals(h, o, { USD: { open_amount: 250, count_open: 1, next_due_date: null } });
      expectStatus(await h.request('DELETE', `/v1/transactions/${undated.id}`), 200);
      await expectTotals(h, o, { USD: {} });
    });

    it('a transaction moved to another parent moves its totals from one parent to the other', async () => {
      const h = get();
      const o = await newOwners(h);
      const other = await newOwners(h);
      const open = await createFor(h, o, { amount: 700, due_date: '2026-12-05' });
      const paid = await createFor(h, o, { amount: 300, status: 'completed', non_gateway: true });
      const at = await processedAt(h, paid.id);
      const due = { open_amount: 700, count_open: 1, next_due_date: '2026-12-05' };
      const payment = {
        captured_amount: 300,
        retained_amount: 300,
        non_gateway_amount: 300,
        count_completed: 1,
        last_payment_at: at,
      };
      await expectTotals(h, o, { USD: { ...due, ...payment } });
      expectStatus(await h.request('PATCH', `/v1/transactions/${open.id}`, { parent_id: other.parent_id }), 200);
      await expectTotals(h, [o.parent_id], { USD: payment });
      await expectTotals(h, [other.parent_id], { USD: due });
      await expectTotals(h, [o.account_id, o.contact_id], { USD: { ...due, ...payment } });
      expectStatus(await h.request('PATCH', `/v1/transactions/${open.id}`, { parent_id: null }), 200);
      await expectTotals(h, [other.parent_id], { USD: {} });
      await expectTotals(h, [o.account_id, o.contact_id], { USD: { ...due, ...payment } });
      // A completed payment keeps its parent (only open and on_hold transactions are edited): 409, nothing moves.
      const refused = await h.request('PATCH', `/v1/transactions/${paid.id}`, { parent_id: other.parent_id });
      expectStatus(refused, 409);
      await expectTotals(h, [o.parent_id], { USD: payment });
      await expectTotals(h, [other.parent_id], { USD: {} });
    });

    it('authorize: authorized_amount; a full capture moves it to captured, with fee, net and last_payment_at', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 10000);
      await expectTotals(h, o, { USD: { open_amount: 10000, count_open: 1 } });
      await act(h, open.id, 'authorize');
      await expectTotals(h, o, { USD: { authorized_amount: 10000, count_completed: 1 } });
      h.clock.advance(60_000);
      const captured = await act(h, open.id, 'capture');
      expect(captured).toMatchObject({ captured_amount: 10000, gateway_fee: 320, net_amount: 9680 });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 10000,
          retained_amount: 10000,
          gateway_fee: 320,
          net_amount: 9680,
          count_completed: 1,
          last_payment_at: await processedAt(h, open.id),
        },
      });
    });

    it('a partial capture counts what was captured; the rest of the authorization is released', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 10000);
      await act(h, open.id, 'authorize');
      const captured = await act(h, open.id, 'capture', { amount: 6000 });
      expect(captured).toMatchObject({ payment_status: 'partially_captured', captured_amount: 6000, gateway_fee: 204 });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 6000,
          retained_amount: 6000,
          gateway_fee: 204,
          net_amount: 5796,
          count_completed: 1,
          last_payment_at: await processedAt(h, open.id),
        },
      });
    });

    it('a release leaves nothing authorized and nothing paid', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 3000);
      await act(h, open.id, 'authorize');
      await expectTotals(h, o, { USD: { authorized_amount: 3000, count_completed: 1 } });
      expect(await act(h, open.id, 'release')).toMatchObject({ payment_status: 'uncaptured' });
      await expectTotals(h, o, { USD: { count_completed: 1 } });
    });

    it('a charge captured at once; a batch capture of two authorizations moves both', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const once = await gatewayCharge(h, o, 2000);
      await act(h, once.id, 'capture');
      const fee2000 = 30 + 58;
      const first = {
        captured_amount: 2000,
        retained_amount: 2000,
        gateway_fee: fee2000,
        net_amount: 2000 - fee2000,
        count_completed: 1,
        last_payment_at: await processedAt(h, once.id),
      };
      await expectTotals(h, o, { USD: first });
      const a = await gatewayCharge(h, o, 1000);
      const b = await gatewayCharge(h, o, 4000);
      await act(h, a.id, 'authorize');
      await act(h, b.id, 'authorize');
      await expectTotals(h, o, { USD: { ...first, authorized_amount: 5000, count_completed: 3 } });
      h.clock.advance(60_000);
      const batch = await h.request('POST', '/v1/transactions/capture', { ids: [a.id, b.id] });
      expectStatus(batch, 200);
      expect(batch.body.data.map((d: any) => d.status_code)).toEqual([200, 200]);
      const fees = 30 + 29 + (30 + 116);
      await expectTotals(h, o, {
        USD: {
          captured_amount: 7000,
          retained_amount: 7000,
          gateway_fee: fee2000 + fees,
          net_amount: 7000 - fee2000 - fees,
          count_completed: 3,
          last_payment_at: await processedAt(h, b.id),
        },
      });
    });

    it('refunds through the API, partial then full: refunded_amount, retained_amount and net fall', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const mark = await markEvents(h);
      const open = await gatewayCharge(h, o, 10000);
      await act(h, open.id, 'capture');
      const at = await processedAt(h, open.id);
      const partial = await act(h, open.id, 'refund', { amount: 2500 }, 201);
      expect(partial).toMatchObject({ parent_id: o.parent_id, account_id: o.account_id, contact_id: o.contact_id });
      const paid = { captured_amount: 10000, gateway_fee: 320, count_completed: 1, last_payment_at: at };
      await expectTotals(h, o, { USD: { ...paid, refunded_amount: 2500, retained_amount: 7500, net_amount: 7180 } });
      await act(h, open.id, 'refund', {}, 201);
      // Fully refunded: Stripe keeps its fee, so the net is minus the fee; still the last payment.
      await expectTotals(h, o, { USD: { ...paid, refunded_amount: 10000, retained_amount: 0, net_amount: -320 } });
      expect((await getTrx(h, open.id)).retained_net_amount).toBe(-320);
      // The gateway's events about the capture and both refunds, delivered afterwards, move nothing again.
      expect(await deliverSince(h, mark)).toEqual(expect.arrayContaining(['charge.refunded']));
      await expectTotals(h, o, { USD: { ...paid, refunded_amount: 10000, retained_amount: 0, net_amount: -320 } });
    });

    it('a declined charge counts in count_failed only; its clone is open again for the same owners', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const open = await gatewayCharge(h, o, 8800, 'pm_card_visa_chargeDeclined', 'usd');
      const declined = await h.request('POST', `/v1/transactions/${open.id}/capture`);
      expect(declined.body).toMatchObject({ status: 'failed', error_code: 'card_declined' });
      await expectTotals(h, o, { USD: { count_failed: 1 } });
      const clone = await act(h, open.id, 'clone', undefined, 201);
      expect(clone).toMatchObject({ status: 'open', parent_id: o.parent_id, invoice_id: null });
      await expectTotals(h, [o.account_id, o.contact_id, o.parent_id], {
        USD: { count_failed: 1, open_amount: 8800, count_open: 1 },
      });
      await expectTotals(h, [o.invoice_id!], { USD: { count_failed: 1 } });
    });

    it('a non-gateway payment counts in non_gateway_amount; its refund takes from it', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const paid = await createFor(h, o, { amount: 2000, status: 'completed', non_gateway: true });
      const at = await processedAt(h, paid.id);
      const base = { captured_amount: 2000, count_completed: 1, last_payment_at: at };
      await expectTotals(h, o, { USD: { ...base, retained_amount: 2000, non_gateway_amount: 2000 } });
      await act(h, paid.id, 'refund', { amount: 500 }, 201);
      await expectTotals(h, o, {
        USD: { ...base, refunded_amount: 500, retained_amount: 1500, non_gateway_amount: 1500 },
      });
    });

    it('a write-off counts in written_off_amount only; its reversal (a refund of it) takes it back', async () => {
      const h = get();
      const o = await newOwners(h, 'usd');
      const written = await createFor(h, o, {
        amount: 700,
        transaction_type: 'write_off',
        status: 'completed',
        non_gateway: true,
      });
      await expectTotals(h, o, { USD: { written_off_amount: 700 } });
      const paid = await createFor(h, o, { amount: 300, status: 'completed', non_gateway: true });
      const payment = {
        captured_amount: 300,
        retained_amount: 300,
        non_gateway_amount: 300,
        count_completed: 1,
        last_payment_at: await processedAt(h, paid.id),
      };
      await expectTotals(h, o, { USD: { ...payment, written_off_amount: 700 } });
      const reversal = await act(h, written.id, 'refund', { amount: 200 }, 201);
      expect(reversal).toMatchObject({ amount: -200, parent_id: o.parent_id, non_gateway: true });
      await expectTotals(h, o, { USD: { ...payment, written_off_amount: 500 } });
      await act(h, written.id, 'refund', {}, 201);
      await expectTotals(h, o, { USD: { ...payment, written_off_amount: 0 } });
    });

    it('last_payment_at is the newest payment; deleting it (a non-gateway one) gives back the one before', async () => {
      const h = get();
      const o = await newOwners(h);
      const first = await createFor(h, o, { amount: 100, status: 'completed', non_gateway: true });
      const firstAt = await processedAt(h, first.id);
      h.clock.advance(3600_000);
      const second = await createFor(h, o, { amount: 200, status: 'completed', non_gateway: true });
      const secondAt = await processedAt(h, second.id);
      expect(secondAt > firstAt).toBe(true);
      const both = { captured_amount: 300, retained_amount: 300, non_gateway_amount: 300, count_completed: 2 };
      await expectTotals(h, o, { USD: { ...both, last_payment_at: secondAt } });
      // A fully refunded payment is still the last payment made.
      await act(h, second.id, 'refund', {}, 201);
      await expectTotals(h, o, {
        USD: {
          ...both,
          refunded_amount: 200,
          retained_amount: 100,
          non_gateway_amount: 100,
          last_payment_at: secondAt,
        },
      });
      h.clock.advance(3600_000);
      const third = await createFor(h, o, { amount: 50, status: 'completed', non_gateway: true });
      await expectTotals(h, o, {
        USD: {
          captured_amount: 350,
          refunded_amount: 200,
          retained_amount: 150,
          non_gateway_amount: 150,
          count_completed: 3,
          last_payment_at: await processedAt(h, third.id),
        },
      });
      expectStatus(await h.request('DELETE', `/v1/transactions/${third.id}`), 200);
      await expectTotals(h, o, {
        USD: {
          ...both,
          refunded_amount: 200,
          retained_amount: 100,
          non_gateway_amount: 100,
          last_payment_at: secondAt,
        },
      });
      const fourth = await createFor(h, o, { amount: 40, status: 'completed', non_gateway: true, parent_id: null });
      expectStatus(await h.request('DELETE', `/v1/transactions/${fourth.id}`), 200);
      await expectTotals(h, [o.parent_id], {
        USD: {
          ...both,
          refunded_amount: 200,
          retained_amount: 100,
          non_gateway_amount: 100,
          last_payment_at: secondAt,
        },
      });
      expect(Object.keys(await entriesOf(h, o.parent_id))).toEqual(['USD']);
    });

    it('a converted charge: amounts in its own currency entry, gateway_fee and net in its settlement currency', async () => {
      const h = get();
      const o = await newOwners(h);
      const open = await gatewayCharge(h, o, 1000, 'pm_card_visa', 'eur');
      await expectTotals(h, o, { EUR: { open_amount: 1000, count_open: 1 } });
      const paid = await act(h, open.id, 'capture');
      expect(paid).toMatchObject({ currency: 'EUR', settlement_currency: 'USD', gateway_fee: 73, net_amount: 1027 });
      const at = await processedAt(h, open.id);
      await expectTotals(h, o, {
        EUR: { captured_amount: 1000, retained_amount: 1000, count_completed: 1, last_payment_at: at },
        USD: { gateway_fee: 73, net_amount: 1027 },
      });
      // Its refund converts at its own rate: 400 EUR is 440 USD off the net.
      await act(h, open.id, 'refund', { amount: 400 }, 201);
      await expectTotals(h, o, {
        EUR: {
          captured_amount: 1000,
          refunded_amount: 400,
          retained_amount: 600,
          count_completed: 1,
          last_payment_at: at,
        },
        USD: { gateway_fee: 73, net_amount: 587 },
      });
      // A USD payment of the same owners shares the USD entry with the EUR charge's fee and net.
      const usd = await createFor(h, o, { amount: 500, status: 'completed', non_gateway: true });
      await expectTotals(h, o, {
        EUR: {
          captured_amount: 1000,
          refunded_amount: 400,
          retained_amount: 600,
          count_completed: 1,
          last_payment_at: at,
        },
        USD: {
          gateway_fee: 73,
          net_amount: 587,
          captured_amount: 500,
          retained_amount: 500,
          non_gateway_amount: 500,
          count_completed: 1,
          last_payment_at: await processedAt(h, usd.id),
        },
      });
    });
  },
  { emulator: true },
);
