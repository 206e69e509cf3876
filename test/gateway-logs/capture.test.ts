// The gateway log against the emulator (P13): every HTTP exchange the Stripe adapter makes through the registry
// becomes one row with the right interaction type, status and result code, our keys, latency and bodies, and
// no secret anywhere (neither the API key nor a fake key placed in metadata).
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Gateway } from '../../src/app/gateway-port.js';
import { startEmulator, type Emulator } from '@settle/stripe-emulator';
import { describeEachDatabase } from '../support/harness.js';
import { emulatorGateway, FAKE_SECRET, fresh, loggingRegistry, logsOf, payment, SECRET_KEY } from './support.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.controls.clearFaults());

describeEachDatabase('gateway log: Stripe exchanges', (get) => {
  let gateway: Gateway;
  let gatewayId: string;
  beforeAll(async () => {
    const record = await emulatorGateway(get(), emulator.url);
    gatewayId = record.id;
    gateway = loggingRegistry(get()).forRecord(record);
  });

  it('authorize, partial capture and refund: one row each, with type, status, codes, keys, bodies and latency', async () => {
    const h = get();
    const request = payment({
      metadata: { note: FAKE_SECRET, [FAKE_SECRET]: 'as a key', card: '4242 4242 4242 4242' },
    });
    const auth = await gateway.authorize(request);
    if (auth.kind !== 'succeeded') throw new Error(JSON.stringify(auth));
    const pi = auth.result.refs.payment_intent ?? '';
    const captureKey = fresh('cap');
    expect(
      (
        await gateway.capture({
          idempotencyKey: captureKey,
          transactionId: request.transactionId,
          paymentIntentId: pi,
          currency: 'USD',
          amount: 600,
        })
      ).kind,
    ).toBe('succeeded');
    const refundTxn = fresh('trx_refund');
    const refundKey = fresh('ref');
    const refund = await gateway.refund({
      idempotencyKey: refundKey,
      transactionId: refundTxn,
      paymentIntentId: pi,
      amount: 200,
      currency: 'USD',
    });
    expect(refund.kind).toBe('succeeded');

    const rows = await logsOf(h, { transactionId: request.transactionId });
    expect(
      rows.map((r) => [r.interaction_type, r.interaction_status, r.result_code, r.http_method, r.http_status]),
    ).toEqual([
      ['authorization', 'success', 'success', 'POST', 200],
      ['capture', 'success', 'success', 'POST', 200],
    ]);
    const [authRow, captureRow] = rows;
    expect(authRow).toMatchObject({
      gateway_id: gatewayId,
      idempotency_key: request.idempotencyKey,
      gateway_ref_number: pi,
      gateway_result_code: 'requires_capture',
      http_path: '/v1/payment_intents',
      is_notification: false,
    });
    expect(authRow?.id).toMatch(/^glog_/);
    expect(authRow?.request_id).toMatch(/^req_/);
    expect(authRow?.gateway_auth_code).toMatch(/^\d{6}$/);
    expect(authRow?.gateway_date).toBeInstanceOf(Date);
    expect(authRow?.request_body).toMatchObject({
      amount: '1000',
      capture_method: 'manual',
      metadata: { settle_transaction_id: request.transactionId },
    });
    expect(authRow?.response_body).toMatchObject({ id: pi, object: 'payment_intent', status: 'requires_capture' });
    expect(captureRow).toMatchObject({
      idempotency_key: captureKey,
      gateway_ref_number: pi,
      http_path: `/v1/payment_intents/${pi}/capture`,
    });
    expect(captureRow?.request_body).toMatchObject({ amount_to_capture: '600' });
    expect(captureRow?.response_body).toMatchObject({ status: 'succeeded', amount_received: 600 });

    const [refundRow, ...more] = await logsOf(h, { transactionId: refundTxn });
    expect(more).toEqual([]);
    expect(refundRow).toMatchObject({
      interaction_type: 'referenced_refund',
      interaction_status: 'success',
      result_code: 'success',
      idempotency_key: refundKey,
    });
    expect(refundRow?.gateway_ref_number).toMatch(/^re_/);
    for (const row of [...rows, refundRow]) expect(row?.latency_ms).toBeGreaterThanOrEqual(0);

    // Secrets: the fake key is scrubbed as a value and as a key, the card-like number too, the client secret
    // is gone, and the API key appears nowhere.
    const stored = JSON.stringify(await h.deps.db.selectFrom('gateway_logs').selectAll().execute());
    expect(stored).not.toContain(SECRET_KEY);
    expect(stored).not.toContain(FAKE_SECRET);
    expect(stored).not.toMatch(/sk_test_/);
    expect(stored).not.toContain('4242 4242 4242 4242');
    expect(stored).not.toMatch(/_secret_/);
    expect(authRow?.request_body).toMatchObject({
      metadata: { note: '[redacted]', '[redacted]': 'as a key', card: '[redacted]' },
    });
    expect(authRow?.response_body).toMatchObject({ client_secret: '[redacted]' });
  });

  it('a decline: failed / decline with the decline code and message; the follow-up read is a sync', async () => {
    const h = get();
    const request = payment({ paymentMethod: 'pm_card_visa_chargeDeclinedInsufficientFunds' });
    const outcome = await gateway.authorize(request);
    expect(outcome.kind).toBe('declined');
    // A 402 carries no charge outcome (network_status, risk_level): the adapter reads the intent once, logged as a
    // sync of the same transaction (found through the intent's metadata: a read carries no transaction id).
    const [row, followUp, ...rest] = await logsOf(h, { transactionId: request.transactionId });
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      interaction_type: 'authorization',
      interaction_status: 'failed',
      result_code: 'decline',
      http_status: 402,
      gateway_result_code: 'insufficient_funds',
      idempotency_key: request.idempotencyKey,
    });
    expect(row?.gateway_ref_number).toMatch(/^pi_/);
    expect(row?.gateway_message).toBeTruthy();
    expect(row?.gateway_result_code_description).toContain('card_error');
    expect(followUp).toMatchObject({ interaction_type: 'sync', http_method: 'GET', result_code: 'decline' });
    expect(followUp?.gateway_ref_number).toBe(row?.gateway_ref_number);

    if (outcome.kind !== 'declined') throw new Error('unreachable');
    await gateway.retrieve(outcome.refs.payment_intent ?? '');
    const all = await logsOf(h, { transactionId: request.transactionId });
    expect(all.map((r) => [r.interaction_type, r.http_method, r.result_code])).toEqual([
      ['authorization', 'POST', 'decline'],
      ['sync', 'GET', 'decline'],
      ['sync', 'GET', 'decline'],
    ]);
  });

  it('an idempotent replay is logged again with the same key', async () => {
    const h = get();
    const request = payment();
    await gateway.charge(request);
    await gateway.charge(request);
    const rows = await logsOf(h, { idempotencyKey: request.idempotencyKey });
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.interaction_type, r.interaction_status, r.result_code, r.transaction_id])).toEqual([
      ['sale', 'success', 'success', request.transactionId],
      ['sale', 'success', 'success', request.transactionId],
    ]);
    expect(rows[0]?.gateway_ref_number).toBe(rows[1]?.gateway_ref_number);
    expect(rows[0]?.request_id).not.toBe(rows[1]?.request_id);
  });

  it('a dropped response (twice: the SDK resends once): two timeout / indeterminate rows without an answer', async () => {
    const h = get();
    emulator.controls.injectFault({ method: 'POST', path: '/v1/payment_intents', kind: 'drop_response', times: 2 });
    const request = payment();
    expect((await gateway.authorize(request)).kind).toBe('unknown');
    const rows = await logsOf(h, { transactionId: request.transactionId });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({
        interaction_type: 'authorization',
        interaction_status: 'timeout',
        result_code: 'indeterminate',
        http_status: null,
        response_body: null,
        request_id: null,
        idempotency_key: request.idempotencyKey,
      });
      expect(row.request_body).toMatchObject({ amount: '1000' });
      expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    }
    // Resolving it by our transaction id is a sync carrying the same transaction.
    await gateway.findPaymentByTransactionId(request.transactionId);
    const after = await logsOf(h, { transactionId: request.transactionId });
    expect(after.at(-1)).toMatchObject({
      interaction_type: 'sync',
      interaction_status: 'success',
      result_code: 'success',
      http_method: 'GET',
    });
  });

  it('cancel is an authorization_reversal; a customer is a tokenize', async () => {
    const h = get();
    const request = payment();
    const auth = await gateway.authorize(request);
    if (auth.kind !== 'succeeded') throw new Error('unreachable');
    const cancelKey = fresh('cancel');
    await gateway.cancel({
      idempotencyKey: cancelKey,
      transactionId: request.transactionId,
      paymentIntentId: auth.result.refs.payment_intent ?? '',
    });
    const [cancelRow] = await logsOf(h, { idempotencyKey: cancelKey });
    expect(cancelRow).toMatchObject({
      interaction_type: 'authorization_reversal',
      result_code: 'success',
      transaction_id: request.transactionId,
    });
    const customerKey = fresh('cus');
    await gateway.createCustomer({ idempotencyKey: customerKey, reference: 'acc_x', email: 'a@example.com' });
    const [customerRow] = await logsOf(h, { idempotencyKey: customerKey });
    expect(customerRow).toMatchObject({ interaction_type: 'tokenize', result_code: 'success', transaction_id: null });
    expect(customerRow?.gateway_ref_number).toMatch(/^cus_/);
  });
});
