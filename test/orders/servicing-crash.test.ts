// Ensure funds and ensure refunds (issue 20, O4) when the process dies in the middle of a request with an
// Idempotency-Key. tx1 starts several gateway attempts (one per capture or refund) and records them under the key
// (order_requests); the key stays `running` until the response is stored after the calls. A retry of that key while
// it is young is 409 idempotency_key_in_use; once the runner treats the key as abandoned (older than
// RUNNING_KEY_ABANDONED_MS, no attempt carrying it), the retry RESUMES the recorded attempts (recovering those still in
// flight) and answers from them. It never plans again: nothing is captured or refunded twice, and no new attempt is
// made.
//
// The crash is simulated at the one place a request hands over from tx1 to its calls: the command runner's runAction
// (h.deps.commands, the instance the routes use) runs the request's real tx1 and then, instead of the request's own
// continuation, either nothing ('before_calls': tx1 committed, no call made) or the continuation without its final
// store ('before_store': every call made and its tx2 committed, the response never stored). Either way the database
// is left exactly as a process that died at that point leaves it: the key `running`, the attempts in flight or
// resolved. The first client's answer is a placeholder (a dead process answers nothing) that no assertion relies on.
// The key is made old by moving its created_at back 16 minutes: the runner compares it with the wall clock
// (command-runner.ts `abandoned`), not with the harness clock.
import { afterEach, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import type { CommandResult, CommandRunner } from '../../src/app/command-runner.js';
import { describeEachDatabase, type ApiResponse, type Harness } from '../support/harness.js';
import {
  amounts,
  authorizedCharge,
  authorizedOrder,
  countRows,
  emulatorOf,
  expectError,
  expectExact,
  expectReplay,
  expectStatus,
  gatewayMark,
  getTransaction,
  newOrder,
  orderAction,
  orderActions,
  stripeOf,
  summaries,
  type Json,
} from './support.js';

const COUNTED = ['transactions', 'gateway_attempts', 'order_requests', 'idempotency_keys'] as const;

const rowCounts = (h: Harness) => countRows(h, COUNTED);

type CrashPoint = 'before_calls' | 'before_store';

/** What the dead process's client is given (it would have had no answer at all). */
const CRASHED: CommandResult<unknown> = { status: 599, body: { simulated: 'the process died' } };

/**
 * The next request that runs through the command runner's runAction dies at `point` (see the top of this file).
 * `computed()` is the response the request had computed when it died before storing it ('before_store').
 */
function crashNextRequest(h: Harness, point: CrashPoint): { computed: () => CommandResult<unknown> } {
  const runner: CommandRunner = h.deps.commands;
  const runAction = runner.runAction.bind(runner);
  let computed: CommandResult<unknown> | undefined;
  const dying = ((idempotency, begin, finish) =>
    runAction(idempotency, begin, async (continuation) => {
      if (point === 'before_store') computed = await finish(continuation, undefined);
      return CRASHED as never;
    })) as CommandRunner['runAction'];
  vi.spyOn(runner, 'runAction').mockImplementationOnce(dying);
  return {
    computed: () => {
      if (!computed) throw new Error('the request did not get as far as its response');
      return computed;
    },
  };
}

/** Runs `request` dying at `point` (crashNextRequest); its client gets the placeholder answer. */
async function crashDuring(
  h: Harness,
  point: CrashPoint,
  request: () => Promise<ApiResponse>,
): Promise<{ computed: () => CommandResult<unknown> }> {
  const crash = crashNextRequest(h, point);
  expect((await request()).status).toBe(CRASHED.status);
  return crash;
}

/**
 * Two authorizations, a (3000) and b (2000), and a spare (6000) on a new order, and a capture of 5000 under a new key
 * `${name}-${kind}-${order}` that died before any call. Planning that request again would capture 5000 of the spare
 * (a second charge); resuming it never touches the spare. `mark` is where the emulator's request log stood before.
 */
async function captureDiedBeforeCalls(h: Harness, name: string) {
  const {
    order,
    charges: [a, b, spare],
  } = await authorizedOrder(h, [3000, 2000, 6000]);
  const key = `${name}-${h.kind}-${order}`;
  const mark = gatewayMark(h);
  await crashDuring(h, 'before_calls', () => orderAction(h, 'capture', order, { amount: 5000 }, key));
  return { order, a, b, spare, key, mark };
}

/** The state a process that died leaves the key in: `running`, with no response. */
async function keyState(h: Harness, key: string): Promise<string | undefined> {
  const row = await h.deps.db.selectFrom('idempotency_keys').select('state').where('key', '=', key).executeTakeFirst();
  return row?.state;
}

/** Makes the key older than RUNNING_KEY_ABANDONED_MS (15 minutes) as the runner measures it. */
async function ageKey(h: Harness, key: string): Promise<void> {
  const aged = await h.deps.db
    .updateTable('idempotency_keys')
    .set({ created_at: sql<Date>`now() - interval '16 minutes'` })
    .where('key', '=', key)
    .executeTakeFirst();
  expect(Number(aged.numUpdatedRows)).toBe(1);
}

async function orderRequest(h: Harness, key: string): Promise<Json | undefined> {
  return h.deps.db
    .selectFrom('order_requests')
    .select(['order_id', 'kind', 'attempt_ids', 'amounts'])
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

async function attemptsOf(h: Harness, ids: readonly string[]): Promise<Json[]> {
  const rows = await h.deps.db
    .selectFrom('gateway_attempts')
    .select(['id', 'transaction_id', 'action', 'state', 'idempotency_key'])
    .where('id', 'in', ids)
    .execute();
  return ids.map((id) => rows.find((r) => r.id === id)!);
}

/** The amounts of the order's one summary. */
async function summaryAmounts(h: Harness, orderId: string): Promise<Json> {
  const list = await summaries(h, orderId);
  expect(list).toHaveLength(1);
  return amounts(list[0]!);
}

/** The gateway requests made since `mark` (method and path), and how many. */
function requestsSince(h: Harness, mark: number) {
  return emulatorOf(h)
    .controls.requestLog()
    .slice(mark)
    .map((e) => ({ method: e.method, path: e.path, status: e.status, key: e.idempotencyKey }));
}

const capturePath = (t: Json) => `/v1/payment_intents/${t.gateway_ref.payment_intent}/capture`;

describeEachDatabase(
  'order ensure funds and ensure refunds after a crash',
  (get) => {
    const { capture, refund } = orderActions(get);

    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('a crash before any call: a young retry is in use; the abandoned retry resumes the same two captures once', async () => {
      const h = get();
      const { order, a, b, spare, key, mark } = await captureDiedBeforeCalls(h, 'crash-calls');
      // What the dead process left: tx1 committed (two attempts in flight, recorded under the key), nothing sent.
      expect(await keyState(h, key)).toBe('running');
      const recorded = await orderRequest(h, key);
      expect(recorded).toMatchObject({ order_id: order, kind: 'capture' });
      expect(recorded!.amounts.map(Number)).toEqual([3000, 2000]);
      const attempts = await attemptsOf(h, recorded!.attempt_ids);
      expect(attempts.map((x) => [x.transaction_id, x.action, x.state])).toEqual([
        [a.id, 'capture', 'in_flight'],
        [b.id, 'capture', 'in_flight'],
      ]);
      expect(requestsSince(h, mark)).toEqual([]);
      const counts = await rowCounts(h);

      // Young: the first request may still be running.
      expectError(await capture(order, { amount: 5000 }, key), 409, 'idempotency_key_in_use');
      // Another request on the order meanwhile: a and b are being captured, only the spare is available.
      expectError(await capture(order, { amount: 6001 }), 400, 'amount_exceeds_available');
      expect(await rowCounts(h)).toEqual(counts);

      await ageKey(h, key);
      // The key with another body: the runner's hash check, as for any key.
      expectError(await capture(order, { amount: 4999 }, key), 409, 'idempotency_key_reused');

      const resumed = await capture(order, { amount: 5000 }, key);
      expectStatus(resumed, 200);
      expect(resumed.headers['idempotency-replayed']).toBeUndefined();
      expect(resumed.body).toMatchObject({ order_id: order, amount: 5000, captured_amount: 5000, pending_amount: 0 });
      expect(
        resumed.body.captures.map((x: Json) => [
          x.transaction_id,
          x.amount,
          x.status,
          x.status_code,
          x.released_amount,
        ]),
      ).toEqual([
        [a.id, 3000, 'succeeded', 200, 0],
        [b.id, 2000, 'succeeded', 200, 0],
      ]);
      // No new attempt, nothing planned again: recovery replayed each recorded attempt with its own gateway key.
      expect(await rowCounts(h)).toEqual({ ...counts });
      expect(requestsSince(h, mark).filter((r) => r.method === 'POST')).toEqual([
        { method: 'POST', path: capturePath(a), status: 200, key: attempts[0]!.idempotency_key },
        { method: 'POST', path: capturePath(b), status: 200, key: attempts[1]!.idempotency_key },
      ]);
      const stripe = stripeOf(h);
      for (const [t, amount] of [
        [a, 3000],
        [b, 2000],
      ] as const) {
        const pi = await stripe.paymentIntents.retrieve(t.gateway_ref.payment_intent);
        expect([pi.status, pi.amount_received]).toEqual(['succeeded', amount]);
      }
      expect(await keyState(h, key)).toBe('done');
      expect(await summaryAmounts(h, order)).toMatchObject({
        authorized_amount: 11000,
        captured_amount: 5000,
        pending_amount: 0,
        available_to_capture: 6000,
      });
      expect((await getTransaction(h, spare.id)).payment_status).toBe('authorized');

      expectReplay(await capture(order, { amount: 5000 }, key), resumed.body);
      await expectExact(h);
    });

    it('a crash after the calls, before the response was stored: the retry answers what the first run computed, calling nothing', async () => {
      const h = get();
      // Spare: planning the request again would capture it whole (a second charge of 5000).
      const {
        order,
        charges: [a, b, spare],
      } = await authorizedOrder(h, [3000, 4000, 5000]);
      const key = `crash-store-${h.kind}-${order}`;

      const crash = await crashDuring(h, 'before_store', () => capture(order, { amount: 5000 }, key));
      // Every capture happened (a whole, b partially: the gateway released its other 2000) and was applied.
      const computed = crash.computed();
      expect(computed.status).toBe(200);
      expect(
        (computed.body as Json).captures.map((x: Json) => [x.transaction_id, x.amount, x.status, x.released_amount]),
      ).toEqual([
        [a.id, 3000, 'succeeded', 0],
        [b.id, 2000, 'succeeded', 2000],
      ]);
      expect(await keyState(h, key)).toBe('running');
      const recorded = await orderRequest(h, key);
      expect((await attemptsOf(h, recorded!.attempt_ids)).map((x) => x.state)).toEqual(['succeeded', 'succeeded']);
      const counts = await rowCounts(h);

      expectError(await capture(order, { amount: 5000 }, key), 409, 'idempotency_key_in_use');

      await ageKey(h, key);
      const mark = gatewayMark(h);
      const resumed = await capture(order, { amount: 5000 }, key);
      expectStatus(resumed, 200);
      // The very answer the first run would have stored; nothing sent to the gateway, nothing written but the key.
      expect(resumed.body).toEqual(computed.body);
      expect(requestsSince(h, mark)).toEqual([]);
      expect(await rowCounts(h)).toEqual(counts);
      expect(await keyState(h, key)).toBe('done');
      expect((await getTransaction(h, b.id)).captured_amount).toBe(2000);
      expect((await getTransaction(h, spare.id)).payment_status).toBe('authorized');
      expect(await summaryAmounts(h, order)).toMatchObject({
        authorized_amount: 12000,
        captured_amount: 5000,
        available_to_capture: 5000,
      });
      expectReplay(await capture(order, { amount: 5000 }, key), computed.body);
      await expectExact(h);
    });

    it('ensure refunds: after the calls, the retry answers the same refunds; before them, recovery makes each once', async () => {
      const h = get();
      const {
        order,
        charges: [a, b, c],
      } = await authorizedOrder(h, [3000, 2000, 3000]);
      expectStatus(await capture(order, { amount: 8000 }), 200);
      const stripe = stripeOf(h);
      const refundsAt = async (t: Json) =>
        (await stripe.refunds.list({ payment_intent: t.gateway_ref.payment_intent })).data.map((r) => r.amount);

      // Died after the calls: newest first, c whole (3000) then 1000 of b. Planning it again would refund 4000 more
      // (b's other 1000 and a's 3000): a second refund.
      const key = `crash-refund-store-${h.kind}-${order}`;
      const crash = await crashDuring(h, 'before_store', () => refund(order, { amount: 4000 }, key));
      const computed = crash.computed().body as Json;
      expect(computed.refunds.map((x: Json) => [x.charge_transaction_id, x.amount, x.status])).toEqual([
        [c.id, 3000, 'succeeded'],
        [b.id, 1000, 'succeeded'],
      ]);
      expect(await keyState(h, key)).toBe('running');
      const counts = await rowCounts(h);
      await ageKey(h, key);
      let mark = gatewayMark(h);
      const resumed = await refund(order, { amount: 4000 }, key);
      expectStatus(resumed, 200);
      expect(resumed.body).toEqual(computed);
      expect(requestsSince(h, mark)).toEqual([]);
      expect(await rowCounts(h)).toEqual(counts);
      expect(await refundsAt(c)).toEqual([3000]);
      expect(await refundsAt(b)).toEqual([1000]);
      expect(await refundsAt(a)).toEqual([]);

      // Died before the calls: the refund of b's last 1000 is in flight; recovery makes it, once, with its own gateway
      // key (planning again would refund 1000 of a instead).
      const key2 = `crash-refund-calls-${h.kind}-${order}`;
      mark = gatewayMark(h);
      await crashDuring(h, 'before_calls', () => refund(order, { amount: 1000 }, key2));
      expect(requestsSince(h, mark)).toEqual([]);
      const recorded = await orderRequest(h, key2);
      const [inFlight] = await attemptsOf(h, recorded!.attempt_ids);
      expect([inFlight!.action, inFlight!.state]).toEqual(['refund', 'in_flight']);
      // The refund in flight counts against its charge: only a's 3000 is left to refund.
      expectError(await refund(order, { amount: 3001 }), 400, 'amount_exceeds_refundable');
      const before = await rowCounts(h);
      await ageKey(h, key2);
      const second = await refund(order, { amount: 1000 }, key2);
      expectStatus(second, 200);
      expect(second.body).toMatchObject({ refunded_amount: 1000, pending_amount: 0 });
      expect(second.body.refunds).toMatchObject([
        { transaction_id: inFlight!.transaction_id, charge_transaction_id: b.id, amount: 1000, status: 'succeeded' },
      ]);
      expect(await rowCounts(h)).toEqual(before);
      expect(requestsSince(h, mark).filter((r) => r.method === 'POST')).toEqual([
        { method: 'POST', path: '/v1/refunds', status: 200, key: inFlight!.idempotency_key },
      ]);
      expect(await refundsAt(b)).toEqual([1000, 1000]);
      expect(await refundsAt(a)).toEqual([]);
      expect(await summaryAmounts(h, order)).toMatchObject({
        captured_amount: 8000,
        refunded_amount: 5000,
        available_to_refund: 3000,
      });
      await expectExact(h);
    });

    it('a key released after its tx1 resumes too; the key for another order, kind or amount is refused', async () => {
      const h = get();
      // Spare: planning the request again would capture it (a second charge of 3000).
      const {
        order,
        pm,
        charges: [a, spare],
      } = await authorizedOrder(h, [3000, 3000]);
      const otherOrder = await newOrder(h);
      await authorizedCharge(h, otherOrder, pm, 3000);
      const key = `crash-released-${h.kind}-${order}`;
      await crashDuring(h, 'before_calls', () => capture(order, { amount: 3000 }, key));
      // The runner releases (deletes) the key of a request whose continuation failed after tx1: the request's own
      // record of its attempts is then all that stands between a retry and a second capture.
      await h.deps.db.deleteFrom('idempotency_keys').where('key', '=', key).execute();
      const counts = await rowCounts(h);
      for (const [label, res] of [
        ['another order', await capture(otherOrder, { amount: 3000 }, key)],
        ['another kind', await refund(order, { amount: 3000 }, key)],
        ['another amount', await capture(order, { amount: 2999 }, key)],
      ] as const) {
        expect(res.status, label).toBe(409);
        expect(res.body.error.code, label).toBe('idempotency_key_reused');
      }
      expect(await rowCounts(h)).toEqual(counts);

      const resumed = await capture(order, { amount: 3000 }, key);
      expectStatus(resumed, 200);
      expect(resumed.body.captures).toMatchObject([{ transaction_id: a.id, amount: 3000, status: 'succeeded' }]);
      expect(await rowCounts(h)).toEqual({ ...counts, idempotency_keys: counts.idempotency_keys + 1 });
      expect((await getTransaction(h, a.id)).captured_amount).toBe(3000);
      expect((await getTransaction(h, spare.id)).payment_status).toBe('authorized');
      await expectExact(h);
    });

    // Last: it moves the harness clock (and the emulator's) a day on.
    it('a crash before any call, retried after the gateway forgot the keys: recovery proves nothing happened, nothing is captured', async () => {
      const h = get();
      const { order, a, b, spare, key, mark } = await captureDiedBeforeCalls(h, 'crash-forgotten');
      const counts = await rowCounts(h);
      await ageKey(h, key);
      // Past recovery's replay window (23 hours): it asks the gateway instead, which still holds both authorizations.
      h.clock.advance(24 * 60 * 60 * 1000);

      const resumed = await capture(order, { amount: 5000 }, key);
      expectStatus(resumed, 200);
      expect(resumed.body).toMatchObject({ captured_amount: 0, pending_amount: 0 });
      expect(
        resumed.body.captures.map((x: Json) => [
          x.transaction_id,
          x.amount,
          x.status,
          x.status_code,
          x.released_amount,
          x.error.code,
        ]),
      ).toEqual([
        [a.id, 3000, 'failed', 503, 0, 'not_performed'],
        [b.id, 2000, 'failed', 503, 0, 'not_performed'],
      ]);
      expect(await rowCounts(h)).toEqual(counts);
      expect(requestsSince(h, mark).filter((r) => r.method === 'POST')).toEqual([]);
      for (const t of [a, b]) {
        expect((await getTransaction(h, t.id)).payment_status).toBe('authorized');
        const pi = await stripeOf(h).paymentIntents.retrieve(t.gateway_ref.payment_intent);
        expect([pi.status, pi.amount_received]).toEqual(['requires_capture', 0]);
      }
      expect((await getTransaction(h, spare.id)).payment_status).toBe('authorized');
      expect(await summaryAmounts(h, order)).toMatchObject({ captured_amount: 0, available_to_capture: 11000 });

      // The request was answered (its key replays that answer); a new request captures them, once.
      const replay = await capture(order, { amount: 5000 }, key);
      expect(replay.body).toEqual(resumed.body);
      const fresh = await capture(order, { amount: 5000 }, `${key}-again`);
      expectStatus(fresh, 200);
      expect(fresh.body.captures.map((x: Json) => [x.transaction_id, x.status])).toEqual([
        [a.id, 'succeeded'],
        [b.id, 'succeeded'],
      ]);
      expect(await summaryAmounts(h, order)).toMatchObject({ captured_amount: 5000, available_to_capture: 6000 });
      await expectExact(h);
    });
  },
  { emulator: true },
);
