// The settlement currency: `startEmulator({ settlementCurrency })`, `controls.configureAccount` and
// `/_emulator/account`, conversion into a non-USD settlement currency at the README's fixed rates (out of USD: EUR
// 0.9091, JPY 149.25; cross rates are the product through USD), and the refusals that change nothing.
// Figures are literals worked by hand from the README's table and the fee rule (2.9% + 30, + 1% when converted,
// stripe.com/pricing).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { BASE_TIME, sdk, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator({ settlementCurrency: 'eur' });

afterEach(() => {
  // Each test starts on the EUR account this file started with.
  emulator().controls.reset();
  emulator().controls.configureAccount({ settlementCurrency: 'eur' });
});

async function settle(amount: number, currency: string): Promise<Stripe.BalanceTransaction> {
  const pi = await stripe().paymentIntents.create({
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
  });
  const charge = await stripe().charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
  return charge.balance_transaction as Stripe.BalanceTransaction;
}

describe('an account that settles in EUR (startEmulator option)', () => {
  it('reports its settings and an empty EUR balance', async () => {
    expect(emulator().controls.configureAccount()).toEqual({ settlementCurrency: 'eur' });
    const res = await fetch(`${emulator().url}/_emulator/account`);
    expect(await res.json()).toEqual({ settlementCurrency: 'eur' });
    expect(await stripe().balance.retrieve()).toMatchObject({
      available: [{ amount: 0, currency: 'eur' }],
      pending: [{ amount: 0, currency: 'eur' }],
    });
  });

  it('converts USD and GBP into EUR; EUR charges are not converted', async () => {
    // 10.00 USD x 0.9091 = 909.1 -> 909; 26.361 -> 26, + 30, + 9.09 -> 9
    expect(await settle(1000, 'usd')).toMatchObject({
      amount: 909,
      currency: 'eur',
      exchange_rate: 0.9091,
      fee: 65,
      net: 844,
    });
    // GBP -> EUR through USD: 1.27 x 0.9091 = 1.154557; 10.00 GBP = 1154.557 -> 1155; 33.495 -> 33, + 30, + 11.55 -> 12
    expect(await settle(1000, 'gbp')).toMatchObject({
      amount: 1155,
      currency: 'eur',
      exchange_rate: 1.154557,
      fee: 75,
      net: 1080,
    });
    expect(await settle(1000, 'eur')).toMatchObject({
      amount: 1000,
      currency: 'eur',
      exchange_rate: null,
      fee: 59,
      net: 941,
    });
    expect((await stripe().balance.retrieve()).pending).toEqual([
      { amount: 844 + 1080 + 941, currency: 'eur', source_types: { card: 2865 } },
    ]);
  });
});

describe('configureAccount', () => {
  it('switches to JPY (zero-decimal) on an account with no balance transactions', async () => {
    emulator().controls.configureAccount({ settlementCurrency: 'JPY' });
    expect(emulator().controls.configureAccount()).toEqual({ settlementCurrency: 'jpy' });
    // 10.00 USD x 149.25 = ¥1492.5 -> ¥1493 (half up); 43.297 -> 43, + 30, + 14.93 -> 15
    expect(await settle(1000, 'usd')).toMatchObject({
      amount: 1493,
      currency: 'jpy',
      exchange_rate: 149.25,
      fee: 88,
      net: 1405,
    });
    // 10.00 EUR x (1.10 x 149.25 = 164.175) = ¥1641.75 -> ¥1642; 47.618 -> 48, + 30, + 16.42 -> 16
    expect(await settle(1000, 'eur')).toMatchObject({
      amount: 1642,
      currency: 'jpy',
      exchange_rate: 164.175,
      fee: 94,
      net: 1548,
    });
  });

  it('refuses an unknown currency and a change once balance transactions exist, changing nothing', async () => {
    expect(() => emulator().controls.configureAccount({ settlementCurrency: 'aud' })).toThrow(/usd, eur, gbp/);
    expect(() => emulator().controls.configureAccount({ settlementCurrency: 'xyz' })).toThrow(/settlementCurrency/);
    expect(() =>
      emulator().controls.configureAccount({ bogus: 1 } as unknown as { settlementCurrency: string }),
    ).toThrow(/Unknown account setting/);
    const bad = await fetch(`${emulator().url}/_emulator/account`, {
      method: 'POST',
      body: JSON.stringify({ settlementCurrency: 42 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/settlementCurrency/);
    expect(emulator().controls.configureAccount()).toEqual({ settlementCurrency: 'eur' });

    await settle(1000, 'usd');
    expect(() => emulator().controls.configureAccount({ settlementCurrency: 'usd' })).toThrow(/reset/);
    const refused = await fetch(`${emulator().url}/_emulator/account`, {
      method: 'POST',
      body: JSON.stringify({ settlementCurrency: 'gbp' }),
    });
    expect(refused.status).toBe(400);
    expect(emulator().controls.configureAccount({ settlementCurrency: 'eur' })).toEqual({ settlementCurrency: 'eur' });
    const [bt] = (await stripe().balanceTransactions.list()).data;
    expect(bt).toMatchObject({ currency: 'eur', amount: 909 });

    // After reset() the account may change again (over HTTP too).
    emulator().controls.reset();
    const ok = await fetch(`${emulator().url}/_emulator/account`, {
      method: 'POST',
      body: JSON.stringify({ settlementCurrency: 'gbp' }),
    });
    expect(await ok.json()).toEqual({ settlementCurrency: 'gbp' });
  });
});

describe('startEmulator({ settlementCurrency }) and the state file', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses an unsupported currency', async () => {
    await expect(startEmulator({ settlementCurrency: 'kwd', tickMs: 0 })).rejects.toThrow(/settlementCurrency/);
  });

  it('keeps the settlement currency across a restart, and refuses another one once money has moved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-fx-'));
    dirs.push(dir);
    const stateFile = join(dir, 'state.json');
    const now = (): Date => new Date(BASE_TIME);
    const first = await startEmulator({ stateFile, now, settlementCurrency: 'gbp', tickMs: 0 });
    await sdk(first).paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    await first.close();
    const second = await startEmulator({ stateFile, now, tickMs: 0 });
    try {
      expect(second.controls.configureAccount()).toEqual({ settlementCurrency: 'gbp' });
      // 10.00 USD x 0.7874 = 787.4 -> 787 pence
      expect((await sdk(second).balanceTransactions.list()).data).toMatchObject([
        { amount: 787, currency: 'gbp', exchange_rate: 0.7874 },
      ]);
    } finally {
      await second.close();
    }
    await expect(startEmulator({ stateFile, now, settlementCurrency: 'usd', tickMs: 0 })).rejects.toThrow(/reset/);
  });
});
