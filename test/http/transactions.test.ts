import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';

async function count(h: Harness, table: 'transactions' | 'transaction_history' = 'transactions'): Promise<number> {
  const row = await sql<{ n: number }>`select count(*)::int8 as n from ${sql.table(table)}`.execute(h.deps.db);
  return row.rows[0]!.n;
}

async function create(h: Harness, body: Record<string, unknown>) {
  const res = await h.request('POST', '/v1/transactions', { amount: 1000, currency: 'USD', ...body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describeEachDatabase('transactions API', (get) => {
  it('creates an open charge with every field of the contract', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/transactions', {
      amount: 1050,
      currency: 'usd',
      due_date: '2026-12-01',
      auto_process: true,
      description: 'Invoice 42',
      metadata: { invoice: '42' },
    });
    expect(res.status).toBe(201);
    const t = res.body;
    expect(t.id).toMatch(/^trx_[0-9a-z]{26}$/);
    expect(t).toMatchObject({
      object: 'transaction',
      record_type: 'charge',
      transaction_type: 'normal',
      status: 'open',
      payment_status: null,
      amount: 1050,
      currency: 'USD',
      authorized_amount: 0,
      captured_amount: 0,
      refunded_amount: 0,
      retained_amount: 0,
      source: 'api',
      processing_mode: 'platform',
      gateway_ref: { payment_intent: null, charge: null, balance_transaction: null, refund: null },
      metadata: { invoice: '42' },
      invalid_payment_method: false,
    });
    // auto-process without a payment method cannot run: to_fix says so
    expect(t.to_fix).toMatch(/payment method/i);
    for (const field of [
      'gateway_fee',
      'application_fee',
      'net_amount',
      'exchange_rate',
      'balance_status',
      'available_on',
      'error_code',
      'decline_code',
      'error_message',
      'error_type',
      'authorization_expires_at',
      'processed_at',
      'original_transaction_id',
      'reattempt_of_id',
      'uncaptured_method',
      'gateway_id',
    ]) {
      expect(t, field).toHaveProperty(field, null);
    }
    const again = await h.request('GET', `/v1/transactions/${t.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(t);
  });

  it('records a non-gateway payment as completed/captured at once, and a write-off', async () => {
    const h = get();
    const paid = await create(h, { amount: 2500, non_gateway: true, status: 'completed', sub_type: 'check' });
    expect(paid).toMatchObject({
      status: 'completed',
      payment_status: 'captured',
      authorized_amount: 2500,
      captured_amount: 2500,
      retained_amount: 2500,
      sub_type: 'check',
    });
    expect(paid.processed_at).not.toBeNull();
    const writeOff = await create(h, {
      amount: 300,
      transaction_type: 'write_off',
      non_gateway: true,
      status: 'completed',
    });
    expect(writeOff).toMatchObject({ transaction_type: 'write_off', status: 'completed' });
  });

  it('money edge cases: JPY and KWD exponents, the largest safe amount, negative refunds', async () => {
    const h = get();
    expect((await create(h, { amount: 500, currency: 'jpy' })).currency).toBe('JPY');
    expect((await create(h, { amount: 1234, currency: 'KWD' })).amount).toBe(1234);
    expect((await create(h, { amount: Number.MAX_SAFE_INTEGER })).amount).toBe(Number.MAX_SAFE_INTEGER);
    const original = await create(h, { amount: 100, non_gateway: true, status: 'completed' });
    const refund = await create(h, {
      amount: -35,
      transaction_type: 'refund',
      original_transaction_id: original.id,
      auto_process: true,
      due_date: '2026-11-24',
    });
    expect(refund).toMatchObject({
      amount: -35,
      transaction_type: 'refund',
      status: 'open',
      original_transaction_id: original.id,
    });
  });

  const badInputs: [string, Record<string, unknown>, string, string?][] = [
    ['float amount', { amount: 10.5 }, 'amount', 'invalid_amount'],
    ['string amount', { amount: '100' }, 'amount', 'invalid_amount'],
    ['null amount', { amount: null }, 'amount', 'invalid_amount'],
    ['unsafe amount', { amount: 2 ** 53 }, 'amount', 'amount_too_large'],
    ['zero amount', { amount: 0 }, 'amount', 'invalid_amount'],
    ['negative normal charge', { amount: -5 }, 'amount', 'invalid_amount'],
    ['missing amount', { amount: undefined }, 'amount', 'parameter_missing'],
    ['unknown currency', { currency: 'XYZ' }, 'currency', 'invalid_currency'],
    ['numeric currency', { currency: 840 }, 'currency'],
    ['missing currency', { currency: undefined }, 'currency', 'parameter_missing'],
    ['unknown field', { colour: 'red' }, 'colour', 'parameter_unknown'],
    ['impossible date', { due_date: '2026-02-30' }, 'due_date', 'invalid_date'],
    ['badly written date', { date_to_process: '01/12/2026' }, 'date_to_process', 'invalid_date'],
    ['adjustment record type', { record_type: 'adjustment' }, 'record_type', 'record_type_not_creatable'],
    ['unknown record type', { record_type: 'gift' }, 'record_type'],
    ['reversal type', { transaction_type: 'reversal' }, 'transaction_type'],
    ['completed gateway charge', { status: 'completed' }, 'status', 'invalid_status'],
    ['created canceled', { status: 'canceled' }, 'status'],
    [
      'refund without original',
      { transaction_type: 'refund', amount: -10 },
      'original_transaction_id',
      'original_required',
    ],
    [
      'refund with positive amount',
      { transaction_type: 'refund', amount: 10, original_transaction_id: 'trx_missing' },
      'amount',
      'invalid_amount',
    ],
    [
      'refund of a missing charge',
      { transaction_type: 'refund', amount: -10, original_transaction_id: 'trx_missing' },
      'original_transaction_id',
      'resource_missing',
    ],
    [
      'original on a normal charge',
      { original_transaction_id: 'trx_x' },
      'original_transaction_id',
      'original_not_allowed',
    ],
    [
      'write-off through the gateway',
      { transaction_type: 'write_off' },
      'non_gateway',
      'write_off_must_be_non_gateway',
    ],
    ['sub_type without non_gateway', { sub_type: 'cash' }, 'sub_type', 'sub_type_requires_non_gateway'],
    ['two action flags', { authorize: true, capture: true }, 'capture', 'conflicting_flags'],
    ['refund flag on a charge', { refund: true }, 'refund', 'invalid_flag'],
    [
      'auto-processed non-gateway',
      { non_gateway: true, auto_process: true },
      'auto_process',
      'non_gateway_not_processable',
    ],
    ['unknown payment method', { payment_method_id: 'pmt_nope' }, 'payment_method_id', 'resource_missing'],
    ['unknown account', { account_id: 'acc_nope' }, 'account_id', 'resource_missing'],
    ['unknown contact', { contact_id: 'con_nope' }, 'contact_id', 'resource_missing'],
    ['metadata with a number', { metadata: { a: 1 } }, 'metadata.a'],
    ['too long description', { description: 'x'.repeat(1001) }, 'description'],
    ['boolean as string', { auto_process: 'yes' }, 'auto_process', 'parameter_invalid_type'],
  ];
  for (const [name, override, param, code] of badInputs) {
    it(`rejects ${name} with a 400 naming ${param} and writes nothing`, async () => {
      const h = get();
      const before = [await count(h), await count(h, 'transaction_history')];
      const body: Record<string, unknown> = { amount: 1000, currency: 'USD', ...override };
      for (const [k, v] of Object.entries(override)) if (v === undefined) delete body[k];
      const res = await h.request('POST', '/v1/transactions', body);
      expect(res.status, JSON.stringify(res.body)).toBe(res.body?.error?.code === 'resource_missing' ? 404 : 400);
      expect(res.body.error.param).toBe(param);
      if (code) expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(10);
      expect([await count(h), await count(h, 'transaction_history')]).toEqual(before);
    });
  }

  it('rejects a scheduled refund beyond what the charge can still give back', async () => {
    const h = get();
    const original = await create(h, { amount: 100, non_gateway: true, status: 'completed' });
    await create(h, { amount: -60, transaction_type: 'refund', original_transaction_id: original.id });
    const before = await count(h);
    // an open refund is not yet money returned: it does not count until it is in flight
    const ok = await h.request('POST', '/v1/transactions', {
      amount: -100,
      currency: 'USD',
      transaction_type: 'refund',
      original_transaction_id: original.id,
    });
    expect(ok.status).toBe(201);
    const tooMuch = await h.request('POST', '/v1/transactions', {
      amount: -101,
      currency: 'USD',
      transaction_type: 'refund',
      original_transaction_id: original.id,
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error).toMatchObject({ code: 'amount_exceeds_refundable', param: 'amount' });
    const otherCurrency = await h.request('POST', '/v1/transactions', {
      amount: -10,
      currency: 'EUR',
      transaction_type: 'refund',
      original_transaction_id: original.id,
    });
    expect(otherCurrency.body.error).toMatchObject({ code: 'currency_mismatch', param: 'currency' });
    expect(await count(h)).toBe(before + 1);
  });

  it('edits business fields, merges metadata and keeps a history row per change', async () => {
    const h = get();
    const t = await create(h, { metadata: { a: '1', b: '2' } });
    const res = await h.request('PATCH', `/v1/transactions/${t.id}`, {
      amount: 1200,
      metadata: { b: '', c: '3' },
      due_date: '2026-12-24',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: 1200, metadata: { a: '1', c: '3' }, due_date: '2026-12-24' });
    const history = await h.request('GET', `/v1/transactions/${t.id}/history`);
    expect(history.body.data).toHaveLength(2);
    expect(history.body.data[0].action).toBe('created');
    expect(history.body.data[1]).toMatchObject({ action: 'updated', actor: 'api_key:key_bootstrap' });
    expect(history.body.data[1].changes.amount).toEqual([1000, 1200]);
    expect(history.body.data[1].changes.due_date).toEqual([null, '2026-12-24']);
    expect(history.body.data[1].changes.metadata).toEqual([
      { a: '1', b: '2' },
      { a: '1', c: '3' },
    ]);
    const noop = await h.request('PATCH', `/v1/transactions/${t.id}`, { amount: 1200 });
    expect(noop.status).toBe(200);
    expect((await h.request('GET', `/v1/transactions/${t.id}/history`)).body.data).toHaveLength(2);
  });

  it('moves status by hand only open <-> on_hold and open -> canceled', async () => {
    const h = get();
    const t = await create(h, {});
    expect((await h.request('PATCH', `/v1/transactions/${t.id}`, { status: 'on_hold' })).body.status).toBe('on_hold');
    const cancelHeld = await h.request('PATCH', `/v1/transactions/${t.id}`, { status: 'canceled' });
    expect(cancelHeld.status).toBe(409);
    expect(cancelHeld.body.error).toMatchObject({ code: 'unexpected_state', current: 'on_hold', allowed: ['open'] });
    expect(cancelHeld.body.error.message).toMatch(/on_hold/);
    expect((await h.request('PATCH', `/v1/transactions/${t.id}`, { status: 'open' })).body.status).toBe('open');
    // Cancel takes no fields: one sent is refused and the transaction is left as it was.
    const withReason = await h.request('POST', `/v1/transactions/${t.id}/cancel`, { reason: 'duplicate' });
    expect(withReason.status).toBe(400);
    expect(withReason.body.error).toMatchObject({ code: 'parameter_unknown', param: 'reason' });
    expect((await h.request('GET', `/v1/transactions/${t.id}`)).body.status).toBe('open');
    const canceled = await h.request('POST', `/v1/transactions/${t.id}/cancel`);
    expect(canceled.body.status).toBe('canceled');
    for (const status of ['open', 'on_hold']) {
      const res = await h.request('PATCH', `/v1/transactions/${t.id}`, { status });
      expect(res.status).toBe(409);
      expect(res.body.error.current).toBe('canceled');
    }
    const edit = await h.request('PATCH', `/v1/transactions/${t.id}`, { amount: 5 });
    expect(edit.status).toBe(409);
    expect(edit.body.error).toMatchObject({ code: 'unexpected_state', allowed: ['open', 'on_hold'] });
    for (const status of ['completed', 'process', 'failed', 'pending', 'needs_review']) {
      const open = await create(h, {});
      const res = await h.request('PATCH', `/v1/transactions/${open.id}`, { status });
      expect(res.status, status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'status_not_settable', param: 'status' });
    }
    const history = await h.request('GET', `/v1/transactions/${t.id}/history`);
    expect(history.body.data.map((e: any) => e.action)).toEqual([
      'created',
      'status open -> on_hold',
      'status on_hold -> open',
      'status open -> canceled',
    ]);
  });

  it('rejects bad edits with a 400 and changes nothing', async () => {
    const h = get();
    const t = await create(h, {});
    for (const body of [
      { amount: 1.5 },
      { amount: -1 },
      { currency: 'ABC' },
      { due_date: '2026-13-01' },
      { payment_method_id: 'pmt_x' },
      { nope: 1 },
      {},
      { status: 'paused' },
    ]) {
      const res = await h.request('PATCH', `/v1/transactions/${t.id}`, body);
      expect([400, 404], JSON.stringify(body)).toContain(res.status);
    }
    const after = await h.request('GET', `/v1/transactions/${t.id}`);
    expect(after.body).toEqual(t);
    expect((await h.request('PATCH', '/v1/transactions/trx_missing', { amount: 5 })).status).toBe(404);
  });

  it('protects gateway-touched transactions from deletion unless validations are off', async () => {
    const h = get();
    const plain = await create(h, {});
    expect((await h.request('DELETE', `/v1/transactions/${plain.id}`)).body).toEqual({
      id: plain.id,
      object: 'transaction',
      deleted: true,
    });
    expect((await h.request('GET', `/v1/transactions/${plain.id}`)).status).toBe(404);
    const touched = await create(h, {});
    await h.deps.db
      .updateTable('transactions')
      .set({ error_message: 'card declined', error_code: 'card_declined' })
      .where('id', '=', touched.id)
      .execute();
    const refused = await h.request('DELETE', `/v1/transactions/${touched.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('transaction_protected');
    const original = await create(h, { non_gateway: true, status: 'completed' });
    await create(h, { amount: -10, transaction_type: 'refund', original_transaction_id: original.id });
    expect((await h.request('DELETE', `/v1/transactions/${original.id}`)).body.error.code).toBe(
      'transaction_has_dependents',
    );
    expect((await h.request('PATCH', '/v1/settings', { validations_enabled: false })).status).toBe(200);
    try {
      expect((await h.request('DELETE', `/v1/transactions/${touched.id}`)).status).toBe(200);
    } finally {
      await h.request('PATCH', '/v1/settings', { validations_enabled: true });
    }
  });

  it('clones business fields and clears gateway, status and error fields', async () => {
    const h = get();
    const t = await create(h, { auto_process: true, due_date: '2026-12-01', description: 'd', metadata: { k: 'v' } });
    await h.deps.db
      .updateTable('transactions')
      .set({
        status: 'failed',
        error_code: 'card_declined',
        decline_code: 'generic_decline',
        error_message: 'declined',
        gateway_payment_intent: 'pi_123',
      })
      .where('id', '=', t.id)
      .execute();
    // A clone copies; it takes no overrides. A field sent is refused, not silently ignored, and nothing is made.
    const count = async () =>
      Number(
        (
          await h.deps.db
            .selectFrom('transactions')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const withOverride = await h.request('POST', `/v1/transactions/${t.id}/clone`, { amount: 500 });
    expect(withOverride.status).toBe(400);
    expect(withOverride.body.error).toMatchObject({ code: 'parameter_unknown', param: 'amount' });
    expect(await count()).toBe(before);
    const res = await h.request('POST', `/v1/transactions/${t.id}/clone`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'open',
      amount: 1000,
      auto_process: true,
      due_date: '2026-12-01',
      description: 'd',
      metadata: { k: 'v' },
      error_code: null,
      decline_code: null,
      error_message: null,
    });
    expect(res.body.gateway_ref.payment_intent).toBeNull();
    expect(res.body.id).not.toBe(t.id);
  });

  it('lists with filters, views and cursor pagination', async () => {
    const h = get();
    const tag = `list-${h.kind}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await create(h, { description: tag, due_date: '2026-11-20', auto_process: false })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/transactions?limit=2&due_before=2026-11-21&due_after=2026-11-19&status=open${cursor ? `&starting_after=${cursor}` : ''}`;
      const page = await h.request('GET', url);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((t: any) => t.id));
      cursor = page.body.next_cursor;
      expect(page.body.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const overdue = await h.request('GET', '/v1/transactions?view=overdue&limit=200');
    expect(overdue.body.data.map((t: any) => t.id)).toEqual(expect.arrayContaining(ids));
    const dueToday = await create(h, { date_to_process: '2026-11-24', due_date: '2026-11-01' });
    const todayView = await h.request('GET', '/v1/transactions?view=due_today&limit=200');
    expect(todayView.body.data.map((t: any) => t.id)).toContain(dueToday.id);
    expect(todayView.body.data.map((t: any) => t.id)).not.toContain(ids[0]);
    const scheduled = await create(h, { auto_process: true, due_date: '2026-12-01' });
    expect(
      (await h.request('GET', '/v1/transactions?view=scheduled&limit=200')).body.data.map((t: any) => t.id),
    ).toContain(scheduled.id);
    const refunds = await h.request('GET', '/v1/transactions?view=refunds&limit=200');
    expect(refunds.body.data.every((t: any) => t.transaction_type === 'refund')).toBe(true);
    for (const bad of ['limit=0', 'limit=201', 'view=everything', 'status=done', 'due_before=tomorrow', 'colour=red']) {
      const res = await h.request('GET', `/v1/transactions?${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it('the to_fix view selects exactly the open transactions whose to_fix is set', async () => {
    const h = get();
    await create(h, { auto_process: true });
    await create(h, { auto_process: true, due_date: '2026-12-01' });
    await create(h, { due_date: '2026-12-01' });
    const all = await h.request('GET', '/v1/transactions?limit=200&status=open');
    const expected = all.body.data.filter((t: any) => t.to_fix !== null).map((t: any) => t.id);
    const view = await h.request('GET', '/v1/transactions?limit=200&view=to_fix');
    expect(view.body.data.map((t: any) => t.id).sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThanOrEqual(2);
  });
});
