// `created` filters on the PaymentIntent, Charge and Refund lists, the payout `destination` filter, and search in
// Stripe's query language over PaymentIntents and Charges.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { BASE_TIME, DAY, failure, raw, useEmulator } from './helpers.js';

const { stripe, emulator } = useEmulator();

const NEVER = { enabled: true, allow_redirects: 'never' } as const;

async function pay(
  amount: number,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: NEVER,
    capture_method: 'automatic',
    ...extra,
  });
}

const ids = (list: { data: { id: string }[] }): string[] => list.data.map((o) => o.id);

describe('created filters (Unix seconds: gt, gte, lt, lte, or an exact integer)', () => {
  it('apply to PaymentIntents, Charges and Refunds', async () => {
    const first = await pay(1000);
    await stripe().refunds.create({ payment_intent: first.id, amount: 100 });
    emulator().controls.advanceClock(DAY);
    const second = await pay(2000);
    await stripe().refunds.create({ payment_intent: second.id, amount: 200 });
    const t0 = first.created;
    const t1 = second.created;
    expect(t1 - t0).toBe(86_400);

    // [docs] "created[gt]" on a time 10 years ahead returns nothing (the divergence: every object came back).
    const future = Math.floor(BASE_TIME.getTime() / 1000) + 10 * 365 * 86_400;
    expect((await stripe().paymentIntents.list({ created: { gt: future } })).data).toEqual([]);
    expect((await stripe().charges.list({ created: { gt: future } })).data).toEqual([]);
    expect((await stripe().refunds.list({ created: { gt: future } })).data).toEqual([]);

    expect(ids(await stripe().paymentIntents.list({ created: { gte: t1 } }))).toEqual([second.id]);
    expect(ids(await stripe().paymentIntents.list({ created: { lt: t1 } }))).toEqual([first.id]);
    expect(ids(await stripe().paymentIntents.list({ created: { lte: t1, gt: t0 } }))).toEqual([second.id]);
    expect(ids(await stripe().paymentIntents.list({ created: t0 }))).toEqual([first.id]);
    expect((await stripe().charges.list({ created: { lte: t0 } })).data.map((c) => c.payment_intent)).toEqual([
      first.id,
    ]);
    expect((await stripe().refunds.list({ created: { gte: t1 } })).data.map((r) => r.amount)).toEqual([200]);
    expect((await stripe().refunds.list({ created: t0 })).data.map((r) => r.amount)).toEqual([100]);
  });

  it('refuse what is not an integer or not a range operator', async () => {
    expect(await failure(stripe().charges.list({ created: { gt: 'soon' as never } }))).toMatchObject({
      statusCode: 400,
      code: 'parameter_invalid_integer',
      param: 'created[gt]',
    });
    expect((await raw(emulator(), 'GET', '/v1/refunds?created[after]=1')).json.error).toMatchObject({
      code: 'parameter_unknown',
      param: 'created[after]',
    });
  });
});

describe('payouts destination filter', () => {
  it('lists payouts sent to that external account only', async () => {
    await pay(10_000);
    emulator().controls.advanceClock(3 * DAY); // available, then paid out at a midnight
    const all = (await stripe().payouts.list()).data;
    expect(all.length).toBeGreaterThan(0);
    expect((await stripe().payouts.list({ destination: 'ba_emulator' })).data).toHaveLength(all.length);
    expect((await stripe().payouts.list({ destination: 'ba_other' })).data).toEqual([]);
  });
});

describe('search (docs.stripe.com/search#search-query-language)', () => {
  async function seed(): Promise<Stripe.PaymentIntent[]> {
    const a = await pay(1500, { metadata: { order: 'A-1', shop: 'north' } });
    const b = await pay(2000, { metadata: { order: 'B-2', shop: 'south' } });
    const c = await pay(2500, { metadata: { order: 'C-3' }, currency: 'eur' });
    await stripe().refunds.create({ payment_intent: c.id });
    return [a, b, c];
  }
  const search = async (query: string, extra: Partial<Stripe.PaymentIntentSearchParams> = {}) =>
    ids(await stripe().paymentIntents.search({ query, ...extra }));

  it('compares numbers: >, >=, <, <= and =', async () => {
    const [a, b, c] = await seed();
    // aat-stripe byAmount: "metadata['source']:'aat-stripe' AND amount>1900" finds payments of 2000 on Stripe.
    expect(await search('amount>1900')).toEqual([c!.id, b!.id]);
    expect(await search('amount>=2000')).toEqual([c!.id, b!.id]);
    expect(await search('amount<2000')).toEqual([a!.id]);
    expect(await search('amount<=2000')).toEqual([b!.id, a!.id]);
    expect(await search('amount=2500')).toEqual([c!.id]);
    expect(await search('amount:1500')).toEqual([a!.id]);
  });

  it('joins with AND, OR or a space; negates with -; substrings with ~; null for a missing value', async () => {
    const [a, b, c] = await seed();
    expect(await search("metadata['shop']:'north' OR metadata['shop']:'south'")).toEqual([b!.id, a!.id]);
    expect(await search("currency:'usd' and amount>1600")).toEqual([b!.id]);
    expect(await search("currency:'usd' amount>1600")).toEqual([b!.id]);
    expect(await search("-currency:'usd'")).toEqual([c!.id]);
    expect(await search("-metadata['shop']:null")).toEqual([b!.id, a!.id]);
    expect(await search("metadata['shop']:null")).toEqual([c!.id]);
    // A substring needs at least 3 characters.
    expect(await failure(stripe().paymentIntents.search({ query: "metadata['order']~'-2'" }))).toMatchObject({
      statusCode: 400,
    });
    expect(await search("metadata['order']~'B-2'")).toEqual([b!.id]);
    expect(await search('status:"SUCCEEDED" AND -amount<2000')).toEqual([c!.id, b!.id]); // exact match ignores case
  });

  it('expand[]=total_count adds the number of matches; pages carry on from next_page', async () => {
    await seed();
    const first = await stripe().paymentIntents.search({ query: 'amount>0', limit: 2, expand: ['total_count'] });
    expect(first).toMatchObject({ object: 'search_result', has_more: true, total_count: 3 });
    expect(first.data).toHaveLength(2);
    const rest = await stripe().paymentIntents.search({ query: 'amount>0', limit: 2, page: first.next_page! });
    expect(rest).toMatchObject({ has_more: false, next_page: null });
    expect(rest).not.toHaveProperty('total_count');
    expect(rest.data).toHaveLength(1);
  });

  it('refuses an unsupported field with no code and no param, like Stripe', async () => {
    // aat-stripe plans/search/payment-intents-and-charges.yaml, badField: query "emial:'x'" -> 400
    // invalid_request_error with error.code and error.param absent.
    for (const query of ["emial:'x'", "status:'succeeded' AND amount>1 OR currency:'usd'", 'amount>'] as const) {
      const res = await raw(emulator(), 'GET', `/v1/payment_intents/search?query=${encodeURIComponent(query)}`);
      expect(res.status).toBe(400);
      expect(res.json.error.type).toBe('invalid_request_error');
      expect(res.json.error).not.toHaveProperty('code');
      expect(res.json.error).not.toHaveProperty('param');
    }
    // noQuery: parameter_missing on param query.
    expect(await failure(stripe().paymentIntents.search({} as never))).toMatchObject({
      code: 'parameter_missing',
      param: 'query',
    });
  });

  it('searches charges at /v1/charges/search (not taken for a charge id)', async () => {
    const [, b, c] = await seed();
    const refunded = await stripe().charges.search({ query: "refunded:'true'" });
    expect(refunded).toMatchObject({ object: 'search_result', url: '/v1/charges/search' });
    expect(refunded.data.map((ch) => ch.payment_intent)).toEqual([c!.id]);
    // The docs' example: amount>999 AND metadata['order_id']:'6735' (docs.stripe.com/api/charges/search).
    const byAmount = await stripe().charges.search({
      query: "amount>1999 AND payment_method_details.card.last4:'4242'",
    });
    expect(byAmount.data.map((ch) => ch.payment_intent)).toEqual([c!.id, b!.id]);
    const res = await raw(emulator(), 'GET', `/v1/charges/search?query=${encodeURIComponent("emial:'x'")}`);
    expect(res.status).toBe(400);
    expect(res.json.error.type).toBe('invalid_request_error');
    expect(res.json.error).not.toHaveProperty('code');
    expect(res.json.error).not.toHaveProperty('param');
  });
});
