// G5: the per-endpoint request limit beside the gateway's, on a fake clock (deterministic) and at the gateway (the
// emulator dates each request as it arrives).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '@settle/stripe-emulator';
import { StripeGateway } from '../../src/gateway-adapters/stripe/stripe-gateway.js';
import {
  EndpointRateLimiter,
  endpointOf,
  type RateLimiter,
  SlidingWindowRateLimiter,
} from '../../src/gateway-adapters/stripe/rate-limiter.js';

function fakeTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

/** The most requests in any window [s, s + 1000) (windows start at a request). */
function maxInAnyWindow(starts: number[], windowMs = 1000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (j < sorted.length && (sorted[j] ?? 0) < (sorted[i] ?? 0) + windowMs) j += 1;
    best = Math.max(best, j - i);
  }
  return best;
}

describe('endpointOf (G5)', () => {
  it('is the method and the path with ids as :id, without the query', () => {
    expect(endpointOf('post', '/v1/payment_intents')).toBe('POST /v1/payment_intents');
    expect(endpointOf('GET', '/v1/payment_intents/pi_3QaZ9x2eZvKYlo2C?expand%5B0%5D=latest_charge')).toBe(
      'GET /v1/payment_intents/:id',
    );
    expect(endpointOf('GET', '/v1/payment_intents/pi_other1')).toBe('GET /v1/payment_intents/:id');
    expect(endpointOf('POST', '/v1/payment_intents/pi_3QaZ9x/capture')).toBe('POST /v1/payment_intents/:id/capture');
    expect(endpointOf('POST', '/v1/payment_methods/pm_card_visa/attach')).toBe('POST /v1/payment_methods/:id/attach');
    expect(endpointOf('GET', '/v1/payment_intents/search?query=x')).toBe('GET /v1/payment_intents/search');
    expect(endpointOf('POST', '/v1/test_helpers/test_clocks')).toBe('POST /v1/test_helpers/test_clocks');
  });
});

describe('EndpointRateLimiter (G5), on a fake clock', () => {
  it('never more than the endpoint limit per endpoint, nor the gateway limit overall, in any 1-second window', async () => {
    const time = fakeTime();
    const make = (rate: number): RateLimiter =>
      new SlidingWindowRateLimiter({ ratePerSecond: rate, now: time.now, sleep: time.sleep });
    const limiter = new EndpointRateLimiter(make(8), () => make(3));
    const starts = new Map<string, number[]>();
    const send = async (endpoint: string) => {
      for (;;) {
        const turn = await limiter.acquire(endpoint);
        if (turn.use()) {
          starts.set(endpoint, [...(starts.get(endpoint) ?? []), time.now()]);
          return;
        }
      }
    };
    const endpoints = ['POST /v1/payment_intents', 'GET /v1/payment_intents/:id', 'POST /v1/refunds'];
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(endpoints[i % 3]!)));
    const all = [...starts.values()].flat();
    expect(all).toHaveLength(30);
    for (const endpoint of endpoints) expect(maxInAnyWindow(starts.get(endpoint)!)).toBeLessThanOrEqual(3);
    expect(maxInAnyWindow(all)).toBeLessThanOrEqual(8);
  });

  it('without an endpoint only the gateway limit counts', async () => {
    const time = fakeTime();
    const make = (rate: number): RateLimiter =>
      new SlidingWindowRateLimiter({ ratePerSecond: rate, now: time.now, sleep: time.sleep });
    const limiter = new EndpointRateLimiter(make(5), () => make(1));
    const turns = await Promise.all(Array.from({ length: 5 }, () => limiter.acquire()));
    expect(turns.map((t) => t.use())).toEqual([true, true, true, true, true]);
    expect(time.now()).toBe(0);
  });
});

/** How unevenly requests may reach the emulator after the limiter let them go (see the test below). */
const DELIVERY_JITTER_MS = 250;

describe('the per-endpoint limit at the gateway (G5)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ arrivalThread: true });
  });
  afterAll(() => emulator.close());

  it('GETs of different ids share one endpoint: never more than 4 a second at the emulator (less delivery jitter), the others unhindered', async () => {
    const limiter = new EndpointRateLimiter(new SlidingWindowRateLimiter({ ratePerSecond: 100 }), () => {
      return new SlidingWindowRateLimiter({ ratePerSecond: 4 });
    });
    const gateway = new StripeGateway({
      secretKey: 'sk_test_endpoint_limits',
      apiBase: emulator.url,
      timeoutMs: 10_000,
      rateLimitPerSecond: 100,
      rateLimiter: limiter,
    });
    const created: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const outcome = await gateway.authorize({
        amount: 1000 + i,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
        idempotencyKey: `endpoint-limit-${i}`,
        transactionId: `trx_endpoint_${i}`,
      });
      expect(outcome.kind).toBe('succeeded');
      if (outcome.kind === 'succeeded') created.push(outcome.result.refs.payment_intent!);
    }
    const before = emulator.controls.requestLog().length;
    const reads = await Promise.all(Array.from({ length: 10 }, (_, i) => gateway.retrieve(created[i % 4]!)));
    expect(reads.every((r) => r.kind === 'succeeded')).toBe(true);
    const log = emulator.controls.requestLog().slice(before);
    expect(log).toHaveLength(10);
    expect(log.every((e) => e.status === 200)).toBe(true);
    // The limiter spaces the sends; the emulator dates arrivals, which a busy machine can bunch up (a request sent
    // at 0 and delivered 200 ms late shares a window with one sent at 1000 and delivered at once: seen once in a full
    // run on PostgreSQL). So the window checked at the emulator is shortened by DELIVERY_JITTER_MS. Without the
    // limiter all ten arrive within a few milliseconds and this fails.
    expect(
      maxInAnyWindow(
        log.map((e) => e.at),
        1000 - DELIVERY_JITTER_MS,
      ),
    ).toBeLessThanOrEqual(4);
    expect(
      maxInAnyWindow(
        log.map((e) => e.at),
        1000 - DELIVERY_JITTER_MS,
      ),
    ).toBeGreaterThanOrEqual(3);
  });
});
