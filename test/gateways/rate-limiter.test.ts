// The client-side rate limiter (G5), driven by a fake clock: deterministic, no real waiting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowRateLimiter } from '../../src/gateways/stripe/rate-limiter.js';

/** A fake monotonic clock whose sleep advances time, so waiting callers resume in a deterministic order. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; advance: (ms: number) => void; slept: number[] } {
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

describe('SlidingWindowRateLimiter', () => {
  it('lets the first `rate` requests through at once, then spaces the rest so no 1-second window exceeds the rate', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 5, now: time.now, sleep: time.sleep });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 23 }, () => limiter.acquire().then(() => starts.push(time.now()))));
    expect(starts.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(starts.slice(5, 10)).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(starts.at(-1)).toBe(4000);
    expect(maxInAnyWindow(starts)).toBe(5);
  });

  it('serves callers in arrival order', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 2, now: time.now, sleep: time.sleep });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map((n) => limiter.acquire().then(() => order.push(n))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('does not wait when requests are already spread out', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowRateLimiter({ ratePerSecond: 3, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 10; i += 1) {
      await limiter.acquire();
      time.advance(400);
    }
    expect(time.slept).toEqual([]);
  });

  it('never exceeds the rate in any 1-second window, for any arrival pattern (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 120 }),
        async (rate, gaps) => {
          const time = fakeTime();
          const limiter = new SlidingWindowRateLimiter({ ratePerSecond: rate, now: time.now, sleep: time.sleep });
          const starts: number[] = [];
          const pending: Promise<void>[] = [];
          for (const gap of gaps) {
            time.advance(gap); // arrivals spread over fake time; some arrive while others wait
            pending.push(limiter.acquire().then(() => void starts.push(time.now())));
            if (gap % 3 === 0) await Promise.all(pending.splice(0));
          }
          await Promise.all(pending);
          expect(starts).toHaveLength(gaps.length);
          expect(maxInAnyWindow(starts)).toBeLessThanOrEqual(rate);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a rate that is not a positive integer', () => {
    expect(() => new SlidingWindowRateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new SlidingWindowRateLimiter({ ratePerSecond: 2.5 })).toThrow(RangeError);
  });
});
