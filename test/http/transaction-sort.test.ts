// GET /v1/transactions `sort` (created, amount, due_date; '-' descending): paging through a sorted list visits every
// matching row once, in order (ties by id in the sort's direction, rows without a due date last both ways), with and
// without a view or filter; cursors are checked strictly (one of another sort or a malformed one is 400
// invalid_cursor); an unknown sort is 400.
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, expectStatus, type Harness } from '../support/harness.js';

interface Row {
  id: string;
  amount: number;
  due_date: string | null;
  status: string;
  record_type: string;
}

const SORTS = ['-created', 'created', 'amount', '-amount', 'due_date', '-due_date'] as const;
type Sort = (typeof SORTS)[number];

const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The order the API promises for `sort`, computed here from the rows. */
function expectedOrder(rows: Row[], sort: Sort): string[] {
  const descending = sort.startsWith('-');
  const sign = descending ? -1 : 1;
  const key = sort.replace('-', '');
  const sorted = [...rows].sort((a, b) => {
    if (key === 'amount' && a.amount !== b.amount) return sign * (a.amount - b.amount);
    if (key === 'due_date' && a.due_date !== b.due_date) {
      if (a.due_date === null) return 1; // last in both directions
      if (b.due_date === null) return -1;
      return sign * (a.due_date < b.due_date ? -1 : 1);
    }
    return sign * byId(a, b);
  });
  return sorted.map((r) => r.id);
}

/** Every page of the list, following next_cursor; checks each page's size and cursor. */
async function pageThrough(h: Harness, query: Record<string, string>, limit: number): Promise<Row[]> {
  const seen: Row[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const params = new URLSearchParams({ ...query, limit: String(limit) });
    if (cursor !== undefined) params.set('starting_after', cursor);
    const res = await h.request('GET', `/v1/transactions?${params.toString()}`);
    expectStatus(res, 200);
    seen.push(...(res.body.data as Row[]));
    if (!res.body.has_more) {
      expect(res.body.next_cursor).toBeNull();
      return seen;
    }
    expect(res.body.data).toHaveLength(limit);
    cursor = res.body.next_cursor as string;
    expect(cursor.length).toBeLessThanOrEqual(64); // starting_after's maxLength
  }
  throw new Error('more than 1000 pages');
}

describeEachDatabase('GET /v1/transactions sort', (get) => {
  let all: Row[] = [];

  beforeAll(async () => {
    const h = get();
    // Many equal amounts, equal due dates and rows without one, open and completed, charges and refunds (negative), and
    // the largest amount (the longest cursor).
    const original = await h.request('POST', '/v1/transactions', {
      amount: 100_000,
      currency: 'USD',
      non_gateway: true,
      status: 'completed',
      sub_type: 'check',
    });
    expectStatus(original, 201);
    const largest = await h.request('POST', '/v1/transactions', { amount: Number.MAX_SAFE_INTEGER, currency: 'USD' });
    expectStatus(largest, 201);
    const amounts = [1000, 1000, 250, 1000, 5000, 250, 1000];
    const dues = [null, '2026-12-01', '2026-12-01', null, '2027-01-15', '2026-11-30', '2026-12-01', null];
    for (let i = 0; i < 45; i++) {
      const body: Record<string, unknown> = {
        amount: amounts[i % amounts.length],
        currency: 'USD',
        due_date: dues[i % dues.length],
      };
      if (i % 5 === 0 && i % 11 !== 3)
        Object.assign(body, { non_gateway: true, status: 'completed', sub_type: 'check' });
      if (i % 11 === 3) {
        Object.assign(body, {
          transaction_type: 'refund',
          original_transaction_id: original.body.id,
          amount: i % 2 === 0 ? -300 : -1000,
        });
      }
      const res = await h.request('POST', '/v1/transactions', body);
      expectStatus(res, 201);
    }
    all = await pageThrough(h, {}, 200);
    expect(all.length).toBeGreaterThanOrEqual(45);
  });

  it('pages through every sort: each row once, in order, with ties and rows without a due date', async () => {
    const h = get();
    expect(all.some((r) => r.amount < 0)).toBe(true);
    for (const sort of SORTS) {
      for (const limit of [1, 4, 7]) {
        const ids = (await pageThrough(h, { sort }, limit)).map((r) => r.id);
        expect(ids, `${sort} limit ${limit}`).toEqual(expectedOrder(all, sort));
      }
    }
  });

  it('combines with a view and a filter', async () => {
    const h = get();
    const open = all.filter((r) => r.status === 'open');
    const completedCharges = all.filter((r) => r.status === 'completed' && r.record_type === 'charge');
    expect(open.length).toBeGreaterThan(5);
    expect(completedCharges.length).toBeGreaterThan(5);
    for (const sort of SORTS) {
      const viewed = await pageThrough(h, { sort, view: 'open' }, 3);
      expect(
        viewed.map((r) => r.id),
        `${sort} view=open`,
      ).toEqual(expectedOrder(open, sort));
      const filtered = await pageThrough(h, { sort, status: 'completed', record_type: 'charge' }, 4);
      expect(
        filtered.map((r) => r.id),
        `${sort} filtered`,
      ).toEqual(expectedOrder(completedCharges, sort));
    }
  });

  it('keeps the default order and cursors: newest first, the cursor the last id', async () => {
    const h = get();
    const res = await h.request('GET', '/v1/transactions?limit=3');
    expectStatus(res, 200);
    const ids = (res.body.data as Row[]).map((r) => r.id);
    expect(ids).toEqual(expectedOrder(all, '-created').slice(0, 3));
    expect(res.body.next_cursor).toBe(ids[2]);
    const explicit = await h.request('GET', '/v1/transactions?limit=3&sort=-created');
    expect(explicit.body).toEqual(res.body);
    const oldest = await h.request('GET', '/v1/transactions?limit=2&sort=created');
    expect(oldest.body.next_cursor).toBe(oldest.body.data[1].id);
  });

  it('refuses a cursor of another sort, an id for a sort by key and malformed cursors (400 invalid_cursor)', async () => {
    const h = get();
    const cursorOf = async (sort: Sort) => {
      const res = await h.request('GET', `/v1/transactions?limit=2&sort=${sort}`);
      expectStatus(res, 200);
      return res.body.next_cursor as string;
    };
    const amount = await cursorOf('amount');
    const dueDate = await cursorOf('due_date');
    const created = await cursorOf('-created');
    const id = all[0]!.id;
    expect(amount).toMatch(/^v1\.amount\./);
    const bad: [Sort, string][] = [
      ['-amount', amount],
      ['due_date', amount],
      ['-due_date', dueDate],
      ['amount', dueDate],
      ['-created', amount],
      ['created', dueDate],
      ['amount', created],
      ['due_date', id],
      ['amount', 'garbage'],
      ['amount', `v1.amount.1.5.${id}`],
      ['amount', `v1.amount.12a.${id}`],
      ['amount', `v1.amount.99999999999999999.${id}`],
      ['amount', `v1.amount.100.trx_short`],
      ['amount', `v1.amount.100.${id.replace('trx_', 'inv_')}`],
      ['due_date', `v1.due_date.2026-02-30.${id}`],
      ['due_date', `v1.due_date.2026-13-01.${id}`],
      ['due_date', `v1.due_date.nil.${id}`],
      ['-due_date', `v2.-due_date.2026-01-01.${id}`],
      ['-due_date', `v1.-due_date.2026-01-01.${id}x`],
    ];
    for (const [sort, cursor] of bad) {
      const res = await h.request(
        'GET',
        `/v1/transactions?sort=${encodeURIComponent(sort)}&starting_after=${encodeURIComponent(cursor)}`,
      );
      expect(res.status, `${sort} ${cursor}`).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_cursor', param: 'starting_after' });
    }
    // A well-formed cursor of the right sort works, also one naming a row without a due date.
    const nullCursor = `v1.due_date.null.${id}`;
    const ok = await h.request(
      'GET',
      `/v1/transactions?sort=due_date&starting_after=${encodeURIComponent(nullCursor)}`,
    );
    expectStatus(ok, 200);
    for (const row of ok.body.data as Row[]) expect(row.due_date).toBeNull();
  });

  it('refuses an unknown sort with a 400 in the error shape', async () => {
    const h = get();
    for (const sort of ['newest', 'amount,id', '--amount', '+amount', '']) {
      const res = await h.request('GET', `/v1/transactions?sort=${encodeURIComponent(sort)}`);
      expect(res.status, sort).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'sort' });
    }
  });
});
