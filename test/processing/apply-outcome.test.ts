// tx2 for outcomes the emulator does not produce yet: a payment the gateway holds as `processing` (a bank debit,
// P9) and a refund it holds as `pending` (P5). The attempt is recorded by the real tx1 code; the outcome is given.
import { expect, it } from 'vitest';
import { ensureDefaultEmulatorGateway } from '../../src/app/gateway-records.js';
import type { GatewayPayment, GatewayRefund } from '../../src/app/gateway-port.js';
import { applyAttemptOutcome, RowMoved } from '../../src/app/processing/apply-outcome.js';
import type { GatewayLogRecord } from '../../src/app/gateway-log.js';
import { recordAttempt, type Plan } from '../../src/app/processing/run-action.js';
import { refundableAmount } from '../../src/domain/amounts.js';
import type { GatewayRow } from '../../src/store/schema.js';
import { lockTransaction, sumRefundsInFlight } from '../../src/store/transactions-repo.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';

const refs = { payment_intent: 'pi_pending123', charge: 'ch_pending123', balance_transaction: null, refund: null };

let payments = 0;

/** A payment as the gateway would hold it; each one a PaymentIntent of its own unless `refs` says otherwise. */
function payment(overrides: Partial<GatewayPayment>): GatewayPayment {
  payments += 1;
  return {
    refs: { ...refs, payment_intent: `pi_pending${payments}`, charge: `ch_pending${payments}` },
    status: 'processing',
    capture_method: 'automatic',
    currency: 'USD',
    amount: 5000,
    authorized_amount: 0,
    captured_amount: 0,
    refunded_amount: 0,
    released_amount: 0,
    authorization_expires_at: null,
    transaction_id: null,
    payment_method: 'pm_x',
    customer: null,
    next_action: null,
    cancellation_reason: null,
    last_error: null,
    balance: null,
    ...overrides,
  };
}

type Row = NonNullable<Awaited<ReturnType<typeof lockTransaction>>>;
type Trx = Parameters<typeof lockTransaction>[0];

async function start(h: Harness, id: string, make: (row: Row, trx: Trx) => Promise<Plan>) {
  return h.deps.db.transaction().execute(async (trx) => {
    const row = await lockTransaction(trx, id);
    const plan = await make(row!, trx);
    if (plan.kind !== 'call') throw new Error('expected a call');
    return recordAttempt(h.deps, trx, plan, undefined, 'test', null);
  });
}

/** An open charge on a new payment method, taken through the real tx1 of a charge (now in process). */
async function chargeStarted(
  h: Harness,
  amount: number,
  method: { gateway_token: string; type: 'card' | 'us_bank_account'; last4?: string } = {
    gateway_token: 'pm_card_visa',
    type: 'card',
  },
) {
  const gateway = await ensureDefaultEmulatorGateway(h.deps, { apiBase: 'http://127.0.0.1:9' });
  const pm = await h.request('POST', '/v1/payment-methods', method);
  const created = await h.request('POST', '/v1/transactions', {
    amount,
    currency: 'usd',
    payment_method_id: pm.body.id,
  });
  const started = await start(h, created.body.id, async (row) => ({
    kind: 'call',
    transaction: row,
    charge: null,
    action: 'charge',
    request: {
      amount,
      currency: 'USD',
      payment_method: method.gateway_token,
      customer: null,
      off_session: false,
      payment_intent: null,
      reason: null,
      description: null,
    },
    gateway,
    revertStatus: 'open',
    responseStatus: 200,
  }));
  return { gateway, id: created.body.id as string, pmId: pm.body.id as string, started };
}

/** The refund as tx1 makes it: an open refund row (checked against the charge), then recordAttempt moves it to process with its attempt. */
async function refundStarted(
  h: Harness,
  gateway: GatewayRow,
  chargeId: string,
  amount: number,
  extra: { payment_method_id?: string } = {},
) {
  const refund = await h.request('POST', '/v1/transactions', {
    transaction_type: 'refund',
    amount: -amount,
    currency: 'usd',
    original_transaction_id: chargeId,
    ...extra,
  });
  expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  const started = await start(h, refund.body.id, async (row, trx) => ({
    kind: 'call',
    transaction: row,
    charge: (await lockTransaction(trx, chargeId)) ?? null,
    action: 'refund',
    request: {
      amount,
      currency: 'USD',
      payment_method: null,
      customer: null,
      off_session: false,
      payment_intent: 'pi_pending123',
      reason: null,
      description: null,
    },
    gateway,
    revertStatus: 'failed',
    responseStatus: 201,
  }));
  return { refundId: refund.body.id as string, started };
}

describeEachDatabase('applying outcomes the emulator does not produce', (get) => {
  it('a payment the gateway holds as processing leaves the charge pending, with the gateway ids, until an event settles it', async () => {
    const h = get();
    const { id, started } = await chargeStarted(h, 5000, {
      gateway_token: 'pm_usBankAccount_success',
      type: 'us_bank_account',
      last4: '6789',
    });
    expect((await h.request('GET', `/v1/transactions/${id}`)).body.status).toBe('process');
    const resolution = await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          started.attemptId,
          { kind: 'pending', result: payment({ refs }) },
          { actor: 'test', now: h.clock.now() },
        ),
      );
    expect(resolution.kind).toBe('applied');
    const after = await h.request('GET', `/v1/transactions/${id}`);
    expect(after.body).toMatchObject({
      status: 'pending',
      payment_status: null,
      captured_amount: 0,
      gateway_ref: { payment_intent: 'pi_pending123', charge: 'ch_pending123' },
      error_message: null,
    });
    const attempt = await h.deps.db
      .selectFrom('gateway_attempts')
      .selectAll()
      .where('id', '=', started.attemptId)
      .executeTakeFirstOrThrow();
    expect(attempt).toMatchObject({ state: 'succeeded', last_outcome: 'pending' });
    // A second resolution of the same attempt (a replay racing the answer) changes nothing.
    const again = await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          started.attemptId,
          { kind: 'succeeded', result: payment({ status: 'succeeded', captured_amount: 5000 }) },
          { actor: 'test', now: h.clock.now() },
        ),
      );
    expect(again.kind).toBe('already_resolved');
    expect((await h.request('GET', `/v1/transactions/${id}`)).body.status).toBe('pending');
  });

  it('a refund the gateway holds as pending is taken off the charge at once and no longer counts as in flight', async () => {
    const h = get();
    // A captured charge as tx2 leaves it (built through the same code path as a real capture).
    const { gateway, id, pmId, started: charged } = await chargeStarted(h, 10000);
    await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          charged.attemptId,
          { kind: 'succeeded', result: payment({ status: 'succeeded', amount: 10000, captured_amount: 10000 }) },
          { actor: 'test', now: h.clock.now() },
        ),
      );
    const { refundId, started } = await refundStarted(h, gateway, id, 4000, { payment_method_id: pmId });
    expect(await sumRefundsInFlight(h.deps.db, id)).toBe(4000);
    const pending: GatewayRefund = {
      refs: { ...refs, refund: 're_pending123' },
      status: 'pending',
      currency: 'USD',
      amount: 4000,
      reason: null,
      failure_reason: null,
      transaction_id: refundId,
      balance: null,
    };
    await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          started.attemptId,
          { kind: 'pending', result: pending },
          { actor: 'test', now: h.clock.now() },
        ),
      );
    const charge = (await h.request('GET', `/v1/transactions/${id}`)).body;
    expect(charge).toMatchObject({
      status: 'completed',
      payment_status: 'partially_refunded',
      refunded_amount: 4000,
      retained_amount: 6000,
    });
    expect((await h.request('GET', `/v1/transactions/${refundId}`)).body).toMatchObject({
      status: 'pending',
      amount: -4000,
      gateway_ref: { refund: 're_pending123' },
    });
    expect(await sumRefundsInFlight(h.deps.db, id)).toBe(0);
    const row = await h.deps.db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(refundableAmount(row, await sumRefundsInFlight(h.deps.db, id))).toBe(6000);
  });

  // tx2's fast path (no database transaction): everything in one statement guarded by the rows' versions, or nothing.
  const logRecord = (gatewayId: string, transactionId: string, id: string): GatewayLogRecord => ({
    id,
    gateway_id: gatewayId,
    transaction_id: transactionId,
    interaction_type: 'sale',
    order_payment_summary_id: null,
    interaction_status: 'success',
    result_code: 'success',
    gateway_ref_number: 'pi_pending123',
    gateway_auth_code: null,
    gateway_date: null,
    gateway_message: null,
    gateway_result_code: null,
    gateway_result_code_description: null,
    idempotency_key: 'settle_x',
    is_notification: false,
    http_method: 'POST',
    http_path: '/v1/payment_intents',
    http_status: 200,
    request_id: 'req_1',
    request_body: { amount: '5000' },
    response_body: { id: 'pi_pending123', nested: { list: [1, 2] } },
    latency_ms: 3,
    created_at: new Date('2026-11-25T00:00:00Z'),
  });

  it('fast path: the outcome, the history and the gateway log rows commit in one statement from the rows tx1 left', async () => {
    const h = get();
    const { gateway, id, started } = await chargeStarted(h, 5000);
    const log = logRecord(gateway.id, id, 'glog_fast_ok');
    const resolution = await applyAttemptOutcome(
      h.deps.db,
      started.attemptId,
      { kind: 'succeeded', result: payment({ status: 'succeeded', amount: 5000, captured_amount: 5000 }) },
      {
        actor: 'test',
        now: h.clock.now(),
        known: { row: started.row, attempt: started.attempt, charge: null },
        logs: [log],
      },
    );
    expect(resolution.kind).toBe('applied');
    expect(resolution.transaction).toMatchObject({
      status: 'completed',
      payment_status: 'captured',
      version: started.row.version + 1,
    });
    const attempt = await h.deps.db
      .selectFrom('gateway_attempts')
      .selectAll()
      .where('id', '=', started.attemptId)
      .executeTakeFirstOrThrow();
    expect(attempt).toMatchObject({ state: 'succeeded', last_outcome: 'succeeded' });
    const stored = await h.deps.db
      .selectFrom('gateway_logs')
      .selectAll()
      .where('id', '=', 'glog_fast_ok')
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({
      transaction_id: id,
      http_status: 200,
      latency_ms: 3,
      response_body: { id: 'pi_pending123', nested: { list: [1, 2] } },
    });
    const history = await h.deps.db
      .selectFrom('transaction_history')
      .select('action')
      .where('transaction_id', '=', id)
      .orderBy('id')
      .execute();
    expect(history.map((r) => r.action).at(-1)).toBe(`charge succeeded: ${started.attemptId}`);
  });

  it('fast path: a row that moved on since tx1 (recovery resolved the attempt first) writes nothing and throws RowMoved', async () => {
    const h = get();
    const { gateway, id, started } = await chargeStarted(h, 5000);
    // Recovery proves nothing happened and puts the charge back to open.
    await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          started.attemptId,
          { kind: 'nothing', message: 'not found at the gateway' },
          { actor: 'recovery', now: h.clock.now() },
        ),
      );
    const before = await h.deps.db
      .selectFrom('transactions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await expect(
      applyAttemptOutcome(
        h.deps.db,
        started.attemptId,
        { kind: 'succeeded', result: payment({ status: 'succeeded', amount: 5000, captured_amount: 5000 }) },
        {
          actor: 'test',
          now: h.clock.now(),
          known: { row: started.row, attempt: started.attempt, charge: null },
          logs: [logRecord(gateway.id, id, 'glog_fast_moved')],
        },
      ),
    ).rejects.toBeInstanceOf(RowMoved);
    const after = await h.deps.db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    const attempt = await h.deps.db
      .selectFrom('gateway_attempts')
      .selectAll()
      .where('id', '=', started.attemptId)
      .executeTakeFirstOrThrow();
    expect(attempt.state).toBe('reverted');
    expect(
      await h.deps.db.selectFrom('gateway_logs').select('id').where('id', '=', 'glog_fast_moved').executeTakeFirst(),
    ).toBeUndefined();
    // The locked path then sees what happened: already resolved, and it keeps the call's log.
    const locked = await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          started.attemptId,
          { kind: 'succeeded', result: payment({ status: 'succeeded', captured_amount: 5000 }) },
          { actor: 'test', now: h.clock.now(), logs: [logRecord(gateway.id, id, 'glog_fast_moved')] },
        ),
      );
    expect(locked.kind).toBe('already_resolved');
    expect(
      await h.deps.db.selectFrom('gateway_logs').select('id').where('id', '=', 'glog_fast_moved').executeTakeFirst(),
    ).toBeDefined();
  });

  it('fast path: a refund whose charge moved on since tx1 (another refund started, or applied) writes neither row and throws RowMoved', async () => {
    const h = get();
    const { gateway, id, started: charged } = await chargeStarted(h, 10000);
    await h.deps.db
      .transaction()
      .execute((trx) =>
        applyAttemptOutcome(
          trx,
          charged.attemptId,
          { kind: 'succeeded', result: payment({ status: 'succeeded', amount: 10000, captured_amount: 10000 }) },
          { actor: 'test', now: h.clock.now() },
        ),
      );
    const refunded = (refundId: string, amount: number): GatewayRefund => ({
      refs: { ...refs, refund: `re_${refundId}` },
      status: 'succeeded',
      currency: 'USD',
      amount,
      reason: null,
      failure_reason: null,
      transaction_id: refundId,
      balance: null,
    });
    const chargeRow = () =>
      h.deps.db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const refundStatus = async (refundId: string) =>
      (await h.deps.db.selectFrom('transactions').select('status').where('id', '=', refundId).executeTakeFirstOrThrow())
        .status;
    const known = (s: Awaited<ReturnType<typeof refundStarted>>) => ({
      row: s.started.row,
      attempt: s.started.attempt,
      charge: s.started.charge,
    });
    const fast = (s: Awaited<ReturnType<typeof refundStarted>>, amount: number) =>
      applyAttemptOutcome(
        h.deps.db,
        s.started.attemptId,
        { kind: 'succeeded', result: refunded(s.refundId, amount) },
        { actor: 'test', now: h.clock.now(), known: known(s) },
      );
    const locked = (s: Awaited<ReturnType<typeof refundStarted>>, amount: number) =>
      h.deps.db
        .transaction()
        .execute((trx) =>
          applyAttemptOutcome(
            trx,
            s.started.attemptId,
            { kind: 'succeeded', result: refunded(s.refundId, amount) },
            { actor: 'test', now: h.clock.now() },
          ),
        );
    const first = await refundStarted(h, gateway, id, 1000);
    const second = await refundStarted(h, gateway, id, 2000);
    // Starting a refund moves its charge's version on: the first refund's tx1 saw the charge before the second started.
    expect(second.started.charge?.version).toBe((first.started.charge?.version ?? 0) + 1);
    const untouched = await chargeRow();
    await expect(fast(first, 1000)).rejects.toBeInstanceOf(RowMoved);
    expect(await chargeRow()).toEqual(untouched);
    expect(await refundStatus(first.refundId)).toBe('process');
    expect((await locked(first, 1000)).kind).toBe('applied');
    const chargeBefore = await chargeRow();
    expect(chargeBefore).toMatchObject({ refunded_amount: 1000, payment_status: 'partially_refunded' });
    // The first refund applied since the second's tx1: its fast path must not write either.
    await expect(fast(second, 2000)).rejects.toBeInstanceOf(RowMoved);
    expect(await chargeRow()).toEqual(chargeBefore);
    expect(await refundStatus(second.refundId)).toBe('process');
    // The locked path applies it on the charge as it is now: 1000 + 2000 refunded, exact.
    expect((await locked(second, 2000)).kind).toBe('applied');
    expect(await chargeRow()).toMatchObject({ refunded_amount: 3000 });
  });
});
