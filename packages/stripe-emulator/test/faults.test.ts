import { describe, expect, it } from 'vitest';
import { failure, sdk, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();
const params = {
  amount: 2000,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  capture_method: 'manual' as const,
};

async function allIntents(): Promise<string[]> {
  return (await stripe().paymentIntents.list({ limit: 100 })).data.map((p) => p.id);
}

describe('fault injection as the SDK sees it', () => {
  it('server_error: StripeAPIError 500, nothing done', async () => {
    emulator().controls.injectFault({ path: '/v1/payment_intents', kind: 'server_error' });
    const err = await failure(stripe().paymentIntents.create(params));
    expect(err).toMatchObject({ type: 'StripeAPIError', statusCode: 500, rawType: 'api_error' });
    expect(await allIntents()).toEqual([]);
  });

  it('rate_limit: StripeRateLimitError 429, nothing done', async () => {
    emulator().controls.injectFault({ method: 'POST', path: /^\/v1\/payment_intents/, kind: 'rate_limit', times: 2 });
    for (let i = 0; i < 2; i++)
      expect(await failure(stripe().paymentIntents.create(params))).toMatchObject({
        type: 'StripeRateLimitError',
        statusCode: 429,
      });
    expect(await allIntents()).toEqual([]);
    await stripe().paymentIntents.create(params);
    expect(await allIntents()).toHaveLength(1);
  });

  it('connection_reset: StripeConnectionError, nothing done (the SDK retries a closed connection once, even with maxNetworkRetries 0)', async () => {
    emulator().controls.injectFault({ path: '/v1/payment_intents', kind: 'connection_reset', times: 2 });
    const err = await failure(stripe().paymentIntents.create(params, { idempotencyKey: 'reset-1' }));
    expect(err).toMatchObject({ type: 'StripeConnectionError' });
    const attempts = emulator()
      .controls.requestLog()
      .filter((e) => e.idempotencyKey === 'reset-1');
    expect(attempts.map((e) => e.status)).toEqual([0, 0]);
    expect(await allIntents()).toEqual([]);
  });

  it('connection_reset once is absorbed by the SDK retry', async () => {
    emulator().controls.injectFault({ path: '/v1/payment_intents', kind: 'connection_reset' });
    const pi = await stripe().paymentIntents.create(params, { idempotencyKey: 'reset-2' });
    expect(pi.status).toBe('requires_capture');
    expect(
      emulator()
        .controls.requestLog()
        .filter((e) => e.idempotencyKey === 'reset-2')
        .map((e) => e.status),
    ).toEqual([0, 200]);
  });

  it('drop_response: StripeConnectionError, yet the operation happened; a retry with the same key returns it', async () => {
    emulator().controls.injectFault({ method: 'POST', path: '/v1/payment_intents', kind: 'drop_response', times: 2 });
    const err = await failure(stripe().paymentIntents.create(params, { idempotencyKey: 'drop-1' }));
    expect(err).toMatchObject({ type: 'StripeConnectionError' });
    const existing = await allIntents();
    expect(existing).toHaveLength(1); // the unknown outcome: it did happen
    const retry = await stripe().paymentIntents.create(params, { idempotencyKey: 'drop-1' });
    expect(retry.id).toBe(existing[0]);
    expect(retry.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await allIntents()).toHaveLength(1);
  });

  it('drop_response once: the SDK reconnects with the same key and gets the replay', async () => {
    const pi = await stripe().paymentIntents.create(params);
    emulator().controls.injectFault({
      method: 'POST',
      path: `/v1/payment_intents/${pi.id}/capture`,
      kind: 'drop_response',
    });
    const captured = await stripe().paymentIntents.capture(pi.id, { amount_to_capture: 1500 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 1500 });
    expect(captured.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('delay: the request proceeds late; a client timeout leaves an unknown outcome that did happen', async () => {
    emulator().controls.injectFault({ path: '/v1/payment_intents', kind: 'delay', delayMs: 400 });
    const impatient = sdk(emulator(), 'sk_test_123', { timeout: 100 });
    const err = await failure(impatient.paymentIntents.create(params, { idempotencyKey: 'slow-1' }));
    expect(err).toMatchObject({ type: 'StripeConnectionError' });
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      found = await allIntents();
    }
    expect(found).toHaveLength(1);
    const retry = await stripe().paymentIntents.create(params, { idempotencyKey: 'slow-1' });
    expect(retry.id).toBe(found[0]);
  });

  it('faults match by method and path, are used up, and can be cleared', async () => {
    emulator().controls.injectFault({ method: 'GET', path: '/v1/payment_intents', kind: 'server_error', times: 5 });
    await stripe().paymentIntents.create(params); // POST: not matched
    expect(await failure(stripe().paymentIntents.list())).toMatchObject({ statusCode: 500 });
    emulator().controls.clearFaults();
    await expect(stripe().paymentIntents.list()).resolves.toMatchObject({ object: 'list' });
  });

  it('the same controls work over HTTP', async () => {
    const base = emulator().url;
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/_emulator/faults', { path: { regex: '^/v1/refunds' }, kind: 'rate_limit' })).status).toBe(200);
    expect(await failure(stripe().refunds.list())).toMatchObject({ statusCode: 429 });
    await post('/_emulator/faults', { path: '/v1/customers', kind: 'server_error', times: 3 });
    expect((await fetch(`${base}/_emulator/faults`, { method: 'DELETE' })).status).toBe(200);
    const customer = await stripe().customers.create();

    const before = emulator().controls.now().getTime();
    const advanced = (await (await post('/_emulator/clock/advance', { ms: 60_000 })).json()) as { now: string };
    expect(Date.parse(advanced.now)).toBe(before + 60_000);
    const log = (await (await fetch(`${base}/_emulator/requests`)).json()) as any[];
    expect(log.at(-1)).toMatchObject({ method: 'POST', path: '/v1/customers', status: 200 });
    expect(log.some((e: { status: number }) => e.status === 429)).toBe(true);
    expect((await post('/_emulator/reset', {})).status).toBe(200);
    expect(await failure(stripe().customers.retrieve(customer.id))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect((await post('/_emulator/faults', { path: '/x', kind: 'meltdown' })).status).toBe(400);
  });
});
