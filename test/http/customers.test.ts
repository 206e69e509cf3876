import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';

async function post(h: Harness, url: string, body: Record<string, unknown>) {
  const res = await h.request('POST', url, body);
  if (res.status !== 201) throw new Error(`POST ${url} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function total(h: Harness, url: string): Promise<number> {
  const res = await h.request('GET', `${url}${url.includes('?') ? '&' : '?'}limit=200`);
  expect(res.status).toBe(200);
  return res.body.data.length;
}

function expect400(res: { status: number; body: any }, param: string, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.param).toBe(param);
  if (code) expect(res.body.error.code).toBe(code);
}

const history = async (h: Harness, id: string) =>
  (await h.request('GET', `/v1/transactions/${id}/history`)).body.data as any[];

describeEachDatabase('accounts and contacts API', (get) => {
  it('creates, retrieves, lists and updates an account', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/accounts', {
      name: 'Acme Inc',
      email: 'billing@acme.test',
      metadata: { crm: '7', tier: 'gold' },
    });
    expect(res.status).toBe(201);
    const a = res.body;
    expect(a.id).toMatch(/^acc_[0-9a-z]{26}$/);
    expect(a).toMatchObject({
      object: 'account',
      name: 'Acme Inc',
      email: 'billing@acme.test',
      default_payment_method_id: null,
      metadata: { crm: '7', tier: 'gold' },
    });
    expect(a.created_at).toBe('2026-11-24T12:00:00.000Z');
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body).toEqual(a);

    const list = await h.request('GET', '/v1/accounts');
    expect(list.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(list.body.data.map((x: any) => x.id)).toContain(a.id);

    const patched = await h.request('PATCH', `/v1/accounts/${a.id}`, {
      name: 'Acme Corp',
      email: null,
      metadata: { crm: '', tier: null, region: 'eu' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Acme Corp', email: null, metadata: { region: 'eu' } });
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body).toEqual(patched.body);
  });

  it('rejects bad account input with 400 naming the field and writes nothing', async () => {
    const h = get();
    const before = await total(h, '/v1/accounts');
    expect400(await h.request('POST', '/v1/accounts', { email: 'a@b.test' }), 'name', 'parameter_missing');
    expect400(await h.request('POST', '/v1/accounts', { name: '   ' }), 'name');
    expect400(await h.request('POST', '/v1/accounts', { name: 'x'.repeat(201) }), 'name');
    expect400(await h.request('POST', '/v1/accounts', { name: 'A', email: 'not-an-email' }), 'email', 'invalid_email');
    expect400(await h.request('POST', '/v1/accounts', { name: 'A', nickname: 'a' }), 'nickname', 'parameter_unknown');
    expect400(await h.request('POST', '/v1/accounts', { name: 'A', metadata: { k: 5 } }), 'metadata.k');
    expect(await total(h, '/v1/accounts')).toBe(before);

    const a = await post(h, '/v1/accounts', { name: 'Keep' });
    expect400(await h.request('PATCH', `/v1/accounts/${a.id}`, { email: 'nope' }), 'email');
    expect400(await h.request('PATCH', `/v1/accounts/${a.id}`, { name: '' }), 'name');
    expect400(await h.request('PATCH', `/v1/accounts/${a.id}`, { colour: 'red' }), 'colour', 'parameter_unknown');
    expect((await h.request('PATCH', `/v1/accounts/${a.id}`, {})).status).toBe(400);
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body).toEqual(a);
    const missing = await h.request('PATCH', '/v1/accounts/acc_00000000000000000000000000', { name: 'x' });
    expect(missing.status).toBe(404);
    expect((await h.request('GET', '/v1/accounts/acc_00000000000000000000000000')).status).toBe(404);
  });

  it('creates contacts under an account and filters the list by account', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Contacts Ltd' });
    const res = await h.request('POST', '/v1/contacts', {
      last_name: 'Lovelace',
      first_name: 'Ada',
      email: 'ada@c.test',
      account_id: a.id,
    });
    expect(res.status).toBe(201);
    const c = res.body;
    expect(c.id).toMatch(/^con_/);
    expect(c).toMatchObject({
      object: 'contact',
      account_id: a.id,
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada@c.test',
      default_payment_method_id: null,
      metadata: {},
    });
    expect((await h.request('GET', `/v1/contacts/${c.id}`)).body).toEqual(c);
    await post(h, '/v1/contacts', { last_name: 'Elsewhere' });
    const list = await h.request('GET', `/v1/contacts?account_id=${a.id}`);
    expect(list.body.data.map((x: any) => x.id)).toEqual([c.id]);

    const patched = await h.request('PATCH', `/v1/contacts/${c.id}`, {
      first_name: null,
      last_name: 'King',
      metadata: { x: '1' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ first_name: null, last_name: 'King', metadata: { x: '1' }, account_id: a.id });
  });

  it('rejects bad contact input and writes nothing', async () => {
    const h = get();
    const before = await total(h, '/v1/contacts');
    expect400(
      await h.request('POST', '/v1/contacts', { first_name: 'No last name' }),
      'last_name',
      'parameter_missing',
    );
    expect400(await h.request('POST', '/v1/contacts', { last_name: 'X', email: 'x@' }), 'email');
    expect400(await h.request('POST', '/v1/contacts', { last_name: 'X', phone: '1' }), 'phone', 'parameter_unknown');
    const unknown = await h.request('POST', '/v1/contacts', {
      last_name: 'X',
      account_id: 'acc_00000000000000000000000000',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('account_id');
    expect(await total(h, '/v1/contacts')).toBe(before);
  });

  it('pages through accounts newest first, 2 at a time', async () => {
    const h = get();
    const created = [];
    for (const name of ['P1', 'P2', 'P3']) created.push((await post(h, '/v1/accounts', { name })).id);
    const first = await h.request('GET', '/v1/accounts?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const ids: string[] = first.body.data.map((x: any) => x.id);
    let cursor = first.body.next_cursor;
    expect(cursor).toBe(ids[1]);
    while (cursor) {
      const page = await h.request('GET', `/v1/accounts?limit=2&starting_after=${cursor}`);
      ids.push(...page.body.data.map((x: any) => x.id));
      cursor = page.body.next_cursor;
    }
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of created) expect(ids).toContain(id);
    expect((await h.request('GET', '/v1/accounts?limit=0')).status).toBe(400);
    expect((await h.request('GET', '/v1/accounts?limit=201')).status).toBe(400);
  });

  it("sets a default payment method only from the customer's own methods", async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Own' });
    const other = await post(h, '/v1/accounts', { name: 'Other' });
    const c = await post(h, '/v1/contacts', { last_name: 'Own', account_id: a.id });
    const mine = await post(h, '/v1/payment-methods', {
      gateway_token: 'pm_card_visa',
      type: 'card',
      account_id: a.id,
    });
    const theirs = await post(h, '/v1/payment-methods', {
      gateway_token: 'pm_card_mastercard',
      type: 'card',
      account_id: other.id,
    });
    expect400(
      await h.request('PATCH', `/v1/accounts/${a.id}`, { default_payment_method_id: theirs.id }),
      'default_payment_method_id',
      'payment_method_not_owned',
    );
    const unknown = await h.request('PATCH', `/v1/accounts/${a.id}`, {
      default_payment_method_id: 'pmt_00000000000000000000000000',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('default_payment_method_id');
    // mine belongs to the account but not to the contact
    expect400(
      await h.request('PATCH', `/v1/contacts/${c.id}`, { default_payment_method_id: mine.id }),
      'default_payment_method_id',
    );
    expect((await h.request('GET', `/v1/accounts/${a.id}`)).body.default_payment_method_id).toBeNull();
    expect((await h.request('GET', `/v1/contacts/${c.id}`)).body.default_payment_method_id).toBeNull();

    const ok = await h.request('PATCH', `/v1/accounts/${a.id}`, { default_payment_method_id: mine.id });
    expect(ok.status).toBe(200);
    expect(ok.body.default_payment_method_id).toBe(mine.id);
    expect((await h.request('GET', `/v1/payment-methods/${mine.id}`)).body.is_default).toBe(true);
    const cleared = await h.request('PATCH', `/v1/accounts/${a.id}`, { default_payment_method_id: null });
    expect(cleared.body.default_payment_method_id).toBeNull();
    expect((await h.request('GET', `/v1/payment-methods/${mine.id}`)).body.is_default).toBe(false);
  });

  it('rolls a new account default down onto its open, opted-in transactions only, with history', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Rolldown' });
    const pm1 = await post(h, '/v1/payment-methods', { gateway_token: 'pm_card_visa', type: 'card', account_id: a.id });
    const pm2 = await post(h, '/v1/payment-methods', { gateway_token: 'pm_card_amex', type: 'card', account_id: a.id });
    const t1 = await post(h, '/v1/transactions', { amount: 1000, currency: 'USD', payment_method_id: pm1.id });
    const t2 = await post(h, '/v1/transactions', { amount: 2000, currency: 'USD', account_id: a.id });
    const t3 = await post(h, '/v1/transactions', { amount: 3000, currency: 'USD', payment_method_id: pm1.id });
    expect((await h.request('POST', `/v1/transactions/${t3.id}/cancel`)).status).toBe(200);
    const t4 = await post(h, '/v1/transactions', {
      amount: 4000,
      currency: 'USD',
      payment_method_id: pm1.id,
      dont_auto_update_payment_method: true,
    });
    expect(t1.account_id).toBe(a.id);

    const res = await h.request('PATCH', `/v1/accounts/${a.id}`, { default_payment_method_id: pm2.id });
    expect(res.status).toBe(200);
    const pmOf = async (t: any) => (await h.request('GET', `/v1/transactions/${t.id}`)).body.payment_method_id;
    expect(await pmOf(t1)).toBe(pm2.id);
    expect(await pmOf(t2)).toBe(pm2.id);
    expect(await pmOf(t3)).toBe(pm1.id);
    expect(await pmOf(t4)).toBe(pm1.id);
    const h1 = await history(h, t1.id);
    expect(h1.at(-1)).toMatchObject({
      action: `payment method rolled down from account ${a.id}`,
      changes: { payment_method_id: [pm1.id, pm2.id] },
      actor: expect.stringMatching(/^api_key:/),
    });
    expect((await history(h, t2.id)).at(-1).changes).toEqual({ payment_method_id: [null, pm2.id] });
    for (const t of [t3, t4])
      expect((await history(h, t.id)).some((e) => e.action.includes('rolled down'))).toBe(false);
    // version moved on: an edit still works and the history stays ordered
    expect((await h.request('PATCH', `/v1/transactions/${t1.id}`, { description: 'after' })).status).toBe(200);

    // the setting off: nothing rolls down
    expect((await h.request('PATCH', '/v1/settings', { payment_method_rolldown_enabled: false })).status).toBe(200);
    try {
      const off = await h.request('PATCH', `/v1/accounts/${a.id}`, { default_payment_method_id: pm1.id });
      expect(off.status).toBe(200);
      expect(off.body.default_payment_method_id).toBe(pm1.id);
      expect(await pmOf(t1)).toBe(pm2.id);
      expect(await pmOf(t2)).toBe(pm2.id);
      expect((await history(h, t1.id)).filter((e) => e.action.includes('rolled down'))).toHaveLength(1);
    } finally {
      await h.request('PATCH', '/v1/settings', { payment_method_rolldown_enabled: true });
    }
  });

  it("rolls a new contact default down onto the contact's open transactions", async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Has contacts' });
    const c = await post(h, '/v1/contacts', { last_name: 'Roll', account_id: a.id });
    const pm = await post(h, '/v1/payment-methods', { gateway_token: 'pm_card_visa', type: 'card', contact_id: c.id });
    expect(pm.account_id).toBe(a.id);
    const mine = await post(h, '/v1/transactions', { amount: 500, currency: 'USD', contact_id: c.id });
    const accountOnly = await post(h, '/v1/transactions', { amount: 500, currency: 'USD', account_id: a.id });
    const res = await h.request('PATCH', `/v1/contacts/${c.id}`, { default_payment_method_id: pm.id });
    expect(res.status).toBe(200);
    expect((await h.request('GET', `/v1/transactions/${mine.id}`)).body.payment_method_id).toBe(pm.id);
    expect((await h.request('GET', `/v1/transactions/${accountOnly.id}`)).body.payment_method_id).toBeNull();
    expect((await history(h, mine.id)).at(-1).action).toBe(`payment method rolled down from contact ${c.id}`);
  });

  it('keeps every one of 10 concurrent metadata edits', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Busy' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.request('PATCH', `/v1/accounts/${a.id}`, { metadata: { [`k${i}`]: String(i) } }),
      ),
    );
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const after = await h.request('GET', `/v1/accounts/${a.id}`);
    expect(after.body.metadata).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, String(i)])));
  });

  it('replays an idempotent account update with the same response', async () => {
    const h = get();
    const a = await post(h, '/v1/accounts', { name: 'Idem' });
    const first = await h.request(
      'PATCH',
      `/v1/accounts/${a.id}`,
      { name: 'Idem 2' },
      { 'idempotency-key': `acc-${a.id}` },
    );
    const again = await h.request(
      'PATCH',
      `/v1/accounts/${a.id}`,
      { name: 'Idem 2' },
      { 'idempotency-key': `acc-${a.id}` },
    );
    expect(again.status).toBe(200);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.body.object).toBe('account');
  });
});
