// Direct charges on connected accounts with application fees (Connect, M6; docs.stripe.com/connect/direct-charges),
// through the HTTP API, the real SDK and adapter against the emulator: the PaymentIntent is made on the connected
// account (the Stripe-Account header) with application_fee_amount, the fee_ object is the platform's; captured once
// whatever the number of concurrent calls; a partial refund with refund_application_fee refunds the fee in
// proportion, read back from the platform's fee; the connected account's events, signed with the Connect secret, are
// applied to the same transaction (a refund made in the account's dashboard); an event of an account Settle does not
// know is not_supported; each refusal is a 4xx (or 409) that writes nothing; recovery replays on the account.
import { afterAll, expect, it } from 'vitest';
import { recoverAttempt } from '../../src/app/processing/recover.js';
import { processWebhookEvents } from '../../src/app/webhooks/processor.js';
import { runJob } from '../jobs/support.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { sendSigned } from '../webhooks/intake-helpers.js';
import { storeStripeEvent, stripeFor } from '../webhooks/store-event.js';
import { countRows, connectedAccount } from './support.js';

type Json = Record<string, any>;

const CONNECT_ENV = 'SETTLE_GATEWAY_TEST_DIRECT_CHARGES_CONNECT_SECRET';
const CONNECT_SECRET = 'whsec_direct_charges_connect_test';

afterAll(() => {
  delete process.env[CONNECT_ENV];
});

const count = countRows;
const counts = async (h: Harness) => [
  await count(h, 'transactions'),
  await count(h, 'transaction_history'),
  await count(h, 'gateway_attempts'),
];

async function card(h: Harness): Promise<string> {
  const pm = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(pm.status, JSON.stringify(pm.body)).toBe(201);
  return pm.body.id as string;
}

async function directCharge(h: Harness, account: string, body: Json = {}): Promise<Json & { id: string }> {
  const res = await h.request('POST', '/v1/transactions', {
    amount: 10_000,
    currency: 'usd',
    payment_method_id: await card(h),
    connected_account_id: account,
    application_fee_amount: 500,
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string };
}

async function act(h: Harness, id: string, action: string, body?: Json): Promise<Json> {
  const res = await h.request('POST', `/v1/transactions/${id}/${action}`, body);
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  return res.body as Json;
}

const read = async (h: Harness, id: string): Promise<Json> => (await h.request('GET', `/v1/transactions/${id}`)).body;

/** The emulator gateway takes a connected account's events signed with the Connect secret (M6). */
async function withConnectSecret(h: Harness, gatewayId: string): Promise<void> {
  process.env[CONNECT_ENV] = CONNECT_SECRET;
  const res = await h.request('PATCH', `/v1/gateways/${gatewayId}`, { connect_webhook_secret_env: CONNECT_ENV });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** The connected account's events of `types`, oldest first, as the emulator made them (each names the account). */
async function accountEvents(h: Harness, account: string, types: string[]): Promise<Json[]> {
  const list = await stripeFor(h).events.list({ limit: 100 }, { stripeAccount: account });
  return (list.data as unknown as Json[]).filter((e) => types.includes(e.type as string)).reverse();
}

describeEachDatabase(
  'direct charges on connected accounts against the emulator',
  (harness) => {
    it('authorizes on the connected account with the fee, captures once whatever the concurrency; the fee is the platform’s', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const created = await directCharge(h, account.id);
      expect(created).toMatchObject({
        record_type: 'charge',
        status: 'open',
        connected_account_id: account.id,
        application_fee: 500,
        refunded_application_fee: 0,
        net_application_fee: 500,
      });
      const authorized = await act(h, created.id, 'authorize');
      expect(authorized).toMatchObject({ status: 'completed', payment_status: 'authorized' });
      const pi = authorized.gateway_ref.payment_intent as string;

      // The PaymentIntent is the connected account's, with the fee and our id; the platform does not see it.
      const onAccount = await stripeFor(h).paymentIntents.retrieve(pi, {}, { stripeAccount: account.account });
      expect(onAccount).toMatchObject({
        application_fee_amount: 500,
        status: 'requires_capture',
        metadata: { settle_transaction_id: created.id },
      });
      await expect(stripeFor(h).paymentIntents.retrieve(pi)).rejects.toMatchObject({ statusCode: 404 });
      // The attempt recorded the account and the fee it was sent with (recovery replays exactly that).
      const attempt = await h.deps.db
        .selectFrom('gateway_attempts')
        .selectAll()
        .where('transaction_id', '=', created.id)
        .where('action', '=', 'authorize')
        .executeTakeFirstOrThrow();
      expect(attempt.request).toMatchObject({ account: account.account, application_fee_amount: 500 });

      const answers = await Promise.all(
        Array.from({ length: 3 }, () => h.request('POST', `/v1/transactions/${created.id}/capture`)),
      );
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([200, 409, 409]);
      const captured = answers.find((a) => a.status === 200)!.body as Json;
      expect(captured).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        application_fee: 500,
        refunded_application_fee: 0,
        net_application_fee: 500,
      });
      const fees = await stripeFor(h).applicationFees.list({ charge: captured.gateway_ref.charge as string });
      expect(fees.data).toHaveLength(1);
      expect(fees.data[0]).toMatchObject({ account: account.account, amount: 500, amount_refunded: 0 });
      const captures = await h.deps.db
        .selectFrom('gateway_attempts')
        .select('id')
        .where('transaction_id', '=', created.id)
        .where('action', '=', 'capture')
        .execute();
      expect(captures).toHaveLength(1);
      // Capturing again: 409, nothing sent.
      const before = await counts(h);
      expect((await h.request('POST', `/v1/transactions/${created.id}/capture`)).status).toBe(409);
      expect(await counts(h)).toEqual(before);
    });

    it('charges at once; concurrent charge calls make one PaymentIntent on the account', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const created = await directCharge(h, account.id, { application_fee_amount: 0 });
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => h.request('POST', `/v1/transactions/${created.id}/capture`)),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
      const intents = await stripeFor(h).paymentIntents.list({ limit: 100 }, { stripeAccount: account.account });
      expect(intents.data).toHaveLength(1);
      expect(intents.data[0]).toMatchObject({ amount: 10_000, status: 'succeeded' });
      // A fee of 0 is no fee: none on the platform.
      expect(
        (await stripeFor(h).applicationFees.list({ charge: intents.data[0]!.latest_charge as string })).data,
      ).toHaveLength(0);
    });

    it('a partial refund with refund_application_fee refunds the fee in proportion; one without leaves it', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const created = await directCharge(h, account.id);
      const captured = await act(h, created.id, 'capture');
      const refund = await act(h, created.id, 'refund', { amount: 4000, refund_application_fee: true });
      expect(refund).toMatchObject({ transaction_type: 'refund', status: 'completed', amount: -4000 });
      // 500 * 4000 / 10000 = 200 refunded to the account (the emulator's proportional rule, Stripe's documented one).
      expect(await read(h, created.id)).toMatchObject({
        payment_status: 'partially_refunded',
        refunded_amount: 4000,
        application_fee: 500,
        refunded_application_fee: 200,
        net_application_fee: 300,
      });
      const gatewayRefund = await stripeFor(h).refunds.retrieve(
        refund.gateway_ref.refund as string,
        {},
        {
          stripeAccount: account.account,
        },
      );
      expect(gatewayRefund).toMatchObject({ amount: 4000, metadata: { settle_transaction_id: refund.id } });
      await act(h, created.id, 'refund', { amount: 1000 });
      expect(await read(h, created.id)).toMatchObject({
        refunded_amount: 5000,
        refunded_application_fee: 200,
        net_application_fee: 300,
      });
      const fee = (await stripeFor(h).applicationFees.list({ charge: captured.gateway_ref.charge as string })).data[0]!;
      expect(fee).toMatchObject({ amount: 500, amount_refunded: 200 });
    });

    it("the connected account's events through the Connect endpoint are applied to the same transaction", async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      await withConnectSecret(h, account.gateway_id);
      const created = await directCharge(h, account.id);
      const captured = await act(h, created.id, 'capture');
      // A refund made in the connected account's dashboard, with its share of the fee: 3000 of 10000 -> 150.
      const pi = captured.gateway_ref.payment_intent as string;
      await stripeFor(h).refunds.create(
        { payment_intent: pi, amount: 3000, refund_application_fee: true },
        { stripeAccount: account.account },
      );
      const events = await accountEvents(h, account.account, ['charge.refunded']);
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]).toMatchObject({ account: account.account });
      const ids: string[] = [];
      for (const event of events) {
        const sent = await sendSigned(h, account.gateway_id, JSON.stringify(event, null, 2), CONNECT_SECRET);
        expect(sent.status, JSON.stringify(sent.body)).toBe(200);
        ids.push(sent.body.id as string);
      }
      const summary = await processWebhookEvents(h.deps, { ids });
      expect(summary).toMatchObject({ processed: ids.length, failed: 0, not_supported: 0 });
      expect(await read(h, created.id)).toMatchObject({
        payment_status: 'partially_refunded',
        refunded_amount: 3000,
        refunded_application_fee: 150,
        net_application_fee: 350,
      });
      const refunds = await h.request('GET', `/v1/transactions?original_transaction_id=${created.id}`);
      expect(refunds.body.data).toHaveLength(1);
      expect(refunds.body.data[0]).toMatchObject({ transaction_type: 'refund', amount: -3000, status: 'completed' });
      // The same events again change nothing.
      const again: string[] = [];
      for (const event of events) {
        const sent = await sendSigned(
          h,
          account.gateway_id,
          JSON.stringify({ ...event, id: `${event.id as string}x` }, null, 2),
          CONNECT_SECRET,
        );
        again.push(sent.body.id as string);
      }
      const before = await counts(h);
      expect(await processWebhookEvents(h.deps, { ids: again })).toMatchObject({ failed: 0, not_supported: 0 });
      expect((await counts(h))[0]).toBe(before[0]);
      expect(await read(h, created.id)).toMatchObject({ refunded_amount: 3000, refunded_application_fee: 150 });
    });

    it('an event of a connected account Settle does not know is not_supported, naming the account', async () => {
      const h = harness();
      const id = await storeStripeEvent(h, {
        id: 'evt_unknown_account_1',
        type: 'payment_intent.succeeded',
        created: Math.floor(h.clock.now().getTime() / 1000),
        data: { object: { id: 'pi_unknown_account', object: 'payment_intent', metadata: {} } },
        account: 'acct_1NotKnownHere',
      } as Parameters<typeof storeStripeEvent>[1]);
      expect(await processWebhookEvents(h.deps, { ids: [id] })).toMatchObject({ not_supported: 1, failed: 0 });
      const stored = await h.request('GET', `/v1/webhook-events/${id}`);
      expect(stored.body).toMatchObject({ status: 'not_supported' });
      expect(stored.body.outcome).toContain('acct_1NotKnownHere');
    });

    it('recovery of a lost answer replays the call on the connected account', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const created = await directCharge(h, account.id);
      const authorized = await act(h, created.id, 'authorize');
      // The capture's answer is lost (simulated: after the call, its attempt is put back in flight and the row in
      // process, as a crash before tx2 leaves them); recovery replays it on the account with the same key.
      const res = await h.request('POST', `/v1/transactions/${created.id}/capture`);
      expect(res.status).toBe(200);
      const attempt = await h.deps.db
        .selectFrom('gateway_attempts')
        .selectAll()
        .where('transaction_id', '=', created.id)
        .where('action', '=', 'capture')
        .executeTakeFirstOrThrow();
      expect(attempt.request).toMatchObject({ account: account.account });
      await h.deps.db
        .updateTable('gateway_attempts')
        .set({ state: 'in_flight', resolved_at: null })
        .where('id', '=', attempt.id)
        .execute();
      await h.deps.db
        .updateTable('transactions')
        .set({
          status: 'process',
          payment_status: null,
          previous_status: 'completed',
          previous_payment_status: 'authorized',
          version: (eb) => eb('version', '+', 1),
        })
        .where('id', '=', created.id)
        .execute();
      expect(await recoverAttempt(h.deps, attempt.id)).toBe('applied');
      expect(await read(h, created.id)).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        application_fee: 500,
      });
      const intent = await stripeFor(h).paymentIntents.retrieve(
        authorized.gateway_ref.payment_intent as string,
        {},
        {
          stripeAccount: account.account,
        },
      );
      expect(intent.status).toBe('succeeded');
      expect((await stripeFor(h).applicationFees.list({ charge: intent.latest_charge as string })).data).toHaveLength(
        1,
      );
    });

    it('refuses bad direct charges with a 4xx naming the field, writing nothing', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const pm = await card(h);
      const base = { amount: 1000, currency: 'usd', payment_method_id: pm };
      // A card saved to an account's platform Customer cannot be charged on the connected account.
      const owner = await h.request('POST', '/v1/accounts', { name: 'Acme', email: 'billing@acme.test' });
      const saved = await h.request('POST', '/v1/payment-methods', {
        type: 'card',
        gateway_token: 'pm_card_visa',
        account_id: owner.body.id,
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      const before = await counts(h);
      const cases: [Json, number, string, string][] = [
        [
          { ...base, connected_account_id: account.id, application_fee_amount: 1001 },
          400,
          'invalid_direct_charge',
          'application_fee_amount',
        ],
        [{ ...base, application_fee_amount: 100 }, 400, 'application_fee_requires_account', 'application_fee_amount'],
        [
          { ...base, connected_account_id: 'cac_doesnotexist00000000000', application_fee_amount: 100 },
          404,
          'resource_missing',
          'connected_account_id',
        ],
        [{ ...base, connected_account_id: account.id, non_gateway: true }, 400, 'invalid_direct_charge', 'non_gateway'],
        [
          { ...base, connected_account_id: account.id, payment_method_id: saved.body.id },
          400,
          'invalid_direct_charge',
          'payment_method_id',
        ],
        [
          { ...base, connected_account_id: account.id, transfer_group: 'g1' },
          400,
          'parameter_not_allowed',
          'transfer_group',
        ],
        [
          {
            record_type: 'transfer',
            amount: 1000,
            currency: 'usd',
            connected_account_id: account.id,
            application_fee_amount: 10,
          },
          400,
          'parameter_not_allowed',
          'application_fee_amount',
        ],
      ];
      for (const [body, status, code, param] of cases) {
        const res = await h.request('POST', '/v1/transactions', body);
        expect(res.status, JSON.stringify([body, res.body])).toBe(status);
        expect(res.body.error, JSON.stringify(body)).toMatchObject({ code, param });
      }
      // The schema refuses a negative or fractional fee.
      for (const fee of [-1, 1.5, '100']) {
        const res = await h.request('POST', '/v1/transactions', {
          ...base,
          connected_account_id: account.id,
          application_fee_amount: fee,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
      }
      expect(await counts(h)).toEqual(before);

      // refund_application_fee on a platform charge: 400, nothing sent or written.
      const platform = await h.request('POST', '/v1/transactions', base);
      await act(h, platform.body.id as string, 'capture');
      const mid = await counts(h);
      const refused = await h.request('POST', `/v1/transactions/${platform.body.id as string}/refund`, {
        refund_application_fee: true,
      });
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'no_application_fee', param: 'refund_application_fee' });
      expect(await counts(h)).toEqual(mid);

      // An amount edited below the fee: authorize refuses it before any call (400), nothing written or sent.
      const edited = await directCharge(h, account.id, { amount: 1000, application_fee_amount: 800 });
      const patched = await h.request('PATCH', `/v1/transactions/${edited.id}`, { amount: 700 });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      const editedCounts = await counts(h);
      const tooLow = await h.request('POST', `/v1/transactions/${edited.id}/authorize`);
      expect(tooLow.status, JSON.stringify(tooLow.body)).toBe(400);
      expect(tooLow.body.error).toMatchObject({ param: 'application_fee_amount' });
      expect(await counts(h)).toEqual(editedCounts);
      expect((await stripeFor(h).paymentIntents.list({}, { stripeAccount: account.account })).data).toHaveLength(0);

      // An open direct charge cannot be refunded or captured twice: 409, nothing written.
      const open = await directCharge(h, account.id);
      const openCounts = await counts(h);
      const conflict = await h.request('POST', `/v1/transactions/${open.id}/refund`, { refund_application_fee: true });
      expect(conflict.status, JSON.stringify(conflict.body)).toBe(409);
      expect(await counts(h)).toEqual(openCounts);
    });

    it('the batch capture and the daily_charges job act on the connected account too', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const first = await directCharge(h, account.id, { application_fee_amount: 100 });
      await act(h, first.id, 'authorize');
      const batch = await h.request('POST', '/v1/transactions/capture', { ids: [first.id] });
      expect(batch.status, JSON.stringify(batch.body)).toBe(200);
      expect(await read(h, first.id)).toMatchObject({ payment_status: 'captured', application_fee: 100 });
      const today = h.clock.now().toISOString().slice(0, 10);
      const due = await directCharge(h, account.id, {
        application_fee_amount: 300,
        auto_process: true,
        due_date: today,
      });
      const run = await runJob(h, 'daily_charges');
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', failed: 0 });
      expect(await read(h, due.id)).toMatchObject({ status: 'completed', application_fee: 300 });
      const intents = await stripeFor(h).paymentIntents.list({ limit: 100 }, { stripeAccount: account.account });
      expect(intents.data.map((pi) => pi.application_fee_amount).sort()).toEqual([100, 300]);
    });

    it('clone copies the account and the fee', async () => {
      const h = harness();
      const account = await connectedAccount(h, 'standard');
      const created = await directCharge(h, account.id, { application_fee_amount: 250 });
      const clone = await h.request('POST', `/v1/transactions/${created.id}/clone`);
      expect(clone.status, JSON.stringify(clone.body)).toBe(201);
      expect(clone.body).toMatchObject({ connected_account_id: account.id, application_fee: 250, status: 'open' });
    });
  },
  { emulator: true },
);
