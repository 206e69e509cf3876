// Gateway actions racing each other (PostgreSQL; PGlite has a single connection). tx1 either locks the transaction
// row (FOR UPDATE in loadForAction; requests with an Idempotency-Key) or writes with a compare-and-set of the version
// it read (without one; a refund moves its charge's version on), so of two actions on one row only one can start: the
// other sees the row in `process` (or already done) and gets 409, and amounts checked against the row (refunds in
// flight included) can never be over-committed. Each test counts what reached the emulator, so a second call that
// slipped through shows.
import Stripe from 'stripe';
import { beforeEach, expect, it } from 'vitest';
import { describePostgres, type Harness } from '../support/harness.js';

const CREATE = '/v1/payment_intents';
const REFUNDS = '/v1/refunds';

function emulatorOf(h: Harness) {
  if (!h.emulator) throw new Error('this suite needs the emulator');
  return h.emulator;
}

function stripeFor(h: Harness): Stripe {
  return new Stripe('sk_test_x', { host: '127.0.0.1', port: emulatorOf(h).port, protocol: 'http' });
}

/** Requests the emulator received since `since` (an index into its request log). */
function requestsSince(h: Harness, since: number, method: string, path: string | RegExp) {
  return emulatorOf(h)
    .controls.requestLog()
    .slice(since)
    .filter((e) => e.method === method && (typeof path === 'string' ? e.path === path : path.test(e.path)));
}

const logMark = (h: Harness): number => emulatorOf(h).controls.requestLog().length;

let pmId: string | undefined;
async function openCharge(h: Harness, amount: number): Promise<string> {
  if (pmId === undefined) {
    const pm = await h.request('POST', '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      exp_month: 12,
      exp_year: 2030,
    });
    expect(pm.status).toBe(201);
    pmId = pm.body.id as string;
  }
  const t = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pmId });
  expect(t.status).toBe(201);
  return t.body.id as string;
}

async function authorizedCharge(h: Harness, amount: number): Promise<{ id: string; paymentIntent: string }> {
  const id = await openCharge(h, amount);
  const res = await h.request('POST', `/v1/transactions/${id}/authorize`);
  expect(res.status).toBe(200);
  expect(label(res.body)).toBe('completed/authorized');
  return { id, paymentIntent: res.body.gateway_ref.payment_intent as string };
}

async function capturedCharge(h: Harness, amount: number): Promise<{ id: string; paymentIntent: string }> {
  const id = await openCharge(h, amount);
  const res = await h.request('POST', `/v1/transactions/${id}/capture`);
  expect(res.status).toBe(200);
  expect(label(res.body)).toBe('completed/captured');
  return { id, paymentIntent: res.body.gateway_ref.payment_intent as string };
}

const label = (t: { status: string; payment_status: string | null }): string =>
  t.payment_status === null ? t.status : `${t.status}/${t.payment_status}`;

async function getTransaction(h: Harness, id: string) {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function refundsOf(h: Harness, chargeId: string) {
  return h.deps.db
    .selectFrom('transactions')
    .selectAll()
    .where('original_transaction_id', '=', chargeId)
    .where('transaction_type', '=', 'refund')
    .execute();
}

const countOf = <T>(values: T[], value: T): number => values.filter((v) => v === value).length;

/**
 * Of 20 refunds of a tenth of the charge, 10 are made (201); each of the others is refused: 400 while refunds are
 * in flight (they count against what is refundable), or 409 once the charge is refunded in full.
 */
function expectTenRefunded(results: { status: number; body: any }[]): void {
  expect(
    countOf(
      results.map((r) => r.status),
      201,
    ),
  ).toBe(10);
  for (const r of results.filter((x) => x.status !== 201)) {
    const refused =
      (r.status === 400 && r.body.error.code === 'amount_exceeds_refundable') ||
      (r.status === 409 && r.body.error.current === 'completed/refunded');
    expect(refused, JSON.stringify([r.status, r.body])).toBe(true);
  }
}

describePostgres(
  'concurrent gateway actions',
  (get) => {
    beforeEach(() => {
      emulatorOf(get()).controls.clearFaults();
    });

    it('20 concurrent refunds of 1000 on a 10000 charge: exactly 10 succeed, the rest exceed the refundable amount', async () => {
      const h = get();
      const charge = await capturedCharge(h, 10000);
      const mark = logMark(h);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => h.request('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1000 })),
      );
      expectTenRefunded(results);
      for (const r of results.filter((x) => x.status === 201)) {
        expect(r.body).toMatchObject({
          status: 'completed',
          payment_status: 'refunded',
          amount: -1000,
          original_transaction_id: charge.id,
        });
      }

      const after = await getTransaction(h, charge.id);
      expect(label(after)).toBe('completed/refunded');
      expect(after.refunded_amount).toBe(10000);
      expect(after.retained_amount).toBe(0);
      const refunds = await refundsOf(h, charge.id);
      expect(refunds).toHaveLength(10);
      expect(
        refunds.every((r) => r.status === 'completed' && r.payment_status === 'refunded' && r.amount === -1000),
      ).toBe(true);
      expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.id))).toEqual(
        new Set(refunds.map((r) => r.id)),
      );

      expect(requestsSince(h, mark, 'POST', REFUNDS)).toHaveLength(10);
      const atGateway = await stripeFor(h).refunds.list({ payment_intent: charge.paymentIntent, limit: 100 });
      expect(atGateway.data).toHaveLength(10);
      expect(atGateway.data.reduce((sum, r) => sum + r.amount, 0)).toBe(10000);
      expect(new Set(atGateway.data.map((r) => r.metadata?.settle_transaction_id))).toEqual(
        new Set(refunds.map((r) => r.id)),
      );
    });

    it('20 concurrent refunds of 1000 on a 10000 charge, half with their own Idempotency-Key (tx1 locked), half without (tx1 without a lock): exactly 10 succeed', async () => {
      const h = get();
      const charge = await capturedCharge(h, 10000);
      const mark = logMark(h);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          h.request(
            'POST',
            `/v1/transactions/${charge.id}/refund`,
            { amount: 1000 },
            i % 2 === 0 ? { 'Idempotency-Key': `mixed-${charge.id}-${i}` } : {},
          ),
        ),
      );
      expectTenRefunded(results);
      const after = await getTransaction(h, charge.id);
      expect(label(after)).toBe('completed/refunded');
      expect(after.refunded_amount).toBe(10000);
      expect(after.retained_amount).toBe(0);
      const refunds = await refundsOf(h, charge.id);
      expect(refunds).toHaveLength(10);
      expect(
        refunds.every((r) => r.status === 'completed' && r.payment_status === 'refunded' && r.amount === -1000),
      ).toBe(true);
      expect(requestsSince(h, mark, 'POST', REFUNDS)).toHaveLength(10);
      const atGateway = await stripeFor(h).refunds.list({ payment_intent: charge.paymentIntent, limit: 100 });
      expect(atGateway.data.reduce((sum, r) => sum + r.amount, 0)).toBe(10000);
    });

    it('capture racing release on one authorization, 10 times: one wins, the other gets 409, one call reaches the gateway', async () => {
      const h = get();
      for (let round = 0; round < 10; round += 1) {
        const charge = await authorizedCharge(h, 2000 + round);
        const actionPath = new RegExp(`^/v1/payment_intents/${charge.paymentIntent}/(capture|cancel)$`);
        const mark = logMark(h);
        const [capture, release] = await Promise.all([
          h.request('POST', `/v1/transactions/${charge.id}/capture`),
          h.request('POST', `/v1/transactions/${charge.id}/release`),
        ]);
        expect([capture.status, release.status].sort()).toEqual([200, 409]);
        const loser = capture.status === 409 ? capture : release;
        expect(loser.body.error.code).toBe('unexpected_state');
        const after = await getTransaction(h, charge.id);
        const calls = requestsSince(h, mark, 'POST', actionPath);
        expect(calls).toHaveLength(1);
        const pi = await stripeFor(h).paymentIntents.retrieve(charge.paymentIntent);
        if (capture.status === 200) {
          expect(label(after)).toBe('completed/captured');
          expect(calls[0]!.path.endsWith('/capture')).toBe(true);
          expect(pi.status).toBe('succeeded');
        } else {
          expect(label(after)).toBe('completed/uncaptured');
          expect(calls[0]!.path.endsWith('/cancel')).toBe(true);
          expect(pi.status).toBe('canceled');
        }
        const attempts = await h.deps.db
          .selectFrom('gateway_attempts')
          .select(['action', 'state'])
          .where('transaction_id', '=', charge.id)
          .execute();
        expect(attempts.filter((a) => a.action !== 'authorize')).toEqual([
          { action: capture.status === 200 ? 'capture' : 'release', state: 'succeeded' },
        ]);
      }
    });

    it('10 concurrent authorizations of one open charge: one 200, nine 409, one PaymentIntent', async () => {
      const h = get();
      const id = await openCharge(h, 4000);
      const mark = logMark(h);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => h.request('POST', `/v1/transactions/${id}/authorize`)),
      );
      const statuses = results.map((r) => r.status);
      expect(countOf(statuses, 200)).toBe(1);
      expect(countOf(statuses, 409)).toBe(9);
      for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('unexpected_state');
      const winner = results.find((r) => r.status === 200)!;
      expect(label(winner.body)).toBe('completed/authorized');
      expect(label(await getTransaction(h, id))).toBe('completed/authorized');
      expect(requestsSince(h, mark, 'POST', CREATE)).toHaveLength(1);
      const intents = await stripeFor(h).paymentIntents.search({ query: `metadata['settle_transaction_id']:'${id}'` });
      expect(intents.data.map((pi) => pi.id)).toEqual([winner.body.gateway_ref.payment_intent]);
      const attempts = await h.deps.db
        .selectFrom('gateway_attempts')
        .select('state')
        .where('transaction_id', '=', id)
        .execute();
      expect(attempts).toEqual([{ state: 'succeeded' }]);
    });

    it('10 concurrent partial captures of 1000 on a 10000 authorization: exactly one 200', async () => {
      const h = get();
      const charge = await authorizedCharge(h, 10000);
      const mark = logMark(h);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => h.request('POST', `/v1/transactions/${charge.id}/capture`, { amount: 1000 })),
      );
      const statuses = results.map((r) => r.status);
      expect(countOf(statuses, 200)).toBe(1);
      expect(countOf(statuses, 409)).toBe(9);
      for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('unexpected_state');
      const after = await getTransaction(h, charge.id);
      expect(label(after)).toBe('completed/partially_captured');
      expect(after.captured_amount).toBe(1000);
      expect(requestsSince(h, mark, 'POST', `/v1/payment_intents/${charge.paymentIntent}/capture`)).toHaveLength(1);
      const pi = await stripeFor(h).paymentIntents.retrieve(charge.paymentIntent);
      expect(pi).toMatchObject({ status: 'succeeded', amount_received: 1000 });
    });

    it('5 concurrent refunds with one Idempotency-Key, 5 times: one refund each, the others replay it or find the key in use, a later retry replays', async () => {
      const h = get();
      for (let round = 0; round < 5; round += 1) {
        const charge = await capturedCharge(h, 10000);
        const headers = { 'Idempotency-Key': `same-refund-${charge.id}` };
        const mark = logMark(h);
        // Hold the refund at the gateway for a while, so the duplicates arrive while it is under way.
        emulatorOf(h).controls.injectFault({ method: 'POST', path: REFUNDS, kind: 'delay', delayMs: 300 });
        const results = await Promise.all(
          Array.from({ length: 5 }, () =>
            h.request('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1000 }, headers),
          ),
        );
        const fresh = results.filter((r) => r.status === 201 && r.headers['idempotency-replayed'] === undefined);
        expect(fresh).toHaveLength(1);
        const refund = fresh[0]!.body;
        expect(refund).toMatchObject({ status: 'completed', payment_status: 'refunded', amount: -1000 });
        for (const r of results) {
          if (r === fresh[0]) continue;
          if (r.status === 201) {
            expect(r.headers['idempotency-replayed']).toBe('true');
            expect(r.body).toEqual(refund);
          } else {
            expect(r.status).toBe(409);
            expect(r.body.error.code).toBe('idempotency_key_in_use');
          }
        }
        // Once it is all over, the key still holds the answer: a retry replays the one refund (it must not refund again).
        const retry = await h.request('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1000 }, headers);
        expect(retry.status).toBe(201);
        expect(retry.body.id).toBe(refund.id);
        expect(retry.headers['idempotency-replayed']).toBe('true');
        expect(retry.body).toEqual(refund);

        expect((await refundsOf(h, charge.id)).map((r) => r.id)).toEqual([refund.id]);
        const after = await getTransaction(h, charge.id);
        expect(label(after)).toBe('completed/partially_refunded');
        expect(after.refunded_amount).toBe(1000);
        expect(requestsSince(h, mark, 'POST', REFUNDS)).toHaveLength(1);
        const atGateway = await stripeFor(h).refunds.list({ payment_intent: charge.paymentIntent, limit: 100 });
        expect(atGateway.data.map((r) => r.amount)).toEqual([1000]);
      }
    });
  },
  { emulator: true, poolSize: 30 },
);
