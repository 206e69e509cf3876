// Connect: connected accounts (Accounts.d.ts) and the Stripe-Account header (docs.stripe.com/api/connected-accounts):
// a request with the header acts on that account, whose objects the platform does not see, and the reverse.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { BASE_TIME, failure, raw, sdk, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

async function account(params: Partial<Stripe.AccountCreateParams> = {}): Promise<Stripe.Account> {
  return stripe().accounts.create({ type: 'express', country: 'US', ...params });
}

/** A 10000 usd card payment on `stripeAccount` (or the platform). */
async function pay(stripeAccount?: string, amount = 10_000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create(
    {
      amount,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'automatic',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    },
    stripeAccount === undefined ? {} : { stripeAccount },
  );
}

describe('connected accounts', () => {
  it('create, retrieve and list (newest first)', async () => {
    const a = await account({
      email: 'shop@example.com',
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      metadata: { shop: '7' },
    });
    expect(a.id).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(a).toMatchObject({
      object: 'account',
      type: 'express',
      country: 'US',
      default_currency: 'usd',
      email: 'shop@example.com',
      capabilities: { card_payments: 'active', transfers: 'active' },
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      metadata: { shop: '7' },
    });
    const b = await account({ type: 'custom', country: 'gb' });
    expect(b).toMatchObject({ type: 'custom', country: 'GB', default_currency: 'gbp', email: null, capabilities: {} });
    const s = await account({ type: 'standard', country: 'DE', default_currency: 'eur' });
    expect(s).toMatchObject({ type: 'standard', default_currency: 'eur' });
    expect(await stripe().accounts.retrieve(a.id)).toEqual(a);
    expect((await stripe().accounts.list()).data.map((x) => x.id)).toEqual([s.id, b.id, a.id]);
    expect((await stripe().accounts.list({ limit: 1, starting_after: s.id })).data.map((x) => x.id)).toEqual([b.id]);
  });

  it('refuses bad parameters with a 400 and creates nothing', async () => {
    const cases: [Record<string, unknown>, string, string | undefined][] = [
      [{ country: 'US' }, 'type', 'parameter_missing'],
      [{ type: 'platinum' }, 'type', 'parameter_invalid_string'],
      [{ type: 'express', country: 'USA' }, 'country', 'country_code_invalid'],
      [{ type: 'express', email: 'not-an-email' }, 'email', 'email_invalid'],
      [
        { type: 'express', capabilities: { transfers: { requested: 'maybe' } } },
        'capabilities[transfers][requested]',
        'parameter_invalid_string',
      ],
      [{ type: 'express', colour: 'red' }, 'colour', 'parameter_unknown'],
    ];
    for (const [params, param, code] of cases) {
      const err = await failure(stripe().accounts.create(params as Stripe.AccountCreateParams));
      expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param, code });
    }
    expect((await stripe().accounts.list()).data).toEqual([]);
  });

  it('an unknown account id answers 403 account_invalid (retrieve, and as Stripe-Account)', async () => {
    const err = await failure(stripe().accounts.retrieve('acct_1NoSuchAccount000'));
    expect(err).toMatchObject({ statusCode: 403, type: 'StripePermissionError', code: 'account_invalid' });
    expect(err.message).toContain("does not have access to account 'acct_1NoSuchAccount000'");
    const viaHeader = await failure(pay('acct_1NoSuchAccount000'));
    expect(viaHeader).toMatchObject({ statusCode: 403, type: 'StripePermissionError', code: 'account_invalid' });
    expect(viaHeader.message).toMatch(
      /^The provided key 'sk_test_\**' does not have access to account 'acct_1NoSuchAccount000' \(or that account does not exist\)\. Application access may have been revoked\.$/,
    );
    // Nothing happened anywhere.
    expect((await stripe().paymentIntents.list()).data).toEqual([]);
    expect((await stripe().events.list()).data).toEqual([]);
  });
});

describe('the Stripe-Account header', () => {
  it("objects made on a connected account are that account's only, and the platform's are the platform's only", async () => {
    const a = await account();
    const b = await account();
    const onA = await pay(a.id);
    const onPlatform = await pay(undefined, 2000);
    const chargeA = onA.latest_charge as string;
    expect(onA.status).toBe('succeeded');

    // Reads: each account sees its own objects; another account and the platform get Stripe's 404.
    expect((await stripe().paymentIntents.retrieve(onA.id, {}, { stripeAccount: a.id })).id).toBe(onA.id);
    for (const other of [{}, { stripeAccount: b.id }]) {
      expect(await failure(stripe().paymentIntents.retrieve(onA.id, {}, other))).toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
      });
      expect(await failure(stripe().charges.retrieve(chargeA, {}, other))).toMatchObject({ statusCode: 404 });
    }
    expect(await failure(stripe().paymentIntents.retrieve(onPlatform.id, {}, { stripeAccount: a.id }))).toMatchObject({
      statusCode: 404,
    });

    // Lists.
    const ids = async (opts: Stripe.RequestOptions): Promise<string[]> =>
      (await stripe().paymentIntents.list({}, opts)).data.map((p) => p.id);
    expect(await ids({ stripeAccount: a.id })).toEqual([onA.id]);
    expect(await ids({ stripeAccount: b.id })).toEqual([]);
    expect(await ids({})).toEqual([onPlatform.id]);
    expect((await stripe().charges.list({}, { stripeAccount: a.id })).data.map((c) => c.id)).toEqual([chargeA]);

    // Balance transactions and the balance, per account: 10000 - (290 + 30) on A, 2000 - (58 + 30) on the platform.
    const btA = await stripe().balanceTransactions.list({}, { stripeAccount: a.id });
    expect(btA.data.map((t) => [t.type, t.amount, t.net, t.source])).toEqual([['charge', 10_000, 9680, chargeA]]);
    const pending = async (opts: Stripe.RequestOptions): Promise<number> =>
      (await stripe().balance.retrieve({}, opts)).pending.find((x) => x.currency === 'usd')?.amount ?? 0;
    expect(await pending({ stripeAccount: a.id })).toBe(9680);
    expect(await pending({ stripeAccount: b.id })).toBe(0);
    expect(await pending({})).toBe(1912);

    // Refunds on the account refund the account's charge.
    const refund = await stripe().refunds.create({ payment_intent: onA.id, amount: 1000 }, { stripeAccount: a.id });
    expect(refund).toMatchObject({ charge: chargeA, amount: 1000, status: 'succeeded' });
    expect(await failure(stripe().refunds.create({ payment_intent: onA.id }))).toMatchObject({ statusCode: 404 });
    expect((await stripe().refunds.list()).data).toEqual([]);
    // The refund's -1000 counts at once (available), the charge's net is still pending.
    const balanceA = await stripe().balance.retrieve({}, { stripeAccount: a.id });
    expect(balanceA.available.find((x) => x.currency === 'usd')!.amount).toBe(-1000);
    expect(await pending({ stripeAccount: a.id })).toBe(9680);
    expect((await stripe().balance.retrieve()).available.find((x) => x.currency === 'usd')?.amount ?? 0).toBe(0);
  });

  it('events on a connected account carry `account`; the platform sees only its own events, without it', async () => {
    const a = await account();
    const pi = await pay(a.id);
    await pay();
    const onA = (await stripe().events.list({}, { stripeAccount: a.id })).data;
    expect(onA.map((e) => e.type).sort()).toEqual([
      'charge.succeeded',
      'payment_intent.created',
      'payment_intent.succeeded',
    ]);
    for (const e of onA) expect(e.account).toBe(a.id);
    expect(onA.find((e) => e.type === 'payment_intent.succeeded')!.data.object).toMatchObject({ id: pi.id });
    const platform = (await stripe().events.list()).data;
    expect(platform).toHaveLength(3);
    for (const e of platform) expect(e).not.toHaveProperty('account');
    expect(await failure(stripe().events.retrieve(onA[0]!.id))).toMatchObject({ statusCode: 404 });
  });

  it('objects the header account gets from test tokens and customers are its own', async () => {
    const a = await account();
    const customer = await stripe().customers.create({ email: 'c@example.com' }, { stripeAccount: a.id });
    expect(await failure(stripe().customers.retrieve(customer.id))).toMatchObject({ statusCode: 404 });
    expect((await stripe().customers.list({}, { stripeAccount: a.id })).data.map((c) => c.id)).toEqual([customer.id]);
    expect((await stripe().customers.list()).data).toEqual([]);
  });

  it('idempotency keys are per account: one key on two accounts makes two payments', async () => {
    const a = await account();
    const b = await account();
    const params: Stripe.PaymentIntentCreateParams = { amount: 500, currency: 'usd' };
    const first = await stripe().paymentIntents.create(params, { stripeAccount: a.id, idempotencyKey: 'k-1' });
    const again = await stripe().paymentIntents.create(params, { stripeAccount: a.id, idempotencyKey: 'k-1' });
    const other = await stripe().paymentIntents.create(params, { stripeAccount: b.id, idempotencyKey: 'k-1' });
    const platform = await stripe().paymentIntents.create(params, { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
    expect(new Set([first.id, other.id, platform.id]).size).toBe(3);
  });

  it('the header is read from raw HTTP too, and an empty header means the platform', async () => {
    const a = await account();
    const made = await raw(emulator(), 'POST', '/v1/customers', 'email=x%40example.com', { 'Stripe-Account': a.id });
    expect(made.status).toBe(200);
    expect(
      (await raw(emulator(), 'GET', `/v1/customers/${made.json.id}`, undefined, { 'Stripe-Account': '' })).status,
    ).toBe(404);
    expect(
      (await raw(emulator(), 'GET', `/v1/customers/${made.json.id}`, undefined, { 'Stripe-Account': a.id })).status,
    ).toBe(200);
  });

  it("controls act on the account owning the object: a Dashboard refund of a connected account's payment", async () => {
    const a = await account();
    const pi = await pay(a.id);
    const refund = emulator().controls.dashboardRefund({ payment_intent: pi.id, amount: 700 });
    expect(refund).toMatchObject({ amount: 700, charge: pi.latest_charge });
    expect((await stripe().refunds.list({}, { stripeAccount: a.id })).data.map((r) => r.id)).toEqual([refund.id]);
    expect((await stripe().refunds.list()).data).toEqual([]);
    const ev = (await stripe().events.list({ type: 'refund.created' }, { stripeAccount: a.id })).data;
    expect(ev.map((e) => [e.account, e.request?.id])).toEqual([[a.id, null]]);
    // runPayouts pays out the platform's balance only.
    emulator().controls.advanceClock(2 * 24 * 3600 * 1000);
    emulator().controls.runPayouts();
    expect((await stripe().payouts.list()).data).toEqual([]);
  });

  it('the clock runs each account on its own: pending funds become available per account', async () => {
    const a = await account();
    await pay(a.id);
    emulator().controls.advanceClock(2 * 24 * 3600 * 1000 + 1000);
    const balance = await stripe().balance.retrieve({}, { stripeAccount: a.id });
    // Available now; the platform's midnight automatic payout does not sweep the connected account's money.
    const available = balance.available.find((x) => x.currency === 'usd')?.amount ?? 0;
    const paidOut = (await stripe().payouts.list({}, { stripeAccount: a.id })).data.reduce((s, p) => s + p.amount, 0);
    expect(available + paidOut).toBe(9680);
    expect((await stripe().payouts.list()).data).toEqual([]);
    const platformEvents = (await stripe().events.list({ type: 'balance.available' })).data;
    expect(platformEvents).toEqual([]);
    const accountEvents = (await stripe().events.list({ type: 'balance.available' }, { stripeAccount: a.id })).data;
    expect(accountEvents.length).toBeGreaterThan(0);
    expect(accountEvents[0]!.account).toBe(a.id);
  });
});

describe('Connect in the state file', () => {
  it('accounts, and which account owns each object, survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-connect-'));
    try {
      const stateFile = join(dir, 'state.json');
      const now = (): Date => new Date(BASE_TIME);
      const first = await startEmulator({ stateFile, now });
      const acct = (await sdk(first).accounts.create({ type: 'express' })).id;
      const customer = await sdk(first).customers.create({ email: 'p@example.com' }, { stripeAccount: acct });
      await first.close();
      const second = await startEmulator({ stateFile, now });
      try {
        const s2 = sdk(second);
        expect((await s2.accounts.retrieve(acct)).id).toBe(acct);
        expect((await s2.customers.retrieve(customer.id, {}, { stripeAccount: acct })).id).toBe(customer.id);
        expect(await failure(s2.customers.retrieve(customer.id))).toMatchObject({ statusCode: 404 });
        const events = (await s2.events.list({}, { stripeAccount: acct })).data;
        expect(events.map((e) => [e.type, e.account])).toEqual([['customer.created', acct]]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
