// W1 under load, on PostgreSQL over a real socket: 10,000 distinct events plus 2,000 duplicate deliveries sent
// by 8 concurrent senders, duplicates mixed in anywhere (some while their first delivery is still being
// stored). Exactly one row per event, deliveries summing to every send, and each event answered
// `duplicate: false` exactly once.
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/harness.js';
import { gatewayWithSecret, signHeader, socketSender, stripeEvent, unixSeconds } from './intake-helpers.js';

const ENV = 'SETTLE_GATEWAY_TEST_WHSEC_STORM';
const SECRET = 'whsec_storm_test_secret';
const DISTINCT = 10_000;
const DUPLICATES = 2_000;
const SENDERS = 8;

afterAll(() => {
  delete process.env[ENV];
});

describePostgres('webhook intake storm', (get) => {
  it(`${DISTINCT} events + ${DUPLICATES} duplicates from ${SENDERS} senders: ${DISTINCT} rows, ${DISTINCT + DUPLICATES} deliveries`, async () => {
    const h = get();
    const gw = await gatewayWithSecret(h, ENV, SECRET);
    const bodies = Array.from({ length: DISTINCT }, (_, i) =>
      JSON.stringify(stripeEvent({ id: `evt_storm_${i}` }, { id: `pi_storm_${i}` })),
    );
    // The send order: every event once, and after every fifth a duplicate of some event (earlier or later).
    const order: number[] = [];
    const extra = new Map<number, number>();
    for (let i = 0; i < DISTINCT; i += 1) {
      order.push(i);
      if (i % 5 === 4) {
        const dup = (i * 7919 + 13) % DISTINCT;
        order.push(dup);
        extra.set(dup, (extra.get(dup) ?? 0) + 1);
      }
    }
    expect(order).toHaveLength(DISTINCT + DUPLICATES);
    const timestamp = unixSeconds(h);
    const headers = bodies.map((body) => signHeader(body, SECRET, timestamp));

    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const sender = socketSender(address, SENDERS);
    const firsts = new Map<string, number>();
    const failures: string[] = [];
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          while (next < order.length) {
            const index = order[next++] as number;
            const res = await sender.send(`/v1/webhooks/${gw}`, bodies[index] as string, {
              'stripe-signature': headers[index] as string,
            });
            if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
            else if (!res.body.duplicate) firsts.set(`evt_storm_${index}`, (firsts.get(`evt_storm_${index}`) ?? 0) + 1);
          }
        }),
      );
    } finally {
      sender.close();
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(firsts.size).toBe(DISTINCT);
    expect([...firsts.values()].every((n) => n === 1)).toBe(true);

    const totals = await sql<{ rows: number; deliveries: number }>`
      select count(*)::int8 as rows, coalesce(sum(deliveries), 0)::int8 as deliveries from webhook_events where gateway_id = ${gw}`.execute(
      h.deps.db,
    );
    expect(totals.rows[0]).toEqual({ rows: DISTINCT, deliveries: DISTINCT + DUPLICATES });
    const counted = await h.deps.db
      .selectFrom('webhook_events')
      .select(['event_id', 'deliveries'])
      .where('gateway_id', '=', gw)
      .where('deliveries', '>', 1)
      .execute();
    expect(new Map(counted.map((r) => [Number(r.event_id.slice('evt_storm_'.length)), r.deliveries - 1]))).toEqual(
      extra,
    );
  }, 120_000);
});
