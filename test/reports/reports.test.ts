// Reports (issue 21, U5): GET /v1/reports/{name} on each database, against the emulator. One ledger is seeded
// through the API on the harness's fake clock across two months and two currencies, with the timezone setting at
// America/New_York so that a day and a month boundary fall differently than in UTC; then each report's rows are
// checked exactly, as JSON and as CSV (header, quoting, CRLF). An unknown report is a 404, a call without a key a 401.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Report, prefersCsv, reportCsv } from '../../src/app/reports.js';
import { upsertReconciliation, updateReconciliation } from '../../src/store/payout-items-repo.js';
import { describeEachDatabase, expectStatus, type Harness } from '../support/harness.js';

type Json = Record<string, any>;

async function create(h: Harness, body: Json): Promise<Json> {
  const res = await h.request('POST', '/v1/transactions', body);
  expectStatus(res, 201);
  return res.body as Json;
}

async function act(h: Harness, id: string, action: string, body?: unknown, status = 200): Promise<Json> {
  const res = await h.request('POST', `/v1/transactions/${id}/${action}`, body);
  expectStatus(res, status);
  return res.body as Json;
}

async function paymentMethod(h: Harness, token: string, expYear = 2030): Promise<string> {
  const res = await h.request('POST', '/v1/payment-methods', {
    gateway_token: token,
    type: 'card',
    exp_month: 12,
    exp_year: expYear,
  });
  expectStatus(res, 201);
  return res.body.id as string;
}

const paid = (amount: number, currency: string) => ({ amount, currency, status: 'completed', non_gateway: true });

describeEachDatabase(
  'reports',
  (get) => {
    /** What the seeding made, for the expected rows. */
    const made = {
      failedToday: {} as Json,
      visa: '',
      gatewayId: '',
      payouts: [] as Json[],
    };

    beforeAll(async () => {
      const h = get();
      expectStatus(await h.request('PATCH', '/v1/settings', { timezone: 'America/New_York' }), 200);

      // October (New York): 10000 USD and 5000 EUR paid; 2500 USD paid at 23:00 on 31 October in New York, which is
      // already 1 November in UTC.
      h.clock.set('2026-10-15T15:00:00Z');
      const october = await create(h, paid(10000, 'usd'));
      await create(h, paid(5000, 'eur'));
      h.clock.set('2026-11-01T03:00:00Z');
      const halloween = await create(h, paid(2500, 'usd'));

      // November: 3000 of October's charge refunded; a write-off and its partial reversal (neither is revenue); 1200
      // EUR paid; a gateway charge of 4000 USD captured at the emulator; 800 USD paid at 21:00 on 30 November in New
      // York (1 December in UTC).
      h.clock.set('2026-11-10T15:00:00Z');
      await act(h, october.id, 'refund', { amount: 3000 }, 201);
      const writeOff = await create(h, { ...paid(700, 'usd'), transaction_type: 'write_off' });
      await act(h, writeOff.id, 'refund', { amount: 200 }, 201);
      await create(h, paid(1200, 'eur'));
      h.clock.set('2026-11-20T15:00:00Z');
      made.visa = await paymentMethod(h, 'pm_card_visa');
      const gateway = await create(h, { amount: 4000, currency: 'usd', payment_method_id: made.visa });
      const captured = await act(h, gateway.id, 'capture');
      expect(captured).toMatchObject({ status: 'completed', payment_status: 'captured' });
      made.gatewayId = captured.gateway_id as string;
      h.clock.set('2026-12-01T02:00:00Z');
      await create(h, paid(800, 'usd'));

      // 9 December in New York: a charge declined at 23:00 on the 8th (the 9th in UTC: not today), one declined at
      // 01:00 on the 9th (today), and 500 of the Halloween charge refunded today.
      const declined = await paymentMethod(h, 'pm_card_visa_chargeDeclined');
      h.clock.set('2026-12-09T04:00:00Z');
      const yesterday = await create(h, { amount: 6100, currency: 'usd', payment_method_id: declined });
      expect(await act(h, yesterday.id, 'capture')).toMatchObject({ status: 'failed' });
      h.clock.set('2026-12-09T06:00:00Z');
      const account = await h.request('POST', '/v1/accounts', { name: 'Reports Ltd' });
      expectStatus(account, 201);
      const today = await create(h, {
        amount: 6200,
        currency: 'eur',
        payment_method_id: declined,
        account_id: account.body.id,
      });
      made.failedToday = await act(h, today.id, 'capture');
      expect(made.failedToday).toMatchObject({ status: 'failed', error_code: 'card_declined' });
      await act(h, halloween.id, 'refund', { amount: 500 }, 201);

      // Payouts: 32 of them a second apart (ids follow the clock), the newest one reconciled with a mismatch.
      h.clock.set('2026-12-09T14:00:00Z');
      for (let i = 0; i < 32; i += 1) {
        h.clock.advance(1000);
        made.payouts.push(
          await create(h, { record_type: 'payout', amount: 1000 + i, currency: i % 2 === 0 ? 'usd' : 'eur' }),
        );
      }
      const newest = made.payouts.at(-1)!;
      await upsertReconciliation(h.deps.db, {
        transaction_id: newest.id,
        gateway_id: made.gatewayId,
        automatic: true,
        method: 'standard',
        gateway_reconciliation_status: 'completed',
        reconciliation_status: 'pending',
        due: false,
        now: h.clock.now(),
      });
      await updateReconciliation(
        h.deps.db,
        newest.id,
        { reconciliation_status: 'mismatch', items_count: 3, items_total: 1020, unmatched_count: 1 },
        h.clock.now(),
      );

      // Due (auto-process, a usable card): today, the 11th (EUR), the 15th (one by its due date, one by its date to
      // process); not counted: the 16th (past the seven days), the 5th (overdue), one not auto-processed.
      h.clock.set('2026-12-09T15:00:00Z');
      const due = (amount: number, currency: string, fields: Json) =>
        create(h, { amount, currency, payment_method_id: made.visa, auto_process: true, ...fields });
      await due(1000, 'usd', { due_date: '2026-12-09' });
      await due(2000, 'eur', { due_date: '2026-12-11' });
      await due(1500, 'usd', { due_date: '2026-12-15' });
      await due(500, 'usd', { due_date: '2026-12-20', date_to_process: '2026-12-15' });
      await due(900, 'usd', { due_date: '2026-12-16' });
      await due(300, 'usd', { due_date: '2026-12-05' });
      await due(400, 'usd', { due_date: '2026-12-10', auto_process: false });

      // To fix: no due date and no card (two messages), no card, an expired card.
      await create(h, { amount: 100, currency: 'usd', auto_process: true });
      await create(h, { amount: 200, currency: 'usd', auto_process: true, due_date: '2027-01-15' });
      const expired = await paymentMethod(h, 'pm_card_visa', 2020);
      await create(h, {
        amount: 300,
        currency: 'usd',
        auto_process: true,
        due_date: '2027-01-15',
        payment_method_id: expired,
      });
    });

    const report = async (name: string, headers: Record<string, string> = {}) => {
      const res = await get().request('GET', `/v1/reports/${name}`, undefined, headers);
      expectStatus(res, 200);
      return res;
    };
    const csv = async (name: string) => {
      const res = await report(name, { accept: 'text/csv' });
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${name}-2026-12-09.csv"`);
      return res.body as string;
    };

    it('revenue_by_month: captured less refunded per month and currency in the timezone; write-offs are not revenue', async () => {
      const res = await report('revenue_by_month');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({
        object: 'report',
        name: 'revenue_by_month',
        timezone: 'America/New_York',
        date: '2026-12-09',
        generated_at: '2026-12-09T15:00:00.000Z',
        data: [
          {
            month: '2026-10',
            currency: 'EUR',
            captured_amount: 5000,
            refunded_amount: 0,
            net_amount: 5000,
            count: 1,
            refund_count: 0,
          },
          {
            month: '2026-10',
            currency: 'USD',
            captured_amount: 12500,
            refunded_amount: 0,
            net_amount: 12500,
            count: 2,
            refund_count: 0,
          },
          {
            month: '2026-11',
            currency: 'EUR',
            captured_amount: 1200,
            refunded_amount: 0,
            net_amount: 1200,
            count: 1,
            refund_count: 0,
          },
          {
            month: '2026-11',
            currency: 'USD',
            captured_amount: 4800,
            refunded_amount: 3000,
            net_amount: 1800,
            count: 2,
            refund_count: 1,
          },
          {
            month: '2026-12',
            currency: 'USD',
            captured_amount: 0,
            refunded_amount: 500,
            net_amount: -500,
            count: 0,
            refund_count: 1,
          },
        ],
      });
      expect(await csv('revenue_by_month')).toBe(
        'month,currency,captured_amount,refunded_amount,net_amount,count,refund_count\r\n' +
          '2026-10,EUR,5000,0,5000,1,0\r\n' +
          '2026-10,USD,12500,0,12500,2,0\r\n' +
          '2026-11,EUR,1200,0,1200,1,0\r\n' +
          '2026-11,USD,4800,3000,1800,2,1\r\n' +
          '2026-12,USD,0,500,-500,0,1\r\n',
      );
    });

    it('failed_today: what failed today in the timezone, with its error; a quoted message in CSV', async () => {
      const h = get();
      const f = made.failedToday;
      const row = {
        id: f.id,
        record_type: 'charge',
        transaction_type: 'normal',
        amount: 6200,
        currency: 'EUR',
        error_code: 'card_declined',
        decline_code: f.decline_code,
        error_message: f.error_message,
        account_id: f.account_id,
        payment_method_id: f.payment_method_id,
        failed_at: '2026-12-09T06:00:00.000Z',
      };
      expect(typeof f.error_message).toBe('string');
      expect((await report('failed_today')).body.data).toEqual([row]);

      // The emulator's decline messages hold neither a comma nor a quote: this one is given both, directly.
      const message = 'Declined, said "the bank"';
      await sql`update transactions set error_message = ${message} where id = ${f.id}`.execute(h.deps.db);
      expect((await report('failed_today')).body.data).toEqual([{ ...row, error_message: message }]);
      expect(await csv('failed_today')).toBe(
        'id,record_type,transaction_type,amount,currency,error_code,decline_code,error_message,account_id,payment_method_id,failed_at\r\n' +
          `${f.id},charge,normal,6200,EUR,card_declined,${f.decline_code ?? ''},"Declined, said ""the bank""",${f.account_id},${f.payment_method_id},2026-12-09T06:00:00.000Z\r\n`,
      );
    });

    it('due_next_7_days: open auto-process charges per due day and currency, today to today + 6', async () => {
      expect((await report('due_next_7_days')).body.data).toEqual([
        { due_date: '2026-12-09', currency: 'USD', count: 1, amount: 1000 },
        { due_date: '2026-12-11', currency: 'EUR', count: 1, amount: 2000 },
        { due_date: '2026-12-15', currency: 'USD', count: 2, amount: 2000 },
      ]);
      expect(await csv('due_next_7_days')).toBe(
        'due_date,currency,count,amount\r\n2026-12-09,USD,1,1000\r\n2026-12-11,EUR,1,2000\r\n2026-12-15,USD,2,2000\r\n',
      );
    });

    it('to_fix: a count per to-fix message (a transaction with two counts under both)', async () => {
      const rows = [
        {
          code: 'missing_due_date',
          message:
            'Auto-process is on, but there is no due date or date to process: set one so the transaction gets picked up.',
          count: 1,
        },
        {
          code: 'invalid_payment_method',
          message: 'The linked payment method cannot be used: update it or link a usable one.',
          count: 1,
        },
        {
          code: 'missing_payment_method',
          message:
            'Auto-process is on, but no payment method is linked: add one so the charge can be taken automatically.',
          count: 2,
        },
      ];
      expect((await report('to_fix')).body.data).toEqual(rows);
      expect(await csv('to_fix')).toBe(
        'code,message,count\r\n' +
          'missing_due_date,"Auto-process is on, but there is no due date or date to process: set one so the transaction gets picked up.",1\r\n' +
          'invalid_payment_method,The linked payment method cannot be used: update it or link a usable one.,1\r\n' +
          'missing_payment_method,"Auto-process is on, but no payment method is linked: add one so the charge can be taken automatically.",2\r\n',
      );
    });

    it('payouts: the last 30, newest first, with their reconciliation', async () => {
      const expected = made.payouts
        .slice(2)
        .reverse()
        .map((p, i) => ({
          id: p.id,
          amount: p.amount,
          currency: p.currency,
          arrival_date: null,
          status: 'open',
          reconciliation_status: i === 0 ? 'mismatch' : 'pending',
          items_count: i === 0 ? 3 : 0,
          items_total: i === 0 ? 1020 : 0,
          unmatched_count: i === 0 ? 1 : 0,
        }));
      expect(expected).toHaveLength(30);
      expect(expected[0]).toMatchObject({ amount: 1031, currency: 'EUR' });
      expect((await report('payouts')).body.data).toEqual(expected);
      const text = await csv('payouts');
      const lines = text.split('\r\n');
      expect(lines).toHaveLength(32);
      expect(lines[0]).toBe(
        'id,amount,currency,arrival_date,status,reconciliation_status,items_count,items_total,unmatched_count',
      );
      expect(lines[1]).toBe(`${expected[0]!.id},1031,EUR,,open,mismatch,3,1020,1`);
      expect(lines[30]).toBe(`${expected[29]!.id},1002,USD,,open,pending,0,0,0`);
      expect(lines[31]).toBe('');
    });

    it('Accept decides the format: JSON by default and on a tie, CSV when text/csv is preferred', async () => {
      const res = await report('due_next_7_days', { accept: 'text/csv;q=0.5, application/json' });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const csvRes = await report('due_next_7_days', { accept: 'application/json;q=0.4, text/*' });
      expect(csvRes.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect((await report('due_next_7_days', { accept: '*/*' })).headers['content-type']).toBe(
        'application/json; charset=utf-8',
      );
    });

    it('an unknown report is a 404 report_not_found, in JSON even when CSV is asked for', async () => {
      const h = get();
      for (const headers of [{}, { accept: 'text/csv' }] as Record<string, string>[]) {
        const res = await h.request('GET', '/v1/reports/revenue', undefined, headers);
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.body.error).toMatchObject({
          type: 'invalid_request_error',
          code: 'report_not_found',
          param: 'name',
        });
        expect(res.body.error.message).toContain('revenue_by_month, failed_today, due_next_7_days, to_fix, payouts');
      }
    });

    it('/openapi.json documents both formats of the 200', async () => {
      const res = await get().request('GET', '/openapi.json', undefined, {}, null);
      expectStatus(res, 200);
      const op = res.body.paths['/v1/reports/{name}'].get;
      expect(Object.keys(op.responses['200'].content).sort()).toEqual(['application/json', 'text/csv']);
      expect(op.responses['200'].content['text/csv'].schema).toMatchObject({ type: 'string' });
    });

    it('needs a key: none or an unknown one is a 401; a read key is enough', async () => {
      const h = get();
      expect((await h.request('GET', '/v1/reports/to_fix', undefined, {}, null)).status).toBe(401);
      expect((await h.request('GET', '/v1/reports/to_fix', undefined, {}, 'settle_not_a_key_0000000000')).status).toBe(
        401,
      );
      const read = await h.keyWith(['read']);
      expect((await h.request('GET', '/v1/reports/to_fix', undefined, {}, read)).status).toBe(200);
      const access = h.app.routeAccess().find((r) => r.method === 'GET' && r.url === '/v1/reports/:name');
      expect(access).toMatchObject({ public: false, scope: 'read' });
    });
  },
  { emulator: true },
);

describe('reports: CSV and Accept', () => {
  const base: Omit<Report, 'name' | 'data'> = {
    object: 'report',
    timezone: 'UTC',
    date: '2026-12-09',
    generated_at: '2026-12-09T00:00:00.000Z',
  };

  it('quotes commas, quotes and line breaks; empties null; defuses formulas but not negative numbers', () => {
    const text = reportCsv({
      ...base,
      name: 'to_fix',
      data: [
        { code: 'a', message: 'one, "two"', count: 1 },
        { code: 'b', message: 'line\r\nbreak', count: -2 },
        { code: 'c', message: '=HYPERLINK("x")', count: 0 },
        { code: 'd', message: null, count: 3 },
      ],
    });
    expect(text).toBe(
      'code,message,count\r\n' +
        'a,"one, ""two""",1\r\n' +
        'b,"line\r\nbreak",-2\r\n' +
        'c,"\'=HYPERLINK(""x"")",0\r\n' +
        'd,,3\r\n',
    );
    expect(reportCsv({ ...base, name: 'due_next_7_days', data: [] })).toBe('due_date,currency,count,amount\r\n');
  });

  it('prefersCsv follows the qualities, JSON on a tie or without an Accept', () => {
    expect(prefersCsv(undefined)).toBe(false);
    expect(prefersCsv('')).toBe(false);
    expect(prefersCsv('text/csv')).toBe(true);
    expect(prefersCsv('TEXT/CSV; charset=utf-8')).toBe(true);
    expect(prefersCsv('application/json')).toBe(false);
    expect(prefersCsv('text/csv, application/json')).toBe(false);
    expect(prefersCsv('text/csv, application/json;q=0.9')).toBe(true);
    expect(prefersCsv('text/*, application/*;q=0.1')).toBe(true);
    expect(prefersCsv('*/*')).toBe(false);
    expect(prefersCsv('text/csv;q=abc')).toBe(false);
  });
});
