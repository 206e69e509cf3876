// Transfers (Connect, M6) through the real SDK and adapter against the emulator: a transfer transaction funded from a
// charge, sent once by process (concurrent calls: one transfer at the gateway); a transfer the gateway refuses
// (more than the source charge left) fails with its error; the refusals of create and process, each a 4xx that
// writes nothing; the seed's to_fix rule for a transfer without an account.
import { expect, it } from 'vitest';
import { TO_FIX_MESSAGES } from '../../src/domain/to-fix.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { runJob } from '../jobs/support.js';
import { stripeFor } from '../webhooks/store-event.js';
import { countRows, connectedAccount, capturedCharge, type Json } from './support.js';

const count = countRows;
const counts = async (h: Harness) => [await count(h, 'transactions'), await count(h, 'transaction_history')];

async function transfer(h: Harness, body: Json): Promise<Json & { id: string }> {
  const res = await h.request('POST', '/v1/transactions', { record_type: 'transfer', currency: 'usd', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string };
}

describeEachDatabase(
  'transfers against the emulator',
  (harness) => {
    it('creates a transfer and sends it once, whatever the number of concurrent process calls', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const charge = await capturedCharge(h, 10000);
      const created = await transfer(h, {
        amount: 2500,
        connected_account_id: account.id,
        source_transaction_id: charge,
        transfer_group: 'order_42',
      });
      expect(created).toMatchObject({
        record_type: 'transfer',
        status: 'open',
        connected_account_id: account.id,
        source_transaction_id: charge,
        transfer_group: 'order_42',
        to_fix: null,
      });
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => h.request('POST', `/v1/transactions/${created.id}/process`)),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers.map((a) => a.body))).toEqual([200, 409, 409]);
      const ok = answers.find((a) => a.status === 200)!.body as Json & { gateway_ref: Json };
      expect(ok).toMatchObject({ status: 'completed', payment_status: 'transferred' });
      expect(ok.gateway_ref.transfer).toMatch(/^tr_/);
      const atGateway = await stripeFor(h).transfers.list({ destination: account.account, limit: 100 });
      expect(atGateway.data).toHaveLength(1);
      expect(atGateway.data[0]).toMatchObject({
        id: ok.gateway_ref.transfer,
        amount: 2500,
        currency: 'usd',
        transfer_group: 'order_42',
        metadata: { settle_transaction_id: created.id },
      });
      // Processing it again is a 409 that sends nothing.
      const again = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(again.status).toBe(409);
      expect((await stripeFor(h).transfers.list({ destination: account.account })).data).toHaveLength(1);
    });

    it('the transfers job sends the due auto-process transfers, and only those', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const charge = await capturedCharge(h, 10000);
      const today = h.clock.now().toISOString().slice(0, 10);
      const due = await transfer(h, {
        amount: 1200,
        connected_account_id: account.id,
        source_transaction_id: charge,
        auto_process: true,
        due_date: today,
      });
      const later = await transfer(h, {
        amount: 1300,
        connected_account_id: account.id,
        source_transaction_id: charge,
        auto_process: true,
        due_date: '2099-01-01',
      });
      const manual = await transfer(h, { amount: 1400, connected_account_id: account.id, due_date: today });
      const run = await runJob(h, 'transfers');
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', succeeded: 1, failed: 0 });
      const read = async (id: string) => (await h.request('GET', `/v1/transactions/${id}`)).body as Json;
      expect(await read(due.id)).toMatchObject({ status: 'completed', payment_status: 'transferred' });
      expect(await read(later.id)).toMatchObject({ status: 'open' });
      expect(await read(manual.id)).toMatchObject({ status: 'open' });
      const sent = await stripeFor(h).transfers.list({ destination: account.account });
      expect(sent.data.map((t) => t.amount)).toEqual([1200]);
      // A second run finds nothing due.
      expect(await runJob(h, 'transfers')).toMatchObject({ status: 'succeeded', succeeded: 0 });
    });

    it('a transfer the gateway refuses fails with its error', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const charge = await capturedCharge(h, 1000);
      const created = await transfer(h, {
        amount: 5000,
        connected_account_id: account.id,
        source_transaction_id: charge,
      });
      const res = await h.request('POST', `/v1/transactions/${created.id}/process`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'failed', payment_status: null });
      expect(res.body.error_message).toBeTruthy();
      expect((await stripeFor(h).transfers.list({ destination: account.account })).data).toHaveLength(0);
    });

    it('refuses bad transfers and bad process calls with a 4xx that writes nothing', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const charge = await capturedCharge(h, 1000);
      const noAccount = await transfer(h, { amount: 100, auto_process: true, due_date: '2026-12-01' });
      expect(noAccount.to_fix).toBe(TO_FIX_MESSAGES.transfer_missing_account);
      // The to_fix view agrees with the rule: a transfer with its connected account is not listed.
      const onAccount = await transfer(h, {
        amount: 100,
        connected_account_id: account.id,
        auto_process: true,
        due_date: '2026-12-01',
      });
      expect(onAccount.to_fix).toBeNull();
      const fixIds = (await h.request('GET', '/v1/transactions?view=to_fix&limit=100')).body.data.map(
        (t: Json) => t.id,
      );
      expect(fixIds).toContain(noAccount.id);
      expect(fixIds).not.toContain(onAccount.id);
      const pmCharge = await h.request('GET', `/v1/transactions/${charge}`);
      const before = await counts(h);
      const creates: [Json, number, string][] = [
        [{ amount: 100, connected_account_id: 'cac_missing' }, 404, 'resource_missing'],
        [{ amount: 100, source_transaction_id: 'trx_missing' }, 404, 'resource_missing'],
        [{ amount: 100, source_transaction_id: noAccount.id }, 400, 'invalid_transfer'],
        [{ amount: 100, currency: 'eur', source_transaction_id: charge }, 400, 'invalid_transfer'],
        [{ amount: 100, payment_method_id: pmCharge.body.payment_method_id }, 400, 'invalid_transfer'],
        [{ amount: 100, capture: true }, 400, 'invalid_transfer'],
        [{ amount: -100 }, 400, 'invalid_amount'],
        // A charge may name a connected account (a direct charge, direct-charges.test.ts), a transfer no fee.
        [{ amount: 100, connected_account_id: account.id, application_fee_amount: 10 }, 400, 'parameter_not_allowed'],
        [{ amount: 100, record_type: 'charge', transfer_group: 'g' }, 400, 'parameter_not_allowed'],
      ];
      for (const [body, status, code] of creates) {
        const res = await h.request('POST', '/v1/transactions', { record_type: 'transfer', currency: 'usd', ...body });
        expect(res.status, JSON.stringify([body, res.body])).toBe(status);
        if (code !== 'invalid_amount') expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      }
      const processes: [string, number, string][] = [
        [noAccount.id, 400, 'transfer_missing_account'],
        [charge, 400, 'not_a_transfer'],
        ['trx_missing', 404, 'resource_missing'],
      ];
      for (const [id, status, code] of processes) {
        const res = await h.request('POST', `/v1/transactions/${id}/process`);
        expect(res.status, JSON.stringify([id, res.body])).toBe(status);
        expect(res.body.error.code).toBe(code);
      }
      expect((await h.request('POST', `/v1/transactions/${noAccount.id}/process`, { amount: 1 })).status).toBe(400);
      expect(await counts(h)).toEqual(before);
      expect((await stripeFor(h).transfers.list({ destination: account.account })).data).toHaveLength(0);
    });

    it('a gateway that cannot send transfers or payouts is refused before the row moves to process', async () => {
      const h = harness();
      const account = await connectedAccount(h);
      const open = await transfer(h, { amount: 300, connected_account_id: account.id });
      const payout = await h.request('POST', '/v1/transactions', {
        record_type: 'payout',
        amount: 300,
        currency: 'usd',
        connected_account_id: account.id,
      });
      expect(payout.status, JSON.stringify(payout.body)).toBe(201);
      // The same adapter without the Connect sends, as a gateway of another kind would be.
      const real = h.deps.gateways;
      h.deps.gateways = {
        forRecord: (record) =>
          Object.assign(Object.create(real.forRecord(record)) as object, {
            createTransfer: undefined,
            createPayout: undefined,
          }) as ReturnType<typeof real.forRecord>,
      };
      try {
        const before = await counts(h);
        for (const id of [open.id, payout.body.id as string]) {
          const res = await h.request('POST', `/v1/transactions/${id}/process`);
          expect(res.status, JSON.stringify(res.body)).toBe(400);
          expect(res.body.error).toMatchObject({ code: 'gateway_not_supported', param: 'gateway_id' });
          expect((await h.request('GET', `/v1/transactions/${id}`)).body).toMatchObject({ status: 'open' });
        }
        expect(await counts(h)).toEqual(before);
      } finally {
        h.deps.gateways = real;
      }
      expect((await stripeFor(h).transfers.list({ destination: account.account })).data).toHaveLength(0);
    });
  },
  { emulator: true },
);
