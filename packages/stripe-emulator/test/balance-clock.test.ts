import { describe, expect, it } from 'vitest';
import { DAY, HOUR, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('GET /v1/balance and funds becoming available', () => {
  // AUD has no fixed rate on the USD account (fx.ts), so it keeps a balance of its own; converted currencies
  // (EUR, GBP, JPY, CAD) count in the usd entry: money-fx.test.ts.
  it('splits available and pending per currency from the balance transactions', async () => {
    expect(await stripe().balance.retrieve()).toMatchObject({
      object: 'balance',
      livemode: false,
      available: [{ amount: 0, currency: 'usd' }],
      pending: [{ amount: 0, currency: 'usd' }],
    });
    const usd = await stripe().paymentIntents.create({
      amount: 10000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    await stripe().paymentIntents.create({
      amount: 5000,
      currency: 'aud',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    await stripe().refunds.create({ payment_intent: usd.id, amount: 1000 });
    let balance = await stripe().balance.retrieve();
    expect(balance.available).toEqual([
      { amount: 0, currency: 'aud', source_types: { card: 0 } },
      { amount: -1000, currency: 'usd', source_types: { card: -1000 } },
    ]);
    expect(balance.pending).toMatchObject([
      { amount: 5000 - 175, currency: 'aud' },
      { amount: 10000 - 320, currency: 'usd' },
    ]);
    // 2 days later (before the next midnight's payout) the charges' funds are available.
    emulator().controls.advanceClock(2 * DAY + HOUR);
    balance = await stripe().balance.retrieve();
    expect(balance.available).toMatchObject([
      { amount: 5000 - 175, currency: 'aud' },
      { amount: 9000 - 320, currency: 'usd' },
    ]);
    expect(balance.pending).toMatchObject([{ amount: 0 }, { amount: 0 }]);
    const [available] = (await stripe().events.list({ type: 'balance.available' })).data;
    expect(available!.data.object).toMatchObject({ object: 'balance' });
    expect(available!.request).toEqual({ id: null, idempotency_key: null });
    const bts = await stripe().balanceTransactions.list({ type: 'charge' });
    expect(bts.data.every((b) => b.status === 'available')).toBe(true);
  });
});
