// R2: `totals` on parents, accounts and contacts, as the database keeps them (migration 0020), through the API:
// completed non-gateway payments, open charges with due dates, currencies apart, a transaction moved between parents
// by PATCH parent_id, concurrent payments on one parent, and the list views carrying each row's totals.
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { created, entryOf, expectError, expectStatus, nonGatewayPayment, ZERO } from './support.js';

const NOW = '2026-11-24T12:00:00.000Z';

async function owners(h: Harness, name: string) {
  const account = await created(h, '/v1/accounts', { name });
  const contact = await created(h, '/v1/contacts', { last_name: name, account_id: account.id });
  const parent = await created(h, '/v1/parents', { type: 'opportunity', account_id: account.id });
  return {
    account,
    contact,
    parent,
    urls: [`/v1/accounts/${account.id}`, `/v1/contacts/${contact.id}`, `/v1/parents/${parent.id}`],
  };
}

describeEachDatabase('totals on parents, accounts and contacts', (get) => {
  it('completed non-gateway payments and open charges show in every owner, one entry per currency', async () => {
    const h = get();
    const { account, contact, parent, urls } = await owners(h, 'Totals Co');
    const ids = { account_id: account.id, contact_id: contact.id, parent_id: parent.id };
    for (const url of urls) expect((await h.request('GET', url)).body.totals).toEqual([]);

    await nonGatewayPayment(h, { ...ids, amount: 1000 });
    await nonGatewayPayment(h, { ...ids, amount: 250 });
    await nonGatewayPayment(h, { ...ids, amount: 700, currency: 'EUR' });
    await created(h, '/v1/transactions', { ...ids, amount: 400, currency: 'USD', due_date: '2026-12-15' });
    await created(h, '/v1/transactions', { ...ids, amount: 300, currency: 'USD', due_date: '2026-12-01' });
    // Another parent's payment moves none of these.
    const other = await created(h, '/v1/parents', { type: 'opportunity' });
    await nonGatewayPayment(h, { parent_id: other.id, amount: 99 });

    const usd = {
      ...ZERO,
      currency: 'USD',
      open_amount: 700,
      captured_amount: 1250,
      retained_amount: 1250,
      non_gateway_amount: 1250,
      count_open: 2,
      count_completed: 2,
      last_payment_at: NOW,
      next_due_date: '2026-12-01',
    };
    const eur = {
      ...ZERO,
      currency: 'EUR',
      captured_amount: 700,
      retained_amount: 700,
      non_gateway_amount: 700,
      count_completed: 1,
      last_payment_at: NOW,
    };
    for (const url of urls) {
      const res = await h.request('GET', url);
      expectStatus(res, 200);
      expect(res.body.totals, url).toEqual([eur, usd]);
    }
    expect((await h.request('GET', `/v1/parents/${other.id}`)).body.totals).toEqual([
      {
        ...ZERO,
        currency: 'USD',
        captured_amount: 99,
        retained_amount: 99,
        non_gateway_amount: 99,
        count_completed: 1,
        last_payment_at: NOW,
      },
    ]);

    // The list views carry each row's totals too.
    const lists = [
      ['/v1/accounts?limit=200', account.id],
      [`/v1/contacts?account_id=${account.id}`, contact.id],
      [`/v1/parents?account_id=${account.id}`, parent.id],
    ] as const;
    for (const [url, id] of lists) {
      const res = await h.request('GET', url);
      expectStatus(res, 200);
      expect(res.body.data.find((x: any) => x.id === id).totals, url).toEqual([eur, usd]);
    }
    // A write-off counts in written_off_amount only.
    await created(h, '/v1/transactions', {
      ...ids,
      amount: 50,
      currency: 'USD',
      transaction_type: 'write_off',
      non_gateway: true,
      status: 'completed',
    });
    expect(await entryOf(h, urls[2]!, 'USD')).toEqual({ ...usd, written_off_amount: 50 });
    // The PATCH answers of accounts, contacts and parents carry them as well.
    const patched = await h.request('PATCH', `/v1/accounts/${account.id}`, { name: 'Totals Co 2' });
    expect(patched.body.totals).toEqual([eur, { ...usd, written_off_amount: 50 }]);
    const patchedContact = await h.request('PATCH', `/v1/contacts/${contact.id}`, { first_name: 'Ada' });
    expect(patchedContact.body.totals).toEqual([eur, { ...usd, written_off_amount: 50 }]);
    const patchedParent = await h.request('PATCH', `/v1/parents/${parent.id}`, { name: 'Won' });
    expect(patchedParent.body.totals).toEqual([eur, { ...usd, written_off_amount: 50 }]);
  });

  it('PATCH parent_id moves an open charge from one parent to the other; a completed one cannot move (409)', async () => {
    const h = get();
    const from = await created(h, '/v1/parents', { type: 'subscription', external_id: 'move-from' });
    const to = await created(h, '/v1/parents', { type: 'subscription', external_id: 'move-to' });
    const open = await created(h, '/v1/transactions', {
      amount: 1200,
      currency: 'USD',
      due_date: '2026-12-10',
      parent_id: from.id,
    });
    const paid = await nonGatewayPayment(h, { amount: 500, parent_id: from.id });
    const fromUrl = `/v1/parents/${from.id}`;
    const toUrl = `/v1/parents/${to.id}`;
    expect(await entryOf(h, fromUrl, 'USD')).toMatchObject({
      open_amount: 1200,
      count_open: 1,
      next_due_date: '2026-12-10',
      captured_amount: 500,
    });

    const moved = await h.request('PATCH', `/v1/transactions/${open.id}`, { parent_id: to.id });
    expectStatus(moved, 200);
    expect(moved.body.parent_id).toBe(to.id);
    expect(await entryOf(h, fromUrl, 'USD')).toMatchObject({
      open_amount: 0,
      count_open: 0,
      next_due_date: null,
      captured_amount: 500,
      count_completed: 1,
    });
    expect(await entryOf(h, toUrl, 'USD')).toEqual({
      ...ZERO,
      currency: 'USD',
      open_amount: 1200,
      count_open: 1,
      next_due_date: '2026-12-10',
    });
    // Detached: the charge counts for no parent.
    expectStatus(await h.request('PATCH', `/v1/transactions/${open.id}`, { parent_id: null }), 200);
    expect(await entryOf(h, toUrl, 'USD')).toMatchObject({ open_amount: 0, count_open: 0, next_due_date: null });

    // A completed charge is not edited by hand: 409, and neither parent's totals move.
    const before = [await entryOf(h, fromUrl, 'USD'), await entryOf(h, toUrl, 'USD')];
    expectError(await h.request('PATCH', `/v1/transactions/${paid.id}`, { parent_id: to.id }), 409, 'unexpected_state');
    expectError(
      await h.request('PATCH', `/v1/transactions/${open.id}`, { parent_id: 'par_00000000000000000000000000' }),
      404,
      'resource_missing',
      'parent_id',
    );
    expect([await entryOf(h, fromUrl, 'USD'), await entryOf(h, toUrl, 'USD')]).toEqual(before);
  });

  it('20 concurrent payments on one parent (and its account) all count, exactly', async () => {
    const h = get();
    const account = await created(h, '/v1/accounts', { name: 'Hot Parent' });
    const parent = await created(h, '/v1/parents', { type: 'hot', account_id: account.id });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.request('POST', '/v1/transactions', {
          amount: 100 + i,
          currency: 'USD',
          non_gateway: true,
          status: 'completed',
          parent_id: parent.id,
          account_id: account.id,
        }),
      ),
    );
    for (const r of results) expectStatus(r, 201);
    const expected = Array.from({ length: 20 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0);
    for (const url of [`/v1/parents/${parent.id}`, `/v1/accounts/${account.id}`]) {
      expect(await entryOf(h, url, 'USD')).toMatchObject({
        captured_amount: expected,
        retained_amount: expected,
        non_gateway_amount: expected,
        count_completed: 20,
      });
    }
  });
});
