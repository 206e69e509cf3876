// W1: the intake verifies the signature over the raw bytes within 300 seconds either way, stores an event once per
// (gateway, event id) and answers at once; every rejection has its status and code and stores nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type Harness } from '../support/harness.js';
import {
  countEvents,
  eventText,
  gatewayWithSecret,
  newEventId,
  sendRaw,
  sendSigned,
  signHeader,
  stripeEvent,
  unixSeconds,
} from './intake-helpers.js';

const ENV = 'SETTLE_GATEWAY_TEST_WHSEC_INTAKE';
const SECRET = 'whsec_intake_test_secret_0123456789';

afterAll(() => {
  delete process.env[ENV];
});

/** The gateway's exchanges in the gateway log. */
async function gatewayLogCount(h: Harness, gatewayId: string): Promise<number> {
  const row = await h.deps.db
    .selectFrom('gateway_logs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('gateway_id', '=', gatewayId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describeEachDatabase('webhook intake', (get) => {
  let gatewayId: string;
  beforeAll(async () => {
    gatewayId = await gatewayWithSecret(get(), ENV, SECRET);
  });

  it('stores a valid event once, pending and due after webhook_delay_seconds, and acknowledges it without processing', async () => {
    const h = get();
    await h.request('PATCH', '/v1/settings', { webhook_delay_seconds: 30 });
    try {
      const event = stripeEvent({}, { id: 'pi_intake_1' });
      const logsBefore = await gatewayLogCount(h, gatewayId);
      const res = await sendSigned(h, gatewayId, eventText(event), SECRET);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ received: true, id: expect.stringMatching(/^whe_[0-9a-z]{26}$/), duplicate: false });
      // Acknowledged at once: verified and stored only. No gateway call was made for it, and it was not processed
      // (pending, no attempt; the row below).
      expect(await gatewayLogCount(h, gatewayId)).toBe(logsBefore);
      const row = await h.deps.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('id', '=', res.body.id)
        .executeTakeFirstOrThrow();
      const now = h.clock.now();
      expect(row).toMatchObject({
        gateway_id: gatewayId,
        event_id: event.id,
        type: 'payment_intent.succeeded',
        object_type: 'payment_intent',
        object_id: 'pi_intake_1',
        api_version: '2025-09-30.clover',
        livemode: false,
        status: 'pending',
        outcome: null,
        error: null,
        retryable: null,
        attempts: 0,
        deliveries: 1,
        claimed_until: null,
        processed_at: null,
      });
      expect(row.payload).toEqual(event);
      expect(row.event_created_at).toEqual(new Date(1_795_000_000 * 1000));
      expect(row.received_at).toEqual(now);
      expect(row.last_received_at).toEqual(now);
      expect(row.process_after).toEqual(new Date(now.getTime() + 30_000));
    } finally {
      await h.request('PATCH', '/v1/settings', { webhook_delay_seconds: 0 });
    }
  });

  it('the same event sent 3 times: one row, deliveries 3, the first payload kept, answered duplicate after the first', async () => {
    const h = get();
    const event = stripeEvent();
    const first = await sendSigned(h, gatewayId, eventText(event), SECRET);
    const firstReceived = h.clock.now();
    h.clock.advance(60_000);
    const second = await sendSigned(h, gatewayId, JSON.stringify(event), SECRET);
    h.clock.advance(60_000);
    const changed = { ...event, type: 'payment_intent.canceled' };
    const third = await sendSigned(h, gatewayId, JSON.stringify(changed), SECRET);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect([first.body.duplicate, second.body.duplicate, third.body.duplicate]).toEqual([false, true, true]);
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(1);
    const rows = await h.deps.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('event_id', '=', event.id as string)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ deliveries: 3, type: 'payment_intent.succeeded', status: 'pending', attempts: 0 });
    expect(rows[0]?.payload).toEqual(event);
    expect(rows[0]?.received_at).toEqual(firstReceived);
    expect(rows[0]?.last_received_at).toEqual(h.clock.now());
  });

  it('deliveries arriving together (one batch): one row, one first delivery, the others duplicates', async () => {
    const h = get();
    const event = eventText(stripeEvent());
    const others = Array.from({ length: 6 }, () => eventText(stripeEvent()));
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => sendSigned(h, gatewayId, event, SECRET)),
      ...others.map((b) => sendSigned(h, gatewayId, b, SECRET)),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array(11).fill(200));
    const same = answers.slice(0, 5);
    expect(same.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(new Set(same.map((a) => a.body.id)).size).toBe(1);
    expect(answers.slice(5).every((a) => !a.body.duplicate)).toBe(true);
    const row = await h.deps.db
      .selectFrom('webhook_events')
      .select('deliveries')
      .where('id', '=', same[0]?.body.id)
      .executeTakeFirstOrThrow();
    expect(row.deliveries).toBe(5);
  });

  it('an event the database cannot hold fails alone; the events sent with it are stored', async () => {
    const h = get();
    const good = stripeEvent();
    const bad = eventText(stripeEvent()).replace('"usd"', '"us\\u0000d"'); // valid JSON, not storable as jsonb
    const before = await countEvents(h, gatewayId);
    const [a, b] = await Promise.all([
      sendSigned(h, gatewayId, eventText(good), SECRET),
      sendSigned(h, gatewayId, bad, SECRET),
    ]);
    expect(a.status).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(400);
    expect(b.body.error.code).toBe('invalid_event');
    expect(await countEvents(h, gatewayId)).toBe(before + 1);
  });

  it('verifies the bytes as sent: unusual spacing and key order, any content type, no API key', async () => {
    const h = get();
    const id = newEventId();
    const body = `{"type":"charge.refunded" ,  "livemode":false,\n"data":{"object":{"object":"charge","id":"ch_1"}},"created":1795000000,"id":"${id}"}\r\n`;
    for (const contentType of ['application/json; charset=utf-8', 'text/plain', 'application/octet-stream']) {
      const res = await sendSigned(h, gatewayId, body, SECRET, unixSeconds(h), { 'content-type': contentType });
      expect(res.status, `${contentType}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    const row = await h.deps.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('event_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      type: 'charge.refunded',
      object_type: 'charge',
      object_id: 'ch_1',
      api_version: null,
      deliveries: 3,
    });
  });

  it('accepts an event up to 1 MB, beyond the 256 KB limit of the other routes', async () => {
    const h = get();
    const res = await sendSigned(h, gatewayId, eventText(stripeEvent({ padding: 'x'.repeat(1000 * 1000) })), SECRET);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it("accepts a timestamp up to 300 seconds old or ahead of Settle's clock", async () => {
    const h = get();
    for (const skew of [-300, 300]) {
      const res = await sendSigned(h, gatewayId, eventText(stripeEvent()), SECRET, unixSeconds(h) + skew);
      expect(res.status, `${skew}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  // Each rejection: its status and code, and nothing stored. Each case fails if its check is removed: the body
  // would otherwise be a storable event.
  const otherEvent = () => eventText(stripeEvent());
  const rejections: {
    name: string;
    status: number;
    code: string;
    param?: string;
    send: (h: Harness, gw: string) => ReturnType<typeof sendRaw>;
  }[] = [
    {
      name: 'forged signature',
      status: 400,
      code: 'signature_mismatch',
      send: (h, gw) => {
        const body = otherEvent();
        const header = signHeader(body, SECRET, unixSeconds(h)).replace(
          /v1=([0-9a-f])/,
          (_m, c: string) => `v1=${c === '0' ? '1' : '0'}`,
        );
        return sendRaw(h, gw, body, { 'stripe-signature': header });
      },
    },
    {
      name: 'wrong secret',
      status: 400,
      code: 'signature_mismatch',
      send: (h, gw) => sendSigned(h, gw, otherEvent(), 'whsec_someone_else'),
    },
    {
      name: 'stale timestamp (301 s old)',
      status: 400,
      code: 'timestamp_outside_tolerance',
      send: (h, gw) => sendSigned(h, gw, otherEvent(), SECRET, unixSeconds(h) - 301),
    },
    {
      name: 'future timestamp (301 s ahead)',
      status: 400,
      code: 'timestamp_outside_tolerance',
      send: (h, gw) => sendSigned(h, gw, otherEvent(), SECRET, unixSeconds(h) + 301),
    },
    {
      name: 'truncated body',
      status: 400,
      code: 'signature_mismatch',
      send: (h, gw) => {
        const body = otherEvent();
        return sendRaw(h, gw, body.slice(0, -25), { 'stripe-signature': signHeader(body, SECRET, unixSeconds(h)) });
      },
    },
    {
      name: 'body not JSON',
      status: 400,
      code: 'invalid_json',
      send: (h, gw) => sendSigned(h, gw, 'id=evt_1&type=charge.succeeded', SECRET),
    },
    {
      name: 'body not UTF-8',
      status: 400,
      code: 'invalid_json',
      send: (h, gw) => {
        // A byte 0xff inside a string: read leniently it would be U+FFFD in valid JSON; the signature is made over
        // that lenient reading, as the SDK checks it, so only the strict UTF-8 check can refuse it.
        const [head, tail] = otherEvent().split('"usd"') as [string, string];
        const body = Buffer.concat([Buffer.from(`${head}"us`), Buffer.from([0xff]), Buffer.from(`d"${tail}`)]);
        return sendRaw(h, gw, body, { 'stripe-signature': signHeader(body.toString('utf8'), SECRET, unixSeconds(h)) });
      },
    },
    {
      name: 'missing Stripe-Signature',
      status: 400,
      code: 'signature_missing',
      send: (h, gw) => sendRaw(h, gw, otherEvent()),
    },
    {
      name: 'unparseable Stripe-Signature',
      status: 400,
      code: 'signature_invalid',
      send: (h, gw) => sendRaw(h, gw, otherEvent(), { 'stripe-signature': 'sha256=abc' }),
    },
    {
      name: 'empty body',
      status: 400,
      code: 'payload_missing',
      send: (h, gw) => sendRaw(h, gw, '', { 'stripe-signature': signHeader('', SECRET, unixSeconds(h)) }),
    },
    {
      name: 'over 1 MB',
      status: 413,
      code: 'request_too_large',
      send: (h, gw) => sendSigned(h, gw, eventText(stripeEvent({ padding: 'x'.repeat(1024 * 1024) })), SECRET),
    },
  ];
  const notEvents: [string, Record<string, unknown> | unknown[]][] = [
    ['body', []],
    ['id', { id: 'ch_123' }],
    ['type', { type: '' }],
    ['created', { created: 1795000000.5 }],
    ['data.object', { data: { object: null } }],
    ['livemode', { livemode: 'false' }],
  ];
  for (const [param, bad] of notEvents) {
    rejections.push({
      name: `JSON that is not an event (${param})`,
      status: 400,
      code: 'invalid_event',
      param,
      send: (h, gw) => sendSigned(h, gw, JSON.stringify(Array.isArray(bad) ? bad : stripeEvent(bad)), SECRET),
    });
  }

  for (const rejection of rejections) {
    it(`rejects ${rejection.name}: ${rejection.status} ${rejection.code}, nothing stored`, async () => {
      const h = get();
      const before = await countEvents(h);
      const res = await rejection.send(h, gatewayId);
      expect(res.status, JSON.stringify(res.body)).toBe(rejection.status);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: rejection.code });
      if (rejection.param !== undefined) expect(res.body.error.param).toBe(rejection.param);
      expect(res.body.error.message.length).toBeGreaterThan(10);
      expect(await countEvents(h)).toBe(before);
    });
  }

  it('rejects an unknown gateway: 404 resource_missing, nothing stored', async () => {
    const h = get();
    const before = await countEvents(h);
    const res = await sendSigned(h, 'gw_doesnotexist', otherEvent(), SECRET);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'resource_missing', param: 'gateway_id' });
    expect(await countEvents(h)).toBe(before);
  });

  it('rejects events for a gateway without a secret: 503 naming what to set, nothing stored', async () => {
    const h = get();
    const unnamed = await gatewayWithSecret(h, null);
    const unset = await gatewayWithSecret(h, 'SETTLE_GATEWAY_TEST_WHSEC_NEVER_SET');
    const before = await countEvents(h);
    const a = await sendSigned(h, unnamed, otherEvent(), SECRET);
    expect(a.status).toBe(503);
    expect(a.body.error.code).toBe('webhook_secret_not_configured');
    expect(a.body.error.message).toContain(`PATCH /v1/gateways/${unnamed}`);
    const b = await sendSigned(h, unset, otherEvent(), SECRET);
    expect(b.status).toBe(503);
    expect(b.body.error).toMatchObject({ code: 'webhook_secret_not_configured' });
    expect(b.body.error.message).toContain('SETTLE_GATEWAY_TEST_WHSEC_NEVER_SET');
    expect(await countEvents(h)).toBe(before);
  });

  it('refuses events for a provider whose signatures it cannot check: 400 gateway_not_supported, nothing stored', async () => {
    const h = get();
    const res = await h.request('POST', '/v1/gateways', {
      name: 'spreedly',
      provider: 'spreedly',
      settlement_currency: 'usd',
      secret_key_env: 'SETTLE_GATEWAY_TEST_UNUSED_KEY',
      webhook_secret_env: ENV,
    });
    const before = await countEvents(h);
    const sent = await sendSigned(h, res.body.id, otherEvent(), SECRET);
    expect(sent.status).toBe(400);
    expect(sent.body.error).toMatchObject({ code: 'gateway_not_supported', param: 'gateway_id' });
    expect(await countEvents(h)).toBe(before);
  });

  it('is documented in the OpenAPI description without a key requirement', async () => {
    const h = get();
    const spec = (await h.request('GET', '/openapi.json')).body;
    expect(spec.paths['/v1/webhooks/{gateway_id}'].post.security).toEqual([]);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhook-events',
        '/v1/webhook-events/{id}',
        '/v1/webhook-events/{id}/replay',
        '/v1/webhook-events/replay',
      ]),
    );
  });
});
