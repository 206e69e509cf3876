// CONTRACT: the Stripe adapter against the Stripe emulator, through the real SDK.
// Every outcome class is produced and classified; idempotency keys are reused on retries; a dropped response is
// resolved by finding the payment by our transaction id; a partial capture's released remainder is not a refund.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@settle/stripe-emulator';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';
import type { GatewayOutcome, GatewayPayment, PaymentRequest } from '../../src/app/gateway-port.js';

let emulator: Emulator;
let n = 0;
const fresh = (prefix: string): string => `${prefix}_${process.pid}_${(n += 1)}`;

function gateway(options: { key?: string; maxRetries?: number; apiBase?: string } = {}): StripeGateway {
  return new StripeGateway({
    secretKey: options.key ?? 'sk_test_contract',
    apiBase: options.apiBase ?? emulator.url,
    timeoutMs: 5000,
    rateLimitPerSecond: 1000,
    maxRetries: options.maxRetries ?? 0,
    sleep: () => Promise.resolve(),
  });
}

function payment(overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    idempotencyKey: fresh('idem'),
    transactionId: fresh('txn'),
    amount: 1000,
    currency: 'USD',
    paymentMethod: 'pm_card_visa',
    ...overrides,
  };
}

function ok(outcome: GatewayOutcome<GatewayPayment>): GatewayPayment {
  if (outcome.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.controls.clearFaults());

describe('Stripe contract: payments that work', () => {
  it('authorize: requires_capture with the authorized amount, capture deadline and our transaction id', async () => {
    const request = payment();
    const p = ok(await gateway().authorize(request));
    expect(p).toMatchObject({
      status: 'requires_capture',
      capture_method: 'manual',
      authorized_amount: 1000,
      captured_amount: 0,
    });
    expect(p.transaction_id).toBe(request.transactionId);
    expect(p.refs.payment_intent).toMatch(/^pi_/);
    expect(p.refs.charge).toMatch(/^ch_/);
    expect(p.authorization_expires_at?.getTime()).toBeGreaterThan(Date.now());
  });

  it('charge: captured at once, with fees and net from the balance transaction in the response', async () => {
    const p = ok(await gateway().charge(payment({ amount: 10000 })));
    expect(p).toMatchObject({
      status: 'succeeded',
      capture_method: 'automatic',
      captured_amount: 10000,
      refunded_amount: 0,
    });
    expect(p.balance).toMatchObject({
      amount: 10000,
      gateway_fee: 320,
      net_amount: 9680,
      currency: 'USD',
      type: 'charge',
    });
    expect(p.refs.balance_transaction).toBe(p.balance?.id);
  });

  it('capture in full, then a second capture is reported as already captured (success)', async () => {
    const auth = ok(await gateway().authorize(payment()));
    const id = auth.refs.payment_intent ?? '';
    const captured = ok(
      await gateway().capture({
        idempotencyKey: fresh('cap'),
        transactionId: 'x',
        paymentIntentId: id,
        currency: 'USD',
      }),
    );
    expect(captured).toMatchObject({
      status: 'succeeded',
      captured_amount: 1000,
      released_amount: 0,
      authorized_amount: 0,
    });
    expect(captured.balance).toMatchObject({ amount: 1000, gateway_fee: 59, net_amount: 941 });
    const again = ok(
      await gateway().capture({
        idempotencyKey: fresh('cap'),
        transactionId: 'x',
        paymentIntentId: id,
        currency: 'USD',
      }),
    );
    expect(again).toMatchObject({ status: 'succeeded', captured_amount: 1000 });
  });

  it('partial capture: the released remainder is not counted as a refund; a real refund is', async () => {
    const auth = ok(await gateway().authorize(payment()));
    const id = auth.refs.payment_intent ?? '';
    const cap = ok(
      await gateway().capture({
        idempotencyKey: fresh('cap'),
        transactionId: 'x',
        paymentIntentId: id,
        currency: 'USD',
        amount: 600,
      }),
    );
    expect(cap).toMatchObject({ captured_amount: 600, released_amount: 400, refunded_amount: 0 });

    const refundTxn = fresh('txn_refund');
    const refund = await gateway().refund({
      idempotencyKey: fresh('ref'),
      transactionId: refundTxn,
      paymentIntentId: id,
      currency: 'USD',
      amount: 100,
    });
    expect(refund).toMatchObject({
      kind: 'succeeded',
      result: { amount: 100, status: 'succeeded', transaction_id: refundTxn },
    });
    const now = ok(await gateway().retrieve(id));
    expect(now).toMatchObject({ captured_amount: 600, released_amount: 400, refunded_amount: 100 });

    const page = await gateway().listBalanceTransactions({ limit: 100 });
    if (page.kind !== 'succeeded') throw new Error(JSON.stringify(page));
    const reversal = page.result.data.find(
      (bt) => bt.reporting_category === 'partial_capture_reversal' && bt.amount === -400,
    );
    expect(reversal).toBeDefined();
  });

  it('cancel releases the authorization: released, not refunded', async () => {
    const auth = ok(await gateway().authorize(payment()));
    const id = auth.refs.payment_intent ?? '';
    const released = ok(
      await gateway().cancel({
        idempotencyKey: fresh('cancel'),
        transactionId: 'x',
        paymentIntentId: id,
        reason: 'requested_by_customer',
      }),
    );
    expect(released).toMatchObject({
      status: 'canceled',
      released_amount: 1000,
      refunded_amount: 0,
      captured_amount: 0,
    });
    const twice = await gateway().cancel({ idempotencyKey: fresh('cancel'), transactionId: 'x', paymentIntentId: id });
    expect(twice.kind).toBe('succeeded');
  });

  it('refund partial then the rest; an over-refund is invalid_request; refunds are found by transaction id', async () => {
    const p = ok(await gateway().charge(payment()));
    const id = p.refs.payment_intent ?? '';
    const first = fresh('txn_r');
    expect(
      (
        await gateway().refund({
          idempotencyKey: fresh('r'),
          transactionId: first,
          paymentIntentId: id,
          currency: 'USD',
          amount: 300,
        })
      ).kind,
    ).toBe('succeeded');
    expect(
      (
        await gateway().refund({
          idempotencyKey: fresh('r'),
          transactionId: fresh('t'),
          paymentIntentId: id,
          currency: 'USD',
          amount: 700,
        })
      ).kind,
    ).toBe('succeeded');
    expect(ok(await gateway().retrieve(id))).toMatchObject({ refunded_amount: 1000, released_amount: 0 });
    const over = await gateway().refund({
      idempotencyKey: fresh('r'),
      transactionId: fresh('t'),
      paymentIntentId: id,
      currency: 'USD',
      amount: 1,
    });
    expect(over).toMatchObject({ kind: 'invalid_request', error: { http_status: 400 } });
    const found = await gateway().findRefundByTransactionId({ paymentIntentId: id, transactionId: first });
    expect(found).toMatchObject({ kind: 'succeeded', result: { amount: 300, transaction_id: first } });
  });

  it('customers and saved cards: create, attach, then an off-session charge', async () => {
    const customer = await gateway().createCustomer({ idempotencyKey: fresh('cus'), reference: 'acct_1', name: 'Ada' });
    if (customer.kind !== 'succeeded') throw new Error(JSON.stringify(customer));
    const attached = await gateway().attachPaymentMethod({
      idempotencyKey: fresh('att'),
      paymentMethod: 'pm_card_visa',
      customer: customer.result.id,
    });
    if (attached.kind !== 'succeeded') throw new Error(JSON.stringify(attached));
    expect(attached.result.customer).toBe(customer.result.id);
    const p = ok(
      await gateway().charge(
        payment({ customer: customer.result.id, paymentMethod: attached.result.id, offSession: true }),
      ),
    );
    expect(p).toMatchObject({ status: 'succeeded', customer: customer.result.id });
  });
});

describe('Stripe contract: declines, actions, configuration', () => {
  it('a decline carries code and decline_code and names the intent', async () => {
    const outcome = await gateway().authorize(
      payment({ paymentMethod: 'pm_card_visa_chargeDeclinedInsufficientFunds' }),
    );
    expect(outcome).toMatchObject({
      kind: 'declined',
      error: { code: 'card_declined', decline_code: 'insufficient_funds', http_status: 402 },
    });
    if (outcome.kind !== 'declined') throw new Error('unreachable');
    expect(outcome.refs.payment_intent).toMatch(/^pi_/);
    const after = await gateway().retrieve(outcome.refs.payment_intent ?? '');
    expect(after).toMatchObject({
      kind: 'declined',
      result: { status: 'requires_payment_method' },
      error: { decline_code: 'insufficient_funds' },
    });
  });

  it('3-D Secure: requires_action on session, an authentication_required decline off session', async () => {
    const onSession = await gateway().authorize(payment({ paymentMethod: 'pm_card_authenticationRequired' }));
    expect(onSession).toMatchObject({
      kind: 'requires_action',
      result: { status: 'requires_action', next_action: 'use_stripe_sdk' },
    });
    const cus = await gateway().createCustomer({ idempotencyKey: fresh('cus'), reference: 'acct_2' });
    if (cus.kind !== 'succeeded') throw new Error(JSON.stringify(cus));
    const pm = await gateway().attachPaymentMethod({
      idempotencyKey: fresh('att'),
      paymentMethod: 'pm_card_authenticationRequired',
      customer: cus.result.id,
    });
    if (pm.kind !== 'succeeded') throw new Error(JSON.stringify(pm));
    const offSession = await gateway().charge(
      payment({ paymentMethod: pm.result.id, customer: cus.result.id, offSession: true }),
    );
    expect(offSession).toMatchObject({ kind: 'declined', error: { decline_code: 'authentication_required' } });
  });

  it('a key Stripe rejects is a configuration error', async () => {
    const outcome = await gateway({ key: 'sk_live_not_for_the_emulator' }).authorize(payment());
    expect(outcome).toMatchObject({ kind: 'configuration', error: { http_status: 401 } });
  });

  it('reusing a key with other parameters is invalid_request with a clear message', async () => {
    const request = payment();
    ok(await gateway().authorize(request));
    const outcome = await gateway().authorize({ ...request, amount: 2000 });
    expect(outcome.kind).toBe('invalid_request');
    if (outcome.kind !== 'invalid_request') throw new Error('unreachable');
    expect(outcome.error.message).toMatch(/idempotency key was already used/);
  });
});
