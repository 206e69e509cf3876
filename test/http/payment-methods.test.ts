import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';

async function post(h: Harness, url: string, body: Record<string, unknown>) {
  const res = await h.request('POST', url, body);
  if (res.status !== 201) throw new Error(`POST ${url} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function countRows(h: Harness): Promise<number> {
  const row = await sql<{ n: number }>`select count(*)::int8 as n from payment_methods`.execute(h.deps.db);
  return row.rows[0]!.n;
}

function expectError(res: { status: number; body: any }, status: number, param: string, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.param).toBe(param);
  if (code) expect(res.body.error.code).toBe(code);
}

const card = {
  gateway_token: 'pm_card_visa',
  type: 'card',
  brand: 'visa',
  last4: '4242',
  exp_month: 12,
  exp_year: 2030,
  funding: 'credit',
};

describeEachDatabase('payment methods API', (get) => {
  it('creates, retrieves and lists a card and a bank account with their defaults', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'PM owner' });
    const res = await h.request('POST', '/v1/payment-methods', {
      ...card,
      account_id: a.id,
      billing_email: 'pay@a.test',
      fingerprint: 'fp_1',
      metadata: { src: 'test' },
    });
    expect(res.status).toBe(201);
    const pm = res.body;
    expect(pm.id).toMatch(/^pmt_[0-9a-z]{26}$/);
    expect(pm).toMatchObject({
      object: 'payment_method',
      gateway_token: 'pm_card_visa',
      type: 'card',
      status: 'valid',
      usable: true,
      brand: 'visa',
      last4: '4242',
      exp_month: 12,
      exp_year: 2030,
      funding: 'credit',
      fingerprint: 'fp_1',
      account_id: a.id,
      contact_id: null,
      billing_email: 'pay@a.test',
      is_default: false,
      metadata: { src: 'test' },
    });
    expect((await h.request('GET', `/v1/payment-methods/${pm.id}`)).body).toEqual(pm);
    const bank = await post(h, '/v1/payment-methods', {
      gateway_token: 'pm_usBankAccount_success',
      type: 'us_bank_account',
      last4: '6789',
      account_id: a.id,
    });
    expect(bank).toMatchObject({ status: 'new', usable: false, exp_month: null, exp_year: null });

    const all = await h.request('GET', `/v1/payment-methods?account_id=${a.id}`);
    expect(all.body.data.map((x: any) => x.id).sort()).toEqual([pm.id, bank.id].sort());
    expect(
      (await h.request('GET', `/v1/payment-methods?account_id=${a.id}&type=card`)).body.data.map((x: any) => x.id),
    ).toEqual([pm.id]);
    expect(
      (await h.request('GET', `/v1/payment-methods?account_id=${a.id}&status=new`)).body.data.map((x: any) => x.id),
    ).toEqual([bank.id]);
    expect((await h.request('GET', '/v1/payment-methods/pmt_00000000000000000000000000')).status).toBe(404);
  });

  it('never stores a card number and rejects every bad input naming the field', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Bad input' });
    const b = await post(h, '/v1/accounts', { name: 'Someone else' });
    const cOfB = await post(h, '/v1/contacts', { last_name: 'OfB', account_id: b.id });
    const before = await countRows(h);
    for (const number of ['4242424242424242', '4242 4242 4242 4242', '4242-4242-4242-4242', '378282246310005']) {
      const res = await h.request('POST', '/v1/payment-methods', { ...card, gateway_token: number, account_id: a.id });
      expectError(res, 400, 'gateway_token', 'card_number_not_accepted');
      expect(JSON.stringify(res.body)).not.toContain(number.slice(0, 8));
    }
    const bad: [Record<string, unknown>, string][] = [
      [{ ...card, gateway_token: '' }, 'gateway_token'],
      [{ ...card, last4: '42a2' }, 'last4'],
      [{ ...card, last4: '12345' }, 'last4'],
      [{ ...card, exp_month: 13 }, 'exp_month'],
      [{ ...card, exp_month: 0 }, 'exp_month'],
      [{ ...card, exp_year: 26 }, 'exp_year'],
      [{ ...card, exp_year: undefined }, 'exp_year'],
      [{ gateway_token: 'pm_bank', type: 'us_bank_account', exp_month: 1, exp_year: 2030 }, 'exp_month'],
      [{ gateway_token: 'pm_bank', type: 'us_bank_account', exp_year: 2030 }, 'exp_year'],
      [{ gateway_token: 'pm_x' }, 'type'],
      [{ ...card, type: 'paypal' }, 'type'],
      [{ ...card, status: 'fine' }, 'status'],
      [{ ...card, billing_email: 'nope' }, 'billing_email'],
      [{ ...card, card_number: '4242' }, 'card_number'],
      [{ ...card, is_default: true }, 'is_default'],
      [{ ...card, account_id: a.id, contact_id: cOfB.id }, 'contact_id'],
    ];
    for (const [body, param] of bad) expectError(await h.request('POST', '/v1/payment-methods', body), 400, param);
    expectError(
      await h.request('POST', '/v1/payment-methods', { ...card, account_id: 'acc_00000000000000000000000000' }),
      404,
      'account_id',
    );
    expectError(
      await h.request('POST', '/v1/payment-methods', { ...card, contact_id: 'con_00000000000000000000000000' }),
      404,
      'contact_id',
    );
    expect(await countRows(h)).toBe(before);
  });

  it('takes the account of a contact given alone, and a transaction takes both from its method', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Family' });
    const c = await post(h, '/v1/contacts', { last_name: 'Member', account_id: a.id });
    const pm = await post(h, '/v1/payment-methods', { ...card, contact_id: c.id });
    expect(pm).toMatchObject({ account_id: a.id, contact_id: c.id });
    expect((await h.request('GET', `/v1/payment-methods?contact_id=${c.id}`)).body.data.map((x: any) => x.id)).toEqual([
      pm.id,
    ]);
    const t = await post(h, '/v1/transactions', { amount: 1200, currency: 'USD', payment_method_id: pm.id });
    expect(t).toMatchObject({
      payment_method_id: pm.id,
      account_id: a.id,
      contact_id: c.id,
      invalid_payment_method: false,
    });
  });

  it('updates mutable fields, merges metadata and refuses to change gateway_token or type', async () => {
    const h = get();
    const pm = await post(h, '/v1/payment-methods', { ...card, metadata: { a: '1', b: '2' } });
    const res = await h.request('PATCH', `/v1/payment-methods/${pm.id}`, {
      status: 'one_time',
      exp_month: 1,
      exp_year: 2031,
      billing_email: 'new@x.test',
      brand: 'visa',
      last4: '1111',
      funding: 'debit',
      metadata: { a: '', b: null, c: '3' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      status: 'one_time',
      exp_month: 1,
      exp_year: 2031,
      billing_email: 'new@x.test',
      last4: '1111',
      funding: 'debit',
      metadata: { c: '3' },
      usable: true,
    });
    const current = res.body;
    const bad: [Record<string, unknown>, string, string?][] = [
      [{ gateway_token: 'pm_card_amex' }, 'gateway_token', 'immutable_field'],
      [{ type: 'us_bank_account' }, 'type', 'immutable_field'],
      [{ last4: '42' }, 'last4'],
      [{ exp_month: 13 }, 'exp_month'],
      [{ exp_year: null }, 'exp_year'],
      [{ status: 'ok' }, 'status'],
      [{ fingerprint: 'x' }, 'fingerprint', 'parameter_unknown'],
    ];
    for (const [body, param, code] of bad)
      expectError(await h.request('PATCH', `/v1/payment-methods/${pm.id}`, body), 400, param, code);
    expect((await h.request('GET', `/v1/payment-methods/${pm.id}`)).body).toEqual(current);

    const bank = await post(h, '/v1/payment-methods', { gateway_token: 'pm_bank_ok', type: 'us_bank_account' });
    expectError(
      await h.request('PATCH', `/v1/payment-methods/${bank.id}`, { exp_month: 1, exp_year: 2030 }),
      400,
      'exp_month',
      'expiry_not_allowed',
    );
    const verified = await h.request('PATCH', `/v1/payment-methods/${bank.id}`, { status: 'verified' });
    expect(verified.body).toMatchObject({ status: 'verified', usable: true });
    expect(
      (await h.request('PATCH', '/v1/payment-methods/pmt_00000000000000000000000000', { status: 'valid' })).status,
    ).toBe(404);
  });

  it('is_default makes it the default of its account and contact, rolls it down, and unsets it', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Defaults' });
    const c = await post(h, '/v1/contacts', { last_name: 'Dee', account_id: a.id });
    const first = await post(h, '/v1/payment-methods', { ...card, account_id: a.id, is_default: true });
    expect(first.is_default).toBe(true);
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body.default_payment_method_id).toBe(first.id);
    const open = await post(h, '/v1/transactions', { amount: 700, currency: 'USD', payment_method_id: first.id });
    const optOut = await post(h, '/v1/transactions', {
      amount: 700,
      currency: 'USD',
      payment_method_id: first.id,
      dont_auto_update_payment_method: true,
    });

    const second = await post(h, '/v1/payment-methods', {
      ...card,
      gateway_token: 'pm_card_mastercard',
      contact_id: c.id,
      is_default: true,
    });
    expect(second.is_default).toBe(true);
    expect((await h.request('GET', `/v1/payment-methods/${first.id}`)).body.is_default).toBe(false);
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body.default_payment_method_id).toBe(second.id);
    expect((await h.request('GET', `/v1/contacts/${c.id}`)).body.default_payment_method_id).toBe(second.id);
    expect((await h.request('GET', `/v1/transactions/${open.id}`)).body.payment_method_id).toBe(second.id);
    expect((await h.request('GET', `/v1/transactions/${optOut.id}`)).body.payment_method_id).toBe(first.id);
    const entries = (await h.request('GET', `/v1/transactions/${open.id}/history`)).body.data;
    expect(entries.at(-1)).toMatchObject({
      action: `payment method rolled down from account ${a.id}`,
      changes: { payment_method_id: [first.id, second.id] },
    });

    const unset = await h.request('PATCH', `/v1/payment-methods/${second.id}`, { is_default: false });
    expect(unset.status).toBe(200);
    expect(unset.body.is_default).toBe(false);
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body.default_payment_method_id).toBeNull();
    expect((await h.request('GET', `/v1/contacts/${c.id}`)).body.default_payment_method_id).toBeNull();
    const again = await h.request('PATCH', `/v1/payment-methods/${first.id}`, { is_default: true });
    expect(again.body.is_default).toBe(true);
    expect((await h.request('GET', `/v1/transactions/${open.id}`)).body.payment_method_id).toBe(first.id);
    const orphan = await post(h, '/v1/payment-methods', card);
    expectError(
      await h.request('PATCH', `/v1/payment-methods/${orphan.id}`, { is_default: true }),
      400,
      'is_default',
      'no_customer',
    );
  });

  it('an expired card is not usable and flags the transactions that use it', async () => {
    const h = get();
    // the harness clock is 2026-11-24: October 2026 has expired, November 2026 has not
    const expired = await post(h, '/v1/payment-methods', { ...card, exp_month: 10, exp_year: 2026 });
    const lastMonth = await post(h, '/v1/payment-methods', { ...card, exp_month: 11, exp_year: 2026 });
    expect(expired.usable).toBe(false);
    expect(lastMonth.usable).toBe(true);
    expect((await h.request('GET', `/v1/payment-methods/${expired.id}`)).body.usable).toBe(false);
    const t = await post(h, '/v1/transactions', { amount: 900, currency: 'USD', payment_method_id: expired.id });
    expect(t.invalid_payment_method).toBe(true);
    expect(t.to_fix).toMatch(/payment method cannot be used/);
    const listed = await h.request('GET', `/v1/transactions?payment_method_id=${expired.id}`);
    expect(listed.body.data[0]).toMatchObject({ id: t.id, invalid_payment_method: true });
  });

  it('pages through payment methods newest first, 2 at a time', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Pages' });
    const ids: string[] = [];
    for (const token of ['pm_1', 'pm_2', 'pm_3'])
      ids.push((await post(h, '/v1/payment-methods', { ...card, gateway_token: token, account_id: a.id })).id);
    const first = await h.request('GET', `/v1/payment-methods?account_id=${a.id}&limit=2`);
    expect(first.body).toMatchObject({ has_more: true });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toBe(first.body.data[1].id);
    const second = await h.request(
      'GET',
      `/v1/payment-methods?account_id=${a.id}&limit=2&starting_after=${first.body.next_cursor}`,
    );
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data).toHaveLength(1);
    const seen = [...first.body.data, ...second.body.data].map((x: any) => x.id);
    expect(seen).toEqual([...ids].sort().reverse());
  });

  it('replays an idempotent create without a second row', async () => {
    const h = get();
    const before = await countRows(h);
    const headers = { 'idempotency-key': 'pm-create-once' };
    const one = await h.request('POST', '/v1/payment-methods', card, headers);
    const two = await h.request('POST', '/v1/payment-methods', card, headers);
    expect(one.status).toBe(201);
    expect(two.status).toBe(201);
    expect(two.headers['idempotency-replayed']).toBe('true');
    expect(two.body).toEqual(one.body);
    expect(await countRows(h)).toBe(before + 1);
  });
});
