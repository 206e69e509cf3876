// W4: stored events through the API: list (filters, newest first, pages), retrieve with the payload, replay one
// or a range (reset to pending, then the processor, whose module is replaced here by a recording stand-in that
// marks what it is given processed), and the scopes each route needs.
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import type { Deps } from '../../src/app/deps.js';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import { eventText, gatewayWithSecret, sendSigned, stripeEvent } from './intake-helpers.js';

interface ProcessorCall {
  ids: string[] | undefined;
  /** The rows as the processor found them. */
  rows: { id: string; status: string; attempts: number; claimed_until: Date | null; process_after: Date }[];
}
const calls: ProcessorCall[] = [];

vi.mock('../../src/app/webhooks/processor.js', () => ({
  processWebhookEvents: async (deps: Deps, options: { ids?: string[] }) => {
    const ids = options.ids ?? [];
    const rows =
      ids.length === 0
        ? []
        : await deps.db
            .selectFrom('webhook_events')
            .select(['id', 'status', 'attempts', 'claimed_until', 'process_after'])
            .where('id', 'in', ids)
            .execute();
    calls.push({ ids: options.ids, rows });
    if (ids.length > 0) {
      await deps.db
        .updateTable('webhook_events')
        .set((eb) => ({
          status: 'processed',
          outcome: 'applied by the test processor',
          attempts: eb('attempts', '+', 1),
          processed_at: deps.clock.now(),
        }))
        .where('id', 'in', ids)
        .execute();
    }
    return { picked: ids.length, processed: ids.length, failed: 0, not_supported: 0 };
  },
}));

const ENV = 'SETTLE_GATEWAY_TEST_WHSEC_EVENTS';
const SECRET = 'whsec_events_test_secret';

afterAll(() => {
  delete process.env[ENV];
});
beforeEach(() => {
  calls.length = 0;
});

async function receive(
  h: Harness,
  gatewayId: string,
  over: Record<string, unknown>,
  object: Record<string, unknown> = {},
): Promise<string> {
  const res = await sendSigned(h, gatewayId, eventText(stripeEvent(over, object)), SECRET);
  if (res.status !== 200) throw new Error(`intake: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

async function setState(h: Harness, id: string, state: Record<string, unknown>): Promise<void> {
  await h.deps.db.updateTable('webhook_events').set(state).where('id', '=', id).execute();
}

describeEachDatabase('webhook events API', (get) => {
  let gw: string;
  let other: string;
  const ids: string[] = [];
  let start: Date;
  beforeAll(async () => {
    const h = get();
    gw = await gatewayWithSecret(h, ENV, SECRET);
    other = await gatewayWithSecret(h, ENV);
    start = h.clock.now();
    for (let i = 0; i < 5; i += 1) {
      h.clock.advance(60_000);
      ids.push(
        await receive(
          h,
          i === 4 ? other : gw,
          { type: i % 2 === 0 ? 'charge.succeeded' : 'charge.refunded' },
          { id: `ch_list_${i}`, object: 'charge' },
        ),
      );
    }
    await setState(h, ids[1] as string, { status: 'processed', outcome: 'done' });
    await setState(h, ids[2] as string, {
      status: 'failed',
      error: 'gateway unavailable',
      retryable: true,
      attempts: 2,
    });
    await setState(h, ids[3] as string, { status: 'not_supported', outcome: 'not supported' });
  });

  const listIds = async (h: Harness, query: string) => {
    const res = await h.request('GET', `/v1/webhook-events${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.data as { id: string }[]).map((e) => e.id).filter((id) => ids.includes(id));
  };

  it('lists newest first without payloads, and filters on each field', async () => {
    const h = get();
    const all = await h.request('GET', '/v1/webhook-events?limit=200');
    expect(all.body.object).toBe('list');
    expect(all.body.data.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    expect(all.body.data[0]).not.toHaveProperty('payload');
    expect(all.body.data[0]).toMatchObject({
      object: 'webhook_event',
      gateway_id: other,
      object_id: 'ch_list_4',
      object_type: 'charge',
      deliveries: 1,
    });
    expect(await listIds(h, '?status=pending')).toEqual([ids[4], ids[0]]);
    expect(await listIds(h, '?status=failed')).toEqual([ids[2]]);
    expect(await listIds(h, '?type=charge.refunded')).toEqual([ids[3], ids[1]]);
    expect(await listIds(h, `?gateway_id=${other}`)).toEqual([ids[4]]);
    expect(await listIds(h, '?object_id=ch_list_2')).toEqual([ids[2]]);
    const eventId = (await h.request('GET', `/v1/webhook-events/${ids[3]}`)).body.event_id;
    expect(await listIds(h, `?event_id=${eventId}`)).toEqual([ids[3]]);
    const t = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
    expect(await listIds(h, `?received_after=${t(2)}&received_before=${t(5)}`)).toEqual([ids[3], ids[2]]);
    expect(await listIds(h, `?status=pending&type=charge.succeeded&gateway_id=${gw}`)).toEqual([ids[0]]);
  });

  it('pages with limit and next_cursor, every event once', async () => {
    const h = get();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: any } = await h.request(
        'GET',
        `/v1/webhook-events?limit=2${cursor ? `&starting_after=${cursor}` : ''}`,
      );
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      expect(res.body.has_more).toBe(res.body.next_cursor !== null);
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(seen.length / 2));
  });

  it('refuses bad filters by name, and needs a key', async () => {
    const h = get();
    const res = await h.request('GET', '/v1/webhook-events?status=done');
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('status');
    expect((await h.request('GET', '/v1/webhook-events?received_after=yesterday')).body.error.param).toBe(
      'received_after',
    );
    expect((await h.request('GET', '/v1/webhook-events?color=red')).body.error).toMatchObject({
      code: 'parameter_unknown',
      param: 'color',
    });
    expect((await h.request('GET', '/v1/webhook-events', undefined, {}, null)).status).toBe(401);
    expect((await h.request('GET', '/v1/webhook-events', undefined, {}, await h.keyWith(['read']))).status).toBe(200);
  });

  it('retrieves one event with its payload, processing state and counts', async () => {
    const h = get();
    const res = await h.request('GET', `/v1/webhook-events/${ids[2]}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: ids[2],
      status: 'failed',
      error: 'gateway unavailable',
      retryable: true,
      attempts: 2,
      deliveries: 1,
      outcome: null,
    });
    expect(res.body.payload).toMatchObject({
      id: res.body.event_id,
      object: 'event',
      data: { object: { id: 'ch_list_2' } },
    });
    for (const field of ['received_at', 'last_received_at', 'process_after', 'event_created_at', 'updated_at'])
      expect(res.body[field]).toMatch(/Z$/);
    expect((await h.request('GET', '/v1/webhook-events/whe_missing')).status).toBe(404);
  });

  it('replays one event whatever its status: pending, due now, unclaimed, attempts kept, then processed', async () => {
    const h = get();
    const id = ids[2] as string;
    await setState(h, id, {
      claimed_until: new Date(h.clock.now().getTime() + 60_000),
      process_after: new Date(h.clock.now().getTime() + 3_600_000),
    });
    expect(
      (await h.request('POST', `/v1/webhook-events/${id}/replay`, undefined, {}, await h.keyWith(['read']))).status,
    ).toBe(403);
    expect(calls).toHaveLength(0);
    const withField = await h.request(
      'POST',
      `/v1/webhook-events/${id}/replay`,
      { delay_seconds: 60 },
      {},
      await h.keyWith(['write']),
    );
    expect(withField.status).toBe(400);
    expect(withField.body.error).toMatchObject({ code: 'parameter_unknown', param: 'delay_seconds' });
    expect(calls).toHaveLength(0);
    const res = await h.request('POST', `/v1/webhook-events/${id}/replay`, undefined, {}, await h.keyWith(['write']));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(calls).toEqual([
      { ids: [id], rows: [{ id, status: 'pending', attempts: 2, claimed_until: null, process_after: h.clock.now() }] },
    ]);
    expect(res.body).toMatchObject({ id, status: 'processed', outcome: 'applied by the test processor', attempts: 3 });
    expect(res.body.payload.data.object.id).toBe('ch_list_2');
    const missing = await h.request('POST', '/v1/webhook-events/whe_missing/replay');
    expect(missing.status).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('replays a range (optionally one status or type), admin only, and reports what the processor did', async () => {
    const h = get();
    const t = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();
    await setState(h, ids[3] as string, { status: 'not_supported' });
    await setState(h, ids[1] as string, { status: 'processed' });
    const body = { received_after: t(1.5), received_before: t(4.5), type: 'charge.refunded' };
    expect((await h.request('POST', '/v1/webhook-events/replay', body, {}, await h.keyWith(['write']))).status).toBe(
      403,
    );
    const res = await h.request('POST', '/v1/webhook-events/replay', body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      object: 'webhook_event_replay',
      reset: 2,
      summary: { picked: 2, processed: 2, failed: 0, not_supported: 0 },
    });
    expect(calls.map((c) => c.ids)).toEqual([[ids[1], ids[3]]]);
    expect(calls[0]?.rows.every((r) => r.status === 'pending' && r.claimed_until === null)).toBe(true);
    const byStatus = await h.request('POST', '/v1/webhook-events/replay', {
      received_after: t(0),
      received_before: t(10),
      status: 'pending',
    });
    expect(byStatus.body.reset).toBe(2); // ids[0] and ids[4]
    expect(calls[1]?.ids).toEqual([ids[0], ids[4]]);
    const none = await h.request('POST', '/v1/webhook-events/replay', {
      received_after: t(100),
      received_before: t(200),
    });
    expect(none.body).toEqual({
      object: 'webhook_event_replay',
      reset: 0,
      summary: { picked: 0, processed: 0, failed: 0, not_supported: 0 },
    });
    const backwards = await h.request('POST', '/v1/webhook-events/replay', {
      received_after: t(5),
      received_before: t(1),
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe('invalid_range');
    expect(calls).toHaveLength(2);
  });

  it('refuses a range of more than 10,000 events and resets none of them', async () => {
    const h = get();
    const at = new Date('2020-01-01T00:00:00Z');
    await sql`
      insert into webhook_events (id, gateway_id, event_id, type, livemode, event_created_at, payload, status, received_at, last_received_at, process_after, updated_at)
      select 'whe_bulk' || lpad(n::text, 6, '0'), ${gw}, 'evt_bulk' || n, 'charge.succeeded', false, ${at}, '{}'::jsonb, 'processed', ${at}, ${at}, ${at}, ${at}
      from generate_series(1, 10001) as n`.execute(h.deps.db);
    const range = { received_after: '2019-12-31T00:00:00Z', received_before: '2020-01-02T00:00:00Z' };
    const res = await h.request('POST', '/v1/webhook-events/replay', range);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('too_many_events');
    const pending = await sql<{
      n: number;
    }>`select count(*)::int8 as n from webhook_events where id like 'whe_bulk%' and status <> 'processed'`.execute(
      h.deps.db,
    );
    expect(pending.rows[0]?.n).toBe(0);
    expect(calls).toHaveLength(0);
    await sql`delete from webhook_events where id = 'whe_bulk000001'`.execute(h.deps.db);
    const exactly = await h.request('POST', '/v1/webhook-events/replay', range);
    expect(exactly.body.reset).toBe(10_000);
    await sql`delete from webhook_events where id like 'whe_bulk%'`.execute(h.deps.db);
  });
});
