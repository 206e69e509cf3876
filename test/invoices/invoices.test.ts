// Invoices (R3): create, read, list, edit, void, past due (on write and by the invoices_past_due job), on each
// database. Every refusal answers 400/404/409 and writes nothing.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';
import { balances, cashPayment, expectExact, expectRefusal, expectStatus, getInvoice, invoice } from './support.js';

describeEachDatabase('invoices', (get) => {
  it('creates an open invoice with its defaults, balances and (empty) totals, and reads it back', async () => {
    const h = get();
    const account = await h.request('POST', '/v1/accounts', { name: 'Acme' });
    expectStatus(account, 201);
    const created = await invoice(h, {
      account_id: account.body.id,
      total: 12500,
      issued_on: '2026-11-20',
      due_date: '2026-12-20',
      description: 'November',
      metadata: { po: '42' },
    });
    expect(created).toMatchObject({
      object: 'invoice',
      account_id: account.body.id,
      contact_id: null,
      currency: 'USD',
      total: 12500,
      issued_on: '2026-11-20',
      due_date: '2026-12-20',
      timezone: 'UTC',
      status: 'open',
      past_due: false,
      balance_paid: 0,
      write_off_amount: 0,
      balance_due: 12500,
      payment_status: 'unpaid',
      allocations_count: 0,
      description: 'November',
      metadata: { po: '42' },
      totals: [],
    });
    expect(created.id).toMatch(/^inv_[0-9a-z]{26}$/);
    expect(await getInvoice(h, created.id)).toEqual(created);
    expectStatus(await h.request('GET', '/v1/invoices/inv_00000000000000000000000000'), 404);
  });

  it('refuses bad input with a clear 400 (or 404 for a missing account) and writes nothing', async () => {
    const h = get();
    const post = (body: Record<string, unknown>) => () =>
      h.request('POST', '/v1/invoices', { number: 'BAD-1', currency: 'usd', total: 100, ...body });
    await expectRefusal(h, post({ total: -1 }), 400, 'invalid_amount');
    await expectRefusal(h, post({ total: 1.5 }), 400, 'parameter_invalid_type');
    await expectRefusal(h, post({ currency: 'usdd' }), 400, 'parameter_invalid');
    await expectRefusal(h, post({ currency: 'xyz' }), 400, 'invalid_currency');
    await expectRefusal(h, post({ due_date: '2026-02-30' }), 400, 'invalid_date');
    await expectRefusal(h, post({ timezone: 'Mars/Olympus' }), 400, 'invalid_timezone');
    await expectRefusal(h, post({ status: 'void' }), 400, 'status_not_settable');
    await expectRefusal(h, post({ status: 'paid' }), 400, 'parameter_invalid_value');
    await expectRefusal(h, post({ number: '  ' }), 400, 'invalid_string');
    await expectRefusal(h, post({ metadata: { a: 1 } }), 400, 'parameter_invalid_type');
    await expectRefusal(h, post({ account_id: 'acc_00000000000000000000000000' }), 404, 'resource_missing');
    await expectRefusal(h, post({ unknown: 1 }), 400, 'parameter_unknown');
  });

  it('a number is unique: a duplicate is 409 invoice_number_taken, and of two concurrent creates one wins', async () => {
    const h = get();
    const first = await invoice(h);
    await expectRefusal(
      h,
      () => h.request('POST', '/v1/invoices', { number: first.number, currency: 'usd', total: 1 }),
      409,
      'invoice_number_taken',
    );
    const both = await Promise.all(
      [1, 2].map(() => h.request('POST', '/v1/invoices', { number: `RACE-${h.kind}`, currency: 'usd', total: 1 })),
    );
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('lists newest first with filters and cursor paging', async () => {
    const h = get();
    const account = (await h.request('POST', '/v1/accounts', { name: 'Lister' })).body.id;
    const a = await invoice(h, { account_id: account });
    const b = await invoice(h, { account_id: account, status: 'draft' });
    const c = await invoice(h, { account_id: account, total: 500 });
    await cashPayment(h, 500, c.id);
    const all = await h.request('GET', `/v1/invoices?account_id=${account}`);
    expectStatus(all, 200);
    expect(all.body.data.map((i: any) => i.id)).toEqual([c.id, b.id, a.id]);
    const drafts = await h.request('GET', `/v1/invoices?account_id=${account}&status=draft`);
    expect(drafts.body.data.map((i: any) => i.id)).toEqual([b.id]);
    const paid = await h.request('GET', `/v1/invoices?account_id=${account}&payment_status=paid`);
    expect(paid.body.data.map((i: any) => i.id)).toEqual([c.id]);
    expect(paid.body.data[0].totals).toEqual([
      expect.objectContaining({ currency: 'USD', captured_amount: 500, non_gateway_amount: 500, count_completed: 1 }),
    ]);
    const page1 = await h.request('GET', `/v1/invoices?account_id=${account}&limit=2`);
    expect(page1.body).toMatchObject({ has_more: true, next_cursor: b.id });
    const page2 = await h.request('GET', `/v1/invoices?account_id=${account}&limit=2&starting_after=${b.id}`);
    expect(page2.body.data.map((i: any) => i.id)).toEqual([a.id]);
    expectStatus(await h.request('GET', '/v1/invoices?status=closed'), 400);
    expectStatus(await h.request('GET', '/v1/invoices?starting_after=trx_1'), 400);
  });

  it('PATCH edits fields, draft <-> open, recomputes past_due, refuses void and a currency change once allocated', async () => {
    const h = get();
    const inv = await invoice(h, { status: 'draft', due_date: '2026-12-31' });
    const patched = await h.request('PATCH', `/v1/invoices/${inv.id}`, {
      total: 8000,
      status: 'open',
      description: 'changed',
      metadata: { a: 'b' },
    });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ total: 8000, balance_due: 8000, status: 'open', description: 'changed' });
    // A due date moved before today (2026-11-24 on the harness clock): past due at once.
    const moved = await h.request('PATCH', `/v1/invoices/${inv.id}`, { due_date: '2026-11-23' });
    expect(moved.body).toMatchObject({ past_due: true, payment_status: 'past_due' });
    const back = await h.request('PATCH', `/v1/invoices/${inv.id}`, { status: 'draft' });
    expect(back.body).toMatchObject({ past_due: false, payment_status: 'unpaid' });
    await expectRefusal(h, () => h.request('PATCH', `/v1/invoices/${inv.id}`, {}), 400, 'parameter_missing', inv.id);
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/invoices/${inv.id}`, { status: 'void' }),
      400,
      'status_not_settable',
      inv.id,
    );
    // Currency: free while nothing is allocated, then 409.
    const eur = await h.request('PATCH', `/v1/invoices/${inv.id}`, { currency: 'eur', status: 'open' });
    expect(eur.body.currency).toBe('EUR');
    await cashPayment(h, 100, inv.id, 'eur');
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/invoices/${inv.id}`, { currency: 'usd' }),
      409,
      'invoice_has_allocations',
      inv.id,
    );
    await expectExact(h);
  });

  it('past_due follows the due date in the invoice time zone, with the app clock', async () => {
    const h = get();
    // 2026-11-24T12:00Z is already 2026-11-25 in Kiritimati (UTC+14), still 2026-11-24 in UTC.
    const utc = await invoice(h, { due_date: '2026-11-24' });
    const kiritimati = await invoice(h, { due_date: '2026-11-24', timezone: 'Pacific/Kiritimati' });
    const yesterday = await invoice(h, { due_date: '2026-11-23' });
    expect(balances(utc).payment_status).toBe('unpaid');
    expect(kiritimati).toMatchObject({ past_due: true, payment_status: 'past_due' });
    expect(yesterday).toMatchObject({ past_due: true, payment_status: 'past_due' });
    // Paid in part, it stays past due while a balance is due; paid in full it is paid.
    await cashPayment(h, 4000, yesterday.id);
    expect((await getInvoice(h, yesterday.id)).payment_status).toBe('past_due');
    await cashPayment(h, 6000, yesterday.id);
    expect((await getInvoice(h, yesterday.id)).payment_status).toBe('paid');
  });

  it('the invoices_past_due job marks invoices as days pass, unmarks moved ones, and a second run changes nothing', async () => {
    const h = get();
    const due = await invoice(h, { due_date: '2026-11-25' });
    const draft = await invoice(h, { due_date: '2026-11-25', status: 'draft' });
    const later = await invoice(h, { due_date: '2026-11-30' });
    // A flag left set by hand (a due date changed in psql) is cleared by the job.
    await h.deps.db.updateTable('invoices').set({ past_due: true }).where('id', '=', later.id).execute();
    const started = new Date(h.clock.now());
    try {
      h.clock.set('2026-11-26T00:30:00Z');
      const run = await runJob(h);
      expect(run.summary).toMatch(/marked past due/);
      expect((await getInvoice(h, due.id)).payment_status).toBe('past_due');
      expect((await getInvoice(h, draft.id)).past_due).toBe(false);
      expect((await getInvoice(h, later.id)).past_due).toBe(false);
      const again = await runJob(h);
      expect(again.summary).toBe('0 invoice(s) marked past due, 0 no longer past due.');
      // A due date moved later is no longer past due at once.
      const moved = await h.request('PATCH', `/v1/invoices/${due.id}`, { due_date: '2026-12-01' });
      expect(moved.body).toMatchObject({ past_due: false, payment_status: 'unpaid' });
    } finally {
      h.clock.set(started);
    }
  });

  it('void: only while nothing is allocated, once; nothing can be paid or written off against a void invoice', async () => {
    const h = get();
    const inv = await invoice(h);
    const voided = await h.request('POST', `/v1/invoices/${inv.id}/void`);
    expectStatus(voided, 200);
    expect(voided.body).toMatchObject({ status: 'void', balance_due: 10000 });
    await expectRefusal(h, () => h.request('POST', `/v1/invoices/${inv.id}/void`), 409, 'invoice_void', inv.id);
    await expectRefusal(
      h,
      () => h.request('PATCH', `/v1/invoices/${inv.id}`, { total: 5 }),
      409,
      'invoice_void',
      inv.id,
    );
    await expectRefusal(
      h,
      () => h.request('POST', `/v1/invoices/${inv.id}/write-off`, { amount: 100 }),
      409,
      'invoice_void',
      inv.id,
    );
    await expectRefusal(
      h,
      () =>
        h.request('POST', '/v1/transactions', {
          amount: 100,
          currency: 'usd',
          non_gateway: true,
          status: 'completed',
          invoice_id: inv.id,
        }),
      409,
      'invoice_void',
      inv.id,
    );
    const paid = await invoice(h);
    await cashPayment(h, 100, paid.id);
    await expectRefusal(
      h,
      () => h.request('POST', `/v1/invoices/${paid.id}/void`),
      409,
      'invoice_has_allocations',
      paid.id,
    );
    expectStatus(await h.request('POST', '/v1/invoices/inv_00000000000000000000000000/void'), 404);
    await expectExact(h);
  });

  it('a void racing an allocation: exactly one of them wins, and a void invoice never holds an allocation', async () => {
    const h = get();
    for (let round = 0; round < 4; round += 1) {
      const inv = await invoice(h);
      const cash = await cashPayment(h, 300);
      const [voided, allocated] = await Promise.all([
        h.request('POST', `/v1/invoices/${inv.id}/void`),
        h.request('POST', '/v1/allocations', { transaction_id: cash.id, invoice_id: inv.id, amount: 300 }),
      ]);
      expect(voided.status === 200 ? allocated.status : 201).toBe(voided.status === 200 ? 409 : allocated.status);
      expect([voided.status, allocated.status].filter((s) => s === 409)).toHaveLength(1);
      const after = await getInvoice(h, inv.id);
      if (voided.status === 200) {
        expect(allocated.body.error.code).toBe('invoice_void');
        expect(after).toMatchObject({ status: 'void', allocations_count: 0, balance_paid: 0 });
      } else {
        expect(voided.body.error.code).toBe('invoice_has_allocations');
        expect(after).toMatchObject({ status: 'open', allocations_count: 1, balance_paid: 300 });
      }
    }
    await expectExact(h);
  });
});

async function runJob(h: ReturnType<Parameters<Parameters<typeof describeEachDatabase>[1]>[0]>) {
  const started = await h.request('POST', '/v1/jobs/invoices_past_due/run');
  expectStatus(started, 202);
  for (let i = 0; i < 1500; i += 1) {
    const run = await h.request('GET', `/v1/job-runs/${started.body.id}`);
    if (run.body.status !== 'running') {
      expect(run.body.status).toBe('succeeded');
      return run.body;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('invoices_past_due did not finish');
}
