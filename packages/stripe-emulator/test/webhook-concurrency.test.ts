// Webhook deliveries in flight per endpoint (WebhookSettings.concurrency): 1 by default, in order; more on request,
// as Stripe sends them under load (several at once, in no guaranteed order: docs.stripe.com/webhooks#event-ordering).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useEmulator } from './helpers.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

const { stripe, emulator } = useEmulator();
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  // Every delivery is held open until the test lets it go: what the endpoint holds at once is what is in flight.
  receiver.respond = () => 'hang';
});
afterEach(async () => {
  await receiver.close(); // drops the held deliveries: they fail, and with no retries are given up
  emulator().controls.configureWebhooks({ concurrency: 1, timeoutMs: 10_000, hold: false, retryDelaysMs: [20, 40] });
  await emulator().controls.settleWebhooks();
});

async function inFlightWith(concurrency: number): Promise<number> {
  emulator().controls.configureWebhooks({ concurrency, timeoutMs: 60_000, hold: true, retryDelaysMs: [] });
  const endpoint = await stripe().webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
  for (let i = 0; i < 6; i += 1) await stripe().customers.create({ email: `c${i}@example.test` });
  emulator().controls.flushWebhooks();
  // Wait until the endpoint holds `concurrency` deliveries (or all 6), then give the dispatcher more turns to send
  // another one if it would: none may come while the ones in flight are unanswered.
  const expected = Math.min(concurrency, 6);
  while (receiver.received.length < expected) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 100));
  const held = receiver.received.length;
  await stripe().webhookEndpoints.del(endpoint.id);
  return held;
}

describe('webhook deliveries in flight per endpoint', () => {
  it('one at a time by default', async () => {
    expect(await inFlightWith(1)).toBe(1);
  });

  it('up to `concurrency` at once when asked', async () => {
    expect(await inFlightWith(3)).toBe(3);
  });

  it('refuses a concurrency that is not an integer from 1 to 64', () => {
    expect(() => emulator().controls.configureWebhooks({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => emulator().controls.configureWebhooks({ concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => emulator().controls.configureWebhooks({ concurrency: 65 })).toThrow(/concurrency/);
  });
});
