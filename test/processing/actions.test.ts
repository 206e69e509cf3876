// The gateway actions end to end (P1-P10, P13): through the HTTP API, against the Stripe emulator, on each
// database. Each test checks the transaction Settle answers, what the emulator holds (read with the real SDK)
// and what was logged (gateway logs, gateway_attempts, history).
import Stripe from 'stripe';
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';

const VISA = 'pm_card_visa';
const DECLINED = 'pm_card_visa_chargeDeclined';
const INSUFFICIENT = 'pm_card_visa_chargeDeclinedInsufficientFunds';
const EXPIRED = 'pm_card_chargeDeclinedExpiredCard';
const SCA = 'pm_card_authenticationRequired';

const CAPTURED_STATES = ['completed/captured', 'completed/partially_captured', 'completed/partially_refunded'];
const REFUND_ALLOWED = [...CAPTURED_STATES, 'completed/authorized'];

function stripeOf(h: Harness): Stripe {
  return new Stripe('sk_test_x', { host: '127.0.0.1', port: h.emulator!.port, protocol: 'http' });
}

function expectStatus(res: { status: number; body: any }, status: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
}

async function paymentMethod(h: Harness, token: string): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expectStatus(res, 201);
  return res.body.id;
}

async function createCharge(h: Harness, token: string | null, amount = 10000, extra: Record<string, unknown> = {}) {
  const pm = token === null ? {} : { payment_method_id: await paymentMethod(h, token) };
  const res = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', ...pm, ...extra });
  expectStatus(res, 201);
  return res.body;
}

const act = (h: Harness, id: string, action: string, body?: unknown, headers?: Record<string, string>) =>
  h.request('POST', `/v1/transactions/${id}/${action}`, body, headers);

async function authorized(h: Harness, amount = 10000) {
  const t = await createCharge(h, VISA, amount);
  const res = await act(h, t.id, 'authorize');
  expectStatus(res, 200);
  return res.body;
}

async function captured(h: Harness, amount = 10000) {
  const t = await createCharge(h, VISA, amount);
  const res = await act(h, t.id, 'capture');
  expectStatus(res, 200);
  return res.body;
}

async function getTrx(h: Harness, id: string) {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expectStatus(res, 200);
  return res.body;
}

async function attemptsOf(h: Harness, transactionId: string) {
  return h.deps.db
    .selectFrom('gateway_attempts')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .orderBy('id', 'asc')
    .execute();
}

async function countAttempts(h: Harness): Promise<number> {
  return (await h.deps.db.selectFrom('gateway_attempts').select('id').execute()).length;
}

async function countTransactions(h: Harness): Promise<number> {
  return (await h.deps.db.selectFrom('transactions').select('id').execute()).length;
}

/** The transaction's gateway log entries, oldest first. */
async function logsOf(h: Harness, transactionId: string): Promise<any[]> {
  const res = await h.request('GET', `/v1/transactions/${transactionId}/gateway-logs`);
  expectStatus(res, 200);
  return [...res.body.data].reverse();
}

async function refundsOf(h: Harness, chargeId: string): Promise<any[]> {
  const res = await h.request('GET', `/v1/transactions?original_transaction_id=${chargeId}&limit=100`);
  expectStatus(res, 200);
  return res.body.data;
}

const emulatorRequests = (h: Harness): number => h.emulator!.controls.requestLog().length;

/** The one log entry of an attempt: its interaction type, result and our idempotency key; no secret in it. */
function expectLogOf(log: any, attempt: { idempotency_key: string }, interaction: string, result = 'success'): void {
  expect(log).toMatchObject({
    interaction_type: interaction,
    result_code: result,
    idempotency_key: attempt.idempotency_key,
    is_notification: false,
  });
  const text = JSON.stringify(log);
  expect(text).not.toMatch(/sk_(test|live)_/);
  expect(text).not.toMatch(/pi_[A-Za-z0-9]+_secret_/);
}

async function paymentIntent(h: Harness, id: string) {
  return stripeOf(h).paymentIntents.retrieve(id, { expand: ['latest_charge.balance_transaction'] });
}

function latestCharge(pi: Stripe.PaymentIntent): Stripe.Charge {
  const charge = pi.latest_charge;
  if (charge === null || typeof charge === 'string') throw new Error(`payment intent ${pi.id} has no expanded charge`);
  return charge;
}

function balanceOf(charge: Stripe.Charge): Stripe.BalanceTransaction {
  const bt = charge.balance_transaction;
  if (bt === null || typeof bt === 'string') throw new Error(`charge ${charge.id} has no expanded balance transaction`);
  return bt;
}

const day = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

describeEachDatabase(
  'gateway actions through the API',
  (get) => {
    it('1. authorize holds the amount; a full capture captures it with the fees', async () => {
      const h = get();
      const open = await createCharge(h, VISA, 10000);
      const auth = await act(h, open.id, 'authorize');
      expectStatus(auth, 200);
      const t = auth.body;
      expect(t).toMatchObject({
        id: open.id,
        status: 'completed',
        payment_status: 'authorized',
        amount: 10000,
        authorized_amount: 10000,
        captured_amount: 0,
        refunded_amount: 0,
        retained_amount: 0,
        uncaptured_method: null,
        error_code: null,
        decline_code: null,
        error_message: null,
        error_type: null,
        gateway_fee: null,
        net_amount: null,
      });
      expect(t.gateway_id).toMatch(/^gw_/);
      expect(t.gateway_ref.payment_intent).toMatch(/^pi_/);
      expect(t.gateway_ref.charge).toMatch(/^ch_/);
      expect(t.gateway_ref.refund).toBeNull();

      let pi = await paymentIntent(h, t.gateway_ref.payment_intent);
      expect(pi).toMatchObject({
        status: 'requires_capture',
        amount: 10000,
        amount_capturable: 10000,
        amount_received: 0,
        capture_method: 'manual',
        currency: 'usd',
      });
      expect(pi.metadata.settle_transaction_id).toBe(t.id);
      const captureBefore = latestCharge(pi).payment_method_details?.card?.capture_before;
      expect(captureBefore).toBeTypeOf('number');
      expect(t.authorization_expires_at).toBe(new Date(captureBefore! * 1000).toISOString());
      expect(Date.parse(t.authorization_expires_at)).toBeGreaterThan(h.clock.now().getTime());

      const cap = await act(h, t.id, 'capture');
      expectStatus(cap, 200);
      pi = await paymentIntent(h, t.gateway_ref.payment_intent);
      expect(pi).toMatchObject({ status: 'succeeded', amount_received: 10000, amount_capturable: 0 });
      const bt = balanceOf(latestCharge(pi));
      expect(cap.body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        authorized_amount: 10000,
        captured_amount: 10000,
        retained_amount: 10000,
        authorization_expires_at: null,
        gateway_ref: { payment_intent: pi.id, charge: latestCharge(pi).id, balance_transaction: bt.id, refund: null },
        gateway_fee: bt.fee,
        net_amount: 10000 - bt.fee,
        balance_status: bt.status,
        available_on: day(bt.available_on),
        error_code: null,
      });
      expect(bt.fee).toBeGreaterThan(0);
      expect(await getTrx(h, t.id)).toEqual(cap.body);

      const attempts = await attemptsOf(h, t.id);
      expect(attempts.map((a) => [a.action, a.state])).toEqual([
        ['authorize', 'succeeded'],
        ['capture', 'succeeded'],
      ]);
      const logs = await logsOf(h, t.id);
      expect(logs).toHaveLength(2);
      expectLogOf(logs[0], attempts[0]!, 'authorization');
      expectLogOf(logs[1], attempts[1]!, 'capture');
      expect(logs[1]).toMatchObject({ http_method: 'POST', http_status: 200, gateway_ref_number: pi.id });

      const filtered = await h.request('GET', `/v1/gateway-logs?transaction_id=${t.id}&interaction_type=capture`);
      expectStatus(filtered, 200);
      expect(filtered.body.data.map((l: any) => l.id)).toEqual([logs[1].id]);
      const none = await h.request('GET', `/v1/gateway-logs?transaction_id=${t.id}&interaction_type=referenced_refund`);
      expect(none.body.data).toEqual([]);
    });

    it('2. a partial capture keeps part of the authorization; a second capture is 409', async () => {
      const h = get();
      const t = await authorized(h, 10000);
      const cap = await act(h, t.id, 'capture', { amount: 6000 });
      expectStatus(cap, 200);
      const pi = await paymentIntent(h, t.gateway_ref.payment_intent);
      expect(pi).toMatchObject({ status: 'succeeded', amount: 10000, amount_received: 6000, amount_capturable: 0 });
      const bt = balanceOf(latestCharge(pi));
      expect(cap.body).toMatchObject({
        status: 'completed',
        payment_status: 'partially_captured',
        authorized_amount: 10000,
        captured_amount: 6000,
        retained_amount: 6000,
        refunded_amount: 0,
        gateway_fee: bt.fee,
        net_amount: 6000 - bt.fee,
        authorization_expires_at: null,
      });
      const attempts = await attemptsOf(h, t.id);
      const request: unknown = attempts[1]!.request;
      expect(typeof request === 'string' ? JSON.parse(request) : request).toMatchObject({
        amount: 6000,
        payment_intent: t.gateway_ref.payment_intent,
      });
      const logs = await logsOf(h, t.id);
      expectLogOf(logs[1], attempts[1]!, 'capture');
      expect(logs[1].request_body).toMatchObject({ amount_to_capture: '6000' });

      const before = emulatorRequests(h);
      const again = await act(h, t.id, 'capture');
      expectStatus(again, 409);
      expect(again.body.error).toMatchObject({
        code: 'unexpected_state',
        current: 'completed/partially_captured',
        allowed: ['open', 'completed/authorized'],
      });
      expect(emulatorRequests(h)).toBe(before);
      expect(await getTrx(h, t.id)).toEqual(cap.body);
    });

    it('3. capturing an open charge charges it at once (sale)', async () => {
      const h = get();
      const open = await createCharge(h, VISA, 4200);
      const res = await act(h, open.id, 'capture');
      expectStatus(res, 200);
      const pi = await paymentIntent(h, res.body.gateway_ref.payment_intent);
      expect(pi).toMatchObject({
        status: 'succeeded',
        amount: 4200,
        amount_received: 4200,
        capture_method: 'automatic',
      });
      const bt = balanceOf(latestCharge(pi));
      expect(res.body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        authorized_amount: 4200,
        captured_amount: 4200,
        retained_amount: 4200,
        authorization_expires_at: null,
        gateway_ref: { payment_intent: pi.id, charge: latestCharge(pi).id, balance_transaction: bt.id, refund: null },
        gateway_fee: bt.fee,
        net_amount: 4200 - bt.fee,
        balance_status: bt.status,
        available_on: day(bt.available_on),
      });
      const [attempt] = await attemptsOf(h, open.id);
      expect(attempt).toMatchObject({ action: 'charge', state: 'succeeded' });
      const logs = await logsOf(h, open.id);
      expect(logs).toHaveLength(1);
      expectLogOf(logs[0], attempt!, 'sale');
    });

    it('4. release cancels the authorization without a refund; refund on an authorized charge releases it', async () => {
      const h = get();
      const t = await authorized(h);
      const rel = await act(h, t.id, 'release');
      expectStatus(rel, 200);
      expect(rel.body).toMatchObject({
        status: 'completed',
        payment_status: 'uncaptured',
        uncaptured_method: 'manual',
        authorization_expires_at: null,
        captured_amount: 0,
        refunded_amount: 0,
        retained_amount: 0,
        gateway_ref: { payment_intent: t.gateway_ref.payment_intent, refund: null },
      });
      expect(await refundsOf(h, t.id)).toEqual([]);
      const pi = await paymentIntent(h, t.gateway_ref.payment_intent);
      expect(pi).toMatchObject({ status: 'canceled', amount_capturable: 0, amount_received: 0 });
      // Stripe books the released authorization as a refund of the whole uncaptured amount, with no balance
      // transaction (no money moved): a release, not a refund to the customer, so Settle records none.
      const released = (await stripeOf(h).refunds.list({ payment_intent: pi.id })).data;
      expect(released.map((r) => [r.amount, r.balance_transaction, r.metadata])).toEqual([[10000, null, {}]]);
      const attempts = await attemptsOf(h, t.id);
      expect(attempts.map((a) => [a.action, a.state])).toEqual([
        ['authorize', 'succeeded'],
        ['release', 'succeeded'],
      ]);
      const logs = await logsOf(h, t.id);
      expectLogOf(logs[1], attempts[1]!, 'authorization_reversal');

      const other = await authorized(h);
      const before = emulatorRequests(h);
      const partial = await act(h, other.id, 'refund', { amount: 100 });
      expectStatus(partial, 400);
      expect(partial.body.error).toMatchObject({ code: 'partial_release_not_supported', param: 'amount' });
      expect(emulatorRequests(h)).toBe(before);
      const viaRefund = await act(h, other.id, 'refund');
      expectStatus(viaRefund, 200);
      expect(viaRefund.body).toMatchObject({
        id: other.id,
        transaction_type: 'normal',
        status: 'completed',
        payment_status: 'uncaptured',
        uncaptured_method: 'manual',
      });
      expect(await refundsOf(h, other.id)).toEqual([]);
      expect((await paymentIntent(h, other.gateway_ref.payment_intent)).status).toBe('canceled');
      const otherAttempts = await attemptsOf(h, other.id);
      expect(otherAttempts.map((a) => a.action)).toEqual(['authorize', 'release']);
    });

    it('5. partial refunds down to zero, then no more', async () => {
      const h = get();
      const charge = await captured(h, 10000);
      const pi = charge.gateway_ref.payment_intent;
      const expected = [
        { body: { amount: 3500 }, amount: 3500, retained: 6500, status: 'partially_refunded' },
        {
          body: { amount: 3500, reason: 'requested_by_customer' },
          amount: 3500,
          retained: 3000,
          status: 'partially_refunded',
        },
        { body: undefined, amount: 3000, retained: 0, status: 'refunded' },
      ];
      const refundIds: string[] = [];
      let refunded = 0;
      for (const step of expected) {
        const res = await act(h, charge.id, 'refund', step.body);
        expectStatus(res, 201);
        refunded += step.amount;
        const r = res.body;
        refundIds.push(r.id);
        expect(r).toMatchObject({
          record_type: 'charge',
          transaction_type: 'refund',
          status: 'completed',
          payment_status: 'refunded',
          amount: -step.amount,
          currency: 'USD',
          original_transaction_id: charge.id,
          source: 'api',
          non_gateway: false,
          gateway_id: charge.gateway_id,
          error_code: null,
          error_message: null,
        });
        expect(r.gateway_ref.refund).toMatch(/^re_/);
        expect(r.gateway_ref.payment_intent).toBe(pi);
        expect(r.gateway_fee).toBe(0);
        expect(r.net_amount).toBe(-step.amount);
        const c = await getTrx(h, charge.id);
        expect(c).toMatchObject({
          status: 'completed',
          payment_status: step.status,
          captured_amount: 10000,
          refunded_amount: refunded,
          retained_amount: step.retained,
        });
        const [attempt] = await attemptsOf(h, r.id);
        expect(attempt).toMatchObject({ action: 'refund', state: 'succeeded', charge_transaction_id: charge.id });
        const logs = await logsOf(h, r.id);
        expect(logs).toHaveLength(1);
        expectLogOf(logs[0], attempt!, 'referenced_refund');
        expect(logs[0].gateway_ref_number).toBe(r.gateway_ref.refund);
      }
      expect((await refundsOf(h, charge.id)).map((r) => r.id).sort()).toEqual([...refundIds].sort());

      const before = emulatorRequests(h);
      const beforeCount = await countTransactions(h);
      const chargeBefore = await getTrx(h, charge.id);
      for (const body of [undefined, { amount: 1 }]) {
        const more = await act(h, charge.id, 'refund', body);
        // The charge is completed/refunded, which refund is not allowed from: a 409 naming the state.
        expectStatus(more, 409);
        expect(more.body.error).toMatchObject({
          code: 'unexpected_state',
          current: 'completed/refunded',
          allowed: REFUND_ALLOWED,
        });
        expect(more.body.error.message).toMatch(/completed\/refunded/);
      }
      expect(emulatorRequests(h)).toBe(before);
      expect(await countTransactions(h)).toBe(beforeCount);
      expect(await getTrx(h, charge.id)).toEqual(chargeBefore);

      const refunds = await stripeOf(h).refunds.list({ payment_intent: pi, limit: 100 });
      expect(refunds.data).toHaveLength(3);
      expect(refunds.data.map((r) => r.amount).sort()).toEqual([3000, 3500, 3500]);
      expect(refunds.data.every((r) => r.status === 'succeeded')).toBe(true);
      expect(refunds.data.map((r) => r.reason).filter((r) => r !== null)).toEqual(['requested_by_customer']);
      // Each refund transaction carries its gateway refund and that refund's balance transaction.
      const expanded = await stripeOf(h).refunds.list({
        payment_intent: pi,
        limit: 100,
        expand: ['data.balance_transaction'],
      });
      for (const id of refundIds) {
        const r = await getTrx(h, id);
        const atGateway = expanded.data.find((x) => x.id === r.gateway_ref.refund);
        expect(atGateway, id).toBeDefined();
        expect(atGateway!.amount).toBe(-r.amount);
        expect(atGateway!.metadata?.settle_transaction_id).toBe(id);
        const bt = atGateway!.balance_transaction as Stripe.BalanceTransaction;
        expect(r).toMatchObject({
          gateway_fee: bt.fee,
          net_amount: bt.net,
          balance_status: bt.status,
          available_on: day(bt.available_on),
        });
        expect(r.gateway_ref.balance_transaction).toBe(bt.id);
      }
      expect(latestCharge(await paymentIntent(h, pi)).amount_refunded).toBe(10000);
    });

    it('6. an over-refund is refused before anything happens', async () => {
      const h = get();
      const charge = await captured(h, 10000);
      const before = {
        trx: await getTrx(h, charge.id),
        requests: emulatorRequests(h),
        count: await countTransactions(h),
        attempts: await countAttempts(h),
      };
      const res = await act(h, charge.id, 'refund', { amount: 10001 });
      expectStatus(res, 400);
      expect(res.body.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'amount_exceeds_refundable',
        param: 'amount',
      });
      expect(res.body.error.message).toMatch(/100\.01/);
      expect(await getTrx(h, charge.id)).toEqual(before.trx);
      expect(await countTransactions(h)).toBe(before.count);
      expect(await countAttempts(h)).toBe(before.attempts);
      expect(await refundsOf(h, charge.id)).toEqual([]);
      expect(emulatorRequests(h)).toBe(before.requests);
    });

    it('7. non-gateway charges are captured and refunded without the gateway', async () => {
      const h = get();
      const before = emulatorRequests(h);
      const open = await createCharge(h, null, 5000, { non_gateway: true, sub_type: 'check' });
      expect(open).toMatchObject({ status: 'open', non_gateway: true, sub_type: 'check' });
      const cap = await act(h, open.id, 'capture');
      expectStatus(cap, 200);
      expect(cap.body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        non_gateway: true,
        authorized_amount: 5000,
        captured_amount: 5000,
        retained_amount: 5000,
        gateway_id: null,
        gateway_ref: { payment_intent: null, charge: null, balance_transaction: null, refund: null },
        gateway_fee: null,
      });
      expect(cap.body.processed_at).not.toBeNull();

      const refund = await act(h, open.id, 'refund', { amount: 2000 });
      expectStatus(refund, 201);
      expect(refund.body).toMatchObject({
        transaction_type: 'refund',
        status: 'completed',
        payment_status: 'refunded',
        non_gateway: true,
        sub_type: 'check',
        amount: -2000,
        original_transaction_id: open.id,
        gateway_ref: { payment_intent: null, charge: null, balance_transaction: null, refund: null },
      });
      expect(await getTrx(h, open.id)).toMatchObject({
        status: 'completed',
        payment_status: 'partially_refunded',
        refunded_amount: 2000,
        retained_amount: 3000,
      });

      const paid = await createCharge(h, null, 2500, { non_gateway: true, sub_type: 'cash', status: 'completed' });
      expect(paid).toMatchObject({ status: 'completed', payment_status: 'captured' });
      const full = await act(h, paid.id, 'refund');
      expectStatus(full, 201);
      expect(full.body).toMatchObject({
        amount: -2500,
        status: 'completed',
        payment_status: 'refunded',
        non_gateway: true,
      });
      expect(await getTrx(h, paid.id)).toMatchObject({
        payment_status: 'refunded',
        refunded_amount: 2500,
        retained_amount: 0,
      });

      const other = await createCharge(h, VISA, 5000, { non_gateway: true, sub_type: 'check' });
      const auth = await act(h, other.id, 'authorize');
      expectStatus(auth, 400);
      expect(auth.body.error).toMatchObject({ code: 'non_gateway_transaction', param: 'id' });
      expect(await getTrx(h, other.id)).toEqual(other);

      expect(emulatorRequests(h)).toBe(before);
      for (const id of [open.id, refund.body.id, paid.id, full.body.id, other.id]) {
        expect(await attemptsOf(h, id)).toEqual([]);
        expect(await logsOf(h, id)).toEqual([]);
      }
    });

    it('8. declines answer 200 with the transaction failed and the card error', async () => {
      const h = get();
      const cases = [
        {
          token: DECLINED,
          action: 'authorize',
          code: 'card_declined',
          decline: 'generic_decline',
          interaction: 'authorization',
        },
        {
          token: INSUFFICIENT,
          action: 'capture',
          code: 'card_declined',
          decline: 'insufficient_funds',
          interaction: 'sale',
        },
        {
          token: EXPIRED,
          action: 'authorize',
          code: 'expired_card',
          decline: 'expired_card',
          interaction: 'authorization',
        },
      ];
      for (const c of cases) {
        const open = await createCharge(h, c.token, 7500);
        const res = await act(h, open.id, c.action);
        expectStatus(res, 200);
        expect(res.body, c.token).toMatchObject({
          status: 'failed',
          payment_status: null,
          error_code: c.code,
          decline_code: c.decline,
          error_type: 'card_error',
          authorized_amount: 0,
          captured_amount: 0,
          retained_amount: 0,
        });
        expect(res.body.error_message).toEqual(expect.any(String));
        expect(res.body.error_message.length).toBeGreaterThan(0);
        expect(res.body.processed_at).not.toBeNull();
        const [attempt] = await attemptsOf(h, open.id);
        expect(attempt).toMatchObject({ action: c.action === 'capture' ? 'charge' : 'authorize', state: 'failed' });
        const [log] = await logsOf(h, open.id);
        expectLogOf(log, attempt!, c.interaction, 'decline');
        expect(log).toMatchObject({ interaction_status: 'failed', http_status: 402, gateway_result_code: c.decline });
        // The emulator holds the failed PaymentIntent with the same error.
        expect(log.gateway_ref_number).toMatch(/^pi_/);
        // The failed transaction keeps the gateway's ids of the attempt (P8: never retried in place).
        expect(res.body.gateway_ref.payment_intent).toBe(log.gateway_ref_number);
        const pi = await stripeOf(h).paymentIntents.retrieve(log.gateway_ref_number);
        expect(res.body.gateway_ref.charge).toBe(pi.latest_charge);
        expect(pi.status).toBe('requires_payment_method');
        expect(pi.metadata.settle_transaction_id).toBe(open.id);
        expect(pi.last_payment_error).toMatchObject({ code: c.code, decline_code: c.decline, type: 'card_error' });
      }
    });

    it('9. a card that needs authentication leaves the charge pending_payment_intent', async () => {
      const h = get();
      const open = await createCharge(h, SCA, 3000);
      const res = await act(h, open.id, 'authorize');
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        status: 'pending_payment_intent',
        payment_status: null,
        authorized_amount: 0,
        captured_amount: 0,
        error_code: null,
      });
      expect(res.body.gateway_ref.payment_intent).toMatch(/^pi_/);
      expect(res.body.error_message).toMatch(/authenticat/i);
      const pi = await stripeOf(h).paymentIntents.retrieve(res.body.gateway_ref.payment_intent);
      expect(pi).toMatchObject({ status: 'requires_action', amount: 3000, capture_method: 'manual' });
      const [attempt] = await attemptsOf(h, open.id);
      const [log] = await logsOf(h, open.id);
      expectLogOf(log, attempt!, 'authorization', 'requires_review');
    });

    it('10. a failed charge is reattempted once, as a new open charge that can be captured', async () => {
      const h = get();
      const open = await createCharge(h, DECLINED, 8800, { description: 'Invoice 7' });
      const failed = (await act(h, open.id, 'capture')).body;
      expect(failed.status).toBe('failed');

      const re = await act(h, failed.id, 'reattempt');
      expectStatus(re, 201);
      expect(re.body.id).not.toBe(failed.id);
      expect(re.body).toMatchObject({
        status: 'open',
        payment_status: null,
        transaction_type: 'normal',
        amount: 8800,
        currency: 'USD',
        payment_method_id: failed.payment_method_id,
        description: 'Invoice 7',
        reattempt_of_id: failed.id,
        reattempt_number: 1,
        error_code: null,
        decline_code: null,
        error_message: null,
        gateway_ref: { payment_intent: null, charge: null, balance_transaction: null, refund: null },
      });
      expect(await getTrx(h, failed.id)).toEqual(failed);

      const count = await countTransactions(h);
      const twice = await act(h, failed.id, 'reattempt');
      expectStatus(twice, 409);
      expect(twice.body.error.code).toBe('already_reattempted');
      expect(twice.body.error.message).toContain(re.body.id);
      const notFailed = await act(h, re.body.id, 'reattempt');
      expectStatus(notFailed, 409);
      expect(notFailed.body.error).toMatchObject({ code: 'unexpected_state', current: 'open', allowed: ['failed'] });
      expect(await countTransactions(h)).toBe(count);

      const patched = await h.request('PATCH', `/v1/transactions/${re.body.id}`, {
        payment_method_id: await paymentMethod(h, VISA),
      });
      expectStatus(patched, 200);
      const cap = await act(h, re.body.id, 'capture');
      expectStatus(cap, 200);
      expect(cap.body).toMatchObject({
        status: 'completed',
        payment_status: 'captured',
        captured_amount: 8800,
        reattempt_of_id: failed.id,
        reattempt_number: 1,
      });
      const pi = await stripeOf(h).paymentIntents.retrieve(cap.body.gateway_ref.payment_intent);
      expect(pi).toMatchObject({ status: 'succeeded', amount_received: 8800 });
      expect(pi.metadata.settle_transaction_id).toBe(re.body.id);
    });

    it('11. batch capture answers per id, in order', async () => {
      const h = get();
      const auth = await authorized(h, 5000);
      const open = await createCharge(h, VISA, 6000);
      const done = await captured(h, 7000);
      const declining = await createCharge(h, DECLINED, 8000);
      const ids = [auth.id, open.id, done.id, 'trx_doesnotexist', declining.id];
      const res = await h.request('POST', '/v1/transactions/capture', { ids });
      expectStatus(res, 200);
      expect(res.body.object).toBe('list');
      const data = res.body.data;
      expect(data.map((d: any) => d.id)).toEqual(ids);
      expect(data.map((d: any) => d.status_code)).toEqual([200, 200, 409, 404, 200]);
      expect(data[0]).toMatchObject({
        error: null,
        transaction: { id: auth.id, status: 'completed', payment_status: 'captured', captured_amount: 5000 },
      });
      expect(data[1]).toMatchObject({
        error: null,
        transaction: { id: open.id, status: 'completed', payment_status: 'captured', captured_amount: 6000 },
      });
      expect(data[2]).toMatchObject({
        transaction: null,
        error: { code: 'unexpected_state', current: 'completed/captured', allowed: ['open', 'completed/authorized'] },
      });
      expect(data[3]).toMatchObject({ transaction: null, error: { code: 'resource_missing' } });
      expect(data[4]).toMatchObject({
        error: null,
        transaction: {
          id: declining.id,
          status: 'failed',
          error_code: 'card_declined',
          decline_code: 'generic_decline',
        },
      });
      expect(await getTrx(h, auth.id)).toEqual(data[0].transaction);
      expect(await getTrx(h, done.id)).toEqual(done);
      expect((await stripeOf(h).paymentIntents.retrieve(auth.gateway_ref.payment_intent)).amount_received).toBe(5000);

      const before = { requests: emulatorRequests(h), attempts: await countAttempts(h) };
      const bad: [string, unknown][] = [
        ['empty ids', { ids: [] }],
        ['201 ids', { ids: Array.from({ length: 201 }, (_, i) => `trx_${i}`) }],
        ['duplicate ids', { ids: [open.id, open.id] }],
        ['ids not an array', { ids: open.id }],
        ['no ids', {}],
        ['an empty id', { ids: [''] }],
        ['an unknown field', { ids: [open.id], amount: 1 }],
      ];
      for (const [what, body] of bad) {
        const r = await h.request('POST', '/v1/transactions/capture', body);
        expect(r.status, what).toBe(400);
        expect(r.body.error.type, what).toBe('invalid_request_error');
      }
      const dup = await h.request('POST', '/v1/transactions/capture', { ids: [auth.id, auth.id] });
      expect(dup.body.error).toMatchObject({ code: 'duplicate_ids', param: 'ids.1' });
      expect(emulatorRequests(h)).toBe(before.requests);
      expect(await countAttempts(h)).toBe(before.attempts);
    });

    it('12. bad input is refused with a 400 (or 404) and changes nothing', async () => {
      const h = get();
      const auth = await authorized(h, 10000);
      const open = await createCharge(h, VISA, 10000);
      const done = await captured(h, 10000);
      const noPm = await createCharge(h, null, 10000);
      const small = await createCharge(h, VISA, 49);
      const cases: {
        what: string;
        id: string;
        action: string;
        body?: unknown;
        status: number;
        code?: string;
        param?: string;
      }[] = [
        {
          what: 'fractional amount',
          id: auth.id,
          action: 'capture',
          body: { amount: 1.5 },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'string amount',
          id: auth.id,
          action: 'capture',
          body: { amount: '100' },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'negative amount',
          id: auth.id,
          action: 'capture',
          body: { amount: -5 },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'zero amount',
          id: auth.id,
          action: 'capture',
          body: { amount: 0 },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'capture above the authorization',
          id: auth.id,
          action: 'capture',
          body: { amount: 10001 },
          status: 400,
          code: 'amount_exceeds_capturable',
          param: 'amount',
        },
        {
          what: 'partial capture below the minimum',
          id: auth.id,
          action: 'capture',
          body: { amount: 49 },
          status: 400,
          code: 'amount_too_small',
          param: 'amount',
        },
        {
          what: 'unknown capture field',
          id: auth.id,
          action: 'capture',
          body: { amount: 100, force: true },
          status: 400,
          code: 'parameter_unknown',
          param: 'force',
        },
        {
          what: 'unknown release field',
          id: auth.id,
          action: 'release',
          body: { amount: 100 },
          status: 400,
          code: 'parameter_unknown',
          param: 'amount',
        },
        {
          what: 'open capture, other amount',
          id: open.id,
          action: 'capture',
          body: { amount: 5000 },
          status: 400,
          code: 'amount_mismatch',
          param: 'amount',
        },
        {
          what: 'unknown authorize field',
          id: open.id,
          action: 'authorize',
          body: { capture: true },
          status: 400,
          code: 'parameter_unknown',
          param: 'capture',
        },
        {
          what: 'unknown reattempt field',
          id: open.id,
          action: 'reattempt',
          body: { amount: 1 },
          status: 400,
          code: 'parameter_unknown',
          param: 'amount',
        },
        {
          what: 'refund reason bogus',
          id: done.id,
          action: 'refund',
          body: { amount: 100, reason: 'bogus' },
          status: 400,
          code: 'parameter_invalid_value',
          param: 'reason',
        },
        {
          what: 'refund amount zero',
          id: done.id,
          action: 'refund',
          body: { amount: 0 },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'refund amount text',
          id: done.id,
          action: 'refund',
          body: { amount: '5' },
          status: 400,
          code: 'invalid_amount',
          param: 'amount',
        },
        {
          what: 'authorize without payment method',
          id: noPm.id,
          action: 'authorize',
          status: 400,
          code: 'payment_method_required',
          param: 'payment_method_id',
        },
        {
          what: 'capture without payment method',
          id: noPm.id,
          action: 'capture',
          status: 400,
          code: 'payment_method_required',
          param: 'payment_method_id',
        },
        {
          what: 'authorize below the minimum',
          id: small.id,
          action: 'authorize',
          status: 400,
          code: 'amount_too_small',
          param: 'amount',
        },
        {
          what: 'capture below the minimum',
          id: small.id,
          action: 'capture',
          status: 400,
          code: 'amount_too_small',
          param: 'amount',
        },
      ];
      for (const action of ['authorize', 'capture', 'release', 'refund', 'reattempt']) {
        cases.push({
          what: `${action} of an unknown id`,
          id: 'trx_doesnotexist',
          action,
          status: 404,
          code: 'resource_missing',
        });
      }
      for (const c of cases) {
        const before = {
          trx: c.status === 404 ? null : await getTrx(h, c.id),
          requests: emulatorRequests(h),
          attempts: await countAttempts(h),
          count: await countTransactions(h),
        };
        const res = await act(h, c.id, c.action, c.body);
        expect(res.status, `${c.what}: ${JSON.stringify(res.body)}`).toBe(c.status);
        if (c.code) expect(res.body.error.code, c.what).toBe(c.code);
        if (c.param) expect(res.body.error.param, c.what).toBe(c.param);
        expect(res.body.error.message, c.what).toEqual(expect.any(String));
        if (before.trx) expect(await getTrx(h, c.id), c.what).toEqual(before.trx);
        expect(await countAttempts(h), c.what).toBe(before.attempts);
        expect(await countTransactions(h), c.what).toBe(before.count);
        expect(emulatorRequests(h), c.what).toBe(before.requests);
      }
    });

    it('13. an Idempotency-Key replays an action and refuses a different body', async () => {
      const h = get();
      const open = await createCharge(h, VISA, 10000);
      const creates = () =>
        h.emulator!.controls.requestLog().filter((e) => e.method === 'POST' && e.path === '/v1/payment_intents').length;
      const createsBefore = creates();
      const first = await act(h, open.id, 'authorize', undefined, { 'idempotency-key': 'act-authorize-1' });
      expectStatus(first, 200);
      expect(first.headers['idempotency-replayed']).toBeUndefined();
      const second = await act(h, open.id, 'authorize', undefined, { 'idempotency-key': 'act-authorize-1' });
      expectStatus(second, 200);
      expect(second.headers['idempotency-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(creates()).toBe(createsBefore + 1);
      expect(await attemptsOf(h, open.id)).toHaveLength(1);

      const cap = await act(h, open.id, 'capture', { amount: 3000 }, { 'idempotency-key': 'act-capture-1' });
      expectStatus(cap, 200);
      const requests = emulatorRequests(h);
      const replay = await act(h, open.id, 'capture', { amount: 3000 }, { 'idempotency-key': 'act-capture-1' });
      expectStatus(replay, 200);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(cap.body);
      const reused = await act(h, open.id, 'capture', { amount: 4000 }, { 'idempotency-key': 'act-capture-1' });
      expectStatus(reused, 409);
      expect(reused.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
      expect(emulatorRequests(h)).toBe(requests);

      const refund = await act(h, open.id, 'refund', { amount: 1000 }, { 'idempotency-key': 'act-refund-1' });
      expectStatus(refund, 201);
      const refundReplay = await act(h, open.id, 'refund', { amount: 1000 }, { 'idempotency-key': 'act-refund-1' });
      expectStatus(refundReplay, 201);
      expect(refundReplay.headers['idempotency-replayed']).toBe('true');
      expect(refundReplay.body).toEqual(refund.body);
      expect(await refundsOf(h, open.id)).toHaveLength(1);
      // The emulator also holds the refund of the 7000 the partial capture released; ours is there once.
      const atGateway = (await stripeOf(h).refunds.list({ payment_intent: cap.body.gateway_ref.payment_intent })).data;
      expect(atGateway.map((r) => r.amount).sort()).toEqual([1000, 7000]);
      expect(atGateway.filter((r) => r.metadata?.settle_transaction_id === refund.body.id).map((r) => r.id)).toEqual([
        refund.body.gateway_ref.refund,
      ]);
      expect(await getTrx(h, open.id)).toMatchObject({
        captured_amount: 3000,
        refunded_amount: 1000,
        retained_amount: 2000,
      });
    });

    it('14. the history shows when an action started and how it ended', async () => {
      const h = get();
      const t = await authorized(h, 2000);
      const [attempt] = await attemptsOf(h, t.id);
      const res = await h.request('GET', `/v1/transactions/${t.id}/history`);
      expectStatus(res, 200);
      const entries = res.body.data;
      expect(entries.map((e: any) => e.action)).toEqual([
        'created',
        `authorize started: ${attempt!.id}`,
        `authorize succeeded: ${attempt!.id}`,
      ]);
      expect(entries[1].changes.status).toEqual(['open', 'process']);
      expect(entries[2].changes.status).toEqual(['process', 'completed']);
      expect(entries[2].changes.payment_status).toEqual([null, 'authorized']);
      expect(entries[2].changes.authorized_amount).toEqual([0, 2000]);
      expect(entries.every((e: any) => e.actor === entries[0].actor && e.transaction_id === t.id)).toBe(true);
    });
  },
  { emulator: true },
);
