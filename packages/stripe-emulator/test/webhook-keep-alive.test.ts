// Webhook deliveries keep their connection to an endpoint open between events (webhook-sender.ts): one TCP
// connection for a run of deliveries instead of one per event. A delivery that fails with a reset on a kept-alive
// connection (the endpoint closed it as the request left) is sent again at once on a new one; a reset on a new
// connection is an ordinary failed delivery, retried later.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useEmulator } from './helpers.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

const { stripe, emulator } = useEmulator();
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  // A retry would come a minute later: within a test, every second copy of an event is the immediate resend.
  emulator().controls.configureWebhooks({ retryDelaysMs: [60_000] });
});
afterEach(async () => {
  emulator().controls.configureWebhooks({ retryDelaysMs: [20, 40] });
  await receiver.close();
});

async function customersCreated(n: number): Promise<void> {
  await stripe().webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
  for (let i = 0; i < n; i += 1) {
    await stripe().customers.create({ email: `k${i}@example.test` });
    await emulator().controls.settleWebhooks();
  }
}

describe('webhook connections', () => {
  it('delivers a run of events over one kept-alive connection', async () => {
    await customersCreated(5);
    expect(receiver.received.map((r) => r.event.type)).toEqual(Array(5).fill('customer.created'));
    expect(receiver.connections).toBe(1);
  });

  it('sends again at once, on a new connection, a delivery reset on a kept-alive one', async () => {
    receiver.respond = (index) => (index === 1 ? 'reset' : 200);
    await customersCreated(3);
    const ids = receiver.received.map((r) => r.event.id);
    // The second event arrived twice (reset, then resent), the others once; nothing waits for a retry.
    expect(ids).toHaveLength(4);
    expect(ids[1]).toBe(ids[2]);
    expect(new Set(ids).size).toBe(3);
    expect(receiver.connections).toBe(2);
    const log = emulator().controls.webhookDeliveries();
    expect(log.map((e) => [e.attempt, e.status])).toEqual([
      [1, 200],
      [1, 200],
      [1, 200],
    ]);
  });

  it('does not resend a delivery reset on a new connection: it fails (and is retried later, if retries are on)', async () => {
    receiver.respond = (index) => (index === 0 ? 'reset' : 200);
    emulator().controls.configureWebhooks({ retryDelaysMs: [] }); // given up at once: settleWebhooks need not wait
    await customersCreated(1);
    expect(receiver.received).toHaveLength(1);
    const [entry] = emulator().controls.webhookDeliveries();
    expect(entry?.status).toBeNull();
    expect(entry?.error).toMatch(/socket hang up|ECONNRESET/);
  });
});
