// Stripe's request rate limits (docs.stripe.com/rate-limits), off by default. The emulator's clock is fixed here
// (useEmulator's base clock), so every request lands in the same second until a test moves the clock: each count is
// exact, whatever the machine's speed.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli.js';
import { failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator({ rateLimit: { globalPerSecond: 8, endpointPerSecond: 3 } });

// Stripe's test-mode 429 body, quoted in github.com/lukasaron/terraform-provider-stripe/issues/40.
const BODY = {
  type: 'invalid_request_error',
  code: 'rate_limit',
  doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
  message:
    'Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. ' +
    'You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
};

const newSecond = (): void => emulator().controls.advanceClock(1000);

describe('rate limits', () => {
  it('the (limit+1)th request to an endpoint in one second is a 429 that changes nothing; other endpoints still work', async () => {
    newSecond();
    for (let i = 0; i < 3; i++) await stripe().customers.create({ email: `c${i}@example.com` });
    const res = await raw(emulator(), 'POST', '/v1/customers', 'email=over%40example.com', {
      'Idempotency-Key': 'over-the-limit',
    });
    expect(res.status).toBe(429);
    expect(res.json.error).toMatchObject(BODY);
    expect((await stripe().customers.list()).data.map((c) => c.email)).not.toContain('over@example.com');
    // Another endpoint has a count of its own.
    expect((await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' })).status).toBe(
      'requires_payment_method',
    );
    // A 429 is not saved under its idempotency key: the same key works in the next second.
    newSecond();
    const retried = await raw(emulator(), 'POST', '/v1/customers', 'email=over%40example.com', {
      'Idempotency-Key': 'over-the-limit',
    });
    expect(retried.status).toBe(200);
  });

  it('GETs of different ids share one endpoint; the SDK raises StripeRateLimitError', async () => {
    newSecond();
    const a = await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' });
    const b = await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' });
    await stripe().paymentIntents.retrieve(a.id);
    await stripe().paymentIntents.retrieve(b.id);
    await stripe().paymentIntents.retrieve(a.id);
    const err = await failure(stripe().paymentIntents.retrieve(b.id));
    expect(err).toMatchObject({ type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' });
    expect((await stripe().paymentIntents.list()).data).toHaveLength(2); // GET /v1/payment_intents is another
  });

  it('the global limit counts every endpoint; the window slides by the second', async () => {
    newSecond();
    // 8 requests over three endpoints (3 + 3 + 2), then the 9th is refused wherever it goes.
    for (let i = 0; i < 3; i++) await stripe().customers.create({});
    for (let i = 0; i < 3; i++) await stripe().paymentIntents.create({ amount: 1000, currency: 'usd' });
    for (let i = 0; i < 2; i++) await stripe().balance.retrieve();
    expect(await failure(stripe().events.list())).toMatchObject({ statusCode: 429 });
    emulator().controls.advanceClock(999); // still within the second of the first request
    expect(await failure(stripe().events.list())).toMatchObject({ statusCode: 429 });
    emulator().controls.advanceClock(1);
    expect((await stripe().events.list()).object).toBe('list');
  });

  it('configureRateLimit turns it off and on; Stripe figures with true', async () => {
    newSecond();
    expect(emulator().controls.configureRateLimit(null)).toBeNull();
    for (let i = 0; i < 10; i++) await stripe().balance.retrieve();
    expect(emulator().controls.configureRateLimit(true)).toEqual({ globalPerSecond: 25, endpointPerSecond: 25 });
    for (let i = 0; i < 25; i++) await stripe().balance.retrieve();
    expect(await failure(stripe().balance.retrieve())).toMatchObject({ statusCode: 429 });
    expect(() => emulator().controls.configureRateLimit({ globalPerSecond: 0, endpointPerSecond: 1 })).toThrow();
    emulator().controls.configureRateLimit({ globalPerSecond: 8, endpointPerSecond: 3 });
  });

  it('--rate-limit turns Stripe test-mode limits on from the command line', () => {
    expect(parseCli(['--rate-limit'])).toMatchObject({ rateLimit: true });
    expect(parseCli([])).not.toHaveProperty('rateLimit');
    expect(parseCli(['--settlement-currency', 'EUR'])).toMatchObject({ settlementCurrency: 'eur' });
    expect(parseCli([])).not.toHaveProperty('settlementCurrency');
    expect(() => parseCli(['--settlement-currency', 'aud'])).toThrow(/--settlement-currency takes one of usd, /);
  });
});
