// The client-side rate limiter (G5), driven by a fake clock: deterministic, no real waiting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowRateLimiter } from '../../src/gateway-adapters/stripe/rate-limiter.js';

/** A fake monotonic clock whose sleep advances time, so waiting callers resume in a deterministic order. */
function fakeTime(): {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  advance: (ms: number) => void;
  slept: number[];
} {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    slept,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

/** The largest number of starts in any window [s, s + 1000) (it suffices to start windows at each start). */
function maxInAnyWindow(starts: number[], windowMs = 1000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (j < sorted.length && (sorted[j] ?? 0) < (sorted[i] ?? 0) + windowMs) j += 1;
    best = Math.max(best, j - i);
  }
  return best;
}

/** Takes a turn and uses it `delay` ms later; if it lapsed, takes another and uses it at once. Resolves with the time the request left. */
async function send(limiter: SlidingWindowRateLimiter, time: ReturnType<typeof fakeTime>, delay = 0): Promise<number> {
  for (let wait = delay; ; wait = 0) {
    const turn = await limiter.acquire();
    time.advance(wait);
    if (turn.use()) return time.now();
  }
}

describe('SlidingWindowRateLimiter', () => {
  it('lets the first `rate` requests through at once, then spaces the rest so no 1-second window exceeds the rate', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 5, now: time.now, sleep: time.sleep });
    const starts = await Promise.all(Array.from({ length: 23 }, () => send(limiter, time)));
    expect(starts.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    // A turn counts for the window plus its ttl (25 ms): it may be used that much later than it was handed out.
    expect(starts.slice(5, 10)).toEqual([1025, 1025, 1025, 1025, 1025]);
    expect(starts.at(-1)).toBe(4100);
    expect(maxInAnyWindow(starts)).toBe(5);
  });

  it('serves callers in arrival order', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 2, now: time.now, sleep: time.sleep });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map((n) => send(limiter, time).then(() => order.push(n))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('does not wait when requests are already spread out', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 3, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 10; i += 1) {
      await send(limiter, time);
      time.advance(400);
    }
    expect(time.slept).toEqual([]);
  });

  it('a turn used within its ttl is spent; one used later lapses (nothing may be sent) and stops counting', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 1, ttlMs: 25, now: time.now, sleep: time.sleep });
    const late = await limiter.acquire();
    time.advance(25);
    expect(late.use()).toBe(false);
    expect(() => late.use()).toThrow(/used after it was returned/);
    const inTime = await limiter.acquire(); // the lapsed turn no longer counts: no wait
    expect(time.slept).toEqual([]);
    time.advance(24);
    expect(inTime.use()).toBe(true);
    inTime.giveBack(); // no-op once used
    await limiter.acquire(); // the used turn counts until 25 + 1000 + 25
    expect(time.slept).toEqual([1001]);
  });

  it('a turn given back stops counting at once', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 1, now: time.now, sleep: time.sleep });
    (await limiter.acquire()).giveBack();
    (await limiter.acquire()).giveBack();
    expect((await limiter.acquire()).use()).toBe(true);
    expect(time.slept).toEqual([]);
  });

  it('never lets more than the rate leave in any 1-second window, whatever the arrivals and the delays before use (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 40 })), {
          minLength: 1,
          maxLength: 120,
        }),
        async (rate, arrivals) => {
          const time = fakeTime();
          const limiter = new SlidingWindowRateLimiter({
            ratePerSecond: rate,
            ttlMs: 25,
            now: time.now,
            sleep: time.sleep,
          });
          const pending: Promise<number>[] = [];
          const starts: number[] = [];
          for (const [gap, delay] of arrivals) {
            time.advance(gap); // arrivals spread over fake time; some arrive while others wait
            pending.push(send(limiter, time, delay % 30)); // delays of 25 ms or more lapse and are retried
            if (gap % 3 === 0) starts.push(...(await Promise.all(pending.splice(0))));
          }
          starts.push(...(await Promise.all(pending)));
          expect(starts).toHaveLength(arrivals.length);
          expect(maxInAnyWindow(starts)).toBeLessThanOrEqual(rate);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a rate that is not a positive integer, and a ttl that is not positive', () => {
    expect(() => new SlidingWindowRateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new SlidingWindowRateLimiter({ ratePerSecond: 2.5 })).toThrow(RangeError);
    expect(() => new SlidingWindowRateLimiter({ ratePerSecond: 2, ttlMs: 0 })).toThrow(RangeError);
  });
});
