// CONTRACT (faults): the Stripe adapter against the emulator's injected faults, through the real SDK.
// retryable = proven nothing happened (429, connection never opened): resent with the SAME key.
// unknown   = may have happened (500, timeout, reset after sending, dropped response): never resent by the
//             adapter; resolved by replaying the same key or finding the payment by our transaction id (P12).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator } from '@settle/stripe-emulator';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';
import type { PaymentRequest } from '../../src/app/gateway-port.js';

let emulator: Emulator;
let n = 0;
const fresh = (prefix: string): string => `${prefix}_f${process.pid}_${(n += 1)}`;
const CREATE = '/v1/payment_intents';

function gateway(options: { maxRetries?: number; apiBase?: string; timeoutMs?: number } = {}): StripeGateway {
  return new StripeGateway({
    secretKey: 'sk_test_contract',
    apiBase: options.apiBase ?? emulator.url,
    timeoutMs: options.timeoutMs ?? 5000,
    rateLimitPerSecond: 1000,
    maxRetries: options.maxRetries ?? 0,
    sleep: () => Promise.resolve(),
  });
}

const payment = (): PaymentRequest => ({
  idempotencyKey: fresh('idem'),
  transactionId: fresh('txn'),
  amount: 1500,
  currency: 'USD',
  paymentMethod: 'pm_card_visa',
});

/** Requests the emulator saw for this key: [status per attempt] (0 = connection closed without an answer). */
const attempts = (key: string): number[] =>
  emulator.controls
    .requestLog()
    .filter((e) => e.idempotencyKey === key)
    .map((e) => e.status);

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.controls.clearFaults());

describe('Stripe contract: retryable (nothing happened)', () => {
  it('a 429 is retryable; nothing was created', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'rate_limit' });
    const request = payment();
    const outcome = await gateway().authorize(request);
    expect(outcome).toMatchObject({ kind: 'retryable', error: { http_status: 429 } });
    expect(await gateway().findPaymentByTransactionId(request.transactionId)).toEqual({
      kind: 'succeeded',
      result: null,
    });
  });

  it('with retries on, 429s are resent with the SAME idempotency key until Stripe answers', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'rate_limit', times: 2 });
    const request = payment();
    const outcome = await gateway({ maxRetries: 2 }).authorize(request);
    expect(outcome.kind).toBe('succeeded');
    expect(attempts(request.idempotencyKey)).toEqual([429, 429, 200]);
  });

  it('a connection that never opened is retryable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const outcome = await gateway({ apiBase: `http://127.0.0.1:${port}` }).authorize(payment());
    expect(outcome).toMatchObject({ kind: 'retryable', error: { code: 'ECONNREFUSED' } });
  });
});

describe('Stripe contract: connection resets', () => {
  it('one reset: the SDK resends once with the same key, and the answer is known', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'connection_reset' });
    const request = payment();
    expect((await gateway().authorize(request)).kind).toBe('succeeded');
    expect(attempts(request.idempotencyKey)).toEqual([0, 200]);
  });

  it('a reset after the request was sent is unknown: the client cannot tell it from a dropped response', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'connection_reset', times: 2 });
    const request = payment();
    const outcome = await gateway({ maxRetries: 3 }).authorize(request);
    expect(outcome).toMatchObject({ kind: 'unknown', error: { code: 'ECONNRESET' } });
    expect(attempts(request.idempotencyKey)).toEqual([0, 0]); // no resend by the adapter: unknown is not retryable
    // Resolution (P12): ask. Nothing is found, so the same key is sent again and the payment goes through once.
    expect(await gateway().findPaymentByTransactionId(request.transactionId)).toEqual({
      kind: 'succeeded',
      result: null,
    });
    expect((await gateway().authorize(request)).kind).toBe('succeeded');
    expect(attempts(request.idempotencyKey)).toEqual([0, 0, 200]);
  });
});

describe('Stripe contract: unknown (may have happened)', () => {
  it('a dropped response is unknown; the payment is then found by our transaction id, and a replay of the same key returns it', async () => {
    // Twice: the SDK itself resends once on a closed connection (same key), and that replay is dropped too.
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'drop_response', times: 2 });
    const request = payment();
    const outcome = await gateway({ maxRetries: 3 }).authorize(request);
    expect(outcome.kind).toBe('unknown');
    expect(attempts(request.idempotencyKey)).toEqual([0, 0]);
    const found = await gateway().findPaymentByTransactionId(request.transactionId);
    expect(found).toMatchObject({
      kind: 'succeeded',
      result: { status: 'requires_capture', authorized_amount: 1500, transaction_id: request.transactionId },
    });
    if (found.kind !== 'succeeded' || found.result === null) throw new Error('unreachable');
    const replay = await gateway().authorize(request);
    expect(replay).toMatchObject({
      kind: 'succeeded',
      result: { refs: { payment_intent: found.result.refs.payment_intent } },
    });
    expect(attempts(request.idempotencyKey)).toEqual([0, 0, 200]);
  });

  it('a 500 is unknown and is not resent; Stripe replays the 500 for the same key; the lookup shows nothing happened', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'server_error' });
    const request = payment();
    expect(await gateway({ maxRetries: 3 }).authorize(request)).toMatchObject({
      kind: 'unknown',
      error: { http_status: 500 },
    });
    expect(attempts(request.idempotencyKey)).toEqual([500]);
    expect((await gateway().authorize(request)).kind).toBe('unknown'); // "a replayed server error is no answer"
    expect(await gateway().findPaymentByTransactionId(request.transactionId)).toEqual({
      kind: 'succeeded',
      result: null,
    });
  });

  it('a timeout is unknown: the request may have been processed', async () => {
    emulator.controls.injectFault({ method: 'POST', path: CREATE, kind: 'delay', delayMs: 600 });
    const request = payment();
    const outcome = await gateway({ timeoutMs: 150 }).authorize(request);
    expect(outcome).toMatchObject({ kind: 'unknown', error: { code: 'ETIMEDOUT' } });
    await new Promise((resolve) => setTimeout(resolve, 700)); // let the emulator finish the delayed request
    const found = await gateway().findPaymentByTransactionId(request.transactionId);
    expect(found).toMatchObject({ kind: 'succeeded', result: { status: 'requires_capture' } });
  });
});
