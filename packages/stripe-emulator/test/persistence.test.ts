import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { BASE_TIME, DAY, sdk } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps objects, idempotency records and the clock across close and restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-'));
    dirs.push(dir);
    const stateFile = join(dir, 'nested', 'stripe-emulator.json');
    const now = (): Date => new Date(BASE_TIME);

    const first = await startEmulator({ stateFile, now });
    const s1 = sdk(first);
    const customer = await s1.customers.create({ email: 'x@example.com' });
    const pi = await s1.paymentIntents.create(
      {
        amount: 10000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        customer: customer.id,
        metadata: { settle_txn: 'p1' },
      },
      { idempotencyKey: 'persist-1' },
    );
    await s1.paymentIntents.capture(pi.id, { amount_to_capture: 7000 });
    const refund = await s1.refunds.create({ payment_intent: pi.id, amount: 1000 });
    first.controls.advanceClock(3 * DAY);
    const later = await s1.customers.create({ email: 'y@example.com' }, { idempotencyKey: 'persist-2' });
    await first.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).version).toBe(1);

    const second = await startEmulator({ stateFile, now });
    try {
      const s2 = sdk(second);
      expect(second.controls.now().getTime()).toBe(BASE_TIME.getTime() + 3 * DAY);
      const again = await s2.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
      expect(again).toMatchObject({ status: 'succeeded', amount_received: 7000, customer: customer.id });
      expect(again.latest_charge).toMatchObject({
        amount_refunded: 4000,
        balance_transaction: { status: 'available' },
      });
      expect(await s2.refunds.retrieve(refund.id)).toMatchObject({ amount: 1000 });
      // The 3 days crossed UTC midnights: once the charge's funds were available an automatic payout took them.
      expect((await s2.balanceTransactions.list()).data.map((b) => b.type).sort()).toEqual([
        'charge',
        'payout',
        'refund',
        'refund',
      ]);
      expect((await s2.payouts.list()).data).toHaveLength(1);
      expect((await s2.paymentIntents.list()).data).toHaveLength(1);
      expect((await s2.paymentIntents.search({ query: "metadata['settle_txn']:'p1'" })).data[0]?.id).toBe(pi.id);
      const replay = await s2.paymentIntents.create(
        {
          amount: 10000,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          capture_method: 'manual',
          confirm: true,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          customer: customer.id,
          metadata: { settle_txn: 'p1' },
        },
        { idempotencyKey: 'persist-1' },
      );
      // persist-1 is more than 24 hours old on the restored clock: a new request. persist-2 is replayed.
      expect(replay.id).not.toBe(pi.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBeUndefined();
      const replay2 = await s2.customers.create({ email: 'y@example.com' }, { idempotencyKey: 'persist-2' });
      expect(replay2.id).toBe(later.id);
      expect(replay2.lastResponse.headers['idempotent-replayed']).toBe('true');
      // The stored test card keeps its behaviour after a restart.
      const pm = await s2.paymentMethods.attach('pm_card_visa_chargeDeclined', { customer: customer.id });
      await second.close();
      const third = await startEmulator({ stateFile, now });
      const err = await sdk(third)
        .paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          customer: customer.id,
          payment_method: pm.id,
          confirm: true,
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 402, decline_code: 'generic_decline' });
      await third.close();
    } finally {
      await second.close();
    }
  });

  it('keeps events and the clock-driven schedule (an ACH debit settles after a restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-'));
    dirs.push(dir);
    const stateFile = join(dir, 'state.json');
    const now = (): Date => new Date(BASE_TIME);
    const first = await startEmulator({ stateFile, now });
    const pi = await sdk(first).paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_usBankAccount',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    const before = (await sdk(first).events.list()).data.map((e) => e.id);
    first.controls.advanceClock(DAY);
    await first.close();
    const second = await startEmulator({ stateFile, now });
    try {
      expect((await sdk(second).events.list()).data.map((e) => e.id)).toEqual(before);
      second.controls.advanceClock(3 * DAY);
      expect((await sdk(second).paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
      expect((await sdk(second).events.list({ limit: 1 })).data[0]!.type).toBe('payment_intent.succeeded');
    } finally {
      await second.close();
    }
  });

  it('without a state file nothing is kept', async () => {
    const a = await startEmulator();
    const pi = await sdk(a).paymentIntents.create({ amount: 1000, currency: 'usd' });
    await a.close();
    const b = await startEmulator();
    expect(
      await sdk(b)
        .paymentIntents.retrieve(pi.id)
        .catch((e: unknown) => e),
    ).toMatchObject({ statusCode: 404 });
    await b.close();
  });
});
