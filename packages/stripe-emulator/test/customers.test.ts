// Customers and PaymentMethods endpoints (docs.stripe.com/api/customers, docs.stripe.com/api/payment_methods;
// Customers.d.ts, PaymentMethods.d.ts): shapes, filters, pagination, events, and refusals that change nothing.
import { describe, expect, it } from 'vitest';
import { failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

describe('customers', () => {
  it('updates fields and metadata, recording customer.updated with previous_attributes', async () => {
    const c = await stripe().customers.create({ email: 'old@example.com', name: 'Ada', metadata: { a: '1', b: '2' } });
    const updated = await stripe().customers.update(c.id, {
      email: 'new@example.com',
      phone: '+15555550100',
      metadata: { a: '', c: '3' },
      address: { line1: '1 Main St', city: 'Springfield', country: 'US' },
    });
    expect(updated).toMatchObject({
      id: c.id,
      email: 'new@example.com',
      name: 'Ada',
      phone: '+15555550100',
      metadata: { b: '2', c: '3' },
      address: { line1: '1 Main St', city: 'Springfield', country: 'US', line2: null, postal_code: null, state: null },
    });
    const [event] = (await stripe().events.list({ limit: 1 })).data;
    expect(event!.type).toBe('customer.updated');
    expect(event!.data.previous_attributes).toMatchObject({
      email: 'old@example.com',
      phone: null,
      address: null,
      metadata: { a: '1', c: null },
    });
    expect(await stripe().customers.retrieve(c.id)).toMatchObject({ email: 'new@example.com' });
  });

  it('sets invoice_settings.default_payment_method only to one of its own PaymentMethods', async () => {
    const c = await stripe().customers.create({});
    const other = await stripe().customers.create({});
    const mine = await stripe().paymentMethods.attach('pm_card_visa', { customer: c.id });
    const theirs = await stripe().paymentMethods.attach('pm_card_visa', { customer: other.id });
    const err = await failure(
      stripe().customers.update(c.id, { invoice_settings: { default_payment_method: theirs.id } }),
    );
    expect(err).toMatchObject({
      statusCode: 400,
      param: 'invoice_settings[default_payment_method]',
      message: `The customer does not have a payment method with the ID ${theirs.id}. The payment method must be attached to the customer.`,
    });
    const ok = await stripe().customers.update(c.id, { invoice_settings: { default_payment_method: mine.id } });
    expect(ok.invoice_settings.default_payment_method).toBe(mine.id);
    // Detaching the default clears it (customer.updated).
    await stripe().paymentMethods.detach(mine.id);
    expect((await stripe().customers.retrieve(c.id)) as { invoice_settings: unknown }).toMatchObject({
      invoice_settings: { default_payment_method: null },
    });
  });

  it('refuses bad updates without changing anything', async () => {
    const c = await stripe().customers.create({ email: 'keep@example.com' });
    const unknown = await raw(emulator(), 'POST', `/v1/customers/${c.id}`, 'email=x%40example.com&shoe_size=9');
    expect(unknown.json.error).toMatchObject({ code: 'parameter_unknown', param: 'shoe_size' });
    const badMeta = await raw(
      emulator(),
      'POST',
      `/v1/customers/${c.id}`,
      `email=y%40example.com&metadata[${'k'.repeat(41)}]=v`,
    );
    expect(badMeta.status).toBe(400);
    expect(await stripe().customers.retrieve(c.id)).toMatchObject({ email: 'keep@example.com' });
    expect(await failure(stripe().customers.update('cus_missing', { name: 'x' }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
  });

  it('deletes: {id, object, deleted: true}; the customer is then retrievable as deleted and unusable', async () => {
    const c = await stripe().customers.create({ email: 'gone@example.com' });
    const deleted = await stripe().customers.del(c.id);
    expect(deleted).toEqual({ id: c.id, object: 'customer', deleted: true });
    expect(await stripe().customers.retrieve(c.id)).toEqual({ id: c.id, object: 'customer', deleted: true });
    const [event] = (await stripe().events.list({ limit: 1 })).data;
    expect(event).toMatchObject({
      type: 'customer.deleted',
      data: { object: { id: c.id, email: 'gone@example.com' } },
    });
    expect((await stripe().customers.list()).data).toEqual([]);
    expect(await failure(stripe().customers.del(c.id))).toMatchObject({ statusCode: 404 });
    expect(await failure(stripe().customers.update(c.id, { name: 'x' }))).toMatchObject({ statusCode: 404 });
    const pi = await failure(stripe().paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id }));
    expect(pi).toMatchObject({ statusCode: 404, param: 'customer' });
  });

  it('lists newest first with email and created filters and pagination', async () => {
    const a = await stripe().customers.create({ email: 'a@example.com' });
    const b = await stripe().customers.create({ email: 'b@example.com' });
    const c = await stripe().customers.create({ email: 'a@example.com' });
    expect((await stripe().customers.list()).data.map((x) => x.id)).toEqual([c.id, b.id, a.id]);
    expect((await stripe().customers.list({ email: 'a@example.com' })).data.map((x) => x.id)).toEqual([c.id, a.id]);
    // Case-sensitive (CustomerListParams.email).
    expect((await stripe().customers.list({ email: 'A@example.com' })).data).toEqual([]);
    const page = await stripe().customers.list({ limit: 2 });
    expect(page).toMatchObject({ has_more: true, url: '/v1/customers' });
    expect((await stripe().customers.list({ starting_after: b.id })).data.map((x) => x.id)).toEqual([a.id]);
    const future = Math.floor(emulator().controls.now().getTime() / 1000) + 3600;
    expect((await stripe().customers.list({ created: { gt: future } })).data).toEqual([]);
    expect((await stripe().customers.list({ created: { lte: future } })).data).toHaveLength(3);
  });

  it('searches by email, name, phone and metadata joined by AND (not taken for an id)', async () => {
    const a = await stripe().customers.create({ email: 'x@example.com', name: 'Ada', metadata: { tier: 'gold' } });
    await stripe().customers.create({ email: 'y@example.com', name: 'Ada', metadata: { tier: 'silver' } });
    const found = await stripe().customers.search({ query: "name:'Ada' AND metadata['tier']:'gold'" });
    expect(found).toMatchObject({ object: 'search_result', has_more: false, url: '/v1/customers/search' });
    expect(found.data.map((c) => c.id)).toEqual([a.id]);
    expect((await stripe().customers.search({ query: 'email:"x@example.com"' })).data.map((c) => c.id)).toEqual([a.id]);
    const two = await stripe().customers.search({ query: "name:'Ada'", limit: 1 });
    expect(two.has_more).toBe(true);
    const rest = await stripe().customers.search({ query: "name:'Ada'", limit: 1, page: two.next_page! });
    expect(rest.data.map((c) => c.id)).toEqual([a.id]);
    expect(await failure(stripe().customers.search({ query: "shoe:'9'" }))).toMatchObject({
      statusCode: 400,
      param: 'query',
    });
    expect(await failure(stripe().customers.search({} as never))).toMatchObject({ code: 'parameter_missing' });
  });

  it("lists and retrieves a customer's PaymentMethods", async () => {
    const c = await stripe().customers.create({});
    const visa = await stripe().paymentMethods.attach('pm_card_visa', { customer: c.id });
    const bank = await stripe().paymentMethods.attach('pm_usBankAccount', { customer: c.id });
    await stripe().paymentMethods.attach('pm_card_visa', { customer: (await stripe().customers.create({})).id });
    const all = await stripe().customers.listPaymentMethods(c.id);
    expect(all).toMatchObject({ object: 'list', url: `/v1/customers/${c.id}/payment_methods`, has_more: false });
    expect(all.data.map((p) => p.id)).toEqual([bank.id, visa.id]);
    expect((await stripe().customers.listPaymentMethods(c.id, { type: 'card' })).data.map((p) => p.id)).toEqual([
      visa.id,
    ]);
    expect((await stripe().customers.listPaymentMethods(c.id, { limit: 1 })).has_more).toBe(true);
    expect(await stripe().customers.retrievePaymentMethod(c.id, visa.id)).toMatchObject({
      id: visa.id,
      customer: c.id,
    });
    const stranger = await stripe().paymentMethods.retrieve('pm_card_mastercard');
    expect(await failure(stripe().customers.retrievePaymentMethod(c.id, stranger.id))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect(await failure(stripe().customers.listPaymentMethods('cus_missing'))).toMatchObject({ statusCode: 404 });
    // GET /v1/payment_methods?customer= lists the same.
    expect(
      (await stripe().paymentMethods.list({ customer: c.id, type: 'us_bank_account' })).data.map((p) => p.id),
    ).toEqual([bank.id]);
  });

  it('create takes address, preferred_locales and a payment_method it attaches (even as the default)', async () => {
    const pm = await stripe().paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    const c = await stripe().customers.create({
      payment_method: pm.id,
      invoice_settings: { default_payment_method: pm.id },
      preferred_locales: ['en', 'fr'],
      address: { country: 'FR' },
      shipping: { name: 'Ada', address: { line1: '1 rue de Rivoli', country: 'FR' } },
      tax_exempt: 'reverse',
    });
    expect(c).toMatchObject({
      shipping: { name: 'Ada', phone: null, address: { line1: '1 rue de Rivoli', country: 'FR', city: null } },
      tax_exempt: 'reverse',
      invoice_settings: { default_payment_method: pm.id },
      preferred_locales: ['en', 'fr'],
      address: { country: 'FR', city: null },
      customer_account: null,
    });
    expect((await stripe().paymentMethods.retrieve(pm.id)).customer).toBe(c.id);
    expect(await failure(stripe().customers.create({ shipping: { name: 'No address' } as never }))).toMatchObject({
      code: 'parameter_missing',
      param: 'shipping[address]',
    });
    expect(await failure(stripe().customers.create({ tax_exempt: 'sometimes' as never }))).toMatchObject({
      param: 'tax_exempt',
    });
    expect((await stripe().customers.list()).data).toHaveLength(1);
  });
});

describe('PaymentMethods', () => {
  it('creates cards from test tokens (tok_visa is pm_card_visa) and keeps their behaviour', async () => {
    const pm = await stripe().paymentMethods.create({
      type: 'card',
      card: { token: 'tok_visa_chargeDeclined' },
      billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
      metadata: { k: 'v' },
    });
    expect(pm).toMatchObject({
      object: 'payment_method',
      type: 'card',
      customer: null,
      card: { brand: 'visa', last4: '0002' },
      billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com', phone: null, address: { city: null } },
      metadata: { k: 'v' },
    });
    const err = await failure(
      stripe().paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: pm.id,
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      }),
    );
    expect(err).toMatchObject({ type: 'StripeCardError', code: 'card_declined' });
  });

  it('refuses raw card numbers, unknown tokens and types, missing params', async () => {
    const number = await failure(
      stripe().paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: 1, exp_year: 2030 },
      }),
    );
    expect(number).toMatchObject({ statusCode: 400, param: 'card[number]' });
    expect(await failure(stripe().paymentMethods.create({ type: 'card', card: { token: 'tok_nope' } }))).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'card[token]',
    });
    expect(await failure(stripe().paymentMethods.create({ type: 'card' }))).toMatchObject({
      code: 'parameter_missing',
      param: 'card',
    });
    expect(await failure(stripe().paymentMethods.create({ type: 'sepa_debit' }))).toMatchObject({ param: 'type' });
    expect(await failure(stripe().paymentMethods.create({} as never))).toMatchObject({ param: 'type' });
    const unknown = await raw(emulator(), 'POST', '/v1/payment_methods', 'type=card&card[token]=tok_visa&card[pin]=1');
    expect(unknown.json.error).toMatchObject({ code: 'parameter_unknown', param: 'card[pin]' });
    expect((await stripe().paymentMethods.list({ customer: (await stripe().customers.create({})).id })).data).toEqual(
      [],
    );
  });

  it("creates us_bank_account PaymentMethods from Stripe's test account numbers", async () => {
    const pm = await stripe().paymentMethods.create({
      type: 'us_bank_account',
      us_bank_account: { account_number: '000222222227', routing_number: '110000000', account_holder_type: 'company' },
      billing_details: { name: 'Jenny Rosen' },
    });
    expect(pm).toMatchObject({
      type: 'us_bank_account',
      us_bank_account: { last4: '2227', routing_number: '110000000', account_holder_type: 'company' },
      billing_details: { name: 'Jenny Rosen' },
    });
    const noName = await failure(
      stripe().paymentMethods.create({
        type: 'us_bank_account',
        us_bank_account: { account_number: '000123456789', routing_number: '110000000' },
      }),
    );
    expect(noName).toMatchObject({ code: 'parameter_missing', param: 'billing_details[name]' });
  });

  it('updates an attached PaymentMethod (payment_method.updated); an unattached one cannot be updated', async () => {
    const loose = await stripe().paymentMethods.retrieve('pm_card_visa');
    expect(await failure(stripe().paymentMethods.update(loose.id, { metadata: { a: '1' } }))).toMatchObject({
      statusCode: 400,
    });
    const c = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: c.id });
    const bad = await failure(stripe().paymentMethods.update(pm.id, { card: { exp_month: 13 } }));
    expect(bad).toMatchObject({ statusCode: 400, param: 'card[exp_month]' });
    const updated = await stripe().paymentMethods.update(pm.id, {
      card: { exp_month: 4, exp_year: 2031 },
      billing_details: { name: 'Ada Lovelace', address: { postal_code: '94107' } },
      metadata: { nick: 'work' },
    });
    expect(updated).toMatchObject({
      card: { exp_month: 4, exp_year: 2031, last4: '4242' },
      billing_details: { name: 'Ada Lovelace', address: { postal_code: '94107', city: null } },
      metadata: { nick: 'work' },
    });
    const [event] = (await stripe().events.list({ limit: 1 })).data;
    expect(event).toMatchObject({
      type: 'payment_method.updated',
      data: { previous_attributes: { card: { exp_month: 12 }, metadata: { nick: null } } },
    });
  });

  it('detach needs an attached PaymentMethod', async () => {
    const loose = await stripe().paymentMethods.retrieve('pm_card_visa');
    expect(await failure(stripe().paymentMethods.detach(loose.id))).toMatchObject({ statusCode: 400 });
    expect(await failure(stripe().paymentMethods.detach('pm_missing'))).toMatchObject({ statusCode: 404 });
  });

  it('attach to another customer is refused', async () => {
    const a = await stripe().customers.create({});
    const b = await stripe().customers.create({});
    const pm = await stripe().paymentMethods.attach('pm_card_visa', { customer: a.id });
    expect(await failure(stripe().paymentMethods.attach(pm.id, { customer: b.id }))).toMatchObject({
      statusCode: 400,
      param: 'payment_method',
    });
    expect((await stripe().paymentMethods.retrieve(pm.id)).customer).toBe(a.id);
  });
});
