// The crash test's checkers (test/chaos/support.ts), on small hand-made worlds: each accepts what is right and
// names each kind of wrong. Pure: no database, no processes (the crash test itself is test/chaos/crash.test.ts).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  accountForRecovery,
  type AttemptResolution,
  checkAgreement,
  checkResolutions,
  type SettleAttempt,
  type SettleSnapshot,
  type SettleTransaction,
} from './checker.js';

// The checker itself, on a small hand-made world: it accepts agreement and names each kind of disagreement.
describe('crash-safety checker', () => {
  const pi = (o: Partial<Stripe.PaymentIntent>) =>
    ({
      object: 'payment_intent',
      amount_capturable: 0,
      amount_received: 0,
      metadata: {},
      ...o,
    }) as Stripe.PaymentIntent;
  const refund = (o: Partial<Stripe.Refund>) =>
    ({ object: 'refund', status: 'succeeded', metadata: {}, ...o }) as Stripe.Refund;
  const tx = (o: Partial<SettleTransaction>): SettleTransaction => ({
    id: 'trx_x',
    record_type: 'charge',
    transaction_type: 'normal',
    status: 'open',
    payment_status: null,
    amount: 1000,
    authorized_amount: 0,
    captured_amount: 0,
    refunded_amount: 0,
    original_transaction_id: null,
    gateway_payment_intent: null,
    gateway_refund: null,
    uncaptured_method: null,
    non_gateway: false,
    ...o,
  });
  const world = () => ({
    settle: {
      transactions: [
        tx({ id: 'trx_open' }),
        tx({
          id: 'trx_auth',
          status: 'completed',
          payment_status: 'authorized',
          authorized_amount: 1000,
          gateway_payment_intent: 'pi_a',
        }),
        tx({
          id: 'trx_part',
          status: 'completed',
          payment_status: 'partially_refunded',
          authorized_amount: 1000,
          captured_amount: 600,
          refunded_amount: 100,
          gateway_payment_intent: 'pi_b',
        }),
        tx({
          id: 'trx_ref',
          transaction_type: 'refund',
          status: 'completed',
          payment_status: 'refunded',
          amount: -100,
          original_transaction_id: 'trx_part',
          gateway_payment_intent: 'pi_b',
          gateway_refund: 're_1',
        }),
        tx({
          id: 'trx_rel',
          status: 'completed',
          payment_status: 'uncaptured',
          authorized_amount: 1000,
          uncaptured_method: 'manual',
          gateway_payment_intent: 'pi_c',
        }),
      ],
      attempts: [] as SettleSnapshot['attempts'],
      runningKeys: [] as { key: string }[],
    },
    emulator: {
      paymentIntents: [
        pi({
          id: 'pi_a',
          status: 'requires_capture',
          amount: 1000,
          amount_capturable: 1000,
          metadata: { settle_transaction_id: 'trx_auth' },
        }),
        pi({
          id: 'pi_b',
          status: 'succeeded',
          amount: 1000,
          amount_received: 600,
          metadata: { settle_transaction_id: 'trx_part' },
        }),
        pi({ id: 'pi_c', status: 'canceled', amount: 1000, metadata: { settle_transaction_id: 'trx_rel' } }),
      ],
      refunds: [
        refund({ id: 're_rev', amount: 400, payment_intent: 'pi_b' }),
        refund({ id: 're_1', amount: 100, payment_intent: 'pi_b', metadata: { settle_transaction_id: 'trx_ref' } }),
      ],
    },
  });
  type World = ReturnType<typeof world>;
  const find = (w: World, id: string) => w.settle.transactions.find((t) => t.id === id)!;

  it('accepts two sides that agree', () => {
    const w = world();
    expect(checkAgreement(w.settle, w.emulator)).toEqual([]);
  });

  const breakages: [string, (w: World) => void, RegExp][] = [
    [
      'a transaction left in process',
      (w) => Object.assign(find(w, 'trx_open'), { status: 'process' }),
      /trx_open is process/,
    ],
    [
      'an attempt left in flight',
      (w) =>
        w.settle.attempts.push({
          id: 'gatt_1',
          transaction_id: 'trx_open',
          charge_transaction_id: null,
          action: 'authorize',
          idempotency_key: 'k',
          state: 'in_flight',
          last_outcome: null,
          recovery_tries: 0,
          created_at: new Date(),
        }),
      /gatt_1/,
    ],
    ['a request never answered', (w) => w.settle.runningKeys.push({ key: 'key-1' }), /key-1 is still running/],
    [
      'a payment made twice',
      (w) =>
        w.emulator.paymentIntents.push(
          pi({
            id: 'pi_dup',
            status: 'requires_capture',
            amount: 1000,
            amount_capturable: 1000,
            metadata: { settle_transaction_id: 'trx_auth' },
          }),
        ),
      /paid 2 times/,
    ],
    [
      'a payment Settle does not know',
      (w) => w.emulator.paymentIntents.push(pi({ id: 'pi_x', status: 'succeeded', amount: 5, amount_received: 5 })),
      /pi_x .*does not know/,
    ],
    [
      'a payment for an open transaction',
      (w) =>
        w.emulator.paymentIntents.push(
          pi({
            id: 'pi_o',
            status: 'succeeded',
            amount: 1000,
            amount_received: 1000,
            metadata: { settle_transaction_id: 'trx_open' },
          }),
        ),
      /pi_o .*trx_open/,
    ],
    [
      'a capture Settle missed',
      (w) =>
        Object.assign(w.emulator.paymentIntents[0]!, {
          status: 'succeeded',
          amount_capturable: 0,
          amount_received: 1000,
        }),
      /pi_a is succeeded/,
    ],
    [
      'a release Settle missed',
      (w) => Object.assign(w.emulator.paymentIntents[0]!, { status: 'canceled', amount_capturable: 0 }),
      /pi_a is canceled/,
    ],
    [
      'a capture amount that differs',
      (w) => Object.assign(find(w, 'trx_part'), { captured_amount: 700 }),
      /pi_b is succeeded/,
    ],
    [
      'a refund made twice',
      (w) =>
        w.emulator.refunds.push(
          refund({ id: 're_2', amount: 100, payment_intent: 'pi_b', metadata: { settle_transaction_id: 'trx_ref' } }),
        ),
      /refunded 2 times/,
    ],
    [
      'a refund Settle does not know',
      (w) => w.emulator.refunds.push(refund({ id: 're_3', amount: 50, payment_intent: 'pi_b' })),
      /re_3|2 refunds without/,
    ],
    [
      'a refund the gateway does not have',
      (w) => w.emulator.refunds.splice(1, 1),
      /trx_ref is completed\/refunded .*no refund/,
    ],
    ['a refunded amount that differs', (w) => Object.assign(find(w, 'trx_part'), { refunded_amount: 200 }), /trx_part/],
    [
      'a failed refund the gateway made',
      (w) => Object.assign(find(w, 'trx_ref'), { status: 'failed', payment_status: null }),
      /trx_ref is failed/,
    ],
    ['a refund for another amount', (w) => Object.assign(find(w, 'trx_ref'), { amount: -90 }), /has amount -90/],
    [
      'a payment Settle records but the gateway lacks',
      (w) => w.emulator.paymentIntents.splice(2, 1),
      /pi_c, which the gateway does not have/,
    ],
  ];
  for (const [name, breakIt, expected] of breakages) {
    it(`reports ${name}`, () => {
      const w = world();
      breakIt(w);
      const problems = checkAgreement(w.settle, w.emulator);
      expect(problems.join('\n')).toMatch(expected);
    });
  }
});

describe('attempt resolutions', () => {
  const attempt = (id: string, state: SettleAttempt['state'], transaction = `trx_${id}`): SettleAttempt => ({
    id,
    transaction_id: transaction,
    charge_transaction_id: null,
    action: 'capture',
    idempotency_key: `settle_${id}`,
    state,
    last_outcome: null,
    recovery_tries: 0,
    created_at: new Date('2026-11-24T12:00:00Z'),
  });
  let historyId = 0;
  const resolved = (id: string, actor: string, transaction = `trx_${id}`): AttemptResolution => ({
    history_id: (historyId += 1),
    attempt_id: id,
    transaction_id: transaction,
    actor,
    action: `capture succeeded (recovery): ${id}`,
  });

  it('accepts each final attempt resolved once and each one in flight not at all', () => {
    const attempts = [attempt('gatt_a', 'succeeded'), attempt('gatt_b', 'reverted'), attempt('gatt_c', 'in_flight')];
    expect(checkResolutions(attempts, [resolved('gatt_a', 'api'), resolved('gatt_b', 'cli:recover')])).toEqual([]);
  });

  it('reports an attempt resolved twice, a final one never resolved, one resolved in flight, and one that does not exist', () => {
    const attempts = [attempt('gatt_a', 'succeeded'), attempt('gatt_b', 'failed'), attempt('gatt_c', 'in_flight')];
    const problems = checkResolutions(attempts, [
      resolved('gatt_a', 'cli:recover'),
      resolved('gatt_a', 'webhook:evt_1'),
      resolved('gatt_c', 'cli:recover'),
      resolved('gatt_x', 'cli:recover'),
    ]).join('\n');
    expect(problems).toMatch(/gatt_a .*resolved 2 times, expected 1/);
    expect(problems).toMatch(/gatt_b .*resolved 0 times, expected 1/);
    expect(problems).toMatch(/gatt_c .*resolved 1 times, expected 0/);
    expect(problems).toMatch(/gatt_x, which does not exist/);
  });

  // Round 42 of a CI run on Node 24: 9 calls in flight after the kill; the restarted server applied a webhook
  // about one of them before `settle recover` listed them, so recovery examined 8. Both orders are right.
  const inFlight = ['gatt_1', 'gatt_2', 'gatt_3'];
  const before = inFlight.map((id) => attempt(id, 'in_flight'));
  const after = inFlight.map((id) => attempt(id, 'succeeded'));

  it('accepts recovery resolving every call in flight', () => {
    const account = accountForRecovery({
      report: { examined: 3, applied: 2, reverted: 1, needs_review: 0, still_unknown: 0 },
      recoveryActor: 'cli:recover',
      inFlightIds: inFlight,
      before,
      after,
      resolutionsSince: inFlight.map((id) => resolved(id, 'cli:recover')),
    });
    expect(account).toEqual({ problems: [], resolvedElsewhere: 0 });
  });

  it('accepts a webhook resolving a call before recovery lists it (recovery examines fewer)', () => {
    const account = accountForRecovery({
      report: { examined: 2, applied: 2, reverted: 0, needs_review: 0, still_unknown: 0 },
      recoveryActor: 'cli:recover',
      inFlightIds: inFlight,
      before,
      after,
      resolutionsSince: [
        resolved('gatt_1', 'cli:recover'),
        resolved('gatt_2', 'webhook:evt_9'),
        resolved('gatt_3', 'cli:recover'),
      ],
    });
    expect(account).toEqual({ problems: [], resolvedElsewhere: 1 });
  });

  it('accepts a webhook resolving a call after recovery listed it (recovery finds it resolved, counts nothing)', () => {
    const account = accountForRecovery({
      report: { examined: 3, applied: 2, reverted: 0, needs_review: 0, still_unknown: 0 },
      recoveryActor: 'cli:recover',
      inFlightIds: inFlight,
      before,
      after,
      resolutionsSince: [
        resolved('gatt_1', 'cli:recover'),
        resolved('gatt_2', 'webhook:evt_9'),
        resolved('gatt_3', 'cli:recover'),
      ],
    });
    expect(account).toEqual({ problems: [], resolvedElsewhere: 1 });
  });

  it('reports a call left unresolved, a report that does not match what recovery wrote, and more examined than were in flight', () => {
    const account = accountForRecovery({
      report: { examined: 4, applied: 3, reverted: 0, needs_review: 0, still_unknown: 0 },
      recoveryActor: 'cli:recover',
      inFlightIds: inFlight,
      before,
      after: [after[0]!, after[1]!, attempt('gatt_3', 'in_flight')],
      resolutionsSince: [resolved('gatt_1', 'cli:recover'), resolved('gatt_2', 'cli:recover')],
    });
    const problems = account.problems.join('\n');
    expect(problems).toMatch(/reports 3 applied \+ 0 put back, but wrote 2 resolutions/);
    expect(problems).toMatch(/examined 4 attempts; only 3 were in flight/);
    expect(problems).toMatch(/gatt_3, in flight after the kill, is in_flight after recovery/);
  });

  it('reports recovery resolving an attempt that was not in flight', () => {
    const account = accountForRecovery({
      report: { examined: 3, applied: 3, reverted: 0, needs_review: 0, still_unknown: 0 },
      recoveryActor: 'cli:recover',
      inFlightIds: inFlight.slice(0, 2),
      before: [...before.slice(0, 2), attempt('gatt_3', 'succeeded')],
      after,
      resolutionsSince: inFlight.map((id) => resolved(id, 'cli:recover')),
    });
    expect(account.problems.join('\n')).toMatch(/recovery resolved gatt_3, which was not in flight/);
  });
});
