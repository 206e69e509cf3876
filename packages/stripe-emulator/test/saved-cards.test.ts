// Stripe's saved-card rules, as Stripe answers them. The messages are Stripe's, quoted in public issues:
// - reuse of a spent or detached PaymentMethod: the full error body in github.com/Automattic/woocommerce-payments
//   issue 323 (a failed payment retried with the same PaymentMethod; no code, no param), the same text in
//   liberapay/liberapay.com#2686 and stripe/stripe-react-native#1170;
// - a customer's PaymentMethod on an intent without a customer: ezet/stripe-sdk#49;
// - another customer's PaymentMethod: getlago/lago-api#3826;
// - setup_future_usage with a customer attaches the PaymentMethod (stripe-node PaymentIntentCreateParams).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';
import { BASE_TIME, failure, sdk, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const REUSE =
  'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a ' +
  'connected account without Customer attachment, or was detached from a Customer. It may not be used again. To ' +
  'use a PaymentMethod multiple times, you must attach it to a Customer first.';

// Card-only confirmation without a redirect-capable method (no return_url needed; docs.stripe.com/upgrades#2023-08-16).
const NO_REDIRECTS = { enabled: true, allow_redirects: 'never' } as const;

function pay(params: Partial<Stripe.PaymentIntentCreateParams>): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount: 2000,
    currency: 'usd',
    confirm: true,
    automatic_payment_methods: NO_REDIRECTS,
    ...params,
  });
}

async function eventTypes(): Promise<string[]> {
  return (await stripe().events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('a PaymentMethod used without a customer', () => {
  it('cannot be charged again nor attached afterwards, and the refusal changes nothing', async () => {
    const first = await pay({ payment_method: 'pm_card_visa' });
    expect(first.status).toBe('succeeded');
    const pm = first.payment_method as string;
    const again = await failure(pay({ payment_method: pm }));
    expect(again).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400, message: REUSE });
    expect(again.code).toBeUndefined();
    expect(again.param).toBeUndefined();
    const customer = await stripe().customers.create({});
    const attach = await failure(stripe().paymentMethods.attach(pm, { customer: customer.id }));
    expect(attach).toMatchObject({ statusCode: 400, message: REUSE });
    expect((await stripe().paymentIntents.list()).data).toHaveLength(1);
    expect((await stripe().paymentMethods.retrieve(pm)).customer).toBeNull();
  });

  it('is spent by a declined attempt too (woocommerce-payments#323: a retry after a failure)', async () => {
    const declined = await failure(pay({ payment_method: 'pm_card_visa_chargeDeclined' }));
    expect(declined.type).toBe('StripeCardError');
    const pm = declined.payment_method.id as string;
    expect(await failure(pay({ payment_method: pm }))).toMatchObject({ statusCode: 400, message: REUSE });
  });

  it('is not spent while the intent waits for 3-D Secure: the same intent can be confirmed again', async () => {
    const pi = await pay({ payment_method: 'pm_card_authenticationRequired' });
    expect(pi.status).toBe('requires_action');
    const again = await stripe().paymentIntents.confirm(pi.id, { payment_method: pi.payment_method as string });
    expect(again.status).toBe('requires_action');
  });

  it('with a customer but without setup_future_usage, is not attached and is spent', async () => {
    const customer = await stripe().customers.create({});
    const pi = await pay({ payment_method: 'pm_card_visa', customer: customer.id });
    const pm = await stripe().paymentMethods.retrieve(pi.payment_method as string);
    expect(pm.customer).toBeNull();
    expect(await failure(pay({ payment_method: pm.id, customer: customer.id }))).toMatchObject({ message: REUSE });
  });

  it('magic test ids make a fresh PaymentMethod each time, so they can be used again and again', async () => {
    const a = await pay({ payment_method: 'pm_card_visa' });
    const b = await pay({ payment_method: 'pm_card_visa' });
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(a.payment_method).not.toBe(b.payment_method);
    expect(a.payment_method).toMatch(/^pm_/);
  });
});

describe('setup_future_usage with a customer', () => {
  it('attaches the PaymentMethod on success (payment_method.attached), so it can be charged off-session later', async () => {
    const customer = await stripe().customers.create({ email: 'save@example.com' });
    const pi = await pay({ payment_method: 'pm_card_visa', customer: customer.id, setup_future_usage: 'off_session' });
    expect(pi.status).toBe('succeeded');
    const pm = await stripe().paymentMethods.retrieve(pi.payment_method as string);
    expect(pm.customer).toBe(customer.id);
    expect(await eventTypes()).toContain('payment_method.attached');
    const later = await pay({ payment_method: pm.id, customer: customer.id, off_session: true });
    expect(later.status).toBe('succeeded');
  });

  it('given on confirm, attaches as well', async () => {
    const customer = await stripe().customers.create({});
    const pi = await stripe().paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_mastercard',
      automatic_payment_methods: NO_REDIRECTS,
    });
    await stripe().paymentIntents.confirm(pi.id, { setup_future_usage: 'off_session' });
    expect((await stripe().paymentMethods.retrieve(pi.payment_method as string)).customer).toBe(customer.id);
  });

  it('does not attach a declined card, which is spent', async () => {
    const customer = await stripe().customers.create({});
    const err = await failure(
      pay({ payment_method: 'pm_card_visa_chargeDeclined', customer: customer.id, setup_future_usage: 'off_session' }),
    );
    const pm = err.payment_method.id as string;
    expect((await stripe().paymentMethods.retrieve(pm)).customer).toBeNull();
    expect(await failure(pay({ payment_method: pm, customer: customer.id }))).toMatchObject({ message: REUSE });
  });
});

describe('a PaymentMethod attached to a customer', () => {
  it('cannot be used on an intent without that customer (ezet/stripe-sdk#49)', async () => {
    const customer = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const err = await failure(pay({ payment_method: pm.id }));
    expect(err).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      param: 'payment_method',
      message:
        `The \`payment_method\` parameter supplied ${pm.id} belongs to the Customer ${customer.id}. ` +
        'Please include the Customer in the `customer` parameter on the PaymentIntent.',
    });
    expect((await stripe().paymentIntents.list()).data).toHaveLength(0);
  });

  it("cannot be used on another customer's intent, at create or at confirm (getlago/lago-api#3826)", async () => {
    const owner = await stripe().customers.create({});
    const other = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: owner.id });
    const message = `The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`;
    expect(await failure(pay({ payment_method: pm.id, customer: other.id }))).toMatchObject({
      statusCode: 400,
      param: 'payment_method',
      message,
    });
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: other.id,
      automatic_payment_methods: NO_REDIRECTS,
    });
    expect(await failure(stripe().paymentIntents.confirm(pi.id, { payment_method: pm.id }))).toMatchObject({
      param: 'payment_method',
      message,
    });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
    });
  });

  it('is charged again and again with its customer', async () => {
    const customer = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    for (const amount of [1000, 2000]) {
      expect((await pay({ amount, payment_method: pm.id, customer: customer.id })).status).toBe('succeeded');
    }
  });

  it('once detached, may not be used again nor attached again (liberapay#2686: "or was detached")', async () => {
    const customer = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const detached = await stripe().paymentMethods.detach(pm.id);
    expect(detached).toMatchObject({ id: pm.id, customer: null });
    expect(await eventTypes()).toEqual(['customer.created', 'payment_method.attached', 'payment_method.detached']);
    expect(await failure(pay({ payment_method: pm.id, customer: customer.id }))).toMatchObject({ message: REUSE });
    expect(await failure(pay({ payment_method: pm.id }))).toMatchObject({ message: REUSE });
    expect(await failure(stripe().paymentMethods.attach(pm.id, { customer: customer.id }))).toMatchObject({
      statusCode: 400,
      message: REUSE,
    });
  });
});

describe('persistence', () => {
  it('a spent PaymentMethod stays spent, and a SetupIntent stays, across a restart from the state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-cards-'));
    try {
      const stateFile = join(dir, 'state.json');
      const now = (): Date => new Date(BASE_TIME);
      const first = await startEmulator({ stateFile, now, tickMs: 0 });
      const s1 = sdk(first);
      const pi = await s1.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: NO_REDIRECTS,
      });
      const si = await s1.setupIntents.create({ usage: 'on_session' });
      await first.close();
      const second = await startEmulator({ stateFile, now, tickMs: 0 });
      try {
        const s2 = sdk(second);
        const again = await failure(
          s2.paymentIntents.create({
            amount: 1000,
            currency: 'usd',
            payment_method: pi.payment_method as string,
            confirm: true,
            automatic_payment_methods: NO_REDIRECTS,
          }),
        );
        expect(again).toMatchObject({ statusCode: 400, message: REUSE });
        expect(await s2.setupIntents.retrieve(si.id)).toMatchObject({
          status: 'requires_payment_method',
          usage: 'on_session',
        });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
