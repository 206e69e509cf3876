import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { raw, useEmulator } from './helpers.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { startEmulator } from '../src/index.js';

const { stripe, emulator } = useEmulator();
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  emulator().controls.configureWebhooks({
    duplicateRate: 0,
    shuffle: false,
    hold: false,
    retryDelaysMs: [20, 40],
    timeoutMs: 10_000,
  });
});
afterEach(async () => {
  await emulator().controls.settleWebhooks();
  await receiver.close();
});

async function endpoint(events: string[] = ['*']): Promise<Stripe.WebhookEndpoint> {
  return stripe().webhookEndpoints.create({
    url: receiver.url,
    enabled_events: events as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
  });
}

async function pay(amount = 1000): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    capture_method: 'automatic',
  });
}

describe('webhook endpoints', () => {
  it('creates (secret only then), retrieves, lists, updates and deletes', async () => {
    const we = await stripe().webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['charge.succeeded'],
      description: 'ledger',
      metadata: { k: 'v' },
    });
    expect(we).toMatchObject({
      object: 'webhook_endpoint',
      url: receiver.url,
      enabled_events: ['charge.succeeded'],
      status: 'enabled',
      description: 'ledger',
      metadata: { k: 'v' },
      livemode: false,
    });
    expect(we.id).toMatch(/^we_/);
    expect(we.secret).toMatch(/^whsec_/);
    const got = await stripe().webhookEndpoints.retrieve(we.id);
    expect(got.secret).toBeUndefined();
    expect((await stripe().webhookEndpoints.list()).data.map((e) => e.id)).toEqual([we.id]);
    const updated = await stripe().webhookEndpoints.update(we.id, {
      disabled: true,
      enabled_events: ['*'],
      url: `${receiver.url}?v=2`,
    });
    expect(updated).toMatchObject({ status: 'disabled', enabled_events: ['*'], url: `${receiver.url}?v=2` });
    expect(await stripe().webhookEndpoints.del(we.id)).toMatchObject({ id: we.id, deleted: true });
    expect(
      await stripe()
        .webhookEndpoints.retrieve(we.id)
        .catch((e: unknown) => e),
    ).toMatchObject({ statusCode: 404 });
    expect(
      await stripe()
        .webhookEndpoints.create({ url: 'ftp://x', enabled_events: ['*'] })
        .catch((e: unknown) => e),
    ).toMatchObject({ statusCode: 400, param: 'url' });
  });
});

describe('webhook delivery', () => {
  it('POSTs each matching event as JSON signed with the endpoint secret and the wall clock', async () => {
    const we = await endpoint(['payment_intent.succeeded', 'charge.succeeded']);
    emulator().controls.advanceClock(30 * 24 * 3600 * 1000); // the emulator clock is far from the wall clock
    const pi = await pay();
    await emulator().controls.settleWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
    for (const r of receiver.received) {
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const event = stripe().webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, we.secret!);
      expect(event.type).toBe(r.event.type);
      const t = Number(/t=(\d+)/.exec(r.headers['stripe-signature'] as string)![1]);
      expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(10);
    }
    expect(receiver.received[1]!.event.data.object.id).toBe(pi.id);
    expect(() =>
      stripe().webhooks.constructEvent(
        receiver.received[0]!.body,
        receiver.received[0]!.headers['stripe-signature'] as string,
        'whsec_wrong',
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const stored = await stripe().events.retrieve(receiver.received[0]!.event.id);
    expect(stored.pending_webhooks).toBe(0);
    expect(emulator().controls.webhookDeliveries()).toMatchObject([
      {
        eventId: receiver.received[0]!.event.id,
        type: 'charge.succeeded',
        endpointId: we.id,
        attempt: 1,
        status: 200,
        error: null,
      },
      { type: 'payment_intent.succeeded', attempt: 1, status: 200 },
    ]);
  });

  it('pending_webhooks counts matching enabled endpoints; disabled endpoints get nothing', async () => {
    await endpoint(['charge.succeeded']);
    const off = await endpoint(['*']);
    await stripe().webhookEndpoints.update(off.id, { disabled: true });
    emulator().controls.configureWebhooks({ hold: true });
    await pay();
    const [charge] = (await stripe().events.list({ type: 'charge.succeeded' })).data;
    expect(charge!.pending_webhooks).toBe(1);
    expect((await stripe().events.list({ type: 'payment_intent.created' })).data[0]!.pending_webhooks).toBe(0);
    expect((await stripe().events.list({ delivery_success: false })).data.map((e) => e.type)).toEqual([
      'charge.succeeded',
    ]);
    emulator().controls.flushWebhooks();
    await emulator().controls.settleWebhooks();
    expect((await stripe().events.retrieve(charge!.id)).pending_webhooks).toBe(0);
    expect(receiver.received.map((r) => r.event.type)).toEqual(['charge.succeeded']);
  });

  it('retries a non-2xx answer with the configured delays, then gives up', async () => {
    await endpoint(['customer.created']);
    receiver.respond = (i) => (i < 2 ? 500 : 200);
    const c = await stripe().customers.create({ email: 'r@example.com' });
    await emulator().controls.settleWebhooks();
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual([c.id, c.id, c.id]);
    expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(1); // the same event id each time
    expect(
      emulator()
        .controls.webhookDeliveries()
        .map((d) => [d.attempt, d.status]),
    ).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);

    receiver.respond = () => 503;
    const before = receiver.received.length;
    await stripe().customers.create({ email: 's@example.com' });
    await emulator().controls.settleWebhooks();
    expect(receiver.received.length - before).toBe(3); // 1 + 2 retries, then given up
    const [ev] = (await stripe().events.list({ type: 'customer.created', limit: 1 })).data;
    expect(ev!.pending_webhooks).toBe(1);
  });

  it('a connection error or a timeout counts as a failure and is retried', async () => {
    emulator().controls.configureWebhooks({ timeoutMs: 100, retryDelaysMs: [10] });
    await endpoint(['customer.created']);
    receiver.respond = (i) => (i === 0 ? 'hang' : 200);
    await stripe().customers.create({});
    await emulator().controls.settleWebhooks();
    const log = emulator().controls.webhookDeliveries();
    expect(log.map((d) => [d.attempt, d.status])).toEqual([
      [1, null],
      [2, 200],
    ]);
    expect(log[0]!.error).toMatch(/timeout/);

    const closed = await stripe().webhookEndpoints.create({
      url: 'http://127.0.0.1:1/nothing',
      enabled_events: ['customer.created'],
    });
    await stripe().customers.create({});
    await emulator().controls.settleWebhooks();
    const refused = emulator()
      .controls.webhookDeliveries()
      .filter((d) => d.endpointId === closed.id);
    expect(refused.map((d) => d.attempt)).toEqual([1, 2]);
    expect(refused.every((d) => d.status === null && d.error !== null)).toBe(true);
  });

  it('duplicateRate 1 sends every delivery twice; shuffle changes the order; hold waits for flush', async () => {
    await endpoint(['customer.created']);
    emulator().controls.configureWebhooks({ duplicateRate: 1 });
    await stripe().customers.create({});
    await emulator().controls.settleWebhooks();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
    expect(
      emulator()
        .controls.webhookDeliveries()
        .map((d) => d.duplicate),
    ).toEqual([false, true]);

    receiver.received.length = 0;
    emulator().controls.configureWebhooks({ duplicateRate: 0, hold: true, shuffle: true });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await stripe().customers.create({})).id);
    await emulator().controls.settleWebhooks(); // held deliveries do not keep it waiting
    expect(receiver.received).toHaveLength(0);
    emulator().controls.flushWebhooks();
    await emulator().controls.settleWebhooks();
    const got = receiver.received.map((r) => r.event.data.object.id);
    expect([...got].sort()).toEqual([...ids].sort());
    expect(got).not.toEqual(ids); // 1 chance in 25! of a false failure

    receiver.received.length = 0;
    emulator().controls.configureWebhooks({ shuffle: false });
    const inOrder: string[] = [];
    for (let i = 0; i < 5; i++) inOrder.push((await stripe().customers.create({})).id);
    emulator().controls.configureWebhooks({ hold: false }); // releasing hold sends what was queued
    await emulator().controls.settleWebhooks();
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual(inOrder);
  });

  it('the switches and the log work over HTTP', async () => {
    await endpoint(['customer.created']);
    const config = await fetch(`${emulator().url}/_emulator/webhooks/config`, {
      method: 'POST',
      body: JSON.stringify({ hold: true, retryDelaysMs: [5] }),
    });
    expect(await config.json()).toMatchObject({ hold: true, retryDelaysMs: [5], duplicateRate: 0 });
    await stripe().customers.create({});
    expect(receiver.received).toHaveLength(0);
    expect((await fetch(`${emulator().url}/_emulator/webhooks/flush`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${emulator().url}/_emulator/webhooks/settle`, { method: 'POST' })).status).toBe(200);
    expect(receiver.received).toHaveLength(1);
    const log = await (await fetch(`${emulator().url}/_emulator/webhooks/deliveries`)).json();
    expect(log).toMatchObject([{ type: 'customer.created', attempt: 1, status: 200 }]);
    const bad = await fetch(`${emulator().url}/_emulator/webhooks/config`, {
      method: 'POST',
      body: JSON.stringify({ duplicateRate: 2 }),
    });
    expect(bad.status).toBe(400);
    expect((await raw(emulator(), 'DELETE', '/v1/webhook_endpoints/we_missing')).status).toBe(404);
  });
});

it('events not yet delivered when the emulator stopped are delivered after it starts again from its state file', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'settle-emulator-requeue-'));
  const stateFile = join(dir, 'state.json');
  const receiver = await startReceiver();
  receiver.respond = () => 503; // the endpoint is down while the first emulator runs
  try {
    const first = await startEmulator({ stateFile, tickMs: 0, webhooks: { retryDelaysMs: [] } });
    const sdk = new Stripe('sk_test_x', {
      host: '127.0.0.1',
      port: first.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await sdk.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    const pi = await sdk.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      capture_method: 'automatic',
    });
    await first.controls.settleWebhooks();
    await first.close();
    const refused = receiver.received.filter((r) => r.event.data.object.id === pi.id).map((r) => r.event.id);
    expect(refused.length).toBeGreaterThan(0);
    receiver.respond = () => 200;
    const before = receiver.received.length;
    const second = await startEmulator({ stateFile, tickMs: 0 });
    try {
      await second.controls.settleWebhooks();
      const redelivered = receiver.received.slice(before).map((r) => r.event.id);
      expect(redelivered).toEqual(expect.arrayContaining(refused));
    } finally {
      await second.close();
    }
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
