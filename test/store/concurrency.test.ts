// Lost updates under real concurrency (PostgreSQL; PGlite has a single connection).
import { expect, it } from 'vitest';
import { describePostgres } from '../support/harness.js';

describePostgres('concurrent writes', (get) => {
  it('concurrent PATCHes of one transaction never lose an update (compare-and-set)', async () => {
    const h = get();
    const t = (await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' })).body;
    const n = 20;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        h.request('PATCH', `/v1/transactions/${t.id}`, { metadata: { [`k${i}`]: String(i) } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
    const after = (await h.request('GET', `/v1/transactions/${t.id}`)).body;
    expect(Object.keys(after.metadata).sort()).toEqual(Array.from({ length: n }, (_, i) => `k${i}`).sort());
    const row = await h.deps.db
      .selectFrom('transactions')
      .select('version')
      .where('id', '=', t.id)
      .executeTakeFirstOrThrow();
    expect(row.version).toBe(n + 1);
    const history = await h.request('GET', `/v1/transactions/${t.id}/history?limit=200`);
    expect(history.body.data).toHaveLength(n + 1);
    // each history row records exactly the key it added: the old value it saw is the true previous state
    const sizes = history.body.data
      .slice(1)
      .map((e: any) => [Object.keys(e.changes.metadata[0]).length, Object.keys(e.changes.metadata[1]).length]);
    expect(sizes.map(([before, afterSize]: [number, number]) => afterSize - before)).toEqual(Array(n).fill(1));
  });

  it('concurrent hold and cancel of one open transaction: exactly one wins', async () => {
    const h = get();
    for (let round = 0; round < 10; round += 1) {
      const t = (await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' })).body;
      const [hold, cancel] = await Promise.all([
        h.request('PATCH', `/v1/transactions/${t.id}`, { status: 'on_hold' }),
        h.request('POST', `/v1/transactions/${t.id}/cancel`),
      ]);
      const statuses = [hold.status, cancel.status].sort();
      expect(statuses).toEqual([200, 409]);
      const final = (await h.request('GET', `/v1/transactions/${t.id}`)).body.status;
      expect(final).toBe(hold.status === 200 ? 'on_hold' : 'canceled');
      const history = await h.request('GET', `/v1/transactions/${t.id}/history`);
      expect(history.body.data).toHaveLength(2);
    }
  });

  it('concurrent deletes of one transaction: exactly one deletes it, the others find it gone', async () => {
    const h = get();
    const t = (await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD' })).body;
    const results = await Promise.all(Array.from({ length: 5 }, () => h.request('DELETE', `/v1/transactions/${t.id}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 404 || s === 409)).toBe(true);
    const history = await h.deps.db
      .selectFrom('transaction_history')
      .select('action')
      .where('transaction_id', '=', t.id)
      .execute();
    expect(history.map((e) => e.action).sort()).toEqual(['created', 'deleted']);
  });

  it('concurrent settings changes of different keys all apply', async () => {
    const h = get();
    const patches: Record<string, unknown>[] = [
      { webhook_retention_days: 45 },
      { stuck_after_seconds: 600 },
      { daily_jobs_at: '07:15' },
      { reattempts_enabled: true },
      { reattempt_day_gaps: [2, 3] },
      { auto_process_due_today_only: true },
    ];
    const results = await Promise.all(patches.map((p) => h.request('PATCH', '/v1/settings', p)));
    expect(results.map((r) => r.status)).toEqual(patches.map(() => 200));
    const settings = (await h.request('GET', '/v1/settings')).body;
    for (const p of patches) expect(settings).toMatchObject(p);
    await h.request('PATCH', '/v1/settings', {
      webhook_retention_days: 30,
      stuck_after_seconds: 300,
      daily_jobs_at: '06:00',
      reattempts_enabled: false,
      reattempt_day_gaps: [1, 1, 1, 1],
      auto_process_due_today_only: false,
    });
  });
});
