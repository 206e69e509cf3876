import { describe, expect, it } from 'vitest';
import { DAY, failure, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();
const params = {
  amount: 1500,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  metadata: { settle_txn: 't1' },
};

async function count(): Promise<number> {
  return (await stripe().paymentIntents.list({ limit: 100 })).data.length;
}

describe('idempotency keys', () => {
  it('replays the stored response for the same key and parameters', async () => {
    const first = await stripe().paymentIntents.create(params, { idempotencyKey: 'key-1' });
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const again = await stripe().paymentIntents.create(params, { idempotencyKey: 'key-1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(await count()).toBe(1);
    const refund = await stripe().refunds.create(
      { payment_intent: first.id, amount: 100 },
      { idempotencyKey: 'key-r' },
    );
    expect(
      (await stripe().refunds.create({ payment_intent: first.id, amount: 100 }, { idempotencyKey: 'key-r' })).id,
    ).toBe(refund.id);
    expect((await stripe().charges.retrieve(first.latest_charge as string)).amount_refunded).toBe(100);
  });

  it('rejects the same key with different parameters or another endpoint (StripeIdempotencyError)', async () => {
    await stripe().paymentIntents.create(params, { idempotencyKey: 'key-2' });
    const err = await failure(stripe().paymentIntents.create({ ...params, amount: 1600 }, { idempotencyKey: 'key-2' }));
    expect(err).toMatchObject({ type: 'StripeIdempotencyError', rawType: 'idempotency_error', statusCode: 400 });
    const other = await failure(stripe().customers.create({}, { idempotencyKey: 'key-2' }));
    expect(other).toMatchObject({ type: 'StripeIdempotencyError', statusCode: 400 });
    expect(await count()).toBe(1);
  });

  it('replays a card decline (the operation ran) without a second attempt', async () => {
    const decline = { ...params, payment_method: 'pm_card_visa_chargeDeclined' };
    const first = await failure(stripe().paymentIntents.create(decline, { idempotencyKey: 'key-d' }));
    const second = await failure(stripe().paymentIntents.create(decline, { idempotencyKey: 'key-d' }));
    expect(second).toMatchObject({ statusCode: 402, code: 'card_declined' });
    expect(second.raw.payment_intent.id).toBe(first.raw.payment_intent.id);
    expect(second.headers['idempotent-replayed']).toBe('true');
  });

  it('replays a 500 for the same key; a new key runs the request', async () => {
    emulator().controls.injectFault({ method: 'POST', path: '/v1/payment_intents', kind: 'server_error' });
    const err = await failure(stripe().paymentIntents.create(params, { idempotencyKey: 'key-500' }));
    expect(err).toMatchObject({ type: 'StripeAPIError', rawType: 'api_error', statusCode: 500 });
    const replayed = await failure(stripe().paymentIntents.create(params, { idempotencyKey: 'key-500' }));
    expect(replayed).toMatchObject({ statusCode: 500 });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(await count()).toBe(0);
    await stripe().paymentIntents.create(params, { idempotencyKey: 'key-500b' });
    expect(await count()).toBe(1);
  });

  it('does not store validation failures or 429s: the same key can be retried', async () => {
    const bad = await failure(stripe().paymentIntents.create({ ...params, amount: 49 }, { idempotencyKey: 'key-v' }));
    expect(bad).toMatchObject({ statusCode: 400, code: 'amount_too_small' });
    await expect(stripe().paymentIntents.create(params, { idempotencyKey: 'key-v' })).resolves.toMatchObject({
      status: 'succeeded',
    });

    emulator().controls.injectFault({ path: '/v1/payment_intents', kind: 'rate_limit' });
    const limited = await failure(stripe().paymentIntents.create(params, { idempotencyKey: 'key-429' }));
    expect(limited).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429 });
    const ok = await stripe().paymentIntents.create(params, { idempotencyKey: 'key-429' });
    expect(ok.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('keys expire after 24 hours of the emulator clock', async () => {
    const first = await stripe().paymentIntents.create(params, { idempotencyKey: 'key-exp' });
    emulator().controls.advanceClock(DAY - 1);
    expect((await stripe().paymentIntents.create(params, { idempotencyKey: 'key-exp' })).id).toBe(first.id);
    emulator().controls.advanceClock(2);
    const fresh = await stripe().paymentIntents.create({ ...params, amount: 1700 }, { idempotencyKey: 'key-exp' });
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 idempotency_key_in_use to a duplicate that arrives while the first is running', async () => {
    emulator().controls.injectFault({ method: 'POST', path: '/v1/payment_intents', kind: 'delay', delayMs: 300 });
    const [a, b] = await Promise.allSettled([
      stripe().paymentIntents.create(params, { idempotencyKey: 'key-409' }),
      stripe().paymentIntents.create(params, { idempotencyKey: 'key-409' }),
    ]);
    const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as any).code));
    expect(outcomes.sort()).toEqual(['idempotency_key_in_use', 'ok']);
    const rejected = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ type: 'StripeAPIError', statusCode: 409 });
    expect(await count()).toBe(1);
    // Once the first finished, the same key replays it.
    const replay = await stripe().paymentIntents.create(params, { idempotencyKey: 'key-409' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  it('GET requests ignore idempotency', async () => {
    const pi = await stripe().paymentIntents.create(params);
    const log = emulator().controls.requestLog();
    expect(log.at(-1)).toMatchObject({ method: 'POST', path: '/v1/payment_intents', status: 200 });
    expect(log.at(-1)?.idempotencyKey).toMatch(/^stripe-node-retry-/); // the SDK keys every POST
    await stripe().paymentIntents.retrieve(pi.id);
    expect(emulator().controls.requestLog().at(-1)).toMatchObject({ method: 'GET', idempotencyKey: null });
  });
});
