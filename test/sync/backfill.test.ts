// The backfill (W6) against the emulator through the real SDK: history made directly at the gateway (a Customer
// with a saved card, payments, a refund, an authorization, a dispute, a payout) is imported by POST /v1/sync with
// source `sync`; a payment Settle made itself is recognised, not doubled; a second run changes nothing (the ledger,
// history included, is equal after it); bad requests are refused and write nothing.
import type Stripe from 'stripe';
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { emulatorOf, stripeFor } from '../webhooks/store-event.js';
import { ledgerSnapshot, waitForSync } from './sync-helpers.js';

const DAY = 24 * 3600 * 1000;
const confirmNow = { confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };

interface Made {
  customer: Stripe.Customer;
  pm: Stripe.PaymentMethod;
  refunded: Stripe.PaymentIntent;
  authorized: Stripe.PaymentIntent;
  disputed: Stripe.PaymentIntent;
  settleCharge: string;
}

/** History made at the gateway, not through Settle, plus one charge Settle made itself. */
async function makeHistory(h: Harness): Promise<Made> {
  const stripe = stripeFor(h);
  const customer = await stripe.customers.create({ name: 'Ada Shop', email: 'ada@example.com' });
  const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const refunded = await stripe.paymentIntents.create({
    amount: 5000,
    currency: 'usd',
    customer: customer.id,
    payment_method: pm.id,
    ...confirmNow,
  });
  await stripe.refunds.create({ payment_intent: refunded.id, amount: 1000 });
  const authorized = await stripe.paymentIntents.create({
    amount: 3000,
    currency: 'usd',
    capture_method: 'manual',
    payment_method: 'pm_card_visa',
    ...confirmNow,
  });
  const disputed = await stripe.paymentIntents.create({
    amount: 8000,
    currency: 'usd',
    payment_method: 'pm_card_createDispute',
    ...confirmNow,
  });
  const method = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  const created = await h.request('POST', '/v1/transactions', {
    amount: 2500,
    currency: 'usd',
    payment_method_id: method.body.id,
  });
  const captured = await h.request('POST', `/v1/transactions/${created.body.id}/capture`);
  expect(captured.status, JSON.stringify(captured.body)).toBe(200);
  // Three days on, the emulator's daily automatic payouts have paid the available balance out.
  emulatorOf(h).controls.advanceClock(3 * DAY);
  emulatorOf(h).controls.runPayouts();
  expect((await stripe.payouts.list({ limit: 10 })).data.length).toBeGreaterThan(0);
  return { customer, pm, refunded, authorized, disputed, settleCharge: created.body.id as string };
}

const chargeOf = (h: Harness, pi: string) =>
  h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('gateway_payment_intent', '=', pi)
    .where('record_type', '=', 'charge')
    .where('transaction_type', '=', 'normal')
    .execute();

async function sync(h: Harness, body: unknown) {
  const res = await h.request('POST', '/v1/sync', body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ object: 'sync_run', status: 'running' });
  expect(res.body.id).toMatch(/^syn_/);
  return waitForSync(h, res.body.id as string);
}

describeEachDatabase(
  'backfill: POST /v1/sync',
  (harness) => {
    let made: Made;

    it('imports customers, payment methods, payments, refunds, disputes and payouts made at the gateway', async () => {
      const h = harness();
      made = await makeHistory(h);
      const run = await sync(h, { since: '2026-11-01' });
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'completed', error: null, current_object: null });
      expect(run.objects).toEqual([
        'customers',
        'payment_methods',
        'payments',
        'refunds',
        'disputes',
        'payouts',
        'balance_transactions',
      ]);
      expect(run.progress.customers).toMatchObject({ done: true, read: 1, created: 1 });
      expect(run.progress.payment_methods).toMatchObject({ done: true, created: 1 });
      // Four payments at the gateway; Settle's own one was already in the ledger.
      expect(run.progress.payments).toMatchObject({ done: true, read: 4, created: 3 });
      expect(run.progress.payments.unchanged + run.progress.payments.updated).toBe(1);
      expect(run.progress.refunds).toMatchObject({ done: true, read: 1, created: 1 });
      expect(run.progress.disputes).toMatchObject({ done: true, read: 1, created: 1 });
      expect(run.progress.payouts.created).toBeGreaterThan(0);

      // The Customer became an account; its card belongs to it.
      const owner = await h.deps.db
        .selectFrom('gateway_customers')
        .selectAll()
        .where('customer_id', '=', made.customer.id)
        .executeTakeFirstOrThrow();
      const account = await h.request('GET', `/v1/accounts/${owner.owner_id}`);
      expect(account.body).toMatchObject({ name: 'Ada Shop', email: 'ada@example.com' });
      const pms = await h.deps.db
        .selectFrom('payment_methods')
        .selectAll()
        .where('gateway_token', '=', made.pm.id)
        .execute();
      expect(pms).toHaveLength(1);
      expect(pms[0]).toMatchObject({ account_id: owner.owner_id, type: 'card', status: 'valid', last4: '4242' });

      const [refundedCharge] = await chargeOf(h, made.refunded.id);
      expect(refundedCharge).toMatchObject({
        source: 'sync',
        processing_mode: 'external',
        status: 'completed',
        payment_status: 'partially_refunded',
        captured_amount: 5000,
        refunded_amount: 1000,
      });
      const refunds = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('original_transaction_id', '=', refundedCharge!.id)
        .where('transaction_type', '=', 'refund')
        .execute();
      expect(refunds.map((r) => [r.amount, r.status, r.source])).toEqual([[-1000, 'completed', 'sync']]);
      expect((await chargeOf(h, made.authorized.id))[0]).toMatchObject({
        source: 'sync',
        status: 'completed',
        payment_status: 'authorized',
        authorized_amount: 3000,
      });
      const [disputedCharge] = await chargeOf(h, made.disputed.id);
      expect(disputedCharge).toMatchObject({ source: 'sync', payment_status: 'disputed', disputed_amount: 8000 });
      const fees = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('record_type', '=', 'adjustment')
        .where('original_transaction_id', '=', disputedCharge!.id)
        .execute();
      expect(fees.map((f) => [f.amount, f.source])).toEqual([[-1500, 'sync']]);
      const payouts = await h.deps.db
        .selectFrom('transactions')
        .selectAll()
        .where('record_type', '=', 'payout')
        .execute();
      expect(payouts.length).toBe(run.progress.payouts.created);
      expect(payouts.every((p) => p.source === 'sync' && p.gateway_payout !== null)).toBe(true);

      // Settle's own charge kept its id and source, and was not doubled.
      const own = (await h.request('GET', `/v1/transactions/${made.settleCharge}`)).body;
      expect(own).toMatchObject({ source: 'api', status: 'completed', payment_status: 'captured' });
      expect(await chargeOf(h, own.gateway_ref.payment_intent as string)).toHaveLength(1);
    });

    it('a second run changes nothing: the same ledger, no history rows added, nothing created', async () => {
      const h = harness();
      const before = await ledgerSnapshot(h);
      const run = await sync(h, { since: '2026-11-01' });
      expect(run.status).toBe('completed');
      for (const object of run.objects as string[]) {
        expect(run.progress[object], object).toMatchObject({ done: true, created: 0, updated: 0 });
      }
      expect(await ledgerSnapshot(h)).toEqual(before);
    });

    it('objects restricts the run, in import order whatever the order given; until bounds it', async () => {
      const h = harness();
      const run = await sync(h, {
        since: '2026-11-01T00:00:00Z',
        until: '2030-01-01',
        objects: ['refunds', 'payments'],
      });
      expect(run).toMatchObject({ status: 'completed', objects: ['payments', 'refunds'] });
      expect(Object.keys(run.progress)).toEqual(['payments', 'refunds']);
      expect(run.until).toBe('2030-01-01T00:00:00.000Z');
      const none = await sync(h, { since: '2026-01-01', until: '2026-02-01', objects: ['payments'] });
      expect(none.progress.payments).toMatchObject({ done: true, read: 0 });
      const list = await h.request('GET', '/v1/sync?limit=2');
      expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([none.id, run.id]);
    });

    it('a Customer Settle made for an account (its settle_reference) is linked back to it, not made a new account', async () => {
      const h = harness();
      const account = await h.request('POST', '/v1/accounts', { name: 'Linked Ltd', email: 'linked@example.com' });
      expect(account.status, JSON.stringify(account.body)).toBe(201);
      const customer = await stripeFor(h).customers.create({
        name: 'Linked Ltd',
        metadata: { settle_reference: account.body.id as string },
      });
      const accounts = async () =>
        (
          await h.deps.db
            .selectFrom('accounts')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .execute()
        )[0]!.n;
      const before = await accounts();
      const run = await sync(h, { since: '2026-11-01', objects: ['customers'] });
      expect(run.progress.customers).toMatchObject({ done: true, created: 0, updated: 1 });
      expect(await accounts()).toBe(before);
      const owner = await h.deps.db
        .selectFrom('gateway_customers')
        .selectAll()
        .where('customer_id', '=', customer.id)
        .executeTakeFirstOrThrow();
      expect(owner).toMatchObject({ owner_type: 'account', owner_id: account.body.id });
    });

    it('refuses bad input with a clear error and writes nothing', async () => {
      const h = harness();
      const count = async () =>
        (
          await h.deps.db
            .selectFrom('sync_runs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .execute()
        )[0]!.n;
      const before = await count();
      const cases: [unknown, string, string][] = [
        [{}, 'since', ''],
        [{ since: '2026-13-01' }, 'since', 'parameter_invalid_date'],
        [{ since: '2026-02-30' }, 'since', 'parameter_invalid_date'],
        [{ since: '2026-11-01T10:00:00' }, 'since', 'parameter_invalid_date'], // no offset
        [{ since: 'yesterday' }, 'since', 'parameter_invalid_date'],
        [{ since: '2026-11-25' }, 'since', 'parameter_invalid_date'], // the harness clock is 2026-11-24T12:00Z
        [{ since: '2026-11-01', until: '2026-11-01' }, 'until', 'parameter_invalid_value'],
        [{ since: '2026-11-01', until: '2026-10-01' }, 'until', 'parameter_invalid_value'],
        [{ since: '2026-11-01', objects: [] }, 'objects', 'parameter_invalid_value'],
        [{ since: '2026-11-01', objects: ['charges'] }, 'objects', 'parameter_invalid_value'],
        [{ since: '2026-11-01', objects: ['payments', 'payments'] }, 'objects', 'parameter_invalid_value'],
        [{ since: '2026-11-01', objects: 'payments' }, 'objects', ''],
        [{ since: 20261101 }, 'since', ''],
        [{ since: '2026-11-01', extra: true }, 'extra', ''],
        [{ since: '2026-11-01', gateway_id: 'gw_missing' }, 'gateway_id', 'resource_missing'],
      ];
      for (const [body, param, code] of cases) {
        const res = await h.request('POST', '/v1/sync', body);
        expect(res.status, JSON.stringify([body, res.body])).toBe(code === 'resource_missing' ? 404 : 400);
        expect(res.body.error.param ?? '', JSON.stringify([body, res.body])).toContain(param);
        if (code !== '') expect(res.body.error.code, JSON.stringify(body)).toBe(code);
      }
      // Starting a backfill needs the admin scope; following one, read.
      const writer = await h.keyWith(['write']);
      expect((await h.request('POST', '/v1/sync', { since: '2026-11-01' }, {}, writer)).status).toBe(403);
      const reader = await h.keyWith(['read']);
      expect((await h.request('GET', '/v1/sync', undefined, {}, reader)).status).toBe(200);
      expect((await h.request('GET', '/v1/sync/syn_missing')).status).toBe(404);
      expect(await count()).toBe(before);
    });

    it('a second POST while a sync of the gateway runs is 409 sync_already_running, naming the run', async () => {
      const h = harness();
      const gateway = await h.deps.db
        .selectFrom('gateways')
        .select('id')
        .where('is_default', '=', true)
        .executeTakeFirstOrThrow();
      const now = h.clock.now();
      // A run carried by another process (its lease is live), written as that process would have.
      await h.deps.db
        .insertInto('sync_runs')
        .values({
          id: 'syn_other_process',
          gateway_id: gateway.id,
          since: now,
          objects: '["payments"]',
          status: 'running',
          trigger: 'api',
          started_by: 'key_other',
          progress: '{}',
          worker: 'elsewhere',
          lease_until: new Date(now.getTime() + 60_000),
          created_at: now,
          updated_at: now,
        })
        .execute();
      const res = await h.request('POST', '/v1/sync', { since: '2026-11-01' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('sync_already_running');
      expect(res.body.error.message).toContain('syn_other_process');
      await h.deps.db
        .updateTable('sync_runs')
        .set({ status: 'canceled' })
        .where('id', '=', 'syn_other_process')
        .execute();
    });
  },
  { emulator: true },
);
