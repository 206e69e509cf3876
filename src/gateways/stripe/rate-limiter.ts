// Client-side request rate limit per gateway (features.md G5). A sliding-window log: a request may start only
// when fewer than `ratePerSecond` requests started in the last 1000 ms, so no 1-second window, wherever it is
// placed, ever holds more than `ratePerSecond` starts (a token bucket would allow a burst of `capacity` right
// after a full refill, i.e. up to twice the rate across a window boundary).
//
// Callers are served in arrival order: acquisitions are chained, so a waiter can never be overtaken. Time and
// sleeping are injected so tests can drive the limiter deterministically with a fake clock.

export interface RateLimiterOptions {
  ratePerSecond: number;
  /** Milliseconds, monotonic. Defaults to performance.now(). */
  now?: () => number;
  /** Waits this many milliseconds. Defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
  windowMs?: number; // 1000 unless a test says otherwise
}

export interface RateLimiter {
  /** Resolves when one more request may start now; the start is counted at that moment. */
  acquire(): Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SlidingWindowRateLimiter implements RateLimiter {
  readonly #rate: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Start times of the requests inside the current window, oldest first (at most `rate` of them). */
  readonly #starts: number[] = [];
  #tail: Promise<void> = Promise.resolve();

  constructor(options: RateLimiterOptions) {
    if (!Number.isInteger(options.ratePerSecond) || options.ratePerSecond < 1) {
      throw new RangeError(`ratePerSecond must be a positive integer, got ${String(options.ratePerSecond)}`);
    }
    this.#rate = options.ratePerSecond;
    this.#windowMs = options.windowMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
  }

  acquire(): Promise<void> {
    const turn = this.#tail.then(() => this.#take());
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  async #take(): Promise<void> {
    for (;;) {
      const now = this.#now();
      // A start at time s stops counting once now >= s + window: [s, s + window) is the window it belongs to.
      while (this.#starts.length > 0 && (this.#starts[0] ?? 0) + this.#windowMs <= now) this.#starts.shift();
      if (this.#starts.length < this.#rate) {
        this.#starts.push(now);
        return;
      }
      const oldest = this.#starts[0] ?? now;
      await this.#sleep(Math.max(1, oldest + this.#windowMs - now));
    }
  }
}

/** A limiter that never waits (for a gateway configured without a rate limit). */
export const unlimited: RateLimiter = { acquire: () => Promise.resolve() };
