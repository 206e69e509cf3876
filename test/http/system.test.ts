import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/harness.js';

describeEachDatabase('operations and settings', (get) => {
  it('serves health, readiness and the OpenAPI description without a key, metrics with a read key', async () => {
    const h = get();
    expect((await h.request('GET', '/healthz', undefined, {}, null)).body).toEqual({ status: 'ok' });
    expect((await h.request('GET', '/readyz', undefined, {}, null)).body).toEqual({ status: 'ready' });
    await h.request('GET', '/v1/transactions');
    expect((await h.request('GET', '/metrics', undefined, {}, null)).status).toBe(401);
    const metrics = await h.request('GET', '/metrics', undefined, {}, await h.keyWith(['read']));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('settle_http_requests_total');
    const openapi = await h.request('GET', '/openapi.json', undefined, {}, null);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/transactions', '/v1/transactions/{id}', '/v1/settings']),
    );
    expect((await h.request('GET', '/docs/', undefined, {}, null)).status).toBe(200);
  });

  it('answers unknown routes, bad JSON and oversized bodies with the error shape', async () => {
    const h = get();
    const missing = await h.request('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('route_not_found');
    const badJson = await h.app.inject({
      method: 'POST',
      url: '/v1/transactions',
      headers: { authorization: 'Bearer settle_test_admin_key_0123456789abcdef', 'content-type': 'application/json' },
      payload: '{"amount": 1',
    });
    expect(badJson.statusCode).toBe(400);
    expect(JSON.parse(badJson.body).error.code).toBe('invalid_json');
    const notObject = await h.request('POST', '/v1/transactions', [1, 2]);
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toBe('The request body must be a JSON object.');
    const huge = await h.request('POST', '/v1/transactions', {
      amount: 100,
      currency: 'USD',
      description: 'x'.repeat(300 * 1024),
    });
    expect(huge.status).toBe(413);
  });

  it('reads defaults and validates every setting', async () => {
    const h = get();
    const settings = await h.request('GET', '/v1/settings');
    expect(settings.body).toMatchObject({
      timezone: 'UTC',
      validations_enabled: true,
      reattempt_day_gaps: [1, 1, 1, 1],
      webhook_retention_days: 30,
      payment_method_rolldown_enabled: true,
    });
    const bad: [Record<string, unknown>, string][] = [
      [{ timezone: 'Mars/Olympus' }, 'timezone'],
      [{ daily_jobs_at: '25:00' }, 'daily_jobs_at'],
      [{ validations_enabled: 'no' }, 'validations_enabled'],
      [{ reattempt_day_gaps: [1, 0] }, 'reattempt_day_gaps'],
      [{ reattempt_day_gaps: [] }, 'reattempt_day_gaps'],
      [{ webhook_retention_days: 1.5 }, 'webhook_retention_days'],
      [{ stuck_after_seconds: 5 }, 'stuck_after_seconds'],
      [{ colour: 'red' }, 'colour'],
    ];
    for (const [body, param] of bad) {
      const res = await h.request('PATCH', '/v1/settings', { daily_jobs_at: '07:30', ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.param).toBe(param);
    }
    expect((await h.request('GET', '/v1/settings')).body).toEqual(settings.body);
    const ok = await h.request('PATCH', '/v1/settings', {
      timezone: 'Pacific/Auckland',
      reattempt_day_gaps: [1, 2, 3],
    });
    expect(ok.body).toMatchObject({ timezone: 'Pacific/Auckland', reattempt_day_gaps: [1, 2, 3] });
    // 'today' follows the timezone: 12:00 UTC on 2026-11-24 is 2026-11-25 in Auckland
    const t = await h.request('POST', '/v1/transactions', { amount: 100, currency: 'USD', due_date: '2026-11-25' });
    const dueToday = await h.request('GET', '/v1/transactions?view=due_today&limit=200');
    expect(dueToday.body.data.map((x: any) => x.id)).toContain(t.body.id);
    await h.request('PATCH', '/v1/settings', { timezone: 'UTC', reattempt_day_gaps: [1, 1, 1, 1] });
  });
});
