// PaymentIntent create and confirm parameters: the return_url rule of automatic payment methods, and the documented
// parameters the emulator takes, each stored where the object has the field and acted on where Stripe acts on it.
import { describe, expect, it } from 'vitest';
import { failure, useEmulator } from './helpers.js';

const { stripe } = useEmulator();

const NEVER = { enabled: true, allow_redirects: 'never' } as const;

// Stripe's 400 for server-side confirmation under automatic payment methods without a return_url, quoted in full in
// github.com/aschmelyun/laravel-vue-stripe-cashier/issues/4 (also opencollective-frontend#12346, paper_tiger#106).
const RETURN_URL_MESSAGE =
  'A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment ' +
  'methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want ' +
  'to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and ' +
  '`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.';

async function count(): Promise<number> {
  return (await stripe().paymentIntents.list({ limit: 100 })).data.length;
}

describe('server-side confirmation under automatic payment methods (API 2023-08-16 and later)', () => {
  it('refuses confirm=true without a return_url when redirects are allowed (the default), creating nothing', async () => {
    const err = await failure(
      stripe().paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }),
    );
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', message: RETURN_URL_MESSAGE });
    expect(err.raw.type).toBe('invalid_request_error');
    expect(await count()).toBe(0);
    expect((await stripe().charges.list()).data).toHaveLength(0);
  });

  it("succeeds with allow_redirects 'never', echoed as 'never'", async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: NEVER,
    });
    expect(pi).toMatchObject({
      status: 'succeeded',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
  });

  it('succeeds with a return_url, which is accepted only together with confirm=true', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      return_url: 'https://shop.example/return',
    });
    expect(pi).toMatchObject({
      status: 'succeeded',
      automatic_payment_methods: { enabled: true, allow_redirects: 'always' },
    });
    // PaymentIntentCreateParams.return_url: "This parameter can only be used with confirm=true".
    const err = await failure(
      stripe().paymentIntents.create({ amount: 2000, currency: 'usd', return_url: 'https://shop.example/return' }),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'return_url' });
    expect(await count()).toBe(1);
  });

  it('applies to the confirm call too, and a refused confirm changes nothing', async () => {
    const pi = await stripe().paymentIntents.create({ amount: 1500, currency: 'usd' });
    const err = await failure(stripe().paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }));
    expect(err).toMatchObject({ statusCode: 400, message: RETURN_URL_MESSAGE });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
    });
    const ok = await stripe().paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      return_url: 'https://shop.example/return',
    });
    expect(ok.status).toBe('succeeded');
  });

  it('does not apply with allowed_payment_method_types (automatic payment methods off)', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    expect(pi).toMatchObject({
      status: 'succeeded',
      automatic_payment_methods: null,
      allowed_payment_method_types: ['card'],
      payment_method_types: ['card'],
    });
  });

  it('refuses automatic payment methods together with allowed_payment_method_types, and a bad allow_redirects', async () => {
    const both = await failure(
      stripe().paymentIntents.create({
        amount: 1500,
        currency: 'usd',
        allowed_payment_method_types: ['card'],
        automatic_payment_methods: NEVER,
      }),
    );
    expect(both).toMatchObject({ statusCode: 400, param: 'automatic_payment_methods' });
    const bad = await failure(
      stripe().paymentIntents.create({
        amount: 1500,
        currency: 'usd',
        automatic_payment_methods: { enabled: true, allow_redirects: 'sometimes' as never },
      }),
    );
    expect(bad).toMatchObject({ statusCode: 400, param: 'automatic_payment_methods[allow_redirects]' });
    expect(await count()).toBe(0);
  });
});

describe('create parameters', () => {
  const shipping = {
    name: 'Ada Lovelace',
    phone: '+44 20 7946 0000',
    address: { line1: '12 St James Sq', city: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
  };

  it('stores and echoes shipping, on_behalf_of, transfer_data, application_fee_amount, descriptors and card options', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
      automatic_payment_methods: NEVER,
      shipping,
      on_behalf_of: 'acct_1Connected',
      transfer_data: { destination: 'acct_1Connected', amount: 4000 },
      application_fee_amount: 300,
      statement_descriptor_suffix: 'ORDER 42',
      payment_method_options: {
        card: { request_three_d_secure: 'any', request_incremental_authorization: 'if_available' },
      },
      expand: ['latest_charge'],
    });
    expect(pi).toMatchObject({
      status: 'requires_capture',
      on_behalf_of: 'acct_1Connected',
      transfer_data: { destination: 'acct_1Connected', amount: 4000 },
      application_fee_amount: 300,
      statement_descriptor: null,
      statement_descriptor_suffix: 'ORDER 42',
      shipping: {
        name: 'Ada Lovelace',
        phone: '+44 20 7946 0000',
        carrier: null,
        tracking_number: null,
        address: {
          line1: '12 St James Sq',
          line2: null,
          city: 'London',
          postal_code: 'SW1Y 4JH',
          country: 'GB',
          state: null,
        },
      },
      payment_method_options: {
        card: { request_three_d_secure: 'any', request_incremental_authorization: 'if_available' },
      },
    });
    // The charge carries them too (Charges.d.ts: on_behalf_of, transfer_data, application_fee_amount, shipping).
    expect(pi.latest_charge).toMatchObject({
      on_behalf_of: 'acct_1Connected',
      transfer_data: { destination: 'acct_1Connected', amount: 4000 },
      application_fee_amount: 300,
      shipping: { name: 'Ada Lovelace' },
      statement_descriptor_suffix: 'ORDER 42',
      payment_method_details: { card: { incremental_authorization: { status: 'available' } } },
    });
  });

  it('refuses bad values and changes nothing', async () => {
    const base = { amount: 5000, currency: 'usd' } as const;
    const cases: [Record<string, unknown>, string][] = [
      [{ shipping: { address: { line1: 'x' } } }, 'shipping[name]'],
      [{ shipping: { name: 'A' } }, 'shipping[address]'],
      [{ shipping: { name: 'A', address: { city: 'X', planet: 'Mars' } } }, 'shipping[address][planet]'],
      [
        { automatic_payment_methods: { enabled: true }, mandate_data: { customer_acceptance: { type: 'sometimes' } } },
        'mandate_data[customer_acceptance][type]',
      ],
      [{ transfer_data: { amount: 10 } }, 'transfer_data[destination]'],
      [{ transfer_data: { destination: 'acct_1X', amount: 5001 } }, 'transfer_data[amount]'],
      [{ application_fee_amount: 5001 }, 'application_fee_amount'],
      [{ application_fee_amount: -1 }, 'application_fee_amount'],
      [{ on_behalf_of: 'cus_123' }, 'on_behalf_of'],
      [{ statement_descriptor_suffix: 'X'.repeat(23) }, 'statement_descriptor_suffix'],
      [
        { payment_method_options: { card: { request_three_d_secure: 'sometimes' } } },
        'payment_method_options[card][request_three_d_secure]',
      ],
      [
        { payment_method_options: { card: { installments: { enabled: true } } } },
        'payment_method_options[card][installments]',
      ],
      [{ mandate_data: { customer_acceptance: { type: 'offline' } } }, 'mandate_data'],
    ];
    for (const [extra, param] of cases) {
      const err = await failure(stripe().paymentIntents.create({ ...base, ...extra } as never));
      expect({ param: err.param, status: err.statusCode }).toEqual({ param, status: 400 });
    }
    expect(await count()).toBe(0);
  });

  it('statement_descriptor is for non-card charges: a card payment with it is refused', async () => {
    // PaymentIntentCreateParams.statement_descriptor: "Setting this value for a card charge returns an error."
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: NEVER,
        statement_descriptor: 'SETTLE SHOP',
      }),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'statement_descriptor' });
    expect(await count()).toBe(0);
    // An ACH debit takes it as its full descriptor.
    const ach = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_usBankAccount',
      confirm: true,
      automatic_payment_methods: NEVER,
      statement_descriptor: 'SETTLE SHOP',
      mandate_data: {
        customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0' } },
      },
      expand: ['latest_charge'],
    });
    expect(ach).toMatchObject({ status: 'processing', statement_descriptor: 'SETTLE SHOP' });
    expect(ach.latest_charge).toMatchObject({
      statement_descriptor: 'SETTLE SHOP',
      calculated_statement_descriptor: 'SETTLE SHOP',
    });
  });

  it('mandate_data needs confirm=true and an online acceptance needs ip_address and user_agent', async () => {
    const acceptance = { type: 'online' as const, online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0' } };
    expect(
      await failure(
        stripe().paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          mandate_data: { customer_acceptance: acceptance },
        }),
      ),
    ).toMatchObject({ statusCode: 400, param: 'mandate_data' });
    expect(
      await failure(
        stripe().paymentIntents.create({
          amount: 1000,
          currency: 'usd',
          payment_method: 'pm_usBankAccount',
          confirm: true,
          automatic_payment_methods: NEVER,
          mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7' } } as never },
        }),
      ),
    ).toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'mandate_data[customer_acceptance][online][user_agent]',
    });
    expect(await count()).toBe(0);
  });

  it('payment_method_data creates the PaymentMethod the PaymentIntent uses (POST /v1/payment_methods rules)', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      confirm: true,
      automatic_payment_methods: NEVER,
      payment_method_data: { type: 'card', card: { token: 'tok_visa' }, billing_details: { name: 'Ada' } } as never,
      expand: ['payment_method'],
    });
    expect(pi).toMatchObject({
      status: 'succeeded',
      payment_method: {
        object: 'payment_method',
        type: 'card',
        billing_details: { name: 'Ada' },
        card: { last4: '4242' },
      },
    });
    const both = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        payment_method_data: { type: 'card', card: { token: 'tok_visa' } } as never,
      }),
    );
    expect(both).toMatchObject({ statusCode: 400, param: 'payment_method_data' });
    const bad = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method_data: { type: 'card', card: { token: 'tok_visa' }, ideal: { bank: 'abn_amro' } } as never,
      }),
    );
    expect(bad).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'payment_method_data[ideal]' });
    expect(await count()).toBe(1);
  });

  it('unknown parameters stay parameter_unknown', async () => {
    const err = await failure(
      stripe().paymentIntents.create({ amount: 1000, currency: 'usd', radar_options: { session: 'x' } }),
    );
    expect(err).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'radar_options' });
  });
});

describe('confirm parameters', () => {
  it('capture_method, receipt_email and allowed_payment_method_types change the payment before it is made', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      automatic_payment_methods: NEVER,
    });
    const confirmed = await stripe().paymentIntents.confirm(pi.id, {
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      receipt_email: 'ada@example.com',
      allowed_payment_method_types: ['card'],
      expand: ['latest_charge'],
    });
    expect(confirmed).toMatchObject({
      status: 'requires_capture',
      capture_method: 'manual',
      amount_capturable: 2500,
      receipt_email: 'ada@example.com',
      payment_method_types: ['card'],
      allowed_payment_method_types: ['card'],
      automatic_payment_methods: null,
    });
    expect(confirmed.latest_charge).toMatchObject({ captured: false, receipt_email: 'ada@example.com' });
  });

  it('a refused confirm (a type the payment method is not) changes nothing', async () => {
    const pi = await stripe().paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      automatic_payment_methods: NEVER,
    });
    const err = await failure(
      stripe().paymentIntents.confirm(pi.id, {
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
        allowed_payment_method_types: ['us_bank_account'],
      }),
    );
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_incompatible_payment_method' });
    expect(await stripe().paymentIntents.retrieve(pi.id)).toMatchObject({
      status: 'requires_payment_method',
      capture_method: 'automatic_async',
      payment_method_types: ['card', 'us_bank_account'],
    });
  });
});
