// Unknown gateway outcomes and their recovery (P12) against the Stripe emulator: a dropped answer, a 500, a call
// slower than the gateway timeout. The API answers 202 and leaves the transaction in `process`; recovery replays
// the very same request with the same idempotency key, or looks the call up, and applies what really happened:
// exactly once at the gateway, never guessed. Also: needs_review when the gateway cannot tell, the
// stuck_after_seconds check before an action, the API Idempotency-Key around unknown outcomes, and the gateway log.
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { beforeEach, expect, it } from 'vitest';
import { recoverInFlight } from '../../src/app/processing/recover.js';
import type { GatewayAttemptRow } from '../../src/store/schema.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';

const CREATE = '/v1/payment_intents';
const CAPTURE = /^\/v1\/payment_intents\/[^/]+\/capture$/;
const CANCEL = /^\/v1\/payment_intents\/[^/]+\/cancel$/;
const REFUNDS = '/v1/refunds';
const SEARCH = '/v1/payment_intents/search';
const PROCESS_MESSAGE = /outcome/i;

// ---- helpers ---------------------------------------------------------------------------------------------------

function emulatorOf(h: Harness) {
  if (!h.emulator) throw new Error('this suite needs the emulator');
  return h.emulator;
}

function stripeFor(h: Harness): Stripe {
  return new Stripe('sk_test_x', { host: '127.0.0.1', port: emulatorOf(h).port, protocol: 'http' });
}

/** drop_response twice: the SDK resends once on a dropped connection (same key), so both must be lost. */
function dropAnswer(h: Harness, path: string | RegExp): void {
  emulatorOf(h).controls.injectFault({ method: 'POST', path, kind: 'drop_response', times: 2 });
}

async function openCharge(h: Harness, amount: number): Promise<string> {
  const pm = await h.request('POST', '/v1/payment-methods', {
    gateway_token: 'pm_card_visa',
    type: 'card',
    exp_month: 12,
    exp_year: 2030,
  });
  expect(pm.status).toBe(201);
  const t = await h.request('POST', '/v1/transactions', { amount, currency: 'usd', payment_method_id: pm.body.id });
  expect(t.status).toBe(201);
  expect(t.body.status).toBe('open');
  return t.body.id as string;
}

async function authorizedCharge(h: Harness, amount: number): Promise<string> {
  const id = await openCharge(h, amount);
  const res = await h.request('POST', `/v1/transactions/${id}/authorize`);
  expect(res.status).toBe(200);
  expect([res.body.status, res.body.payment_status]).toEqual(['completed', 'authorized']);
  return id;
}

async function capturedCharge(h: Harness, amount: number): Promise<{ id: string; paymentIntent: string }> {
  const id = await openCharge(h, amount);
  const res = await h.request('POST', `/v1/transactions/${id}/capture`);
  expect(res.status).toBe(200);
  expect([res.body.status, res.body.payment_status]).toEqual(['completed', 'captured']);
  return { id, paymentIntent: res.body.gateway_ref.payment_intent as string };
}

async function getTransaction(h: Harness, id: string) {
  const res = await h.request('GET', `/v1/transactions/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

const label = (t: { status: string; payment_status: string | null }): string =>
  t.payment_status === null ? t.status : `${t.status}/${t.payment_status}`;

async function attemptsOf(h: Harness, transactionId: string): Promise<GatewayAttemptRow[]> {
  return h.deps.db
    .selectFrom('gateway_attempts')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

async function onlyAttempt(h: Harness, transactionId: string): Promise<GatewayAttemptRow> {
  const attempts = await attemptsOf(h, transactionId);
  expect(attempts).toHaveLength(1);
  return attempts[0]!;
}

async function intentsFor(h: Harness, transactionId: string): Promise<Stripe.PaymentIntent[]> {
  const found = await stripeFor(h).paymentIntents.search({
    query: `metadata['settle_transaction_id']:'${transactionId}'`,
    limit: 100,
  });
  return found.data;
}

interface LogRow {
  interaction_type: string;
  interaction_status: string;
  result_code: string;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  idempotency_key: string | null;
}

async function logsOf(h: Harness, transactionId: string): Promise<LogRow[]> {
  const res = await h.request('GET', `/v1/transactions/${transactionId}/gateway-logs?limit=200`);
  expect(res.status).toBe(200);
  return res.body.data as LogRow[];
}

const emulatorRequests = (h: Harness, method: string, path: string | RegExp) =>
  emulatorOf(h)
    .controls.requestLog()
    .filter((e) => e.method === method && (typeof path === 'string' ? e.path === path : path.test(e.path)));

/** Waits until the emulator has answered (or tried to answer) a request it received: it keeps working after our timeout. */
async function untilEmulatorFinished(h: Harness, method: string, path: string, idempotencyKey: string): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (emulatorRequests(h, method, path).some((e) => e.idempotencyKey === idempotencyKey && e.status !== 0)) return;
    await sleep(10);
  }
  throw new Error(`the emulator never finished ${method} ${path} (${idempotencyKey})`);
}

async function untilEmulatorReceived(h: Harness, method: string, path: string, count: number): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (emulatorRequests(h, method, path).length >= count) return;
    await sleep(10);
  }
  throw new Error(`the emulator never received ${method} ${path}`);
}

function expectUnknownAnswer(res: { status: number; body: any }): void {
  expect(res.status).toBe(202);
  expect(res.body.status).toBe('process');
  expect(res.body.error_message).toMatch(PROCESS_MESSAGE);
  expect(res.body.error_message).toMatch(/confirming/i);
}

// ---- the suite with a 1 s gateway timeout --------------------------------------------------------------------

describeEachDatabase(
  'recovery of unknown gateway outcomes',
  (get) => {
    beforeEach(() => {
      emulatorOf(get()).controls.clearFaults();
    });

    it('authorize with a dropped answer: 202 in process, then recovery replays the key and applies the one PaymentIntent', async () => {
      const h = get();
      const id = await openCharge(h, 5000);
      dropAnswer(h, CREATE);
      const res = await h.request('POST', `/v1/transactions/${id}/authorize`);
      expectUnknownAnswer(res);
      const inFlight = await onlyAttempt(h, id);
      expect(inFlight).toMatchObject({
        action: 'authorize',
        state: 'in_flight',
        last_outcome: 'unknown',
        idempotency_key: `settle_${inFlight.id}`,
      });
      expect(inFlight.id).toMatch(/^gatt_/);
      expect(label(await getTransaction(h, id))).toBe('process');
      // The emulator did create it, though no answer came back.
      const created = await intentsFor(h, id);
      expect(created).toHaveLength(1);

      const report = await recoverInFlight(h.deps);
      expect(report).toMatchObject({ applied: 1, reverted: 0, needs_review: 0, still_unknown: 0, errors: [] });
      const after = await getTransaction(h, id);
      expect(label(after)).toBe('completed/authorized');
      expect(after.error_message).toBeNull();
      expect(after.authorized_amount).toBe(5000);
      expect(after.gateway_ref.payment_intent).toBe(created[0]!.id);
      const intents = await intentsFor(h, id);
      expect(intents.map((pi) => [pi.id, pi.status, pi.amount])).toEqual([[created[0]!.id, 'requires_capture', 5000]]);
      const resolved = await onlyAttempt(h, id);
      expect(resolved).toMatchObject({ state: 'succeeded', last_outcome: 'succeeded' });
      expect(resolved.resolved_at).not.toBeNull();
      // Every create the emulator saw carried the attempt's one key.
      const creates = emulatorRequests(h, 'POST', CREATE).filter((e) => e.idempotencyKey === inFlight.idempotency_key);
      expect(creates.map((e) => e.status)).toEqual([0, 0, 200]);

      // The gateway log: the two lost calls (no answer) and the replay.
      const logs = await logsOf(h, id);
      const auths = logs.filter((l) => l.interaction_type === 'authorization');
      expect(auths).toHaveLength(3);
      expect(auths.every((l) => l.idempotency_key === inFlight.idempotency_key)).toBe(true);
      expect(
        auths.filter(
          (l) => l.interaction_status === 'timeout' && l.result_code === 'indeterminate' && l.http_status === null,
        ),
      ).toHaveLength(2);
      expect(
        auths.filter((l) => l.interaction_status === 'success' && l.result_code === 'success' && l.http_status === 200),
      ).toHaveLength(1);

      // Recovering again does nothing: nothing is in flight.
      expect((await recoverInFlight(h.deps)).examined).toBe(0);
    });

    it('capture with a dropped answer: 202, then recovery applies the capture the emulator made once', async () => {
      const h = get();
      const id = await authorizedCharge(h, 7000);
      dropAnswer(h, CAPTURE);
      const res = await h.request('POST', `/v1/transactions/${id}/capture`);
      expectUnknownAnswer(res);
      const attempt = (await attemptsOf(h, id)).find((a) => a.action === 'capture')!;
      expect(attempt).toMatchObject({ state: 'in_flight', last_outcome: 'unknown' });

      await recoverInFlight(h.deps);
      const after = await getTransaction(h, id);
      expect(label(after)).toBe('completed/captured');
      expect(after.captured_amount).toBe(7000);
      expect((await attemptsOf(h, id)).find((a) => a.id === attempt.id)).toMatchObject({ state: 'succeeded' });
      const [pi] = await intentsFor(h, id);
      expect(pi).toMatchObject({ status: 'succeeded', amount_received: 7000 });
      // Three capture requests reached the emulator (two lost, one replay), all with one key: captured once.
      const captures = emulatorRequests(h, 'POST', `/v1/payment_intents/${pi!.id}/capture`);
      expect(captures.map((e) => [e.idempotencyKey, e.status])).toEqual([
        [attempt.idempotency_key, 0],
        [attempt.idempotency_key, 0],
        [attempt.idempotency_key, 200],
      ]);
      const charges = await stripeFor(h).charges.list({ payment_intent: pi!.id });
      expect(charges.data.map((c) => [c.captured, c.amount_captured])).toEqual([[true, 7000]]);

      const logs = await logsOf(h, id);
      const captureLogs = logs.filter((l) => l.interaction_type === 'capture');
      expect(captureLogs.map((l) => l.interaction_status).sort()).toEqual(['success', 'timeout', 'timeout']);
      expect(
        captureLogs.filter((l) => l.interaction_status === 'timeout').every((l) => l.result_code === 'indeterminate'),
      ).toBe(true);
    });

    it('release with a dropped answer: 202, then recovery applies the cancellation', async () => {
      const h = get();
      const id = await authorizedCharge(h, 3000);
      dropAnswer(h, CANCEL);
      const res = await h.request('POST', `/v1/transactions/${id}/release`);
      expectUnknownAnswer(res);
      const attempt = (await attemptsOf(h, id)).find((a) => a.action === 'release')!;
      expect(attempt).toMatchObject({ state: 'in_flight', last_outcome: 'unknown' });

      await recoverInFlight(h.deps);
      const after = await getTransaction(h, id);
      expect(label(after)).toBe('completed/uncaptured');
      expect(after.uncaptured_method).toBe('manual');
      expect((await attemptsOf(h, id)).find((a) => a.id === attempt.id)).toMatchObject({ state: 'succeeded' });
      const [pi] = await intentsFor(h, id);
      expect(pi?.status).toBe('canceled');
      const cancels = emulatorRequests(h, 'POST', `/v1/payment_intents/${pi!.id}/cancel`);
      expect(new Set(cancels.map((e) => e.idempotencyKey))).toEqual(new Set([attempt.idempotency_key]));
      const logs = await logsOf(h, id);
      const reversals = logs.filter((l) => l.interaction_type === 'authorization_reversal');
      expect(reversals.map((l) => `${l.interaction_status}/${l.result_code}`).sort()).toEqual([
        'success/success',
        'timeout/indeterminate',
        'timeout/indeterminate',
      ]);
    });

    it('refund with a dropped answer: 202, counted against the refundable amount while in flight, then applied once', async () => {
      const h = get();
      const charge = await capturedCharge(h, 10000);
      dropAnswer(h, REFUNDS);
      const res = await h.request('POST', `/v1/transactions/${charge.id}/refund`, { amount: 4000 });
      expectUnknownAnswer(res);
      expect(res.body).toMatchObject({ transaction_type: 'refund', amount: -4000, original_transaction_id: charge.id });
      const refundId = res.body.id as string;
      const attempt = await onlyAttempt(h, refundId);
      expect(attempt).toMatchObject({
        action: 'refund',
        charge_transaction_id: charge.id,
        state: 'in_flight',
        last_outcome: 'unknown',
      });

      // 6000 is left once the 4000 in flight is counted: 7000 is refused (it would fit without the in-flight one).
      const tooMuch = await h.request('POST', `/v1/transactions/${charge.id}/refund`, { amount: 7000 });
      expect(tooMuch.status).toBe(400);
      expect(tooMuch.body.error.code).toBe('amount_exceeds_refundable');
      expect(label(await getTransaction(h, charge.id))).toBe('completed/captured');

      await recoverInFlight(h.deps);
      const refund = await getTransaction(h, refundId);
      expect(label(refund)).toBe('completed/refunded');
      expect(refund.gateway_ref.refund).toMatch(/^re_/);
      const after = await getTransaction(h, charge.id);
      expect(label(after)).toBe('completed/partially_refunded');
      expect(after.refunded_amount).toBe(4000);
      expect(after.retained_amount).toBe(6000);
      expect(await onlyAttempt(h, refundId)).toMatchObject({ state: 'succeeded' });
      const refunds = await stripeFor(h).refunds.list({ payment_intent: charge.paymentIntent, limit: 100 });
      expect(refunds.data.map((r) => [r.id, r.amount, r.metadata?.settle_transaction_id])).toEqual([
        [refund.gateway_ref.refund, 4000, refundId],
      ]);

      const logs = await logsOf(h, refundId);
      const refundLogs = logs.filter((l) => l.interaction_type === 'referenced_refund');
      expect(refundLogs.map((l) => `${l.interaction_status}/${l.result_code}`).sort()).toEqual([
        'success/success',
        'timeout/indeterminate',
        'timeout/indeterminate',
      ]);
    });

    it('a 500 on create (nothing happened): still_unknown while the search may lag, reverted to open after 60 s, then a new authorize works', async () => {
      const h = get();
      const id = await openCharge(h, 2500);
      emulatorOf(h).controls.injectFault({ method: 'POST', path: CREATE, kind: 'server_error' });
      const res = await h.request('POST', `/v1/transactions/${id}/authorize`);
      expectUnknownAnswer(res);
      const first = await onlyAttempt(h, id);
      expect(first).toMatchObject({ state: 'in_flight', last_outcome: 'unknown' });
      expect(await intentsFor(h, id)).toHaveLength(0);

      // The replay gets the stored 500; the search finds nothing, but that proves nothing within 60 s.
      const early = await recoverInFlight(h.deps);
      expect(early).toMatchObject({ examined: 1, applied: 0, reverted: 0, still_unknown: 1 });
      expect(label(await getTransaction(h, id))).toBe('process');
      expect(await onlyAttempt(h, id)).toMatchObject({
        state: 'in_flight',
        recovery_tries: 1,
        last_outcome: 'unknown',
      });

      h.clock.advance(61_000);
      const late = await recoverInFlight(h.deps);
      expect(late).toMatchObject({ examined: 1, reverted: 1, still_unknown: 0 });
      const reverted = await getTransaction(h, id);
      expect(label(reverted)).toBe('open');
      expect(reverted.error_message).toBeNull();
      expect(await onlyAttempt(h, id)).toMatchObject({ state: 'reverted', last_outcome: 'nothing' });

      const again = await h.request('POST', `/v1/transactions/${id}/authorize`);
      expect(again.status).toBe(200);
      expect(label(again.body)).toBe('completed/authorized');
      const attempts = await attemptsOf(h, id);
      expect(attempts.map((a) => a.state)).toEqual(['reverted', 'succeeded']);
      expect(attempts[1]!.idempotency_key).not.toBe(attempts[0]!.idempotency_key);
      const intents = await intentsFor(h, id);
      expect(intents.map((pi) => [pi.id, pi.status])).toEqual([
        [again.body.gateway_ref.payment_intent, 'requires_capture'],
      ]);

      // The log: the 500 and its two replays (answered: failed/system_error, not lost) and the two lookups (sync).
      const logs = await logsOf(h, id);
      const firstKey = logs.filter((l) => l.idempotency_key === first.idempotency_key);
      expect(firstKey.map((l) => [l.interaction_type, l.interaction_status, l.result_code, l.http_status])).toEqual(
        Array(3).fill(['authorization', 'failed', 'system_error', 500]),
      );
      const lookups = logs.filter((l) => l.interaction_type === 'sync');
      expect(lookups).toHaveLength(2);
      expect(
        lookups.every((l) => l.http_method === 'GET' && l.http_path === SEARCH && l.interaction_status === 'success'),
      ).toBe(true);
      expect(
        logs.filter((l) => l.idempotency_key === attempts[1]!.idempotency_key).map((l) => l.interaction_status),
      ).toEqual(['success']);
    });

    it('a call slower than the gateway timeout: 202, and once the emulator finished, recovery resolves it from the replay', async () => {
      const h = get();
      const id = await openCharge(h, 4200);
      emulatorOf(h).controls.injectFault({ method: 'POST', path: CREATE, kind: 'delay', delayMs: 1800 });
      const res = await h.request('POST', `/v1/transactions/${id}/authorize`);
      expectUnknownAnswer(res);
      const attempt = await onlyAttempt(h, id);
      expect(attempt).toMatchObject({ state: 'in_flight', last_outcome: 'unknown' });

      await untilEmulatorFinished(h, 'POST', CREATE, attempt.idempotency_key);
      const report = await recoverInFlight(h.deps);
      expect(report).toMatchObject({ examined: 1, applied: 1 });
      const after = await getTransaction(h, id);
      expect(label(after)).toBe('completed/authorized');
      const intents = await intentsFor(h, id);
      expect(intents.map((pi) => pi.id)).toEqual([after.gateway_ref.payment_intent]);
      expect(await onlyAttempt(h, id)).toMatchObject({ state: 'succeeded' });
      // The timed-out call is logged without an answer; the replay with the same key succeeded.
      const auths = (await logsOf(h, id)).filter((l) => l.interaction_type === 'authorization');
      expect(auths.every((l) => l.idempotency_key === attempt.idempotency_key)).toBe(true);
      expect(
        auths.some(
          (l) => l.interaction_status === 'timeout' && l.result_code === 'indeterminate' && l.http_status === null,
        ),
      ).toBe(true);
      expect(auths.filter((l) => l.interaction_status === 'success')).toHaveLength(1);
    });

    it('needs_review: the replay gets a 500 and the lookup fails; after maxTries the transaction waits for a human', async () => {
      const h = get();
      const id = await openCharge(h, 1900);
      const controls = emulatorOf(h).controls;
      controls.injectFault({ method: 'POST', path: CREATE, kind: 'server_error' });
      expectUnknownAnswer(await h.request('POST', `/v1/transactions/${id}/authorize`));
      controls.injectFault({ method: 'GET', path: SEARCH, kind: 'server_error', times: 1000 });

      expect(await recoverInFlight(h.deps, { maxTries: 2 })).toMatchObject({
        examined: 1,
        still_unknown: 1,
        needs_review: 0,
      });
      expect(label(await getTransaction(h, id))).toBe('process');
      expect(await onlyAttempt(h, id)).toMatchObject({ state: 'in_flight', recovery_tries: 1 });

      expect(await recoverInFlight(h.deps, { maxTries: 2 })).toMatchObject({
        examined: 1,
        still_unknown: 0,
        needs_review: 1,
      });
      const after = await getTransaction(h, id);
      expect(after.status).toBe('needs_review');
      expect(after.error_code).toBe('outcome_unknown');
      expect(after.error_message).toMatch(/after 2 tries/);
      expect(after.error_message).toMatch(/lookup by transaction id failed/);
      const attempt = await onlyAttempt(h, id);
      expect(attempt).toMatchObject({ state: 'needs_review', recovery_tries: 2 });
      expect(attempt.error_message).toMatch(/lookup by transaction id failed/);
      // Nothing is in flight any more, so later recoveries leave it alone; an action on it is refused.
      expect((await recoverInFlight(h.deps)).examined).toBe(0);
      const capture = await h.request('POST', `/v1/transactions/${id}/capture`);
      expect(capture.status).toBe(409);
      expect(capture.body.error).toMatchObject({ code: 'unexpected_state', current: 'needs_review' });
      // The failed lookups are in the gateway log as syncs.
      const lookups = (await logsOf(h, id)).filter((l) => l.interaction_type === 'sync');
      expect(lookups).toHaveLength(2);
      expect(
        lookups.every((l) => l.http_path === SEARCH && l.http_status === 500 && l.interaction_status === 'failed'),
      ).toBe(true);
      controls.clearFaults();
    });

    it('stuck_after_seconds: an action on a transaction in process is refused until it is stuck, then recovers it first and runs', async () => {
      const h = get();
      const id = await openCharge(h, 6100);
      dropAnswer(h, CREATE);
      expectUnknownAnswer(await h.request('POST', `/v1/transactions/${id}/authorize`));
      const patched = await h.request('PATCH', '/v1/settings', { stuck_after_seconds: 30 });
      expect(patched.status).toBe(200);
      try {
        h.clock.advance(29_000);
        const early = await h.request('POST', `/v1/transactions/${id}/capture`);
        expect(early.status).toBe(409);
        expect(early.body.error).toMatchObject({ code: 'unexpected_state', current: 'process' });
        expect((await onlyAttempt(h, id)).state).toBe('in_flight');

        h.clock.advance(2_000);
        const late = await h.request('POST', `/v1/transactions/${id}/capture`);
        expect(late.status).toBe(200);
        expect(label(late.body)).toBe('completed/captured');
        expect(late.body.captured_amount).toBe(6100);
        const attempts = await attemptsOf(h, id);
        expect(attempts.map((a) => [a.action, a.state])).toEqual([
          ['authorize', 'succeeded'],
          ['capture', 'succeeded'],
        ]);
        const history = await h.request('GET', `/v1/transactions/${id}/history?limit=100`);
        const actions = (history.body.data as { action: string; actor: string }[]).map((e) => e.action);
        // The authorization was applied by recovery before the capture started.
        const recovered = actions.findIndex((a) => a.startsWith('authorize succeeded (recovery)'));
        const captureStarted = actions.findIndex((a) => a.startsWith('capture started'));
        expect(recovered).toBeGreaterThanOrEqual(0);
        expect(captureStarted).toBeGreaterThan(recovered);
        expect(await intentsFor(h, id)).toHaveLength(1);
      } finally {
        await h.request('PATCH', '/v1/settings', { stuck_after_seconds: 300 });
      }
    });

    it('Idempotency-Key with a dropped answer: the key stays in use (409) until recovery stores the final answer, which a retry then replays', async () => {
      const h = get();
      const id = await openCharge(h, 3300);
      const key = `recovery-202-${id}`;
      const headers = { 'Idempotency-Key': key };
      dropAnswer(h, CREATE);
      const first = await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers);
      expectUnknownAnswer(first);
      const attempt = await onlyAttempt(h, id);
      expect(attempt.api_idempotency_key).toBe(key);
      // The 202 is not an answer: the key is left `running`, as after a crash between tx1 and tx2.
      const keyRow = await h.deps.db
        .selectFrom('idempotency_keys')
        .select(['state', 'response_status'])
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      expect(keyRow).toEqual({ state: 'running', response_status: null });

      const whileUnknown = await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers);
      expect(whileUnknown.status).toBe(409);
      expect(whileUnknown.body.error.code).toBe('idempotency_key_in_use');
      expect(label(await getTransaction(h, id))).toBe('process');

      await recoverInFlight(h.deps);
      const recovered = await getTransaction(h, id);
      expect(label(recovered)).toBe('completed/authorized');
      const replay = await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers);
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(label(replay.body)).toBe('completed/authorized');
      expect(replay.body.error_message).toBeNull();
      expect(replay.body.gateway_ref.payment_intent).toBe(recovered.gateway_ref.payment_intent);
      expect(await intentsFor(h, id)).toHaveLength(1);
      expect(
        emulatorRequests(h, 'POST', CREATE).filter((e) => e.idempotencyKey === attempt.idempotency_key),
      ).toHaveLength(3);
    });

    it('Idempotency-Key with an unknown that turns out to be nothing: recovery releases the key, a retry runs afresh', async () => {
      const h = get();
      const id = await openCharge(h, 3500);
      const key = `recovery-release-${id}`;
      const headers = { 'Idempotency-Key': key };
      emulatorOf(h).controls.injectFault({ method: 'POST', path: CREATE, kind: 'server_error' });
      expectUnknownAnswer(await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers));
      h.clock.advance(61_000);
      expect(await recoverInFlight(h.deps)).toMatchObject({ reverted: 1 });
      expect(label(await getTransaction(h, id))).toBe('open');
      const retry = await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotency-replayed']).toBeUndefined();
      expect(label(retry.body)).toBe('completed/authorized');
      expect(await intentsFor(h, id)).toHaveLength(1);
    });
  },
  { emulator: true, gatewayTimeoutMs: 1000 },
);

// ---- a duplicate while the gateway call is under way (a longer timeout, so the slow call still answers) ----------

describeEachDatabase(
  'Idempotency-Key while the gateway call is under way',
  (get) => {
    beforeEach(() => {
      emulatorOf(get()).controls.clearFaults();
    });

    it('the same request with the same key during the call gets 409 idempotency_key_in_use; the first completes once', async () => {
      const h = get();
      const id = await openCharge(h, 2200);
      const headers = { 'Idempotency-Key': `in-use-${id}` };
      const before = emulatorRequests(h, 'POST', CREATE).length;
      emulatorOf(h).controls.injectFault({ method: 'POST', path: CREATE, kind: 'delay', delayMs: 2500 });
      const [first, second] = await Promise.all([
        h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers),
        // Sent once the first one's gateway call has reached the emulator (it is held there by the delay).
        untilEmulatorReceived(h, 'POST', CREATE, before + 1).then(() =>
          h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers),
        ),
      ]);
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('idempotency_key_in_use');
      expect(first.status).toBe(200);
      expect(label(first.body)).toBe('completed/authorized');
      // Afterwards the key replays the first answer.
      const third = await h.request('POST', `/v1/transactions/${id}/authorize`, undefined, headers);
      expect(third.status).toBe(200);
      expect(third.headers['idempotency-replayed']).toBe('true');
      expect(third.body).toEqual(first.body);
      expect(emulatorRequests(h, 'POST', CREATE)).toHaveLength(before + 1);
      expect(await intentsFor(h, id)).toHaveLength(1);
    });
  },
  { emulator: true, gatewayTimeoutMs: 20_000 },
);
